package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/cockroachdb/pebble"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// Options configure a pipeline run.
type Options struct {
	// CheckpointInterval is the wall time between checkpoints (default 10s).
	CheckpointInterval time.Duration
	// PollInterval is the wall time between two listings of the stream's
	// path when nothing new arrived (default 200ms).
	PollInterval time.Duration
	// QuietPeriod, when positive, makes a file ready only once two
	// listings at least this far apart saw it with the same size and
	// modification time (for writers that do not rename finished files
	// into place). Zero: every visible file is complete.
	QuietPeriod time.Duration
	// IdleTimeout, when positive, leaves a partition that has had no new
	// file for this long out of the watermark's minimum.
	IdleTimeout time.Duration
	// EmitUpdate writes, at every checkpoint, the current row of every
	// open window that changed, not only final rows.
	EmitUpdate bool
	// UntilIdle stops the run once the stream is drained (a listing finds
	// nothing new to read): the input ends there, the watermark moves to
	// the end of time and every open window is emitted.
	UntilIdle bool
	// Now is the wall clock (nil: time.Now).
	Now func() time.Time
	// MergeBytes is how much partial window state (encoded) is merged at
	// once when windows are emitted (0: 32 MiB); it bounds the memory of
	// an emission whatever the number of live keys.
	MergeBytes int
}

// streamOnly are the options of a stream the file connector does not
// read: the runtime's.
var streamOnly = [...]string{"idle_timeout", "quiet_period"}

// Spec is one pipeline as the runtime runs it.
type Spec struct {
	// Name is the pipeline's name.
	Name string
	// Plan is the optimized plan of the pipeline's INSERT query, producing
	// the sink's columns in order.
	Plan planner.Node
	// Stream is the stream the plan reads with FROM STREAM; a file stream.
	Stream *catalog.Object
	// Watermark is the stream's watermark expression bound over all of its
	// columns in order; nil when it declares none.
	Watermark planner.Expr
	// Joined is, for a pipeline that joins two streams, the second stream
	// (a file stream, as Stream is) and its watermark; nil otherwise.
	Joined *JoinedStream
	// StateTTL is the pipeline's state_ttl: how long (in event time, as the
	// watermark moves, or in wall time for a stream without one) a
	// deduplication or DISTINCT over the stream remembers a key no row
	// has touched. Zero: for ever.
	StateTTL time.Duration
	// SinkOptions and SinkFields open the sink.
	SinkOptions connector.Options
	SinkFields  []connector.Field
	// Conn reads the stream and writes the sink.
	Conn *connector.FileConnector
	// Build builds the operators of a plan (already optimized) with the
	// given scan factory; quarantine receives the rows QUARANTINE
	// expectations reject (nil when the pipeline has no Quarantine).
	Build func(ctx context.Context, plan planner.Node, scans exec.ScanFactory, quarantine exec.QuarantineFunc) (exec.Operator, error)
	// Compile compiles an expression over an input schema.
	Compile func(e planner.Expr, in *arrow.Schema) (expr.Evaluator, error)
	// Scans opens the relations other than the stream (a lookup join's
	// tables); nil when there are none.
	Scans exec.ScanFactory
	// Rows, when set, sees every batch read from the stream (all of the
	// stream's columns, in order) before the plan does, and returns the
	// rows to go on with (rec itself, retained, or a new record; the
	// runtime releases rec). It is the hook for pipeline expectations
	// checked on the stream's rows: DROP ROW drops, FAIL returns an error
	// (which stops the pipeline), QUARANTINE keeps the rows aside. Rows it
	// drops do not move the watermark.
	Rows func(ctx context.Context, rec arrow.Record) (arrow.Record, error)
	// Quarantine, when set, is where the rows QUARANTINE expectations
	// reject go: a second sink, staged and published at each checkpoint
	// together with the main sink, so that each quarantined row is
	// written exactly once.
	Quarantine *SinkTarget
	// Expect, when set, holds the counts of the pipeline's expectations:
	// they are part of each checkpoint and restored from it, so that they
	// count every row once across restarts.
	Expect *exec.ExpectStats
	// Dir is the pipeline's state directory (a Pebble database).
	Dir string
	// Status, when set, receives the pipeline's figures.
	Status *Status
	// Mem provides the allocator.
	Mem *exec.Memory
}

// JoinedStream is the second stream of a pipeline that joins two streams.
type JoinedStream struct {
	Stream    *catalog.Object
	Watermark planner.Expr
}

// SinkTarget is a sink the runtime writes besides the pipeline's own.
type SinkTarget struct {
	Options connector.Options
	Fields  []connector.Field
}

// window is the group window of the pipeline's aggregation, in µs.
type window struct {
	kind             planner.WindowKind
	size, slide, gap int64
	time             expr.Evaluator
	endCol, startCol int
}

// Pipeline is a pipeline being run. Use Open, then Run (or Poll and
// Checkpoint, for tests that drive it step by step), then Close.
type Pipeline struct {
	spec Spec
	opts Options
	st   *store
	m    *meta
	// epoch is the id of the checkpoint being built.
	epoch uint64

	agg     *planner.Aggregate
	replace func(planner.Node) planner.Node
	lower   planner.Node
	win     *window
	wm      expr.Evaluator
	// partial is the incremental form of the window aggregation; nil when
	// it keeps rows (SESSION windows, aggregates that need all rows).
	partial *partialAgg
	hashes  []uint64
	// op is the pipeline's other stateful operator (deduplication,
	// DISTINCT, a join of two streams), nil for none; its state changes
	// of the checkpoint being built are in batch, committed with it.
	op    stateOp
	batch *pebble.Batch

	streamOpts   connector.Options
	streamFields []connector.Field
	// inputs are the streams read: the first is Spec.Stream, the second
	// Spec.Joined's.
	inputs []*input

	sink      *connector.Sink
	qsink     *connector.Sink
	newFiles  []string
	inEpoch   map[string]bool
	seen      map[string]seenFile
	buffered  bool
	deletes   [][2][]byte
	epochOut  int64
	lastCkpt  time.Time
	committed *meta
}

type seenFile struct {
	size int64
	mod  time.Time
	at   time.Time
}

// Open opens (or creates) the pipeline's state and recovers from its last
// checkpoint: a sink run the checkpoint committed but did not publish is
// published, and rows buffered after it are dropped.
func Open(ctx context.Context, spec Spec, opts Options) (p *Pipeline, err error) {
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = 10 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MergeBytes <= 0 {
		opts.MergeBytes = mergeBudget
	}
	p = &Pipeline{spec: spec, opts: opts, inEpoch: map[string]bool{}, seen: map[string]seenFile{}}
	fileOpts := maps.Clone(spec.Stream.Options)
	for _, k := range streamOnly {
		delete(fileOpts, k)
	}
	isKafka := spec.Stream.Options["connector"] == "kafka"
	if isKafka {
		fileOpts = kafkaFileOptions(spec.Stream.Options, filepath.Join(spec.Dir, "kafka-batch"))
	}
	if p.streamOpts, err = connector.ParseOptions(fileOpts, connector.RoleSource); err != nil {
		return nil, fmt.Errorf("stream %q: %w", spec.Stream.Name, err)
	}
	if len(spec.Stream.Columns) == 0 {
		return nil, fmt.Errorf("stream %q has no columns: declare them", spec.Stream.Name)
	}
	for _, c := range spec.Stream.Columns {
		p.streamFields = append(p.streamFields, connector.Field{Name: c.Name, Type: c.Type})
	}
	stateful, replace, err := splitPlan(spec.Plan)
	if err != nil {
		return nil, err
	}
	agg, _ := stateful.(*planner.Aggregate)
	p.agg, p.replace, p.lower = agg, replace, spec.Plan
	if spec.Watermark != nil {
		if p.wm, err = spec.Compile(spec.Watermark, connector.ArrowSchema(p.streamFields)); err != nil {
			return nil, fmt.Errorf("watermark of %q: %w", spec.Stream.Name, err)
		}
	}
	p.inputs = []*input{{obj: spec.Stream, opts: p.streamOpts, fields: p.streamFields, wm: p.wm}}
	if j := spec.Joined; j != nil {
		in2, err := p.openInput(j)
		if err != nil {
			return nil, err
		}
		p.inputs = append(p.inputs, in2)
	}
	if stateful != nil && agg == nil {
		if p.op, err = p.newStateOp(stateful); err != nil {
			return nil, err
		}
	}
	if agg != nil {
		if p.wm == nil {
			return nil, fmt.Errorf("the windowed aggregation of pipeline %q needs a watermark on stream %q (WATERMARK FOR column AS column - INTERVAL ...)", spec.Name, spec.Stream.Name)
		}
		p.lower = agg.Input
		if p.win, err = p.compileWindow(agg); err != nil {
			return nil, err
		}
		if p.partial, err = p.newPartialAgg(agg); err != nil {
			return nil, err
		}
	}
	if p.st, err = openStore(spec.Dir); err != nil {
		return nil, err
	}
	// The returns below set p to nil: close the store through st.
	st := p.st
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if p.m, err = p.st.loadMeta(); err != nil {
		return nil, err
	}
	layout := ""
	if p.partial != nil {
		layout = p.partial.layout
	}
	if p.m.Checkpoint == 0 {
		p.m.Layout = layout
	} else if p.m.Layout != layout {
		return nil, fmt.Errorf("pipeline %q: its state in %s was written by another version of etlc (layout %q, this one keeps %q): it cannot resume from it; drop the pipeline's state directory to start over", spec.Name, spec.Dir, p.m.Layout, layout)
	}
	if p.m.PendingRun != "" {
		if err := spec.Conn.PublishStaged(ctx, spec.SinkOptions, p.m.PendingRun); err != nil {
			return nil, fmt.Errorf("publishing the output of checkpoint %d: %w", p.m.Checkpoint, err)
		}
	}
	if p.m.PendingQuarantine != "" {
		if spec.Quarantine == nil {
			return nil, fmt.Errorf("checkpoint %d staged quarantined rows, but the pipeline has no quarantine any more", p.m.Checkpoint)
		}
		if err := spec.Conn.PublishStaged(ctx, spec.Quarantine.Options, p.m.PendingQuarantine); err != nil {
			return nil, fmt.Errorf("publishing the quarantined rows of checkpoint %d: %w", p.m.Checkpoint, err)
		}
	}
	if spec.Expect != nil {
		spec.Expect.Restore(p.m.Expect)
	}
	if err := p.st.dropUncommitted(p.m.Checkpoint); err != nil {
		return nil, err
	}
	if spec.Joined != nil {
		// Each Kafka stream of a join is an input of its own.
		for _, in := range p.inputs {
			if in.obj.Options["connector"] == "kafka" {
				if err := p.openKafkaInput(ctx, in); err != nil {
					p.closeInputs()
					return nil, err
				}
			}
		}
	} else if isKafka {
		if err := p.openKafkaInput(ctx, p.inputs[0]); err != nil {
			return nil, err
		}
	}
	if spec.Joined != nil {
		// Until a stream has data, it holds the watermark back (or until
		// idle_timeout), so that the other's rows do not make its rows late.
		for _, in := range p.inputs {
			if !p.m.hasData(in.tag) && p.m.Partitions[in.tag+noData] == nil {
				p.m.Partitions[in.tag+noData] = &partition{Watermark: math.MinInt64, LastData: opts.Now().UnixNano()}
			}
		}
	}
	p.committed = p.m.clone()
	p.epoch = p.m.Checkpoint + 1
	p.lastCkpt = opts.Now()
	p.status(StateRunning, nil)
	return p, nil
}

func (p *Pipeline) compileWindow(agg *planner.Aggregate) (*window, error) {
	w := &window{kind: agg.Window.Kind}
	var err error
	if w.time, err = p.spec.Compile(agg.Window.Time, exec.SchemaOf(agg.Input.Schema())); err != nil {
		return nil, err
	}
	micros := func(e planner.Expr) (int64, error) {
		if e == nil {
			return 0, nil
		}
		v, ok, err := p.constInterval(e)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, fmt.Errorf("window size %s is not an INTERVAL", e)
		}
		if v.Months != 0 {
			return 0, fmt.Errorf("window size %s must not be in months or years", e)
		}
		return int64(v.Days)*86400e6 + v.Nanoseconds/1000, nil
	}
	if w.size, err = micros(agg.Window.Size); err != nil {
		return nil, err
	}
	if w.slide, err = micros(agg.Window.Slide); err != nil {
		return nil, err
	}
	if w.gap, err = micros(agg.Window.Gap); err != nil {
		return nil, err
	}
	switch w.kind {
	case planner.Tumble:
		w.slide = w.size
	case planner.Session:
		if w.gap <= 0 {
			return nil, fmt.Errorf("session gap must be positive")
		}
	}
	if w.kind != planner.Session && (w.size <= 0 || w.slide <= 0) {
		return nil, fmt.Errorf("window size and slide must be positive")
	}
	w.startCol = len(agg.GroupBy)
	w.endCol = w.startCol + 1
	return w, nil
}

// Close closes the state; it takes no checkpoint (Run does on the way out).
func (p *Pipeline) Close() error {
	if p.batch != nil {
		p.batch.Close()
		p.batch = nil
	}
	p.closeInputs()
	p.abortSinks(context.Background())
	return p.st.close()
}

// status publishes the figures.
func (p *Pipeline) status(state string, err error) {
	p.spec.Status.update(func(s *Snapshot) {
		if state != "" {
			s.State = state
		}
		if err != nil {
			s.Error = err.Error()
		}
		s.fill(p.m, p.committed)
	})
}

// fill sets the figures of s from the current state m and the last
// committed checkpoint c.
func (s *Snapshot) fill(m, c *meta) {
	s.RowsIn, s.RowsOut, s.LateRows, s.Files = m.RowsIn, c.RowsOut, m.Late, m.Files
	s.Watermark = time.Time{}
	s.InputEnded = m.Final
	if wm := m.Watermark; wm != math.MinInt64 && wm != math.MaxInt64 {
		s.Watermark = time.UnixMicro(wm).UTC()
	}
	s.Checkpoints = c.Checkpoint
	if c.CommittedAt != 0 {
		s.LastCheckpoint = time.Unix(0, c.CommittedAt).UTC()
	}
}

// LastCheckpoint reads the figures of the last checkpoint in the state
// directory dir of a pipeline that does not run (state stopped, or
// finished when its input ended); ok is false when it has none.
func LastCheckpoint(name, dir string) (snap Snapshot, ok bool, err error) {
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Snapshot{}, false, nil
		}
		return Snapshot{}, false, err
	}
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}, ReadOnly: true})
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("opening the pipeline state %s: %w", dir, err)
	}
	st := &store{db: db}
	defer st.close()
	m, err := st.loadMeta()
	if err != nil || m.Checkpoint == 0 {
		return Snapshot{}, false, err
	}
	snap = Snapshot{Name: name, State: StateStopped}
	if m.Final {
		snap.State = StateFinished
	}
	snap.fill(m, m)
	if !snap.Watermark.IsZero() {
		snap.Lag = time.Since(snap.Watermark)
	}
	return snap, true, nil
}

// Run runs the pipeline until ctx is done (it then takes a last
// checkpoint and returns nil) or, with UntilIdle, until the stream is
// drained; an error stops it (the last checkpoint stays as it was).
func (p *Pipeline) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			p.status(StateFailed, err)
		}
	}()
	for {
		n, waiting, err := p.Poll(ctx)
		if ctx.Err() != nil {
			if err := p.Checkpoint(context.WithoutCancel(ctx), false); err != nil {
				return err
			}
			p.status(StateStopped, nil)
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 && waiting == 0 && p.opts.UntilIdle {
			if err := p.Checkpoint(ctx, true); err != nil {
				return err
			}
			p.status(StateFinished, nil)
			return nil
		}
		if p.opts.Now().Sub(p.lastCkpt) >= p.opts.CheckpointInterval {
			if err := p.Checkpoint(ctx, false); err != nil {
				return err
			}
		}
		if n == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(p.opts.PollInterval):
			}
		}
	}
}

// Poll lists the stream's path and reads every new complete file, taking
// checkpoints between files when the interval has passed. It returns the
// number of files read and the number seen but not complete yet.
func (p *Pipeline) Poll(ctx context.Context) (n, waiting int, err error) {
	for _, in := range p.inputs {
		poll := p.pollInput
		if in.kafka != nil {
			poll = p.pollKafkaInput
		}
		k, w, err := poll(ctx, in)
		n, waiting = n+k, waiting+w
		if err != nil {
			return n, waiting, err
		}
	}
	p.advance()
	p.status("", nil)
	return n, waiting, nil
}

// pollInput reads the new complete files of one file stream.
func (p *Pipeline) pollInput(ctx context.Context, in *input) (n, waiting int, err error) {
	files, err := p.spec.Conn.ListFiles(ctx, in.opts)
	if err != nil {
		if errors.Is(err, connector.ErrNotExist) {
			return 0, 0, nil
		}
		return 0, 0, fmt.Errorf("listing stream %q: %w", in.obj.Name, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
	now := p.opts.Now()
	for _, f := range files {
		key := in.tag + f.Rel
		if p.inEpoch[key] {
			continue
		}
		done, err := p.st.consumed(key)
		if err != nil {
			return n, waiting, err
		}
		if done {
			continue
		}
		if q := p.opts.QuietPeriod; q > 0 {
			prev, ok := p.seen[key]
			if !ok || prev.size != f.Size || !prev.mod.Equal(f.ModTime) {
				p.seen[key] = seenFile{size: f.Size, mod: f.ModTime, at: now}
				waiting++
				continue
			}
			if now.Sub(prev.at) < q {
				waiting++
				continue
			}
			delete(p.seen, key)
		}
		if err := ctx.Err(); err != nil {
			return n, waiting, err
		}
		// A file once started is read to its end: a stop (ctx done) takes
		// effect between files, so that a last checkpoint never holds part
		// of one.
		if err := p.readFile(context.WithoutCancel(ctx), in, f); err != nil {
			return n, waiting, err
		}
		n++
		if p.opts.Now().Sub(p.lastCkpt) >= p.opts.CheckpointInterval {
			if err := p.Checkpoint(ctx, false); err != nil {
				return n, waiting, err
			}
		}
	}
	return n, waiting, nil
}

// partitionOf is the partition of a file: its directory under the
// stream's path ("" for the files at the top).
func partitionOf(rel string) string {
	d := path.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

// readFile runs the plan (below the windowed aggregation) over one file
// of a file stream and records it as consumed.
func (p *Pipeline) readFile(ctx context.Context, in *input, f connector.SourceFile) error {
	wm, err := p.runInput(ctx, in, f)
	if err != nil {
		return err
	}
	p.m.Files++
	p.newFiles = append(p.newFiles, in.tag+f.Rel)
	p.inEpoch[in.tag+f.Rel] = true
	if p.spec.Joined != nil {
		delete(p.m.Partitions, in.tag+noData)
	}
	p.seenData(in.tag+partitionOf(f.Rel), wm)
	return nil
}

// runFile runs the plan (below the windowed aggregation) over one file and
// returns the largest watermark value of its rows.
func (p *Pipeline) runFile(ctx context.Context, f connector.SourceFile) (int64, error) {
	return p.runInput(ctx, p.inputs[0], f)
}

// runInput runs the plan (below the pipeline's stateful operator) over one
// file of the stream in, and returns the largest watermark value of its
// rows.
func (p *Pipeline) runInput(ctx context.Context, in *input, f connector.SourceFile) (int64, error) {
	if p.op != nil {
		return p.runSides(ctx, in, f)
	}
	fileWM := int64(math.MinInt64)
	r := &router{fallback: p.spec.Scans, own: map[*catalog.Object]func([]int) (exec.Operator, error){
		p.spec.Stream: func(cols []int) (exec.Operator, error) {
			return &fileScan{p: p, in: in, file: f, cols: cols, wm: &fileWM}, nil
		},
	}}
	op, err := p.spec.Build(ctx, p.lower, r, p.quarantineFunc())
	if err != nil {
		return 0, err
	}
	if p.partial != nil {
		op = p.aggregatePartial(op)
	}
	var partials []arrow.Record
	defer func() {
		for _, r := range partials {
			r.Release()
		}
	}()
	err = exec.Drive(ctx, op, func(rec arrow.Record) error {
		if p.partial != nil {
			rec.Retain()
			partials = append(partials, rec)
			return nil
		}
		if p.agg == nil {
			return p.write(ctx, rec)
		}
		return p.buffer(ctx, rec)
	})
	if err == nil && len(partials) > 0 {
		err = p.putPartials(ctx, partials)
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", f.Rel, err)
	}
	return fileWM, nil
}

// seenData records that a partition's data with watermark value wm was
// read, and advances the watermark.
func (p *Pipeline) seenData(part string, wm int64) {
	pt := p.m.Partitions[part]
	if pt == nil {
		pt = &partition{Watermark: math.MinInt64}
		p.m.Partitions[part] = pt
	}
	pt.Watermark = max(pt.Watermark, wm)
	pt.LastData = p.opts.Now().UnixNano()
	p.advance()
}

// advance recomputes the watermark: the least watermark of the partitions
// that are not idle (the greatest when all are), never moving back.
func (p *Pipeline) advance() {
	if p.m.Final {
		return
	}
	now := p.opts.Now().UnixNano()
	least, greatest, active := int64(math.MaxInt64), int64(math.MinInt64), false
	for _, pt := range p.m.Partitions {
		greatest = max(greatest, pt.Watermark)
		if t := p.opts.IdleTimeout; t > 0 && now-pt.LastData >= int64(t) {
			continue
		}
		least = min(least, pt.Watermark)
		active = true
	}
	if len(p.m.Partitions) == 0 {
		return
	}
	if !active {
		least = greatest
	}
	p.m.Watermark = max(p.m.Watermark, least)
}

// write stages rows for the sink.
func (p *Pipeline) write(ctx context.Context, rec arrow.Record) error {
	if p.sink == nil {
		opts := p.spec.SinkOptions
		opts.Mode = connector.ModeAppend
		s, err := p.spec.Conn.OpenSink(ctx, opts, p.spec.SinkFields)
		if err != nil {
			return fmt.Errorf("opening sink: %w", err)
		}
		p.sink = s
	}
	if err := p.sink.Write(ctx, rec); err != nil {
		return fmt.Errorf("writing sink: %w", err)
	}
	p.epochOut += rec.NumRows()
	return nil
}

// quarantine stages rows that QUARANTINE expectations rejected: they are
// published with the checkpoint that covers the input they came from.
func (p *Pipeline) quarantine(ctx context.Context, rec arrow.Record) error {
	if p.qsink == nil {
		opts := p.spec.Quarantine.Options
		opts.Mode = connector.ModeAppend
		s, err := p.spec.Conn.OpenSink(ctx, opts, p.spec.Quarantine.Fields)
		if err != nil {
			return fmt.Errorf("opening the quarantine: %w", err)
		}
		p.qsink = s
	}
	if err := p.qsink.Write(ctx, rec); err != nil {
		return fmt.Errorf("writing the quarantine: %w", err)
	}
	return nil
}

// quarantineFunc is what the plan's expectations quarantine into; nil
// when the pipeline has no quarantine.
func (p *Pipeline) quarantineFunc() exec.QuarantineFunc {
	if p.spec.Quarantine == nil {
		return nil
	}
	return p.quarantine
}

// abortSinks discards the output staged since the last checkpoint.
func (p *Pipeline) abortSinks(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if p.sink != nil {
		p.sink.Abort(ctx)
		p.sink = nil
	}
	if p.qsink != nil {
		p.qsink.Abort(ctx)
		p.qsink = nil
	}
}

// dropKey is the time after which a row at event time t is not needed:
// TUMBLE and HOP, the end of its last window (rows are kept by it); SESSION,
// the start of its gap-long bucket.
func (w *window) dropKey(t int64) int64 {
	switch w.kind {
	case planner.Session:
		return floorDiv(t, w.gap) * w.gap
	}
	return floorDiv(t, w.slide)*w.slide + w.size
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// buffer stores windowed-aggregation input rows in the state, dropping
// late rows and rows without an event time.
func (p *Pipeline) buffer(ctx context.Context, rec arrow.Record) error {
	t, err := p.win.time.Eval(ctx, rec)
	if err != nil {
		return err
	}
	defer t.Release()
	ts := t.(*array.Timestamp)
	n := ts.Len()
	type kv struct {
		key int64
		row int32
	}
	rows := make([]kv, 0, n)
	for i := 0; i < n; i++ {
		if ts.IsNull(i) {
			continue
		}
		v := int64(ts.Value(i))
		if v < p.m.Watermark {
			p.m.Late++
			continue
		}
		rows = append(rows, kv{p.win.dropKey(v), int32(i)})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].key == rows[i].key {
			j++
		}
		var part arrow.Record
		if i == 0 && j == n {
			part = rec
			part.Retain()
		} else {
			b := array.NewInt32Builder(p.spec.Mem.Alloc)
			for _, r := range rows[i:j] {
				b.Append(r.row)
			}
			idx := b.NewArray()
			b.Release()
			d, err := compute.Take(ctx, *compute.DefaultTakeOptions(), compute.NewDatum(rec), compute.NewDatum(idx))
			idx.Release()
			if err != nil {
				return err
			}
			part = d.(*compute.RecordDatum).Value
		}
		p.m.Seq++
		err := p.st.putRecord(rows[i].key, p.epoch, p.m.Seq, part)
		part.Release()
		if err != nil {
			return fmt.Errorf("writing pipeline state: %w", err)
		}
		p.buffered = true
		i = j
	}
	return nil
}

// Checkpoint emits the windows the watermark passed, stages the sink's
// output, commits the checkpoint and publishes the output. final ends
// the input: the watermark moves to the end of time first.
func (p *Pipeline) Checkpoint(ctx context.Context, final bool) (err error) {
	// A checkpoint once begun is finished, also when ctx is done meanwhile
	// (SIGTERM during a checkpoint).
	ctx = context.WithoutCancel(ctx)
	p.advance()
	if final && !p.m.Final {
		p.m.Watermark, p.m.Final = math.MaxInt64, true
	}
	defer func() {
		if err != nil {
			p.abortSinks(ctx)
		}
	}()
	if p.agg != nil && (p.m.Watermark > p.m.Emitted || (p.opts.EmitUpdate && p.buffered)) {
		emit := p.emit
		if p.partial != nil {
			emit = p.emitPartial
		}
		if err := emit(ctx); err != nil {
			return err
		}
	}
	if p.op != nil {
		if err := p.op.checkpoint(ctx); err != nil {
			return err
		}
	}
	run := ""
	if p.sink != nil {
		if _, err := p.sink.Prepare(ctx); err != nil {
			return fmt.Errorf("staging sink output: %w", err)
		}
		run = p.sink.RunID()
	}
	qrun := ""
	if p.qsink != nil {
		if _, err := p.qsink.Prepare(ctx); err != nil {
			return fmt.Errorf("staging quarantined rows: %w", err)
		}
		qrun = p.qsink.RunID()
	}
	// The operator state written since the last checkpoint commits with
	// this one.
	b := p.batch
	if b == nil {
		b = p.st.db.NewBatch()
	}
	p.batch = nil
	side, _ := p.op.(sideBatcher)
	if side != nil {
		if sb := side.takeSide(); sb != nil {
			// The operator's own batch (plain, and often the larger) takes
			// the rest in: its keys are its own, so the order of the two
			// does not matter, and nothing is indexed.
			err := sb.Apply(b, nil)
			b.Close()
			if err != nil {
				sb.Close()
				return err
			}
			b = sb
		}
	}
	defer b.Close()
	for _, rel := range p.newFiles {
		if err := b.Set([]byte(filePrefix+rel), []byte{1}, nil); err != nil {
			return err
		}
	}
	for _, d := range p.deletes {
		if err := b.DeleteRange(d[0], d[1], nil); err != nil {
			return err
		}
	}
	m := p.m.clone()
	m.Checkpoint = p.epoch
	m.PendingRun = run
	m.PendingQuarantine = qrun
	if p.spec.Expect != nil {
		m.Expect = p.spec.Expect.Snapshot()
	}
	m.RowsOut += p.epochOut
	m.CommittedAt = p.opts.Now().UnixNano()
	data, err := jsonMarshal(m)
	if err != nil {
		return err
	}
	if err := b.Set([]byte(metaKey), data, nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("committing checkpoint %d: %w", p.epoch, err)
	}
	p.m = m
	p.committed = m.clone()
	p.epoch++
	if side != nil {
		side.committed()
	}
	p.newFiles, p.deletes, p.epochOut, p.buffered = nil, nil, 0, false
	clear(p.inEpoch)
	p.lastCkpt = p.opts.Now()
	if p.sink != nil {
		s := p.sink
		p.sink = nil
		if _, err := s.Publish(ctx); err != nil {
			// The checkpoint names the run: the next Open publishes it.
			return fmt.Errorf("publishing sink output of checkpoint %d: %w", m.Checkpoint, err)
		}
	}
	if p.qsink != nil {
		s := p.qsink
		p.qsink = nil
		if _, err := s.Publish(ctx); err != nil {
			return fmt.Errorf("publishing the quarantined rows of checkpoint %d: %w", m.Checkpoint, err)
		}
	}
	p.status("", nil)
	return nil
}

// emit computes the windows that end after the last emission and at or
// before the watermark (with EmitUpdate, every window with rows) and writes
// the rows the plan above the aggregation makes of them.
func (p *Pipeline) emit(ctx context.Context) error {
	lo, hi, w := p.m.Emitted, p.m.Watermark, p.win
	readTo := int64(math.MaxInt64)
	if w.kind != planner.Session && !p.opts.EmitUpdate && hi <= math.MaxInt64-w.size {
		readTo = hi + w.size
	}
	in := p.agg.Input.Schema()
	stateObj := &catalog.Object{Kind: catalog.ObjectTable, Name: "__pipeline_state", Columns: catalogColumns(in)}
	aggPlan := *p.agg
	aggPlan.Input = &planner.Scan{Object: stateObj, Columns: in}
	r := &router{fallback: p.spec.Scans, own: map[*catalog.Object]func([]int) (exec.Operator, error){
		stateObj: func(cols []int) (exec.Operator, error) {
			return &stateScan{storedRows: storedRows{p: p, schema: exec.SchemaOf(in), cols: cols}, to: readTo}, nil
		},
	}}
	op, err := p.spec.Build(ctx, &aggPlan, r, p.quarantineFunc())
	if err != nil {
		return err
	}
	var out []arrow.Record
	defer func() { exec.ReleaseRecords(out) }()
	bound := int64(math.MaxInt64)
	err = exec.Drive(ctx, op, func(rec arrow.Record) error {
		ends := rec.Column(w.endCol).(*array.Timestamp)
		starts := rec.Column(w.startCol).(*array.Timestamp)
		b := array.NewBooleanBuilder(p.spec.Mem.Alloc)
		defer b.Release()
		keep := 0
		for i := 0; i < ends.Len(); i++ {
			e := int64(ends.Value(i))
			if e > hi {
				bound = min(bound, int64(starts.Value(i)))
			}
			ok := e > lo && (e <= hi || p.opts.EmitUpdate)
			if ok {
				keep++
			}
			b.Append(ok)
		}
		if keep == 0 {
			return nil
		}
		mask := b.NewArray()
		defer mask.Release()
		f, err := compute.FilterRecordBatch(ctx, rec, mask, compute.DefaultFilterOptions())
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return fmt.Errorf("computing windows: %w", err)
	}
	aggObj := &catalog.Object{Kind: catalog.ObjectTable, Name: "__pipeline_windows", Columns: catalogColumns(p.agg.Columns)}
	upper := p.replace(&planner.Scan{Object: aggObj, Columns: p.agg.Columns})
	recs := out
	out = nil
	r2 := &router{fallback: p.spec.Scans, own: map[*catalog.Object]func([]int) (exec.Operator, error){
		aggObj: func(cols []int) (exec.Operator, error) {
			o := &recordsOp{schema: exec.SchemaOf(p.agg.Columns), recs: recs, cols: cols}
			recs = nil
			return o, nil
		},
	}}
	op2, err := p.spec.Build(ctx, upper, r2, p.quarantineFunc())
	if err != nil {
		for _, r := range recs {
			r.Release()
		}
		return err
	}
	if err := exec.Drive(ctx, op2, func(rec arrow.Record) error { return p.write(ctx, rec) }); err != nil {
		return err
	}
	for _, r := range recs {
		r.Release()
	}
	// Rows no window still open needs go at the checkpoint.
	var until int64
	switch {
	case w.kind == planner.Session && bound == math.MaxInt64:
		until = hi
	case w.kind == planner.Session:
		until = bound - w.gap // buckets [k, k+gap) wholly before bound
	default:
		until = hi
	}
	if until == math.MaxInt64 {
		p.deletes = append(p.deletes, [2][]byte{[]byte(rowPrefix), rowEnd()})
	} else if until > math.MinInt64 {
		p.deletes = append(p.deletes, [2][]byte{[]byte(rowPrefix), rowBound(until + 1)})
	}
	p.m.Emitted = hi
	return nil
}

// fileScan reads one file of the stream, tracking the largest watermark
// value of its rows.
type fileScan struct {
	p    *Pipeline
	in   *input
	file connector.SourceFile
	cols []int
	wm   *int64
	sc   *connector.Scan
	// quiet: the file was read already for this checkpoint (the other side
	// of a join of a stream with itself); its rows are not counted again.
	quiet bool
}

func (s *fileScan) Schema() *arrow.Schema {
	return projectSchema(connector.ArrowSchema(s.in.fields), s.cols)
}

func (s *fileScan) Open(ctx context.Context) error {
	sc, err := s.p.spec.Conn.Scan(ctx, s.in.opts, connector.ScanSpec{Fields: s.in.fields,
		Files: []connector.SourceFile{s.file}})
	if err != nil {
		return err
	}
	s.sc = sc
	return nil
}

func (s *fileScan) Next(ctx context.Context) (exec.Batch, bool, error) {
	rec, err := s.sc.Next(ctx)
	if q := s.sc.TakeQuarantine(); q != nil {
		q.Release()
	}
	if err == io.EOF {
		return exec.Batch{}, false, nil
	}
	if err != nil {
		return exec.Batch{}, false, err
	}
	defer rec.Release()
	if !s.quiet {
		s.p.m.RowsIn += rec.NumRows()
	}
	if check := s.p.spec.Rows; check != nil && s.in == s.p.inputs[0] {
		kept, err := check(ctx, rec)
		if err != nil {
			return exec.Batch{}, false, err
		}
		defer kept.Release()
		rec = kept
	}
	if s.in.wm != nil {
		a, err := s.in.wm.Eval(ctx, rec)
		if err != nil {
			return exec.Batch{}, false, fmt.Errorf("watermark: %w", err)
		}
		ts, ok := a.(*array.Timestamp)
		if ok {
			for i := 0; i < ts.Len(); i++ {
				if ts.IsValid(i) {
					*s.wm = max(*s.wm, int64(ts.Value(i)))
				}
			}
		}
		a.Release()
	}
	return exec.Batch{Kind: exec.BatchData, Rec: project(rec, s.cols)}, true, nil
}

func (s *fileScan) Close() error {
	if s.sc != nil {
		return s.sc.Close()
	}
	return nil
}

// stateScan reads the buffered rows with drop time up to to.
type stateScan struct {
	storedRows
	to int64
}

func (s *stateScan) Open(ctx context.Context) error {
	upper := rowEnd()
	if s.to != math.MaxInt64 {
		upper = rowBound(s.to + 1)
	}
	it, err := s.p.st.db.NewIter(&pebble.IterOptions{LowerBound: []byte(rowPrefix), UpperBound: upper})
	if err != nil {
		return err
	}
	s.it = it
	it.First()
	return nil
}
