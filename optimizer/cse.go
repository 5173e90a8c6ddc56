package optimizer

import (
	"fmt"
	"strings"

	"github.com/etlc/etlc/planner"
)

// This rule computes an expression that an operator evaluates more than
// once on the same row only once: TPC-H Q1's l_extendedprice * (1 -
// l_discount), summed on its own and times (1 + l_tax), is computed once
// per row. A projection, filter or aggregate (its grouping keys, its
// aggregates' arguments and FILTER conditions) whose expressions repeat a
// subexpression gets a projection below it that computes each repeated
// one as an extra column, and reads the column instead. A filter is then
// followed by a projection that drops the extra columns again, so every
// operator keeps its output columns.
//
// Only subexpressions every row evaluates count: none inside the branches
// of CASE, or past the first argument of AND, OR, IF and COALESCE, which
// evaluate the others only for some rows (computing them for every row
// could raise an error the query never meets), none with a subquery, an
// outer reference or a function whose value changes from call to call,
// and none of an aggregate with a FILTER (its arguments are evaluated for
// the rows the filter keeps). The largest repeated expression is taken,
// not its parts. Plans that read a stream, and window aggregates, keep
// their expressions (the state layout of a streaming operator must not
// depend on the optimizer).
//
// It runs last, after the other rules have placed filters and pruned
// columns.

// lazyCalls are the functions that evaluate their first argument for
// every row and the others only for some.
var lazyCalls = map[string]bool{"and": true, "or": true, "if": true, "coalesce": true, "ifnull": true, "nvl": true}

// cse applies the rule to n and the plans below it (not CTE plans, which
// are optimized on their own).
func (o *opt) cse(n planner.Node) planner.Node {
	if _, ok := n.(*planner.CTERef); ok {
		return n
	}
	if hasStream(n) {
		// The stream runtime runs these plans; they stay as written.
		return n
	}
	n = mapChangedChildren(n, o.cse)
	switch x := n.(type) {
	case *planner.Project:
		if p, ok := x.Input.(*planner.Project); ok && identityPrefix(p) && isCSEFilter(p.Input) {
			// The pass-through projection of a filter this rule
			// rewrote: read the filter.
			c := *x
			c.Input = p.Input
			x = &c
			n = x
		}
		// A subquery's outer references address the input's columns
		// by position: with one, every input column stays where it is.
		keep := false
		for _, e := range x.Exprs {
			keep = keep || planner.HasSubquery(e)
		}
		ins, exprs, ok := commonExprs(x.Input, x.Exprs, keep)
		if !ok {
			return n
		}
		c := *x
		c.Input, c.Exprs = ins, exprs
		return &c
	case *planner.Filter:
		ins, exprs, ok := commonExprs(x.Input, []planner.Expr{x.Cond}, true)
		if !ok {
			return n
		}
		f := &planner.Filter{Input: ins, Cond: exprs[0]}
		return passThrough(f, len(x.Input.Schema()))
	case *planner.Aggregate:
		if x.Window != nil {
			return n
		}
		// The expressions: group keys, then each aggregate's arguments
		// (unless it has a FILTER) and FILTER condition.
		es := append([]planner.Expr(nil), x.GroupBy...)
		for _, a := range x.Aggs {
			if a.Filter == nil {
				es = append(es, a.Args...)
			} else {
				es = append(es, a.Filter)
			}
		}
		keep := false
		for _, e := range es {
			keep = keep || planner.HasSubquery(e)
		}
		ins, out, ok := commonExprs(x.Input, es, keep)
		if !ok {
			return n
		}
		c := *x
		c.Input = ins
		c.GroupBy = out[:len(x.GroupBy)]
		out = out[len(x.GroupBy):]
		c.Aggs = make([]*planner.AggCall, len(x.Aggs))
		for i, a := range x.Aggs {
			ac := *a
			if a.Filter == nil {
				ac.Args = out[:len(a.Args)]
				out = out[len(a.Args):]
			} else {
				ac.Filter = out[0]
				out = out[1:]
			}
			c.Aggs[i] = &ac
		}
		return &c
	}
	return n
}

// passThrough returns a projection of the first n columns of in.
func passThrough(in planner.Node, n int) planner.Node {
	cols := in.Schema()[:n]
	p := &planner.Project{Input: in, Columns: append([]planner.Column(nil), cols...)}
	for i, c := range cols {
		p.Exprs = append(p.Exprs, &planner.ColRef{Index: i, Name: c.Name, T: c.Type})
	}
	return p
}

// identityPrefix reports whether p passes on the first columns of its
// input unchanged, in order.
func identityPrefix(p *planner.Project) bool {
	for i, e := range p.Exprs {
		if c, ok := e.(*planner.ColRef); !ok || c.Index != i {
			return false
		}
	}
	return true
}

// isCSEFilter reports whether n is a filter this rule rewrote: over a
// projection whose last column is a shared expression.
func isCSEFilter(n planner.Node) bool {
	f, ok := n.(*planner.Filter)
	if !ok {
		return false
	}
	p, ok := f.Input.(*planner.Project)
	if !ok || len(p.Columns) == 0 {
		return false
	}
	return strings.HasPrefix(p.Columns[len(p.Columns)-1].Name, csePrefix)
}

// csePrefix starts the names of the columns of shared expressions.
const csePrefix = "cse"

// exprKey identifies an expression by its text and type (as
// planner.EqualExpr compares them).
func exprKey(e planner.Expr) string { return e.String() + "::" + e.Type().String() }

// shareable reports whether e may be computed for every row, once: a
// computation (not a column or constant) without subqueries, outer
// references or volatile functions.
func shareable(e planner.Expr) bool {
	switch e.(type) {
	case *planner.Call, *planner.Cast, *planner.Case:
	default:
		return false
	}
	return !planner.HasSubquery(e) && !hasOuter(e) && !hasVolatile(e)
}

// evaluatedArgs returns the parts of e that are evaluated for every row
// e is: the arguments of an ordinary call or cast; the first argument of
// AND, OR, IF, COALESCE; the first condition of a CASE.
func evaluatedArgs(e planner.Expr) []planner.Expr {
	switch x := e.(type) {
	case *planner.Call:
		if lazyCalls[x.Name] && len(x.Args) > 0 {
			return x.Args[:1]
		}
		return x.Args
	case *planner.Cast:
		return []planner.Expr{x.Arg}
	case *planner.Case:
		if len(x.Whens) > 0 {
			return []planner.Expr{x.Whens[0].Cond}
		}
	}
	return nil
}

// commonExprs finds the shareable subexpressions that es (over in's
// columns) evaluate more than once. When there are some, it returns a
// projection over in with in's columns (all of them when all is set,
// otherwise those the rewritten es still read) followed by one column per
// repeated expression, and es rewritten to read those columns; ok is
// false when nothing repeats.
func commonExprs(in planner.Node, es []planner.Expr, all bool) (planner.Node, []planner.Expr, bool) {
	count := map[string]int{}
	var walk func(e planner.Expr)
	walk = func(e planner.Expr) {
		if e == nil {
			return
		}
		if shareable(e) {
			count[exprKey(e)]++
		}
		for _, a := range evaluatedArgs(e) {
			walk(a)
		}
	}
	for _, e := range es {
		walk(e)
	}
	repeated := false
	for _, c := range count {
		repeated = repeated || c > 1
	}
	if !repeated {
		return nil, nil, false
	}
	cols := in.Schema()
	// The repeated expressions become columns after in's, for now.
	p := &planner.Project{Input: in}
	for i, c := range cols {
		p.Exprs = append(p.Exprs, &planner.ColRef{Index: i, Name: c.Name, T: c.Type})
		p.Columns = append(p.Columns, c)
	}
	index := map[string]int{}
	var rewrite func(e planner.Expr) planner.Expr
	rewrite = func(e planner.Expr) planner.Expr {
		if e == nil {
			return nil
		}
		if shareable(e) && count[exprKey(e)] > 1 {
			k := exprKey(e)
			i, ok := index[k]
			if !ok {
				i = len(p.Exprs)
				index[k] = i
				p.Exprs = append(p.Exprs, e)
				p.Columns = append(p.Columns, planner.Column{Name: fmt.Sprintf("%s%d", csePrefix, len(index)), Type: e.Type(), Nullable: true})
			}
			return &planner.ColRef{Index: i, Name: p.Columns[i].Name, T: e.Type()}
		}
		switch x := e.(type) {
		case *planner.Call:
			c := *x
			c.Args = append([]planner.Expr(nil), x.Args...)
			for i := range evaluatedArgs(x) {
				c.Args[i] = rewrite(x.Args[i])
			}
			return &c
		case *planner.Cast:
			c := *x
			c.Arg = rewrite(x.Arg)
			return &c
		case *planner.Case:
			if len(x.Whens) == 0 {
				return e
			}
			c := *x
			c.Whens = append([]planner.When(nil), x.Whens...)
			c.Whens[0].Cond = rewrite(x.Whens[0].Cond)
			return &c
		}
		return e
	}
	out := make([]planner.Expr, len(es))
	for i, e := range es {
		out[i] = rewrite(e)
	}
	if all {
		return p, out, true
	}
	// Keep only the input columns the rewritten expressions read.
	used := colSet{}
	for _, e := range out {
		addCols(used, e)
	}
	m := make([]int, len(p.Exprs))
	q := &planner.Project{Input: in}
	for i := range p.Exprs {
		if i < len(cols) && !used[i] {
			continue
		}
		m[i] = len(q.Exprs)
		q.Exprs = append(q.Exprs, p.Exprs[i])
		q.Columns = append(q.Columns, p.Columns[i])
	}
	for i, e := range out {
		out[i] = mapCols(e, func(c int) int { return m[c] })
	}
	return q, out, true
}
