package optimizer

import "github.com/etlc/etlc/planner"

// This rule picks the build side of SEMI, ANTI and LEFT joins. Such a join
// outputs the rows of its left input, and by default the executor builds
// its hash table on the right input (the subquery's rows) and streams the
// left one through it. When the left input is the smaller one, building
// on it is cheaper, and holds less memory: the join is marked BuildLeft,
// the executor builds on the left rows, streams the right ones through
// them marking the left rows they match, and at the end emits the marked
// rows (SEMI) or the unmarked ones (ANTI). EXISTS over a large table
// correlated with a filtered outer query (TPC-H Q4, Q21, Q22) is the case.
// A LEFT join likewise builds on its left input when that is the smaller
// (TPC-H Q13: customers left-joined with their orders): the executor runs
// it as a RIGHT join of the swapped inputs, whose unmatched build rows come
// out NULL-extended at the end.
// Only joins with an equality key qualify (the build side is a hash
// table), and never over a stream on the left: a stream is always the
// probe side.

// buildSides applies the rule to n and below (CTE plans are optimized on
// their own).
func (o *opt) buildSides(n planner.Node) planner.Node {
	if ref, ok := n.(*planner.CTERef); ok {
		return ref
	}
	n = mapChangedChildren(n, o.buildSides)
	j, ok := n.(*planner.Join)
	if !ok || (j.Kind != planner.SemiJoin && j.Kind != planner.AntiJoin && j.Kind != planner.LeftJoin) ||
		j.Cond == nil || planner.HasSubquery(j.Cond) {
		return n
	}
	l, r := o.card(j.Left), o.card(j.Right)
	left := l.rows < r.rows && len(equiKeys(j.Cond, len(l.cols))) > 0 && !hasStream(j.Left)
	if left == j.BuildLeft {
		return n
	}
	c := *j
	c.BuildLeft = left
	return &c
}
