package optimizer

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This rule moves LIMIT down, so that less is computed and a LIMIT meets
// the ORDER BY it belongs to (exec runs Sort under Limit as a top-N that
// keeps only count+offset rows):
//
//   - through a projection: LIMIT n over SELECT exprs computes the
//     expressions of n rows only, and a projection between ORDER BY and
//     LIMIT no longer hides the top-N;
//   - into both sides of UNION ALL: each side needs at most count+offset
//     rows (the LIMIT stays on top to cut the union).
//
// Only constant counts and offsets move.

// pushLimits applies the rule to n and below.
func (o *opt) pushLimits(n planner.Node) planner.Node {
	if ref, ok := n.(*planner.CTERef); ok {
		return ref
	}
	if l, ok := n.(*planner.Limit); ok {
		n = o.pushLimit(l)
	}
	return mapChangedChildren(n, o.pushLimits)
}

// limitConst returns a constant count or offset (0 for none); ok is false
// for anything else.
func limitConst(e planner.Expr) (int64, bool) {
	if e == nil {
		return 0, true
	}
	k, ok := e.(*planner.Const)
	if !ok {
		return 0, false
	}
	v, ok := k.Value.(int64)
	return v, ok && v >= 0
}

// pushLimit moves one LIMIT as far down as it goes.
func (o *opt) pushLimit(l *planner.Limit) planner.Node {
	count, cok := limitConst(l.Count)
	offset, ook := limitConst(l.Offset)
	if !cok || !ook || l.Count == nil {
		return l
	}
	switch in := l.Input.(type) {
	case *planner.Project:
		for _, e := range in.Exprs {
			if planner.HasSubquery(e) {
				return l
			}
		}
		lc := *l
		lc.Input = in.Input
		p := *in
		p.Input = o.pushLimit(&lc)
		return &p
	case *planner.SetOp:
		if in.Kind != planner.Union || !in.All {
			return l
		}
		side := func(n planner.Node) planner.Node {
			if inner, ok := n.(*planner.Limit); ok {
				if c, ok := limitConst(inner.Count); ok && inner.Count != nil && inner.Offset == nil && c <= count+offset {
					return n
				}
			}
			return o.pushLimit(&planner.Limit{Input: n, Count: &planner.Const{Value: count + offset, T: catalog.Int64}})
		}
		s := *in
		s.Left, s.Right = side(in.Left), side(in.Right)
		lc := *l
		lc.Input = &s
		return &lc
	}
	return l
}
