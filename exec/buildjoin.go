package exec

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// conjuncts splits a condition at its top-level ANDs; and is one of the
// AND calls met (nil when there is none), to rebuild a conjunction with.
func conjuncts(e planner.Expr, out []planner.Expr, and **planner.Call) []planner.Expr {
	if c, ok := e.(*planner.Call); ok && c.Name == "and" && len(c.Args) == 2 {
		*and = c
		return conjuncts(c.Args[1], conjuncts(c.Args[0], out, and), and)
	}
	return append(out, e)
}

// Sides of an expression in a join condition.
const (
	sideNone  = 0 // no column of either input
	sideLeft  = 1
	sideRight = 2
	sideBoth  = 3
)

// sideOf says which inputs an expression over the join row reads; a
// subquery counts as both (it may read either side).
func sideOf(e planner.Expr, nLeft int) int {
	s := sideNone
	planner.WalkExpr(e, func(x planner.Expr) bool {
		switch x := x.(type) {
		case *planner.ColRef:
			if x.Index < nLeft {
				s |= sideLeft
			} else {
				s |= sideRight
			}
		case *planner.Subquery:
			s = sideBoth
		}
		return true
	})
	return s
}

// shift rebases the column references of an expression over the join row
// by -nLeft, to an expression over the right input.
func shift(e planner.Expr, nLeft int) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if c, ok := x.(*planner.ColRef); ok {
			c2 := *c
			c2.Index -= nLeft
			return &c2
		}
		return x
	})
}

// equiKey is one equality of a join condition: left = right.
type equiKey struct {
	left, right planner.Expr
	nullSafe    bool
}

// splitJoinCond separates the equi-keys of a join condition (conjuncts
// l = r or l IS NOT DISTINCT FROM r, with l over the left input and r over
// the right one, either way round) from the residual conjuncts.
func splitJoinCond(cond planner.Expr, nLeft int) (keys []equiKey, residual planner.Expr) {
	if cond == nil {
		return nil, nil
	}
	var and *planner.Call
	var rest []planner.Expr
	for _, c := range conjuncts(cond, nil, &and) {
		call, ok := c.(*planner.Call)
		if ok && (call.Name == "eq" || call.Name == "is_not_distinct_from") && len(call.Args) == 2 &&
			call.Args[0].Type().Kind != catalog.KindNull &&
			sameKeyType(call.Args[0].Type().Arrow(), call.Args[1].Type().Arrow()) {
			a, b := call.Args[0], call.Args[1]
			sa, sb := sideOf(a, nLeft), sideOf(b, nLeft)
			if sa == sideRight && sb == sideLeft {
				a, b, sa, sb = b, a, sb, sa
			}
			if sa == sideLeft && sb == sideRight {
				keys = append(keys, equiKey{left: a, right: shift(b, nLeft), nullSafe: call.Name == "is_not_distinct_from"})
				continue
			}
		}
		rest = append(rest, c)
	}
	for _, r := range rest {
		if residual == nil {
			residual = r
			continue
		}
		c := *and
		c.Args = []planner.Expr{residual, r}
		residual = &c
	}
	return keys, residual
}

func (b *builder) join(n *planner.Join) (Operator, error) {
	keys, _ := splitJoinCond(n.Cond, len(n.Left.Schema()))
	rf := b.planFilters(n, keys)
	l, err := b.build(n.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.build(n.Right)
	if err != nil {
		closeAll(l)
		return nil, err
	}
	j, err := b.hashJoin(n, l, r)
	if err != nil {
		closeAll(l, r)
		return nil, err
	}
	j.filter = rf
	return b.joinOutput(n, j)
}

// joinOutput puts the columns of a LEFT join built on its left input (a
// RIGHT join of the swapped inputs, whose rows are right columns then
// left ones) back in the plan's order.
func (b *builder) joinOutput(n *planner.Join, j *Join) (Operator, error) {
	if n.Kind != planner.LeftJoin || j.spec.Kind != JoinRight {
		return j, nil
	}
	nl, nr := len(n.Left.Schema()), len(n.Right.Schema())
	in := j.Schema()
	evs := make([]expr.Evaluator, 0, nl+nr)
	for i := 0; i < nl+nr; i++ {
		src := nr + i
		if i >= nl {
			src = i - nl
		}
		ev, err := b.compile(&planner.ColRef{Index: src, T: n.Columns[i].Type}, in)
		if err != nil {
			j.Close()
			return nil, err
		}
		evs = append(evs, ev)
	}
	return NewProject(j, evs, SchemaOf(n.Columns)), nil
}

// hashJoin makes the join of n over the operators l and r (which it does
// not close on error). A SEMI or ANTI join with n.BuildLeft set becomes a
// RIGHT SEMI or RIGHT ANTI join of r and l: l, the side it outputs, is
// the build side; a LEFT join with it set becomes a RIGHT join of r and l
// (joinOutput restores the column order).
func (b *builder) hashJoin(n *planner.Join, l, r Operator) (*Join, error) {
	kind := map[planner.JoinKind]JoinKind{planner.InnerJoin: JoinInner, planner.LeftJoin: JoinLeft,
		planner.RightJoin: JoinRight, planner.FullJoin: JoinFull, planner.CrossJoin: JoinInner,
		planner.SemiJoin: JoinSemi, planner.AntiJoin: JoinAnti}[n.Kind]
	schema := SchemaOf(n.Columns)
	nLeft := len(n.Left.Schema())
	keys, residual := splitJoinCond(n.Cond, nLeft)
	if buildsLeft(n) && len(keys) > 0 {
		kind = map[JoinKind]JoinKind{JoinSemi: JoinRightSemi, JoinAnti: JoinRightAnti, JoinLeft: JoinRight}[kind]
		if kind == JoinRight {
			nl := len(n.Left.Schema())
			schema = SchemaOf(append(append([]planner.Column(nil), n.Columns[nl:]...), n.Columns[:nl]...))
		}
		for i, k := range keys {
			keys[i].left, keys[i].right = k.right, k.left
		}
		if residual != nil {
			residual = swapSides(residual, nLeft, len(n.Right.Schema()))
		}
		l, r = r, l
	}
	spec := JoinSpec{Kind: kind}
	for _, k := range keys {
		le, err := b.compile(k.left, l.Schema())
		if err != nil {
			return nil, err
		}
		re, err := b.compile(k.right, r.Schema())
		if err != nil {
			return nil, err
		}
		spec.LeftKeys = append(spec.LeftKeys, le)
		spec.RightKeys = append(spec.RightKeys, re)
		spec.NullSafe = append(spec.NullSafe, k.nullSafe)
	}
	if residual != nil {
		var err error
		if spec.Residual, err = b.compile(residual, pairSchemaOf(l.Schema(), r.Schema())); err != nil {
			return nil, err
		}
	}
	return NewHashJoin(l, r, spec, schema, b.env.Mem), nil
}

// buildsLeft reports whether the join of n builds on its left input.
func buildsLeft(n *planner.Join) bool {
	return n.BuildLeft && (n.Kind == planner.SemiJoin || n.Kind == planner.AntiJoin || n.Kind == planner.LeftJoin)
}

// swapSides rewrites an expression over the row (left columns, then nRight
// right columns) into one over (right columns, then left columns).
func swapSides(e planner.Expr, nLeft, nRight int) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if c, ok := x.(*planner.ColRef); ok {
			c2 := *c
			if c.Index < nLeft {
				c2.Index += nRight
			} else {
				c2.Index -= nLeft
			}
			return &c2
		}
		return x
	})
}
