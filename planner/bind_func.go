package planner

import (
	"errors"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// bindFuncCall binds a TiDB function call: the lowering's __etl_* forms,
// TiDB's literal and keyword forms, aggregates called by a name TiDB does
// not know as one, and the registry's scalar functions.
func (b *binder) bindFuncCall(c exprCtx, n *ast.FuncCallExpr, p int) Expr {
	name := n.FnName.L
	switch name {
	case ast.DateLiteral, ast.TimeLiteral, ast.TimestampLiteral:
		t := map[string]catalog.Type{ast.DateLiteral: catalog.Date, ast.TimeLiteral: catalog.Time, ast.TimestampLiteral: catalog.Timestamp}[name]
		if len(n.Args) != 1 {
			return b.unsupported(p, "literal form")
		}
		return b.coerce(b.bindExpr(c, n.Args[0], p), t, p, t.String()+" literal")
	case "__etl_cast", "__etl_try_cast":
		return b.bindCast(c, n, name == "__etl_try_cast", p)
	case "__etl_interval":
		if len(n.Args) == 1 {
			if k, ok := b.bindExpr(c, n.Args[0], p).(*Const); ok && k.lit == litString {
				return b.coerce(k, catalog.Interval, p, "INTERVAL literal")
			}
		}
		return b.unsupported(p, "this INTERVAL form")
	case "__etl_param":
		if len(n.Args) == 1 {
			if k, ok := b.bindExpr(c, n.Args[0], p).(*Const); ok && k.lit == litInt {
				return b.param(int(k.Value.(int64)), true, p)
			}
		}
		return b.unsupported(p, "this parameter form")
	case "__etl_extract":
		// EXTRACT(epoch FROM x) and the other fields MySQL's grammar lacks.
		return b.call(c, "extract", b.bindArgs(c, n.Args, p), p)
	case "__etl_nulls_first", "__etl_nulls_last":
		b.errorf(p, parser.CodeSyntax, "", "NULLS FIRST/LAST is only allowed in ORDER BY")
		return bad()
	case "tumble", "hop", "session":
		b.errorf(p, parser.CodeSyntax, "use it in GROUP BY and select window_start, window_end",
			"%s is a group window: it is only allowed in GROUP BY", strings.ToUpper(name))
		return bad()
	case ast.Concat:
		// TiDB parses a || b (PIPES_AS_CONCAT) as concat(a, b); the operator
		// form starts where its left operand does, the call at its name.
		// || is NULL when an operand is NULL, as in standard SQL; CONCAT
		// skips NULLs, as in PostgreSQL.
		if len(n.Args) == 2 && n.OriginTextPosition() == n.Args[0].OriginTextPosition() {
			args := b.bindArgs(c, n.Args, p)
			if args[0].Type().IsArray() || args[1].Type().IsArray() {
				return b.arrayConcat(args[0], args[1], p)
			}
			return b.call(c, "concat_strict", args, p)
		}
		return b.call(c, "concat", b.bindArgs(c, n.Args, p), p)
	case "locate":
		return b.call(c, "position", b.bindArgs(c, n.Args, p), p)
	case "strpos", "instr":
		args := b.bindArgs(c, n.Args, p)
		if len(args) == 2 {
			args[0], args[1] = args[1], args[0]
		}
		return b.call(c, "position", args, p)
	case "trim":
		// TiDB: trim(str [, remstr [, direction]]).
		args := b.bindArgs(c, n.Args, p)
		fn := "trim"
		if len(args) == 3 {
			if k, ok := args[2].(*Const); ok {
				switch k.Value {
				case "leading":
					fn = "ltrim"
				case "trailing":
					fn = "rtrim"
				}
			}
			args = args[:2]
		}
		if len(args) == 2 && (isBad(args[1]) || isNullLiteral(args[1])) {
			args = args[:1]
		}
		return b.call(c, fn, args, p)
	case "date_add", "date_sub", "adddate", "subdate":
		if len(n.Args) == 3 {
			if u, ok := n.Args[2].(*ast.TimeUnitExpr); ok {
				iv := b.unitInterval(c, n.Args[1], u, p)
				op := "add"
				if name == "date_sub" || name == "subdate" {
					op = "sub"
				}
				return b.call(c, op, []Expr{b.bindExpr(c, n.Args[0], p), iv}, p)
			}
		}
	}
	if e, ok := b.bindArrayFunc(c, name, n, p); ok {
		return e
	}
	if e, ok := b.bindPGMacro(c, n, name, p); ok {
		return e
	}
	f, ok := b.reg.Lookup(name)
	if !ok {
		b.errorf(p, parser.CodeUndefinedFunc, b.didYouMean(name, b.reg.Names()), "function %s does not exist", name)
		return bad()
	}
	switch f.Kind {
	case FuncAggregate:
		return b.bindAggregate(c, name, n.Args, false, nil, p)
	case FuncWindow:
		b.errorf(p, "42809", "add OVER (...)", "window function %s requires an OVER clause", name)
		return bad()
	}
	return b.callFunc(f, name, b.bindArgs(c, n.Args, p), p)
}

func (b *binder) bindArgs(c exprCtx, args []ast.ExprNode, p int) []Expr {
	out := make([]Expr, len(args))
	for i, a := range args {
		if a == nil {
			out[i] = bad()
			continue
		}
		if td, ok := a.(*ast.TrimDirectionExpr); ok {
			dir := map[ast.TrimDirectionType]string{ast.TrimLeading: "leading", ast.TrimTrailing: "trailing"}[td.Direction]
			if dir == "" {
				dir = "both"
			}
			out[i] = &Const{Value: dir, T: catalog.String}
			continue
		}
		out[i] = b.bindExpr(c, a, p)
	}
	return out
}

// unitInterval builds the interval of DATE_ADD(x, INTERVAL v UNIT).
func (b *binder) unitInterval(c exprCtx, v ast.ExprNode, u *ast.TimeUnitExpr, p int) Expr {
	e := b.bindExpr(c, v, p)
	k, ok := e.(*Const)
	if !ok || k.Value == nil {
		return b.unsupported(p, "INTERVAL with a non-constant value")
	}
	text := FormatValue(k.Value, k.T)
	if s, ok := k.Value.(string); ok {
		text = s
	}
	iv, err := parseInterval(text + " " + strings.ToLower(u.Unit.String()))
	if err != nil {
		b.errorf(p, "22007", literalHint(catalog.Interval), "%v", err)
		return bad()
	}
	return &Const{Value: iv, T: catalog.Interval}
}

// bindCast binds __etl_cast(x, 'T') and __etl_try_cast(x, 'T').
func (b *binder) bindCast(c exprCtx, n *ast.FuncCallExpr, try bool, p int) Expr {
	if len(n.Args) != 2 {
		return b.unsupported(p, "this CAST form")
	}
	arg := b.bindExpr(c, n.Args[0], p)
	var ts string
	tc, ok := b.bindExpr(c, n.Args[1], p).(*Const)
	if ok {
		ts, _ = tc.Value.(string)
	}
	if ts == "" {
		return b.unsupported(p, "a CAST to a computed type")
	}
	if e, ok := b.regCast(arg, strings.ToUpper(ts), p); ok {
		return e
	}
	t, err := catalog.ParseTypeString(ts)
	if err != nil {
		b.errorf(b.posOf(tc, p), parser.CodeUndefinedObject, "", "%v", err)
		return bad()
	}
	if isBad(arg) {
		return arg
	}
	// A literal converts at compile time, so a bad one is reported before
	// anything runs; a CAST to a length-limited string truncates, and
	// conversions convertConst leaves out (rounding to fewer decimals,
	// numbers to text, ...) are run-time casts of a constant.
	if k, ok := arg.(*Const); ok && (k.lit != litNone || k.Value == nil) && !(t.IsString() && t.Length > 0 && k.Value != nil) {
		v, err := convertConst(k.Value, k.T, t)
		if err == nil {
			return &Const{Value: v, T: t}
		}
		if !try && !errors.Is(err, errNotConstant) {
			code := literalCode(err, t)
			b.errorf(b.posOf(arg, p), code, literalHint(t), "%v", err)
			return bad()
		}
	}
	if p, ok := arg.(*Param); ok && p.T.Kind == catalog.KindNull {
		p.T = t
		return p
	}
	if arg.Type() == t {
		return arg
	}
	if !catalog.CanExplicitCast(arg.Type(), t) {
		b.errorf(p, parser.CodeDatatype, "", "cannot cast %s to %s", arg.Type(), t)
		return bad()
	}
	return &Cast{Arg: arg, T: t, Try: try}
}

// isStarArg reports whether an aggregate argument is TiDB's stand-in for
// COUNT(*): a literal with no position.
func isStarArg(args []ast.ExprNode) bool {
	if len(args) != 1 {
		return false
	}
	v, ok := args[0].(ast.ValueExpr)
	return ok && v.OriginTextPosition() == 0
}

// bindAggregate binds an aggregate call and registers it with the SELECT.
func (b *binder) bindAggregate(c exprCtx, name string, args []ast.ExprNode, distinct bool, order *ast.OrderByClause, p int) Expr {
	f, ok := b.reg.Lookup(name)
	if !ok || f.Kind != FuncAggregate {
		b.errorf(p, parser.CodeUndefinedFunc, b.didYouMean(name, b.reg.Names()), "aggregate function %s does not exist", name)
		return bad()
	}
	if c.inAgg {
		b.errorf(p, parser.CodeGrouping, "", "aggregate function calls cannot be nested")
		return bad()
	}
	if c.agg == nil {
		b.errorf(p, parser.CodeGrouping, "", "aggregate functions are not allowed in %s", c.clause)
		return bad()
	}
	if name == "count" && isStarArg(args) {
		args = nil
	}
	if name == "group_concat" && len(args) > 2 {
		args = []ast.ExprNode{args[0], args[len(args)-1]}
	}
	ac := c.with(func(x *exprCtx) { x.inAgg, x.win = true, nil })
	coerced, res, ok := b.resolveArgs(f, name, b.bindArgs(ac, args, p), p)
	if !ok {
		return bad()
	}
	call := &AggCall{Fn: f, Distinct: distinct, T: res.Result, Args: coerced}
	if order != nil {
		for _, it := range order.Items {
			call.OrderBy = append(call.OrderBy, b.bindSortKey(ac, it, p))
		}
	}
	return c.agg.add(call, p)
}

// bindSortKey binds an ORDER BY item, with the __etl_nulls_first/last
// lowering of NULLS FIRST/LAST.
func (b *binder) bindSortKey(c exprCtx, it *ast.ByItem, p int) SortKey {
	e, nulls := unwrapNulls(it.Expr)
	k := SortKey{Expr: b.bindExpr(c, e, p), Desc: it.Desc, NullsFirst: it.Desc}
	if nulls != 0 {
		k.NullsFirst = nulls > 0
	}
	return k
}

// unwrapNulls strips __etl_nulls_first/last: +1 first, -1 last, 0 default.
func unwrapNulls(e ast.ExprNode) (ast.ExprNode, int) {
	if f, ok := e.(*ast.FuncCallExpr); ok && len(f.Args) == 1 {
		switch f.FnName.L {
		case "__etl_nulls_first":
			return f.Args[0], 1
		case "__etl_nulls_last":
			return f.Args[0], -1
		}
	}
	return e, 0
}

// bindWindowFunc binds f(...) OVER (...).
func (b *binder) bindWindowFunc(c exprCtx, n *ast.WindowFuncExpr, p int) Expr {
	name := strings.ToLower(n.Name)
	if c.win == nil {
		b.errorf(p, "42P20", "", "window functions are not allowed in %s", c.clause)
		return bad()
	}
	f, ok := b.reg.Lookup(name)
	if !ok || f.Kind == FuncScalar {
		b.errorf(p, parser.CodeUndefinedFunc, b.didYouMean(name, b.reg.Names()), "window function %s does not exist", name)
		return bad()
	}
	args := n.Args
	if name == "count" && isStarArg(args) {
		args = nil
	}
	ac := c.with(func(x *exprCtx) { x.win = nil })
	coerced, res, ok := b.resolveArgs(f, name, b.bindArgs(ac, args, p), p)
	if !ok {
		return bad()
	}
	wf := &WindowFunc{Fn: f, Distinct: n.Distinct, T: res.Result, Args: coerced}
	spec := n.Spec
	if ref := spec.Name.L; ref == "" && spec.Ref.L != "" || (spec.OnlyAlias && ref != "") {
		if ref == "" {
			ref = spec.Ref.L
		}
		named, ok := c.win.named[ref]
		if !ok {
			b.errorf(p, "42704", "", "window %q does not exist", ref)
			return bad()
		}
		merged := *named
		if spec.OrderBy != nil {
			merged.OrderBy = spec.OrderBy
		}
		if spec.Frame != nil {
			merged.Frame = spec.Frame
		}
		spec = merged
	}
	if spec.PartitionBy != nil {
		for _, it := range spec.PartitionBy.Items {
			wf.PartitionBy = append(wf.PartitionBy, b.bindExpr(ac, it.Expr, p))
		}
	}
	if spec.OrderBy != nil {
		for _, it := range spec.OrderBy.Items {
			wf.OrderBy = append(wf.OrderBy, b.bindSortKey(ac, it, p))
		}
	}
	if fr := spec.Frame; fr != nil {
		wf.Frame = &Frame{Mode: FrameMode(map[ast.FrameType]FrameMode{ast.Rows: FrameRows, ast.Ranges: FrameRange, ast.Groups: FrameGroups}[fr.Type])}
		wf.Frame.Start = b.bindFrameBound(ac, fr.Extent.Start, p)
		wf.Frame.End = b.bindFrameBound(ac, fr.Extent.End, p)
	}
	c.win.funcs = append(c.win.funcs, wf)
	c.win.pos = append(c.win.pos, p)
	return &winRef{idx: len(c.win.funcs) - 1, fn: wf}
}

func (b *binder) bindFrameBound(c exprCtx, fb ast.FrameBound, p int) FrameBound {
	switch fb.Type {
	case ast.CurrentRow:
		return FrameBound{Kind: CurrentRow}
	case ast.Preceding:
		if fb.UnBounded {
			return FrameBound{Kind: UnboundedPreceding}
		}
		return FrameBound{Kind: Preceding, Offset: b.frameOffset(c, fb, p)}
	}
	if fb.UnBounded {
		return FrameBound{Kind: UnboundedFollowing}
	}
	return FrameBound{Kind: Following, Offset: b.frameOffset(c, fb, p)}
}

func (b *binder) frameOffset(c exprCtx, fb ast.FrameBound, p int) Expr {
	if fb.Unit != ast.TimeUnitInvalid {
		return b.unitInterval(c, fb.Expr, &ast.TimeUnitExpr{Unit: fb.Unit}, p)
	}
	return b.bindExpr(c, fb.Expr, p)
}

// bindSubquery binds a subquery used as an expression.
func (b *binder) bindSubquery(c exprCtx, sq *ast.SubqueryExpr, kind SubqueryKind, arg Expr, op string, not bool, p int) Expr {
	plan := b.bindQuery(c.frag, sq.Query, c.sc)
	b.nextSub++
	out := &Subquery{Kind: kind, Plan: plan, Arg: arg, Op: op, Not: not, ID: b.nextSub, T: catalog.Bool}
	out.Correlated = hasOuterRefs(plan, 0)
	cols := plan.Schema()
	if kind != SubExists && len(cols) == 0 {
		return bad() // a query without columns failed to bind: reported already
	}
	if kind != SubExists && len(cols) != 1 {
		b.errorf(p, parser.CodeSyntax, "", "subquery must return only one column, not %d", len(cols))
		return bad()
	}
	switch kind {
	case SubScalar:
		out.T = cols[0].Type
	case SubIn, SubAny, SubAll:
		if isBad(arg) {
			return bad()
		}
		ai := b.argInfo(arg)
		t, ok := commonLiteralAware(cols[0].Type, arg.Type(), ai.lit)
		if ai.lit == litString || ai.lit == litNull {
			t, ok = cols[0].Type, true // a literal is read as the column's type
		}
		if !ok {
			b.errorf(p, parser.CodeDatatype, "", "cannot compare %s with subquery column of type %s", arg.Type(), cols[0].Type)
			return bad()
		}
		out.Arg = b.coerce(arg, t, p, "operand")
		if cols[0].Type != t {
			ref := &ColRef{Index: 0, Name: cols[0].Name, T: cols[0].Type}
			col := cols[0]
			col.Type = t
			out.Plan = &Project{Input: plan, Exprs: []Expr{&Cast{Arg: ref, T: t, Implicit: true}}, Columns: []Column{col}}
		}
	}
	return out
}

// hasOuterRefs reports whether plan (at subquery nesting level) refers to
// a row outside it.
func hasOuterRefs(n Node, level int) bool {
	found := false
	var visit func(Node, int)
	visit = func(n Node, level int) {
		if found || n == nil {
			return
		}
		for _, e := range NodeExprs(n) {
			WalkExpr(e, func(x Expr) bool {
				switch x := x.(type) {
				case *OuterRef:
					if x.Depth > level {
						found = true
					}
				case *Subquery:
					visit(x.Plan, level+1)
				}
				return !found
			})
		}
		if _, ok := n.(*CTERef); ok {
			return // a CTE is bound in its own scope
		}
		for _, ch := range n.Children() {
			visit(ch, level)
		}
	}
	visit(n, level)
	return found
}
