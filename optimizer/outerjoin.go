package optimizer

import "github.com/etlc/etlc/planner"

// This rule turns outer joins into inner joins where a condition above
// them throws away the rows the outer join would add.
//
// A LEFT join adds, for a left row without a match, a row whose right
// columns are NULL. When a filter (or the condition of an inner join)
// above it rejects rows with those columns NULL — a comparison, LIKE, IN
// or IS NOT NULL over strict expressions of a right column: NULL in, NULL
// out, and NULL is not TRUE — those rows never survive, and the join is
// an inner join, which the join order is free to move. Likewise a RIGHT
// join with a condition rejecting NULL left columns; a FULL join becomes
// LEFT, RIGHT or INNER by the sides its conditions reject. The decorrelated
// scalar subquery of x < (SELECT avg(...) ...) is such a left join.
//
// The rule runs before joins.go, so that the joins it makes inner become
// part of their join region.

// strictFunc reports functions whose result is NULL when an argument is.
func strictFunc(name string) bool {
	switch name {
	case "add", "sub", "mul", "div", "mod", "neg", "extract", "upper", "lower", "substring", "abs",
		"length", "char_length", "date_trunc", "trim":
		return true
	}
	return false
}

// rejecting reports the conditions that are not TRUE when a strict
// argument is NULL.
func rejecting(name string) bool {
	switch name {
	case "eq", "ne", "lt", "le", "gt", "ge", "like", "not_like", "ilike", "not_ilike", "regexp",
		"in_list", "is_not_null":
		return true
	}
	return false
}

// isStrict reports whether e is NULL whenever a column it reads is NULL.
func isStrict(e planner.Expr) bool {
	switch x := e.(type) {
	case *planner.ColRef, *planner.Const:
		return true
	case *planner.Cast:
		return isStrict(x.Arg)
	case *planner.Call:
		if !strictFunc(x.Name) {
			return false
		}
		for _, a := range x.Args {
			if !isStrict(a) {
				return false
			}
		}
		return true
	}
	return false
}

// rejectedCols returns the columns whose being NULL makes c not TRUE (nil
// when c is not such a condition).
func rejectedCols(c planner.Expr) colSet {
	call, ok := c.(*planner.Call)
	if !ok || !rejecting(call.Name) || planner.HasSubquery(c) {
		return nil
	}
	if call.Name == "in_list" {
		// x IN (...) is not TRUE when x is NULL, whatever the list.
		if len(call.Args) > 0 && isStrict(call.Args[0]) {
			return colsOf(call.Args[0])
		}
		return nil
	}
	for _, a := range call.Args {
		if !isStrict(a) {
			return nil
		}
	}
	return colsOf(c)
}

// simplifyOuter applies the rule to n and below.
func (o *opt) simplifyOuter(n planner.Node) planner.Node {
	if ref, ok := n.(*planner.CTERef); ok {
		return ref
	}
	n = mapChildren(n, o.simplifyOuter)
	switch x := n.(type) {
	case *planner.Filter:
		if hasCorrelated(x.Cond) {
			return n
		}
		rej := colSet{}
		for _, c := range conjuncts(x.Cond) {
			for col := range rejectedCols(c) {
				rej[col] = true
			}
		}
		in := o.rejectNulls(x.Input, rej)
		if in != x.Input {
			c := *x
			c.Input = in
			return &c
		}
	case *planner.Join:
		if x.Kind == planner.InnerJoin && x.Cond != nil && !hasCorrelated(x.Cond) {
			return o.rejectNulls(x, colSet{})
		}
	}
	return n
}

// rejectNulls rewrites the joins of n given the columns of n's output
// whose being NULL makes a condition above reject the row.
func (o *opt) rejectNulls(n planner.Node, rejected colSet) planner.Node {
	j, ok := n.(*planner.Join)
	if !ok || len(rejected) == 0 && (j.Kind != planner.InnerJoin || j.Cond == nil) {
		return n
	}
	nl := len(j.Left.Schema())
	rejL, rejR := false, false
	for col := range rejected {
		if col < nl {
			rejL = true
		} else {
			rejR = true
		}
	}
	kind := j.Kind
	switch kind {
	case planner.LeftJoin:
		if rejR {
			kind = planner.InnerJoin
		}
	case planner.RightJoin:
		if rejL {
			kind = planner.InnerJoin
		}
	case planner.FullJoin:
		switch {
		case rejL && rejR:
			kind = planner.InnerJoin
		case rejL:
			kind = planner.LeftJoin
		case rejR:
			kind = planner.RightJoin
		}
	}
	// Below, the same columns reject rows of the sides that are not
	// NULL-extended, and so do those an inner join's condition rejects.
	below := colSet{}
	for c := range rejected {
		below[c] = true
	}
	if kind == planner.InnerJoin && j.Cond != nil && !hasCorrelated(j.Cond) {
		for _, c := range conjuncts(j.Cond) {
			for col := range rejectedCols(c) {
				below[col] = true
			}
		}
	}
	toLeft, toRight := colSet{}, colSet{}
	for c := range below {
		switch {
		case c < nl && kind != planner.RightJoin && kind != planner.FullJoin:
			toLeft[c] = true
		case c >= nl && (kind == planner.InnerJoin || kind == planner.RightJoin || kind == planner.CrossJoin):
			toRight[c-nl] = true
		}
	}
	left, right := o.rejectNulls(j.Left, toLeft), o.rejectNulls(j.Right, toRight)
	if kind == j.Kind && left == j.Left && right == j.Right {
		return n
	}
	c := *j
	c.Kind, c.Left, c.Right = kind, left, right
	return &c
}
