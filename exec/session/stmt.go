package session

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// stmtRun is one statement while it runs.
type stmtRun struct {
	s    *Session
	rs   *runState
	info StmtInfo
	res  *StmtResult
	obs  Observer
	mem  *exec.Memory

	start        time.Time
	progressMu   sync.Mutex // parallel scans report progress; one at a time
	noteMu       sync.Mutex // scans in parallel workers note their reads one at a time
	lastProgress time.Time
	rowsRead     atomic.Int64
	bytesRead    atomic.Int64
	rowsWritten  atomic.Int64
	// sinks are the sinks the statement opened and has not committed: a
	// failure aborts them.
	sinks []*connector.Sink
	// scans keeps complete reads of managed tables for the statement.
	scans scanCache
	// expect receives the counts and quarantined rows of pipeline
	// expectations while a pipeline runs.
	expect *exec.ExpectEnv
}

// progressInterval is the least time between two Progress calls.
const progressInterval = 100 * time.Millisecond

// progress reports the statement's counts to the observer, at most every
// progressInterval.
func (r *stmtRun) progress() {
	if r.obs == nil || !r.progressMu.TryLock() {
		return
	}
	defer r.progressMu.Unlock()
	now := time.Now()
	if now.Sub(r.lastProgress) < progressInterval {
		return
	}
	r.lastProgress = now
	r.obs.StatementProgress(&r.info, r.counts())
}

func (r *stmtRun) counts() Progress {
	return Progress{RowsRead: r.rowsRead.Load(), BytesRead: r.bytesRead.Load(),
		RowsWritten: r.rowsWritten.Load(), Elapsed: time.Since(r.start)}
}

// describe fills a statement's kind and object.
func describe(st planner.BoundStmt) (kind, object string) {
	switch st := st.(type) {
	case *planner.QueryStmt:
		return "SELECT", ""
	case *planner.InsertStmt:
		if st.Overwrite {
			return "INSERT OVERWRITE", st.Stmt.Target.String()
		}
		return "INSERT", st.Stmt.Target.String()
	case *planner.CreateStmt:
		return "CREATE " + strings.ToUpper(st.Object.Kind.String()), st.Object.Name
	case *planner.PipelineStmt:
		return "CREATE PIPELINE", st.Object.Name
	case *planner.ValidateStmt:
		return "VALIDATE", st.Name
	case *planner.AssertStmt:
		return "ASSERT", ""
	case *planner.MergeStmt:
		return "MERGE", st.Stmt.Target.String()
	case *planner.DropStmt:
		var names []string
		for _, n := range st.Stmt.Names {
			names = append(names, n.String())
		}
		return "DROP " + st.Stmt.Kind.String(), strings.Join(names, ", ")
	case *planner.CreateIndexStmt:
		return "CREATE INDEX", st.Index.Name
	case *planner.DropIndexStmt:
		return "DROP INDEX", strings.Join(st.Names, ", ")
	case *planner.ExplainStmt:
		return "EXPLAIN", ""
	case *planner.DeclareStmt:
		return "DECLARE", st.Stmt.Name.Name
	case *planner.UtilityStmt:
		switch u := st.Stmt.(type) {
		case *parser.Show:
			return "SHOW", u.What
		case *parser.Set:
			if u.Reset {
				return "RESET", u.Name.Name
			}
			return "SET", u.Name.Name
		case *parser.Transaction:
			return u.Word, ""
		case *parser.PipelineCmd:
			if u.Action == parser.PipelineStart {
				return "START PIPELINE", u.Name.String()
			}
			return "STOP PIPELINE", u.Name.String()
		case *parser.Analyze:
			return "ANALYZE", u.Name.String()
		}
	}
	return fmt.Sprintf("%T", st), ""
}

// execStmt runs one bound statement and reports it to the observer.
func (s *Session) execStmt(ctx context.Context, rs *runState, i int, st planner.BoundStmt) *StmtResult {
	sp := st.Parsed().StmtSpan()
	kind, object := describe(st)
	r := &stmtRun{
		s: s, rs: rs, obs: rs.opts.Observer, mem: exec.NewMemory(s.eng.cfg.MemoryLimit),
		info: StmtInfo{Index: i, Count: rs.run.Count, Kind: kind, Object: object,
			Pos: rs.src.Position(sp.Start), Text: sliceText(rs.src.Text, sp)},
		start: time.Now(),
	}
	r.scans = scanCache{done: map[string][]arrow.Record{}, tooLarge: map[string]bool{}}
	defer r.scans.release()
	r.res = &StmtResult{Info: r.info}
	r.lastProgress = r.start
	if r.obs != nil {
		r.obs.StatementStarted(&r.info)
	}
	var before map[string]TargetSummary
	staged := 0
	if tx := s.tx; tx != nil {
		staged = len(tx.writes)
		before = map[string]TargetSummary{}
		for k, t := range rs.targets {
			before[k] = *t
		}
	}
	err := r.run(ctx, st)
	s.notePlanEffects(st)
	if tx := s.tx; tx != nil && len(tx.writes) > staged && before != nil {
		tx.countStaged(rs, staged, before)
	}
	if err != nil {
		// Every sink the statement opened and did not commit goes away.
		actx := context.WithoutCancel(ctx)
		for _, sk := range r.sinks {
			sk.Abort(actx)
		}
		se := r.stmtError(err)
		if se.Code == "57014" {
			se.Message = "canceled"
			if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
				se.Message += ": " + cause.Error()
			}
		}
		r.res.Err = se
	}
	r.res.Progress = r.counts()
	r.s.eng.noteStatement(kind, r.res.Err != nil, r.res.Progress.Elapsed)
	if r.obs != nil {
		r.obs.StatementFinished(r.res)
	}
	return r.res
}

// run runs the statement, turning a panic into an error.
func (r *stmtRun) run(ctx context.Context, st planner.BoundStmt) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &internalError{msg: fmt.Sprint(p), stack: debug.Stack()}
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.s.tx != nil && r.s.tx.failed && !isBlockEnd(r.info.Kind) {
		return errFailedBlock
	}
	if r.s.tx != nil && r.s.tx.readOnly && writes(st) {
		return &codeError{code: "25006", msg: fmt.Sprintf("cannot execute %s in a read-only transaction", r.info.Kind)}
	}
	switch st := st.(type) {
	case *planner.QueryStmt:
		return r.query(ctx, st.Plan)
	case *planner.InsertStmt:
		return r.insert(ctx, st)
	case *planner.CreateStmt:
		return r.create(ctx, st)
	case *planner.PipelineStmt:
		if _, err := r.s.eng.cat.Create(ctx, *st.Object, st.Mode); err != nil {
			return err
		}
		if st.Quarantine != nil {
			if err := r.createQuarantine(ctx, st); err != nil {
				return err
			}
		}
		r.res.Tag = "CREATE PIPELINE"
		return nil
	case *planner.ValidateStmt:
		return r.validate(ctx, st)
	case *planner.AssertStmt:
		return r.assert(ctx, st)
	case *planner.MergeStmt:
		return r.merge(ctx, st)
	case *planner.DropStmt:
		return r.drop(ctx, st)
	case *planner.CreateIndexStmt:
		return r.createIndex(ctx, st)
	case *planner.DropIndexStmt:
		return r.dropIndex(ctx, st)
	case *planner.ExplainStmt:
		return r.explain(ctx, st)
	case *planner.DeclareStmt:
		r.res.Tag = "DECLARE"
		return nil
	case *planner.UtilityStmt:
		return r.utility(ctx, st)
	}
	return fmt.Errorf("statement %T cannot run", st)
}

// internalError is a panic recovered while a statement ran.
type internalError struct {
	msg   string
	stack []byte
}

func (e *internalError) Error() string { return "internal error: " + e.msg }

// featureError is a statement etlc parses but cannot run yet.
type featureError struct{ msg string }

func (e *featureError) Error() string { return e.msg }

// stmtError wraps a statement's failure with its position and SQLSTATE.
func (r *stmtRun) stmtError(err error) *StmtError {
	var se *StmtError
	if errors.As(err, &se) {
		return se
	}
	e := &StmtError{Pos: r.info.Pos, Title: r.info.Title(), Message: err.Error(), Err: err, Code: "58000"}
	var (
		ee *expr.Error
		oe *catalog.ObjectError
		re *connector.RowError
		op *connector.OptionError
		ie *internalError
		fe *featureError
		ce *codeError
	)
	switch {
	case errors.As(err, &ce):
		e.Code, e.Detail = ce.code, ce.detail
	case errors.As(err, &ee):
		e.Code = ee.Code
	case errors.As(err, &oe):
		e.Code = oe.Code
	case errors.As(err, &re):
		e.Code = "22000"
	case errors.As(err, &op):
		e.Code = "22023"
	case errors.As(err, &fe):
		e.Code = parser.CodeFeature
	case errors.As(err, &ie):
		e.Code = "XX000"
		e.Hint = "this is a bug in etlc; please report it with the script"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Code = "57014"
	case errors.Is(err, exec.ErrMemoryLimit):
		e.Code = "53200"
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, connector.ErrNotExist):
		e.Code = "58P01"
	}
	return e
}

// codeError is an error with its SQLSTATE.
type codeError struct {
	code   string
	msg    string
	detail string
}

func (e *codeError) Error() string { return e.msg }

func sliceText(text string, sp parser.Span) string {
	if sp.Start < 0 || sp.End > len(text) || sp.Start > sp.End {
		return ""
	}
	return text[sp.Start:sp.End]
}

// build optimizes plan and builds its operators. keepColumns keeps every
// column of the scans (a MERGE's scans of its target, with row ids, have
// fixed columns).
func (r *stmtRun) build(ctx context.Context, plan planner.Node, env *exec.BuildEnv, keepColumns bool) (exec.Operator, error) {
	plan, err := r.optimize(ctx, plan, keepColumns)
	if err != nil {
		return nil, err
	}
	return exec.Build(ctx, plan, env)
}

// buildEnv is the environment exec.Build needs for one plan of the
// statement.
func (r *stmtRun) buildEnv(scans *scanFactory) *exec.BuildEnv {
	if scans == nil {
		scans = &scanFactory{r: r}
	}
	return &exec.BuildEnv{Mem: r.mem, Scans: scans, Compile: expr.Compile, Now: r.start, Location: r.s.location(),
		Params: r.rs.opts.Params, Expect: r.expect, Threads: r.s.threads()}
}

// forEach builds plan, runs it to completion and calls fn with every data
// batch (fn must not keep the record beyond the call without retaining it).
func (r *stmtRun) forEach(ctx context.Context, plan planner.Node, scans *scanFactory, fn func(rec arrow.Record) error) (err error) {
	env := r.buildEnv(scans)
	op, err := r.build(ctx, plan, env, scans != nil)
	if err != nil {
		return err
	}
	return exec.Drive(ctx, op, fn)
}
