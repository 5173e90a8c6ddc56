package optimizer

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This rule gives each scan of a source the conditions of the filter right above it
// that compare a column with a constant (=, <, <=, >, >=, BETWEEN), as
// Scan.Filters. The reader uses them to skip what it can tell no row
// satisfies: a Parquet row group whose min/max statistics lie outside the
// range is not read. The filter stays: it still applies the conditions to
// the rows of the row groups that are read.
//
// It runs last, when the scans' columns are final, together with the
// partition rule (partitions.go), which looks at the same filters.

// pruneFilters applies the rule to n and below.
func (o *opt) pruneFilters(n planner.Node) planner.Node {
	if ref, ok := n.(*planner.CTERef); ok {
		return ref
	}
	n = mapChangedChildren(n, o.pruneFilters)
	f, ok := n.(*planner.Filter)
	if !ok {
		return n
	}
	sc, ok := f.Input.(*planner.Scan)
	if !ok {
		return n
	}
	var keep []planner.Expr
	if !sc.Stream && sc.Object != nil && sc.Object.Kind == catalog.ObjectSource {
		// Only file sources skip row groups by their filters so far.
		for _, c := range conjuncts(f.Cond) {
			if rangeCond(c) {
				keep = append(keep, c)
			}
		}
	}
	parts := o.partitionFilters(sc, f.Cond) // partitions.go
	if len(keep) == 0 && len(parts) == 0 {
		return n
	}
	s := *sc
	s.Filters = keep
	s.PartitionFilters = parts
	c := *f
	c.Input = &s
	return &c
}

// rangeCond reports whether c compares a column (under casts) with a
// constant that is not NULL.
func rangeCond(c planner.Expr) bool {
	for _, op := range []string{"eq", "lt", "le", "gt", "ge"} {
		if _, k, ok := colConst(c, op); ok && k.Value != nil {
			return true
		}
	}
	return false
}
