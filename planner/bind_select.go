package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// bindQuery binds a query body: SELECT, a set operation, or either with
// WITH. outer is the enclosing query's scope for a subquery, nil otherwise.
func (b *binder) bindQuery(frag *parser.Fragment, n ast.Node, outer *scope) Node {
	switch n := n.(type) {
	case *ast.SelectStmt:
		qs := &scope{outer: outer}
		if n.With != nil {
			b.bindWith(frag, n.With, qs)
		}
		return b.bindSelect(frag, n, qs)
	case *ast.SetOprStmt:
		qs := &scope{outer: outer}
		if n.With != nil {
			b.bindWith(frag, n.With, qs)
		}
		return b.bindSetOp(frag, n, qs)
	case *ast.SubqueryExpr:
		return b.bindQuery(frag, n.Query, outer)
	}
	p := frag.Orig(0)
	b.errorf(p, parser.CodeFeature, "", "%T is not supported as a query", n)
	return &Values{Rows: [][]Expr{{}}}
}

// bindWith binds the CTEs of a WITH clause into qs, each seeing the ones
// before it. A CTE's plan is shared by every reference to it.
func (b *binder) bindWith(frag *parser.Fragment, w *ast.WithClause, qs *scope) {
	for _, cte := range w.CTEs {
		if w.IsRecursive {
			if plan := b.bindRecursive(frag, cte, qs); plan != nil {
				qs.ctes = append([]*cteDef{{name: cte.Name.L, plan: plan, cols: plan.Schema()}}, qs.ctes...)
				continue
			}
		}
		inner := &scope{outer: qs.outer, ctes: qs.ctes}
		plan := b.bindQuery(frag, cte.Query.Query, inner)
		cols := append([]Column(nil), plan.Schema()...)
		for i, n := range cte.ColNameList {
			if i < len(cols) {
				cols[i].Name = n.O
			}
		}
		qs.ctes = append([]*cteDef{{name: cte.Name.L, plan: plan, cols: cols}}, qs.ctes...)
	}
}

// bindRecursive binds a CTE of WITH RECURSIVE written as anchor UNION
// [ALL] recursive term, where the recursive term (the last operand) reads
// the CTE itself. It returns nil for a CTE of another form, which is bound
// as an ordinary CTE (then a reference to itself is an unknown relation).
func (b *binder) bindRecursive(frag *parser.Fragment, cte *ast.CommonTableExpression, qs *scope) Node {
	set, ok := cte.Query.Query.(*ast.SetOprStmt)
	if !ok || set.SelectList == nil || len(set.SelectList.Selects) < 2 || set.OrderBy != nil || set.Limit != nil {
		return nil
	}
	sels := set.SelectList.Selects
	last := sels[len(sels)-1]
	var op *ast.SetOprType
	switch s := last.(type) {
	case *ast.SelectStmt:
		op = s.AfterSetOperator
	case *ast.SetOprSelectList:
		op = s.AfterSetOperator
	}
	if op == nil || (*op != ast.Union && *op != ast.UnionAll) {
		return nil
	}
	p := frag.Orig(0)
	name := cte.Name.L
	// The anchor: every operand but the last, which may not read the CTE.
	var anchorQ ast.Node
	if len(sels) == 2 {
		anchorQ = sels[0]
		if l, ok := anchorQ.(*ast.SetOprSelectList); ok {
			anchorQ = &ast.SetOprStmt{SelectList: l}
		}
	} else {
		anchorQ = &ast.SetOprStmt{SelectList: &ast.SetOprSelectList{Selects: sels[:len(sels)-1]}}
	}
	anchor := b.bindQuery(frag, anchorQ, &scope{outer: qs.outer, ctes: qs.ctes})
	cols := append([]Column(nil), anchor.Schema()...)
	for i, n := range cte.ColNameList {
		if i < len(cols) {
			cols[i].Name = n.O
		}
	}
	if len(cte.ColNameList) > len(cols) {
		b.errorf(p, parser.CodeSyntax, "", "WITH query %q has %d columns available but %d columns specified", name, len(cols), len(cte.ColNameList))
	}
	for i := range cols {
		cols[i].Nullable = true
		cols[i].Qualifier = ""
	}
	b.nextRecursive++
	id := b.nextRecursive
	wt := &WorkTable{ID: id, Name: name, Columns: cols}
	var recQ ast.Node = last
	if l, ok := recQ.(*ast.SetOprSelectList); ok {
		recQ = &ast.SetOprStmt{SelectList: l}
	}
	rec := b.bindQuery(frag, recQ, &scope{outer: qs.outer, ctes: append([]*cteDef{{name: name, plan: wt, cols: cols}}, qs.ctes...)})
	rc := rec.Schema()
	if len(rc) != len(cols) {
		b.errorf(p, parser.CodeSyntax, "", "each UNION query must have the same number of columns (%d and %d)", len(cols), len(rc))
		return anchor
	}
	for i := range cols {
		if rc[i].Type != cols[i].Type {
			if _, ok := implicitCost(rc[i].Type, cols[i].Type); !ok {
				b.errorf(p, parser.CodeDatatype, "cast the recursive term's column to "+cols[i].Type.String(),
					"recursive query %q column %d has type %s in the non-recursive term but %s in the recursive term",
					name, i+1, cols[i].Type, rc[i].Type)
			}
		}
	}
	return &RecursiveCTE{ID: id, Name: name, Anchor: castTo(anchor, cols), Recursive: castTo(rec, cols),
		All: *op == ast.UnionAll, Columns: cols}
}

// bindSetOp binds UNION / INTERSECT / EXCEPT chains (left-associative, as
// TiDB lists them) with their ORDER BY and LIMIT.
func (b *binder) bindSetOp(frag *parser.Fragment, n *ast.SetOprStmt, qs *scope) Node {
	// The operands with the operator before each (nil for the first).
	type operand struct {
		plan Node
		kind SetOpKind
		all  bool
	}
	var operands []operand
	p := frag.Orig(0)
	for _, s := range n.SelectList.Selects {
		var plan Node
		var op *ast.SetOprType
		switch s := s.(type) {
		case *ast.SelectStmt:
			plan = b.bindSelect(frag, s, &scope{outer: qs.outer, ctes: qs.ctes})
			op = s.AfterSetOperator
		case *ast.SetOprSelectList:
			plan = b.bindSetOp(frag, &ast.SetOprStmt{SelectList: s}, &scope{outer: qs.outer, ctes: qs.ctes})
			op = s.AfterSetOperator
		default:
			b.errorf(p, parser.CodeFeature, "", "%T in a set operation is not supported", s)
			continue
		}
		o := operand{plan: plan}
		if op != nil {
			switch *op {
			case ast.Union:
			case ast.UnionAll:
				o.all = true
			case ast.Intersect:
				o.kind = Intersect
			case ast.IntersectAll:
				o.kind, o.all = Intersect, true
			case ast.Except:
				o.kind = Except
			case ast.ExceptAll:
				o.kind, o.all = Except, true
			}
		}
		operands = append(operands, o)
	}
	// INTERSECT binds tighter than UNION and EXCEPT (standard SQL, as in
	// PostgreSQL): a UNION b INTERSECT c is a UNION (b INTERSECT c). Then
	// the operators apply left to right.
	var terms []operand
	for i, o := range operands {
		if i > 0 && o.kind == Intersect {
			last := &terms[len(terms)-1]
			last.plan = b.combine(Intersect, o.all, last.plan, o.plan, p)
			continue
		}
		terms = append(terms, o)
	}
	var acc Node
	for i, o := range terms {
		if i == 0 {
			acc = o.plan
			continue
		}
		acc = b.combine(o.kind, o.all, acc, o.plan, p)
	}
	if acc == nil {
		return &Values{Rows: [][]Expr{{}}}
	}
	if n.OrderBy != nil {
		sc := scopeFromColumns(acc.Schema())
		sc.outer = qs.outer
		c := exprCtx{frag: frag, sc: sc, clause: "ORDER BY"}
		var keys []SortKey
		for _, it := range n.OrderBy.Items {
			if pe, ok := it.Expr.(*ast.PositionExpr); ok {
				if pe.N < 1 || pe.N > len(sc.cols) {
					b.errorf(p, "42P10", "", "ORDER BY position %d is not in select list", pe.N)
					continue
				}
				col := sc.cols[pe.N-1]
				keys = append(keys, SortKey{Expr: &ColRef{Index: pe.N - 1, Name: col.name, T: col.t}, Desc: it.Desc, NullsFirst: it.Desc})
				continue
			}
			keys = append(keys, b.bindSortKey(c, it, p))
		}
		acc = &Sort{Input: acc, Keys: keys}
	}
	if n.Limit != nil {
		acc = b.bindLimit(frag, n.Limit, acc, qs)
	}
	return acc
}

// combine builds a SetOp, casting both sides to the common column types.
func (b *binder) combine(kind SetOpKind, all bool, l, r Node, p int) Node {
	lc, rc := l.Schema(), r.Schema()
	if len(lc) != len(rc) {
		b.errorf(p, parser.CodeSyntax, "", "each %s query must have the same number of columns (%d and %d)", kind, len(lc), len(rc))
		return l
	}
	cols := make([]Column, len(lc))
	for i := range lc {
		t, ok := commonType(lc[i].Type, rc[i].Type)
		if !ok {
			b.errorf(p, parser.CodeDatatype, "", "%s types %s and %s cannot be matched (column %d)", kind, lc[i].Type, rc[i].Type, i+1)
			t = lc[i].Type
		}
		cols[i] = Column{Name: lc[i].Name, Type: t, Nullable: lc[i].Nullable || rc[i].Nullable}
	}
	return &SetOp{Kind: kind, All: all, Left: castTo(l, cols), Right: castTo(r, cols), Columns: cols}
}

// castTo projects n to the column types of cols when they differ.
func castTo(n Node, cols []Column) Node {
	in := n.Schema()
	same := true
	for i := range in {
		if in[i].Type != cols[i].Type {
			same = false
		}
	}
	if same {
		return n
	}
	pr := &Project{Input: n}
	for i, c := range in {
		var e Expr = &ColRef{Index: i, Name: c.Name, T: c.Type}
		if c.Type != cols[i].Type {
			e = &Cast{Arg: e, T: cols[i].Type, Implicit: true}
		}
		pr.Exprs = append(pr.Exprs, e)
		pr.Columns = append(pr.Columns, Column{Name: c.Name, Qualifier: c.Qualifier, Type: cols[i].Type, Nullable: c.Nullable})
	}
	return pr
}

func (b *binder) bindLimit(frag *parser.Fragment, l *ast.Limit, in Node, qs *scope) Node {
	c := exprCtx{frag: frag, sc: &scope{outer: qs.outer}, clause: "LIMIT"}
	p := frag.Orig(0)
	out := &Limit{Input: in}
	if v, ok := l.Count.(ast.ValueExpr); ok {
		if u, ok := v.GetValue().(uint64); ok && u == math.MaxUint64 {
			l = &ast.Limit{Offset: l.Offset} // OFFSET n alone is lowered to LIMIT <max> OFFSET n
		}
	}
	if l.Count != nil {
		out.Count = b.coerce(b.bindExpr(c, l.Count, p), catalog.Int64, p, "LIMIT")
	}
	if l.Offset != nil {
		out.Offset = b.coerce(b.bindExpr(c, l.Offset, p), catalog.Int64, p, "OFFSET")
	}
	return out
}

// selectItem is one output column of a SELECT under construction.
type selectItem struct {
	expr    Expr
	name    string
	pos     int
	aliased bool // named with AS
}

// bindSelect binds one SELECT block in qs (which holds its CTEs and outer
// link). The operators are stacked in SQL's order of evaluation: FROM,
// WHERE, GROUP BY/aggregates, HAVING, window functions, the select list,
// DISTINCT, ORDER BY, LIMIT.
func (b *binder) bindSelect(frag *parser.Fragment, sel *ast.SelectStmt, qs *scope) Node {
	stmtPos := frag.Orig(0)
	if sel.Kind == ast.SelectStmtKindValues {
		return b.bindValuesQuery(frag, sel, qs)
	}
	if sel.Kind == ast.SelectStmtKindTable {
		b.errorf(stmtPos, parser.CodeFeature, "write SELECT * FROM t", "TABLE t as a query is not supported")
		return &Values{Rows: [][]Expr{{}}}
	}
	var input Node
	if sel.From != nil && sel.From.TableRefs != nil {
		var cols []scopeCol
		input, cols = b.bindFrom(frag, sel.From.TableRefs, qs)
		qs.cols = cols
		if b.capture != nil && b.capture.sel == sel {
			b.capture.node, b.capture.cols, b.capture.broken = input, cols, qs.broken
			if b.capture.wrap != nil {
				input = b.capture.wrap(input)
			}
		}
	} else {
		input = &Values{Rows: [][]Expr{{}}}
	}
	base := exprCtx{frag: frag, sc: qs}
	if sel.Where != nil {
		c := base.with(func(x *exprCtx) { x.clause = "WHERE" })
		p := b.nodePos(c, sel.Where, stmtPos)
		cond := b.bindExpr(c, sel.Where, stmtPos)
		cond = b.boolCond(cond, p, "WHERE")
		input = &Filter{Input: input, Cond: cond}
	}

	// A group window (TUMBLE, HOP, SESSION) is bound first: it adds the
	// columns window_start and window_end, which the select list may use.
	var gwin *WindowSpec
	gwinPos, gwinName := stmtPos, ""
	winBase := -1
	if sel.GroupBy != nil {
		gc := base.with(func(x *exprCtx) { x.clause = "GROUP BY" })
		for _, it := range sel.GroupBy.Items {
			fc, ok := it.Expr.(*ast.FuncCallExpr)
			if !ok || !isGroupWindow(fc.FnName.L) {
				continue
			}
			if gwin != nil {
				b.errorf(b.nodePos(gc, fc, stmtPos), parser.CodeSyntax, "", "only one group window is allowed in GROUP BY")
				continue
			}
			gwin = b.bindGroupWindow(gc, fc, stmtPos)
			gwinPos, gwinName = b.nodePos(gc, fc, stmtPos), strings.ToUpper(fc.FnName.L)
		}
		if gwin != nil {
			winBase = len(qs.cols)
			t := gwin.Time.Type()
			qs.cols = append(qs.cols, scopeCol{name: "window_start", t: t}, scopeCol{name: "window_end", t: t})
		}
	}

	aggs := &aggState{}
	wins := &winState{named: map[string]*ast.WindowSpec{}}
	for i := range sel.WindowSpecs {
		ws := &sel.WindowSpecs[i]
		wins.named[ws.Name.L] = ws
	}
	srfs := &srfState{}
	full := base.with(func(x *exprCtx) { x.agg, x.win, x.srf, x.clause = aggs, wins, srfs, "SELECT" })

	// The select list.
	var items []selectItem
	var aliases []selectAlias
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			items = append(items, b.expandStar(frag, f.WildCard, qs, stmtPos)...)
			continue
		}
		p := b.nodePos(full, f.Expr, stmtPos)
		e := b.bindExpr(full, f.Expr, stmtPos)
		if r, ok := b.regOutput(full, f.Expr, e, p); ok {
			e = r
		}
		name := f.AsName.O
		if name == "" {
			name = outputName(f.Expr, e)
		} else {
			aliases = append(aliases, selectAlias{name: name, node: f.Expr})
		}
		items = append(items, selectItem{expr: e, name: name, pos: p, aliased: f.AsName.L != ""})
	}

	// GROUP BY.
	var groups []Expr
	hasGroup := sel.GroupBy != nil
	if hasGroup {
		gc := base.with(func(x *exprCtx) { x.clause, x.aliases = "GROUP BY", aliases })
		for _, it := range sel.GroupBy.Items {
			if pe, ok := it.Expr.(*ast.PositionExpr); ok {
				if pe.N < 1 || pe.N > len(items) {
					b.errorf(stmtPos, "42P10", "", "GROUP BY position %d is not in select list", pe.N)
					continue
				}
				e := items[pe.N-1].expr
				if containsAgg(e) {
					b.errorf(items[pe.N-1].pos, parser.CodeGrouping, "", "aggregate functions are not allowed in GROUP BY")
					continue
				}
				groups = append(groups, e)
				continue
			}
			if fc, ok := it.Expr.(*ast.FuncCallExpr); ok && isGroupWindow(fc.FnName.L) {
				continue
			}
			groups = append(groups, b.bindExpr(gc, it.Expr, stmtPos))
		}
	}

	// HAVING.
	var having Expr
	var havingPos int
	if sel.Having != nil {
		hc := full.with(func(x *exprCtx) { x.clause, x.win, x.aliases = "HAVING", nil, aliases })
		havingPos = b.nodePos(hc, sel.Having.Expr, stmtPos)
		having = b.boolCond(b.bindExpr(hc, sel.Having.Expr, stmtPos), havingPos, "HAVING")
	}

	// ORDER BY: output columns by ordinal or name, or expressions over the input.
	type orderItem struct {
		key    SortKey
		output int // index into items, or -1
		pos    int
	}
	var orders []orderItem
	if sel.OrderBy != nil {
		oc := full.with(func(x *exprCtx) { x.clause = "ORDER BY" })
		for _, it := range sel.OrderBy.Items {
			e, nulls := unwrapNulls(it.Expr)
			nf := it.Desc
			if nulls != 0 {
				nf = nulls > 0
			}
			oi := orderItem{key: SortKey{Desc: it.Desc, NullsFirst: nf}, output: -1, pos: b.nodePos(oc, e, stmtPos)}
			if pe, ok := e.(*ast.PositionExpr); ok {
				if pe.N < 1 || pe.N > len(items) {
					b.errorf(stmtPos, "42P10", "", "ORDER BY position %d is not in select list", pe.N)
					continue
				}
				oi.output = pe.N - 1
			} else if cn, ok := e.(*ast.ColumnNameExpr); ok && cn.Name.Table.L == "" {
				for i, item := range items {
					if item.name == cn.Name.Name.O {
						if _, res := qs.find("", cn.Name.Name.O); res == notFound || item.aliased {
							oi.output = i
							break
						}
					}
				}
			}
			if oi.output < 0 {
				oi.key.Expr = b.bindExpr(oc, e, stmtPos)
				for i, item := range items {
					if EqualExpr(item.expr, oi.key.Expr) {
						oi.output = i
						break
					}
				}
			}
			orders = append(orders, oi)
		}
	}

	// Aggregation.
	if hasGroup || len(aggs.calls) > 0 || having != nil {
		p := stmtPos
		switch {
		case gwin != nil:
			p = gwinPos
		case hasGroup && len(sel.GroupBy.Items) > 0:
			p = b.nodePos(base, sel.GroupBy.Items[0].Expr, stmtPos)
		}
		b.checkStreamAggregate(input, gwin, gwinName, p)
		nKeys := len(groups)
		agg := &Aggregate{Input: input, GroupBy: groups, Window: gwin}
		inCols := input.Schema()
		for _, g := range groups {
			agg.Columns = append(agg.Columns, Column{Name: exprName(g), Qualifier: exprQualifier(g, inCols), Type: g.Type(), Nullable: true})
		}
		if gwin != nil {
			agg.Columns = append(agg.Columns,
				Column{Name: "window_start", Type: gwin.Time.Type()},
				Column{Name: "window_end", Type: gwin.Time.Type()})
			nKeys += 2
		}
		agg.Aggs = aggs.calls
		for _, a := range aggs.calls {
			agg.Columns = append(agg.Columns, Column{Name: a.Fn.Name, Type: a.T, Nullable: a.Fn.Name != "count"})
		}
		m := &aggMapper{b: b, groups: groups, nKeys: nKeys, winBase: winBase}
		for i := range items {
			items[i].expr = m.mapExpr(items[i].expr)
		}
		for i := range orders {
			if orders[i].output < 0 && orders[i].key.Expr != nil {
				orders[i].key.Expr = m.mapExpr(orders[i].key.Expr)
			}
		}
		for _, wf := range wins.funcs {
			for i := range wf.Args {
				wf.Args[i] = m.mapExpr(wf.Args[i])
			}
			for i := range wf.PartitionBy {
				wf.PartitionBy[i] = m.mapExpr(wf.PartitionBy[i])
			}
			for i := range wf.OrderBy {
				wf.OrderBy[i].Expr = m.mapExpr(wf.OrderBy[i].Expr)
			}
		}
		input = agg
		if having != nil {
			input = &Filter{Input: input, Cond: m.mapExpr(having)}
		}
	}

	// Window functions.
	if len(wins.funcs) > 0 {
		inCols := input.Schema()
		w := &Window{Input: input, Funcs: wins.funcs, Columns: append([]Column(nil), inCols...)}
		for _, f := range wins.funcs {
			w.Columns = append(w.Columns, Column{Name: f.Fn.Name, Type: f.T, Nullable: true})
		}
		b.checkStreamWindow(w, wins.pos)
		n := len(inCols)
		resolve := func(e Expr) Expr {
			return RewriteExpr(e, func(x Expr) Expr {
				if r, ok := x.(*winRef); ok {
					return &ColRef{Index: n + r.idx, Name: r.fn.Fn.Name, T: r.fn.T}
				}
				return x
			})
		}
		for i := range items {
			items[i].expr = resolve(items[i].expr)
		}
		for i := range orders {
			if orders[i].key.Expr != nil {
				orders[i].key.Expr = resolve(orders[i].key.Expr)
			}
		}
		input = w
	}

	// Set-returning functions of the select list.
	if len(srfs.funcs) > 0 {
		if hasGroup || len(aggs.calls) > 0 || having != nil || len(wins.funcs) > 0 {
			b.errorf(stmtPos, parser.CodeFeature, "unnest in a subquery in FROM, and aggregate over it",
				"set-returning functions together with aggregates or window functions are not supported")
		} else {
			ptrs := make([]*Expr, 0, len(items)+len(orders))
			for i := range items {
				ptrs = append(ptrs, &items[i].expr)
			}
			for i := range orders {
				ptrs = append(ptrs, &orders[i].key.Expr)
			}
			input = addProjectSet(input, srfs, ptrs...)
		}
	}

	// The select list, with ORDER BY expressions that are not in it as
	// hidden columns.
	inCols := input.Schema()
	proj := &Project{Input: input}
	for i, it := range items {
		if pr, ok := it.expr.(*Param); ok && pr.T.Kind == catalog.KindNull {
			pr.T = catalog.String // SELECT $1 returns text, as in PostgreSQL
			if ts := b.selectTypes[sel]; i < len(ts) && ts[i].Kind != catalog.KindNull {
				pr.T = ts[i] // INSERT INTO t SELECT $1: the column's type
			}
		}
		proj.Exprs = append(proj.Exprs, it.expr)
		proj.Columns = append(proj.Columns, Column{Name: it.name, Qualifier: exprQualifier(it.expr, inCols), Type: it.expr.Type(), Nullable: exprNullable(it.expr, inCols)})
	}
	visible := len(items)
	var keys []SortKey
	for _, o := range orders {
		k := o.key
		if o.output >= 0 {
			it := items[o.output]
			k.Expr = &ColRef{Index: o.output, Name: it.name, T: it.expr.Type()}
		} else {
			if k.Expr == nil {
				continue
			}
			if sel.Distinct {
				b.errorf(o.pos, "42P10", "", "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
				continue
			}
			proj.Exprs = append(proj.Exprs, k.Expr)
			proj.Columns = append(proj.Columns, Column{Name: exprName(k.Expr), Type: k.Expr.Type(), Nullable: true})
			k.Expr = &ColRef{Index: len(proj.Exprs) - 1, Name: exprName(k.Expr), T: k.Expr.Type()}
		}
		keys = append(keys, k)
	}
	var out Node = proj
	if sel.Distinct {
		out = &Distinct{Input: out}
		b.checkStreamDistinct(out, stmtPos)
	}
	if len(keys) > 0 {
		out = &Sort{Input: out, Keys: keys}
	}
	if sel.Limit != nil {
		out = b.bindLimit(frag, sel.Limit, out, qs)
	}
	if len(proj.Exprs) > visible {
		trim := &Project{Input: out, Columns: proj.Columns[:visible:visible]}
		for i := 0; i < visible; i++ {
			trim.Exprs = append(trim.Exprs, &ColRef{Index: i, Name: proj.Columns[i].Name, T: proj.Columns[i].Type})
		}
		out = trim
	}
	return out
}

func isGroupWindow(name string) bool { return name == "tumble" || name == "hop" || name == "session" }

// bindGroupWindow binds TUMBLE(ts, size), HOP(ts, slide, size) or
// SESSION(ts, gap) in GROUP BY.
func (b *binder) bindGroupWindow(c exprCtx, fc *ast.FuncCallExpr, def int) *WindowSpec {
	p := b.nodePos(c, fc, def)
	name := fc.FnName.L
	want := map[string]int{"tumble": 2, "hop": 3, "session": 2}[name]
	if len(fc.Args) != want {
		b.errorf(p, parser.CodeUndefinedFunc, "", "%s takes %d arguments", strings.ToUpper(name), want)
		return nil
	}
	args := b.bindArgs(c, fc.Args, p)
	ts := args[0]
	if !isBad(ts) && ts.Type().Kind != catalog.KindTimestamp && ts.Type().Kind != catalog.KindTimestampTZ {
		b.errorf(b.posOf(ts, p), parser.CodeDatatype, "", "%s time column must be TIMESTAMP or TIMESTAMPTZ, not %s", strings.ToUpper(name), ts.Type())
	}
	for _, a := range args[1:] {
		k, ok := a.(*Const)
		if !isBad(a) && (!ok || k.T.Kind != catalog.KindInterval) {
			b.errorf(b.posOf(a, p), parser.CodeDatatype, "write a constant such as INTERVAL '1 minute'", "%s size must be a constant INTERVAL", strings.ToUpper(name))
		}
	}
	switch name {
	case "tumble":
		return &WindowSpec{Kind: Tumble, Time: ts, Size: args[1]}
	case "hop":
		return &WindowSpec{Kind: Hop, Time: ts, Slide: args[1], Size: args[2]}
	}
	return &WindowSpec{Kind: Session, Time: ts, Gap: args[1]}
}

func (b *binder) boolCond(e Expr, p int, clause string) Expr {
	if isBad(e) || e.Type().Kind == catalog.KindBool {
		return e
	}
	if k, ok := e.(*Const); ok && k.Value == nil {
		return &Const{T: catalog.Bool}
	}
	if pr, ok := e.(*Param); ok && pr.T.Kind == catalog.KindNull {
		pr.T = catalog.Bool
		return pr
	}
	b.errorf(p, parser.CodeDatatype, "", "argument of %s must be type BOOLEAN, not type %s", clause, e.Type())
	return bad()
}

func containsAgg(e Expr) bool {
	has := false
	WalkExpr(e, func(x Expr) bool {
		if _, ok := x.(*aggRef); ok {
			has = true
		}
		return !has
	})
	return has
}

// outputName names a select item without alias as PostgreSQL does: the
// column's name, the function's name, or ?column?.
func outputName(n ast.ExprNode, e Expr) string {
	switch n := n.(type) {
	case *ast.ColumnNameExpr:
		return n.Name.Name.O
	case *ast.ParenthesesExpr:
		return outputName(n.Expr, e)
	case *ast.AggregateFuncExpr:
		return strings.ToLower(n.F)
	case *ast.WindowFuncExpr:
		return strings.ToLower(n.Name)
	case *ast.FuncCallExpr:
		switch n.FnName.L {
		case "__etl_cast", "__etl_try_cast":
			if len(n.Args) > 0 {
				return outputName(n.Args[0], e)
			}
		case ast.DateLiteral:
			return "date"
		case ast.TimestampLiteral:
			return "timestamp"
		case "__etl_interval":
			return "interval"
		case "__etl_extract":
			return "extract"
		}
		if strings.HasPrefix(n.FnName.L, "__etl") {
			return "?column?"
		}
		return n.FnName.L
	case *ast.CaseExpr:
		return "case"
	case *ast.ExistsSubqueryExpr:
		return "exists"
	}
	return "?column?"
}

// exprName names a computed column for EXPLAIN.
func exprName(e Expr) string {
	switch x := e.(type) {
	case *ColRef:
		return x.Name
	case *Call:
		return x.Name
	case *Cast:
		return exprName(x.Arg)
	}
	return "?column?"
}

// exprQualifier keeps the relation qualifier of a plain column reference.
func exprQualifier(e Expr, in []Column) string {
	if r, ok := e.(*ColRef); ok && r.Index < len(in) {
		return in[r.Index].Qualifier
	}
	return ""
}

func exprNullable(e Expr, in []Column) bool {
	switch x := e.(type) {
	case *ColRef:
		if x.Index < len(in) {
			return in[x.Index].Nullable
		}
	case *Const:
		return x.Value == nil
	}
	return true
}

// aggMapper rewrites expressions bound over the input of an Aggregate into
// expressions over its output: group keys and aggregates become column
// references; any other input column is an error (42803).
type aggMapper struct {
	b      *binder
	groups []Expr
	nKeys  int
	// winBase is the scope index of window_start (window_end follows), -1
	// without a group window.
	winBase int
}

func (m *aggMapper) mapExpr(e Expr) Expr {
	if e == nil {
		return nil
	}
	for i, g := range m.groups {
		if EqualExpr(e, g) {
			return &ColRef{Index: i, Name: exprName(g), T: g.Type()}
		}
	}
	switch x := e.(type) {
	case *aggRef:
		return &ColRef{Index: m.nKeys + x.idx, Name: x.call.Fn.Name, T: x.call.T}
	case *winRef:
		return x
	case *ColRef:
		if m.winBase >= 0 && (x.Index == m.winBase || x.Index == m.winBase+1) {
			return &ColRef{Index: len(m.groups) + x.Index - m.winBase, Name: x.Name, T: x.T}
		}
		p := m.b.posOf(x, 0)
		m.b.errorf(p, parser.CodeGrouping, "add "+x.Name+" to GROUP BY or use it inside an aggregate such as max("+x.Name+")",
			"column %q must appear in the GROUP BY clause or be used in an aggregate function", x.Name)
		return bad()
	case *Call:
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			c.Args[i] = m.mapExpr(a)
		}
		return &c
	case *Cast:
		c := *x
		c.Arg = m.mapExpr(x.Arg)
		return &c
	case *Case:
		c := *x
		c.Whens = make([]When, len(x.Whens))
		for i, w := range x.Whens {
			c.Whens[i] = When{Cond: m.mapExpr(w.Cond), Result: m.mapExpr(w.Result)}
		}
		c.Else = m.mapExpr(x.Else)
		return &c
	case *Subquery:
		c := *x
		c.Arg = m.mapExpr(x.Arg)
		if x.Correlated {
			m.remapOuter(c.Plan, 1)
		}
		return &c
	}
	return e
}

// remapOuter rewrites, inside a correlated subquery's plan, the references
// to the aggregated query's input row into references to its group keys.
func (m *aggMapper) remapOuter(n Node, depth int) {
	mapNodeExprs(n, func(e Expr) Expr {
		return RewriteExpr(e, func(x Expr) Expr {
			switch r := x.(type) {
			case *OuterRef:
				if r.Depth != depth {
					return r
				}
				for i, g := range m.groups {
					if gr, ok := g.(*ColRef); ok && gr.Index == r.Index {
						return &OuterRef{Depth: depth, Index: i, Name: r.Name, T: r.T}
					}
				}
				m.b.errorf(m.b.posOf(r, 0), parser.CodeGrouping, "add "+r.Name+" to GROUP BY",
					"subquery uses ungrouped column %q from outer query", r.Name)
				return bad()
			case *Subquery:
				m.remapOuter(r.Plan, depth+1)
			}
			return x
		})
	})
}

// mapNodeExprs replaces, in place, every expression of n and of the nodes
// below it (not entering CTE plans) by fn's result.
func mapNodeExprs(n Node, fn func(Expr) Expr) {
	mapAll := func(es []Expr) {
		for i := range es {
			es[i] = fn(es[i])
		}
	}
	switch n := n.(type) {
	case *Values:
		for _, r := range n.Rows {
			mapAll(r)
		}
	case *Filter:
		n.Cond = fn(n.Cond)
	case *Project:
		mapAll(n.Exprs)
	case *Aggregate:
		mapAll(n.GroupBy)
		for _, a := range n.Aggs {
			mapAll(a.Args)
			if a.Filter != nil {
				a.Filter = fn(a.Filter)
			}
		}
	case *Join:
		if n.Cond != nil {
			n.Cond = fn(n.Cond)
		}
	case *Sort:
		for i := range n.Keys {
			n.Keys[i].Expr = fn(n.Keys[i].Expr)
		}
	case *Window:
		for _, f := range n.Funcs {
			mapAll(f.Args)
			mapAll(f.PartitionBy)
			for i := range f.OrderBy {
				f.OrderBy[i].Expr = fn(f.OrderBy[i].Expr)
			}
		}
	case *ProjectSet:
		for _, f := range n.Funcs {
			mapAll(f.Args)
		}
	case *CTERef:
		return
	}
	for _, c := range n.Children() {
		mapNodeExprs(c, fn)
	}
}

// bindValuesQuery binds VALUES (..), (..) used as a query: each column
// takes the common type of its rows; columns are named column1, column2...
func (b *binder) bindValuesQuery(frag *parser.Fragment, sel *ast.SelectStmt, qs *scope) Node {
	p := frag.Orig(0)
	c := exprCtx{frag: frag, sc: &scope{outer: qs.outer, ctes: qs.ctes}, clause: "VALUES"}
	v := &Values{}
	for i, r := range sel.Lists {
		if i > 0 && len(r.Values) != len(sel.Lists[0].Values) {
			b.errorf(b.nodePos(c, r, p), parser.CodeSyntax, "", "VALUES lists must all be the same length")
			return &Values{Rows: [][]Expr{{}}}
		}
		row := make([]Expr, len(r.Values))
		for j, e := range r.Values {
			row[j] = b.bindExpr(c, e, p)
		}
		v.Rows = append(v.Rows, row)
	}
	if len(v.Rows) == 0 {
		return &Values{Rows: [][]Expr{{}}}
	}
	for j := range v.Rows[0] {
		col := make([]Expr, len(v.Rows))
		for i := range v.Rows {
			col[i] = v.Rows[i][j]
		}
		t, _ := b.unify(col, p, "VALUES")
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		nullable := false
		for i := range v.Rows {
			v.Rows[i][j] = b.coerce(v.Rows[i][j], t, p, "VALUES item")
			if k, ok := v.Rows[i][j].(*Const); !ok || k.Value == nil {
				nullable = true
			}
		}
		v.Columns = append(v.Columns, Column{Name: fmt.Sprintf("column%d", j+1), Type: t, Nullable: nullable})
	}
	var out Node = v
	if sel.OrderBy != nil || sel.Limit != nil {
		sc := scopeFromColumns(v.Columns)
		sc.outer = qs.outer
		oc := exprCtx{frag: frag, sc: sc, clause: "ORDER BY"}
		if sel.OrderBy != nil {
			var keys []SortKey
			for _, it := range sel.OrderBy.Items {
				keys = append(keys, b.bindSortKey(oc, it, p))
			}
			out = &Sort{Input: out, Keys: keys}
		}
		if sel.Limit != nil {
			out = b.bindLimit(frag, sel.Limit, out, qs)
		}
	}
	return out
}
