package optimizer

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This rule places filter conditions and orders inner joins.
//
// A region is a tree of inner and cross joins with the filters directly on
// and between them: FROM a, b, c WHERE ... or a JOIN b ON ... JOIN c ON
// .... Its relations (the leaves: scans, derived tables, other joins) are
// collected in FROM order with every condition of the region, split at
// AND, and conditions ORed from branches that all share a condition
// yield that condition too ((a AND b) OR (a AND c) gives a). Then:
//
//   - a condition on one relation filters that relation (and moves on
//     into it, see pushFilter);
//   - the relations are joined left-deep in FROM order, except that a
//     relation no condition connects to the relations already joined waits
//     until one does (equality conditions first), so no cross product is
//     made while a join condition exists;
//   - each join gets the conditions whose relations are all joined at that
//     point (its equalities become hash keys), and takes the input with the
//     smaller estimated row count as its build (right) side, unless the
//     other input reads a stream (a stream is always the probe side);
//   - a projection on top puts the columns back in their original order.
//
// Conditions holding a correlated subquery stay on top of the region,
// where the row they read has its original layout.

// joins applies the rule to n and below.
func (o *opt) joins(n planner.Node) planner.Node {
	switch x := n.(type) {
	case *planner.CTERef:
		return o.cte(x)
	case *planner.Filter:
		if isRegion(x) {
			return o.region(x)
		}
		in := o.joins(x.Input)
		var keep, move []planner.Expr
		for _, c := range conjuncts(x.Cond) {
			if hasCorrelated(c) {
				keep = append(keep, c)
			} else {
				move = append(move, c)
			}
		}
		out := o.pushFilter(move, in)
		if len(keep) > 0 {
			out = &planner.Filter{Input: out, Cond: o.and(keep)}
		}
		return out
	case *planner.Join:
		if isRegion(x) {
			return o.region(x)
		}
		return o.outerJoin(x)
	}
	return mapChildren(n, o.joins)
}

// innerJoin reports whether n is an inner or cross join whose condition
// holds no correlated subquery.
func innerJoin(n planner.Node) bool {
	j, ok := n.(*planner.Join)
	return ok && (j.Kind == planner.InnerJoin || j.Kind == planner.CrossJoin) && !hasCorrelated(j.Cond)
}

// isRegion reports whether n is the top of a join region: an inner join,
// or filters over one.
func isRegion(n planner.Node) bool {
	for {
		f, ok := n.(*planner.Filter)
		if !ok {
			return innerJoin(n)
		}
		n = f.Input
	}
}

// outerJoin handles a left, right, full, semi or anti join: the parts of
// its condition that read only the build (right) side filter that side
// first, where that keeps the join's meaning; the inputs are optimized.
func (o *opt) outerJoin(j *planner.Join) planner.Node {
	left, right := o.joins(j.Left), o.joins(j.Right)
	nLeft := len(j.Left.Schema())
	c := *j
	c.Left, c.Right = left, right
	if j.Cond == nil || hasCorrelated(j.Cond) {
		return &c
	}
	var keep, toRight, toLeft []planner.Expr
	for _, e := range conjuncts(j.Cond) {
		cols := colsOf(e)
		switch {
		case len(cols) > 0 && allFrom(cols, nLeft) &&
			(j.Kind == planner.LeftJoin || j.Kind == planner.SemiJoin || j.Kind == planner.AntiJoin):
			// Only right rows for which e holds can match: e can filter
			// them first.
			toRight = append(toRight, shift(e, -nLeft))
		case len(cols) > 0 && allBelow(cols, nLeft) && (j.Kind == planner.RightJoin || j.Kind == planner.SemiJoin):
			// Only left rows for which e holds can match (and a right join
			// keeps no unmatched left row; a semi join keeps only matched
			// ones): e can filter them first.
			toLeft = append(toLeft, e)
		default:
			keep = append(keep, e)
		}
	}
	if len(toRight) > 0 {
		c.Right = o.pushFilter(toRight, c.Right)
	}
	if len(toLeft) > 0 {
		c.Left = o.pushFilter(toLeft, c.Left)
	}
	// Without a condition left, every pair matches (a nested-loop join).
	c.Cond = o.and(keep)
	return &c
}

// allFrom reports whether every column is at or after from.
func allFrom(cols colSet, from int) bool {
	for c := range cols {
		if c < from {
			return false
		}
	}
	return true
}

// allBelow reports whether every column is before end.
func allBelow(cols colSet, end int) bool {
	for c := range cols {
		if c >= end {
			return false
		}
	}
	return true
}

// region is a join region being rebuilt.
type region struct {
	leaves  []planner.Node
	offsets []int // first column of each leaf in the region's layout
	width   int
	conds   []planner.Expr // over the region's layout
	top     []planner.Expr // must stay on top: correlated subqueries
	layout  []planner.Column
}

// collect adds n's relations and conditions to r. root is set for the
// region's top node.
func (o *opt) collect(n planner.Node, r *region, root bool) {
	switch x := n.(type) {
	case *planner.Filter:
		if root || !hasCorrelated(x.Cond) {
			start := r.width
			o.collect(x.Input, r, root)
			for _, c := range conjuncts(x.Cond) {
				if hasCorrelated(c) {
					r.top = append(r.top, c)
				} else {
					r.conds = append(r.conds, shift(c, start))
				}
			}
			return
		}
	case *planner.Join:
		if innerJoin(x) {
			start := r.width
			o.collect(x.Left, r, false)
			o.collect(x.Right, r, false)
			for _, c := range conjuncts(x.Cond) {
				r.conds = append(r.conds, shift(c, start))
			}
			return
		}
	}
	leaf := o.joins(n)
	r.leaves = append(r.leaves, leaf)
	r.offsets = append(r.offsets, r.width)
	r.width += len(leaf.Schema())
	r.layout = append(r.layout, leaf.Schema()...)
}

// leafOf returns the leaf that holds region column c.
func (r *region) leafOf(c int) int {
	for l := len(r.offsets) - 1; l >= 0; l-- {
		if c >= r.offsets[l] {
			return l
		}
	}
	return 0
}

// leavesOf returns the set of leaves a condition reads, as a bit set per
// leaf index.
func (r *region) leavesOf(e planner.Expr) map[int]bool {
	s := map[int]bool{}
	for c := range colsOf(e) {
		s[r.leafOf(c)] = true
	}
	return s
}

// region rebuilds the join region whose top is n.
func (o *opt) region(n planner.Node) planner.Node {
	r := &region{}
	o.collect(n, r, true)
	var conds []planner.Expr
	for _, c := range r.conds {
		conds = append(conds, o.factorOr(c)...)
	}
	leafConds := make([][]planner.Expr, len(r.leaves))
	type joinCond struct {
		e      planner.Expr
		leaves map[int]bool
		equi   bool
	}
	var pending []*joinCond
	var constant []planner.Expr
	for _, c := range conds {
		ls := r.leavesOf(c)
		switch len(ls) {
		case 0:
			constant = append(constant, c)
		case 1:
			for l := range ls {
				leafConds[l] = append(leafConds[l], shift(c, -r.offsets[l]))
			}
		default:
			jc := &joinCond{e: c, leaves: ls}
			jc.equi = isEquiJoin(c, func(s colSet) bool { return oneLeaf(r, s) }, func(s colSet) bool { return oneLeaf(r, s) })
			pending = append(pending, jc)
		}
	}
	leaves := make([]planner.Node, len(r.leaves))
	for l, leaf := range r.leaves {
		leaves[l] = o.pushFilter(leafConds[l], leaf)
	}

	// Join order: joinorder.go.
	var edges []edge
	for _, c := range pending {
		var set uint64
		for l := range c.leaves {
			set |= 1 << uint(l)
		}
		edges = append(edges, edge{e: c.e, set: set, equi: c.equi})
	}
	var acc planner.Node
	var accLayout []int
	if len(leaves) <= 64 {
		acc, accLayout = o.buildTree(r, leaves, edges, o.newGraph(r, leaves, edges).order(), make([]bool, len(edges)))
	} else {
		acc, accLayout = o.fromOrder(r, leaves, edges)
	}

	// Back to the original column order.
	var out planner.Node = acc
	pos := r.positions(accLayout)
	identity := true
	for i, p := range pos {
		if p != i {
			identity = false
		}
	}
	if !identity {
		exprs := make([]planner.Expr, r.width)
		for i := range exprs {
			c := r.layout[i]
			exprs[i] = &planner.ColRef{Index: pos[i], Name: c.Name, T: c.Type}
		}
		out = &planner.Project{Input: acc, Exprs: exprs, Columns: append([]planner.Column(nil), r.layout...)}
	}
	top := append(constant, r.top...)
	if len(top) > 0 {
		out = &planner.Filter{Input: out, Cond: o.and(top)}
	}
	return out
}

// hasStream reports whether n reads a stream (FROM STREAM, or a relation
// declared as a stream): a join must not take it as its build side.
func hasStream(n planner.Node) bool {
	if sc, ok := n.(*planner.Scan); ok {
		return sc.Stream || sc.Object != nil && sc.Object.Kind == catalog.ObjectStream
	}
	for _, c := range n.Children() {
		if hasStream(c) {
			return true
		}
	}
	return false
}

// oneLeaf reports whether the columns all belong to one leaf.
func oneLeaf(r *region, s colSet) bool {
	l := -1
	for c := range s {
		if x := r.leafOf(c); l >= 0 && x != l {
			return false
		} else {
			l = x
		}
	}
	return l >= 0
}

// positions maps each region column to its position in a join whose
// columns are the given leaves' columns in that order (-1: not there).
func (r *region) positions(layout []int) []int {
	pos := make([]int, r.width)
	for i := range pos {
		pos[i] = -1
	}
	at := 0
	for _, l := range layout {
		n := len(r.leaves[l].Schema())
		for j := 0; j < n; j++ {
			pos[r.offsets[l]+j] = at + j
		}
		at += n
	}
	return pos
}

// factorOr returns c, and when c is an OR whose every branch has some
// condition in common, those conditions too: (a AND b) OR (a AND d) is a
// AND (b OR d). The branches without the common conditions are kept as
// they are (their OR is still true), unless a branch is left empty, which
// makes the OR always true.
func (o *opt) factorOr(c planner.Expr) []planner.Expr {
	branches := disjuncts(c)
	if len(branches) < 2 || hasCorrelated(c) {
		return []planner.Expr{c}
	}
	parts := make([][]planner.Expr, len(branches))
	for i, b := range branches {
		parts[i] = conjuncts(b)
	}
	var common []planner.Expr
	for _, x := range parts[0] {
		inAll := true
		for _, p := range parts[1:] {
			found := false
			for _, y := range p {
				if planner.EqualExpr(x, y) {
					found = true
					break
				}
			}
			if !found {
				inAll = false
				break
			}
		}
		if inAll && !planner.HasSubquery(x) {
			dup := false
			for _, y := range common {
				if planner.EqualExpr(x, y) {
					dup = true
				}
			}
			if !dup {
				common = append(common, x)
			}
		}
	}
	if len(common) == 0 {
		return []planner.Expr{c}
	}
	var rest []planner.Expr
	for _, p := range parts {
		var left []planner.Expr
		for _, y := range p {
			isCommon := false
			for _, x := range common {
				if planner.EqualExpr(x, y) {
					isCommon = true
				}
			}
			if !isCommon {
				left = append(left, y)
			}
		}
		if len(left) == 0 {
			// This branch is just the common conditions: the OR adds nothing.
			return common
		}
		rest = append(rest, o.and(left))
	}
	return append(common, o.or(rest))
}

// buildTree makes the plan of a join tree over a region's leaves: each
// join gets the conditions (edges not yet used) whose relations are all
// below it. It returns the plan and the leaves in the order of its columns.
func (o *opt) buildTree(r *region, leaves []planner.Node, edges []edge, t *jtree, used []bool) (planner.Node, []int) {
	if t.left == nil {
		return leaves[t.leaf], []int{t.leaf}
	}
	left, ll := o.buildTree(r, leaves, edges, t.left, used)
	right, rl := o.buildTree(r, leaves, edges, t.right, used)
	layout := append(append([]int(nil), ll...), rl...)
	var on []planner.Expr
	for i, e := range edges {
		if !used[i] && e.set&t.set == e.set {
			used[i] = true
			on = append(on, e.e)
		}
	}
	return o.joinNode(r, left, right, layout, on), layout
}

// joinNode joins left and right (whose columns are the leaves of layout)
// on conditions over the region's layout.
func (o *opt) joinNode(r *region, left, right planner.Node, layout []int, on []planner.Expr) planner.Node {
	pos := r.positions(layout)
	mapped := make([]planner.Expr, len(on))
	for i, c := range on {
		mapped[i] = mapCols(c, func(c int) int { return pos[c] })
	}
	cols := append(append([]planner.Column(nil), left.Schema()...), right.Schema()...)
	j := &planner.Join{Kind: planner.InnerJoin, Left: left, Right: right, Cond: o.and(mapped), Columns: cols}
	if len(on) == 0 {
		j.Kind = planner.CrossJoin
	}
	return j
}

// fromOrder joins more relations than the join order handles left-deep in
// FROM order, each join with the conditions whose relations are all
// joined by then.
func (o *opt) fromOrder(r *region, leaves []planner.Node, edges []edge) (planner.Node, []int) {
	used := make([]bool, len(edges))
	acc, layout := leaves[0], []int{0}
	for l := 1; l < len(leaves); l++ {
		layout = append(layout, l)
		var on []planner.Expr
		for i, e := range edges {
			if !used[i] && maxLeaf(r, e.e) <= l {
				used[i] = true
				on = append(on, e.e)
			}
		}
		acc = o.joinNode(r, acc, leaves[l], append([]int(nil), layout...), on)
	}
	return acc, layout
}

// maxLeaf is the last leaf a condition reads.
func maxLeaf(r *region, e planner.Expr) int {
	m := 0
	for c := range colsOf(e) {
		m = max(m, r.leafOf(c))
	}
	return m
}
