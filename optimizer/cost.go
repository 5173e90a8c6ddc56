package optimizer

import (
	"fmt"
	"math"

	"github.com/etlc/etlc/planner"
)

// This file is the cost model: what running an operator costs, from the
// estimates of cardinality.go. A cost has three parts:
//
//   - Rows: the rows the operator handles (reads, probes, hashes, emits),
//     a stand-in for CPU time;
//   - Bytes: the bytes a scan reads (row width from statistics or types);
//   - Mem: the bytes an operator holds at once: a hash join's build side,
//     an aggregate's groups, a sort's input.
//
// Total weighs them into one number: a row is 1, a byte read 1/64 (a row
// of eight numbers costs as much to read as to handle), a byte held 1/32
// (holding memory costs more than streaming it, and a build side that
// does not fit spills). The join order minimizes Total summed over the
// operators of a plan; EXPLAIN prints it per operator, cumulative.

// Cost is the cost of an operator or a plan.
type Cost struct {
	Rows  float64
	Bytes float64
	Mem   float64
}

// The weights of Total.
const (
	byteWeight = 1.0 / 64
	memWeight  = 1.0 / 32
	// buildFactor is what inserting a row into a hash table costs,
	// relative to probing with one.
	buildFactor = 2.0
)

// Total is the cost as one number.
func (c Cost) Total() float64 { return c.Rows + c.Bytes*byteWeight + c.Mem*memWeight }

// Add returns the sum of two costs.
func (c Cost) Add(d Cost) Cost {
	return Cost{Rows: c.Rows + d.Rows, Bytes: c.Bytes + d.Bytes, Mem: c.Mem + d.Mem}
}

// String prints the total and its parts, rounded.
func (c Cost) String() string {
	return fmt.Sprintf("%s (rows=%s bytes=%s mem=%s)", human(c.Total()), human(c.Rows), human(c.Bytes), human(c.Mem))
}

// human prints a non-negative number with three significant digits and a
// k/M/G/T suffix.
func human(v float64) string {
	switch {
	case v >= 1e12:
		return trim3(v/1e12) + "T"
	case v >= 1e9:
		return trim3(v/1e9) + "G"
	case v >= 1e6:
		return trim3(v/1e6) + "M"
	case v >= 1e3:
		return trim3(v/1e3) + "k"
	}
	return trim3(v)
}

// trim3 prints v with at most three significant digits.
func trim3(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", math.Round(v))
	}
	return fmt.Sprintf("%.3g", v)
}

// rowWidth is the estimated bytes a row of c takes.
func rowWidth(c *card) float64 {
	w := 0.0
	for _, col := range c.cols {
		w += col.width
	}
	return math.Max(w, 1)
}

// hashJoinCost is a hash join's own cost: build rows inserted and held,
// probe rows looked up, output rows produced.
func hashJoinCost(build, probe *card, out float64) Cost {
	return Cost{Rows: build.rows*buildFactor + probe.rows + out, Mem: build.rows * rowWidth(build)}
}

// opCost is the cost of n alone (not of its inputs).
func (o *opt) opCost(n planner.Node) Cost {
	out := o.card(n)
	switch x := n.(type) {
	case *planner.Scan:
		return Cost{Rows: out.rows, Bytes: out.rows * rowWidth(out)}
	case *planner.Values:
		return Cost{Rows: out.rows}
	case *planner.Filter, *planner.Project, *planner.Limit, *planner.CTERef, *planner.WorkTable, *planner.Expect:
		in := out
		if k := n.Children(); len(k) == 1 {
			in = o.card(k[0])
		}
		return Cost{Rows: in.rows}
	case *planner.Aggregate:
		in := o.card(x.Input)
		return Cost{Rows: in.rows + out.rows, Mem: out.rows * rowWidth(out)}
	case *planner.Distinct:
		in := o.card(x.Input)
		return Cost{Rows: in.rows + out.rows, Mem: out.rows * rowWidth(out)}
	case *planner.Sort:
		in := o.card(x.Input)
		return Cost{Rows: in.rows * math.Max(1, math.Log2(in.rows)), Mem: in.rows * rowWidth(in)}
	case *planner.Window:
		in := o.card(x.Input)
		return Cost{Rows: in.rows * math.Max(1, math.Log2(in.rows)), Mem: in.rows * rowWidth(in)}
	case *planner.Join:
		l, r := o.card(x.Left), o.card(x.Right)
		if x.Kind == planner.CrossJoin || x.Cond == nil || len(equiKeys(x.Cond, len(l.cols))) == 0 {
			// A nested loop: every pair is looked at.
			return Cost{Rows: l.rows*r.rows + out.rows, Mem: r.rows * rowWidth(r)}
		}
		if x.BuildLeft {
			return hashJoinCost(l, r, out.rows)
		}
		return hashJoinCost(r, l, out.rows)
	case *planner.SetOp:
		l, r := o.card(x.Left), o.card(x.Right)
		c := Cost{Rows: l.rows + r.rows + out.rows}
		if x.Kind != planner.Union || !x.All {
			c.Mem = r.rows * rowWidth(r)
		}
		return c
	case *planner.RecursiveCTE:
		return Cost{Rows: out.rows}
	}
	return Cost{Rows: out.rows}
}

// planCost is the cost of n and everything below it (a CTE shared by
// several references counts once per reference).
func (o *opt) planCost(n planner.Node) Cost {
	c := o.opCost(n)
	for _, k := range n.Children() {
		c = c.Add(o.planCost(k))
	}
	return c
}
