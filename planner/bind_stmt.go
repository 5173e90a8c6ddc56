package planner

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// bindStmt binds one statement. It returns nil only for statements that
// could not be bound at all; a statement with errors still returns what
// could be bound, so later statements see its objects.
func (b *binder) bindStmt(s parser.Stmt) BoundStmt {
	b.resetStmt()
	switch s := s.(type) {
	case *parser.Select:
		return &QueryStmt{Stmt: s, Plan: b.bindTopQuery(s.Query)}
	case *parser.Insert:
		return b.bindInsert(s)
	case *parser.CreateSource:
		return b.bindCreateSource(s)
	case *parser.CreateSink:
		return b.bindCreateSink(s)
	case *parser.CreateTable:
		return b.bindCreateTable(s)
	case *parser.CreateView:
		return b.bindCreateView(s)
	case *parser.CreatePipeline:
		return b.bindCreatePipeline(s)
	case *parser.Validate:
		return b.bindValidate(s)
	case *parser.Assert:
		return b.bindAssert(s)
	case *parser.Merge:
		return b.bindMerge(s)
	case *parser.Drop:
		return b.bindDrop(s)
	case *parser.CreateIndex:
		return b.bindCreateIndex(s)
	case *parser.DropIndex:
		return b.bindDropIndex(s)
	case *parser.Explain:
		out := &ExplainStmt{Stmt: s, Analyze: s.Analyze}
		if s.Stmt != nil {
			out.Inner = b.bindStmt(s.Stmt)
		}
		return out
	case *parser.Declare:
		t, err := catalog.ResolveType(s.Type)
		if err != nil {
			b.typeError(s.Type.Pos, err)
		}
		return &DeclareStmt{Stmt: s, Type: t}
	case *parser.PipelineCmd:
		o := b.needObject(s.Name, catalog.ObjectPipeline)
		return &UtilityStmt{Stmt: s, Object: o}
	case *parser.Analyze:
		o, ok := b.cat.lookup(s.Name.String())
		if !ok {
			b.errorf(s.Name.Pos(), parser.CodeUndefinedTable, b.didYouMean(s.Name.String(), b.cat.names()), "relation %q does not exist", s.Name.String())
		}
		return &UtilityStmt{Stmt: s, Object: o}
	case *parser.Show, *parser.Set, *parser.Transaction:
		return &UtilityStmt{Stmt: s}
	}
	b.errorf(s.StmtSpan().Start, parser.CodeFeature, "", "statement %T is not supported", s)
	return nil
}

func (b *binder) typeError(pos int, err error) {
	var te *catalog.TypeError
	if asTypeError(err, &te) {
		b.errorf(pos, te.Code, te.Hint, "%s", te.Message)
		return
	}
	b.errorf(pos, parser.CodeUndefinedObject, "", "%v", err)
}

func (b *binder) needObject(name parser.ObjectName, kind catalog.ObjectKind) *catalog.Object {
	o, ok := b.cat.lookup(name.String())
	if !ok {
		var cands []string
		for _, n := range b.cat.names() {
			if x, _ := b.cat.lookup(n); x != nil && x.Kind == kind {
				cands = append(cands, n)
			}
		}
		b.errorf(name.Pos(), parser.CodeUndefinedObject, b.didYouMean(name.String(), cands), "%s %q does not exist", kind, name.String())
		return nil
	}
	if o.Kind != kind {
		b.errorf(name.Pos(), "42809", "", "%q is a %s, not a %s", name.String(), o.Kind, kind)
		return nil
	}
	return o
}

// bindTopQuery binds a statement's query body.
func (b *binder) bindTopQuery(q *parser.Query) Node {
	if q == nil || q.Node == nil {
		return &Values{Rows: [][]Expr{{}}}
	}
	for _, s := range q.Streams {
		b.streams[strings.ToLower(s.Name)] = true
	}
	return b.bindQuery(q.Frag, q.Node, nil)
}

// queryItemPos returns the position of output column i of a query, or the
// query's start.
func (b *binder) queryItemPos(q *parser.Query, i int) int {
	if q == nil {
		return 0
	}
	if sel, ok := q.Node.(*ast.SelectStmt); ok && sel.Fields != nil && i < len(sel.Fields.Fields) {
		f := sel.Fields.Fields[i]
		if f.Expr != nil && f.Expr.OriginTextPosition() > 0 {
			for _, g := range sel.Fields.Fields[:i+1] {
				if g.WildCard != nil {
					return q.Span.Start
				}
			}
			return q.Frag.Orig(f.Expr.OriginTextPosition())
		}
	}
	return q.Span.Start
}

func (b *binder) bindInsert(s *parser.Insert) *InsertStmt {
	out := &InsertStmt{Stmt: s, Overwrite: s.Overwrite}
	var plan Node
	target, ok := b.cat.lookup(s.Target.String())
	// VALUES items, and the parameters of a SELECT list, take the types of
	// the target columns they go to; an item DEFAULT is the column's DEFAULT.
	var (
		types    []catalog.Type
		defaults []Expr
	)
	if ok {
		if len(s.Columns) > 0 {
			for _, id := range s.Columns {
				if i := target.Columns.Index(id.Name); i >= 0 {
					types = append(types, target.Columns[i].Type)
					defaults = append(defaults, b.columnDefault(target, i))
				} else {
					types = append(types, catalog.Null)
					defaults = append(defaults, nil)
				}
			}
		} else {
			for i, c := range target.Columns {
				types = append(types, c.Type)
				defaults = append(defaults, b.columnDefault(target, i))
			}
		}
	}
	if s.Query != nil {
		if sel, isSel := s.Query.Node.(*ast.SelectStmt); isSel && b.selectTypes != nil {
			b.selectTypes[sel] = types
		}
		plan = b.bindTopQuery(s.Query)
	} else {
		plan = b.bindValuesDefaults(s.Values, s.Span.Start, types, defaults, ok)
	}
	out.Plan = plan
	if !ok {
		b.errorf(s.Target.Pos(), parser.CodeUndefinedTable, b.didYouMean(s.Target.String(), b.cat.names()), "relation %q does not exist", s.Target.String())
		return out
	}
	out.Target = target
	if target.Kind != catalog.ObjectSink && target.Kind != catalog.ObjectTable && target.Kind != catalog.ObjectStream {
		b.errorf(s.Target.Pos(), "42809", "INSERT writes into a sink, a table or a stream", "cannot insert into %s %q", target.Kind, target.Name)
		return out
	}
	cols := plan.Schema()
	if len(cols) == 0 && s.Query != nil {
		return out // the query failed to bind: reported already
	}
	if len(target.Columns) == 0 && target.Kind == catalog.ObjectSink && len(s.Columns) == 0 {
		// A sink without declared columns takes the query's.
		o := *target
		for _, c := range cols {
			o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: c.Type})
		}
		out.Target = &o
		b.cat.learn(&o)
		for i := range cols {
			out.Columns = append(out.Columns, i)
		}
		return out
	}
	var targets []int
	if len(s.Columns) > 0 {
		for _, id := range s.Columns {
			idx := target.Columns.Index(id.Name)
			if idx < 0 {
				b.errorf(id.Pos, parser.CodeUndefinedColumn, b.didYouMean(id.Name, target.Columns.Names()),
					"column %q of relation %q does not exist", id.Name, target.Name)
				return out
			}
			targets = append(targets, idx)
		}
	} else {
		for i := range target.Columns {
			targets = append(targets, i)
		}
	}
	switch {
	case len(cols) > len(targets):
		b.errorf(b.queryItemPos(s.Query, len(targets)), parser.CodeSyntax, "",
			"INSERT has more expressions than target columns (%d expressions, %d target columns)", len(cols), len(targets))
		return out
	case len(cols) < len(targets) && len(s.Columns) > 0:
		b.errorf(s.Span.Start, parser.CodeSyntax, "",
			"INSERT has more target columns than expressions (%d target columns, %d expressions)", len(targets), len(cols))
		return out
	case len(cols) < len(targets):
		b.errorf(s.Span.Start, parser.CodeSyntax, "list the target columns: INSERT INTO "+target.Name+" (col, ...) SELECT ...",
			"INSERT has fewer expressions than %s %q has columns (%d expressions, %d columns)", target.Kind, target.Name, len(cols), len(targets))
		return out
	}
	for i, c := range cols {
		tc := target.Columns[targets[i]]
		if !canAssign(c.Type, tc.Type) {
			b.errorf(b.queryItemPos(s.Query, i), parser.CodeDatatype, "cast the expression to "+tc.Type.String(),
				"column %q is of type %s but expression is of type %s", tc.Name, tc.Type, c.Type)
		}
	}
	out.Columns = targets
	out.Defaults = b.defaultsFor(target, targets)
	out.Checks = b.tableChecks(target)
	return out
}

// bindValues binds INSERT ... VALUES rows. types, when known, are the
// target column types: literals are read as those types at compile time.
func (b *binder) bindValues(rows [][]parser.Expr, p int, types []catalog.Type) Node {
	return b.bindValuesDefaults(rows, p, types, nil, false)
}

// bindValuesDefaults is bindValues for INSERT ... VALUES, where an item
// DEFAULT (parser.DefaultMarker) is defaults[j] of its column j, or NULL
// when that is nil. insert says DEFAULT is allowed.
func (b *binder) bindValuesDefaults(rows [][]parser.Expr, p int, types []catalog.Type, defaults []Expr, insert bool) Node {
	v := &Values{}
	if len(rows) == 0 {
		return v
	}
	c := exprCtx{sc: &scope{}, clause: "VALUES"}
	bound := make([][]Expr, len(rows))
	for i, r := range rows {
		if len(r) != len(rows[0]) {
			b.errorf(p, parser.CodeSyntax, "", "VALUES lists must all be the same length")
			return v
		}
		for j, e := range r {
			if isDefaultItem(e.Node) {
				switch {
				case !insert:
					b.errorf(e.Pos(), parser.CodeSyntax, "", "DEFAULT is only allowed as an item of INSERT ... VALUES")
					bound[i] = append(bound[i], bad())
				case j < len(defaults) && defaults[j] != nil:
					bound[i] = append(bound[i], defaults[j])
				default:
					bound[i] = append(bound[i], &Const{T: catalog.Null, lit: litNull})
				}
				continue
			}
			c.frag = e.Frag
			bound[i] = append(bound[i], b.bindExpr(c, e.Node, e.Pos()))
		}
	}
	for j := range rows[0] {
		col := make([]Expr, len(rows))
		for i := range rows {
			col[i] = bound[i][j]
		}
		t, _ := b.unify(col, p, "VALUES")
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		target := j < len(types) && types[j].Kind != catalog.KindNull
		if target {
			t = types[j]
		}
		nullable := false
		for i := range rows {
			if isBad(bound[i][j]) || isNullLiteral(bound[i][j]) {
				// A bare NULL (or an expression already reported) takes
				// the column's type.
				bound[i][j] = &Const{T: t}
				nullable = true
				continue
			}
			if target {
				bound[i][j] = b.assign(bound[i][j], catalog.Column{Name: fmt.Sprintf("column%d", j+1), Type: t}, rows[i][j].Pos())
				continue
			}
			bound[i][j] = b.coerce(bound[i][j], t, p, "VALUES item")
			if k, ok := bound[i][j].(*Const); !ok || k.Value == nil {
				nullable = true
			}
		}
		v.Columns = append(v.Columns, Column{Name: fmt.Sprintf("column%d", j+1), Type: t, Nullable: nullable})
	}
	v.Rows = bound
	return v
}

// register adds a created object to the script's catalog, reporting a name
// that is taken. It returns false when the object already exists and
// IF NOT EXISTS keeps the old one.
func (b *binder) register(name parser.ObjectName, o *catalog.Object, mode catalog.CreateMode) bool {
	if old, ok := b.cat.lookup(o.Name); ok {
		switch {
		case mode == catalog.CreateIfNotExists:
			return false
		case mode == catalog.CreateNew:
			code := "42P07"
			if o.Kind == catalog.ObjectPipeline || old.Kind == catalog.ObjectPipeline {
				code = parser.CodeDuplicateObject
			}
			b.errorf(name.Pos(), code, "use CREATE OR REPLACE to replace it", "%s %q already exists", old.Kind, old.Name)
			return false
		case old.Kind != o.Kind:
			b.errorf(name.Pos(), "42809", "", "%q is a %s, not a %s", old.Name, old.Kind, o.Kind)
			return false
		}
	}
	if err := b.cat.put(b.ctx, o, mode); err != nil {
		b.errorf(name.Pos(), "58030", "", "creating %s %q: %v", o.Kind, o.Name, err)
	}
	return true
}

// fromCreate builds the object of a CREATE statement with the catalog's
// checks (column types, WITH options, watermark column, primary key).
func (b *binder) fromCreate(s parser.Stmt) (*catalog.Object, catalog.CreateMode) {
	o, mode, diags := catalog.ObjectFromCreate(s, b.src)
	b.diags = append(b.diags, diags...)
	return &o, mode
}

func (b *binder) bindCreateSource(s *parser.CreateSource) *CreateStmt {
	o, mode := b.fromCreate(s)
	inferred := false
	if s.Columns == nil && b.infer != nil {
		sch, err := b.infer(b.ctx, o.Options)
		if err != nil {
			b.errorf(s.Name.Pos(), "58030", "declare the columns: CREATE "+s.Kind.String()+" "+s.Name.String()+" (col TYPE, ...) WITH (...)",
				"cannot infer the schema of %s %q: %v", o.Kind, o.Name, err)
			b.unknownSchema[catalogKey(o.Name)] = true
		}
		o.Columns = sch
		inferred = err == nil
	}
	if w := s.Watermark; w != nil {
		b.bindWatermark(o, w, inferred)
	}
	b.register(s.Name, o, mode)
	return &CreateStmt{Stmt: s, Object: o, Mode: mode}
}

// bindWatermark checks WATERMARK FOR col AS expr: the expression must be
// of the column's type, over the declared columns. The catalog checks the
// column of a declared schema; after inference it is checked here.
func (b *binder) bindWatermark(o *catalog.Object, w *parser.Watermark, inferred bool) {
	idx := o.Columns.Index(w.Column.Name)
	if idx < 0 {
		if inferred {
			b.errorf(w.Column.Pos, parser.CodeUndefinedColumn, b.didYouMean(w.Column.Name, o.Columns.Names()),
				"watermark column %q is not in the inferred schema of %q", w.Column.Name, o.Name)
		}
		return
	}
	ct := o.Columns[idx].Type
	if ct.Kind != catalog.KindTimestamp && ct.Kind != catalog.KindTimestampTZ {
		if inferred {
			b.errorf(w.Column.Pos, parser.CodeDatatype, "", "watermark column %q is %s, not TIMESTAMP or TIMESTAMPTZ", w.Column.Name, ct)
		}
		return
	}
	cols := make([]Column, len(o.Columns))
	for i, c := range o.Columns {
		cols[i] = Column{Name: c.Name, Qualifier: o.Name, Type: c.Type}
	}
	c := exprCtx{frag: w.Expr.Frag, sc: scopeFromColumns(cols), clause: "WATERMARK"}
	e := b.bindExpr(c, w.Expr.Node, w.Expr.Pos())
	if !isBad(e) && e.Type() != ct {
		b.errorf(w.Expr.Pos(), parser.CodeDatatype, "", "watermark expression must be of type %s, not %s", ct, e.Type())
	}
}

func (b *binder) bindCreateSink(s *parser.CreateSink) *CreateStmt {
	o, mode := b.fromCreate(s)
	b.register(s.Name, o, mode)
	return &CreateStmt{Stmt: s, Object: o, Mode: mode}
}

func (b *binder) bindCreateTable(s *parser.CreateTable) *CreateStmt {
	o, mode := b.fromCreate(s)
	out := &CreateStmt{Stmt: s, Object: o, Mode: mode}
	b.bindTableConstraints(s, o)
	if s.As != nil {
		out.Query = b.bindTopQuery(s.As)
		o.Columns = nil
		for _, c := range out.Query.Schema() {
			o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: nullToString(c.Type)})
		}
		for _, k := range s.PrimaryKey {
			if o.Columns.Index(k.Name) < 0 {
				b.errorf(k.Pos, parser.CodeUndefinedColumn, b.didYouMean(k.Name, o.Columns.Names()), "column %q in PRIMARY KEY is not defined", k.Name)
			}
		}
	}
	b.register(s.Name, o, out.Mode)
	return out
}

// isDefaultItem reports whether n is an item DEFAULT of INSERT ... VALUES
// (lowered to parser.DefaultMarker()).
func isDefaultItem(n ast.ExprNode) bool {
	f, ok := n.(*ast.FuncCallExpr)
	return ok && f.FnName.L == parser.DefaultMarker && len(f.Args) == 0
}

func nullToString(t catalog.Type) catalog.Type {
	if t.Kind == catalog.KindNull {
		return catalog.String
	}
	return t
}

func (b *binder) bindCreateView(s *parser.CreateView) *CreateStmt {
	plan := b.bindTopQuery(s.Query)
	o, mode := b.fromCreate(s)
	cols := plan.Schema()
	if len(s.Columns) > len(cols) {
		b.errorf(s.Columns[len(cols)].Pos, parser.CodeSyntax, "", "CREATE VIEW specifies more column names than columns")
	}
	renamed := make([]Column, len(cols))
	for i, c := range cols {
		if i < len(s.Columns) {
			c.Name = s.Columns[i].Name
		}
		c.Qualifier = ""
		renamed[i] = c
		o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: nullToString(c.Type), NotNull: !c.Nullable})
	}
	if len(s.Columns) > 0 {
		pr := &Project{Input: plan, Columns: renamed}
		for i, c := range cols {
			pr.Exprs = append(pr.Exprs, &ColRef{Index: i, Name: c.Name, T: c.Type})
		}
		plan = pr
	}
	if b.register(s.Name, o, mode) {
		b.views[catalogKey(o.Name)] = plan
	}
	return &CreateStmt{Stmt: s, Object: o, Mode: mode, Query: plan}
}

func (b *binder) bindValidate(s *parser.Validate) *ValidateStmt {
	plan := b.bindTopQuery(s.Query)
	out := &ValidateStmt{Stmt: s, Name: s.Name.Name, Plan: plan}
	cols := plan.Schema()
	var types []string
	for _, c := range cols {
		types = append(types, c.Type.String())
	}
	okShape := len(cols) == 2 &&
		(cols[0].Type.Kind == catalog.KindBool || cols[0].Type.Kind == catalog.KindNull) &&
		(cols[1].Type.IsString() || cols[1].Type.Kind == catalog.KindNull)
	if !okShape && s.Query != nil {
		b.errorf(s.Query.Span.Start, parser.CodeDatatype,
			"select a condition and a message: SELECT COUNT(*) = 0, 'rows without email' FROM ...",
			"VALIDATE query must return (BOOLEAN, TEXT), not (%s)", strings.Join(types, ", "))
	}
	return out
}

func (b *binder) bindAssert(s *parser.Assert) *AssertStmt {
	out := &AssertStmt{Stmt: s, Message: s.Message}
	if s.Cond.Node == nil {
		return out
	}
	c := exprCtx{frag: s.Cond.Frag, sc: &scope{}, clause: "ASSERT"}
	p := s.Cond.Pos()
	out.Cond = b.boolCond(b.bindExpr(c, s.Cond.Node, p), p, "ASSERT")
	return out
}

func (b *binder) bindMerge(s *parser.Merge) *MergeStmt {
	out := &MergeStmt{Stmt: s}
	target, ok := b.cat.lookup(s.Target.String())
	var tcols []scopeCol
	talias := s.Alias.Name
	if talias == "" {
		talias = s.Target.Name.Name
	}
	broken := false
	if !ok {
		b.errorf(s.Target.Pos(), parser.CodeUndefinedTable, b.didYouMean(s.Target.String(), b.cat.names()), "relation %q does not exist", s.Target.String())
		broken = true
	} else if target.Kind != catalog.ObjectTable {
		b.errorf(s.Target.Pos(), "42809", "MERGE updates a table created with CREATE TABLE", "cannot MERGE into %s %q", target.Kind, target.Name)
		broken = true
	} else {
		out.Target = target
		for _, c := range target.Columns {
			tcols = append(tcols, scopeCol{name: c.Name, qual: talias, t: c.Type, nullable: !c.NotNull})
		}
	}
	// The source.
	salias := s.Source.Alias.Name
	var src Node
	var scols []scopeCol
	switch {
	case s.Source.Query != nil:
		src = b.bindTopQuery(s.Source.Query)
		for _, c := range src.Schema() {
			scols = append(scols, scopeCol{name: c.Name, qual: salias, t: c.Type, nullable: c.Nullable})
		}
	case s.Source.Name != nil:
		n := *s.Source.Name
		if salias == "" {
			salias = n.Name.Name
		}
		o, ok := b.cat.lookup(n.String())
		if !ok {
			b.errorf(n.Pos(), parser.CodeUndefinedTable, b.didYouMean(n.String(), b.cat.names()), "relation %q does not exist", n.String())
			broken = true
			src = &Values{Rows: [][]Expr{{}}}
			break
		}
		cols := make([]Column, len(o.Columns))
		for i, c := range o.Columns {
			cols[i] = Column{Name: c.Name, Qualifier: salias, Type: c.Type, Nullable: !c.NotNull}
		}
		if plan, ok := b.views[catalogKey(o.Name)]; ok {
			src = &CTERef{View: true, Name: o.Name, Alias: salias, Plan: plan, Columns: requalify(plan.Schema(), salias)}
			cols = requalify(plan.Schema(), salias)
		} else {
			src = &Scan{Object: o, Alias: salias, Columns: cols}
		}
		for _, c := range cols {
			scols = append(scols, scopeCol{name: c.Name, qual: salias, t: c.Type, nullable: c.Nullable})
		}
	}
	out.Source = src
	sc := &scope{cols: append(append([]scopeCol{}, tcols...), scols...), broken: broken}
	if s.On.Node != nil {
		c := exprCtx{frag: s.On.Frag, sc: sc, clause: "MERGE ON"}
		out.On = b.boolCond(b.bindExpr(c, s.On.Node, s.On.Pos()), s.On.Pos(), "MERGE ON")
	}
	for _, cl := range s.Clauses {
		a := &MergeAction{Matched: cl.Matched, Kind: cl.Action}
		if cl.Cond != nil {
			c := exprCtx{frag: cl.Cond.Frag, sc: sc, clause: "WHEN"}
			a.Cond = b.boolCond(b.bindExpr(c, cl.Cond.Node, cl.Cond.Pos()), cl.Cond.Pos(), "WHEN")
		}
		switch cl.Action {
		case parser.MergeUpdate:
			if !cl.Matched {
				b.errorf(cl.Pos, parser.CodeSyntax, "", "UPDATE is only allowed in WHEN MATCHED")
			}
			for _, set := range cl.Sets {
				idx := b.targetColumn(target, set.Column, broken)
				c := exprCtx{frag: set.Value.Frag, sc: sc, clause: "UPDATE SET"}
				v := b.bindExpr(c, set.Value.Node, set.Value.Pos())
				if idx >= 0 {
					v = b.assign(v, target.Columns[idx], set.Value.Pos())
				}
				a.SetColumns = append(a.SetColumns, idx)
				a.SetValues = append(a.SetValues, v)
			}
		case parser.MergeInsert:
			if cl.Matched {
				b.errorf(cl.Pos, parser.CodeSyntax, "", "INSERT is only allowed in WHEN NOT MATCHED")
			}
			var idxs []int
			if cl.Columns != nil {
				for _, id := range cl.Columns {
					idxs = append(idxs, b.targetColumn(target, id, broken))
				}
			} else if target != nil {
				for i := range target.Columns {
					idxs = append(idxs, i)
				}
			}
			if !broken && len(idxs) != len(cl.Values) {
				b.errorf(cl.Pos, parser.CodeSyntax, "", "MERGE INSERT has %d target columns but %d values", len(idxs), len(cl.Values))
			}
			for i, v := range cl.Values {
				c := exprCtx{frag: v.Frag, sc: sc, clause: "INSERT VALUES"}
				e := b.bindExpr(c, v.Node, v.Pos())
				if i < len(idxs) && idxs[i] >= 0 && target != nil {
					e = b.assign(e, target.Columns[idxs[i]], v.Pos())
				}
				a.InsertValues = append(a.InsertValues, e)
			}
			if cl.Columns != nil && !broken && target != nil {
				// Columns the clause does not list get their DEFAULT.
				for i, d := range b.defaultsFor(target, idxs) {
					if d != nil {
						idxs = append(idxs, i)
						a.InsertValues = append(a.InsertValues, d)
					}
				}
			}
			a.InsertColumns = idxs
		case parser.MergeDelete:
			if !cl.Matched {
				b.errorf(cl.Pos, parser.CodeSyntax, "", "DELETE is only allowed in WHEN MATCHED")
			}
		}
		out.Actions = append(out.Actions, a)
	}
	out.Checks = b.tableChecks(target)
	return out
}

func requalify(cols []Column, q string) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		c.Qualifier = q
		out[i] = c
	}
	return out
}

func (b *binder) targetColumn(target *catalog.Object, id parser.Ident, broken bool) int {
	if target == nil {
		return -1
	}
	idx := target.Columns.Index(id.Name)
	if idx < 0 && !broken {
		b.errorf(id.Pos, parser.CodeUndefinedColumn, b.didYouMean(id.Name, target.Columns.Names()),
			"column %q of relation %q does not exist", id.Name, target.Name)
	}
	return idx
}

// assign converts a value stored into column col (MERGE SET / INSERT).
func (b *binder) assign(v Expr, col catalog.Column, p int) Expr {
	if isBad(v) || v.Type() == col.Type {
		return v
	}
	if pr, ok := v.(*Param); ok && pr.T.Kind == catalog.KindNull && col.Type.Kind != catalog.KindNull {
		// INSERT ... VALUES ($1): the parameter has the column's type.
		pr.T = col.Type
		return pr
	}
	if k, ok := v.(*Const); ok && (k.lit != litNone || k.Value == nil) {
		out := b.coerce(v, col.Type, p, "value")
		if c, ok := out.(*Const); ok && col.Type.IsString() && col.Type.Length > 0 {
			if str, ok := c.Value.(string); ok {
				return b.fitLength(c, str, col.Type, p)
			}
		}
		return out
	}
	if !canAssign(v.Type(), col.Type) {
		b.errorf(p, parser.CodeDatatype, "cast the expression to "+col.Type.String(),
			"column %q is of type %s but expression is of type %s", col.Name, col.Type, v.Type())
		return bad()
	}
	return &Cast{Arg: v, T: col.Type, Implicit: true}
}

// fitLength checks a string constant stored into a CHAR(n) or VARCHAR(n)
// column, as PostgreSQL does: a longer value is an error unless the excess
// is blanks, which are cut off.
func (b *binder) fitLength(c *Const, s string, t catalog.Type, p int) Expr {
	if utf8.RuneCountInString(s) <= t.Length {
		return c
	}
	cut := 0
	for i := range s {
		if cut == t.Length {
			if strings.TrimRight(s[i:], " ") == "" {
				return &Const{Value: s[:i], T: t}
			}
			break
		}
		cut++
	}
	kind := "character varying"
	if t.Fixed {
		kind = "character"
	}
	b.errorf(p, "22001", "", "value too long for type %s(%d)", kind, t.Length)
	return bad()
}

func (b *binder) bindDrop(s *parser.Drop) *DropStmt {
	out := &DropStmt{Stmt: s}
	kind := catalog.ObjectKindOf(s.Kind)
	for _, n := range s.Names {
		o, ok := b.cat.lookup(n.String())
		if !ok {
			if !s.IfExists {
				code := parser.CodeUndefinedTable
				if kind == catalog.ObjectPipeline {
					code = parser.CodeUndefinedObject
				}
				b.errorf(n.Pos(), code, b.didYouMean(n.String(), b.cat.names()), "%s %q does not exist", kind, n.String())
			}
			continue
		}
		if o.Kind != kind {
			b.errorf(n.Pos(), "42809", "use DROP "+strings.ToUpper(o.Kind.String()), "%q is a %s, not a %s", n.String(), o.Kind, kind)
			continue
		}
		if o.Kind == catalog.ObjectSystem {
			b.errorf(n.Pos(), "42501", "", "cannot drop system table %q", o.Name)
			continue
		}
		out.Objects = append(out.Objects, o)
		if err := b.cat.drop(b.ctx, o); err != nil {
			b.errorf(n.Pos(), "58030", "", "dropping %s %q: %v", o.Kind, o.Name, err)
		}
		delete(b.views, catalogKey(o.Name))
	}
	return out
}

func (b *binder) bindCreatePipeline(s *parser.CreatePipeline) *PipelineStmt {
	o, mode := b.fromCreate(s)
	out := &PipelineStmt{Stmt: s, Object: o, Mode: mode}
	if s.Insert != nil {
		exps := make([]*Expectation, len(s.Expectations))
		for i, e := range s.Expectations {
			exps[i] = &Expectation{Name: e.Name.Name, Action: e.Action}
		}
		bind := func(e parser.Expectation, sc *scope) Expr {
			if e.Expr.Node == nil {
				return nil
			}
			c := exprCtx{frag: e.Expr.Frag, sc: sc, clause: "EXPECT"}
			return b.boolCond(b.bindExpr(c, e.Expr.Node, e.Expr.Pos()), e.Expr.Pos(), "EXPECT")
		}
		// saved holds, per expectation that did not bind over the rows
		// read, its diagnostics (reported unless it binds over the output).
		saved := map[int]parser.Diagnostics{}
		var cap fromCapture
		if s.Insert.Query != nil {
			if sel, ok := s.Insert.Query.Node.(*ast.SelectStmt); ok {
				cap.sel = sel
				cap.wrap = func(input Node) Node {
					sc := &scope{cols: cap.cols, broken: cap.broken}
					ex := &Expect{Input: input, Pipeline: o.Name}
					for i, e := range s.Expectations {
						mark := len(b.diags)
						cond := bind(e, sc)
						if len(b.diags) > mark {
							saved[i] = append(parser.Diagnostics(nil), b.diags[mark:]...)
							b.diags = b.diags[:mark]
							continue
						}
						exps[i].Cond = cond
						ex.Checks = append(ex.Checks, exps[i])
					}
					if len(ex.Checks) == 0 {
						return input
					}
					return ex
				}
				b.capture = &cap
			}
		}
		b.pipelineOpts = o.Options
		if b.pipelineOpts == nil {
			b.pipelineOpts = map[string]string{}
		}
		out.Insert = b.bindInsert(s.Insert)
		b.capture, b.pipelineOpts = nil, nil
		if out.Insert.Plan != nil {
			b.checkStreamDedup(out.Insert.Plan)
		}
		out.Source = cap.node
		if cap.node == nil {
			// Not a plain SELECT: every expectation is over the output.
			for i := range s.Expectations {
				saved[i] = nil
			}
		}
		var outSc *scope
		if out.Insert.Plan != nil {
			outSc = scopeFromColumns(out.Insert.Plan.Schema())
		}
		top := &Expect{Pipeline: o.Name}
		for i, e := range s.Expectations {
			diags, ok := saved[i]
			if !ok {
				continue
			}
			if outSc == nil {
				b.diags = append(b.diags, diags...)
				continue
			}
			mark := len(b.diags)
			cond := bind(e, outSc)
			if len(b.diags) > mark && diags != nil {
				// Report why it did not bind over the rows read.
				b.diags = append(b.diags[:mark], diags...)
				continue
			}
			if len(b.diags) > mark {
				continue
			}
			exps[i].Cond, exps[i].OverOutput = cond, true
			top.Checks = append(top.Checks, exps[i])
		}
		if len(top.Checks) > 0 && out.Insert.Plan != nil {
			top.Input = out.Insert.Plan
			out.Insert.Plan = top
		}
		out.Expectations = exps
		b.quarantineTable(s, out)
	}
	b.register(s.Name, o, out.Mode)
	return out
}

// quarantineTable declares the table <pipeline>__quarantine of a pipeline
// with QUARANTINE expectations and no quarantine option, so that later
// statements can read it. Its columns are constraint_name and the columns
// of the rows the QUARANTINE expectations check; one pipeline quarantines
// one kind of row (those read, or those written).
func (b *binder) quarantineTable(s *parser.CreatePipeline, ps *PipelineStmt) {
	if ps.Insert == nil || ps.Insert.Plan == nil {
		return
	}
	var layout []Column
	var where *Expectation
	for _, x := range expectNodes(ps.Insert.Plan) {
		for _, c := range x.Checks {
			if c.Action != parser.ActionQuarantine {
				continue
			}
			if layout != nil && where.OverOutput != c.OverOutput {
				pos := s.Name.Pos()
				for _, e := range s.Expectations {
					if e.Name.Name == c.Name {
						pos = e.Pos
					}
				}
				b.errorf(pos, parser.CodeFeature, "make every QUARANTINE expectation check the rows read, or every one the rows written",
					"QUARANTINE expectations %q and %q check different rows (read and written); one quarantine holds one kind of row", where.Name, c.Name)
				return
			}
			if layout == nil {
				layout, where = x.Input.Schema(), c
			}
		}
	}
	if layout == nil || ps.Object.Options["quarantine"] != "" {
		return
	}
	name := ps.Object.Name + QuarantineSuffix
	q := &catalog.Object{Kind: catalog.ObjectTable, Name: name, Columns: QuarantineColumns(layout)}
	if old, ok := b.cat.lookup(name); ok && old.Kind != catalog.ObjectTable {
		b.errorf(s.Name.Pos(), "42809", "rename one of them, or name another quarantine with WITH (quarantine = '...')",
			"the quarantine of pipeline %q is %q, which is a %s", ps.Object.Name, name, old.Kind)
		return
	}
	ps.Quarantine = q
	if err := b.cat.put(b.ctx, q, catalog.CreateOrReplace); err != nil {
		b.errorf(s.Name.Pos(), "58030", "", "creating table %q: %v", name, err)
	}
}

// expectNodes returns the Expect nodes of a plan, outermost first.
func expectNodes(n Node) []*Expect {
	var out []*Expect
	if x, ok := n.(*Expect); ok {
		out = append(out, x)
	}
	for _, c := range n.Children() {
		out = append(out, expectNodes(c)...)
	}
	return out
}

// fromCapture records the FROM clause of one SELECT while it is bound (the
// rows pipeline expectations are checked on).
type fromCapture struct {
	sel *ast.SelectStmt
	// wrap, when set, returns the plan that stands for the FROM clause
	// (the pipeline's expectations over it).
	wrap   func(Node) Node
	node   Node
	cols   []scopeCol
	broken bool
}
