package optimizer

import (
	"github.com/etlc/etlc/planner"
)

// Optimizer applies the rewrite rules to logical plans. It is safe to use
// from one goroutine at a time; make one per statement.
type Optimizer struct {
	and *planner.Func
	// memo maps every node already rewritten to its result, so a plan
	// shared by pointer (a CTE referenced twice) stays shared.
	memo map[planner.Node]planner.Node
}

// New returns an optimizer using reg's functions for the expressions it
// builds (conjunctions).
func New(reg *planner.Registry) *Optimizer {
	and, _ := reg.Lookup("and")
	return &Optimizer{and: and, memo: map[planner.Node]planner.Node{}}
}

// Optimize returns n rewritten by every rule; n itself is not modified.
func (o *Optimizer) Optimize(n planner.Node) planner.Node {
	return o.node(n)
}

// node rewrites one plan node, its inputs first.
func (o *Optimizer) node(n planner.Node) planner.Node {
	if n == nil {
		return nil
	}
	if r, ok := o.memo[n]; ok {
		return r
	}
	var out planner.Node
	switch x := n.(type) {
	case *planner.Filter:
		out = o.pushFilter(o.node(x.Input), conjuncts(o.exprs(x.Cond)))
	case *planner.Project:
		c := *x
		c.Input = o.node(x.Input)
		c.Exprs = make([]planner.Expr, len(x.Exprs))
		for i, e := range x.Exprs {
			c.Exprs[i] = o.exprs(e)
		}
		out = &c
	case *planner.Join:
		c := *x
		c.Left, c.Right = o.node(x.Left), o.node(x.Right)
		c.Cond = o.exprs(x.Cond)
		if c.Kind == planner.InnerJoin {
			// An inner join's own condition is a filter over its inputs.
			cond := c.Cond
			c.Cond = nil
			out = o.pushFilter(&c, conjuncts(cond))
		} else {
			out = &c
		}
	case *planner.Aggregate:
		c := *x
		c.Input = o.node(x.Input)
		out = &c
	case *planner.Sort:
		c := *x
		c.Input = o.node(x.Input)
		out = &c
	case *planner.Limit:
		c := *x
		c.Input = o.node(x.Input)
		out = &c
	case *planner.SetOp:
		c := *x
		c.Left, c.Right = o.node(x.Left), o.node(x.Right)
		out = &c
	case *planner.Distinct:
		c := *x
		c.Input = o.node(x.Input)
		out = &c
	case *planner.Window:
		c := *x
		c.Input = o.node(x.Input)
		out = &c
	case *planner.CTERef:
		c := *x
		c.Plan = o.node(x.Plan)
		out = &c
	default: // leaves: Scan, Values
		out = n
	}
	o.memo[n] = out
	return out
}

// exprs rewrites the plans of the subqueries inside e.
func (o *Optimizer) exprs(e planner.Expr) planner.Expr {
	if e == nil || !hasSubquery(e) {
		return e
	}
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if s, ok := x.(*planner.Subquery); ok {
			c := *s
			c.Plan = o.node(s.Plan)
			return &c
		}
		return x
	})
}

// conjuncts splits e at its top-level ANDs.
func conjuncts(e planner.Expr) []planner.Expr {
	if e == nil {
		return nil
	}
	if c, ok := e.(*planner.Call); ok && c.Name == "and" && len(c.Args) == 2 {
		return append(conjuncts(c.Args[0]), conjuncts(c.Args[1])...)
	}
	return []planner.Expr{e}
}

// conjoin joins es with AND (nil for none).
func (o *Optimizer) conjoin(es []planner.Expr) planner.Expr {
	var out planner.Expr
	for _, e := range es {
		if out == nil {
			out = e
			continue
		}
		out = &planner.Call{Fn: o.and, Name: "and", Args: []planner.Expr{out, e}, T: out.Type()}
	}
	return out
}

// hasSubquery reports whether e contains a subquery.
func hasSubquery(e planner.Expr) bool {
	found := false
	planner.WalkExpr(e, func(x planner.Expr) bool {
		if _, ok := x.(*planner.Subquery); ok {
			found = true
		}
		return !found
	})
	return found
}
