package optimizer

import (
	"math"

	"github.com/etlc/etlc/planner"
)

// unknownRows is the size of a relation nothing is known about.
const unknownRows = 1000

// estimate guesses how many rows n produces: the relation sizes of Stats,
// the usual selectivity guesses for conditions (an equality keeps a tenth,
// a range a third, LIKE a quarter), an equi-join as large as its larger
// input (a foreign key join), an aggregate a tenth of its input.
func (o *opt) estimate(n planner.Node) float64 {
	if r, ok := o.rows[n]; ok {
		return r
	}
	r := o.estimate1(n)
	r = math.Max(r, 1)
	o.rows[n] = r
	return r
}

func (o *opt) estimate1(n planner.Node) float64 {
	switch x := n.(type) {
	case *planner.Scan:
		if o.stats != nil {
			if r, ok := o.stats.RowCount(x.Object); ok {
				return r
			}
		}
		return unknownRows
	case *planner.Values:
		return float64(len(x.Rows))
	case *planner.Filter:
		return o.estimate(x.Input) * selectivity(x.Cond)
	case *planner.Project, *planner.Expect:
		return o.estimate(x.Children()[0])
	case *planner.Sort:
		return o.estimate(x.Input)
	case *planner.Window:
		return o.estimate(x.Input)
	case *planner.Limit:
		in := o.estimate(x.Input)
		if k, ok := x.Count.(*planner.Const); ok {
			if v, ok := k.Value.(int64); ok {
				return math.Min(in, float64(v))
			}
		}
		return in
	case *planner.Aggregate:
		if len(x.GroupBy) == 0 && x.Window == nil {
			return 1
		}
		return o.estimate(x.Input) / 10
	case *planner.Distinct:
		return o.estimate(x.Input) / 2
	case *planner.CTERef:
		return o.estimate(x.Plan)
	case *planner.SetOp:
		l, r := o.estimate(x.Left), o.estimate(x.Right)
		switch x.Kind {
		case planner.Union:
			return l + r
		case planner.Intersect:
			return math.Min(l, r)
		}
		return l
	case *planner.Join:
		l, r := o.estimate(x.Left), o.estimate(x.Right)
		switch x.Kind {
		case planner.SemiJoin, planner.AntiJoin:
			return l / 2
		case planner.CrossJoin:
			return l * r
		case planner.LeftJoin:
			return math.Max(l, r*selectivity(x.Cond))
		case planner.FullJoin:
			return l + r
		}
		if x.Cond == nil {
			return l * r
		}
		for _, c := range conjuncts(x.Cond) {
			if call, ok := c.(*planner.Call); ok && call.Name == "eq" {
				return math.Max(l, r)
			}
		}
		return l * r / 3
	}
	return unknownRows
}

// selectivity guesses the fraction of rows for which c is true.
func selectivity(c planner.Expr) float64 {
	call, ok := c.(*planner.Call)
	if !ok {
		return 0.5
	}
	switch call.Name {
	case "and":
		s := 1.0
		for _, a := range call.Args {
			s *= selectivity(a)
		}
		return s
	case "or":
		s := 0.0
		for _, a := range call.Args {
			s += selectivity(a)
		}
		return math.Min(s, 1)
	case "not":
		if len(call.Args) == 1 {
			return 1 - selectivity(call.Args[0])
		}
	case "eq", "is_not_distinct_from", "is_null":
		return 0.1
	case "ne", "is_not_null", "not_like", "not_ilike":
		return 0.9
	case "lt", "le", "gt", "ge":
		return 0.33
	case "like", "ilike", "regexp":
		return 0.25
	case "in_list":
		return math.Min(0.1*float64(len(call.Args)-1), 0.5)
	}
	return 0.5
}
