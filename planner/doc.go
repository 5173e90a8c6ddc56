// Package planner binds parsed etlc statements to typed logical plans: it
// resolves names against the catalog, types every expression through the
// function registry (overloads, implicit casts, decimal result types),
// builds the logical operator tree the optimizer rewrites, and reports every
// problem as a positioned diagnostic with a hint.
//
// The contract the optimizer and exec build on is in three files:
// expr.go (bound expressions and the canonical Go value of every constant),
// plan.go (logical operators and their output schemas) and registry.go (the
// function registry, a data table exec asserts it implements).
package planner
