package optimizer

import (
	"github.com/etlc/etlc/planner"
)

// This rule drops the columns nothing uses: a projection computes only the
// expressions read above it, an aggregate only the aggregates read above
// it, and a scan reads only the columns some operator uses (Scan.Cols), so
// a query over a wide file reads and carries only what it needs.
//
// prune returns n rewritten to produce at least the needed columns of its
// output (need[i] for output column i), and m, the new position of each
// old output column (-1 when dropped). Every operator keeps at least one
// column. A node whose expressions hold a correlated subquery keeps its
// input layout whole (the subquery reads the input row by position).

// prune applies the rule to n and below.
func (o *opt) prune(n planner.Node, need []bool) (planner.Node, []int) {
	if ref, ok := n.(*planner.CTERef); ok {
		return o.cte(ref), identity(len(ref.Columns))
	}
	if nodeHasCorrelated(n) {
		n = mapChildren(n, o.pruneNone)
		return n, identity(len(n.Schema()))
	}
	switch x := n.(type) {
	case *planner.Scan:
		return pruneScan(x, need)
	case *planner.Values:
		if len(x.Columns) == 0 {
			return x, nil
		}
		keep := kept(need)
		c := *x
		c.Columns = pick(x.Columns, keep)
		c.Rows = make([][]planner.Expr, len(x.Rows))
		for i, r := range x.Rows {
			c.Rows[i] = pick(r, keep)
		}
		return &c, mapping(len(need), keep)
	case *planner.Filter:
		cn := union(need, colsOf(x.Cond))
		in, m := o.prune(x.Input, cn)
		return &planner.Filter{Input: in, Cond: remap(x.Cond, m)}, m
	case *planner.Expect:
		// The checks read their columns; the quarantine keeps whole rows,
		// so every column of the checked rows stays.
		in, m := o.prune(x.Input, all(len(x.Input.Schema())))
		c := mapExprs(x, func(e planner.Expr) planner.Expr { return remap(e, m) }).(*planner.Expect)
		c.Input = in
		return c, m
	case *planner.Project:
		keep := kept(need)
		cn := make([]bool, len(x.Input.Schema()))
		for _, i := range keep {
			addNeed(cn, colsOf(x.Exprs[i]))
		}
		in, m := o.prune(x.Input, cn)
		c := &planner.Project{Input: in, Columns: pick(x.Columns, keep)}
		for _, i := range keep {
			c.Exprs = append(c.Exprs, remap(x.Exprs[i], m))
		}
		return c, mapping(len(need), keep)
	case *planner.Aggregate:
		return o.pruneAggregate(x, need)
	case *planner.Join:
		return o.pruneJoin(x, need)
	case *planner.Sort:
		cn := append([]bool(nil), need...)
		for _, k := range x.Keys {
			addNeed(cn, colsOf(k.Expr))
		}
		in, m := o.prune(x.Input, cn)
		c := &planner.Sort{Input: in, Keys: make([]planner.SortKey, len(x.Keys))}
		for i, k := range x.Keys {
			c.Keys[i] = k
			c.Keys[i].Expr = remap(k.Expr, m)
		}
		return c, m
	case *planner.Limit:
		in, m := o.prune(x.Input, need)
		c := *x
		c.Input = in
		return &c, m
	case *planner.Window:
		nIn := len(x.Input.Schema())
		cn := append([]bool(nil), need[:nIn]...)
		for _, e := range nodeAllExprs(x) {
			addNeed(cn, colsOf(e))
		}
		in, m := o.prune(x.Input, cn)
		c := mapExprs(x, func(e planner.Expr) planner.Expr { return remap(e, m) }).(*planner.Window)
		c.Input = in
		c.Columns = append(append([]planner.Column(nil), in.Schema()...), x.Columns[nIn:]...)
		out := make([]int, len(need))
		newIn := len(in.Schema())
		for i := range out {
			if i < nIn {
				out[i] = m[i]
			} else {
				out[i] = newIn + i - nIn
			}
		}
		return c, out
	}
	// Distinct, SetOp and anything else need all their input columns.
	n = mapChildren(n, o.pruneNone)
	return n, identity(len(n.Schema()))
}

// pruneNone prunes below n, keeping all of n's own columns.
func (o *opt) pruneNone(n planner.Node) planner.Node {
	p, _ := o.prune(n, all(len(n.Schema())))
	return p
}

func pruneScan(x *planner.Scan, need []bool) (planner.Node, []int) {
	keep := kept(need)
	if len(keep) == len(x.Columns) {
		return x, identity(len(need))
	}
	base := x.Cols
	if base == nil {
		base = identity(len(x.Columns))
	}
	c := *x
	c.Columns = pick(x.Columns, keep)
	c.Cols = pick(base, keep)
	return &c, mapping(len(need), keep)
}

func (o *opt) pruneAggregate(x *planner.Aggregate, need []bool) (planner.Node, []int) {
	nKeys := len(x.GroupBy)
	if x.Window != nil {
		nKeys += 2
	}
	var aggs []int
	for i := range x.Aggs {
		if need[nKeys+i] {
			aggs = append(aggs, i)
		}
	}
	if len(aggs) == 0 && nKeys == 0 {
		aggs = []int{0}
	}
	cn := make([]bool, len(x.Input.Schema()))
	for _, g := range x.GroupBy {
		addNeed(cn, colsOf(g))
	}
	if x.Window != nil {
		addNeed(cn, colsOf(x.Window.Time))
	}
	for _, i := range aggs {
		a := x.Aggs[i]
		for _, e := range a.Args {
			addNeed(cn, colsOf(e))
		}
		if a.Filter != nil {
			addNeed(cn, colsOf(a.Filter))
		}
		for _, k := range a.OrderBy {
			addNeed(cn, colsOf(k.Expr))
		}
	}
	in, m := o.prune(x.Input, cn)
	c := mapExprs(x, func(e planner.Expr) planner.Expr { return remap(e, m) }).(*planner.Aggregate)
	c.Input = in
	c.Columns = append([]planner.Column(nil), x.Columns[:nKeys]...)
	all := c.Aggs
	c.Aggs = nil
	out := make([]int, len(need))
	for i := range out {
		out[i] = -1
		if i < nKeys {
			out[i] = i
		}
	}
	for _, i := range aggs {
		out[nKeys+i] = len(c.Columns)
		c.Aggs = append(c.Aggs, all[i])
		c.Columns = append(c.Columns, x.Columns[nKeys+i])
	}
	return c, out
}

func (o *opt) pruneJoin(x *planner.Join, need []bool) (planner.Node, []int) {
	nL, nR := len(x.Left.Schema()), len(x.Right.Schema())
	semi := x.Kind == planner.SemiJoin || x.Kind == planner.AntiJoin
	needL := append([]bool(nil), need[:nL]...)
	needR := make([]bool, nR)
	if !semi {
		copy(needR, need[nL:])
	}
	for c := range colsOf(x.Cond) {
		if c < nL {
			needL[c] = true
		} else {
			needR[c-nL] = true
		}
	}
	l, ml := o.prune(x.Left, needL)
	r, mr := o.prune(x.Right, needR)
	newL := len(l.Schema())
	pos := func(i int) int {
		if i < nL {
			return ml[i]
		}
		if mr[i-nL] < 0 {
			return -1
		}
		return newL + mr[i-nL]
	}
	c := &planner.Join{Kind: x.Kind, Left: l, Right: r}
	if x.Cond != nil {
		c.Cond = mapCols(x.Cond, pos)
	}
	// The join's columns keep their nullability (outer joins), at their
	// new positions.
	width := newL
	if !semi {
		width += len(r.Schema())
	}
	c.Columns = make([]planner.Column, width)
	out := make([]int, len(need))
	for i := range out {
		out[i] = pos(i)
		if out[i] >= 0 {
			c.Columns[out[i]] = x.Columns[i]
		}
	}
	return c, out
}

// identity is the mapping of n columns to themselves.
func identity(n int) []int {
	m := make([]int, n)
	for i := range m {
		m[i] = i
	}
	return m
}

// all is a need vector with every column needed.
func all(n int) []bool {
	need := make([]bool, n)
	for i := range need {
		need[i] = true
	}
	return need
}

// kept lists the needed positions, or the first one when none is (an
// operator keeps at least one column).
func kept(need []bool) []int {
	var keep []int
	for i, n := range need {
		if n {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 && len(need) > 0 {
		keep = []int{0}
	}
	return keep
}

// mapping maps n old positions to their index in keep (-1 when dropped).
func mapping(n int, keep []int) []int {
	m := make([]int, n)
	for i := range m {
		m[i] = -1
	}
	for j, i := range keep {
		m[i] = j
	}
	return m
}

// pick returns the elements of s at the positions keep.
func pick[T any](s []T, keep []int) []T {
	out := make([]T, len(keep))
	for j, i := range keep {
		out[j] = s[i]
	}
	return out
}

// union returns need plus the columns of s.
func union(need []bool, s colSet) []bool {
	out := append([]bool(nil), need...)
	addNeed(out, s)
	return out
}

func addNeed(need []bool, s colSet) {
	for c := range s {
		need[c] = true
	}
}

// remap rewrites e's column references through the mapping m of its
// input.
func remap(e planner.Expr, m []int) planner.Expr {
	if e == nil {
		return nil
	}
	return mapCols(e, func(i int) int {
		if m[i] < 0 {
			panic("optimizer: an expression reads a pruned column")
		}
		return m[i]
	})
}
