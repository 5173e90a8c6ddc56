// Package optimizer rewrites etlc's logical plans with rules (one rule per
// file), estimates cardinality and cost, orders joins, and produces the
// physical plan that exec runs. It does no I/O.
//
// Optimize applies the rules in order. Today that is one rule,
// predicate pushdown (pushdown.go), which turns the comma joins of a
// WHERE-style query into equi-joins and moves single-relation conditions
// onto the relations they filter; the cost model and join ordering come
// with the cost-based optimizer.
package optimizer
