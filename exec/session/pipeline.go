package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// expectRegistry holds, by pipeline, the expectation counts of its latest
// run: a batch run's, or those a stream runtime registered.
type expectRegistry struct {
	mu    sync.Mutex
	order []string
	stats map[string]*exec.ExpectStats
}

// SetExpectations makes s the expectation counts etl.expectations shows
// for pipeline, replacing those of an earlier run. The stream runtime
// calls it when it starts a pipeline, with the statistics its plan's
// Expect operators count into (exec.BuildEnv.Expect).
func (e *Engine) SetExpectations(pipeline string, s *exec.ExpectStats) {
	r := &e.expect
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stats == nil {
		r.stats = map[string]*exec.ExpectStats{}
	}
	k := catalogKey(pipeline)
	if _, ok := r.stats[k]; !ok {
		r.order = append(r.order, k)
	}
	r.stats[k] = s
}

// forgetExpectations removes the counts of a dropped pipeline.
func (e *Engine) forgetExpectations(pipeline string) {
	r := &e.expect
	r.mu.Lock()
	defer r.mu.Unlock()
	k := catalogKey(pipeline)
	delete(r.stats, k)
	for i, o := range r.order {
		if o == k {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}

// Expectations returns the current counts of every pipeline's
// expectations, pipelines in the order they first ran.
func (e *Engine) Expectations() []exec.ExpectSnapshot {
	r := &e.expect
	r.mu.Lock()
	var all []*exec.ExpectStats
	for _, k := range r.order {
		all = append(all, r.stats[k])
	}
	r.mu.Unlock()
	var out []exec.ExpectSnapshot
	for _, s := range all {
		out = append(out, s.Snapshot()...)
	}
	return out
}

// startBatch runs START PIPELINE of a pipeline that reads no stream: it
// runs now, as a batch over what its sources hold, to completion: its
// INSERT with its expectations checked, counted and acted on.
func (r *stmtRun) startBatch(ctx context.Context, ps *planner.PipelineStmt) error {
	if err := r.runPipelineBatch(ctx, ps); err != nil {
		return err
	}
	r.res.Tag = "START PIPELINE"
	return nil
}

// bindPipeline binds the stored definition of a pipeline again, against the
// catalog as it is now.
func (r *stmtRun) bindPipeline(ctx context.Context, name parser.ObjectName) (*planner.PipelineStmt, error) {
	s := r.s
	obj, err := s.eng.lookupPipeline(name.String())
	if err != nil {
		return nil, err
	}
	src := parser.NewSource("pipeline "+obj.Name, obj.SQL)
	script, diags := parser.Parse(src, parser.Options{Params: s.params, LookupEnv: s.env})
	if script == nil || diags.HasErrors() || len(script.Stmts) != 1 {
		return nil, fmt.Errorf("pipeline %q: its definition does not parse any more: %w", obj.Name, diags)
	}
	cp, ok := script.Stmts[0].(*parser.CreatePipeline)
	if !ok {
		return nil, fmt.Errorf("pipeline %q: its definition is not CREATE PIPELINE", obj.Name)
	}
	// The pipeline exists: bind its definition as a replacement of itself.
	cp.OrReplace, cp.IfNotExists = true, false
	snap, err := compileCatalog(ctx, s.eng.cat, s.tempObjects(), script)
	if err != nil {
		return nil, err
	}
	prog, bdiags := planner.BindScript(ctx, script, snap, planner.CompileOptions{
		Params: s.params, LookupEnv: s.env, Infer: s.eng.inferFunc(), Registry: s.eng.reg,
	})
	if bdiags.HasErrors() {
		return nil, fmt.Errorf("pipeline %q no longer compiles:\n%w", obj.Name, bdiags)
	}
	ps, ok := prog.Statements[0].(*planner.PipelineStmt)
	if !ok || ps.Insert == nil || ps.Insert.Plan == nil {
		return nil, fmt.Errorf("pipeline %q has no INSERT to run", obj.Name)
	}
	return ps, nil
}

// lookupPipeline finds the pipeline name in the catalog; a name that is
// not a pipeline's is an error with the closest pipeline name as a hint.
func (e *Engine) lookupPipeline(name string) (catalog.Object, error) {
	obj, ok := e.cat.Lookup(name)
	if ok && obj.Kind == catalog.ObjectPipeline {
		return obj, nil
	}
	hint := ""
	var names []string
	for _, o := range e.cat.List(catalog.ObjectPipeline) {
		names = append(names, o.Name)
	}
	if c := parser.ClosestName(name, names); c != "" {
		hint = "did you mean " + c + "?"
	}
	return catalog.Object{}, &codeError{code: parser.CodeUndefinedObject, msg: fmt.Sprintf("pipeline %q does not exist", name) + hintSuffix(hint)}
}

func hintSuffix(h string) string {
	if h == "" {
		return ""
	}
	return " (" + h + ")"
}

// readsStream reports whether a plan reads a relation with FROM STREAM.
func readsStream(n planner.Node) bool {
	if s, ok := n.(*planner.Scan); ok && s.Stream {
		return true
	}
	for _, c := range n.Children() {
		if readsStream(c) {
			return true
		}
	}
	return false
}

// expectNodes returns the Expect nodes of a plan, outermost first.
func expectNodes(n planner.Node) []*planner.Expect {
	var out []*planner.Expect
	if x, ok := n.(*planner.Expect); ok {
		out = append(out, x)
	}
	for _, c := range n.Children() {
		out = append(out, expectNodes(c)...)
	}
	return out
}

// runPipelineBatch runs a pipeline's INSERT once with its expectations.
// The counts go to a fresh exec.ExpectStats, registered for etl.expectations
// and added to the run's summary; quarantined rows go to the pipeline's
// quarantine target, committed after the INSERT's own output.
func (r *stmtRun) runPipelineBatch(ctx context.Context, ps *planner.PipelineStmt) error {
	name := ps.Object.Name
	stats := exec.NewExpectStats()
	// Every expectation has its entry, also when no row reached it.
	for _, x := range ps.Expectations {
		stats.Entry(name, x.Name, x.Action)
	}
	r.s.eng.SetExpectations(name, stats)
	r.rs.expect = append(r.rs.expect, stats)

	q, err := r.openQuarantine(ctx, ps)
	if err != nil {
		return err
	}
	env := &exec.ExpectEnv{Stats: stats}
	if q != nil {
		env.Quarantine = q.write
	}
	r.expect = env
	defer func() { r.expect = nil }()
	if err := r.insert(ctx, ps.Insert); err != nil {
		var ee *exec.ExpectationError
		if errors.As(err, &ee) {
			return &codeError{code: "23514", msg: ee.Error()}
		}
		return err
	}
	if q != nil && q.w != nil {
		if err := q.w.commit(ctx); err != nil {
			return err
		}
		r.rs.target(q.w.obj).Inserted += q.w.rows
	}
	return nil
}

// pipelineQuarantine writes a pipeline's quarantined rows; the writer is
// opened with the first row.
type pipelineQuarantine struct {
	r      *stmtRun
	obj    *catalog.Object
	schema *arrow.Schema
	w      *writer
}

// openQuarantine prepares the quarantine target of a pipeline with
// QUARANTINE expectations (nil when it has none): the sink or table its
// quarantine option names, or the managed table <pipeline>__quarantine
// (created when missing). Its columns are constraint_name and the checked
// rows' columns.
func (r *stmtRun) openQuarantine(ctx context.Context, ps *planner.PipelineStmt) (*pipelineQuarantine, error) {
	var layout []planner.Column
	for _, x := range expectNodes(ps.Insert.Plan) {
		for _, c := range x.Checks {
			if c.Action == parser.ActionQuarantine && layout == nil {
				layout = x.Input.Schema()
			}
		}
	}
	if layout == nil {
		return nil, nil
	}
	qs := exec.QuarantineSchema(exec.SchemaOf(layout))
	cols := planner.QuarantineColumns(layout)
	if ps.Quarantine != nil {
		if err := r.createQuarantine(ctx, ps); err != nil {
			return nil, err
		}
	}
	target := ps.Object.Options["quarantine"]
	if target == "" {
		target = ps.Object.Name + planner.QuarantineSuffix
	}
	obj, ok := r.s.eng.cat.Lookup(target)
	if !ok || (obj.Kind != catalog.ObjectTable && obj.Kind != catalog.ObjectSink) {
		return nil, &codeError{code: parser.CodeUndefinedTable, msg: fmt.Sprintf("pipeline %q: quarantine target %q is not a sink or table", ps.Object.Name, target)}
	}
	switch {
	case len(obj.Columns) == 0 && obj.Kind == catalog.ObjectSink:
		obj.Columns = cols
	case !sameColumns(obj.Columns, cols):
		return nil, fmt.Errorf("pipeline %q: quarantine target %s %q has columns %s, the quarantined rows are %s",
			ps.Object.Name, obj.Kind, target, obj.Columns.String(), cols.String())
	}
	return &pipelineQuarantine{r: r, obj: &obj, schema: qs}, nil
}

// createQuarantine creates the table <pipeline>__quarantine of a pipeline
// when it does not exist; one that exists must have the columns of the
// quarantined rows.
func (r *stmtRun) createQuarantine(ctx context.Context, ps *planner.PipelineStmt) error {
	q := ps.Quarantine
	old, ok := r.s.eng.cat.Lookup(q.Name)
	switch {
	case !ok:
		if _, err := r.s.eng.cat.Create(ctx, *q, catalog.CreateNew); err != nil {
			return fmt.Errorf("creating the quarantine table %q: %w", q.Name, err)
		}
	case old.Kind != catalog.ObjectTable || !sameColumns(old.Columns, q.Columns):
		return fmt.Errorf("pipeline %q: %s %q exists with other columns than the quarantined rows %s; drop it, or name another target with WITH (quarantine = '...')",
			ps.Object.Name, old.Kind, q.Name, q.Columns.String())
	}
	return nil
}

// sameColumns reports whether two schemas have the same column names and
// types in order (nullability aside).
func sameColumns(a, b catalog.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i].Name, b[i].Name) || a[i].Type != b[i].Type {
			return false
		}
	}
	return true
}

// write is the exec.QuarantineFunc of a batch pipeline run.
func (q *pipelineQuarantine) write(ctx context.Context, rec arrow.Record) error {
	if q.w == nil {
		w, err := q.r.openWriter(ctx, q.obj, false)
		if err != nil {
			return err
		}
		q.w = w
	}
	return q.w.write(ctx, rec)
}
