package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// uniqueKey is one unique index of a table being written: the positions
// of its columns in the written rows and the keys seen so far.
type uniqueKey struct {
	ix   catalog.Index
	cols []int
	set  *exec.UniqueKeys
	held int64 // bytes reserved for set
}

// checkEval is a CHECK constraint of a table being written, compiled.
type checkEval struct {
	name string
	cond planner.Expr
	ev   expr.Evaluator
}

// enforce makes w check the constraints of the table it writes: the CHECK
// conditions (bound by the planner over the table's columns) and the
// unique ones among indexes (PRIMARY KEY, UNIQUE, CREATE UNIQUE INDEX).
// When appending, the keys of the rows the table holds are read first, so
// that a new row may not repeat them; otherwise (INSERT OVERWRITE, MERGE,
// CREATE TABLE AS) the rows written are the table's whole new content.
// Writing into a sink enforces nothing.
func (w *writer) enforce(ctx context.Context, checks []*planner.TableCheck, indexes []catalog.Index, appending bool) error {
	if w.obj.Kind != catalog.ObjectTable {
		return nil
	}
	for _, c := range checks {
		w.checks = append(w.checks, &checkEval{name: c.Name, cond: c.Cond})
	}
	var read []int // table columns the existing keys need
	for _, ix := range indexes {
		if !ix.Unique {
			continue
		}
		k, err := newUniqueKey(w.obj, ix)
		if err != nil {
			return err
		}
		w.keys = append(w.keys, k)
		for _, c := range k.cols {
			if !containsInt(read, c) {
				read = append(read, c)
			}
		}
	}
	if !appending || len(w.keys) == 0 {
		return nil
	}
	return w.loadKeys(ctx, read)
}

// liveIndexes are the indexes of table obj as the catalog holds them now
// (a CREATE INDEX of another session included), else obj's own.
func (r *stmtRun) liveIndexes(obj *catalog.Object) []catalog.Index {
	if live, ok := r.s.eng.cat.Lookup(obj.Name); ok && live.Kind == catalog.ObjectTable {
		return live.Indexes
	}
	return obj.Indexes
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// newUniqueKey prepares the check of unique index ix of table obj.
func newUniqueKey(obj *catalog.Object, ix catalog.Index) (*uniqueKey, error) {
	k := &uniqueKey{ix: ix}
	var types []arrow.DataType
	for _, name := range ix.Columns {
		i := obj.Columns.Index(name)
		if i < 0 {
			return nil, fmt.Errorf("index %q of table %q names column %q, which the table does not have", ix.Name, obj.Name, name)
		}
		k.cols = append(k.cols, i)
		t := obj.Columns[i].Type
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		types = append(types, t.Arrow())
	}
	set, err := exec.NewUniqueKeys(types)
	if err != nil {
		return nil, fmt.Errorf("index %q of table %q: %w", ix.Name, obj.Name, err)
	}
	k.set = set
	return k, nil
}

// loadKeys reads the columns read of the rows the table holds and adds
// their keys.
func (w *writer) loadKeys(ctx context.Context, read []int) error {
	op, err := (&scanFactory{r: w.r}).OpenScan(ctx, w.obj, read)
	if err != nil {
		return err
	}
	// Positions of the table's columns in the scanned records.
	at := map[int]int{}
	for j, c := range read {
		at[c] = j
	}
	return exec.Drive(ctx, op, func(rec arrow.Record) error {
		return w.addKeys(rec, func(c int) int { return at[c] }, true)
	})
}

// checkRows checks the CHECK constraints and unique keys on a batch about
// to be written (columns in the table's order).
func (w *writer) checkRows(ctx context.Context, rec arrow.Record) error {
	for _, c := range w.checks {
		if c.ev == nil {
			ev, err := expr.Compile(c.cond, rec.Schema(), &expr.Env{Now: w.r.start, Location: w.r.s.location()})
			if err != nil {
				return fmt.Errorf("CHECK %s of %s %q: %w", c.name, w.obj.Kind, w.obj.Name, err)
			}
			c.ev = ev
		}
		out, err := c.ev.Eval(ctx, rec)
		if err != nil {
			return err
		}
		bad := -1
		if b, ok := out.(*array.Boolean); ok {
			for i := 0; i < b.Len(); i++ {
				if b.IsValid(i) && !b.Value(i) {
					bad = i
					break
				}
			}
		}
		out.Release()
		if bad >= 0 {
			return &codeError{code: catalog.CodeCheckViolation,
				msg:    fmt.Sprintf("new row for relation %q violates check constraint %q", w.obj.Name, c.name),
				detail: "Failing row contains (" + rowText(rec, bad) + ")."}
		}
	}
	return w.addKeys(rec, func(c int) int { return c }, false)
}

// addKeys adds the keys of rec's rows to every unique index; col maps a
// table column to its position in rec. existing says the rows are the
// table's own (read before the write).
func (w *writer) addKeys(rec arrow.Record, col func(int) int, existing bool) error {
	mem := w.r.mem.Alloc
	for _, k := range w.keys {
		cols := make([]arrow.Array, len(k.cols))
		var owned []arrow.Array
		for j, c := range k.cols {
			a := rec.Column(col(c))
			if j < len(k.ix.Prefix) && k.ix.Prefix[j] > 0 {
				a = prefixArray(mem, a, k.ix.Prefix[j])
				owned = append(owned, a)
			}
			cols[j] = a
		}
		dup := k.set.Add(cols)
		var detail string
		if dup >= 0 {
			detail = keyText(k.ix, cols, dup)
		}
		for _, a := range owned {
			a.Release()
		}
		if n := k.set.Bytes(); n > k.held {
			if err := w.r.mem.Reserve("unique index "+k.ix.Name, n-k.held); err != nil {
				return err
			}
			k.held = n
		}
		if dup < 0 {
			continue
		}
		msg := fmt.Sprintf("duplicate key value violates unique constraint %q", k.ix.Name)
		if existing {
			msg = fmt.Sprintf("table %q holds duplicate keys of unique index %q", w.obj.Name, k.ix.Name)
		}
		return &codeError{code: catalog.CodeUniqueViolation, msg: msg, detail: detail}
	}
	return nil
}

// release gives back the memory the unique keys hold.
func (w *writer) releaseKeys() {
	for _, k := range w.keys {
		w.r.mem.Release(k.held)
		k.held = 0
	}
}

// keyText is PostgreSQL's detail of a duplicate key: "Key (a, b)=(1, x)
// already exists."
func keyText(ix catalog.Index, cols []arrow.Array, row int) string {
	vals := make([]string, len(cols))
	for i, a := range cols {
		vals[i] = valueText(a, row)
	}
	return fmt.Sprintf("Key (%s)=(%s) already exists.", strings.Join(ix.Columns, ", "), strings.Join(vals, ", "))
}

// rowText is the values of row i of rec, comma separated.
func rowText(rec arrow.Record, i int) string {
	vals := make([]string, rec.NumCols())
	for j, c := range rec.Columns() {
		vals[j] = valueText(c, i)
	}
	return strings.Join(vals, ", ")
}

func valueText(a arrow.Array, i int) string {
	s, ok := FormatValue(a, i)
	if !ok {
		return "null"
	}
	return s
}

// prefixArray is a string array cut to the first n characters of each
// value (a key prefix length); other arrays are returned retained.
func prefixArray(mem memory.Allocator, a arrow.Array, n int) arrow.Array {
	s, ok := a.(*array.String)
	if !ok {
		a.Retain()
		return a
	}
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(s.Len())
	for i := 0; i < s.Len(); i++ {
		if s.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := s.Value(i)
		if utf8.RuneCountInString(v) > n {
			cut, k := 0, 0
			for j := range v {
				if k == n {
					cut = j
					break
				}
				k++
			}
			v = v[:cut]
		}
		b.Append(v)
	}
	return b.NewArray()
}

// createIndex runs CREATE [UNIQUE] INDEX: a unique index is checked
// against the rows the table holds, then the index is recorded in the
// catalog.
func (r *stmtRun) createIndex(ctx context.Context, st *planner.CreateIndexStmt) error {
	r.res.Tag = "CREATE INDEX"
	eng := r.s.eng
	if st.Table == nil {
		return fmt.Errorf("the table of the index is unknown")
	}
	obj, ok := eng.cat.Lookup(st.Table.Name)
	if !ok {
		return &catalog.ObjectError{Err: catalog.ErrNotFound, Code: catalog.CodeUndefinedTable,
			Message: fmt.Sprintf("relation %q does not exist", st.Table.Name)}
	}
	ix := st.Index
	if _, _, taken := eng.cat.FindIndex(ix.Name); taken && st.Stmt.Name.Name == "" {
		// Named by the planner and taken since: name it again.
		ix.Name = catalog.IndexName(obj.Name, ix.Columns, func(n string) bool {
			_, _, found := eng.cat.FindIndex(n)
			_, rel := eng.cat.Lookup(n)
			return found || rel
		})
	}
	unlock := eng.lockTarget(obj.Name)
	defer unlock()
	if ix.Unique {
		if _, _, taken := eng.cat.FindIndex(ix.Name); !(taken && st.IfNotExists) {
			w := &writer{r: r, obj: &obj}
			defer w.releaseKeys()
			if err := w.enforce(ctx, nil, []catalog.Index{ix}, true); err != nil {
				var ce *codeError
				if errors.As(err, &ce) && ce.code == catalog.CodeUniqueViolation {
					return &codeError{code: ce.code, msg: fmt.Sprintf("could not create unique index %q", ix.Name),
						detail: strings.Replace(ce.detail, "already exists", "is duplicated", 1)}
				}
				return err
			}
		}
	}
	_, err := eng.cat.CreateIndex(ctx, obj.Name, ix, st.IfNotExists)
	return err
}

// dropIndex runs DROP INDEX.
func (r *stmtRun) dropIndex(ctx context.Context, st *planner.DropIndexStmt) error {
	r.res.Tag = "DROP INDEX"
	for _, name := range st.Names {
		if _, _, err := r.s.eng.cat.DropIndex(ctx, name, st.Stmt.IfExists); err != nil {
			return err
		}
	}
	return nil
}
