package optimizer

import (
	"fmt"

	"github.com/etlc/etlc/planner"
)

// This rule removes correlated subqueries that would otherwise run once per
// row of the query around them:
//
//	WHERE ... AND [NOT] EXISTS (SELECT ... FROM x WHERE x.k = t.k AND p)
//	  -> t SEMI (ANTI) JOIN (x WHERE p) ON x.k = t.k
//
//	... (SELECT agg(v) FROM x WHERE x.k = t.k AND p) ...
//	  -> t LEFT JOIN (SELECT x.k, agg(v) FROM x WHERE p GROUP BY x.k) a
//	     ON a.k = t.k, and the subquery becomes a's column
//
// The EXISTS form applies to a condition ANDed at the top of a WHERE (or
// HAVING); the correlation may be any condition on the outer row (it
// becomes the join condition). The aggregate form applies anywhere in a
// filter or select list, when the subquery is an aggregate without GROUP
// BY (or an expression of its aggregates), every aggregate is NULL over no
// rows (not COUNT), and the outer row enters only through equalities
// between an expression of the subquery's rows and one of the outer row:
// then the left join yields exactly the subquery's value for every row,
// NULL where no group matches. Subqueries of other shapes are left as
// they are.

// decorrelate applies the rule to n and everything below it.
func (o *opt) decorrelate(n planner.Node) planner.Node {
	if ref, ok := n.(*planner.CTERef); ok {
		return o.cte(ref)
	}
	n = mapChildren(n, o.decorrelate)
	switch n := n.(type) {
	case *planner.Filter:
		return o.decorrelateFilter(n)
	case *planner.Project:
		return o.decorrelateProject(n)
	}
	return n
}

func (o *opt) decorrelateFilter(f *planner.Filter) planner.Node {
	// The conditions without correlated subqueries filter the input first,
	// so that the joins rule sees them with the relations they join.
	var plain, corr []planner.Expr
	for _, c := range conjuncts(f.Cond) {
		if hasCorrelated(c) {
			corr = append(corr, c)
		} else {
			plain = append(plain, c)
		}
	}
	if len(corr) == 0 {
		return f
	}
	input := f.Input
	width := len(input.Schema())
	if len(plain) > 0 {
		input = &planner.Filter{Input: input, Cond: o.and(plain)}
	}
	var keep []planner.Expr
	changed := false
	for _, c := range corr {
		if sq, ok := c.(*planner.Subquery); ok && sq.Kind == planner.SubExists {
			if j := o.semiJoin(input, sq); j != nil {
				input, changed = j, true
				continue
			}
		}
		keep = append(keep, c)
	}
	for i, c := range keep {
		var ok bool
		keep[i], input, ok = o.pullScalars(c, input)
		changed = changed || ok
	}
	if !changed {
		return f
	}
	var out planner.Node = input
	if len(keep) > 0 {
		out = &planner.Filter{Input: input, Cond: o.and(keep)}
	}
	if len(out.Schema()) != width {
		cols := out.Schema()[:width]
		out = &planner.Project{Input: out, Exprs: colRefs(cols, 0), Columns: append([]planner.Column(nil), cols...)}
	}
	return out
}

func (o *opt) decorrelateProject(p *planner.Project) planner.Node {
	input := p.Input
	exprs := make([]planner.Expr, len(p.Exprs))
	changed := false
	for i, e := range p.Exprs {
		var ok bool
		exprs[i], input, ok = o.pullScalars(e, input)
		changed = changed || ok
	}
	if !changed {
		return p
	}
	c := *p
	c.Input, c.Exprs = input, exprs
	return &c
}

// pullScalars replaces the correlated scalar subqueries of e (evaluated
// over input) that scalarJoin can turn into joins; it returns the new
// expression, the new input (input with the joins, whose columns come
// after input's) and whether anything changed.
func (o *opt) pullScalars(e planner.Expr, input planner.Node) (planner.Expr, planner.Node, bool) {
	changed := false
	out := planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		sq, ok := x.(*planner.Subquery)
		if !ok || sq.Kind != planner.SubScalar || !sq.Correlated {
			return x
		}
		j, repl := o.scalarJoin(input, sq)
		if j == nil {
			return x
		}
		input, changed = j, true
		return repl
	})
	return out, input, changed
}

// peelFilters returns the conjuncts of the filters stacked at the top of
// n and the node under them.
func peelFilters(n planner.Node) ([]planner.Expr, planner.Node) {
	var conds []planner.Expr
	for {
		f, ok := n.(*planner.Filter)
		if !ok {
			return conds, n
		}
		conds = append(conds, conjuncts(f.Cond)...)
		n = f.Input
	}
}

// lift rewrites an expression of a subquery's rows for the join that
// replaces it: OuterRefs to the enclosing row (depth 1) become the join's
// left columns, the subquery's own columns move right by nLeft.
func lift(e planner.Expr, nLeft int) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		switch x := x.(type) {
		case *planner.OuterRef:
			if x.Depth != 1 {
				panic(fmt.Sprintf("optimizer: lifting an outer reference of depth %d", x.Depth))
			}
			return &planner.ColRef{Index: x.Index, Name: x.Name, T: x.T}
		case *planner.ColRef:
			c := *x
			c.Index += nLeft
			return &c
		}
		return x
	})
}

// semiJoin turns [NOT] EXISTS (sq), evaluated over input, into a semi (anti)
// join of input with the subquery's rows, or returns nil when the subquery
// has another shape.
func (o *opt) semiJoin(input planner.Node, sq *planner.Subquery) planner.Node {
	plan := sq.Plan
	for {
		p, ok := plan.(*planner.Project)
		if !ok {
			break
		}
		plan = p.Input
	}
	conds, x := peelFilters(plan)
	if escapes(x) {
		return nil
	}
	var on, local []planner.Expr
	for _, c := range conds {
		switch exprEscape(c, 0) {
		case 0:
			local = append(local, c)
		case 1:
			if planner.HasSubquery(c) {
				return nil
			}
			on = append(on, c)
		default:
			return nil
		}
	}
	if len(on) == 0 {
		return nil
	}
	right := o.decorrelate(x)
	if len(local) > 0 {
		right = &planner.Filter{Input: right, Cond: o.and(local)}
	}
	nLeft := len(input.Schema())
	lifted := make([]planner.Expr, len(on))
	for i, c := range on {
		lifted[i] = lift(c, nLeft)
	}
	kind := planner.SemiJoin
	if sq.Not {
		kind = planner.AntiJoin
	}
	return &planner.Join{Kind: kind, Left: input, Right: right, Cond: o.and(lifted),
		Columns: append([]planner.Column(nil), input.Schema()...)}
}

// nullOnEmpty lists the aggregates that are NULL over no rows.
var nullOnEmpty = map[string]bool{
	"sum": true, "avg": true, "min": true, "max": true, "stddev": true, "stddev_pop": true,
	"variance": true, "var_pop": true, "bool_and": true, "bool_or": true,
}

// scalarJoin turns a correlated scalar subquery over an aggregate into a
// left join of input with the aggregate grouped by the correlation keys.
// It returns the join and the expression that replaces the subquery, or
// nil when the subquery has another shape.
func (o *opt) scalarJoin(input planner.Node, sq *planner.Subquery) (planner.Node, planner.Expr) {
	plan := sq.Plan
	var proj *planner.Project
	if p, ok := plan.(*planner.Project); ok {
		if len(p.Exprs) != 1 || planner.HasSubquery(p.Exprs[0]) || exprEscape(p.Exprs[0], 0) > 1 {
			return nil, nil
		}
		proj, plan = p, p.Input
	}
	agg, ok := plan.(*planner.Aggregate)
	if !ok || len(agg.GroupBy) > 0 || agg.Window != nil || len(agg.Aggs) == 0 {
		return nil, nil
	}
	for _, a := range agg.Aggs {
		if !nullOnEmpty[a.Fn.Name] {
			return nil, nil
		}
		for _, e := range a.Args {
			if exprEscape(e, 0) > 0 || planner.HasSubquery(e) {
				return nil, nil
			}
		}
		if a.Filter != nil && (exprEscape(a.Filter, 0) > 0 || planner.HasSubquery(a.Filter)) {
			return nil, nil
		}
		for _, k := range a.OrderBy {
			if exprEscape(k.Expr, 0) > 0 {
				return nil, nil
			}
		}
	}
	conds, x := peelFilters(agg.Input)
	if escapes(x) {
		return nil, nil
	}
	type key struct {
		call       *planner.Call
		innerFirst bool
	}
	var keys []key
	var local []planner.Expr
	for _, c := range conds {
		switch exprEscape(c, 0) {
		case 0:
			local = append(local, c)
			continue
		case 1:
		default:
			return nil, nil
		}
		call, ok := c.(*planner.Call)
		if !ok || call.Name != "eq" || len(call.Args) != 2 || planner.HasSubquery(c) {
			return nil, nil
		}
		inner := func(e planner.Expr) bool { return !hasOuter(e) && len(colsOf(e)) > 0 }
		outer := func(e planner.Expr) bool { return hasOuter(e) && len(colsOf(e)) == 0 }
		switch {
		case inner(call.Args[0]) && outer(call.Args[1]):
			keys = append(keys, key{call, true})
		case outer(call.Args[0]) && inner(call.Args[1]):
			keys = append(keys, key{call, false})
		default:
			return nil, nil
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	aggInput := o.decorrelate(x)
	if len(local) > 0 {
		aggInput = &planner.Filter{Input: aggInput, Cond: o.and(local)}
	}
	grouped := &planner.Aggregate{Input: aggInput, Aggs: agg.Aggs}
	nLeft := len(input.Schema())
	var on []planner.Expr
	for i, k := range keys {
		in, out := k.call.Args[0], k.call.Args[1]
		if !k.innerFirst {
			in, out = out, in
		}
		grouped.GroupBy = append(grouped.GroupBy, in)
		grouped.Columns = append(grouped.Columns, planner.Column{Name: fmt.Sprintf("key%d", i+1), Type: in.Type(), Nullable: true})
		ref := &planner.ColRef{Index: nLeft + i, Name: fmt.Sprintf("key%d", i+1), T: in.Type()}
		eq := *k.call
		if k.innerFirst {
			eq.Args = []planner.Expr{ref, lift(out, 0)}
		} else {
			eq.Args = []planner.Expr{lift(out, 0), ref}
		}
		on = append(on, &eq)
	}
	for _, c := range agg.Columns {
		c.Nullable = true
		grouped.Columns = append(grouped.Columns, c)
	}
	cols := append([]planner.Column(nil), input.Schema()...)
	for _, c := range grouped.Columns {
		c.Nullable = true
		cols = append(cols, c)
	}
	join := &planner.Join{Kind: planner.LeftJoin, Left: input, Right: grouped, Cond: o.and(on), Columns: cols}
	aggAt := nLeft + len(keys)
	var repl planner.Expr
	if proj != nil {
		repl = lift(proj.Exprs[0], aggAt)
	} else {
		c := agg.Columns[0]
		repl = &planner.ColRef{Index: aggAt, Name: c.Name, T: c.Type}
	}
	if repl.Type() != sq.T {
		return nil, nil
	}
	return join, repl
}
