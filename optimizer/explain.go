package optimizer

import (
	"github.com/etlc/etlc/planner"
)

// Estimate is what the optimizer expects of one operator of a plan.
type Estimate struct {
	// Rows is the estimated number of rows the operator produces.
	Rows float64
	// Cost is the estimated cost of the operator and everything below it.
	Cost Cost
}

// Estimator estimates the operators of an optimized plan with the
// statistics of its Options, as Optimize does (the same numbers that
// chose the join order).
type Estimator struct {
	o *opt
}

// NewEstimator returns an Estimator over opts.Stats.
func NewEstimator(opts Options) *Estimator {
	o := &opt{reg: opts.Registry, stats: opts.Stats, cards: map[planner.Node]*card{}}
	if o.reg == nil {
		o.reg = planner.NewRegistry()
	}
	return &Estimator{o: o}
}

// Estimate returns the estimate for n (an operator of a plan, not
// necessarily its root).
func (e *Estimator) Estimate(n planner.Node) Estimate {
	return Estimate{Rows: e.o.estimate(n), Cost: e.o.planCost(n)}
}

// Note is the text EXPLAIN puts after an operator: its estimated rows and
// cumulative cost, "(rows=6M cost=81.2M)".
func (e *Estimator) Note(n planner.Node) string {
	est := e.Estimate(n)
	return "(rows=" + human(est.Rows) + " cost=" + human(est.Cost.Total()) + ")"
}

// FormatEstimated renders an optimized plan as planner.Format does with
// each operator's estimated rows and cost: the text of EXPLAIN.
func FormatEstimated(n planner.Node, opts Options) string {
	return planner.FormatWith(n, NewEstimator(opts).Note)
}
