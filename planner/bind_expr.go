package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// aggRef stands for an aggregate call while a SELECT is bound; it is
// replaced by a column of the Aggregate's output.
type aggRef struct {
	idx  int
	call *AggCall
}

func (a *aggRef) Type() catalog.Type { return a.call.T }
func (a *aggRef) String() string     { return a.call.String() }

// winRef stands for a window function call until the Window node exists.
type winRef struct {
	idx int
	fn  *WindowFunc
}

func (w *winRef) Type() catalog.Type { return w.fn.T }
func (w *winRef) String() string     { return fmt.Sprintf("window#%d", w.idx) }

// aggState collects the aggregate calls of one SELECT.
type aggState struct {
	calls []*AggCall
	pos   []int
}

func (s *aggState) add(call *AggCall, pos int) *aggRef {
	key := call.String() + "|" + call.T.String()
	for i, c := range s.calls {
		if c.String()+"|"+c.T.String() == key {
			return &aggRef{idx: i, call: c}
		}
	}
	s.calls = append(s.calls, call)
	s.pos = append(s.pos, pos)
	return &aggRef{idx: len(s.calls) - 1, call: call}
}

// winState collects the window function calls of one SELECT.
type winState struct {
	funcs []*WindowFunc
	// pos are the positions of the calls of funcs.
	pos   []int
	named map[string]*ast.WindowSpec
}

// selectAlias is an output column name of the SELECT list, usable in GROUP
// BY and HAVING when no input column has the name.
type selectAlias struct {
	name string
	node ast.ExprNode
}

// exprCtx is where an expression is bound: its scope and what it may use.
type exprCtx struct {
	frag    *parser.Fragment
	sc      *scope
	agg     *aggState // nil: aggregates are not allowed here
	win     *winState // nil: window functions are not allowed here
	srf     *srfState // nil: set-returning functions are not allowed here
	clause  string
	aliases []selectAlias
	// inAgg is set while binding an aggregate's arguments.
	inAgg bool
}

func (c exprCtx) with(f func(*exprCtx)) exprCtx {
	f(&c)
	return c
}

// nodePos returns the script offset of an expression node, or def when the
// TiDB parser recorded none.
func (b *binder) nodePos(c exprCtx, n ast.Node, def int) int {
	if e, ok := n.(ast.ExprNode); ok && e.OriginTextPosition() > 0 {
		return c.frag.Orig(e.OriginTextPosition())
	}
	return def
}

// bad is the placeholder for an expression that failed to bind: a NULL that
// fits everywhere, so one mistake is reported once. It is not a bare NULL
// literal, which is a value like any other (NULL AND FALSE is FALSE).
func bad() Expr { return &Const{T: catalog.Null, lit: litBad} }

// isBad reports whether e is the placeholder of an expression that failed
// to bind.
func isBad(e Expr) bool {
	c, ok := e.(*Const)
	return ok && c.lit == litBad
}

// isNullLiteral reports whether e is a bare NULL as written, not yet
// given a type by its context.
func isNullLiteral(e Expr) bool {
	c, ok := e.(*Const)
	return ok && c.lit == litNull && c.T.Kind == catalog.KindNull
}

// bindExpr binds one TiDB expression. pos is the position to report when
// the node carries none.
func (b *binder) bindExpr(c exprCtx, n ast.ExprNode, pos int) Expr {
	p := b.nodePos(c, n, pos)
	e := b.bindExpr1(c, n, p)
	if e != nil {
		if _, seen := b.pos[e]; !seen {
			b.pos[e] = p
		}
	}
	return e
}

func (b *binder) posOf(e Expr, def int) int {
	if p, ok := b.pos[e]; ok {
		return p
	}
	return def
}

func (b *binder) bindExpr1(c exprCtx, n ast.ExprNode, p int) Expr {
	switch n := n.(type) {
	case *ast.ParenthesesExpr:
		return b.bindExpr(c, n.Expr, p)
	case *driver.ParamMarkerExpr:
		b.nextParam++
		return b.param(b.nextParam, false, p)
	case ast.ValueExpr:
		return b.bindValue(n, p)
	case *ast.ColumnNameExpr:
		return b.bindColumn(c, n.Name, p)
	case *ast.BinaryOperationExpr:
		return b.bindBinary(c, n, p)
	case *ast.UnaryOperationExpr:
		arg := b.bindExpr(c, n.V, p)
		switch n.Op {
		case opcode.Minus:
			if k, ok := arg.(*Const); ok && k.lit == litInt {
				return &Const{Value: -k.Value.(int64), T: k.T, lit: litInt}
			}
			if k, ok := arg.(*Const); ok && k.Value != nil && k.T.Kind == catalog.KindDecimal {
				return &Const{Value: k.Value.(decimal128.Num).Negate(), T: k.T}
			}
			return b.call(c, "neg", []Expr{arg}, p)
		case opcode.Plus:
			return arg
		case opcode.Not, opcode.Not2:
			return b.call(c, "not", []Expr{arg}, p)
		}
		return b.unsupported(p, "operator %s", n.Op)
	case *ast.IsNullExpr:
		fn := "is_null"
		if n.Not {
			fn = "is_not_null"
		}
		return b.call(c, fn, []Expr{b.bindExpr(c, n.Expr, p)}, p)
	case *ast.IsTruthExpr:
		fn := "is_true"
		if n.True == 0 {
			fn = "is_false"
		}
		if n.Not {
			fn = strings.Replace(fn, "is_", "is_not_", 1)
		}
		return b.call(c, fn, []Expr{b.bindExpr(c, n.Expr, p)}, p)
	case *ast.BetweenExpr:
		x := b.bindExpr(c, n.Expr, p)
		lo := b.bindExpr(c, n.Left, p)
		hi := b.bindExpr(c, n.Right, p)
		if n.Not {
			return b.call(c, "or", []Expr{b.call(c, "lt", []Expr{x, lo}, p), b.call(c, "gt", []Expr{x, hi}, p)}, p)
		}
		return b.call(c, "and", []Expr{b.call(c, "ge", []Expr{x, lo}, p), b.call(c, "le", []Expr{x, hi}, p)}, p)
	case *ast.PatternLikeOrIlikeExpr:
		fn := "like"
		if !n.IsLike {
			fn = "ilike"
		}
		if n.Not {
			fn = "not_" + fn
		}
		args := []Expr{b.bindExpr(c, n.Expr, p), b.bindExpr(c, n.Pattern, p)}
		if n.EscapeExplicit {
			args = append(args, &Const{Value: string(n.Escape), T: catalog.String})
		}
		return b.call(c, fn, args, p)
	case *ast.PatternRegexpExpr:
		fn := "regexp"
		if n.Not {
			fn = "not_regexp"
		}
		return b.call(c, fn, []Expr{b.bindExpr(c, n.Expr, p), b.bindExpr(c, n.Pattern, p)}, p)
	case *ast.PatternInExpr:
		return b.bindIn(c, n, p)
	case *ast.CaseExpr:
		return b.bindCase(c, n, p)
	case *ast.SubqueryExpr:
		return b.bindSubquery(c, n, SubScalar, nil, "", false, p)
	case *ast.ExistsSubqueryExpr:
		sq, ok := n.Sel.(*ast.SubqueryExpr)
		if !ok {
			return b.unsupported(p, "EXISTS over %T", n.Sel)
		}
		return b.bindSubquery(c, sq, SubExists, nil, "", n.Not, p)
	case *ast.CompareSubqueryExpr:
		sq, ok := n.R.(*ast.SubqueryExpr)
		if !ok {
			return b.unsupported(p, "ANY/ALL over %T", n.R)
		}
		op, ok := compareOps[n.Op]
		if !ok {
			return b.unsupported(p, "operator %s with ANY/ALL", n.Op)
		}
		kind := SubAny
		if n.All {
			kind = SubAll
		}
		return b.bindSubquery(c, sq, kind, b.bindExpr(c, n.L, p), op, false, p)
	case *ast.FuncCallExpr:
		return b.bindFuncCall(c, n, p)
	case *ast.AggregateFuncExpr:
		return b.bindAggregate(c, strings.ToLower(n.F), n.Args, n.Distinct, n.Order, p)
	case *ast.WindowFuncExpr:
		return b.bindWindowFunc(c, n, p)
	case *ast.RowExpr:
		b.errorf(p, parser.CodeFeature, "", "a row value (a, b, ...) is only supported in = and <> comparisons and IN lists")
		return bad()
	case *ast.TimeUnitExpr:
		return &Const{Value: strings.ToLower(n.Unit.String()), T: catalog.String}
	case *ast.FuncCastExpr:
		return b.unsupported(p, "this CAST form (%s)", n.Tp)
	case *ast.VariableExpr:
		return b.unsupported(p, "a session variable (@%s)", n.Name)
	case *ast.DefaultExpr:
		return b.unsupported(p, "DEFAULT as a value")
	case *ast.MatchAgainst:
		return b.unsupported(p, "MATCH ... AGAINST")
	case *ast.ValuesExpr:
		return b.unsupported(p, "VALUES() as a function")
	}
	return b.unsupported(p, "expression %T", n)
}

var compareOps = map[opcode.Op]string{
	opcode.EQ: "eq", opcode.NE: "ne", opcode.LT: "lt", opcode.LE: "le", opcode.GT: "gt", opcode.GE: "ge",
}

var binaryOps = map[opcode.Op]string{
	opcode.LogicAnd: "and", opcode.LogicOr: "or",
	opcode.Plus: "add", opcode.Minus: "sub", opcode.Mul: "mul", opcode.Div: "div",
	opcode.IntDiv: "intdiv", opcode.Mod: "mod", opcode.NullEQ: "is_not_distinct_from",
	opcode.And: "bitand", opcode.Or: "bitor", opcode.Xor: "power", // ^ is PostgreSQL's exponentiation
}

func (b *binder) unsupported(pos int, format string, args ...any) Expr {
	b.errorf(pos, parser.CodeFeature, "", "%s is not supported", fmt.Sprintf(format, args...))
	return bad()
}

func (b *binder) bindBinary(c exprCtx, n *ast.BinaryOperationExpr, p int) Expr {
	if op, ok := compareOps[n.Op]; ok {
		lr, lok := n.L.(*ast.RowExpr)
		rr, rok := n.R.(*ast.RowExpr)
		if lok || rok {
			return b.bindRowCompare(c, op, lr, rr, p)
		}
		return b.call(c, op, []Expr{b.bindExpr(c, n.L, p), b.bindExpr(c, n.R, p)}, p)
	}
	fn, ok := binaryOps[n.Op]
	if !ok {
		return b.unsupported(p, "operator %s", n.Op)
	}
	l, r := b.bindExpr(c, n.L, p), b.bindExpr(c, n.R, p)
	switch fn {
	case "add", "sub", "mul", "div", "intdiv", "mod":
		// An untyped parameter takes the type of the number on the other
		// side, as PostgreSQL types an unknown operand: amount + $1 with
		// amount DECIMAL(12,2) makes $1 DECIMAL(12,2), not BIGINT.
		typeParamLike(l, r)
		typeParamLike(r, l)
	}
	return b.call(c, fn, []Expr{l, r}, p)
}

// typeParamLike gives the untyped parameter e the type of other when
// other is a typed number.
func typeParamLike(e, other Expr) {
	pr, ok := e.(*Param)
	if !ok || pr.T.Kind != catalog.KindNull || isBad(other) {
		return
	}
	if _, isParam := other.(*Param); isParam {
		return
	}
	if k, ok := other.(*Const); ok && k.lit != litNone {
		return // a literal's type is not settled either: 1 + $1 stays BIGINT
	}
	if t := other.Type(); t.IsNumeric() {
		pr.T = t
	}
}

func (b *binder) bindRowCompare(c exprCtx, op string, l, r *ast.RowExpr, p int) Expr {
	if l == nil || r == nil || len(l.Values) != len(r.Values) || (op != "eq" && op != "ne") {
		b.errorf(p, parser.CodeFeature, "", "row values can only be compared with = or <> to rows of the same length")
		return bad()
	}
	var out Expr
	for i := range l.Values {
		e := b.call(c, op, []Expr{b.bindExpr(c, l.Values[i], p), b.bindExpr(c, r.Values[i], p)}, p)
		if out == nil {
			out = e
		} else if op == "eq" {
			out = b.call(c, "and", []Expr{out, e}, p)
		} else {
			out = b.call(c, "or", []Expr{out, e}, p)
		}
	}
	return out
}

// bindValue turns a TiDB literal into a Const.
func (b *binder) bindValue(n ast.ValueExpr, p int) Expr {
	v := n.GetValue()
	switch x := v.(type) {
	case nil:
		return &Const{T: catalog.Null, lit: litNull}
	case int64:
		if n.GetType().GetFlag()&mysql.IsBooleanFlag != 0 {
			return &Const{Value: x != 0, T: catalog.Bool}
		}
		t := catalog.Int64
		if x >= -1<<31 && x < 1<<31 {
			t = catalog.Int32
		}
		return &Const{Value: x, T: t, lit: litInt}
	case uint64:
		if x <= 1<<63-1 {
			return &Const{Value: int64(x), T: catalog.Int64, lit: litInt}
		}
		n, t, err := parseDecimalLiteral(strconv.FormatUint(x, 10))
		if err != nil {
			b.errorf(p, "22003", "", "%v", err)
			return bad()
		}
		return &Const{Value: n, T: t}
	case float64:
		return &Const{Value: x, T: catalog.Float64}
	case float32:
		return &Const{Value: float64(x), T: catalog.Float64}
	case string:
		return &Const{Value: x, T: catalog.String, lit: litString}
	case []byte:
		return &Const{Value: x, T: catalog.Binary}
	case fmt.Stringer:
		if d, ok := x.(*driver.MyDecimal); ok {
			num, t, err := parseDecimalLiteral(d.String())
			if err != nil {
				b.errorf(p, "22003", "", "%v", err)
				return bad()
			}
			return &Const{Value: num, T: t}
		}
		if bl, ok := x.(driver.BinaryLiteral); ok {
			return &Const{Value: []byte(bl), T: catalog.Binary}
		}
	}
	if bl, ok := v.(driver.BinaryLiteral); ok {
		return &Const{Value: []byte(bl), T: catalog.Binary}
	}
	b.errorf(p, parser.CodeFeature, "", "literal of Go type %T is not supported", v)
	return bad()
}

// bindColumn resolves a column name in the scope chain.
func (b *binder) bindColumn(c exprCtx, cn *ast.ColumnName, p int) Expr {
	// A schema-qualified reference (etl.pipelines.name) is matched by its
	// relation name: relations are qualified by their alias or bare name.
	qual, name := cn.Table.L, cn.Name.O
	depth := 0
	for sc := c.sc; sc != nil; sc = sc.outer {
		idx, res := sc.find(qual, name)
		switch res {
		case ambiguous:
			b.errorf(p, parser.CodeAmbiguousColumn, "qualify it with the relation name, e.g. "+ambiguityHint(sc, name),
				"column reference %q is ambiguous", displayName(qual, name))
			return bad()
		case found:
			col := sc.cols[idx]
			if depth == 0 {
				return &ColRef{Index: idx, Name: col.name, T: col.t}
			}
			for s := c.sc; s != sc; s = s.outer {
				s.corr = true
			}
			return &OuterRef{Depth: depth, Index: idx, Name: col.name, T: col.t}
		}
		depth++
	}
	// An output column name of the SELECT list (GROUP BY, HAVING).
	if qual == "" {
		for _, a := range c.aliases {
			if a.name == name {
				return b.bindExpr(c.with(func(x *exprCtx) { x.aliases = nil }), a.node, p)
			}
		}
	}
	// SQL's niladic functions PostgreSQL takes without parentheses
	// (session_user, current_schema, current_catalog, user).
	if qual == "" {
		switch cn.Name.L {
		case "session_user", "current_schema", "current_catalog", "user", "current_role", "current_user":
			if e, ok := b.bindPGMacro(c, &ast.FuncCallExpr{FnName: cn.Name}, cn.Name.L, p); ok {
				return e
			}
		}
	}
	for sc := c.sc; sc != nil; sc = sc.outer {
		if sc.broken {
			return bad()
		}
	}
	if qual != "" && !c.sc.hasQualifier(qual) {
		b.errorf(p, parser.CodeUndefinedTable, b.didYouMean(qual, b.qualifiers(c.sc)),
			"missing FROM-clause entry for table %q", qual)
		return bad()
	}
	cands := c.sc.candidates(qual)
	for _, a := range c.aliases {
		cands = append(cands, a.name)
	}
	b.errorf(p, parser.CodeUndefinedColumn, b.didYouMean(name, cands), "column %q does not exist", displayName(qual, name))
	return bad()
}

func displayName(qual, name string) string {
	if qual != "" {
		return qual + "." + name
	}
	return name
}

func ambiguityHint(sc *scope, name string) string {
	var quals []string
	for _, c := range sc.cols {
		if c.name == name && c.qual != "" && !c.hidden {
			quals = append(quals, c.qual+"."+c.name)
		}
	}
	return strings.Join(quals, " or ")
}

func (b *binder) qualifiers(sc *scope) []string {
	var out []string
	for s := sc; s != nil; s = s.outer {
		for _, c := range s.cols {
			if c.qual != "" {
				out = append(out, c.qual)
			}
		}
	}
	return out
}

func (b *binder) didYouMean(name string, candidates []string) string {
	if m := parser.ClosestName(name, candidates); m != "" {
		return "did you mean " + catalog.QuoteIdent(m) + "?"
	}
	return ""
}

func (b *binder) bindIn(c exprCtx, n *ast.PatternInExpr, p int) Expr {
	_, isRow := n.Expr.(*ast.RowExpr)
	var x Expr
	if !isRow {
		x = b.bindExpr(c, n.Expr, p)
	}
	if n.Sel != nil {
		if isRow {
			return b.unsupported(p, "a row value IN (subquery)")
		}
		sq, ok := n.Sel.(*ast.SubqueryExpr)
		if !ok {
			return b.unsupported(p, "IN over %T", n.Sel)
		}
		return b.bindSubquery(c, sq, SubIn, x, "eq", n.Not, p)
	}
	if isRow {
		// (a, b) IN ((1, 2), (3, 4)): an OR of row comparisons.
		var out Expr
		for _, item := range n.List {
			r, ok := item.(*ast.RowExpr)
			if !ok {
				b.errorf(b.nodePos(c, item, p), parser.CodeDatatype, "", "IN list item must be a row like the left side")
				return bad()
			}
			e := b.bindRowCompare(c, "eq", n.Expr.(*ast.RowExpr), r, p)
			if out == nil {
				out = e
			} else {
				out = b.call(c, "or", []Expr{out, e}, p)
			}
		}
		if n.Not {
			out = b.call(c, "not", []Expr{out}, p)
		}
		return out
	}
	args := []Expr{x}
	for _, item := range n.List {
		args = append(args, b.bindExpr(c, item, p))
	}
	e := b.call(c, "in_list", args, p)
	if n.Not {
		return b.call(c, "not", []Expr{e}, p)
	}
	return e
}

func (b *binder) bindCase(c exprCtx, n *ast.CaseExpr, p int) Expr {
	var subject Expr
	if n.Value != nil {
		subject = b.bindExpr(c, n.Value, p)
	}
	var conds, results []Expr
	for _, w := range n.WhenClauses {
		cp := b.nodePos(c, w.Expr, p)
		cond := b.bindExpr(c, w.Expr, p)
		if subject != nil {
			cond = b.call(c, "eq", []Expr{subject, cond}, cp)
		} else {
			cond = b.coerce(cond, catalog.Bool, cp, "CASE WHEN condition")
		}
		conds = append(conds, cond)
		results = append(results, b.bindExpr(c, w.Result, p))
	}
	var els Expr
	if n.ElseClause != nil {
		els = b.bindExpr(c, n.ElseClause, p)
	}
	all := append([]Expr{}, results...)
	if els != nil {
		all = append(all, els)
	}
	t, ok := b.unify(all, p, "CASE")
	if !ok {
		return bad()
	}
	out := &Case{T: t}
	for i := range conds {
		out.Whens = append(out.Whens, When{Cond: conds[i], Result: b.coerce(results[i], t, b.posOf(results[i], p), "CASE result")})
	}
	if els != nil {
		out.Else = b.coerce(els, t, b.posOf(els, p), "CASE ELSE")
	}
	return out
}

// unify finds the common type of values that must share one (CASE branches,
// UNION columns, VALUES rows); literals adapt to the others.
func (b *binder) unify(es []Expr, p int, what string) (catalog.Type, bool) {
	args := make([]argInfo, len(es))
	for i, e := range es {
		args[i] = b.argInfo(e)
	}
	var t catalog.Type
	have := false
	for pass := 0; pass < 2 && !have; pass++ {
		for i, a := range args {
			if pass == 0 && a.lit != litNone {
				continue
			}
			if !have {
				t, have = a.T, true
				continue
			}
			nt, ok := commonLiteralAware(t, a.T, a.lit)
			if !ok {
				b.errorf(b.posOf(es[i], p), parser.CodeDatatype, "", "%s types %s and %s cannot be matched", what, t, a.T)
				return t, false
			}
			t = nt
		}
	}
	if t.Kind == catalog.KindNull && allStringLits(args) {
		t = catalog.String
	}
	return t, true
}

func allStringLits(args []argInfo) bool {
	for _, a := range args {
		if a.lit == litString {
			return true
		}
	}
	return false
}

func (b *binder) argInfo(e Expr) argInfo {
	switch x := e.(type) {
	case *Const:
		if x.lit == litInt {
			return argInfo{T: x.T, lit: litInt, digits: intDigits(x.Value.(int64))}
		}
		return argInfo{T: x.T, lit: x.lit}
	case *Param:
		if x.T.Kind == catalog.KindNull {
			return argInfo{T: x.T, lit: litNull}
		}
	}
	return argInfo{T: e.Type()}
}

// coerce converts e to type t: literals and untyped parameters at compile
// time, anything else with an implicit Cast. what names the place for the
// error message.
func (b *binder) coerce(e Expr, t catalog.Type, p int, what string) Expr {
	if e.Type() == t || isBad(e) {
		return e
	}
	switch x := e.(type) {
	case *Const:
		if x.lit == litNone && x.Value != nil {
			// A typed constant (0.06, DATE '...') converts at compile time
			// when it can do so exactly; otherwise it is cast at run time.
			if _, ok := implicitCost(x.T, t); ok {
				if v, err := convertConst(x.Value, x.T, t); err == nil {
					out := &Const{Value: v, T: t}
					b.pos[out] = b.posOf(e, p)
					return out
				}
			}
			break
		}
		{
			v, err := convertConst(x.Value, x.T, t)
			if err != nil {
				code := literalCode(err, t)
				b.errorf(b.posOf(e, p), code, literalHint(t), "%v", err)
				return bad()
			}
			out := &Const{Value: v, T: t}
			b.pos[out] = b.posOf(e, p)
			return out
		}
	case *Param:
		if x.T.Kind == catalog.KindNull {
			x.T = t
			return x
		}
	}
	if _, ok := implicitCost(e.Type(), t); !ok && !canAssign(e.Type(), t) {
		b.errorf(b.posOf(e, p), parser.CodeDatatype, "", "%s must be %s, not %s", what, t, e.Type())
		return bad()
	}
	out := &Cast{Arg: e, T: t, Implicit: true}
	b.pos[out] = b.posOf(e, p)
	return out
}

// call resolves a scalar function or operator by name over bound arguments
// and returns the typed Call with its arguments converted.
func (b *binder) call(c exprCtx, name string, args []Expr, p int) Expr {
	f, ok := b.reg.Lookup(name)
	if !ok {
		b.errorf(p, parser.CodeUndefinedFunc, b.didYouMean(name, b.reg.Names()), "function %s does not exist", name)
		return bad()
	}
	return b.callFunc(f, name, args, p)
}

// resolveArgs picks the signature of f for the bound args (written is the
// name the query used, for the message) and returns the args converted to
// its parameter types; ok is false when an argument is bad or no signature
// fits (reported).
func (b *binder) resolveArgs(f *Func, written string, args []Expr, p int) (coerced []Expr, res *Resolution, ok bool) {
	infos := make([]argInfo, len(args))
	for i, a := range args {
		if isBad(a) {
			return nil, nil, false
		}
		infos[i] = b.argInfo(a)
	}
	res, err := b.reg.resolve(f, infos)
	if err != nil {
		b.noSignature(f, written, args, p)
		return nil, nil, false
	}
	for i, a := range args {
		coerced = append(coerced, b.coerce(a, res.Params[i], p, "argument"))
	}
	return coerced, res, true
}

func (b *binder) callFunc(f *Func, written string, args []Expr, p int) Expr {
	coerced, res, ok := b.resolveArgs(f, written, args, p)
	if !ok {
		return bad()
	}
	out := &Call{Fn: f, Name: f.Name, T: res.Result, Args: coerced}
	for _, a := range out.Args {
		if isBad(a) {
			return bad()
		}
	}
	// round(x, d) and trunc(x, d) of a DECIMAL have d decimals when d is a
	// constant (none when d is left out or negative), as in PostgreSQL:
	// round(2.345, 2) is 2.35 and round(2.5) is 3.
	if (f.Name == "round" || f.Name == "trunc") && out.T.Kind == catalog.KindDecimal && len(out.Args) > 0 {
		a := out.Args[0].Type()
		d, ok := int64(0), len(out.Args) == 1
		if len(out.Args) == 2 {
			if k, isConst := out.Args[1].(*Const); isConst && k.Value != nil {
				d, ok = k.Value.(int64)
			}
		}
		if ok && a.Kind == catalog.KindDecimal {
			scale := int(min(max(d, 0), catalog.MaxDecimalPrecision))
			out.T = boundedDecimal(a.Precision-a.Scale+1+scale, scale)
		}
	}
	// extract of the seconds (with their fraction) and of the epoch is a
	// DECIMAL, as in PostgreSQL: EXTRACT(SECOND FROM '10:11:12.5') is 12.5.
	if f.Name == "extract" && len(out.Args) == 2 {
		if k, ok := out.Args[0].(*Const); ok {
			if t, ok := extractDecimalType(k.Value, out.Args[1].Type()); ok {
				out.T = t
			}
		}
	}
	// DATE +/- a constant interval of whole days and months stays a DATE.
	if res.Sig.Result == "date_interval" {
		for _, a := range out.Args {
			if k, ok := a.(*Const); ok && k.T.Kind == catalog.KindInterval && k.Value != nil &&
				k.Value.(arrow.MonthDayNanoInterval).Nanoseconds == 0 {
				out.T = catalog.Date
			}
		}
	}
	return out
}

// extractDecimalType is the DECIMAL type of extract(field, x) for the
// fields that have a fraction of a second: second and millisecond (of the
// minute), and epoch (of a value with a time of day).
func extractDecimalType(field any, x catalog.Type) (catalog.Type, bool) {
	if x.Kind != catalog.KindTimestamp && x.Kind != catalog.KindTimestampTZ && x.Kind != catalog.KindTime {
		return catalog.Type{}, false
	}
	f, _ := field.(string)
	switch strings.ToLower(strings.TrimSpace(f)) {
	case "second", "seconds":
		return catalog.Decimal(8, 6), true
	case "millisecond", "milliseconds":
		return catalog.Decimal(8, 3), true
	case "epoch":
		return catalog.Decimal(18, 6), true
	}
	return catalog.Type{}, false
}

// noSignature reports a call no signature accepts, at the argument that
// does not fit when that is clear, at the call otherwise.
func (b *binder) noSignature(f *Func, written string, args []Expr, p int) {
	types := make([]string, len(args))
	for i, a := range args {
		types[i] = a.Type().String()
	}
	var sigs []string
	arityOK := false
	for _, s := range f.Sigs {
		sigs = append(sigs, f.Name+"("+strings.TrimSpace(strings.Split(s.text, "->")[0])+")")
		n := len(s.Params)
		if n == len(args) || (s.Variadic && len(args) >= n-1) {
			arityOK = true
		}
	}
	hint := "candidates: " + strings.Join(sigs, ", ")
	if !arityOK {
		b.errorf(p, parser.CodeUndefinedFunc, hint, "function %s does not take %d argument%s", written, len(args), pluralS(len(args)))
		return
	}
	if aop, ok := arithOps[f.Name]; ok && len(args) == 2 {
		if _, err := catalog.ArithmeticType(aop, args[0].Type(), args[1].Type()); err != nil {
			var te *catalog.TypeError
			if asTypeError(err, &te) {
				b.errorf(p, parser.CodeDatatype, te.Hint, "%s", te.Message)
				return
			}
		}
	}
	if op, ok := infixOps[f.Name]; ok && len(args) == 2 {
		switch f.Name {
		case "eq", "ne", "lt", "le", "gt", "ge", "is_distinct_from", "is_not_distinct_from":
			b.errorf(b.posOf(args[1], p), parser.CodeDatatype, "", "cannot compare %s with %s", types[0], types[1])
		default:
			b.errorf(p, parser.CodeDatatype, hint, "operator does not exist: %s %s %s", types[0], op, types[1])
		}
		return
	}
	if f.Name == "in_list" {
		for i := 1; i < len(args); i++ {
			if _, ok := commonLiteralAware(args[0].Type(), args[i].Type(), b.argInfo(args[i]).lit); !ok {
				b.errorf(b.posOf(args[i], p), parser.CodeDatatype, "", "IN list item of type %s does not match %s", types[i], types[0])
				return
			}
		}
	}
	if len(args) == 1 {
		b.errorf(b.posOf(args[0], p), parser.CodeDatatype, hint, "function %s does not accept %s", written, types[0])
		return
	}
	b.errorf(p, parser.CodeDatatype, hint, "function %s(%s) does not exist", written, strings.Join(types, ", "))
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
