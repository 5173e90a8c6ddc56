// Package expr evaluates bound planner expressions over Arrow record
// batches: vectorized kernels for operators and functions, casts, three-valued
// logic, exact DECIMAL arithmetic, and overflow and division-by-zero errors.
package expr

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Evaluator computes one expression over every row of a record batch.
type Evaluator interface {
	// Eval returns an array of rec.NumRows() values; the caller owns one
	// reference to it and must Release it.
	Eval(ctx context.Context, rec arrow.Record) (arrow.Array, error)
	// Type is the Arrow type of the arrays Eval returns.
	Type() arrow.DataType
}

// OuterRow gives a correlated subquery's plan access to the enclosing
// query's current row: the record and the row index inside it.
type OuterRow struct {
	Rec arrow.Record
	Row int
}

// SubqueryRunner runs a subquery plan for the expression compiler, which
// cannot build operators itself. The exec package implements it. outer is
// the stack of enclosing rows, innermost last (nil for uncorrelated plans).
// The returned record holds all rows of the subquery's result; the caller
// releases it.
type SubqueryRunner interface {
	RunSubquery(ctx context.Context, plan any, outer []OuterRow) (arrow.Record, error)
}

// Env is what compiled expressions need at run time.
type Env struct {
	Alloc memory.Allocator
	// Subqueries runs subquery plans; nil when the expression has none.
	Subqueries SubqueryRunner
	// Params are the values of $n / ? parameters, as planner.Const values.
	Params []any
	// Outer is the stack of enclosing rows while evaluating inside a
	// correlated subquery.
	Outer []OuterRow
}
