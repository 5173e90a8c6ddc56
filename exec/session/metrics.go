package session

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/observe"
)

// stmtMetrics counts finished statements by kind and outcome, and holds
// the stream runtime's pipeline reporter.
type stmtMetrics struct {
	mu sync.Mutex
	by map[[2]string]*stmtCount // kind, status (ok or failed)
	// pipes reports the stream runtime's pipelines (nil: none).
	pipes observe.PipelineReporter
}

// SetPipelineReporter makes the engine's metrics include the figures of
// the pipelines r reports (etlc_pipeline_*, see observe.PipelineCollector).
// The stream runtime calls it once, when it starts, with itself; nil
// removes it.
func (e *Engine) SetPipelineReporter(r observe.PipelineReporter) {
	e.stmts.mu.Lock()
	defer e.stmts.mu.Unlock()
	e.stmts.pipes = r
}

type stmtCount struct {
	n       int64
	seconds float64
}

// noteStatement records a finished statement for the metrics.
func (e *Engine) noteStatement(kind string, failed bool, d time.Duration) {
	m := &e.stmts
	status := "ok"
	if failed {
		status = "failed"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by == nil {
		m.by = map[[2]string]*stmtCount{}
	}
	k := [2]string{kind, status}
	c := m.by[k]
	if c == nil {
		c = &stmtCount{}
		m.by[k] = c
	}
	c.n++
	c.seconds += d.Seconds()
}

// Metrics returns the collector of the engine's figures, for /metrics:
//
//	etlc_source_rows_read_total{source}          rows read (every scan)
//	etlc_source_bad_rows_total{source}           bad rows dropped or quarantined
//	etlc_source_bytes_read_total{source}
//	etlc_source_files_read_total{source}
//	etlc_sink_rows_written_total{sink}           rows committed
//	etlc_sink_bytes_written_total{sink}
//	etlc_sink_files_written_total{sink}
//	etlc_sink_commits_total{sink}
//	etlc_expectation_rows_total{pipeline,constraint,action,outcome}
//	                                             outcome: passed, failed, dropped, quarantined
//	etlc_statement_duration_seconds{kind,status} summary (_sum, _count)
//
// and, when the stream runtime set a reporter (SetPipelineReporter), the
// etlc_pipeline_* figures of observe.PipelineCollector. The counts are
// those since the engine opened (expectations: of each pipeline's latest
// run).
func (e *Engine) Metrics() observe.Collector {
	return observe.CollectorFunc(func(ctx context.Context) []observe.Family {
		e.mu.Lock()
		sources := make([]SourceStats, 0, len(e.sources))
		for _, s := range e.sources {
			sources = append(sources, *s)
		}
		sinks := make([]SinkStats, 0, len(e.sinks))
		for _, s := range e.sinks {
			sinks = append(sinks, *s)
		}
		e.mu.Unlock()
		sort.Slice(sources, func(i, j int) bool { return sources[i].Name < sources[j].Name })
		sort.Slice(sinks, func(i, j int) bool { return sinks[i].Name < sinks[j].Name })
		fam := func(name, help string, t observe.Type) observe.Family {
			return observe.Family{Name: name, Help: help, Type: t}
		}
		srcRows := fam("etlc_source_rows_read_total", "Rows read from a source (every scan).", observe.Counter)
		srcBad := fam("etlc_source_bad_rows_total", "Bad rows of a source dropped or quarantined.", observe.Counter)
		srcBytes := fam("etlc_source_bytes_read_total", "Bytes read from a source.", observe.Counter)
		srcFiles := fam("etlc_source_files_read_total", "Files read from a source.", observe.Counter)
		for _, s := range sources {
			l := []observe.Label{{Name: "source", Value: s.Name}}
			srcRows.Samples = append(srcRows.Samples, observe.Sample{Labels: l, Value: float64(s.RowsRead)})
			srcBad.Samples = append(srcBad.Samples, observe.Sample{Labels: l, Value: float64(s.BadRows)})
			srcBytes.Samples = append(srcBytes.Samples, observe.Sample{Labels: l, Value: float64(s.BytesRead)})
			srcFiles.Samples = append(srcFiles.Samples, observe.Sample{Labels: l, Value: float64(s.FilesRead)})
		}
		snkRows := fam("etlc_sink_rows_written_total", "Rows committed to a sink.", observe.Counter)
		snkBytes := fam("etlc_sink_bytes_written_total", "Bytes committed to a sink.", observe.Counter)
		snkFiles := fam("etlc_sink_files_written_total", "Files committed to a sink.", observe.Counter)
		snkCommits := fam("etlc_sink_commits_total", "Commits of a sink.", observe.Counter)
		for _, s := range sinks {
			l := []observe.Label{{Name: "sink", Value: s.Name}}
			snkRows.Samples = append(snkRows.Samples, observe.Sample{Labels: l, Value: float64(s.RowsWritten)})
			snkBytes.Samples = append(snkBytes.Samples, observe.Sample{Labels: l, Value: float64(s.BytesWritten)})
			snkFiles.Samples = append(snkFiles.Samples, observe.Sample{Labels: l, Value: float64(s.FilesWritten)})
			snkCommits.Samples = append(snkCommits.Samples, observe.Sample{Labels: l, Value: float64(s.Commits)})
		}
		exp := fam("etlc_expectation_rows_total", "Rows checked by a pipeline expectation, by outcome (of the pipeline's latest run).", observe.Counter)
		for _, x := range e.Expectations() {
			for _, o := range []struct {
				name string
				v    int64
			}{{"passed", x.Passed}, {"failed", x.Failed}, {"dropped", x.Dropped}, {"quarantined", x.Quarantined}} {
				exp.Samples = append(exp.Samples, observe.Sample{Labels: []observe.Label{
					{Name: "pipeline", Value: x.Pipeline}, {Name: "constraint", Value: x.Constraint},
					{Name: "action", Value: x.Action}, {Name: "outcome", Value: o.name}}, Value: float64(o.v)})
			}
		}
		dur := fam("etlc_statement_duration_seconds", "Time statements took, by kind and status (ok or failed).", observe.Summary)
		e.stmts.mu.Lock()
		for k, c := range e.stmts.by {
			l := []observe.Label{{Name: "kind", Value: k[0]}, {Name: "status", Value: k[1]}}
			dur.Samples = append(dur.Samples,
				observe.Sample{Suffix: "_sum", Labels: l, Value: c.seconds},
				observe.Sample{Suffix: "_count", Labels: l, Value: float64(c.n)})
		}
		pipes := e.stmts.pipes
		e.stmts.mu.Unlock()
		out := []observe.Family{srcRows, srcBad, srcBytes, srcFiles, snkRows, snkBytes, snkFiles, snkCommits, exp, dur}
		if pipes != nil {
			out = append(out, observe.PipelineCollector(pipes, nil).Collect(ctx)...)
		}
		return out
	})
}

// CheckCatalog is a ready check: the catalog is open and readable.
func (e *Engine) CheckCatalog(ctx context.Context) error {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return fmt.Errorf("the engine is closed")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.cat.List(catalog.ObjectPipeline)
	return nil
}

// CheckSources is a ready check: every file source and stream of the
// catalog can be listed (its directory or S3 prefix is reachable). The
// first failures are named.
func (e *Engine) CheckSources(ctx context.Context) error {
	var bad []string
	for _, o := range e.cat.List(catalog.ObjectSource, catalog.ObjectStream) {
		if _, isErr := isErrorsObject(&o); isErr {
			continue
		}
		opts, err := connector.ParseOptions(o.Options, connector.RoleSource)
		if err != nil || opts.Path == "" {
			continue
		}
		if _, err := e.conn.ListFiles(ctx, opts); err != nil {
			bad = append(bad, fmt.Sprintf("%s %q: %v", o.Kind, o.Name, err))
		}
	}
	if len(bad) > 0 {
		if len(bad) > 3 {
			bad = append(bad[:3], fmt.Sprintf("and %d more", len(bad)-3))
		}
		return fmt.Errorf("unreachable: %s", strings.Join(bad, "; "))
	}
	return nil
}
