package expr

import (
	"bytes"
	"cmp"
	"fmt"
	"math/big"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the comparison operators = <> < <= > >= and IS [NOT]
// DISTINCT FROM over every type: integers, dates and times as machine
// integers, floats with NaN equal to itself and above every number (as in
// PostgreSQL), DECIMAL as 128-bit integers at one scale, strings and binary
// byte-wise, booleans with FALSE < TRUE, intervals by their length with a
// month of 30 days. Operands of different types are first converted to
// their common type.

// cmpOp is a comparison operator.
type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

func cmpOpOf(name string) (cmpOp, bool) {
	switch name {
	case "eq":
		return opEq, true
	case "ne":
		return opNe, true
	case "lt":
		return opLt, true
	case "le":
		return opLe, true
	case "gt":
		return opGt, true
	case "ge":
		return opGe, true
	}
	return 0, false
}

// swap is the operator with its operands exchanged (a < b is b > a).
func (o cmpOp) swap() cmpOp {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

// holds applies the operator to a three-way comparison result.
func (o cmpOp) holds(c int) bool {
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

func (o cmpOp) String() string { return [...]string{"=", "<>", "<", "<=", ">", ">="}[o] }

// side is one operand of a comparison: an array, or a non-NULL constant.
type side struct {
	arr arrow.Array
	val any
}

// sideOf is the operand for argument array a (nil: the constant of n).
func sideOf(a arrow.Array, n node) side {
	if a == nil {
		return side{val: n.(*constNode).val}
	}
	return side{arr: a}
}

func sideView[T any](s side, conv func(any) T) view[T] {
	if s.arr == nil {
		return scalarView(conv(s.val))
	}
	return colView[T](s.arr)
}

func asInt8(v any) int8   { return int8(v.(int64)) }
func asInt16(v any) int16 { return int16(v.(int64)) }
func asInt32(v any) int32 {
	if d, ok := v.(int32); ok {
		return d
	}
	return int32(v.(int64))
}
func asInt64(v any) int64     { return v.(int64) }
func asFloat32(v any) float32 { return float32(v.(float64)) }
func asFloat64(v any) float64 { return v.(float64) }
func asI128(v any) i128       { return toI128(v) }
func asInterval(v any) arrow.MonthDayNanoInterval {
	return v.(arrow.MonthDayNanoInterval)
}

// compareInto evaluates x op y for every row into res (rows where an
// operand is NULL get an unspecified value).
func compareInto(op cmpOp, t catalog.Type, x, y side, res []bool) {
	switch t.Kind {
	case catalog.KindInt8:
		cmpOrdered(op, sideView(x, asInt8), sideView(y, asInt8), res)
	case catalog.KindInt16:
		cmpOrdered(op, sideView(x, asInt16), sideView(y, asInt16), res)
	case catalog.KindInt32, catalog.KindDate:
		cmpOrdered(op, sideView(x, asInt32), sideView(y, asInt32), res)
	case catalog.KindInt64, catalog.KindTime, catalog.KindTimestamp, catalog.KindTimestampTZ:
		cmpOrdered(op, sideView(x, asInt64), sideView(y, asInt64), res)
	case catalog.KindFloat32:
		cmpFloat(op, sideView(x, asFloat32), sideView(y, asFloat32), res)
	case catalog.KindFloat64:
		cmpFloat(op, sideView(x, asFloat64), sideView(y, asFloat64), res)
	case catalog.KindDecimal:
		cmpDecimal(op, sideView(x, asI128), sideView(y, asI128), res)
	case catalog.KindString, catalog.KindJSON:
		cmpStrings(op, x, y, res)
	case catalog.KindBinary:
		get := func(s side) func(int) []byte {
			if s.arr == nil {
				v := s.val.([]byte)
				return func(int) []byte { return v }
			}
			b := s.arr.(*array.Binary)
			return b.Value
		}
		a, b := get(x), get(y)
		for i := range res {
			res[i] = op.holds(bytes.Compare(a(i), b(i)))
		}
	case catalog.KindBool:
		get := func(s side) func(int) bool {
			if s.arr == nil {
				v := s.val.(bool)
				return func(int) bool { return v }
			}
			return s.arr.(*array.Boolean).Value
		}
		a, b := get(x), get(y)
		for i := range res {
			res[i] = op.holds(cmpBool(a(i), b(i)))
		}
	case catalog.KindInterval:
		a, b := sideView(x, asInterval), sideView(y, asInterval)
		for i := range res {
			res[i] = op.holds(cmpInterval(a.at(i), b.at(i)))
		}
	default:
		panic(fmt.Sprintf("compare: unsupported type %s", t))
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// intervalKey is an interval's length in nanoseconds with 30-day months.
func intervalKey(v arrow.MonthDayNanoInterval) i128 {
	m, _ := i128From64(int64(v.Months) * 30).add(i128From64(int64(v.Days)))
	days := m.big()
	days.Mul(days, big.NewInt(nanosPerDay))
	days.Add(days, big.NewInt(v.Nanoseconds))
	r, _ := i128FromBig(days)
	return r
}

func cmpInterval(a, b arrow.MonthDayNanoInterval) int {
	if a == b {
		return 0
	}
	return intervalKey(a).cmp(intervalKey(b))
}

func cmpOrdered[T cmp.Ordered](op cmpOp, x, y view[T], res []bool) {
	n := len(res)
	switch {
	case x.m == -1 && y.m == -1:
		a, b := x.v[:n], y.v[:n]
		switch op {
		case opEq:
			for i := range res {
				res[i] = a[i] == b[i]
			}
		case opNe:
			for i := range res {
				res[i] = a[i] != b[i]
			}
		case opLt:
			for i := range res {
				res[i] = a[i] < b[i]
			}
		case opLe:
			for i := range res {
				res[i] = a[i] <= b[i]
			}
		case opGt:
			for i := range res {
				res[i] = a[i] > b[i]
			}
		case opGe:
			for i := range res {
				res[i] = a[i] >= b[i]
			}
		}
	case x.m == -1:
		a, c := x.v[:n], y.v[0]
		switch op {
		case opEq:
			for i := range res {
				res[i] = a[i] == c
			}
		case opNe:
			for i := range res {
				res[i] = a[i] != c
			}
		case opLt:
			for i := range res {
				res[i] = a[i] < c
			}
		case opLe:
			for i := range res {
				res[i] = a[i] <= c
			}
		case opGt:
			for i := range res {
				res[i] = a[i] > c
			}
		case opGe:
			for i := range res {
				res[i] = a[i] >= c
			}
		}
	case y.m == -1:
		cmpOrdered(op.swap(), y, x, res)
	default:
		r := op.holds(cmp.Compare(x.v[0], y.v[0]))
		for i := range res {
			res[i] = r
		}
	}
}

// cmpDecimal is cmpOrdered for 128-bit decimals (of one scale), with a
// loop per operator for a column against a column or a constant.
func cmpDecimal(op cmpOp, x, y view[i128], res []bool) {
	n := len(res)
	if x.m != -1 && y.m == -1 {
		x, y, op = y, x, op.swap()
	}
	if x.m != -1 {
		r := op.holds(x.v[0].cmp(y.v[0]))
		for i := range res {
			res[i] = r
		}
		return
	}
	a := x.v[:n]
	if y.m == -1 {
		b := y.v[:n]
		switch op {
		case opEq:
			for i := range res {
				res[i] = a[i] == b[i]
			}
		case opNe:
			for i := range res {
				res[i] = a[i] != b[i]
			}
		default:
			for i := range res {
				res[i] = op.holds(a[i].cmp(b[i]))
			}
		}
		return
	}
	c := y.v[0]
	switch op {
	case opEq:
		for i := range res {
			res[i] = a[i] == c
		}
	case opNe:
		for i := range res {
			res[i] = a[i] != c
		}
	case opLt:
		for i := range res {
			res[i] = a[i].hi < c.hi || (a[i].hi == c.hi && a[i].lo < c.lo)
		}
	case opLe:
		for i := range res {
			res[i] = a[i].hi < c.hi || (a[i].hi == c.hi && a[i].lo <= c.lo)
		}
	case opGt:
		for i := range res {
			res[i] = a[i].hi > c.hi || (a[i].hi == c.hi && a[i].lo > c.lo)
		}
	case opGe:
		for i := range res {
			res[i] = a[i].hi > c.hi || (a[i].hi == c.hi && a[i].lo >= c.lo)
		}
	}
}

// fcmp compares floats with NaN equal to NaN and greater than any number.
func fcmp[T float](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case a != a && b != b:
		return 0
	case a != a:
		return 1
	}
	return -1
}

func cmpFloat[T float](op cmpOp, x, y view[T], res []bool) {
	n := len(res)
	if x.m == -1 && y.m == -1 {
		a, b := x.v[:n], y.v[:n]
		switch op {
		case opEq:
			for i := range res {
				res[i] = a[i] == b[i] || (a[i] != a[i] && b[i] != b[i])
			}
			return
		case opLt:
			for i := range res {
				res[i] = a[i] < b[i] || (a[i] == a[i] && b[i] != b[i])
			}
			return
		case opGt:
			for i := range res {
				res[i] = a[i] > b[i] || (a[i] != a[i] && b[i] == b[i])
			}
			return
		}
	}
	for i := range res {
		res[i] = op.holds(fcmp(x.at(i), y.at(i)))
	}
}

func cmpStrings(op cmpOp, x, y side, res []bool) {
	if y.arr == nil && x.arr != nil {
		a := x.arr.(*array.String)
		c := y.val.(string)
		switch op {
		case opEq:
			for i := range res {
				res[i] = a.Value(i) == c
			}
		case opNe:
			for i := range res {
				res[i] = a.Value(i) != c
			}
		default:
			for i := range res {
				res[i] = op.holds(cmpStr(a.Value(i), c))
			}
		}
		return
	}
	if x.arr == nil && y.arr != nil {
		cmpStrings(op.swap(), y, x, res)
		return
	}
	if x.arr == nil {
		r := op.holds(cmpStr(x.val.(string), y.val.(string)))
		for i := range res {
			res[i] = r
		}
		return
	}
	a, b := x.arr.(*array.String), y.arr.(*array.String)
	switch op {
	case opEq:
		for i := range res {
			res[i] = a.Value(i) == b.Value(i)
		}
	case opNe:
		for i := range res {
			res[i] = a.Value(i) != b.Value(i)
		}
	default:
		for i := range res {
			res[i] = op.holds(cmpStr(a.Value(i), b.Value(i)))
		}
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// unifyArgs converts the arguments of a comparison-like function to their
// common type when the planner left them different.
func (c *compiler) unifyArgs(name string, args []node) ([]node, catalog.Type, error) {
	var t catalog.Type
	for i, a := range args {
		if i == 0 {
			t = a.typ()
			continue
		}
		ct, ok := catalog.CommonSuperType(t, a.typ())
		if !ok {
			return nil, t, fmt.Errorf("%s: cannot compare %s with %s", name, t, a.typ())
		}
		t = ct
	}
	out := make([]node, len(args))
	for i, a := range args {
		n, err := c.fold(c.cast(a, t, false, true))
		if err != nil {
			return nil, t, err
		}
		out[i] = n
	}
	return out, t, nil
}

// compare compiles eq, ne, lt, le, gt, ge.
func (c *compiler) compare(call *planner.Call, args []node) (node, error) {
	op, _ := cmpOpOf(call.Name)
	args, t, err := c.unifyArgs(call.Name, args)
	if err != nil {
		return nil, err
	}
	if t.Kind == catalog.KindNull || isNullConst(args[0]) || isNullConst(args[1]) {
		return c.constant(nil, catalog.Bool)
	}
	return compareKernel(call.Name, op, t, args[0], args[1]), nil
}

func compareKernel(name string, op cmpOp, t catalog.Type, a, b node) node {
	var scratch []bool
	return binaryKernel(name, catalog.Bool, a, b, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		if cap(scratch) < bt.n {
			scratch = make([]bool, bt.n)
		}
		res := scratch[:bt.n]
		compareInto(op, t, sideOf(xa, a), sideOf(ya, b), res)
		return boolArray(bt.alloc, res, validAnd(bt.alloc, bt.n, xa, ya)), nil
	})
}

// distinct compiles IS [NOT] DISTINCT FROM: NULLs compare equal to each
// other and unequal to any value; the result is never NULL.
func (c *compiler) distinct(call *planner.Call, args []node) (node, error) {
	args, t, err := c.unifyArgs(call.Name, args)
	if err != nil {
		return nil, err
	}
	wantDistinct := call.Name == "is_distinct_from"
	a, b := args[0], args[1]
	if t.Kind == catalog.KindNull {
		return c.constant(!wantDistinct, catalog.Bool)
	}
	var scratch []bool
	return binaryKernel(call.Name, catalog.Bool, a, b, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		n := bt.n
		if cap(scratch) < n {
			scratch = make([]bool, n)
		}
		res := scratch[:n]
		xs, ys := sideOf(xa, a), sideOf(ya, b)
		xNull := func(i int) bool { return xs.arr == nil && xs.val == nil || xs.arr != nil && xs.arr.IsNull(i) }
		yNull := func(i int) bool { return ys.arr == nil && ys.val == nil || ys.arr != nil && ys.arr.IsNull(i) }
		if xs.arr == nil && xs.val == nil || ys.arr == nil && ys.val == nil {
			// One side is a NULL constant: distinct when the other is not NULL.
			for i := range res {
				d := xNull(i) != yNull(i)
				res[i] = d == wantDistinct
			}
			return boolArray(bt.alloc, res, nil), nil
		}
		compareInto(opNe, t, xs, ys, res)
		for i := range res {
			xn, yn := xNull(i), yNull(i)
			d := res[i]
			if xn || yn {
				d = xn != yn
			}
			res[i] = d == wantDistinct
		}
		return boolArray(bt.alloc, res, nil), nil
	}), nil
}

// --- three-valued logic -----------------------------------------------------

// logic compiles and, or, not and the IS [NOT] TRUE/FALSE/NULL tests.
func (c *compiler) logic(call *planner.Call, args []node) (node, error) {
	switch call.Name {
	case "and", "or":
		return c.andOr(call.Name == "and", args)
	case "not":
		a := args[0]
		if isNullConst(a) {
			return c.constant(nil, catalog.Bool)
		}
		return newKernel("not", catalog.Bool, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			x := in[0]
			n := bt.n
			buf, out := newBitmap(bt.alloc, n)
			copy(out, boolBits(x))
			for i := range out {
				out[i] = ^out[i]
			}
			clearTail(out, n)
			return finish(arrow.FixedWidthTypes.Boolean, n, validAnd(bt.alloc, n, x), buf), nil
		}), nil
	}
	// IS [NOT] NULL / TRUE / FALSE: never NULL.
	name := call.Name
	return newKernel(name, catalog.Bool, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		x := in[0]
		n := bt.n
		var bm []byte
		switch name {
		case "is_null", "is_not_null":
			bm = make([]byte, bitutil.BytesForBits(int64(n)))
			if x.NullN() == 0 {
				bitutil.SetBitsTo(bm, 0, int64(n), true)
			} else if x.DataType().ID() != arrow.NULL {
				bitutil.CopyBitmap(x.NullBitmapBytes(), x.Data().Offset(), n, bm, 0)
			}
			if name == "is_null" {
				invert(bm, n)
			}
		case "is_true", "is_not_true":
			bm = trueBits(x)
			if name == "is_not_true" {
				invert(bm, n)
			}
		case "is_false", "is_not_false":
			bm = falseBits(x)
			if name == "is_not_false" {
				invert(bm, n)
			}
		}
		return newBoolArray(n, bm, nil), nil
	}), nil
}

func invert(bm []byte, n int) {
	for i := range bm {
		bm[i] = ^bm[i]
	}
	clearTail(bm, n)
}

// andOr is AND / OR with SQL's three-valued logic: FALSE AND NULL is
// FALSE, TRUE OR NULL is TRUE. When the right operand may fail, it runs
// only on the rows the left one does not decide, so x <> 0 AND y / x > 1
// never divides by zero.
type andOrNode struct {
	and  bool
	l, r node
	// rCheap: r is cheap (see cheap) and runs over every row.
	rCheap bool
}

func (c *compiler) andOr(and bool, args []node) (node, error) {
	l, r := args[0], args[1]
	// Constant simplifications: FALSE AND x = FALSE, TRUE AND x = x, ...
	for _, pair := range [2][2]node{{l, r}, {r, l}} {
		if k, ok := pair[0].(*constNode); ok && c.opts.fold {
			if k.val == nil {
				continue
			}
			if k.val.(bool) == !and {
				return c.constant(!and, catalog.Bool)
			}
			return pair[1], nil
		}
	}
	if !and {
		return &andOrNode{and: and, l: l, r: r, rCheap: cheap(r)}, nil
	}
	// A conjunction's cheap terms (comparisons of numbers, dates, ... that
	// cannot fail) run first, over every row; the others (text) follow in
	// their order, each only on the rows still undecided.
	var terms []node
	var flatten func(n node)
	flatten = func(n node) {
		if a, ok := n.(*andOrNode); ok && a.and {
			flatten(a.l)
			flatten(a.r)
			return
		}
		terms = append(terms, n)
	}
	flatten(l)
	flatten(r)
	// A term that may fail stays where it is, and no term moves across
	// it: it runs on the rows the terms before it keep, as written.
	ordered := make([]node, 0, len(terms))
	for start := 0; start < len(terms); {
		end := start
		for end < len(terms) && !terms[end].mayFail() {
			end++
		}
		for _, t := range terms[start:end] {
			if cheap(t) {
				ordered = append(ordered, t)
			}
		}
		for _, t := range terms[start:end] {
			if !cheap(t) {
				ordered = append(ordered, t)
			}
		}
		if end < len(terms) {
			ordered = append(ordered, terms[end])
		}
		start = end + 1
	}
	out := ordered[0]
	for _, t := range ordered[1:] {
		out = &andOrNode{and: true, l: out, r: t, rCheap: cheap(t)}
	}
	return out, nil
}

// cheap reports whether n is cheap to evaluate over every row: constants,
// columns of fixed-width types and kernels over them that cannot fail
// (comparisons, arithmetic, IN lists of numbers), and AND / OR of those.
// Text is not cheap: its comparisons touch every byte.
func cheap(n node) bool {
	switch x := n.(type) {
	case *constNode:
		return true
	case *colNode:
		return !x.t.IsString() && x.t.Kind != catalog.KindBinary && x.t.Kind != catalog.KindJSON
	case *kernel:
		if x.mayFail() {
			return false
		}
		for _, a := range x.args {
			if !cheap(a) {
				return false
			}
		}
		return true
	case *andOrNode:
		return cheap(x.l) && cheap(x.r)
	}
	return false
}

func (n *andOrNode) typ() catalog.Type { return catalog.Bool }
func (n *andOrNode) mayFail() bool     { return n.l.mayFail() || n.r.mayFail() }
func (n *andOrNode) inputs() []node    { return []node{n.l, n.r} }

func (n *andOrNode) eval(b *batch) (arrow.Array, error) {
	la, err := b.eval(n.l)
	if err != nil {
		return nil, err
	}
	defer la.Release()
	// Rows the left side decides: FALSE for AND, TRUE for OR.
	var decided []byte
	if n.and {
		decided = falseBits(la)
	} else {
		decided = trueBits(la)
	}
	nd := bitutil.CountSetBits(decided, 0, b.n)
	if nd == b.n {
		// Every row is decided: the result is the left side.
		la.Retain()
		return la, nil
	}
	if !n.r.mayFail() && (n.rCheap || (b.n-nd)*4 > b.n) {
		// A cheap right side, or more than a quarter of the rows left:
		// evaluating the right side on every row costs less than on a
		// subset (which copies the columns it reads).
		ra, err := b.eval(n.r)
		if err != nil {
			return nil, err
		}
		defer ra.Release()
		return combine3VL(b.alloc, n.and, la, ra), nil
	}
	// The right side runs only on the rows the left does not decide: it
	// may fail there (x <> 0 AND y / x > 1), and a conjunction's later
	// terms see only the rows the earlier ones keep.
	invert(decided, b.n)
	sel := selection(decided, b.n)
	part, err := b.evalOn(n.r, sel)
	if err != nil {
		return nil, err
	}
	defer part.Release()
	return combineOn(n.and, la, part, sel), nil
}

// combineOn is AND (and) or OR of the Boolean array x and y, where y holds
// the right operand only at the rows sel of x (the rows x does not
// decide); x decides every other row.
func combineOn(and bool, x, y arrow.Array, sel []int32) arrow.Array {
	n := x.Len()
	xt, xf := trueBits(x), falseBits(x)
	yt, yf := trueBits(y), falseBits(y)
	// Decided rows keep x's value: FALSE for AND, TRUE for OR.
	vals, valid := xt, xf
	if and {
		vals = make([]byte, len(xt))
	} else {
		valid = xt
		vals = slices.Clone(xt)
	}
	for j, r := range sel {
		var t, f bool
		if and {
			t = bitutil.BitIsSet(xt, int(r)) && bitutil.BitIsSet(yt, j)
			f = bitutil.BitIsSet(yf, j)
		} else {
			t = bitutil.BitIsSet(yt, j)
			f = bitutil.BitIsSet(xf, int(r)) && bitutil.BitIsSet(yf, j)
		}
		if t {
			bitutil.SetBit(vals, int(r))
		}
		if t || f {
			bitutil.SetBit(valid, int(r))
		}
	}
	return newBoolArray(n, vals, valid)
}

// combine3VL is AND (and) or OR of two Boolean arrays.
func combine3VL(alloc memory.Allocator, and bool, x, y arrow.Array) arrow.Array {
	n := x.Len()
	xt, xf := trueBits(x), falseBits(x)
	yt, yf := trueBits(y), falseBits(y)
	vals := make([]byte, len(xt))
	valid := make([]byte, len(xt))
	for i := range vals {
		var t, f byte
		if and {
			t = xt[i] & yt[i]
			f = xf[i] | yf[i]
		} else {
			t = xt[i] | yt[i]
			f = xf[i] & yf[i]
		}
		vals[i] = t
		valid[i] = t | f
	}
	return newBoolArray(n, vals, valid)
}
