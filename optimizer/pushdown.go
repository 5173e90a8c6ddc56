package optimizer

import "github.com/etlc/etlc/planner"

// Predicate pushdown.
//
// A condition over a join's output moves to where it can act first: a
// conjunct that reads columns of one input only becomes a filter of that
// input (and travels further down through its joins), a conjunct that
// reads both inputs of an inner or cross join becomes part of the join's
// condition, which turns `FROM a, b WHERE a.k = b.k` into a hash join on k
// instead of a cross product. Conjuncts with subqueries stay where they
// are (their outer references are bound to the row they sit over), and
// nothing moves into the null-supplying side of an outer join or across
// an aggregate, a window, a limit or a set operation.

// pushFilter returns in filtered by conds, with every conjunct that can
// move moved into in.
func (o *Optimizer) pushFilter(in planner.Node, conds []planner.Expr) planner.Node {
	if len(conds) == 0 {
		return in
	}
	switch x := in.(type) {
	case *planner.Filter:
		return o.pushFilter(x.Input, append(conjuncts(x.Cond), conds...))
	case *planner.Join:
		if x.Kind == planner.InnerJoin || x.Kind == planner.CrossJoin {
			return o.pushIntoJoin(x, conds)
		}
	}
	return &planner.Filter{Input: in, Cond: o.conjoin(conds)}
}

// pushIntoJoin distributes conds (over j's output: left columns, then
// right columns) over an inner or cross join.
func (o *Optimizer) pushIntoJoin(j *planner.Join, conds []planner.Expr) planner.Node {
	nLeft := len(j.Left.Schema())
	var left, right, both, keep []planner.Expr
	for _, c := range append(conjuncts(j.Cond), conds...) {
		if hasSubquery(c) {
			keep = append(keep, c)
			continue
		}
		l, r := sides(c, nLeft)
		switch {
		case l && r:
			both = append(both, c)
		case l:
			left = append(left, c)
		case r:
			right = append(right, shift(c, -nLeft))
		default: // constant: keep it above, evaluated once per row as written
			keep = append(keep, c)
		}
	}
	out := *j
	out.Left = o.pushFilter(j.Left, left)
	out.Right = o.pushFilter(j.Right, right)
	out.Cond = o.conjoin(both)
	out.Kind = planner.CrossJoin
	if out.Cond != nil {
		out.Kind = planner.InnerJoin
	}
	if len(keep) == 0 {
		return &out
	}
	return &planner.Filter{Input: &out, Cond: o.conjoin(keep)}
}

// sides reports whether e reads columns of the left input (index below
// nLeft) and of the right one.
func sides(e planner.Expr, nLeft int) (left, right bool) {
	planner.WalkExpr(e, func(x planner.Expr) bool {
		if c, ok := x.(*planner.ColRef); ok {
			if c.Index < nLeft {
				left = true
			} else {
				right = true
			}
		}
		return true
	})
	return left, right
}

// shift returns e with every column index moved by d.
func shift(e planner.Expr, d int) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if c, ok := x.(*planner.ColRef); ok {
			s := *c
			s.Index += d
			return &s
		}
		return x
	})
}
