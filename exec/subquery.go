package exec

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// subqueryRunner implements expr.SubqueryRunner for one statement: it
// builds a subquery's plan with the enclosing rows in the expression
// environment and runs it to completion. Uncorrelated results (outer nil)
// are computed once per statement and cached.
type subqueryRunner struct {
	env   *BuildEnv
	cache map[planner.Node]arrow.Record
}

var _ expr.SubqueryRunner = (*subqueryRunner)(nil)

// RunSubquery implements expr.SubqueryRunner.
func (r *subqueryRunner) RunSubquery(ctx context.Context, n planner.Node, outer []expr.OuterRow) (rec arrow.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, fmt.Errorf("exec: internal error in a subquery: %v\n%s", p, debug.Stack())
		}
	}()
	if outer == nil {
		if c, ok := r.cache[n]; ok {
			c.Retain()
			return c, nil
		}
	}
	sub := &BuildEnv{Mem: r.env.Mem, Scans: r.env.Scans, Params: r.env.Params, Compile: r.env.Compile,
		outer: outer, runner: r}
	op, err := Build(ctx, n, sub)
	if err != nil {
		return nil, err
	}
	rec, err = CollectRecord(ctx, op, r.env.Mem)
	if err != nil {
		return nil, err
	}
	if outer == nil {
		rec.Retain()
		r.cache[n] = rec
	}
	return rec, nil
}

// Release frees the cached subquery results of the statement.
func (r *subqueryRunner) release() {
	for k, rec := range r.cache {
		rec.Release()
		delete(r.cache, k)
	}
}
