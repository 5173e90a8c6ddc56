package optimizer

import (
	"fmt"

	"github.com/etlc/etlc/planner"
)

// This file copies plan nodes: with new children, or with every expression
// rewritten. Rules never modify a node in place, since plans may be shared
// (a CTE's plan is referenced from every use) or cached by a caller.

// copyWith returns a copy of the node n after edit has changed the copy.
func copyWith[T any, P interface {
	*T
	planner.Node
}](n P, edit func(P)) planner.Node {
	c := *n
	edit(&c)
	return P(&c)
}

// mapChildren returns a copy of n with each child c replaced by f(c) (n
// itself when it has no children). The rules that rewrite a plan bottom up
// call it before they look at n.
func mapChildren(n planner.Node, f func(planner.Node) planner.Node) planner.Node {
	kids := n.Children()
	if len(kids) == 0 {
		return n
	}
	nk := make([]planner.Node, len(kids))
	for i, k := range kids {
		nk[i] = f(k)
	}
	return withChildren(n, nk)
}

// mapChangedChildren is mapChildren that returns n itself, not a copy,
// when f returns every child unchanged.
func mapChangedChildren(n planner.Node, f func(planner.Node) planner.Node) planner.Node {
	kids := n.Children()
	nk := make([]planner.Node, len(kids))
	changed := false
	for i, k := range kids {
		nk[i] = f(k)
		changed = changed || nk[i] != k
	}
	if !changed {
		return n
	}
	return withChildren(n, nk)
}

// withChildren returns a copy of n with the given children (in the order
// of n.Children()).
func withChildren(n planner.Node, kids []planner.Node) planner.Node {
	switch n := n.(type) {
	case *planner.Scan, *planner.Values:
		return n
	case *planner.Filter:
		return copyWith(n, func(c *planner.Filter) { c.Input = kids[0] })
	case *planner.Project:
		return copyWith(n, func(c *planner.Project) { c.Input = kids[0] })
	case *planner.Aggregate:
		return copyWith(n, func(c *planner.Aggregate) { c.Input = kids[0] })
	case *planner.Join:
		return copyWith(n, func(c *planner.Join) { c.Left, c.Right = kids[0], kids[1] })
	case *planner.Sort:
		return copyWith(n, func(c *planner.Sort) { c.Input = kids[0] })
	case *planner.Limit:
		return copyWith(n, func(c *planner.Limit) { c.Input = kids[0] })
	case *planner.SetOp:
		return copyWith(n, func(c *planner.SetOp) { c.Left, c.Right = kids[0], kids[1] })
	case *planner.Distinct:
		return copyWith(n, func(c *planner.Distinct) { c.Input = kids[0] })
	case *planner.Expect:
		return copyWith(n, func(c *planner.Expect) { c.Input = kids[0] })
	case *planner.Window:
		return copyWith(n, func(c *planner.Window) { c.Input = kids[0] })
	case *planner.ProjectSet:
		return copyWith(n, func(c *planner.ProjectSet) { c.Input = kids[0] })
	case *planner.CTERef:
		return copyWith(n, func(c *planner.CTERef) { c.Plan = kids[0] })
	case *planner.RecursiveCTE:
		return copyWith(n, func(c *planner.RecursiveCTE) { c.Anchor, c.Recursive = kids[0], kids[1] })
	case *planner.WorkTable:
		return n
	}
	panic(fmt.Sprintf("optimizer: unknown plan node %T", n))
}

// mapExprs returns a copy of n with every expression it evaluates replaced
// by f's result (children untouched).
func mapExprs(n planner.Node, f func(planner.Expr) planner.Expr) planner.Node {
	opt := func(e planner.Expr) planner.Expr {
		if e == nil {
			return nil
		}
		return f(e)
	}
	keys := func(ks []planner.SortKey) []planner.SortKey {
		if ks == nil {
			return nil
		}
		out := make([]planner.SortKey, len(ks))
		for i, k := range ks {
			out[i] = k
			out[i].Expr = f(k.Expr)
		}
		return out
	}
	list := func(es []planner.Expr) []planner.Expr {
		if es == nil {
			return nil
		}
		out := make([]planner.Expr, len(es))
		for i, e := range es {
			out[i] = f(e)
		}
		return out
	}
	switch n := n.(type) {
	case *planner.Scan, *planner.SetOp, *planner.Distinct, *planner.CTERef, *planner.RecursiveCTE, *planner.WorkTable:
		return n
	case *planner.Values:
		c := *n
		c.Rows = make([][]planner.Expr, len(n.Rows))
		for i, r := range n.Rows {
			c.Rows[i] = list(r)
		}
		return &c
	case *planner.Filter:
		c := *n
		c.Cond = f(n.Cond)
		return &c
	case *planner.Expect:
		c := *n
		c.Checks = make([]*planner.Expectation, len(n.Checks))
		for i, x := range n.Checks {
			xc := *x
			xc.Cond = f(x.Cond)
			c.Checks[i] = &xc
		}
		return &c
	case *planner.Project:
		c := *n
		c.Exprs = list(n.Exprs)
		return &c
	case *planner.Aggregate:
		c := *n
		c.GroupBy = list(n.GroupBy)
		if n.Window != nil {
			w := *n.Window
			w.Time = f(w.Time)
			c.Window = &w
		}
		c.Aggs = make([]*planner.AggCall, len(n.Aggs))
		for i, a := range n.Aggs {
			ac := *a
			ac.Args = list(a.Args)
			ac.Filter = opt(a.Filter)
			ac.OrderBy = keys(a.OrderBy)
			c.Aggs[i] = &ac
		}
		return &c
	case *planner.Join:
		c := *n
		c.Cond = opt(n.Cond)
		return &c
	case *planner.Sort:
		c := *n
		c.Keys = keys(n.Keys)
		return &c
	case *planner.Limit:
		c := *n
		c.Count = opt(n.Count)
		c.Offset = opt(n.Offset)
		return &c
	case *planner.ProjectSet:
		c := *n
		c.Funcs = make([]*planner.SetFunc, len(n.Funcs))
		for i, sf := range n.Funcs {
			fc := *sf
			fc.Args = list(sf.Args)
			c.Funcs[i] = &fc
		}
		return &c
	case *planner.Window:
		c := *n
		c.Funcs = make([]*planner.WindowFunc, len(n.Funcs))
		for i, w := range n.Funcs {
			wc := *w
			wc.Args = list(w.Args)
			wc.PartitionBy = list(w.PartitionBy)
			wc.OrderBy = keys(w.OrderBy)
			if w.Frame != nil {
				fr := *w.Frame
				fr.Start.Offset = opt(fr.Start.Offset)
				fr.End.Offset = opt(fr.End.Offset)
				wc.Frame = &fr
			}
			c.Funcs[i] = &wc
		}
		return &c
	}
	panic(fmt.Sprintf("optimizer: unknown plan node %T", n))
}
