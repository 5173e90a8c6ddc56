package expr

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the conditional expressions: CASE, IF, COALESCE and
// IFNULL (lazy: a branch or argument that may fail runs only on the rows
// that reach it), NULLIF, GREATEST and LEAST (NULLs skipped, as in
// PostgreSQL), and IN (value list) with SQL's NULL rules.

// allRows is the selection of every row of a batch of n rows.
func allRows(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

// caseNode is a searched CASE.
type caseNode struct {
	conds, results []node
	els            node // nil: NULL
	t              catalog.Type
}

func (c *compiler) caseExpr(x *planner.Case) (node, error) {
	n := &caseNode{t: x.T}
	for _, w := range x.Whens {
		cond, err := c.compile(w.Cond)
		if err != nil {
			return nil, err
		}
		res, err := c.compile(w.Result)
		if err != nil {
			return nil, err
		}
		if res, err = c.fold(c.cast(res, x.T, false, true)); err != nil {
			return nil, err
		}
		// A constant condition decides at compile time.
		if k, ok := cond.(*constNode); ok && c.opts.fold {
			if k.val == true {
				if len(n.conds) == 0 {
					return res, nil
				}
				n.els = res
				return n, nil
			}
			continue
		}
		n.conds = append(n.conds, cond)
		n.results = append(n.results, res)
	}
	if x.Else != nil {
		els, err := c.compile(x.Else)
		if err != nil {
			return nil, err
		}
		if els, err = c.fold(c.cast(els, x.T, false, true)); err != nil {
			return nil, err
		}
		n.els = els
	}
	if len(n.conds) == 0 {
		if n.els == nil {
			return c.constant(nil, x.T)
		}
		return n.els, nil
	}
	return n, nil
}

func (n *caseNode) typ() catalog.Type { return n.t }

func (n *caseNode) mayFail() bool {
	for i := range n.conds {
		if n.conds[i].mayFail() || n.results[i].mayFail() {
			return true
		}
	}
	return n.els != nil && n.els.mayFail()
}

func (n *caseNode) inputs() []node {
	in := append(append([]node{}, n.conds...), n.results...)
	if n.els != nil {
		in = append(in, n.els)
	}
	return in
}

// piece is the result of a branch over some rows.
type pieces struct {
	b     *batch
	arrs  []arrow.Array
	which []int32
	rows  []int32
}

func newPieces(b *batch) *pieces {
	p := &pieces{b: b, which: make([]int32, b.n), rows: make([]int32, b.n)}
	for i := range p.which {
		p.which[i] = -1
	}
	return p
}

// evalBranch evaluates n for the rows sel of the batch and records it as
// their result. A branch that cannot fail runs over the whole batch (no
// copying of columns); one that may fail only over sel.
func (p *pieces) evalBranch(n node, sel []int32) error {
	if len(sel) == 0 {
		return nil
	}
	k := int32(len(p.arrs))
	if !n.mayFail() || len(sel) == p.b.n {
		a, err := p.b.eval(n)
		if err != nil {
			return err
		}
		p.arrs = append(p.arrs, a)
		for _, r := range sel {
			p.which[r] = k
			p.rows[r] = r
		}
		return nil
	}
	a, err := p.b.evalOn(n, sel)
	if err != nil {
		return err
	}
	p.arrs = append(p.arrs, a)
	for j, r := range sel {
		p.which[r] = k
		p.rows[r] = int32(j)
	}
	return nil
}

func (p *pieces) result(t catalog.Type) arrow.Array {
	if len(p.arrs) == 1 && p.arrs[0].Len() == p.b.n {
		full := true
		for i, w := range p.which {
			if w != 0 || p.rows[i] != int32(i) {
				full = false
				break
			}
		}
		if full {
			p.arrs[0].Retain()
			return p.arrs[0]
		}
	}
	return gather(p.b.alloc, arrowType(t), p.arrs, p.which, p.rows)
}

func (p *pieces) release() {
	for _, a := range p.arrs {
		a.Release()
	}
}

// condRows evaluates a condition for the rows cur and splits them into the
// rows where it is TRUE and the rest.
func condRows(b *batch, cond node, cur []int32) (yes, no []int32, err error) {
	var a arrow.Array
	sub := false
	if cond.mayFail() && len(cur) != b.n {
		a, err = b.evalOn(cond, cur)
		sub = true
	} else {
		a, err = b.eval(cond)
	}
	if err != nil {
		return nil, nil, err
	}
	defer a.Release()
	tb := trueBits(a)
	buf := make([]int32, 2*len(cur))
	yes, no = buf[:0:len(cur)], buf[len(cur):len(cur)]
	for j, r := range cur {
		idx := int(r)
		if sub {
			idx = j
		}
		if bitutil.BitIsSet(tb, idx) {
			yes = append(yes, r)
		} else {
			no = append(no, r)
		}
	}
	return yes, no, nil
}

func (n *caseNode) eval(b *batch) (arrow.Array, error) {
	p := newPieces(b)
	defer p.release()
	cur := allRows(b.n)
	for i, cond := range n.conds {
		if len(cur) == 0 {
			break
		}
		yes, no, err := condRows(b, cond, cur)
		if err != nil {
			return nil, err
		}
		if err := p.evalBranch(n.results[i], yes); err != nil {
			return nil, err
		}
		cur = no
	}
	if n.els != nil {
		if err := p.evalBranch(n.els, cur); err != nil {
			return nil, err
		}
	}
	return p.result(n.t), nil
}

// coalesceNode returns its first non-NULL argument, evaluating an argument
// that may fail only on the rows still NULL.
type coalesceNode struct {
	args []node
	t    catalog.Type
}

func (c *compiler) coalesce(call *planner.Call, args []node) (node, error) {
	var kept []node
	for _, a := range args {
		a, err := c.fold(c.cast(a, call.T, false, true))
		if err != nil {
			return nil, err
		}
		if isNullConst(a) {
			continue
		}
		kept = append(kept, a)
		if _, ok := a.(*constNode); ok && c.opts.fold {
			break // a non-NULL constant ends the list
		}
	}
	switch len(kept) {
	case 0:
		return c.constant(nil, call.T)
	case 1:
		return kept[0], nil
	}
	return &coalesceNode{args: kept, t: call.T}, nil
}

func (n *coalesceNode) typ() catalog.Type { return n.t }
func (n *coalesceNode) inputs() []node    { return n.args }
func (n *coalesceNode) mayFail() bool {
	for _, a := range n.args {
		if a.mayFail() {
			return true
		}
	}
	return false
}

func (n *coalesceNode) eval(b *batch) (arrow.Array, error) {
	p := newPieces(b)
	defer p.release()
	cur := allRows(b.n)
	for _, a := range n.args {
		if len(cur) == 0 {
			break
		}
		sub := a.mayFail() && len(cur) != b.n
		var arr arrow.Array
		var err error
		if sub {
			arr, err = b.evalOn(a, cur)
		} else {
			arr, err = b.eval(a)
		}
		if err != nil {
			return nil, err
		}
		k := int32(len(p.arrs))
		p.arrs = append(p.arrs, arr)
		var rest []int32
		for j, r := range cur {
			idx := int32(r)
			if sub {
				idx = int32(j)
			}
			if arr.IsValid(int(idx)) {
				p.which[r] = k
				p.rows[r] = idx
			} else {
				rest = append(rest, r)
			}
		}
		cur = rest
	}
	return p.result(n.t), nil
}

// ifFunc compiles if(cond, a, b) as CASE WHEN cond THEN a ELSE b END.
func (c *compiler) ifFunc(call *planner.Call, args []node) (node, error) {
	a, err := c.fold(c.cast(args[1], call.T, false, true))
	if err != nil {
		return nil, err
	}
	b, err := c.fold(c.cast(args[2], call.T, false, true))
	if err != nil {
		return nil, err
	}
	if k, ok := args[0].(*constNode); ok && c.opts.fold {
		if k.val == true {
			return a, nil
		}
		return b, nil
	}
	return &caseNode{conds: []node{args[0]}, results: []node{a}, els: b, t: call.T}, nil
}

// nullif returns NULL where a = b, else a.
func (c *compiler) nullif(call *planner.Call, args []node) (node, error) {
	args, t, err := c.unifyArgs("nullif", args)
	if err != nil {
		return nil, err
	}
	a, b := args[0], args[1]
	if isNullConst(a) || t.Kind == catalog.KindNull {
		return c.constant(nil, call.T)
	}
	if isNullConst(b) {
		return c.implicitNode(a, call.T), nil
	}
	k := binaryKernel("nullif", t, a, b, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		n := bt.n
		res := make([]bool, n)
		xs, ys := sideOf(xa, a), sideOf(ya, b)
		compareInto(opEq, t, xs, ys, res)
		x := xa
		if x == nil {
			x = constArray(xs.val, t, n)
		} else {
			x.Retain()
		}
		defer x.Release()
		which := make([]int32, n)
		rows := make([]int32, n)
		for i := range which {
			rows[i] = int32(i)
			if res[i] && x.IsValid(i) && (ya == nil || ya.IsValid(i)) {
				which[i] = -1
			}
		}
		return gather(bt.alloc, arrowType(t), []arrow.Array{x}, which, rows), nil
	})
	return c.implicitNode(k, call.T), nil
}

// greatestLeast compiles greatest and least: the largest (smallest) of the
// non-NULL arguments, NULL when all are NULL.
func (c *compiler) greatestLeast(call *planner.Call, args []node) (node, error) {
	args, t, err := c.unifyArgs(call.Name, args)
	if err != nil {
		return nil, err
	}
	var kept []node
	for _, a := range args {
		if !isNullConst(a) {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 || t.Kind == catalog.KindNull {
		return c.constant(nil, call.T)
	}
	op := opGt
	if call.Name == "least" {
		op = opLt
	}
	k := newKernel(call.Name, t, kept, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		n := bt.n
		best := in[0]
		best.Retain()
		res := make([]bool, n)
		for _, next := range in[1:] {
			compareInto(op, t, side{arr: next}, side{arr: best}, res)
			which := make([]int32, n)
			rows := allRows(n)
			for i := range which {
				switch {
				case next.IsNull(i):
					which[i] = 0
				case best.IsNull(i) || res[i]:
					which[i] = 1
				}
			}
			nb := gather(bt.alloc, arrowType(t), []arrow.Array{best, next}, which, rows)
			best.Release()
			best = nb
		}
		return best, nil
	})
	return c.implicitNode(k, call.T), nil
}

// inList compiles x IN (v1, v2, ...): TRUE when x equals a value, else NULL
// when x or a value is NULL, else FALSE.
func (c *compiler) inList(call *planner.Call, args []node) (node, error) {
	args, t, err := c.unifyArgs("in", args)
	if err != nil {
		return nil, err
	}
	x := args[0]
	if isNullConst(x) || t.Kind == catalog.KindNull {
		return c.constant(nil, catalog.Bool)
	}
	items := args[1:]
	allConst := true
	for _, it := range items {
		if _, ok := asConst(it); !ok {
			allConst = false
		}
	}
	if allConst {
		return c.inConstList(x, items, t), nil
	}
	return newKernel("in_list", catalog.Bool, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		n := bt.n
		xa := in[0]
		found := make([]bool, n)
		anyNull := make([]bool, n)
		res := make([]bool, n)
		for _, it := range in[1:] {
			compareInto(opEq, t, side{arr: xa}, side{arr: it}, res)
			for i := range res {
				if it.IsNull(i) {
					anyNull[i] = true
				} else if res[i] {
					found[i] = true
				}
			}
		}
		return inResult(bt, xa, found, anyNull, false), nil
	}), nil
}

// inResult assembles IN's three-valued result.
func inResult(bt *batch, xa arrow.Array, found, anyNull []bool, listHasNull bool) arrow.Array {
	n := len(found)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = xa.IsValid(i) && (found[i] || !(listHasNull || anyNull != nil && anyNull[i]))
	}
	vb := make([]byte, bitutil.BytesForBits(int64(n)))
	packBools(valid, vb)
	fb := make([]byte, len(vb))
	packBools(found, fb)
	return newBoolArray(n, fb, vb)
}

// inConstList is IN over constant values: a hash set for long lists of
// hashable types, comparisons otherwise.
func (c *compiler) inConstList(x node, items []node, t catalog.Type) node {
	hasNull := false
	var vals []any
	for _, it := range items {
		k := it.(*constNode)
		if k.val == nil {
			hasNull = true
			continue
		}
		vals = append(vals, k.val)
	}
	set := newValueSet(t, vals)
	return newKernel("in_list", catalog.Bool, []node{x}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		xa := in[0]
		n := bt.n
		found := make([]bool, n)
		if sa, ok := xa.(*array.String); ok && set == nil && t.IsString() {
			inStrings(sa, vals, found)
		} else if set != nil {
			set.lookup(xa, found)
		} else {
			res := make([]bool, n)
			for _, v := range vals {
				compareInto(opEq, t, side{arr: xa}, side{val: v}, res)
				for i, r := range res {
					found[i] = found[i] || r
				}
			}
		}
		return inResult(bt, xa, found, nil, hasNull), nil
	})
}

// inStrings sets found[i] when value i of a is one of vals (strings), in
// one pass: a value whose length no constant has is rejected without
// comparing bytes.
func inStrings(a *array.String, vals []any, found []bool) {
	strs := make([]string, len(vals))
	var lens uint64 // bit l: some constant has length l (< 64)
	long := false
	for i, v := range vals {
		strs[i] = v.(string)
		if l := len(strs[i]); l < 64 {
			lens |= 1 << l
		} else {
			long = true
		}
	}
	for i := range found {
		v := a.Value(i)
		if l := len(v); l < 64 && lens&(1<<l) == 0 || l >= 64 && !long {
			continue
		}
		for _, c := range strs {
			if v == c {
				found[i] = true
				break
			}
		}
	}
}

// valueSet is a hash set of constant values of one type.
type valueSet struct {
	ints map[int64]struct{}
	strs map[string]struct{}
	decs map[i128]struct{}
	t    catalog.Type
}

// newValueSet returns a set for vals, or nil when a linear scan is better
// (few values) or the type has no exact hash (floats with NaN, intervals).
func newValueSet(t catalog.Type, vals []any) *valueSet {
	if len(vals) <= 6 {
		return nil
	}
	s := &valueSet{t: t}
	switch {
	case t.IsInteger() || t.Kind == catalog.KindTime || t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ:
		s.ints = map[int64]struct{}{}
		for _, v := range vals {
			s.ints[v.(int64)] = struct{}{}
		}
	case t.Kind == catalog.KindDate:
		s.ints = map[int64]struct{}{}
		for _, v := range vals {
			s.ints[int64(v.(int32))] = struct{}{}
		}
	case t.IsString():
		s.strs = map[string]struct{}{}
		for _, v := range vals {
			s.strs[v.(string)] = struct{}{}
		}
	case t.Kind == catalog.KindDecimal:
		s.decs = map[i128]struct{}{}
		for _, v := range vals {
			s.decs[toI128(v)] = struct{}{}
		}
	default:
		return nil
	}
	return s
}

func (s *valueSet) lookup(xa arrow.Array, found []bool) {
	switch {
	case s.strs != nil:
		x := xa.(*array.String)
		for i := range found {
			_, found[i] = s.strs[x.Value(i)]
		}
	case s.decs != nil:
		v := values[i128](xa)
		for i := range found {
			_, found[i] = s.decs[v[i]]
		}
	default:
		var get func(int) int64
		switch s.t.Kind {
		case catalog.KindInt8:
			v := values[int8](xa)
			get = func(i int) int64 { return int64(v[i]) }
		case catalog.KindInt16:
			v := values[int16](xa)
			get = func(i int) int64 { return int64(v[i]) }
		case catalog.KindInt32, catalog.KindDate:
			v := values[int32](xa)
			get = func(i int) int64 { return int64(v[i]) }
		default:
			v := values[int64](xa)
			get = func(i int) int64 { return v[i] }
		}
		for i := range found {
			_, found[i] = s.ints[get(i)]
		}
	}
}

// mustArgs checks an argument count.
func mustArgs(name string, args []node, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		return fmt.Errorf("%s: wrong number of arguments (%d)", name, len(args))
	}
	return nil
}
