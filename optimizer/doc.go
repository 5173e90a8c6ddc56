// Package optimizer rewrites etlc's logical plans with rules (one rule per
// file), estimates cardinality and cost, orders joins, and produces the
// physical plan that exec runs. It does no I/O: relation sizes come from
// the caller through Stats.
//
// Optimize applies the rules in order: decorrelation of subqueries
// (decorrelate.go), optimization of the remaining subquery and CTE plans
// (subqueries.go), filter placement and join ordering (joins.go, with
// pushdown.go and the size estimates of estimate.go), and column pruning
// (prune.go). Join order is FROM order with the relations no condition
// connects yet moved later; a cost-based order comes with the cost-based
// optimizer.
package optimizer
