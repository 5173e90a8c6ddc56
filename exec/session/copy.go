package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// CopyIn is a COPY ... FROM STDIN into a managed table or a sink while it
// runs: the caller decodes the client's rows into batches of text columns
// and Writes them; Commit publishes every row at once, Abort none. Until
// then nothing is visible to other sessions. Only one goroutine may use a
// CopyIn.
type CopyIn struct {
	r      *stmtRun
	obj    catalog.Object
	listed []catalog.Column
	evals  []expr.Evaluator
	schema *arrow.Schema
	w      *writer
	unlock func()
	done   bool
}

// CopyRowError is a row of a COPY that does not fit its table: Row is the
// row's index in the batch given to Write, Column the column's name.
type CopyRowError struct {
	Row    int
	Column string
	Code   string
	Err    error
}

func (e *CopyRowError) Error() string { return e.Err.Error() }

// Unwrap returns the conversion's error.
func (e *CopyRowError) Unwrap() error { return e.Err }

// BeginCopyIn starts a COPY into the managed table or sink name, for the
// listed columns (none: every column in order). The columns not listed are
// NULL in every row.
func (s *Session) BeginCopyIn(ctx context.Context, name string, columns []string) (*CopyIn, error) {
	obj, ok := s.eng.cat.Lookup(name)
	if _, temp := s.temps[catalogKey(name)]; temp || !ok {
		if temp {
			return nil, &codeError{code: "42809", msg: fmt.Sprintf("cannot copy to view %q", name)}
		}
		return nil, &codeError{code: "42P01", msg: fmt.Sprintf("relation %q does not exist", name)}
	}
	if obj.Kind != catalog.ObjectTable && obj.Kind != catalog.ObjectSink && obj.Kind != catalog.ObjectStream {
		return nil, &codeError{code: "42809", msg: fmt.Sprintf("cannot copy to %s %q: COPY FROM writes into tables, sinks and streams", obj.Kind, obj.Name)}
	}
	idx := make([]int, 0, len(obj.Columns))
	if len(columns) == 0 {
		for i := range obj.Columns {
			idx = append(idx, i)
		}
	}
	seen := map[int]bool{}
	for _, c := range columns {
		i := -1
		for j, tc := range obj.Columns {
			if strings.EqualFold(tc.Name, c) {
				i = j
				break
			}
		}
		if i < 0 {
			return nil, &codeError{code: "42703", msg: fmt.Sprintf("column %q of relation %q does not exist", c, obj.Name)}
		}
		if seen[i] {
			return nil, &codeError{code: "42701", msg: fmt.Sprintf("column %q specified more than once", c)}
		}
		seen[i] = true
		idx = append(idx, i)
	}
	c := &CopyIn{obj: obj}
	inFields := make([]arrow.Field, len(idx))
	for k, i := range idx {
		c.listed = append(c.listed, obj.Columns[i])
		inFields[k] = arrow.Field{Name: obj.Columns[i].Name, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	inSchema := arrow.NewSchema(inFields, nil)
	mem := exec.NewMemory(s.eng.cfg.MemoryLimit)
	env := &expr.Env{Alloc: mem.Alloc, Now: time.Now(), Location: s.location()}
	fields := make([]arrow.Field, len(obj.Columns))
	c.evals = make([]expr.Evaluator, len(obj.Columns))
	for i, tc := range obj.Columns {
		t := tc.Type
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		var e planner.Expr = &planner.Const{Value: nil, T: t}
		for k, j := range idx {
			if j == i {
				e = &planner.ColRef{Index: k, Name: tc.Name, T: catalog.String}
				if t != catalog.String {
					e = &planner.Cast{Arg: e, T: t}
				}
			}
		}
		ev, err := expr.Compile(e, inSchema, env)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", tc.Name, err)
		}
		c.evals[i] = ev
		fields[i] = arrow.Field{Name: tc.Name, Type: ev.Type(), Nullable: true}
	}
	c.schema = arrow.NewSchema(fields, nil)
	rs := &runState{run: &Run{}, sources: map[string]*SourceSummary{}, targets: map[string]*TargetSummary{},
		quarantined: map[string]*catalog.Object{}}
	c.r = &stmtRun{s: s, rs: rs, mem: mem, res: &StmtResult{}, start: time.Now(),
		info: StmtInfo{Kind: "COPY", Object: obj.Name}}
	c.unlock = s.eng.lockTarget(obj.Name)
	w, err := c.r.openWriter(ctx, &c.obj, false)
	if err != nil {
		c.unlock()
		return nil, err
	}
	c.w = w
	return c, nil
}

// Columns returns the listed columns: the ones each row gives, in order.
func (c *CopyIn) Columns() []catalog.Column { return c.listed }

// Write converts a batch of rows, one string column per listed column
// (NULL where the row has NULL), to the table's types and writes it. A
// value that does not convert fails with a *CopyRowError.
func (c *CopyIn) Write(ctx context.Context, rec arrow.Record) error {
	if rec.NumRows() == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(c.evals))
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, ev := range c.evals {
		out, err := ev.Eval(ctx, rec)
		if err != nil {
			var ee *expr.Error
			if errors.As(err, &ee) && ee.Row >= 0 {
				return &CopyRowError{Row: ee.Row, Column: c.obj.Columns[i].Name, Code: ee.Code, Err: err}
			}
			return fmt.Errorf("column %q: %w", c.obj.Columns[i].Name, err)
		}
		cols[i] = out
	}
	out := array.NewRecord(c.schema, cols, rec.NumRows())
	defer out.Release()
	err := c.w.write(ctx, out)
	var ce *codeError
	if errors.As(err, &ce) && ce.code == "23502" {
		// Name the first row with the NULL, as for a bad value.
		for _, i := range c.w.notNull {
			col := out.Column(i)
			for row := 0; row < col.Len(); row++ {
				if col.IsNull(row) {
					return &CopyRowError{Row: row, Column: c.obj.Columns[i].Name, Code: ce.code, Err: err}
				}
			}
		}
	}
	return err
}

// Commit publishes the rows written and returns how many there were.
func (c *CopyIn) Commit(ctx context.Context) (int64, error) {
	if c.done {
		return 0, fmt.Errorf("COPY into %q has already finished", c.obj.Name)
	}
	c.done = true
	defer c.unlock()
	if err := c.w.commit(ctx); err != nil {
		c.w.sink.Abort(context.WithoutCancel(ctx))
		return 0, err
	}
	return c.w.rows, nil
}

// Abort drops every row written; nothing of the COPY stays.
func (c *CopyIn) Abort(ctx context.Context) {
	if c.done {
		return
	}
	c.done = true
	defer c.unlock()
	c.w.sink.Abort(context.WithoutCancel(ctx))
}

// CopyErrorCode returns the SQLSTATE an error of a COPY carries (58000
// when it has none of its own).
func CopyErrorCode(err error) string {
	var (
		re *CopyRowError
		ce *codeError
		ee *expr.Error
	)
	switch {
	case errors.As(err, &re):
		return re.Code
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "57014"
	}
	return "58000"
}
