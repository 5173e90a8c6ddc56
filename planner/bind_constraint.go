package planner

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// bindTableConstraints checks the DEFAULT expressions and CHECK conditions
// of CREATE TABLE where they are written: a DEFAULT must be assignable to
// its column and may not name columns; a CHECK is a condition over the
// table's columns.
func (b *binder) bindTableConstraints(s *parser.CreateTable, o *catalog.Object) {
	cols := tableColumns(o)
	for _, cd := range s.Columns {
		if cd.Default == nil {
			continue
		}
		idx := o.Columns.Index(cd.Name.Name)
		c := exprCtx{frag: cd.Default.Frag, sc: &scope{}, clause: "DEFAULT"}
		v := b.bindExpr(c, cd.Default.Node, cd.Default.Pos())
		if idx >= 0 {
			b.assign(v, o.Columns[idx], cd.Default.Pos())
		}
	}
	for _, k := range s.Constraints {
		if k.Kind != parser.ConstraintCheck || k.Check == nil {
			continue
		}
		c := exprCtx{frag: k.Check.Frag, sc: scopeFromColumns(cols), clause: "CHECK"}
		b.boolCond(b.bindExpr(c, k.Check.Node, k.Check.Pos()), k.Check.Pos(), "CHECK")
	}
}

// tableColumns are the columns of a table as a scope sees them.
func tableColumns(o *catalog.Object) []Column {
	cols := make([]Column, len(o.Columns))
	for i, c := range o.Columns {
		cols[i] = Column{Name: c.Name, Qualifier: o.Name, Type: c.Type, Nullable: !c.NotNull}
	}
	return cols
}

// storedExpr parses SQL text the catalog keeps (a column's DEFAULT, a
// table's CHECK) and binds it over cols. Diagnostics name the text as
// what, e.g. `DEFAULT of t.a`: the statement being bound did not write it.
func (b *binder) storedExpr(text, what, clause string, cols []Column) Expr {
	src := parser.NewSource(what, text)
	e, diags := parser.ParseExpr(src, parser.Options{})
	if e == nil {
		b.diags = append(b.diags, diags...)
		return bad()
	}
	saved := b.src
	b.src = src
	defer func() { b.src = saved }()
	c := exprCtx{frag: e.Frag, sc: scopeFromColumns(cols), clause: clause}
	return b.bindExpr(c, e.Node, e.Pos())
}

// columnDefault is the bound DEFAULT of column i of target, converted to
// the column's type; nil when the column has none.
func (b *binder) columnDefault(target *catalog.Object, i int) Expr {
	col := target.Columns[i]
	if col.Default == "" {
		return nil
	}
	v := b.storedExpr(col.Default, "DEFAULT of "+target.Name+"."+col.Name, "DEFAULT", nil)
	saved := b.src
	b.src = parser.NewSource("DEFAULT of "+target.Name+"."+col.Name, col.Default)
	defer func() { b.src = saved }()
	return b.assign(v, col, 0)
}

// defaultsFor returns, per column of target, the bound DEFAULT of the
// columns that written does not contain (nil for the others), or nil when
// no such column has a DEFAULT.
func (b *binder) defaultsFor(target *catalog.Object, written []int) []Expr {
	var out []Expr
	for i := range target.Columns {
		if containsInt(written, i) {
			continue
		}
		if d := b.columnDefault(target, i); d != nil {
			if out == nil {
				out = make([]Expr, len(target.Columns))
			}
			out[i] = d
		}
	}
	return out
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// tableChecks binds the CHECK constraints of a table over its columns.
func (b *binder) tableChecks(target *catalog.Object) []*TableCheck {
	if target == nil || target.Kind != catalog.ObjectTable || len(target.Checks) == 0 {
		return nil
	}
	cols := tableColumns(target)
	var out []*TableCheck
	for _, ck := range target.Checks {
		what := "CHECK " + ck.Name + " of " + target.Name
		e := b.storedExpr(ck.Expr, what, "CHECK", cols)
		if !isBad(e) && e.Type().Kind != catalog.KindBool && e.Type().Kind != catalog.KindNull {
			b.errorf(0, parser.CodeDatatype, "", "CHECK %s of %s is not a condition", ck.Name, target.Name)
			continue
		}
		out = append(out, &TableCheck{Name: ck.Name, Cond: e})
	}
	return out
}

// indexNameTaken reports whether an index or a relation the script sees
// is called name.
func (b *binder) indexNameTaken(name string) bool {
	if _, ok := b.cat.lookup(name); ok {
		return true
	}
	_, _, ok := b.findIndex(name)
	return ok
}

// findIndex finds the table the script sees with an index called name.
func (b *binder) findIndex(name string) (*catalog.Object, catalog.Index, bool) {
	for _, n := range b.cat.names() {
		o, ok := b.cat.lookup(n)
		if !ok || o.Kind != catalog.ObjectTable {
			continue
		}
		for _, ix := range o.Indexes {
			if ix.Name == name {
				return o, ix, true
			}
		}
	}
	return nil, catalog.Index{}, false
}

func (b *binder) bindCreateIndex(s *parser.CreateIndex) *CreateIndexStmt {
	out := &CreateIndexStmt{Stmt: s, IfNotExists: s.IfNotExists}
	o, ok := b.cat.lookup(s.Table.String())
	if !ok {
		b.errorf(s.Table.Pos(), parser.CodeUndefinedTable, b.didYouMean(s.Table.String(), b.cat.names()), "relation %q does not exist", s.Table.String())
		return out
	}
	if o.Kind != catalog.ObjectTable {
		b.errorf(s.Table.Pos(), "42809", "indexes are on tables made with CREATE TABLE", "cannot create an index on %s %q", o.Kind, o.Name)
		return out
	}
	ix := catalog.Index{Name: s.Name.Name, Unique: s.Unique}
	prefixed := false
	for _, kp := range s.Columns {
		idx := o.Columns.Index(kp.Column.Name)
		if idx < 0 {
			b.errorf(kp.Column.Pos, parser.CodeUndefinedColumn, b.didYouMean(kp.Column.Name, o.Columns.Names()),
				"column %q does not exist", kp.Column.Name)
			return out
		}
		if kp.Prefix > 0 && !o.Columns[idx].Type.IsString() {
			b.errorf(kp.Column.Pos, parser.CodeDatatype, "", "a key prefix length needs a string column; %q is %s", kp.Column.Name, o.Columns[idx].Type)
			return out
		}
		prefixed = prefixed || kp.Prefix > 0
		ix.Columns = append(ix.Columns, kp.Column.Name)
		ix.Prefix = append(ix.Prefix, kp.Prefix)
	}
	if !prefixed {
		ix.Prefix = nil
	}
	if ix.Name == "" {
		ix.Name = catalog.IndexName(o.Name, ix.Columns, b.indexNameTaken)
	} else if b.indexNameTaken(ix.Name) {
		if !s.IfNotExists {
			b.errorf(s.Name.Pos, "42P07", "", "relation %q already exists", ix.Name)
		}
		out.Table, out.Index = o, ix
		return out
	}
	out.Table, out.Index = o, ix
	learned := o.Clone()
	learned.Indexes = append(learned.Indexes, ix)
	b.cat.learn(&learned)
	return out
}

func (b *binder) bindDropIndex(s *parser.DropIndex) *DropIndexStmt {
	out := &DropIndexStmt{Stmt: s}
	for _, id := range s.Names {
		o, ix, ok := b.findIndex(id.Name)
		switch {
		case !ok:
			if !s.IfExists {
				b.errorf(id.Pos, parser.CodeUndefinedObject, "", "index %q does not exist", id.Name)
			}
			continue
		case s.Table != nil && catalogKey(s.Table.String()) != catalogKey(o.Name):
			b.errorf(id.Pos, parser.CodeUndefinedObject, "", "index %q is on table %q, not %q", id.Name, o.Name, s.Table.String())
			continue
		case ix.Constraint:
			b.errorf(id.Pos, catalog.CodeDependentObjects, "", "cannot drop index %s because constraint %s on table %s requires it", id.Name, id.Name, o.Name)
			continue
		}
		out.Names = append(out.Names, id.Name)
		learned := o.Clone()
		var keep []catalog.Index
		for _, x := range learned.Indexes {
			if x.Name != id.Name {
				keep = append(keep, x)
			}
		}
		learned.Indexes = keep
		b.cat.learn(&learned)
	}
	return out
}
