package optimizer

import (
	"math"
	"strconv"
	"strings"

	"github.com/etlc/etlc/planner"
)

// PhysicalOp is one operator of an optimized plan as `etlc compile -o`
// writes it: what EXPLAIN prints for it, as data. It encodes to JSON with
// the field names in its tags.
type PhysicalOp struct {
	// Op is the operator's kind: Scan, Filter, Project, Aggregate, Join,
	// Sort, Limit, ...
	Op string `json:"op"`
	// Text is the operator's EXPLAIN line (without the estimates), and
	// Details the lines EXPLAIN prints under it (a scan's columns and
	// pruning conditions).
	Text    string   `json:"text"`
	Details []string `json:"details,omitempty"`
	// Rows is the estimated number of rows the operator produces; Cost
	// the estimated cost of the operator and its inputs (Total), with its
	// parts.
	Rows      float64 `json:"rows"`
	Cost      float64 `json:"cost"`
	CostRows  float64 `json:"cost_rows"`
	CostBytes float64 `json:"cost_bytes"`
	CostMem   float64 `json:"cost_mem"`
	// Subqueries are the plans of the subqueries the operator's
	// expressions use.
	Subqueries []PhysicalSubquery `json:"subqueries,omitempty"`
	// Inputs are the operator's inputs (a join's left then right). A CTE
	// referenced more than once has them at its first reference only;
	// the later ones say Shared.
	Inputs []*PhysicalOp `json:"inputs,omitempty"`
	Shared bool          `json:"shared,omitempty"`
}

// PhysicalSubquery is a subquery's plan.
type PhysicalSubquery struct {
	ID         int         `json:"id"`
	Kind       string      `json:"kind"`
	Correlated bool        `json:"correlated,omitempty"`
	Plan       *PhysicalOp `json:"plan"`
}

// Physical returns the operators of an optimized plan with their
// estimates, as EXPLAIN prints them.
func (e *Estimator) Physical(n planner.Node) *PhysicalOp {
	return e.physical(n, map[planner.Node]bool{})
}

func (e *Estimator) physical(n planner.Node, seen map[planner.Node]bool) *PhysicalOp {
	lines := planner.Describe(n)
	op, _, _ := strings.Cut(lines[0], " ")
	est := e.Estimate(n)
	p := &PhysicalOp{Op: op, Text: lines[0], Details: lines[1:], Rows: finite(est.Rows), Cost: finite(est.Cost.Total()),
		CostRows: finite(est.Cost.Rows), CostBytes: finite(est.Cost.Bytes), CostMem: finite(est.Cost.Mem)}
	if ref, ok := n.(*planner.CTERef); ok {
		if seen[ref.Plan] {
			p.Shared = true
			return p
		}
		seen[ref.Plan] = true
	}
	for _, x := range planner.NodeExprs(n) {
		planner.WalkExpr(x, func(y planner.Expr) bool {
			if sq, ok := y.(*planner.Subquery); ok {
				p.Subqueries = append(p.Subqueries, PhysicalSubquery{ID: sq.ID, Kind: sq.Kind.String(), Correlated: sq.Correlated,
					Plan: e.physical(sq.Plan, seen)})
			}
			return true
		})
	}
	for _, c := range n.Children() {
		p.Inputs = append(p.Inputs, e.physical(c, seen))
	}
	return p
}

// finite rounds an estimate to three significant digits (JSON has no
// infinities; estimates are not more precise than that).
func finite(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return math.MaxFloat64
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	if err != nil {
		return v
	}
	return r
}
