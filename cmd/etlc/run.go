package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/spf13/cobra"

	"github.com/etlc/etlc/exec/observe"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/exec/stream"
	"github.com/etlc/etlc/parser"
)

// defaultDataDir is where `etlc run` keeps its catalog and managed tables
// unless --data-dir says otherwise.
const defaultDataDir = ".etlc"

// runFlags are the flags of `etlc run`.
type runFlags struct {
	params      []string
	dataDir     string
	logFormat   string
	noProgress  bool
	untilIdle   bool
	metricsAddr string
	threads     int
}

func newRunCmd(sys *system) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run FILE... | -",
		Short: "Run ETL scripts",
		Long: `run compiles each script and, when it has no errors, runs its statements
in order against the data directory: sources are read, sinks and managed
tables written, VALIDATE and ASSERT checked. Each statement that writes
commits atomically when it succeeds; a failing statement stops the script,
aborts what it was writing and leaves the output of earlier statements as
it is. Several scripts run one after the other against the same data
directory (each with its own temporary views); the first failure stops.

The data directory (--data-dir, default ./.etlc) holds the catalog, the
managed tables and the run history; it is created when missing.

Progress is drawn on standard error when it is a terminal; each finished
statement is logged, then a summary: rows read per source, rows written per
sink and table, bad rows, validations. The rows of a SELECT go to standard
output. With --log-format json the log and summary are JSON lines and the
rows of a SELECT are JSON objects, one per line.

With --metrics-addr host:port, /metrics (Prometheus text format),
/healthz and /readyz (catalog open, sources reachable) are served over HTTP
while the run lasts; the address is logged when it listens.

Exit codes: 0 the scripts ran, 1 a statement failed (its position and
message are printed), 2 bad usage, an unreadable script or data directory,
or compile errors (nothing ran).`,
		Example: `  etlc run examples/scd2/initial_load.sql
  etlc run --param max_rejected=0 --data-dir /var/lib/etlc job.sql
  etlc run --log-format json --no-progress job.sql`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("run needs at least one script: a file, or - for standard input")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), sys, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.params, "param", "p", nil, "set parameter `name=value` (repeatable; overrides ETL_PARAM_<NAME> and DECLARE defaults)")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "data `directory`: catalog, managed tables, run history")
	fl.StringVar(&f.logFormat, "log-format", "text", "log and summary format: text or json")
	fl.BoolVar(&f.noProgress, "no-progress", false, "do not draw live progress on a terminal")
	fl.IntVar(&f.threads, "threads", runtime.NumCPU(), "worker threads of a query's parallel pipelines (SET threads overrides it)")
	fl.BoolVar(&f.untilIdle, "until-idle", false, "stop the script's pipelines once their streams are drained (the input ends there)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz and /readyz on `host:port` while the run lasts (default: off)")
	return cmd
}

// runRun is `etlc run`: nil when every script ran, an *exitError after
// reporting a compile error (2) or a failed statement (1), or an error
// describing a usage problem (2).
func runRun(ctx context.Context, sys *system, f *runFlags, args []string) error {
	params, err := parseParams(f.params)
	if err != nil {
		return err
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return fmt.Errorf("invalid --log-format %q: want text or json", f.logFormat)
	}
	if f.threads < 1 || f.threads > 256 {
		return fmt.Errorf("invalid --threads %d: want 1 to 256", f.threads)
	}
	var eng *session.Engine
	if f.metricsAddr != "" {
		// The endpoints serve from the start, also while a script is read
		// from standard input.
		if eng, err = openRunEngine(ctx, f.dataDir, f.threads); err != nil {
			return err
		}
		defer eng.Close()
		srv, err := startMetrics(f.metricsAddr, eng, map[string]observe.ReadyCheck{"sources": eng.CheckSources})
		if err != nil {
			return err
		}
		defer stopMetrics(srv)
		fmt.Fprintf(sys.stderr, "etlc run: metrics on http://%s/metrics\n", srv.Addr())
	}
	inputs, err := readInputs(ctx, sys.stdin, args)
	if err != nil {
		return &ioError{err}
	}
	if eng == nil {
		if eng, err = openRunEngine(ctx, f.dataDir, f.threads); err != nil {
			return err
		}
		defer eng.Close()
	}

	out := newRunOutput(sys, f)
	for _, in := range inputs {
		var started []string
		s := eng.NewSession(session.Options{Params: params, LookupEnv: sys.lookupEnv,
			Pipelines: func(_ context.Context, name string, start bool) error {
				if i := slices.Index(started, name); i >= 0 {
					started = slices.Delete(started, i, i+1)
				}
				if start {
					started = append(started, name)
				}
				return nil
			}})
		run, err := s.Exec(ctx, parser.NewSource(in.name, in.text), session.ExecOptions{Observer: out, Script: true})
		s.Close()
		var ds parser.Diagnostics
		if errors.As(err, &ds) {
			out.clearLine()
			if rerr := parser.Render(sys.stderr, ds, parser.RenderOptions{Color: out.color}); rerr != nil {
				return &ioError{rerr}
			}
			run.Release()
			return &exitError{code: exitUsage}
		}
		out.summary(run)
		run.Release()
		if err != nil {
			return &exitError{code: exitErrors}
		}
		names := session.Pipelines(parser.NewSource(in.name, in.text), params, sys.lookupEnv)
		for _, n := range started {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		// Only pipelines that read a stream run here; START PIPELINE ran
		// the others as batches.
		check := eng.NewSession(session.Options{Params: params, LookupEnv: sys.lookupEnv})
		names = slices.DeleteFunc(names, func(n string) bool {
			streaming, err := check.StreamingPipeline(ctx, n)
			return err == nil && !streaming
		})
		check.Close()
		if len(names) > 0 {
			if err := runPipelines(ctx, sys, eng, f, params, names, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// runPipelines runs the pipelines a script created, in the foreground and
// side by side, until ctx is done (SIGTERM or interrupt: each takes a last
// checkpoint) or, with --until-idle, until their streams are drained.
func runPipelines(ctx context.Context, sys *system, eng *session.Engine, f *runFlags, params map[string]string, names []string, out *runOutput) error {
	for _, name := range names {
		out.pipelineEvent(name, "started", nil)
	}
	errs := eng.RunPipelines(ctx, names, session.Options{Params: params, LookupEnv: sys.lookupEnv},
		session.PipelineOptions{UntilIdle: f.untilIdle})
	failed := false
	status := map[string]stream.Snapshot{}
	for _, st := range eng.PipelineStatus() {
		status[st.Name] = st
	}
	for i, name := range names {
		st := status[name]
		out.pipelineEvent(name, "", &st)
		if errs[i] != nil {
			failed = true
			fmt.Fprintf(sys.stderr, "etlc: pipeline %s: %v\n", name, errs[i])
		}
	}
	if failed {
		return &exitError{code: exitErrors}
	}
	return nil
}

// pipelineEvent logs a pipeline starting or, with its figures, ending.
func (o *runOutput) pipelineEvent(name, what string, st *stream.Snapshot) {
	if st == nil {
		if o.json {
			o.log.Info("pipeline "+what, slog.String("pipeline", name))
		} else {
			fmt.Fprintf(o.sys.stderr, "pipeline %s %s\n", name, what)
		}
		return
	}
	if o.json {
		o.log.Info("pipeline "+st.State, slog.String("pipeline", name), slog.Int64("rows_in", st.RowsIn),
			slog.Int64("rows_out", st.RowsOut), slog.Int64("late_rows", st.LateRows), slog.Int64("files", st.Files),
			slog.Uint64("checkpoints", st.Checkpoints))
		return
	}
	fmt.Fprintf(o.sys.stderr, "pipeline %s %s: %s read from %s, %s written, %s late; %s\n", name, st.State,
		plural(st.RowsIn, "row"), plural(st.Files, "file"), plural(st.RowsOut, "row"), plural(st.LateRows, "row"),
		plural(int64(st.Checkpoints), "checkpoint"))
}

// openRunEngine opens the data directory of `etlc run`.
func openRunEngine(ctx context.Context, dir string, threads int) (*session.Engine, error) {
	eng, err := session.Open(ctx, dir, session.Config{Threads: threads})
	if err != nil {
		return nil, &ioError{fmt.Errorf("cannot open the data directory %s: %w", dir, unwrapPathError(err))}
	}
	return eng, nil
}

// runOutput draws a run for people (text) or machines (JSON): it is the
// session's Observer.
type runOutput struct {
	sys      *system
	json     bool
	live     bool // redraw a progress line on the terminal
	color    bool
	log      *slog.Logger
	lineOpen bool
	lastJSON time.Time
}

func newRunOutput(sys *system, f *runFlags) *runOutput {
	term := sys.isTerminal != nil && sys.isTerminal(sys.stderr)
	o := &runOutput{sys: sys, json: f.logFormat == "json"}
	o.live = term && !f.noProgress && !o.json && sys.getenv("TERM") != "dumb"
	o.color = term && sys.getenv("NO_COLOR") == "" && sys.getenv("TERM") != "dumb"
	if o.json {
		o.log = slog.New(slog.NewJSONHandler(sys.stderr, nil))
	}
	return o
}

// quiet reports statements not worth a log line in text form.
func quiet(info *session.StmtInfo) bool { return info.Kind == "DECLARE" }

func (o *runOutput) prefix(info *session.StmtInfo) string {
	w := len(fmt.Sprint(info.Count))
	return fmt.Sprintf("[%*d/%d] %s", w, info.Index+1, info.Count, info.Title())
}

// clearLine removes the live progress line.
func (o *runOutput) clearLine() {
	if o.lineOpen {
		fmt.Fprint(o.sys.stderr, "\r\x1b[K")
		o.lineOpen = false
	}
}

// StatementStarted implements session.Observer.
func (o *runOutput) StatementStarted(info *session.StmtInfo) {
	if o.json {
		o.log.Info("statement started", stmtAttrs(info)...)
		o.lastJSON = time.Now()
		return
	}
	if o.live && !quiet(info) {
		fmt.Fprintf(o.sys.stderr, "\r\x1b[K%s ...", o.prefix(info))
		o.lineOpen = true
	}
}

// StatementProgress implements session.Observer.
func (o *runOutput) StatementProgress(info *session.StmtInfo, p session.Progress) {
	if o.json {
		if time.Since(o.lastJSON) < 5*time.Second {
			return
		}
		o.lastJSON = time.Now()
		o.log.Info("statement progress", append(stmtAttrs(info), progressAttrs(p)...)...)
		return
	}
	if !o.live {
		return
	}
	secs := p.Elapsed.Seconds()
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf(" · %s rows/s", count(int64(float64(p.RowsRead)/secs)))
	}
	w := ""
	if p.RowsWritten > 0 {
		w = fmt.Sprintf(" · %s written", count(p.RowsWritten))
	}
	fmt.Fprintf(o.sys.stderr, "\r\x1b[K%s  %s rows read · %s%s%s · %s", o.prefix(info),
		count(p.RowsRead), size(p.BytesRead), w, rate, elapsed(p.Elapsed))
	o.lineOpen = true
}

// StatementFinished implements session.Observer.
func (o *runOutput) StatementFinished(res *session.StmtResult) {
	info := &res.Info
	if o.json {
		attrs := append(stmtAttrs(info), progressAttrs(res.Progress)...)
		attrs = append(attrs, slog.String("tag", res.Tag))
		if res.FilesWritten > 0 {
			attrs = append(attrs, slog.Int64("files_written", res.FilesWritten), slog.Int64("bytes_written", res.BytesWritten))
		}
		if info.Kind == "MERGE" {
			attrs = append(attrs, slog.Int64("inserted", res.Inserted), slog.Int64("updated", res.Updated), slog.Int64("deleted", res.Deleted))
		}
		if v := res.Validation; v != nil {
			attrs = append(attrs, validationAttr(*v))
		}
		if res.Err != nil {
			attrs = append(attrs, errorAttrs(res.Err)...)
			o.log.Error("statement failed", attrs...)
		} else {
			o.log.Info("statement finished", attrs...)
		}
		o.printRowsJSON(res)
		return
	}
	o.clearLine()
	if res.Err == nil && quiet(info) {
		return
	}
	var what string
	switch {
	case res.Err != nil:
		what = "failed"
	case res.Validation != nil:
		what = "passed"
		if m := checkText(*res.Validation); m != "" {
			what += ": " + m
		}
	case info.Kind == "MERGE":
		what = fmt.Sprintf("%s updated, %s inserted, %s deleted", count(res.Updated), count(res.Inserted), count(res.Deleted))
		if res.Staged {
			what += " (staged)"
		}
	case res.Staged:
		what = plural(res.Inserted, "row") + " staged"
	case strings.HasPrefix(info.Kind, "INSERT") || res.Inserted > 0:
		what = plural(res.Inserted, "row") + " written"
		if res.FilesWritten > 0 {
			what += fmt.Sprintf(" (%s, %s)", plural(res.FilesWritten, "file"), size(res.BytesWritten))
		}
	case info.Kind == "COMMIT" && res.FilesWritten > 0:
		what = fmt.Sprintf("%s published (%s)", plural(res.FilesWritten, "file"), size(res.BytesWritten))
	case res.Schema != nil:
		n := int64(0)
		for _, r := range res.Records {
			n += r.NumRows()
		}
		what = plural(n, "row")
	default:
		what = "ok"
	}
	if res.RowsRead > 0 {
		what += "; " + plural(res.RowsRead, "row") + " read"
	}
	fmt.Fprintf(o.sys.stderr, "%-*s %s  %s\n", titleWidth, o.prefix(info), what, elapsed(res.Elapsed))
	if res.Schema != nil && res.Err == nil {
		printTable(o.sys.stdout, res)
	}
}

// summary reports the end of a run: the failure first, then what was read,
// written and checked.
func (o *runOutput) summary(run *session.Run) {
	if o.json {
		o.summaryJSON(run)
		return
	}
	o.clearLine()
	w := o.sys.stderr
	if run.Err != nil {
		fmt.Fprintf(w, "%s\n", run.Err)
	}
	state := "succeeded"
	if run.Err != nil {
		state = "FAILED"
	}
	fmt.Fprintf(w, "run %s %s: %s, %d of %d statements in %s\n", run.ID, state, run.Job,
		len(run.Statements), run.Count, elapsed(run.FinishedAt.Sub(run.StartedAt)))
	if len(run.Sources) > 0 {
		fmt.Fprintln(w, "  read:")
		for _, s := range run.Sources {
			line := fmt.Sprintf("    %-24s %s", s.Name, plural(s.Rows, "row"))
			switch {
			case s.BadRows > 0 && s.ErrorsRelation != "":
				line += fmt.Sprintf(", %s quarantined in %s", plural(s.BadRows, "bad row"), s.ErrorsRelation)
			case s.BadRows > 0:
				line += fmt.Sprintf(", %s dropped", plural(s.BadRows, "bad row"))
			case s.OnError != "fail":
				line += ", no bad rows"
			}
			if s.Scans > 1 {
				line += fmt.Sprintf(" (read %d times, %s rows in all)", s.Scans, count(s.RowsRead))
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(run.Targets) > 0 {
		fmt.Fprintln(w, "  written:")
		for _, t := range run.Targets {
			line := fmt.Sprintf("    %-24s %-5s %s", t.Name, t.Kind, plural(t.Inserted+t.Updated, "row"))
			if t.Updated > 0 || t.Deleted > 0 {
				line += fmt.Sprintf(" (%s inserted, %s updated, %s deleted)", count(t.Inserted), count(t.Updated), count(t.Deleted))
			}
			line += fmt.Sprintf(", %s, %s", plural(t.FilesWritten, "file"), size(t.BytesWritten))
			fmt.Fprintln(w, line)
		}
	}
	if len(run.Expectations) > 0 {
		fmt.Fprintln(w, "  expectations:")
		for _, x := range run.Expectations {
			line := fmt.Sprintf("    %-24s %-24s %-10s %s passed, %s failed", x.Pipeline, x.Constraint, x.Action,
				count(x.Passed), count(x.Failed))
			switch {
			case x.Dropped > 0:
				line += fmt.Sprintf(", %s dropped", count(x.Dropped))
			case x.Quarantined > 0:
				line += fmt.Sprintf(", %s quarantined", count(x.Quarantined))
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(run.Validations) > 0 {
		fmt.Fprintln(w, "  checks:")
		for _, v := range run.Validations {
			mark := "passed"
			if !v.Passed {
				mark = "FAILED"
			}
			name := v.Name
			if name == "" {
				name = strings.ToLower(v.Kind)
			}
			fmt.Fprintf(w, "    %-6s %-28s %s\n", mark, name, checkText(v))
		}
	}
}

func (o *runOutput) summaryJSON(run *session.Run) {
	state := "succeeded"
	level := slog.LevelInfo
	if run.Err != nil {
		state, level = "failed", slog.LevelError
	}
	sources, targets, checks := []any{}, []any{}, []any{}
	for _, s := range run.Sources {
		sources = append(sources, map[string]any{"name": s.Name, "on_error": s.OnError, "rows": s.Rows,
			"bad_rows": s.BadRows, "scans": s.Scans, "rows_read": s.RowsRead, "bytes_read": s.BytesRead,
			"errors_relation": s.ErrorsRelation})
	}
	for _, t := range run.Targets {
		targets = append(targets, map[string]any{"name": t.Name, "kind": t.Kind, "inserted": t.Inserted,
			"updated": t.Updated, "deleted": t.Deleted, "files_written": t.FilesWritten, "bytes_written": t.BytesWritten})
	}
	for _, v := range run.Validations {
		checks = append(checks, validationMap(v))
	}
	expects := []any{}
	for _, x := range run.Expectations {
		expects = append(expects, map[string]any{"pipeline": x.Pipeline, "constraint": x.Constraint, "action": x.Action,
			"passed": x.Passed, "failed": x.Failed, "dropped": x.Dropped, "quarantined": x.Quarantined})
	}
	attrs := []any{slog.String("run_id", run.ID), slog.String("job", run.Job), slog.String("state", state),
		slog.Int("statements", len(run.Statements)), slog.Int("of", run.Count),
		slog.Int64("elapsed_ms", run.FinishedAt.Sub(run.StartedAt).Milliseconds()),
		slog.Any("sources", sources), slog.Any("targets", targets), slog.Any("validations", checks)}
	if len(expects) > 0 {
		attrs = append(attrs, slog.Any("expectations", expects))
	}
	if run.Err != nil {
		attrs = append(attrs, errorAttrs(run.Err)...)
	}
	o.log.Log(context.Background(), level, "run finished", attrs...)
}

func stmtAttrs(info *session.StmtInfo) []any {
	a := []any{slog.Int("stmt", info.Index+1), slog.Int("of", info.Count), slog.String("kind", info.Kind),
		slog.String("pos", info.Pos.String())}
	if info.Object != "" {
		a = append(a, slog.String("object", info.Object))
	}
	return a
}

func progressAttrs(p session.Progress) []any {
	return []any{slog.Int64("rows_read", p.RowsRead), slog.Int64("bytes_read", p.BytesRead),
		slog.Int64("rows_written", p.RowsWritten), slog.Int64("elapsed_ms", p.Elapsed.Milliseconds())}
}

func validationMap(v session.Validation) map[string]any {
	m := map[string]any{"kind": v.Kind, "passed": v.Passed, "message": v.Message}
	if v.Name != "" {
		m["name"] = v.Name
	}
	if v.Data != nil {
		m["data"] = v.Data
	}
	return m
}

func validationAttr(v session.Validation) slog.Attr {
	return slog.Any("validation", validationMap(v))
}

func errorAttrs(err error) []any {
	a := []any{slog.String("error", err.Error())}
	var se *session.StmtError
	if errors.As(err, &se) {
		a = append(a, slog.String("code", se.Code), slog.String("pos", se.Pos.String()), slog.String("message", se.Message))
	}
	return a
}

// count formats n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1024*1024*1024))
}

// elapsed formats a duration for a log line.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// printTable writes a statement's rows to w as psql does: a header, a rule,
// aligned rows, and the row count.
func printTable(w io.Writer, res *session.StmtResult) {
	fields := res.Schema.Fields()
	head := make([]string, len(fields))
	widths := make([]int, len(fields))
	numeric := make([]bool, len(fields))
	for i, f := range fields {
		head[i] = f.Name
		widths[i] = textWidth(f.Name)
		numeric[i] = isNumeric(f.Type.ID())
	}
	var rows [][]string
	for _, rec := range res.Records {
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, len(fields))
			for c := range fields {
				v, _ := session.FormatValue(rec.Column(c), r)
				row[c] = v
				widths[c] = max(widths[c], textWidth(v))
			}
			rows = append(rows, row)
		}
	}
	line := func(cells []string, header bool) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString(" | ")
			} else {
				b.WriteByte(' ')
			}
			pad := strings.Repeat(" ", widths[i]-textWidth(c))
			switch {
			case header:
				left := (widths[i] - textWidth(c)) / 2
				b.WriteString(strings.Repeat(" ", left) + c + strings.Repeat(" ", widths[i]-textWidth(c)-left))
			case numeric[i]:
				b.WriteString(pad + c)
			default:
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head, true)
	var rule strings.Builder
	for i, wd := range widths {
		if i > 0 {
			rule.WriteByte('+')
		}
		rule.WriteString(strings.Repeat("-", wd+2))
	}
	fmt.Fprintln(w, rule.String())
	for _, r := range rows {
		line(r, false)
	}
	if len(rows) == 1 {
		fmt.Fprintln(w, "(1 row)")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", len(rows))
	}
	fmt.Fprintln(w)
}

// printRowsJSON writes a statement's rows as one JSON object per line.
func (o *runOutput) printRowsJSON(res *session.StmtResult) {
	if res.Schema == nil || res.Err != nil {
		return
	}
	fields := res.Schema.Fields()
	for _, rec := range res.Records {
		for r := 0; r < int(rec.NumRows()); r++ {
			var b strings.Builder
			b.WriteByte('{')
			for c, f := range fields {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteString(jsonString(f.Name))
				b.WriteByte(':')
				v, ok := session.FormatValue(rec.Column(c), r)
				switch {
				case !ok:
					b.WriteString("null")
				case isNumeric(f.Type.ID()) && isJSONNumber(v):
					b.WriteString(v)
				case f.Type.ID() == arrowBool:
					if v == "t" {
						b.WriteString("true")
					} else {
						b.WriteString("false")
					}
				default:
					b.WriteString(jsonString(v))
				}
			}
			b.WriteString("}\n")
			io.WriteString(o.sys.stdout, b.String())
		}
	}
}

// arrowBool is the Arrow type id of BOOLEAN columns.
const arrowBool = arrow.BOOL

// isNumeric reports whether values of an Arrow type are numbers (aligned
// right in tables, unquoted in JSON).
func isNumeric(id arrow.Type) bool {
	switch id {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}

// textWidth is the number of characters of s.
func textWidth(s string) int { return utf8.RuneCountInString(s) }

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// isJSONNumber reports whether a number's text is a JSON number (NaN and
// Infinity are not).
func isJSONNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && !strings.ContainsAny(s, "IN")
}

// titleWidth is the width the statement titles of log lines are padded to.
const titleWidth = 48

// plural formats a count of things: "1 file", "9 files".
func plural(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return count(n) + " " + thing + "s"
}

// checkText is what a log line says about a check: a VALIDATE's message,
// an ASSERT's condition when it passed (its message says what failing
// means).
func checkText(v session.Validation) string {
	if v.Kind == "ASSERT" && v.Passed {
		return v.Condition
	}
	return v.Message
}
