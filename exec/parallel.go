package exec

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// PartScanFactory is a ScanFactory that can split the read of a relation
// across parallel workers.
type PartScanFactory interface {
	// OpenScanParts opens n scans that together read obj once: every row
	// comes out of exactly one of them. They may skip data as
	// FilteredScanFactory does by the filters. ok is false (and nothing
	// is opened) when obj is not split; the builder then reads it with
	// OpenScan or OpenScanFiltered.
	OpenScanParts(ctx context.Context, obj *catalog.Object, columns []int, filters ScanFilters, n int) (parts []Operator, ok bool, err error)
}

// Parallel plans. With BuildEnv.Threads above 1, the builder runs the
// pipelines that start at a splittable scan once per thread: each worker
// reads its share of the scan's pieces (row groups, files), and runs its
// own filters, projections and hash-join probes over them (the build side
// of a join is read and indexed once and shared read-only by the probes).
// At a pipeline breaker the workers meet: an aggregation whose aggregates
// merge (count, sum, avg, min, max) runs one partial aggregation per
// worker and merges their groups; anything else reads the workers' output
// through a Gather. Expressions with subqueries keep their pipeline
// serial. A build that observes its operators (BuildEnv.Observe, EXPLAIN
// ANALYZE) observes each worker's operator of a plan node: Observe is
// called once per worker for it.

// parallel returns the worker pipelines of n, one per thread, or nil when
// n does not split (then nothing is built). Each worker's operator is
// observed (BuildEnv.Observe) as one of n's.
func (b *builder) parallel(n planner.Node) ([]Operator, error) {
	ops, err := b.parallel1(n)
	if err != nil || len(ops) == 0 || b.env.Observe == nil {
		return ops, err
	}
	for i, op := range ops {
		ops[i] = b.env.Observe(n, op)
	}
	return ops, nil
}

// parallel1 is parallel without the observation of its result.
func (b *builder) parallel1(n planner.Node) ([]Operator, error) {
	if b.env.Threads < 2 {
		return nil, nil
	}
	switch n := n.(type) {
	case *planner.Scan:
		pf, ok := b.env.Scans.(PartScanFactory)
		if !ok {
			return nil, nil
		}
		parts, ok, err := pf.OpenScanParts(b.ctx, n.Object, scanColumns(n), scanFilters(n), b.env.Threads)
		if err != nil || !ok {
			return nil, err
		}
		schema := SchemaOf(n.Columns)
		for i, p := range parts {
			if !typesMatch(p.Schema(), schema) {
				closeAll(parts...)
				return nil, fmt.Errorf("exec: the scan of %s produces %s, the plan expects %s", n.Object.Name, p.Schema(), schema)
			}
			parts[i] = b.withFilters(n, newRename(p, schema))
		}
		return parts, nil
	case *planner.Filter:
		if hasSubquery(n.Cond) {
			return nil, nil
		}
		return b.parallelEach(n.Input, func(in Operator) (Operator, error) {
			c, err := b.compile(n.Cond, in.Schema())
			if err != nil {
				return nil, err
			}
			return NewFilter(in, c, b.env.Mem), nil
		})
	case *planner.Project:
		for _, e := range n.Exprs {
			if hasSubquery(e) {
				return nil, nil
			}
		}
		return b.parallelEach(n.Input, func(in Operator) (Operator, error) {
			evs, err := b.compileAll(n.Exprs, in.Schema())
			if err != nil {
				return nil, err
			}
			return NewProject(in, evs, SchemaOf(n.Columns)), nil
		})
	case *planner.Join:
		return b.parallelJoin(n)
	}
	return nil, nil
}

// parallelEach puts wrap's operator over each worker pipeline of input;
// nil when input does not split. On an error every pipeline is closed.
func (b *builder) parallelEach(input planner.Node, wrap func(in Operator) (Operator, error)) ([]Operator, error) {
	ins, err := b.parallel(input)
	if ins == nil || err != nil {
		return nil, err
	}
	out := make([]Operator, len(ins))
	for i, in := range ins {
		if out[i], err = wrap(in); err != nil {
			closeAll(ins[i:]...)
			closeAll(out[:i]...)
			return nil, err
		}
	}
	return out, nil
}

// parallelSort sorts the worker pipelines of n's input each on its own
// and merges the runs; nil when the input does not split.
func (b *builder) parallelSort(n *planner.Sort) (Operator, error) {
	for _, k := range n.Keys {
		if hasSubquery(k.Expr) {
			return nil, nil
		}
	}
	ins, err := b.parallel(n.Input)
	if ins == nil || err != nil {
		return nil, err
	}
	parts := make([]*Sort, len(ins))
	for i, in := range ins {
		keys, err := b.sortKeys(n.Keys, in.Schema())
		if err != nil {
			closeAll(ins[i:]...)
			for _, p := range parts[:i] {
				p.Close()
			}
			return nil, err
		}
		parts[i] = NewSort(in, keys, b.env.Mem)
	}
	keys, err := b.sortKeys(n.Keys, ins[0].Schema())
	if err != nil {
		for _, p := range parts {
			p.Close()
		}
		return nil, err
	}
	return NewMergeSort(parts, keys, b.env.Mem), nil
}

// scanColumns are the columns a Scan reads, as indexes into its object.
func scanColumns(n *planner.Scan) []int {
	if n.Cols != nil {
		return n.Cols
	}
	cols := make([]int, len(n.Columns))
	for i := range cols {
		cols[i] = i
	}
	return cols
}

// hasSubquery reports whether e holds a subquery (planner.HasSubquery).
func hasSubquery(e planner.Expr) bool { return planner.HasSubquery(e) }

// parallelJoin splits a join whose probe side splits: the build side is
// built once and shared. The probe side is the left input, or the right
// one of a join that builds on its left (buildsLeft).
func (b *builder) parallelJoin(n *planner.Join) ([]Operator, error) {
	if n.Cond != nil && hasSubquery(n.Cond) {
		return nil, nil
	}
	probe, build := n.Left, n.Right
	if buildsLeft(n) {
		probe, build = build, probe
	}
	keys, _ := splitJoinCond(n.Cond, len(n.Left.Schema()))
	rf := b.planFilters(n, keys)
	ps, err := b.parallel(probe)
	if ps == nil || err != nil {
		b.dropFilter(rf)
		return nil, err
	}
	r, err := b.build(build)
	if err != nil {
		closeAll(ps...)
		return nil, err
	}
	joins := make([]*Join, len(ps))
	for i, p := range ps {
		var op *Join
		if buildsLeft(n) {
			op, err = b.hashJoin(n, r, p)
		} else {
			op, err = b.hashJoin(n, p, r)
		}
		if err != nil {
			closeAll(ps[i:]...)
			for _, j := range joins[:i] {
				j.Close()
			}
			if i == 0 {
				closeAll(r)
			}
			return nil, err
		}
		joins[i] = op
	}
	joins[0].filter = rf
	shareBuild(joins)
	out := make([]Operator, len(joins))
	for i, j := range joins {
		if out[i], err = b.joinOutput(n, j); err != nil {
			for _, j := range joins[i+1:] {
				j.Close()
			}
			closeAll(out[:i]...)
			return nil, err
		}
	}
	return out, nil
}

// Gather runs its inputs (parallel workers) each in a goroutine and yields
// their batches as they come, in no particular order. An error of any
// input ends the gather with that error.
type Gather struct {
	inputs []Operator
	schema *arrow.Schema

	started bool
	cancel  context.CancelFunc
	ch      chan Batch
	errMu   sync.Mutex
	err     error
	wg      sync.WaitGroup
	done    chan struct{}
}

// NewGather returns the gather of inputs, which must have one schema.
func NewGather(inputs []Operator) *Gather {
	return &Gather{inputs: inputs, schema: inputs[0].Schema()}
}

// Schema implements Operator.
func (g *Gather) Schema() *arrow.Schema { return g.schema }

// Open implements Operator.
func (g *Gather) Open(ctx context.Context) error {
	for _, in := range g.inputs {
		if !typesMatch(in.Schema(), g.schema) {
			return fmt.Errorf("exec: gather of %s and %s", g.schema, in.Schema())
		}
		if err := in.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

// fail records the first error and stops the workers.
func (g *Gather) fail(err error) {
	g.errMu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.errMu.Unlock()
	g.cancel()
}

// error is the first error a worker met, if any.
func (g *Gather) error() error {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	return g.err
}

func (g *Gather) start(ctx context.Context) {
	g.started = true
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	g.ch = make(chan Batch, 2*len(g.inputs))
	g.done = make(chan struct{})
	for _, in := range g.inputs {
		g.wg.Add(1)
		go func(in Operator) {
			defer g.wg.Done()
			defer func() {
				if r := recover(); r != nil {
					g.fail(fmt.Errorf("exec: internal error in a parallel worker: %v", r))
				}
			}()
			for {
				b, ok, err := in.Next(wctx)
				if err != nil {
					g.fail(err)
					return
				}
				if !ok {
					return
				}
				select {
				case g.ch <- b:
				case <-wctx.Done():
					if b.Kind == BatchData {
						b.Rec.Release()
					}
					return
				}
			}
		}(in)
	}
	go func() {
		g.wg.Wait()
		close(g.ch)
	}()
	// The workers run under their own context (a gather may outlive one
	// Next call's context); the caller's cancels them.
	go func() {
		select {
		case <-ctx.Done():
			g.fail(ctx.Err())
		case <-g.done:
		}
	}()
}

// Next implements Operator.
func (g *Gather) Next(ctx context.Context) (Batch, bool, error) {
	if !g.started {
		g.start(ctx)
	}
	select {
	case b, ok := <-g.ch:
		// Batches sent before a worker failed come out first, as they
		// would from a serial plan; the error ends the gather after them.
		if !ok {
			return Batch{}, false, g.error()
		}
		return b, true, nil
	case <-ctx.Done():
		g.fail(ctx.Err())
		return Batch{}, false, ctx.Err()
	}
}

// stop cancels the workers and waits for them, releasing what they sent.
func (g *Gather) stop() {
	if !g.started {
		return
	}
	g.cancel()
	for b := range g.ch {
		if b.Kind == BatchData {
			b.Rec.Release()
		}
	}
	close(g.done)
	g.started = false
}

// Close implements Operator.
func (g *Gather) Close() error {
	g.stop()
	var err error
	for _, in := range g.inputs {
		if e := in.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// runAll runs fn(i) for i in [0, n) in n goroutines and returns the first
// error; a panic in one becomes an error.
func runAll(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("exec: internal error in a parallel worker: %v", r)
				}
			}()
			errs[i] = fn(i)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
