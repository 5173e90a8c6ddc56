// Package expr evaluates bound planner expressions over Arrow record
// batches: vectorized kernels for operators and functions, casts, three-valued
// logic, exact DECIMAL arithmetic, and overflow and division-by-zero errors.
//
// Compile turns a planner.Expr into an Evaluator once per statement; Eval
// then runs it over each batch. Kernels work on Arrow buffers directly
// (typed value slices and validity bitmaps); constants are folded at compile
// time and broadcast as scalars to the kernels that have scalar variants.
// CASE, COALESCE, IF, AND and OR evaluate a branch that may fail only on the
// rows that reach it, so CASE WHEN x = 0 THEN 0 ELSE 1/x END never divides
// by zero.
package expr

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/planner"
)

// Evaluator computes one expression over every row of a record batch.
// An Evaluator is not safe for concurrent use; compile one per goroutine.
type Evaluator interface {
	// Eval returns an array of rec.NumRows() values; the caller owns one
	// reference to it and must Release it. A failing row gives an *Error.
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
// the stack of enclosing rows, innermost last (nil for uncorrelated plans):
// an OuterRef{Depth: d} inside plan reads outer[len(outer)-d] (deeper
// subqueries inside plan add their own rows on top). The returned record
// holds all rows of the subquery's result; the caller releases it.
type SubqueryRunner interface {
	RunSubquery(ctx context.Context, plan planner.Node, outer []OuterRow) (arrow.Record, error)
}

// Env is what compiled expressions need at run time. Compile keeps the
// pointer: Params and Outer are read when Eval runs, so a runner may set
// Outer before each run of a correlated subquery's plan.
type Env struct {
	// Alloc allocates result buffers; nil means memory.DefaultAllocator.
	Alloc memory.Allocator
	// Subqueries runs subquery plans; nil when the expression has none.
	Subqueries SubqueryRunner
	// Params are the values of $n / ? parameters ($1 is Params[0]), as
	// canonical planner.Const values; a string is also accepted for a
	// parameter of any type and read as a literal of it.
	Params []any
	// Outer is the stack of enclosing rows while evaluating inside a
	// correlated subquery, innermost last.
	Outer []OuterRow
	// Now is the statement's start time: current_timestamp, now() and
	// current_date see this one value for the whole statement. When it is
	// zero, the first Compile that needs it sets it to the current time.
	Now time.Time
	// Location is the session time zone, used for TIMESTAMPTZ <-> TIMESTAMP
	// and DATE conversions, current_date, and date parts and truncation of
	// TIMESTAMPTZ values; nil means UTC.
	Location *time.Location
	// Cache holds the results of uncorrelated subqueries for one statement,
	// shared by every expression compiled with this Env; nil means each
	// compiled expression keeps its own.
	Cache *StatementCache
}

// StatementCache remembers uncorrelated subquery results for the length of
// one statement. It is safe for concurrent use.
type StatementCache struct {
	mu   sync.Mutex
	subs map[*planner.Subquery]*subResult
}

// NewStatementCache returns an empty cache.
func NewStatementCache() *StatementCache {
	return &StatementCache{subs: map[*planner.Subquery]*subResult{}}
}

func (c *StatementCache) get(sq *planner.Subquery) (*subResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.subs[sq]
	return r, ok
}

func (c *StatementCache) put(sq *planner.Subquery, r *subResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs[sq] = r
}

// Compile prepares e for evaluation over records with inputSchema (the
// operator's input row, which ColRef indexes refer to). It reports
// unsupported functions and type combinations, constant patterns and
// arguments that are invalid, and input columns whose Arrow type does not
// match the expression's SQL type.
func Compile(e planner.Expr, inputSchema *arrow.Schema, env *Env) (ev Evaluator, err error) {
	return compileWith(e, inputSchema, env, compileOptions{fold: true})
}

// compileOptions switch compile-time behaviour for tests, which check that
// every way of evaluating gives the same result.
type compileOptions struct {
	// fold evaluates calls whose arguments are all constant at compile time.
	fold bool
	// materialize hides constants from kernels, so they take the column
	// paths (tests compare the scalar and the column kernels).
	materialize bool
}

func compileWith(e planner.Expr, inputSchema *arrow.Schema, env *Env, opts compileOptions) (ev Evaluator, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, fmt.Errorf("compiling %s: internal error: %v", e, r)
		}
	}()
	if env == nil {
		env = &Env{}
	}
	c := &compiler{schema: inputSchema, env: env, opts: opts, compiledAt: time.Now()}
	n, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return &evaluator{root: n, env: env, dt: arrowType(n.typ()), norm: c.norm}, nil
}

// evaluator is the Evaluator Compile returns.
type evaluator struct {
	root node
	env  *Env
	dt   arrow.DataType
	norm []func(memory.Allocator, arrow.Array) arrow.Array
}

func (ev *evaluator) Type() arrow.DataType { return ev.dt }

func (ev *evaluator) Eval(ctx context.Context, rec arrow.Record) (out arrow.Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &Error{Code: CodeInternal, Msg: fmt.Sprintf("internal error evaluating an expression: %v", r), Row: -1}
		}
	}()
	b := newRootBatch(ctx, rec, ev.env, ev.norm)
	defer b.release()
	return b.eval(ev.root)
}
