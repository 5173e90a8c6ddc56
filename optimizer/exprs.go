package optimizer

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the expression helpers the rules share: conjunctions,
// the columns an expression reads, and rewriting column references.

// conjuncts splits e at its top-level ANDs.
func conjuncts(e planner.Expr) []planner.Expr {
	if c, ok := e.(*planner.Call); ok && c.Name == "and" && len(c.Args) == 2 {
		return append(conjuncts(c.Args[0]), conjuncts(c.Args[1])...)
	}
	if e == nil {
		return nil
	}
	return []planner.Expr{e}
}

// disjuncts splits e at its top-level ORs.
func disjuncts(e planner.Expr) []planner.Expr {
	if c, ok := e.(*planner.Call); ok && c.Name == "or" && len(c.Args) == 2 {
		return append(disjuncts(c.Args[0]), disjuncts(c.Args[1])...)
	}
	return []planner.Expr{e}
}

// and joins conditions with AND, left-deep; nil for none.
func (o *opt) and(es []planner.Expr) planner.Expr {
	return o.fold("and", es)
}

// or joins conditions with OR, left-deep.
func (o *opt) or(es []planner.Expr) planner.Expr {
	return o.fold("or", es)
}

func (o *opt) fold(name string, es []planner.Expr) planner.Expr {
	var out planner.Expr
	fn, _ := o.reg.Lookup(name)
	for _, e := range es {
		if out == nil {
			out = e
			continue
		}
		out = &planner.Call{Fn: fn, Name: name, Args: []planner.Expr{out, e}, T: catalog.Bool}
	}
	return out
}

// colSet is a set of column indexes.
type colSet map[int]bool

// hasCorrelated reports whether e holds a correlated subquery: its plan
// reads the row e is evaluated on, so e cannot move to another input.
func hasCorrelated(e planner.Expr) bool {
	found := false
	planner.WalkExpr(e, func(x planner.Expr) bool {
		if sq, ok := x.(*planner.Subquery); ok && sq.Correlated {
			found = true
		}
		return !found
	})
	return found
}

// nodeHasCorrelated reports whether one of n's own expressions holds a
// correlated subquery.
func nodeHasCorrelated(n planner.Node) bool {
	for _, e := range planner.NodeExprs(n) {
		if hasCorrelated(e) {
			return true
		}
	}
	if w, ok := n.(*planner.Window); ok {
		for _, f := range w.Funcs {
			if f.Frame != nil && (hasCorrelated(f.Frame.Start.Offset) || hasCorrelated(f.Frame.End.Offset)) {
				return true
			}
		}
	}
	return false
}

// colsOf returns the input columns e reads (its ColRefs; the plans of
// uncorrelated subqueries read none). e must hold no correlated subquery.
func colsOf(e planner.Expr) colSet {
	s := colSet{}
	addCols(s, e)
	return s
}

func addCols(s colSet, e planner.Expr) {
	planner.WalkExpr(e, func(x planner.Expr) bool {
		if c, ok := x.(*planner.ColRef); ok {
			s[c.Index] = true
		}
		return true
	})
}

// hasOuter reports whether e reads an enclosing query's row directly (an
// OuterRef outside subquery plans).
func hasOuter(e planner.Expr) bool {
	found := false
	planner.WalkExpr(e, func(x planner.Expr) bool {
		if _, ok := x.(*planner.OuterRef); ok {
			found = true
		}
		return !found
	})
	return found
}

// mapCols rewrites the ColRefs of e through f (old index to new index). e
// must hold no correlated subquery.
func mapCols(e planner.Expr, f func(int) int) planner.Expr {
	if e == nil {
		return nil
	}
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if c, ok := x.(*planner.ColRef); ok {
			out := *c
			out.Index = f(c.Index)
			return &out
		}
		return x
	})
}

// shift adds d to every ColRef index of e.
func shift(e planner.Expr, d int) planner.Expr {
	if d == 0 {
		return e
	}
	return mapCols(e, func(i int) int { return i + d })
}

// escapes reports whether plan n reads a row outside itself: an OuterRef
// whose depth reaches past the subquery nesting at which it stands.
func escapes(n planner.Node) bool {
	return maxEscape(n, 0) > 0
}

// maxEscape returns how many levels past n's own query the deepest outer
// reference in n reaches (0: none). level is the nesting of n below the
// query being asked about.
func maxEscape(n planner.Node, level int) int {
	m := 0
	for _, e := range nodeAllExprs(n) {
		if d := exprEscape(e, level); d > m {
			m = d
		}
	}
	for _, c := range n.Children() {
		if d := maxEscape(c, level); d > m {
			m = d
		}
	}
	return m
}

// exprEscape is maxEscape for an expression evaluated at nesting level.
func exprEscape(e planner.Expr, level int) int {
	m := 0
	planner.WalkExpr(e, func(x planner.Expr) bool {
		switch x := x.(type) {
		case *planner.OuterRef:
			if d := x.Depth - level; d > m {
				m = d
			}
		case *planner.Subquery:
			if d := maxEscape(x.Plan, level+1); d > m {
				m = d
			}
		}
		return true
	})
	return m
}

// nodeAllExprs is planner.NodeExprs plus the frame offsets of windows and
// the ORDER BY keys of aggregates.
func nodeAllExprs(n planner.Node) []planner.Expr {
	out := planner.NodeExprs(n)
	switch n := n.(type) {
	case *planner.Window:
		for _, f := range n.Funcs {
			if f.Frame != nil {
				out = append(out, f.Frame.Start.Offset, f.Frame.End.Offset)
			}
		}
	case *planner.Aggregate:
		for _, a := range n.Aggs {
			for _, k := range a.OrderBy {
				out = append(out, k.Expr)
			}
		}
		if w := n.Window; w != nil {
			out = append(out, w.Size, w.Slide, w.Gap)
		}
	}
	return out
}

// colRefs returns ColRefs for columns [from, from+len(cols)) of a schema.
func colRefs(cols []planner.Column, from int) []planner.Expr {
	out := make([]planner.Expr, len(cols))
	for i, c := range cols {
		out[i] = &planner.ColRef{Index: from + i, Name: c.Name, T: c.Type}
	}
	return out
}

// isEquiJoin reports whether e is l = r with l reading only columns of one
// side and r only of the other, split at column index split.
func isEquiJoin(e planner.Expr, inLeft func(colSet) bool, inRight func(colSet) bool) bool {
	c, ok := e.(*planner.Call)
	if !ok || c.Name != "eq" || len(c.Args) != 2 || hasCorrelated(e) {
		return false
	}
	a, b := colsOf(c.Args[0]), colsOf(c.Args[1])
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return inLeft(a) && inRight(b) || inLeft(b) && inRight(a)
}
