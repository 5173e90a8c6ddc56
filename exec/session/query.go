package session

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// opReader is an array.RecordReader over a running operator.
type opReader struct {
	ctx  context.Context
	op   exec.Operator
	refs atomic.Int64
	cur  arrow.Record
	err  error
	done bool
	rows int64
}

var _ array.RecordReader = (*opReader)(nil)

// Retain implements array.RecordReader.
func (r *opReader) Retain() { r.refs.Add(1) }

// Release implements array.RecordReader; the last release drops the
// current record (the operator is closed by its owner).
func (r *opReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

// Schema implements array.RecordReader.
func (r *opReader) Schema() *arrow.Schema { return r.op.Schema() }

// Next implements array.RecordReader.
func (r *opReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for !r.done && r.err == nil {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			break
		}
		b, ok, err := r.op.Next(r.ctx)
		if err != nil {
			r.err = err
			break
		}
		if !ok {
			r.done = true
			break
		}
		if b.Kind != exec.BatchData {
			continue
		}
		r.cur = b.Rec
		r.rows += b.Rec.NumRows()
		return true
	}
	return false
}

// Record implements array.RecordReader.
func (r *opReader) Record() arrow.Record { return r.cur }

// Err implements array.RecordReader.
func (r *opReader) Err() error { return r.err }

// deliver hands a statement's rows to the caller: to ExecOptions.Results
// as a stream, or collected into the result.
func (r *stmtRun) deliver(ctx context.Context, op exec.Operator) (rows int64, err error) {
	defer func() {
		if cerr := op.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := op.Open(ctx); err != nil {
		return 0, err
	}
	rd := &opReader{ctx: ctx, op: op}
	rd.refs.Store(1)
	defer rd.Release()
	r.res.Schema = op.Schema()
	if cb := r.rs.opts.Results; cb != nil {
		if err := cb(ctx, &r.info, rd); err != nil {
			return rd.rows, err
		}
		for rd.Next() { // what the callback left unread
		}
		return rd.rows, rd.Err()
	}
	var recs []arrow.Record
	for rd.Next() {
		rec := rd.Record()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := rd.Err(); err != nil {
		for _, rec := range recs {
			rec.Release()
		}
		return rd.rows, err
	}
	r.res.Records = recs
	return rd.rows, nil
}

// query runs a SELECT and delivers its rows.
func (r *stmtRun) query(ctx context.Context, plan planner.Node) error {
	env := r.buildEnv(nil)
	op, err := r.build(ctx, plan, env, false)
	if err != nil {
		return err
	}
	n, err := r.deliver(ctx, op)
	if err != nil {
		return err
	}
	r.res.Tag = fmt.Sprintf("SELECT %d", n)
	return nil
}

// collect runs a plan and returns every row as one list of records.
func (r *stmtRun) collect(ctx context.Context, plan planner.Node) ([]arrow.Record, error) {
	var recs []arrow.Record
	err := r.forEach(ctx, plan, nil, func(rec arrow.Record) error {
		rec.Retain()
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		for _, rec := range recs {
			rec.Release()
		}
		return nil, err
	}
	return recs, nil
}

// validation returns the outcome of a check with its message, keeping a
// message that is a JSON object or array as data.
func validation(kind, name string, passed bool, msg string) *Validation {
	v := &Validation{Kind: kind, Name: name, Passed: passed, Message: msg}
	if t := strings.TrimSpace(msg); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
		v.Data = json.RawMessage(t)
	}
	return v
}

// validate runs VALIDATE name AS query: exactly one row of (BOOLEAN, TEXT);
// FALSE or NULL fails the statement with the message.
func (r *stmtRun) validate(ctx context.Context, st *planner.ValidateStmt) error {
	r.res.Tag = "VALIDATE"
	recs, err := r.collect(ctx, st.Plan)
	if err != nil {
		return err
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	var n int64
	var row arrow.Record
	for _, rec := range recs {
		if rec.NumRows() > 0 && row == nil {
			row = rec
		}
		n += rec.NumRows()
	}
	if n != 1 {
		return &codeError{code: "21000", msg: fmt.Sprintf("the VALIDATE query returned %d rows, want exactly one row of (BOOLEAN, TEXT)", n)}
	}
	if row.NumCols() != 2 {
		return fmt.Errorf("the VALIDATE query returned %d columns, want (BOOLEAN, TEXT)", row.NumCols())
	}
	var ok, known bool
	switch c := row.Column(0).(type) {
	case *array.Boolean:
		known = c.IsValid(0)
		ok = known && c.Value(0)
	case *array.Null:
	default:
		return fmt.Errorf("the VALIDATE query's first column is %s, want BOOLEAN", c.DataType())
	}
	msg := ""
	if c, isStr := row.Column(1).(*array.String); isStr && c.IsValid(0) {
		msg = c.Value(0)
	}
	v := validation("VALIDATE", st.Name, ok, msg)
	r.res.Validation = v
	if ok {
		return nil
	}
	text := msg
	switch {
	case text == "" && known:
		text = "the check is false"
	case text == "":
		text = "the check is NULL"
	case !known:
		text += " (the check is NULL)"
	}
	return &StmtError{Pos: r.info.Pos, Title: r.info.Title(), Code: "P0001", Message: text, Validation: v}
}

// assert runs ASSERT cond, 'message': cond is evaluated once; anything but
// TRUE fails the statement.
func (r *stmtRun) assert(ctx context.Context, st *planner.AssertStmt) error {
	r.res.Tag = "ASSERT"
	plan := &planner.Project{
		Input:   &planner.Values{Rows: [][]planner.Expr{{}}},
		Exprs:   []planner.Expr{st.Cond},
		Columns: []planner.Column{{Name: "assert", Type: catalog.Bool, Nullable: true}},
	}
	recs, err := r.collect(ctx, plan)
	if err != nil {
		return err
	}
	ok := false
	for _, rec := range recs {
		if c, isBool := rec.Column(0).(*array.Boolean); isBool && rec.NumRows() > 0 {
			ok = c.IsValid(0) && c.Value(0)
		}
		rec.Release()
	}
	cond := ""
	if a := st.Stmt; a != nil && a.Cond.Frag != nil && a.Cond.Node != nil {
		sp := r.rs.src.Text
		start := a.Cond.Pos()
		end := a.Span.End
		if a.Message != "" {
			end = start + condEnd(sliceText(sp, parser.Span{Start: start, End: end}))
		}
		cond = strings.Join(strings.Fields(sliceText(sp, parser.Span{Start: start, End: end})), " ")
	}
	msg := st.Message
	if msg == "" {
		msg = "the condition is not true"
		if cond != "" {
			msg = "the condition " + cond + " is not true"
		}
	}
	v := validation("ASSERT", "", ok, msg)
	v.Condition = cond
	r.res.Validation = v
	if ok {
		return nil
	}
	return &StmtError{Pos: r.info.Pos, Title: r.info.Title(), Code: "P0001", Message: msg, Validation: v}
}

// textRows delivers rows of text columns as a result set.
func (r *stmtRun) textRows(ctx context.Context, names []string, rows [][]string) error {
	cols := make(catalog.Schema, len(names))
	for i, n := range names {
		cols[i] = catalog.Column{Name: n, Type: catalog.String}
	}
	vals := make([][]any, len(rows))
	for i, row := range rows {
		vals[i] = make([]any, len(row))
		for j, v := range row {
			vals[i][j] = v
		}
	}
	rec, err := buildRecord(r.mem.Alloc, cols, vals)
	if err != nil {
		return err
	}
	op := exec.NewRecordSource(rec.Schema(), []arrow.Record{rec})
	_, err = r.deliver(ctx, op)
	return err
}

// utility runs SHOW, SET, RESET, BEGIN/COMMIT/ROLLBACK, START/STOP
// PIPELINE and ANALYZE.
func (r *stmtRun) utility(ctx context.Context, st *planner.UtilityStmt) error {
	s := r.s
	switch u := st.Stmt.(type) {
	case *parser.Set:
		name := strings.ToLower(u.Name.Name)
		r.res.Tag = "SET"
		if u.Reset {
			r.res.Tag = "RESET"
			def := defaultSettings()
			if name == "all" {
				s.settings = def
				return nil
			}
			if v, ok := def[name]; ok {
				s.settings[name] = v
			} else {
				delete(s.settings, name)
			}
			return nil
		}
		if name == "threads" {
			if _, err := parseThreads(u.Value); err != nil {
				return err
			}
		}
		s.settings[name] = u.Value
		return nil
	case *parser.Show:
		r.res.Tag = "SHOW"
		return r.show(ctx, u)
	case *parser.Transaction:
		return r.transaction(ctx, u)
	case *parser.PipelineCmd:
		start := u.Action == parser.PipelineStart
		if start {
			// A pipeline that reads no stream runs now, as a batch.
			ps, err := r.bindPipeline(ctx, u.Name)
			if err != nil {
				return err
			}
			if !readsStream(ps.Insert.Plan) {
				return r.startBatch(ctx, ps)
			}
		}
		obj, err := r.s.eng.lookupPipeline(u.Name.String())
		if err != nil {
			return err
		}
		r.res.Tag = "STOP PIPELINE"
		if start {
			r.res.Tag = "START PIPELINE"
		}
		if r.s.pipes != nil {
			// etlc run: the started pipelines run after the script.
			return r.s.pipes(ctx, obj.Name, start)
		}
		if start {
			return r.s.startBackground(ctx, obj.Name)
		}
		return r.s.stopBackground(ctx, obj.Name)
	case *parser.Analyze:
		return r.analyze(ctx, st.Object)
	}
	return fmt.Errorf("statement %T cannot run", st.Stmt)
}

// show runs SHOW setting, SHOW ALL and SHOW SOURCES|SINKS|STREAMS|TABLES|
// VIEWS|PIPELINES.
func (r *stmtRun) show(ctx context.Context, u *parser.Show) error {
	s := r.s
	what := strings.ToLower(u.What)
	kinds := map[string]catalog.ObjectKind{
		"sources": catalog.ObjectSource, "sinks": catalog.ObjectSink, "streams": catalog.ObjectStream,
		"tables": catalog.ObjectTable, "views": catalog.ObjectView, "pipelines": catalog.ObjectPipeline,
	}
	if k, ok := kinds[what]; ok {
		var rows [][]string
		objs := s.eng.cat.List(k)
		if k == catalog.ObjectView {
			objs = append(objs, s.tempObjects()...)
		}
		sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
		for _, o := range objs {
			var opts []string
			for _, key := range sortedKeys(o.Options) {
				opts = append(opts, key+" = '"+strings.ReplaceAll(o.Options[key], "'", "''")+"'")
			}
			cols := ""
			if len(o.Columns) > 0 {
				cols = o.Columns.String()
			}
			rows = append(rows, []string{o.Name, cols, strings.Join(opts, ", ")})
		}
		return r.textRows(ctx, []string{"name", "columns", "options"}, rows)
	}
	if what == "all" {
		var rows [][]string
		for _, n := range s.sortedSettings() {
			rows = append(rows, []string{n, s.settings[n]})
		}
		return r.textRows(ctx, []string{"name", "setting"}, rows)
	}
	v, ok := s.settings[what]
	if !ok {
		return &codeError{code: "42704", msg: fmt.Sprintf("unrecognized configuration parameter %q", u.What)}
	}
	return r.textRows(ctx, []string{what}, [][]string{{v}})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// condEnd returns where the condition of "cond, 'message'" ends: at the
// comma before the final string literal.
func condEnd(text string) int {
	t := strings.TrimRight(text, " \t\r\n")
	if !strings.HasSuffix(t, "'") {
		return len(text)
	}
	i := len(t) - 2
	for i >= 0 {
		if t[i] == '\'' {
			if i > 0 && t[i-1] == '\'' {
				i -= 2
				continue
			}
			break
		}
		i--
	}
	if i < 0 {
		return len(text)
	}
	j := strings.LastIndex(t[:i], ",")
	if j < 0 {
		return len(text)
	}
	return j
}

// optimizedStmt returns a copy of st whose plans are the ones running st
// builds: a query's, a VALIDATE's and a CREATE TABLE AS query's plan
// optimized, an INSERT's plan with its projection to the target's columns
// and optimized. Other statements (MERGE, ASSERT, ...) are returned as
// they are.
func (r *stmtRun) optimizedStmt(ctx context.Context, st planner.BoundStmt) (planner.BoundStmt, error) {
	switch st := st.(type) {
	case *planner.QueryStmt:
		plan, err := r.optimize(ctx, st.Plan, false)
		if err != nil {
			return nil, err
		}
		out := *st
		out.Plan = plan
		return &out, nil
	case *planner.ValidateStmt:
		plan, err := r.optimize(ctx, st.Plan, false)
		if err != nil {
			return nil, err
		}
		out := *st
		out.Plan = plan
		return &out, nil
	case *planner.InsertStmt:
		if st.Target == nil || st.Plan == nil {
			return st, nil
		}
		plan, err := r.optimize(ctx, targetPlan(st.Plan, st.Target, st.Columns, st.Defaults), false)
		if err != nil {
			return nil, err
		}
		out := *st
		out.Plan = plan
		return &out, nil
	case *planner.CreateStmt:
		if st.Query == nil || st.Object == nil || st.Object.Kind != catalog.ObjectTable {
			return st, nil
		}
		cols := make([]int, len(st.Object.Columns))
		for i := range cols {
			cols[i] = i
		}
		plan, err := r.optimize(ctx, targetPlan(st.Query, st.Object, cols, nil), false)
		if err != nil {
			return nil, err
		}
		out := *st
		out.Query = plan
		return &out, nil
	}
	return st, nil
}
