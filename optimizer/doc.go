// Package optimizer rewrites etlc's logical plans with rules (one rule per
// file), estimates cardinality and cost, orders joins, and produces the
// physical plan that exec runs. It does no I/O.
package optimizer
