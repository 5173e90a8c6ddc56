package expr

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file evaluates subqueries used as expressions. The plan runs
// through Env.Subqueries; an uncorrelated plan runs once per statement
// (cached in Env.Cache, or in the compiled expression), a correlated one
// once per distinct combination of the outer values it references. The
// result is summarised (row count, the scalar, the set of values, whether
// it has NULLs, minimum and maximum) and each row is answered from the
// summary with SQL's rules: a scalar subquery of more than one row is an
// error; x IN (...) is NULL when x is NULL or when no value matches and
// the subquery returned a NULL; ANY over no rows is FALSE, ALL over no rows
// is TRUE.

// subResult summarises a subquery's result.
type subResult struct {
	rows     int
	err      error // a scalar subquery with more than one row
	scalar   any
	keys     map[string]struct{}
	distinct int
	hasNull  bool
	min, max any
	colT     catalog.Type
}

// outerCol is an outer value a correlated plan reads: level 1 is the row
// of the expression's own input, k > 1 is Env.Outer[len-(k-1)].
type outerCol struct {
	level, index int
	t            catalog.Type
}

type subqueryNode struct {
	sq    *planner.Subquery
	arg   node
	op    cmpOp
	refs  []outerCol
	local *subResult
	cache map[string]*subResult
}

func (c *compiler) subquery(x *planner.Subquery) (node, error) {
	n := &subqueryNode{sq: x}
	switch x.Kind {
	case planner.SubIn, planner.SubAny, planner.SubAll:
		if x.Arg == nil {
			return nil, fmt.Errorf("subquery %d: %s without a left operand", x.ID, x.Kind)
		}
		arg, err := c.compile(x.Arg)
		if err != nil {
			return nil, err
		}
		n.arg = arg
		op := x.Op
		if x.Kind == planner.SubIn || op == "" {
			op = "eq"
		}
		o, ok := cmpOpOf(op)
		if !ok {
			return nil, fmt.Errorf("subquery %d: unknown comparison %q", x.ID, x.Op)
		}
		n.op = o
	}
	if x.Correlated {
		n.refs = outerRefsOf(x.Plan)
		n.cache = map[string]*subResult{}
	}
	return n, nil
}

// outerRefsOf collects the outer columns a plan reads, with their level
// relative to the expression that holds the subquery.
func outerRefsOf(plan planner.Node) []outerCol {
	seen := map[outerCol]bool{}
	var out []outerCol
	var visit func(n planner.Node, level int)
	visit = func(n planner.Node, level int) {
		if n == nil {
			return
		}
		for _, e := range planner.NodeExprs(n) {
			planner.WalkExpr(e, func(x planner.Expr) bool {
				switch x := x.(type) {
				case *planner.OuterRef:
					if k := x.Depth - level; k >= 1 {
						oc := outerCol{level: k, index: x.Index, t: x.T}
						if !seen[oc] {
							seen[oc] = true
							out = append(out, oc)
						}
					}
				case *planner.Subquery:
					visit(x.Plan, level+1)
				}
				return true
			})
		}
		for _, ch := range n.Children() {
			visit(ch, level)
		}
	}
	visit(plan, 0)
	return out
}

func (n *subqueryNode) typ() catalog.Type { return n.sq.T }
func (n *subqueryNode) mayFail() bool     { return true }

// run executes the plan for the given outer stack and summarises it.
func (n *subqueryNode) run(b *batch, outer []OuterRow) (*subResult, error) {
	if b.env.Subqueries == nil {
		return nil, errorf(CodeInternal, "subquery %d: no subquery runner in the environment", n.sq.ID)
	}
	rec, err := b.env.Subqueries.RunSubquery(b.ctx, n.sq.Plan, outer)
	if err != nil {
		return nil, fmt.Errorf("subquery %d: %w", n.sq.ID, err)
	}
	defer rec.Release()
	return summarize(n.sq, rec)
}

func summarize(sq *planner.Subquery, rec arrow.Record) (*subResult, error) {
	r := &subResult{rows: int(rec.NumRows())}
	if sq.Kind == planner.SubExists || r.rows == 0 {
		return r, nil
	}
	if rec.NumCols() < 1 {
		return nil, errorf(CodeInternal, "subquery %d returned no columns", sq.ID)
	}
	col := rec.Column(0)
	t, err := catalog.FromArrow(col.DataType())
	if err != nil {
		return nil, err
	}
	if d, ok := col.(*array.Dictionary); ok {
		col = decodeDictionary(memory.DefaultAllocator, d)
		defer col.Release()
	}
	r.colT = t
	if sq.Kind == planner.SubScalar {
		if r.rows > 1 {
			r.err = &Error{Code: CodeCardinality, Msg: "more than one row returned by a subquery used as an expression", Row: -1}
			return r, nil
		}
		r.scalar = scalarAt(col, 0, t)
		return r, nil
	}
	r.keys = map[string]struct{}{}
	var key []byte
	for i := 0; i < r.rows; i++ {
		if col.IsNull(i) {
			r.hasNull = true
			continue
		}
		key = appendKey(key[:0], col, i, t)
		if _, dup := r.keys[string(key)]; dup {
			continue
		}
		r.keys[string(key)] = struct{}{}
		r.distinct++
		v := scalarAt(col, i, t)
		if r.min == nil || cmpValues(v, r.min) < 0 {
			r.min = v
		}
		if r.max == nil || cmpValues(v, r.max) > 0 {
			r.max = v
		}
	}
	return r, nil
}

// cmpValues compares two non-NULL canonical values of one type.
func cmpValues(a, b any) int {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case int32:
		y := b.(int32)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		return fcmp(x, b.(float64))
	case decimal128.Num:
		return i128FromNum(x).cmp(i128FromNum(b.(decimal128.Num)))
	case string:
		return cmpStr(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case bool:
		return cmpBool(x, b.(bool))
	case arrow.MonthDayNanoInterval:
		return cmpInterval(x, b.(arrow.MonthDayNanoInterval))
	}
	panic(fmt.Sprintf("cmpValues: %T", a))
}

// test answers x op ANY/ALL (or IN) for one row; x is NULL when xNull.
// It returns the value and whether it is NULL.
func (r *subResult) test(kind planner.SubqueryKind, op cmpOp, xNull bool, key []byte, x func() any) (bool, bool) {
	all := kind == planner.SubAll
	if r.rows == 0 {
		return all, false
	}
	if xNull {
		return false, true
	}
	orNull := func(v bool) (bool, bool) {
		if r.hasNull && v == all {
			return false, true
		}
		return v, false
	}
	switch op {
	case opEq, opNe:
		_, found := r.keys[string(key)]
		switch {
		case op == opEq && !all: // IN
			if found {
				return true, false
			}
			return orNull(false)
		case op == opNe && all: // NOT IN
			if found {
				return false, false
			}
			return orNull(true)
		}
		if r.distinct == 0 {
			return false, true
		}
		// ne ANY: some value differs; eq ALL: every value equals.
		differs := r.distinct >= 2 || !found
		if op == opNe {
			if differs {
				return true, false
			}
			return orNull(false)
		}
		if differs {
			return false, false
		}
		return orNull(true)
	}
	if r.distinct == 0 {
		return false, true
	}
	// Ordering: x > ANY holds against the minimum, x > ALL against the maximum.
	var bound any
	switch {
	case (op == opGt || op == opGe) != all:
		bound = r.min
	default:
		bound = r.max
	}
	holds := op.holds(cmpValues(x(), bound))
	if all {
		if !holds {
			return false, false
		}
		return orNull(true)
	}
	if holds {
		return true, false
	}
	return orNull(false)
}

// result returns the summary for row i of b (running the plan if needed).
func (n *subqueryNode) result(b *batch, i int, key []byte) (*subResult, error) {
	if !n.sq.Correlated {
		if n.local != nil {
			return n.local, nil
		}
		if b.env.Cache != nil {
			if r, ok := b.env.Cache.get(n.sq); ok {
				n.local = r
				return r, nil
			}
		}
		r, err := n.run(b, nil)
		if err != nil {
			return nil, err
		}
		if b.env.Cache != nil {
			b.env.Cache.put(n.sq, r)
		}
		n.local = r
		return r, nil
	}
	if r, ok := n.cache[string(key)]; ok {
		return r, nil
	}
	outer := make([]OuterRow, len(b.env.Outer), len(b.env.Outer)+1)
	copy(outer, b.env.Outer)
	outer = append(outer, OuterRow{Rec: b.rec, Row: b.rootRow(i)})
	r, err := n.run(b, outer)
	if err != nil {
		return nil, rowError(err, i)
	}
	if len(n.cache) >= 100000 {
		n.cache = map[string]*subResult{}
	}
	n.cache[string(key)] = r
	return r, nil
}

// outerKey encodes the outer values row i of b supplies to the plan.
func (n *subqueryNode) outerKey(dst []byte, b *batch, i int) []byte {
	for _, ref := range n.refs {
		if ref.level == 1 {
			dst = appendKey(dst, b.col(ref.index), i, ref.t)
			continue
		}
		k := len(b.env.Outer) - (ref.level - 1)
		if k < 0 {
			continue
		}
		row := b.env.Outer[k]
		col := row.Rec.Column(ref.index)
		if d, ok := col.(*array.Dictionary); ok {
			dst = appendKey(dst, d.Dictionary(), d.GetValueIndex(row.Row), ref.t)
			continue
		}
		dst = appendKey(dst, col, row.Row, ref.t)
	}
	return dst
}

func (n *subqueryNode) eval(b *batch) (arrow.Array, error) {
	sq := n.sq
	if b.n == 0 {
		return nullArray(b.alloc, arrowType(sq.T), 0), nil
	}
	var x arrow.Array
	if n.arg != nil {
		var err error
		if x, err = b.eval(n.arg); err != nil {
			return nil, err
		}
		defer x.Release()
	}
	if !sq.Correlated && sq.Kind == planner.SubScalar {
		r, err := n.result(b, 0, nil)
		if err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, r.err
		}
		return constArray(r.scalar, sq.T, b.n), nil
	}
	var okey, xkey []byte
	vals := make([]any, b.n)
	for i := 0; i < b.n; i++ {
		if sq.Correlated {
			okey = n.outerKey(okey[:0], b, i)
		}
		r, err := n.result(b, i, okey)
		if err != nil {
			return nil, err
		}
		switch sq.Kind {
		case planner.SubScalar:
			if r.err != nil {
				return nil, rowError(r.err, i)
			}
			vals[i] = r.scalar
		case planner.SubExists:
			vals[i] = (r.rows > 0) != sq.Not
		default:
			xNull := x.IsNull(i)
			if !xNull {
				xkey = appendKey(xkey[:0], x, i, n.arg.typ())
			}
			v, null := r.test(sq.Kind, n.op, xNull, xkey, func() any { return scalarAt(x, i, n.arg.typ()) })
			if null {
				vals[i] = nil
			} else {
				vals[i] = v != (sq.Not && sq.Kind == planner.SubIn)
			}
		}
	}
	return buildArray(b, sq.T, vals), nil
}

// buildArray makes an array of canonical values (nil: NULL).
func buildArray(b *batch, t catalog.Type, vals []any) arrow.Array {
	n := len(vals)
	if t.Kind == catalog.KindNull {
		return array.NewNull(n)
	}
	srcs := make([]arrow.Array, 0, 4)
	which := make([]int32, n)
	rows := make([]int32, n)
	// One single-value array per distinct run of values is wasteful for
	// long results; build per value instead through a one-row array each,
	// gathered at the end. Values repeat a lot (cached summaries), so
	// reuse the last source while the value is the same.
	var last any
	lastSet := false
	for i, v := range vals {
		if v == nil {
			which[i] = -1
			continue
		}
		if !lastSet || !sameValue(v, last) {
			srcs = append(srcs, constArray(v, t, 1))
			last, lastSet = v, true
		}
		which[i] = int32(len(srcs) - 1)
	}
	out := gather(b.alloc, arrowType(t), srcs, which, rows)
	for _, s := range srcs {
		s.Release()
	}
	return out
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return a == b
}
