package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/etlc/etlc/parser"
)

// Index is a key of a managed table: its PRIMARY KEY, a UNIQUE constraint,
// or an index made by CREATE [UNIQUE] INDEX. etlc keeps no access path for
// an index; it is recorded so that clients can list it, and a unique one
// (PRIMARY KEY, UNIQUE) is enforced on every write into the table.
type Index struct {
	// Name is the index's name: the constraint's, the index's, or one
	// made up as PostgreSQL does (t_pkey, t_a_key, t_a_idx).
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	// Prefix holds, per column, MySQL's key prefix length in characters
	// (UNIQUE (a(10))): only that many leading characters are the key; 0
	// means the whole value. Nil when no column has one.
	Prefix []int `json:"prefix,omitempty"`
	// Unique is set for PRIMARY KEY, UNIQUE and CREATE UNIQUE INDEX:
	// two rows whose key columns are all non-NULL and equal are refused.
	Unique bool `json:"unique,omitempty"`
	// Primary is set for the PRIMARY KEY (its columns are NOT NULL).
	Primary bool `json:"primary,omitempty"`
	// Constraint is set for a PRIMARY KEY or UNIQUE constraint of CREATE
	// TABLE: DROP INDEX does not drop it (the table's definition owns it).
	Constraint bool `json:"constraint,omitempty"`
}

// String formats the index as "name UNIQUE (a, b(3))".
func (ix Index) String() string {
	var b strings.Builder
	b.WriteString(QuoteIdent(ix.Name))
	switch {
	case ix.Primary:
		b.WriteString(" PRIMARY KEY")
	case ix.Unique:
		b.WriteString(" UNIQUE")
	}
	b.WriteString(" (")
	for i, c := range ix.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(c))
		if i < len(ix.Prefix) && ix.Prefix[i] > 0 {
			fmt.Fprintf(&b, "(%d)", ix.Prefix[i])
		}
	}
	b.WriteByte(')')
	return b.String()
}

// Check is a CHECK constraint of a managed table: a row whose condition is
// FALSE is refused (TRUE and NULL pass, as in PostgreSQL).
type Check struct {
	Name string `json:"name"`
	// Expr is the condition as SQL text over the table's columns.
	Expr string `json:"expr"`
}

// Error codes of constraints, PostgreSQL's SQLSTATEs.
const (
	// CodeUniqueViolation: a write would give two rows the same key.
	CodeUniqueViolation = "23505"
	// CodeNotNullViolation: a NULL in a NOT NULL column.
	CodeNotNullViolation = "23502"
	// CodeCheckViolation: a row fails a CHECK constraint.
	CodeCheckViolation = "23514"
	// CodeDependentObjects: an object other objects depend on.
	CodeDependentObjects = "2BP01"
)

// tableConstraints fills o's Indexes and Checks from the PRIMARY KEY,
// UNIQUE and CHECK constraints of st, naming those without a name as
// PostgreSQL does.
func tableConstraints(o *Object, st *parser.CreateTable) {
	taken := map[string]bool{}
	if len(o.PrimaryKey) > 0 {
		name := st.PrimaryKeyName.Name
		if name == "" {
			name = uniqueName(taken, o.Name, nil, "pkey")
		}
		taken[name] = true
		o.Indexes = append(o.Indexes, Index{Name: name, Columns: slices.Clone(o.PrimaryKey), Unique: true, Primary: true, Constraint: true})
	}
	for _, c := range st.Constraints {
		switch c.Kind {
		case parser.ConstraintUnique:
			ix := Index{Unique: true, Constraint: true}
			for _, kp := range c.Columns {
				ix.Columns = append(ix.Columns, kp.Column.Name)
				ix.Prefix = append(ix.Prefix, kp.Prefix)
			}
			if slices.Max(ix.Prefix) == 0 {
				ix.Prefix = nil
			}
			ix.Name = c.Name.Name
			if ix.Name == "" {
				ix.Name = uniqueName(taken, o.Name, ix.Columns, "key")
			}
			taken[ix.Name] = true
			o.Indexes = append(o.Indexes, ix)
		case parser.ConstraintCheck:
			name := c.Name.Name
			if name == "" {
				name = uniqueName(taken, o.Name, checkColumns(c), "check")
			}
			taken[name] = true
			o.Checks = append(o.Checks, Check{Name: name, Expr: parser.RestoreSQL(c.Check.Node)})
		}
	}
}

// checkColumns names the column of an inline CHECK for its made-up name
// (PostgreSQL's t_qty_check); a table CHECK gets none (t_check).
func checkColumns(c parser.Constraint) []string {
	if c.Column.Name == "" {
		return nil
	}
	return []string{c.Column.Name}
}

// uniqueName makes a name table_col1_col2_suffix (or table_suffix), with a
// number appended when it is taken, as PostgreSQL names constraints and
// indexes created without a name.
func uniqueName(taken map[string]bool, table string, cols []string, suffix string) string {
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		table = table[i+1:]
	}
	parts := append([]string{table}, cols...)
	base := strings.Join(append(parts, suffix), "_")
	name := base
	for n := 1; taken[name]; n++ {
		name = fmt.Sprintf("%s%d", base, n)
	}
	return name
}

// IndexName returns the name CREATE INDEX gives an index created without
// one, as PostgreSQL does: table_col1_col2_idx, numbered (t_a_idx1) when
// taken says the name is taken by an index or a relation.
func IndexName(table string, cols []string, taken func(name string) bool) string {
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		table = table[i+1:]
	}
	base := strings.Join(append(append([]string{table}, cols...), "idx"), "_")
	name := base
	for n := 1; taken(name); n++ {
		name = fmt.Sprintf("%s%d", base, n)
	}
	return name
}

// FindIndex returns the table that holds the index named name (compared
// exactly: names are folded already) and the index.
func (c *Catalog) FindIndex(name string) (table string, ix Index, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.findIndex(name)
}

func (c *Catalog) findIndex(name string) (string, Index, bool) {
	for _, o := range c.objs {
		for _, ix := range o.Indexes {
			if ix.Name == name {
				return o.Name, ix, true
			}
		}
	}
	return "", Index{}, false
}

// CreateIndex adds ix to the indexes of the managed table named table. A
// name taken by another index or by a relation is ErrExists (SQLSTATE
// 42P07), unless ifNotExists, when CreateIndex reports false. The caller
// checks that the table's rows satisfy a unique index before it is added.
func (c *Catalog) CreateIndex(ctx context.Context, table string, ix Index, ifNotExists bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	key := catalogKey(table)
	o, ok := c.objs[key]
	switch {
	case !ok:
		return false, &ObjectError{Err: ErrNotFound, Code: CodeUndefinedTable, Message: fmt.Sprintf("relation %q does not exist", table)}
	case o.Kind != ObjectTable:
		return false, &ObjectError{Err: ErrWrongKind, Code: CodeWrongObjectType,
			Message: fmt.Sprintf("cannot create an index on %s %q: indexes are on tables made with CREATE TABLE", o.Kind, o.Name)}
	}
	_, taken := c.objs[catalogKey(ix.Name)]
	if _, _, found := c.findIndex(ix.Name); found || taken {
		if ifNotExists {
			return false, nil
		}
		return false, &ObjectError{Err: ErrExists, Code: CodeDuplicateTable,
			Message: fmt.Sprintf("relation %q already exists", ix.Name)}
	}
	for _, col := range ix.Columns {
		if o.Columns.Index(col) < 0 {
			return false, &ObjectError{Err: ErrNotFound, Code: "42703",
				Message: fmt.Sprintf("column %q does not exist", col)}
		}
	}
	o = o.Clone()
	o.Indexes = append(o.Indexes, ix)
	if err := c.store(key, o); err != nil {
		return false, err
	}
	return true, nil
}

// DropIndex removes the index named name from its table and returns the
// table's name. A missing index is ErrNotFound (SQLSTATE 42704) unless
// ifExists, when DropIndex reports false; the index of a PRIMARY KEY or
// UNIQUE constraint cannot be dropped (SQLSTATE 2BP01): the table's
// definition owns it.
func (c *Catalog) DropIndex(ctx context.Context, name string, ifExists bool) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", false, ErrClosed
	}
	table, ix, ok := c.findIndex(name)
	switch {
	case !ok && ifExists:
		return "", false, nil
	case !ok:
		return "", false, &ObjectError{Err: ErrNotFound, Code: CodeUndefinedObject,
			Message: fmt.Sprintf("index %q does not exist", name)}
	case ix.Constraint:
		return "", false, &ObjectError{Err: ErrWrongKind, Code: CodeDependentObjects,
			Message: fmt.Sprintf("cannot drop index %s because constraint %s on table %s requires it", name, name, table)}
	}
	key := catalogKey(table)
	o := c.objs[key].Clone()
	o.Indexes = slices.DeleteFunc(o.Indexes, func(x Index) bool { return x.Name == name })
	if len(o.Indexes) == 0 {
		o.Indexes = nil
	}
	if err := c.store(key, o); err != nil {
		return "", false, err
	}
	return table, true, nil
}

// store writes o under key (to disk unless it is temporary) and keeps it;
// c.mu is held.
func (c *Catalog) store(key string, o Object) error {
	if c.db != nil && !o.Temporary {
		v, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("catalog: encoding %s %q: %w", o.Kind, o.Name, err)
		}
		if err := c.db.Set([]byte(objPrefix+key), v, pebble.Sync); err != nil {
			return fmt.Errorf("catalog: storing %s %q: %w", o.Kind, o.Name, err)
		}
	}
	c.objs[key] = o
	return nil
}
