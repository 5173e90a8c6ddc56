package session

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/optimizer"
	"github.com/etlc/etlc/planner"
)

// explain prints the statement's plan, one line a row of "QUERY PLAN".
//
// For a query it is the plan that runs: optimized, each operator with its
// estimated rows and cost. EXPLAIN ANALYZE runs the query (its rows are
// discarded) and adds to each operator what it did: rows, batches, time
// (its inputs included) and peak memory; then the total time. The plan
// runs as it would outside EXPLAIN, in parallel with several threads: an
// operator that ran in several workers shows their rows and batches
// summed, the longest worker's time and "workers=N".
func (r *stmtRun) explain(ctx context.Context, st *planner.ExplainStmt) error {
	r.res.Tag = "EXPLAIN"
	if st.Inner == nil {
		return fmt.Errorf("nothing to explain")
	}
	q, ok := st.Inner.(*planner.QueryStmt)
	if !ok {
		if st.Analyze {
			return &featureError{msg: "EXPLAIN ANALYZE runs queries only; use EXPLAIN"}
		}
		inner, err := r.optimizedStmt(ctx, st.Inner)
		if err != nil {
			return err
		}
		return r.textRows(ctx, []string{"QUERY PLAN"}, lines(planner.FormatStmt(inner)))
	}
	opts := r.optimizerOptions(ctx, false)
	plan, err := optimizer.Optimize(q.Plan, opts)
	if err != nil {
		return err
	}
	est := optimizer.NewEstimator(opts)
	estNote := func(n planner.Node) string {
		s := est.Note(n)
		if sc, ok := n.(*planner.Scan); ok {
			if kept, total, ok := r.partitionCounts(ctx, sc); ok {
				s += fmt.Sprintf(" (partitions=%d/%d)", kept, total)
			}
		}
		return s
	}
	if !st.Analyze {
		return r.textRows(ctx, []string{"QUERY PLAN"}, lines(planner.FormatWith(plan, estNote)))
	}
	var mu sync.Mutex
	measured := map[planner.Node][]*exec.Instrumented{}
	env := r.buildEnv(nil)
	env.Observe = func(n planner.Node, op exec.Operator) exec.Operator {
		in := exec.Instrument(op, r.mem)
		mu.Lock()
		measured[n] = append(measured[n], in)
		mu.Unlock()
		return in
	}
	start := time.Now()
	op, err := exec.Build(ctx, plan, env)
	if err != nil {
		return err
	}
	if err := drain(ctx, op); err != nil {
		return err
	}
	total := time.Since(start)
	note := func(n planner.Node) string {
		mu.Lock()
		ins := measured[n]
		mu.Unlock()
		sum, workers := sumStats(ins)
		if !sum.Opened {
			return estNote(n) + " (never executed)"
		}
		w := ""
		if workers > 1 {
			w = fmt.Sprintf(" workers=%d", workers)
		}
		return fmt.Sprintf("%s (actual rows=%d batches=%d time=%s peak=%s%s)", estNote(n), sum.Rows, sum.Batches,
			fmtDuration(sum.Time), fmtBytes(sum.PeakMem), w)
	}
	out := lines(planner.FormatWith(plan, note))
	out = append(out, []string{fmt.Sprintf("Execution time: %s, peak memory %s", fmtDuration(total), fmtBytes(r.mem.Peak()))})
	return r.textRows(ctx, []string{"QUERY PLAN"}, out)
}

// sumStats adds up the measurements of the operators built for one plan
// node: one, or one per worker of a parallel pipeline. Rows and batches
// add up; time is the longest worker's (they run at the same time), and
// peak memory the highest seen. workers counts the operators that ran.
func sumStats(ins []*exec.Instrumented) (sum exec.OpStats, workers int) {
	for _, in := range ins {
		s := in.Stats()
		if !s.Opened {
			continue
		}
		workers++
		sum.Opened = true
		sum.Rows += s.Rows
		sum.Batches += s.Batches
		sum.Time = max(sum.Time, s.Time)
		sum.PeakMem = max(sum.PeakMem, s.PeakMem)
	}
	return sum, workers
}

// drain runs an operator to its end, discarding the rows.
func drain(ctx context.Context, op exec.Operator) error {
	return exec.Drive(ctx, op, func(arrow.Record) error { return nil })
}

// lines splits text into one-cell rows.
func lines(text string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		rows = append(rows, []string{l})
	}
	return rows
}

// fmtDuration prints a duration in milliseconds with three decimals.
func fmtDuration(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// fmtBytes prints a byte count with a binary unit.
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
