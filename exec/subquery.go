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
// builds a subquery's plan with the enclosing rows as the expressions'
// outer stack and runs it to completion. The expression layer caches the
// results (uncorrelated ones once per statement through the BuildEnv's
// expr.StatementCache, correlated ones per distinct outer values).
type subqueryRunner struct {
	env *BuildEnv
}

var _ expr.SubqueryRunner = (*subqueryRunner)(nil)

// RunSubquery implements expr.SubqueryRunner.
func (r *subqueryRunner) RunSubquery(ctx context.Context, plan planner.Node, outer []expr.OuterRow) (rec arrow.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, fmt.Errorf("exec: internal error in a subquery: %v\n%s", p, debug.Stack())
		}
	}()
	sub := *r.env
	sub.outer = outer
	sub.exprEnv = nil
	sub.subquery = true
	if len(outer) > 0 {
		// A correlated subquery runs once per distinct outer row: too
		// small a job to split.
		sub.Threads = 1
	}
	op, err := Build(ctx, plan, &sub)
	if err != nil {
		return nil, err
	}
	return CollectRecord(ctx, op, r.env.Mem)
}
