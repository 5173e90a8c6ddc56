package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/exec/observe"
	"github.com/etlc/etlc/exec/stream"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// PipelineOptions configure RunPipeline.
type PipelineOptions struct {
	// UntilIdle stops the pipeline once its stream is drained (see
	// stream.Options.UntilIdle).
	UntilIdle bool
	// PollInterval overrides the wall time between listings (0: default).
	PollInterval time.Duration
	// CheckpointInterval overrides the pipeline's checkpoint_interval
	// (0: the pipeline's, or 10s).
	CheckpointInterval time.Duration
	// Now is the wall clock (nil: time.Now); tests set it.
	Now func() time.Time
	// Rows is stream.Spec.Rows: it sees every batch read from the stream
	// first (the hook for expectations on the stream's rows).
	Rows func(ctx context.Context, rec arrow.Record) (arrow.Record, error)
}

// PipelineRun is a pipeline opened by OpenPipeline: the runtime's
// Pipeline, to Run (or drive with Poll and Checkpoint), then Close.
type PipelineRun struct {
	*stream.Pipeline
	release func()
}

// Close closes the pipeline's state and releases what its plans held.
func (p *PipelineRun) Close() error {
	err := p.Pipeline.Close()
	p.release()
	return err
}

// PipelineStatus returns the figures of the pipelines this engine runs or
// ran since it opened, by name: what etl.pipelines shows. It is the
// interface a metrics endpoint reads.
func (e *Engine) PipelineStatus() []stream.Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]stream.Snapshot, 0, len(e.pipes))
	for _, st := range e.pipes {
		out = append(out, st.Snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// pipelineDir is the state directory of a pipeline.
func (e *Engine) pipelineDir(name string) string {
	return filepath.Join(e.dir, "pipelines", escapeName(catalogKey(name)))
}

// Pipelines returns the names of the pipelines a script creates, in order.
func Pipelines(src *parser.Source, params map[string]string, lookupEnv func(string) (string, bool)) []string {
	script, _ := parser.Parse(src, parser.Options{Params: params, LookupEnv: lookupEnv})
	if script == nil {
		return nil
	}
	var out []string
	for _, st := range script.Stmts {
		if cp, ok := st.(*parser.CreatePipeline); ok {
			out = append(out, cp.Name.String())
		}
	}
	return out
}

// RunPipeline runs the pipeline name (created earlier, by this or another
// session) in the foreground until ctx is done, taking a last checkpoint
// then, or, with UntilIdle, until its stream is drained. Its state and
// checkpoints live in the data directory, so that running it again
// resumes from the last checkpoint.
func (s *Session) RunPipeline(ctx context.Context, name string, opts PipelineOptions) error {
	return s.eng.RunPipelines(ctx, []string{name}, Options{Params: s.params, LookupEnv: s.env}, opts)[0]
}

// OpenPipeline binds the pipeline name, opens its state and recovers from
// its last checkpoint, ready to run.
func (s *Session) OpenPipeline(ctx context.Context, name string, opts PipelineOptions) (run *PipelineRun, err error) {
	eng := s.eng
	obj, ok := eng.cat.Lookup(name)
	if !ok || obj.Kind != catalog.ObjectPipeline {
		return nil, fmt.Errorf("pipeline %q does not exist", name)
	}
	status := stream.NewStatus(obj.Name)
	eng.mu.Lock()
	if eng.pipes == nil {
		eng.pipes = map[string]*stream.Status{}
	}
	eng.pipes[catalogKey(obj.Name)] = status
	eng.mu.Unlock()
	eng.SetPipelineReporter(pipelineReporter{eng})
	defer func() {
		if err != nil {
			status.Fail(err)
		}
	}()
	r0 := &stmtRun{s: s}
	ps, err := r0.bindPipeline(ctx, parser.ObjectName{Name: parser.Ident{Name: obj.Name}})
	if err != nil {
		return nil, err
	}
	ins := ps.Insert
	// Expectations are counted (etl.expectations) and acted on; the rows
	// QUARANTINE expectations reject go to the pipeline's quarantine
	// target, staged and published at checkpoints like the sink's rows.
	expect := exec.NewExpectStats()
	for _, x := range ps.Expectations {
		expect.Entry(obj.Name, x.Name, x.Action)
	}
	eng.SetExpectations(obj.Name, expect)
	var streamObjs []*catalog.Object
	var find func(n planner.Node)
	find = func(n planner.Node) {
		if sc, ok := n.(*planner.Scan); ok && sc.Stream {
			known := false
			for _, o := range streamObjs {
				known = known || catalogKey(o.Name) == catalogKey(sc.Object.Name)
			}
			if !known {
				streamObjs = append(streamObjs, sc.Object)
			}
		}
		for _, c := range n.Children() {
			find(c)
		}
	}
	find(ins.Plan)
	if len(streamObjs) == 0 {
		return nil, fmt.Errorf("pipeline %q reads no stream (FROM STREAM name)", obj.Name)
	}
	if len(streamObjs) > 2 {
		return nil, fmt.Errorf("pipeline %q reads %d streams; a pipeline reads one stream, or joins two", obj.Name, len(streamObjs))
	}
	for _, so := range streamObjs {
		if so.Kind != catalog.ObjectStream {
			return nil, fmt.Errorf("pipeline %q reads %s %q with FROM STREAM; only a stream can be read as one", obj.Name, so.Kind, so.Name)
		}
		if c := so.Options["connector"]; c != "" && c != "file" && c != "kafka" {
			return nil, fmt.Errorf("stream %q: connector %q is not supported by the stream runtime yet", so.Name, c)
		}
	}
	streamObj := streamObjs[0]
	target := ins.Target
	if target == nil || target.Kind != catalog.ObjectSink {
		return nil, fmt.Errorf("pipeline %q must insert into a sink", obj.Name)
	}
	sinkOpts, err := connector.ParseOptions(target.Options, connector.RoleSink)
	if err != nil {
		return nil, fmt.Errorf("sink %q: %w", target.Name, err)
	}
	r := &stmtRun{s: s, rs: &runState{opts: ExecOptions{}, sources: map[string]*SourceSummary{},
		targets: map[string]*TargetSummary{}, quarantined: map[string]*catalog.Object{}, run: &Run{}},
		mem: exec.NewMemory(eng.cfg.MemoryLimit), start: time.Now(), res: &StmtResult{}}
	r.scans = scanCache{done: map[string][]arrow.Record{}, tooLarge: map[string]bool{}}
	defer func() {
		if err != nil {
			r.scans.release()
		}
	}()
	var quarantine *stream.SinkTarget
	q, err := r.openQuarantine(ctx, ps)
	if err != nil {
		return nil, err
	}
	if q != nil {
		qopts, err := eng.writeOptions(q.obj)
		if err != nil {
			return nil, err
		}
		quarantine = &stream.SinkTarget{Options: qopts, Fields: nullableFields(fieldsOf(q.obj.Columns))}
	}
	plan, err := r.optimize(ctx, targetPlan(ins.Plan, target, ins.Columns, ins.Defaults), false)
	if err != nil {
		return nil, err
	}
	var wm planner.Expr
	if streamObj.Watermark != nil {
		if wm, err = s.watermarkExpr(ctx, streamObj); err != nil {
			return nil, err
		}
	}
	var joined *stream.JoinedStream
	if len(streamObjs) == 2 {
		joined = &stream.JoinedStream{Stream: streamObjs[1]}
		if streamObjs[1].Watermark != nil {
			if joined.Watermark, err = s.watermarkExpr(ctx, streamObjs[1]); err != nil {
				return nil, err
			}
		}
	}
	sopts := stream.Options{UntilIdle: opts.UntilIdle, PollInterval: opts.PollInterval,
		CheckpointInterval: opts.CheckpointInterval, Now: opts.Now}
	if sopts.CheckpointInterval == 0 {
		if sopts.CheckpointInterval, err = optDuration(obj.Options, "checkpoint_interval"); err != nil {
			return nil, err
		}
	}
	sopts.EmitUpdate = obj.Options["emit"] == "update"
	ttl, err := optDuration(obj.Options, "state_ttl")
	if err != nil {
		return nil, err
	}
	if sopts.IdleTimeout, err = optDuration(streamObj.Options, "idle_timeout"); err != nil {
		return nil, err
	}
	if sopts.QuietPeriod, err = optDuration(streamObj.Options, "quiet_period"); err != nil {
		return nil, err
	}
	dir := eng.pipelineDir(obj.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	env := &expr.Env{Alloc: r.mem.Alloc, Now: r.start, Location: s.location()}
	spec := stream.Spec{
		Name: obj.Name, Plan: plan, Stream: streamObj, Watermark: wm, Joined: joined, StateTTL: ttl,
		SinkOptions: sinkOpts, SinkFields: fieldsOf(target.Columns), Conn: eng.conn,
		Build: func(ctx context.Context, plan planner.Node, scans exec.ScanFactory, quar exec.QuarantineFunc) (exec.Operator, error) {
			return exec.Build(ctx, plan, &exec.BuildEnv{Mem: r.mem, Scans: scans, Compile: expr.Compile,
				Now: r.start, Location: s.location(), Expect: &exec.ExpectEnv{Stats: expect, Quarantine: quar}})
		},
		Quarantine: quarantine, Expect: expect,
		Compile: func(e planner.Expr, in *arrow.Schema) (expr.Evaluator, error) { return expr.Compile(e, in, env) },
		Scans:   &scanFactory{r: r}, Dir: dir, Status: status, Mem: r.mem, Rows: opts.Rows,
	}
	p, err := stream.Open(ctx, spec, sopts)
	if err != nil {
		return nil, err
	}
	return &PipelineRun{Pipeline: p, release: r.scans.release}, nil
}

// watermarkExpr binds a stream's watermark expression over its columns.
func (s *Session) watermarkExpr(ctx context.Context, o *catalog.Object) (planner.Expr, error) {
	q := fmt.Sprintf("SELECT %s FROM %q", o.Watermark.Expr, o.Name)
	prog, diags := s.Compile(ctx, parser.NewSource("watermark of "+o.Name, q))
	if diags.HasErrors() {
		return nil, fmt.Errorf("watermark of %q: %v", o.Name, diags)
	}
	qs, ok := prog.Statements[0].(*planner.QueryStmt)
	if !ok {
		return nil, fmt.Errorf("watermark of %q does not bind", o.Name)
	}
	pr, ok := qs.Plan.(*planner.Project)
	if !ok || len(pr.Exprs) != 1 {
		return nil, fmt.Errorf("watermark of %q: unexpected plan %T", o.Name, qs.Plan)
	}
	if sc, ok := pr.Input.(*planner.Scan); !ok || (sc.Cols != nil && len(sc.Cols) != len(o.Columns)) {
		return nil, fmt.Errorf("watermark of %q: unexpected plan input %T", o.Name, pr.Input)
	}
	return pr.Exprs[0], nil
}

func optDuration(m map[string]string, key string) (time.Duration, error) {
	v, ok := m[key]
	if !ok || v == "" {
		return 0, nil
	}
	d, err := catalog.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}

// pipelineRows are the rows of etl.pipelines: every pipeline of the
// catalog, with the figures of its run when this engine runs or ran it.
func (e *Engine) pipelineRows() [][]any {
	live := map[string]stream.Snapshot{}
	for _, s := range e.PipelineStatus() {
		live[catalogKey(s.Name)] = s
	}
	var rows [][]any
	for _, o := range e.cat.List(catalog.ObjectPipeline) {
		s, ok := live[catalogKey(o.Name)]
		if !ok {
			// Not run by this process: the figures of its last
			// checkpoint, if any (the state of a pipeline another
			// process runs is locked: it shows as created).
			last, found := e.lastCheckpoint(o.Name)
			switch {
			case found:
				s = last
			case e.desiredState(o.Name) == pipelineStopped:
				s = stream.Snapshot{Name: o.Name, State: stream.StateStopped}
			default:
				rows = append(rows, []any{o.Name, "created", nil, int64(0), int64(0), nil, nil, nil, nil, nil})
				continue
			}
		}
		var wm, lag, ck any
		if !s.Watermark.IsZero() {
			wm = s.Watermark
			if s.State == stream.StateRunning {
				lag = s.Lag.Milliseconds()
			}
		}
		var age any
		if !s.LastCheckpoint.IsZero() {
			ck = s.LastCheckpoint
			age = time.Since(s.LastCheckpoint).Milliseconds()
		}
		var started any
		if !s.StartedAt.IsZero() {
			started = s.StartedAt
		}
		rows = append(rows, []any{o.Name, s.State, started, s.RowsIn, s.RowsOut, wm, lag, ck, age, nullIfEmpty(s.Error)})
	}
	return rows
}

// pipelineReporter lists the engine's pipelines for the metrics
// (observe.PipelineReporter).
type pipelineReporter struct{ e *Engine }

// PipelineStatuses implements observe.PipelineReporter.
func (r pipelineReporter) PipelineStatuses() []observe.PipelineStatus {
	var out []observe.PipelineStatus
	for _, s := range r.e.PipelineStatus() {
		out = append(out, observe.PipelineStatus{Name: s.Name, State: s.State, RowsIn: s.RowsIn, RowsOut: s.RowsOut,
			Watermark: s.Watermark, Lag: s.Lag, LastCheckpoint: s.LastCheckpoint, LateRows: s.LateRows})
	}
	return out
}

// StreamingPipeline reports whether the pipeline name reads a stream
// (FROM STREAM), so that it runs in the stream runtime rather than as a
// batch (START PIPELINE).
func (s *Session) StreamingPipeline(ctx context.Context, name string) (bool, error) {
	r := &stmtRun{s: s}
	ps, err := r.bindPipeline(ctx, parser.ObjectName{Name: parser.Ident{Name: name}})
	if err != nil {
		return false, err
	}
	return readsStream(ps.Insert.Plan), nil
}
