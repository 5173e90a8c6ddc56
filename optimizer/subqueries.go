package optimizer

import "github.com/etlc/etlc/planner"

// subqueries optimizes the plans of the subqueries used as expressions in
// n and below, and the plans of the CTEs n references: each is a plan of
// its own. An EXISTS uses no column of its plan; the other kinds use the
// first.
func (o *opt) subqueries(n planner.Node) planner.Node {
	if ref, ok := n.(*planner.CTERef); ok {
		return o.cte(ref)
	}
	n = mapChildren(n, o.subqueries)
	return mapExprs(n, o.subqueryExprs)
}

// subqueryExprs returns e with the plan of each subquery in it optimized.
func (o *opt) subqueryExprs(e planner.Expr) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		sq, ok := x.(*planner.Subquery)
		if !ok {
			return x
		}
		c := *sq
		need := make([]bool, len(sq.Plan.Schema()))
		if sq.Kind != planner.SubExists && len(need) > 0 {
			need[0] = true
		}
		c.Plan = o.rootNeed(sq.Plan, need)
		return &c
	})
}
