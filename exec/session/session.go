package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// Options configure a Session.
type Options struct {
	// Params are the --param values; LookupEnv reads ETL_PARAM_<NAME>
	// (nil: no environment).
	Params    map[string]string
	LookupEnv func(string) (string, bool)
	// Settings are initial SET values (names in lower case).
	Settings map[string]string
	// Pipelines, when set, is told of every START PIPELINE (start true)
	// and STOP PIPELINE statement the session runs, after the pipeline was
	// found in the catalog: `etlc run` runs the started pipelines in the
	// foreground after the script. When nil (the gateway), START PIPELINE
	// runs a streaming pipeline in the engine's background
	// (Engine.StartPipeline) and STOP PIPELINE stops it.
	Pipelines func(ctx context.Context, name string, start bool) error
}

// Session runs scripts for one client: a script run by `etlc run`, or one
// wire connection. It holds parameter values, settings and temporary views.
// A Session is not safe for concurrent use: run one script at a time.
type Session struct {
	eng      *Engine
	params   map[string]string
	env      func(string) (string, bool)
	settings map[string]string
	temps    map[string]catalog.Object
	pipes    func(ctx context.Context, name string, start bool) error
	// tx is the open transaction block (nil: none).
	tx *txBlock
	mu sync.Mutex // guards against concurrent Exec
	// info is what pg_stat_activity shows; guarded by eng.mu.
	info sessionInfo
	// plans are the programs compiled for running again, keyed with
	// planGen, which goes up when a SET or DECLARE may change what a
	// statement binds to (plancache.go).
	plans   *planCache
	planGen uint64
}

// NewSession returns a session of the engine.
func (e *Engine) NewSession(opts Options) *Session {
	s := &Session{
		eng:      e,
		params:   maps.Clone(opts.Params),
		env:      opts.LookupEnv,
		settings: defaultSettings(),
		temps:    map[string]catalog.Object{},
		pipes:    opts.Pipelines,
	}
	for k, v := range opts.Settings {
		s.settings[strings.ToLower(k)] = v
	}
	return s
}

// Close forgets the session's temporary views and rolls back its open
// transaction block: the block's staged writes are discarded.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endBlock(context.Background())
	s.temps = map[string]catalog.Object{}
	s.eng.mu.Lock()
	delete(s.eng.live, s)
	s.eng.mu.Unlock()
	return nil
}

// Engine returns the session's engine.
func (s *Session) Engine() *Engine { return s.eng }

// Setting returns the value of a setting and whether it is set.
func (s *Session) Setting(name string) (string, bool) {
	v, ok := s.settings[strings.ToLower(name)]
	return v, ok
}

func (s *Session) tempObjects() []catalog.Object {
	keys := slices.Sorted(maps.Keys(s.temps))
	out := make([]catalog.Object, len(keys))
	for i, k := range keys {
		out[i] = s.temps[k].Clone()
	}
	return out
}

// Compile parses and binds a script against the engine's catalog and the
// session's temporary views, changing neither.
//
// A query that does not compile but reads only catalog relations etlc
// always leaves empty is answered with no rows (see emptyCatalogQuery).
func (s *Session) Compile(ctx context.Context, src *parser.Source) (*planner.Program, parser.Diagnostics) {
	opts := CompileOptions{
		Params: s.params, LookupEnv: s.env, Infer: s.eng.inferFunc(), Registry: s.eng.reg,
		Temporary: s.tempObjects(), Session: s.sessionInfo(),
	}
	prog, diags := CompileScript(ctx, src, s.eng.cat, opts)
	if diags.HasErrors() {
		if cols, ok := emptyCatalogQuery(src.Text); ok {
			alt := parser.NewSource(src.Name, emptyQueryText(cols))
			if p, d := CompileScript(ctx, alt, s.eng.cat, opts); !d.HasErrors() {
				return p, d
			}
		}
	}
	return prog, diags
}

// ExecOptions configure one Exec.
type ExecOptions struct {
	// Observer follows the statements (nil: none).
	Observer Observer
	// Results, when set, receives the rows of every statement that returns
	// rows (SELECT, EXPLAIN, SHOW) as a stream while the statement runs;
	// the stream is released when Results returns, and an error it
	// returns fails the statement. When nil, the rows are collected into
	// StmtResult.Records.
	Results func(ctx context.Context, info *StmtInfo, rows array.RecordReader) error
	// Script says the script is the session's whole work (etlc run): a
	// transaction block still open at its end is rolled back, and the
	// run fails when it did not already. A wire session leaves the block
	// open for the client's next query.
	Script bool
	// ParamTypes are the PostgreSQL type OIDs the client declared for the
	// parameters (0 or missing: not declared); they are part of the key
	// of the session's plan cache (see compileCached).
	ParamTypes []uint32
	// Implicit runs a script of several statements in an implicit
	// transaction block when no block is open: all its writes commit
	// when it ends, or none when a statement fails (PostgreSQL's simple
	// Query message; see beginImplicit).
	Implicit bool
	// Params are the values of the statements' $n parameters ($1 is
	// Params[0]): nil, a string (converted to the parameter's type as a
	// cast from text would) or the parameter type's canonical Go value
	// (see planner.Const).
	Params []any
}

// runState is what one Exec accumulates across its statements.
type runState struct {
	run     *Run
	opts    ExecOptions
	src     *parser.Source
	sources map[string]*SourceSummary
	targets map[string]*TargetSummary
	// quarantined lists the sources whose bad rows a complete read of this
	// run published, for errors_path.
	quarantined map[string]*catalog.Object
	// expect holds the expectation counts of the pipelines the run ran.
	expect []*exec.ExpectStats
	// running is set while Exec runs the statements.
	running bool
}

// Exec compiles the script src and runs its statements in order. A script
// with compile errors runs nothing: Exec returns its parser.Diagnostics as
// the error (and a Run with no statements). Otherwise the statements run
// until one fails; Exec then returns the Run and its Err, a *StmtError.
// What statements before the failing one committed stays committed; the
// failing statement's sinks are aborted. Cancelling ctx aborts the running
// statement the same way.
func (s *Session) Exec(ctx context.Context, src *parser.Source, opts ExecOptions) (run *Run, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setActivity("active", src.Text)
	defer func() {
		// PostgreSQL's states of a session between queries.
		switch {
		case s.tx != nil && s.tx.failed:
			s.setActivity("idle in transaction (aborted)", "")
		case s.tx != nil:
			s.setActivity("idle in transaction", "")
		default:
			s.setActivity("idle", "")
		}
	}()
	run = &Run{ID: newRunID(), Job: src.Name, StartedAt: time.Now().UTC()}
	defer func() {
		if r := recover(); r != nil {
			err = &StmtError{Pos: src.Position(0), Title: "run", Code: "XX000",
				Message: fmt.Sprintf("internal error: %v", r),
				Hint:    "this is a bug in etlc; please report it with the script",
				Err:     fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
			run.Err = err
			if s.tx != nil && s.tx.implicit {
				s.tx.discard(ctx)
				s.tx = nil
			}
		}
	}()
	prog, diags := s.compileCached(ctx, src, opts.ParamTypes)
	if diags.HasErrors() {
		if s.tx != nil {
			s.tx.fail(ctx)
		}
		run.FinishedAt = time.Now().UTC()
		return run, diags
	}
	run.Warnings = diags
	run.Count = len(prog.Statements)
	rs := &runState{run: run, opts: opts, src: src,
		sources: map[string]*SourceSummary{}, targets: map[string]*TargetSummary{},
		quarantined: map[string]*catalog.Object{}}
	rs.running = true
	implicit := opts.Implicit && !opts.Script && len(prog.Statements) > 1
	for i, st := range prog.Statements {
		if implicit {
			pos := src.Position(st.Parsed().StmtSpan().Start)
			if s.runsAlone(st) {
				if err := s.endImplicit(ctx, rs, true); err != nil {
					run.Err = err
					break
				}
			} else {
				s.beginImplicit(pos)
			}
		}
		res := s.execStmt(ctx, rs, i, st)
		if res.Err != nil && s.tx != nil {
			s.tx.fail(ctx)
		}
		run.Statements = append(run.Statements, res)
		if res.Validation != nil {
			run.Validations = append(run.Validations, *res.Validation)
		}
		if res.Err != nil {
			run.Err = res.Err
			break
		}
	}
	if implicit {
		if err := s.endImplicit(ctx, rs, run.Err == nil); err != nil {
			run.Err = err
		}
	}
	defer func() { rs.running = false }()
	if opts.Script && s.tx != nil {
		begin := s.tx.begin
		s.endBlock(ctx)
		if run.Err == nil {
			run.Err = &StmtError{Pos: begin, Title: "BEGIN", Code: "25000",
				Message: "the script ended inside this transaction block; its writes were rolled back",
				Hint:    "end the block with COMMIT"}
		}
	}
	s.finishRun(ctx, rs)
	return run, run.Err
}

// finishRun writes the quarantined rows to errors_path, fills the run's
// summaries and records the run in the history.
func (s *Session) finishRun(ctx context.Context, rs *runState) {
	run := rs.run
	wctx := context.WithoutCancel(ctx)
	for _, name := range slices.Sorted(maps.Keys(rs.quarantined)) {
		if err := s.writeErrorsPath(wctx, rs.quarantined[name]); err != nil && run.Err == nil {
			run.Err = &StmtError{Pos: rs.src.Position(0), Title: "writing the bad rows of " + rs.quarantined[name].Name,
				Code: "58030", Message: err.Error(), Err: err}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(rs.sources)) {
		run.Sources = append(run.Sources, *rs.sources[k])
	}
	for _, k := range slices.Sorted(maps.Keys(rs.targets)) {
		run.Targets = append(run.Targets, *rs.targets[k])
	}
	for _, st := range rs.expect {
		run.Expectations = append(run.Expectations, st.Snapshot()...)
	}
	run.FinishedAt = time.Now().UTC()
	rec := RunRecord{RunID: run.ID, Job: run.Job, State: "succeeded", StartedAt: run.StartedAt, FinishedAt: run.FinishedAt}
	for _, src := range run.Sources {
		rec.RowsIn += src.RowsRead
	}
	for _, t := range run.Targets {
		rec.RowsOut += t.Inserted + t.Updated
	}
	if run.Err != nil {
		rec.State, rec.Error = "failed", run.Err.Error()
	}
	if err := s.eng.recordRun(rec); err != nil && run.Err == nil {
		run.Err = &StmtError{Pos: rs.src.Position(0), Title: "recording the run", Code: "58030", Message: err.Error(), Err: err}
	}
}

// writeErrorsPath writes a quarantining source's bad rows to its errors_path
// option, when it has one, replacing what was there (a sink in overwrite
// mode: JSON lines unless the path names another format).
func (s *Session) writeErrorsPath(ctx context.Context, src *catalog.Object) error {
	o, err := connector.ParseOptions(src.Options, connector.RoleSource)
	if err != nil || o.ErrorsPath == "" {
		return nil
	}
	recs, ok := s.eng.quarantineRows(src.Name)
	if !ok {
		return nil
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	m := map[string]string{"path": o.ErrorsPath, "mode": "overwrite"}
	so, err := connector.ParseOptions(m, connector.RoleSink)
	var oe *connector.OptionError
	if errors.As(err, &oe) && oe.Key == "format" {
		m["format"] = "json"
		so, err = connector.ParseOptions(m, connector.RoleSink)
	}
	if err != nil {
		return fmt.Errorf("errors_path of %s: %w", src.Name, err)
	}
	if so.Format == connector.FormatCSV {
		so.Header = true
	}
	sink, err := s.eng.conn.OpenSink(ctx, so, connector.QuarantineFields())
	if err != nil {
		return fmt.Errorf("errors_path %s: %w", o.ErrorsPath, err)
	}
	for _, r := range recs {
		if err := sink.Write(ctx, r); err != nil {
			sink.Abort(ctx)
			return fmt.Errorf("errors_path %s: %w", o.ErrorsPath, err)
		}
	}
	if _, err := sink.Commit(ctx); err != nil {
		return fmt.Errorf("errors_path %s: %w", o.ErrorsPath, err)
	}
	return nil
}

// newRunID returns a sortable, unique run id.
func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// source returns the run's summary of a source, creating it.
func (rs *runState) source(o *catalog.Object, onError connector.OnError) *SourceSummary {
	k := catalogKey(o.Name)
	s := rs.sources[k]
	if s == nil {
		s = &SourceSummary{Name: o.Name, OnError: onError.String()}
		if onError == connector.OnErrorQuarantine {
			s.ErrorsRelation = o.Name + ErrorsSuffix
		}
		rs.sources[k] = s
	}
	return s
}

// target returns the run's summary of a sink or table, creating it.
func (rs *runState) target(o *catalog.Object) *TargetSummary {
	k := catalogKey(o.Name)
	t := rs.targets[k]
	if t == nil {
		kind := "sink"
		if o.Kind == catalog.ObjectTable {
			kind = "table"
		}
		t = &TargetSummary{Name: o.Name, Kind: kind}
		rs.targets[k] = t
	}
	return t
}

// defaultSettings are the settings a session starts with: what PostgreSQL
// clients ask for when they connect.
func defaultSettings() map[string]string {
	return map[string]string{
		"application_name":            "",
		"client_encoding":             "UTF8",
		"datestyle":                   "ISO, MDY",
		"integer_datetimes":           "on",
		"intervalstyle":               "postgres",
		"search_path":                 "public",
		"server_encoding":             "UTF8",
		"server_version":              "16.0",
		"standard_conforming_strings": "on",
		"timezone":                    "UTC",
	}
}

// sortedSettings returns the setting names in order.
func (s *Session) sortedSettings() []string {
	names := make([]string, 0, len(s.settings))
	for k := range s.settings {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// location is the session's time zone (the timezone setting), UTC when
// it does not name one.
// maxThreads bounds the threads setting.
const maxThreads = 256

// parseThreads reads a threads setting: a whole number from 1 to
// maxThreads.
func parseThreads(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > maxThreads {
		return 0, fmt.Errorf("threads must be a whole number from 1 to %d, got %q", maxThreads, v)
	}
	return n, nil
}

// threads is the number of workers a statement's parallel pipelines run
// in: the session's threads setting, else the engine's Config.Threads,
// else the number of CPUs.
func (s *Session) threads() int {
	if v, ok := s.settings["threads"]; ok {
		if n, err := parseThreads(v); err == nil {
			return n
		}
	}
	if s.eng.cfg.Threads > 0 {
		return s.eng.cfg.Threads
	}
	return runtime.NumCPU()
}

func (s *Session) location() *time.Location {
	name := s.settings["timezone"]
	if name == "" || strings.EqualFold(name, "UTC") {
		return time.UTC
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}
