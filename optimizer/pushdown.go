package optimizer

import (
	"github.com/etlc/etlc/planner"
)

// pushFilter returns n filtered by conds (conditions over n's output, none
// holding a correlated subquery), with each condition moved as far down
// as it keeps its meaning:
//
//   - into the input of a filter (merged), a sort, a projection (the
//     condition reads the projected expressions instead of the columns,
//     unless one of them holds a subquery or is not deterministic), an
//     aggregate (conditions on group keys only);
//   - through an inner join to the side whose columns it reads (or into
//     the join condition), through a left join to the left side, into the
//     left side of a semi or anti join;
//   - otherwise it stays in a filter on n.
func (o *opt) pushFilter(conds []planner.Expr, n planner.Node) planner.Node {
	if len(conds) == 0 {
		return n
	}
	var keep []planner.Expr
	switch x := n.(type) {
	case *planner.Filter:
		if !hasCorrelated(x.Cond) {
			return o.pushFilter(append(conjuncts(x.Cond), conds...), x.Input)
		}
		keep = conds
	case *planner.Sort:
		c := *x
		c.Input = o.pushFilter(conds, x.Input)
		return &c
	case *planner.Project:
		var in planner.Node
		in, keep = o.pushThrough(conds, x.Exprs, x.Input, func(e planner.Expr) bool { return movable(e, x.Exprs) })
		if in != nil {
			n = copyWith(x, func(c *planner.Project) { c.Input = in })
		}
	case *planner.Aggregate:
		keys := len(x.GroupBy)
		var in planner.Node
		in, keep = o.pushThrough(conds, x.GroupBy, x.Input, func(e planner.Expr) bool {
			return x.Window == nil && keys > 0 && allBelow(colsOf(e), keys) && movable(e, x.GroupBy)
		})
		if in != nil {
			n = copyWith(x, func(c *planner.Aggregate) { c.Input = in })
		}
	case *planner.Join:
		if hasCorrelated(x.Cond) {
			keep = conds
			break
		}
		nLeft := len(x.Left.Schema())
		var toLeft, toRight, toCond []planner.Expr
		for _, e := range conds {
			cols := colsOf(e)
			switch {
			case x.Kind == planner.SemiJoin || x.Kind == planner.AntiJoin:
				toLeft = append(toLeft, e)
			case len(cols) > 0 && allBelow(cols, nLeft) && (x.Kind == planner.InnerJoin || x.Kind == planner.CrossJoin || x.Kind == planner.LeftJoin):
				toLeft = append(toLeft, e)
			case len(cols) > 0 && allFrom(cols, nLeft) && (x.Kind == planner.InnerJoin || x.Kind == planner.CrossJoin || x.Kind == planner.RightJoin):
				toRight = append(toRight, shift(e, -nLeft))
			case len(cols) > 0 && (x.Kind == planner.InnerJoin || x.Kind == planner.CrossJoin):
				toCond = append(toCond, e)
			default:
				keep = append(keep, e)
			}
		}
		if len(toLeft)+len(toRight)+len(toCond) > 0 {
			c := *x
			c.Left = o.pushFilter(toLeft, x.Left)
			c.Right = o.pushFilter(toRight, x.Right)
			if len(toCond) > 0 {
				c.Cond = o.and(append(conjuncts(x.Cond), toCond...))
				if c.Kind == planner.CrossJoin {
					c.Kind = planner.InnerJoin
				}
			}
			n = &c
		}
	default:
		keep = conds
	}
	if len(keep) == 0 {
		return n
	}
	return &planner.Filter{Input: n, Cond: o.and(keep)}
}

// pushThrough pushes the conditions can accepts, rewritten to read exprs
// (the outputs of a node over input), into input; it returns the new
// input (nil when none moved) and the conditions that stay.
func (o *opt) pushThrough(conds, exprs []planner.Expr, input planner.Node, can func(planner.Expr) bool) (planner.Node, []planner.Expr) {
	var down, keep []planner.Expr
	for _, e := range conds {
		if can(e) {
			down = append(down, substitute(e, exprs))
		} else {
			keep = append(keep, e)
		}
	}
	if len(down) == 0 {
		return nil, keep
	}
	return o.pushFilter(down, input), keep
}

// volatile lists the functions whose value changes from call to call: an
// expression with one is not copied, since each copy would differ.
var volatile = map[string]bool{"random": true, "rand": true, "uuid": true, "gen_random_uuid": true}

// movable reports whether condition e, over the outputs of exprs, can be
// rewritten to read the expressions themselves.
func movable(e planner.Expr, exprs []planner.Expr) bool {
	if hasCorrelated(e) {
		return false
	}
	for c := range colsOf(e) {
		if c >= len(exprs) {
			return false
		}
		x := exprs[c]
		if planner.HasSubquery(x) || hasOuter(x) {
			return false
		}
		bad := false
		planner.WalkExpr(x, func(y planner.Expr) bool {
			if call, ok := y.(*planner.Call); ok && volatile[call.Name] {
				bad = true
			}
			return !bad
		})
		if bad {
			return false
		}
	}
	return true
}

// substitute replaces the column references of e by the expressions they
// name.
func substitute(e planner.Expr, exprs []planner.Expr) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if c, ok := x.(*planner.ColRef); ok {
			return exprs[c.Index]
		}
		return x
	})
}
