package exec

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// ExpectCount holds the counts of one pipeline expectation. Its counters
// are safe for concurrent use: the operator adds while a system table or
// the metrics endpoint reads.
type ExpectCount struct {
	Pipeline   string
	Constraint string
	Action     parser.ViolationAction
	// Passed counts the rows that satisfied the condition (TRUE); Failed
	// the rows that violated it (FALSE or NULL), whatever the action.
	Passed, Failed atomic.Int64
	// Dropped and Quarantined count the violating rows the expectation
	// removed (DROP ROW) or routed to the quarantine (QUARANTINE).
	Dropped, Quarantined atomic.Int64
}

// ActionName is the action as etl.expectations shows it: none, drop row,
// fail or quarantine.
func (c *ExpectCount) ActionName() string {
	if c.Action == parser.ActionNone {
		return "none"
	}
	return strings.ToLower(c.Action.String())
}

// ExpectStats holds the counts of the expectations of one run of a
// pipeline (or of every pipeline of a script run), one entry per
// constraint in the order first seen. It is safe for concurrent use.
type ExpectStats struct {
	mu      sync.Mutex
	entries []*ExpectCount
}

// NewExpectStats returns empty statistics.
func NewExpectStats() *ExpectStats { return &ExpectStats{} }

// Entry returns the counts of a pipeline's constraint, adding them.
func (s *ExpectStats) Entry(pipeline, constraint string, action parser.ViolationAction) *ExpectCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.Pipeline == pipeline && e.Constraint == constraint {
			return e
		}
	}
	e := &ExpectCount{Pipeline: pipeline, Constraint: constraint, Action: action}
	s.entries = append(s.entries, e)
	return e
}

// Entries returns the entries in the order they were added.
func (s *ExpectStats) Entries() []*ExpectCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*ExpectCount(nil), s.entries...)
}

// ExpectSnapshot is the value of one ExpectCount at one moment (for
// checkpoints and summaries).
type ExpectSnapshot struct {
	Pipeline, Constraint, Action         string
	Passed, Failed, Dropped, Quarantined int64
}

// Snapshot returns the current counts of every entry.
func (s *ExpectStats) Snapshot() []ExpectSnapshot {
	var out []ExpectSnapshot
	for _, e := range s.Entries() {
		out = append(out, ExpectSnapshot{Pipeline: e.Pipeline, Constraint: e.Constraint, Action: e.ActionName(),
			Passed: e.Passed.Load(), Failed: e.Failed.Load(), Dropped: e.Dropped.Load(), Quarantined: e.Quarantined.Load()})
	}
	return out
}

// Restore sets the counts of the entries named in snap (a stream runtime
// restoring a checkpoint). Entries are matched by pipeline and constraint.
func (s *ExpectStats) Restore(snap []ExpectSnapshot) {
	for _, v := range snap {
		e := s.Entry(v.Pipeline, v.Constraint, parseAction(v.Action))
		e.Passed.Store(v.Passed)
		e.Failed.Store(v.Failed)
		e.Dropped.Store(v.Dropped)
		e.Quarantined.Store(v.Quarantined)
	}
}

func parseAction(s string) parser.ViolationAction {
	switch s {
	case "drop row":
		return parser.ActionDropRow
	case "fail":
		return parser.ActionFail
	case "quarantine":
		return parser.ActionQuarantine
	}
	return parser.ActionNone
}

// QuarantineFunc receives the rows that QUARANTINE expectations rejected,
// laid out as QuarantineSchema: the constraint name(s), then the checked
// row's columns. It does not own rec (Retain to keep it).
type QuarantineFunc func(ctx context.Context, rec arrow.Record) error

// ExpectEnv is where the Expect operators of a plan report: the counts,
// and the quarantined rows.
type ExpectEnv struct {
	// Stats receives the counts; nil: counted in statistics nobody reads.
	Stats *ExpectStats
	// Quarantine receives the quarantined rows; nil: a QUARANTINE
	// violation is an error.
	Quarantine QuarantineFunc
}

// QuarantineConstraintColumn is the first column of a quarantined row: the
// expectation(s) it violated, comma-separated.
const QuarantineConstraintColumn = planner.QuarantineConstraintColumn

// QuarantineSchema is the layout of quarantined rows: constraint_name,
// then the columns of the checked rows (names made unique with _2, _3 ...,
// as planner.QuarantineNames does).
func QuarantineSchema(in *arrow.Schema) *arrow.Schema {
	names := make([]string, in.NumFields())
	for i, f := range in.Fields() {
		names[i] = f.Name
	}
	qn := planner.QuarantineNames(names)
	fs := []arrow.Field{{Name: qn[0], Type: arrow.BinaryTypes.String}}
	for i, f := range in.Fields() {
		fs = append(fs, arrow.Field{Name: qn[i+1], Type: f.Type, Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// Check is one compiled expectation of an Expect operator.
type Check struct {
	Name   string
	Action parser.ViolationAction
	// Cond is a BOOLEAN condition over the operator's input.
	Cond expr.Evaluator
}

// ExpectationError is a violated FAIL expectation: the run stops.
type ExpectationError struct {
	Pipeline   string
	Constraint string
	// Row is a sample violating row, "(col = value, ...)".
	Row string
	// Violations counts the violating rows of the batch that failed.
	Violations int64
}

func (e *ExpectationError) Error() string {
	return fmt.Sprintf("pipeline %q: expectation %q violated (ON VIOLATION FAIL) by %d row(s), e.g. %s",
		e.Pipeline, e.Constraint, e.Violations, e.Row)
}

// Expect evaluates expectations over each batch of its input: it counts
// the rows that pass and violate each one, removes the rows a DROP ROW or
// QUARANTINE expectation rejects (the latter handed to the quarantine),
// and stops with an *ExpectationError when a FAIL expectation is violated.
// A row violates an expectation when its condition is not TRUE (FALSE or
// NULL), as a VALIDATE fails on NULL.
// Control batches (watermarks, barriers) pass through, so the stream
// runtime runs the same operator.
type Expect struct {
	input    Operator
	pipeline string
	checks   []Check
	counts   []*ExpectCount
	quar     QuarantineFunc
	qschema  *arrow.Schema
	mem      *Memory

	// Per batch scratch: violated[i] holds the rows check i rejects.
	violated [][]int32
	reject   []uint8 // per row: 0 keep, 1 drop, 2 quarantine
	keep     []int32
	qrows    []int32
}

// NewExpect returns the expectation operator over input. env may be nil.
func NewExpect(input Operator, pipeline string, checks []Check, env *ExpectEnv, mem *Memory) *Expect {
	stats := (*ExpectStats)(nil)
	var quar QuarantineFunc
	if env != nil {
		stats, quar = env.Stats, env.Quarantine
	}
	if stats == nil {
		stats = NewExpectStats()
	}
	e := &Expect{input: input, pipeline: pipeline, checks: checks, quar: quar, mem: mem,
		violated: make([][]int32, len(checks))}
	for _, c := range checks {
		e.counts = append(e.counts, stats.Entry(pipeline, c.Name, c.Action))
	}
	return e
}

// Schema implements Operator.
func (e *Expect) Schema() *arrow.Schema { return e.input.Schema() }

// Open implements Operator.
func (e *Expect) Open(ctx context.Context) error {
	for _, c := range e.checks {
		if id := c.Cond.Type().ID(); id != arrow.BOOL && id != arrow.NULL {
			return fmt.Errorf("exec: expectation %q is %s, not BOOLEAN", c.Name, c.Cond.Type())
		}
		if c.Action == parser.ActionQuarantine && e.quar == nil {
			return fmt.Errorf("pipeline %q: expectation %q quarantines rows, but the run has no quarantine", e.pipeline, c.Name)
		}
	}
	e.qschema = QuarantineSchema(e.input.Schema())
	return e.input.Open(ctx)
}

// Next implements Operator.
func (e *Expect) Next(ctx context.Context) (Batch, bool, error) {
	for {
		b, ok, err := e.input.Next(ctx)
		if err != nil || !ok || b.Kind != BatchData {
			return b, ok, err
		}
		out, err := e.apply(ctx, b.Rec)
		b.Rec.Release()
		if err != nil {
			return Batch{}, false, err
		}
		if out != nil {
			return Batch{Kind: BatchData, Rec: out}, true, nil
		}
	}
}

// selectNotTrue appends to sel the rows where cond is FALSE or NULL.
func selectNotTrue(cond arrow.Array, sel []int32) []int32 {
	n := cond.Len()
	if physOf(cond.DataType()) == physNull {
		for i := 0; i < n; i++ {
			sel = append(sel, int32(i))
		}
		return sel
	}
	vals := boolValsOf(cond)
	v := validityOf(cond)
	if v.bm == nil {
		for i := 0; i < n; i++ {
			if !vals.get(i) {
				sel = append(sel, int32(i))
			}
		}
		return sel
	}
	for i := 0; i < n; i++ {
		if !v.valid(i) || !vals.get(i) {
			sel = append(sel, int32(i))
		}
	}
	return sel
}

// apply checks one batch and returns the rows it passes on (nil: none).
func (e *Expect) apply(ctx context.Context, rec arrow.Record) (arrow.Record, error) {
	n := int(rec.NumRows())
	if n == 0 {
		return nil, nil
	}
	removing := false
	for i, c := range e.checks {
		arr, err := c.Cond.Eval(ctx, rec)
		if err != nil {
			return nil, fmt.Errorf("pipeline %q: expectation %q: %w", e.pipeline, c.Name, err)
		}
		e.violated[i] = selectNotTrue(arr, e.violated[i][:0])
		arr.Release()
		bad := int64(len(e.violated[i]))
		e.counts[i].Passed.Add(int64(n) - bad)
		e.counts[i].Failed.Add(bad)
		if bad > 0 && (c.Action == parser.ActionDropRow || c.Action == parser.ActionQuarantine) {
			removing = true
		}
	}
	for i, c := range e.checks {
		if c.Action == parser.ActionFail && len(e.violated[i]) > 0 {
			return nil, &ExpectationError{Pipeline: e.pipeline, Constraint: c.Name,
				Row: sampleRow(rec, int(e.violated[i][0])), Violations: int64(len(e.violated[i]))}
		}
	}
	if !removing {
		rec.Retain()
		return rec, nil
	}
	if cap(e.reject) < n {
		e.reject = make([]uint8, n)
	}
	e.reject = e.reject[:n]
	clear(e.reject)
	for i, c := range e.checks {
		var mark uint8
		switch c.Action {
		case parser.ActionDropRow:
			mark = 1
		case parser.ActionQuarantine:
			mark = 2
		default:
			continue
		}
		for _, r := range e.violated[i] {
			if e.reject[r] < mark {
				e.reject[r] = mark
			}
		}
	}
	// Each removed row is counted once, against the expectations whose
	// action removed it: a row that a QUARANTINE check routes away is
	// quarantined (not dropped) even when a DROP ROW check failed too.
	for i, c := range e.checks {
		var want uint8
		var ctr *atomic.Int64
		switch c.Action {
		case parser.ActionDropRow:
			want, ctr = 1, &e.counts[i].Dropped
		case parser.ActionQuarantine:
			want, ctr = 2, &e.counts[i].Quarantined
		default:
			continue
		}
		var k int64
		for _, r := range e.violated[i] {
			if e.reject[r] == want {
				k++
			}
		}
		ctr.Add(k)
	}
	e.keep, e.qrows = e.keep[:0], e.qrows[:0]
	for r, m := range e.reject {
		switch m {
		case 0:
			e.keep = append(e.keep, int32(r))
		case 2:
			e.qrows = append(e.qrows, int32(r))
		}
	}
	if len(e.qrows) > 0 {
		if err := e.quarantine(ctx, rec); err != nil {
			return nil, err
		}
	}
	switch len(e.keep) {
	case 0:
		return nil, nil
	case n:
		rec.Retain()
		return rec, nil
	}
	if contiguous(e.keep) {
		return sliceRecord(rec, int(e.keep[0]), int(e.keep[len(e.keep)-1])+1), nil
	}
	return takeRecord(e.mem.Alloc, nil, rec, e.keep)
}

// quarantine hands the rows of e.qrows to the quarantine, each with the
// names of the QUARANTINE expectations it violated.
func (e *Expect) quarantine(ctx context.Context, rec arrow.Record) error {
	names := make([]string, len(e.qrows))
	pos := make(map[int32]int, len(e.qrows))
	for i, r := range e.qrows {
		pos[r] = i
	}
	for i, c := range e.checks {
		if c.Action != parser.ActionQuarantine {
			continue
		}
		for _, r := range e.violated[i] {
			if j, ok := pos[r]; ok {
				if names[j] != "" {
					names[j] += ","
				}
				names[j] += c.Name
			}
		}
	}
	sb := array.NewStringBuilder(e.mem.Alloc)
	sb.AppendValues(names, nil)
	nameArr := sb.NewArray()
	sb.Release()
	rows, err := takeRecord(e.mem.Alloc, nil, rec, e.qrows)
	if err != nil {
		nameArr.Release()
		return err
	}
	cols := append([]arrow.Array{nameArr}, rows.Columns()...)
	q := array.NewRecord(e.qschema, cols, int64(len(e.qrows)))
	nameArr.Release()
	rows.Release()
	defer q.Release()
	if err := e.quar(ctx, q); err != nil {
		return fmt.Errorf("pipeline %q: quarantining rows: %w", e.pipeline, err)
	}
	return nil
}

// sampleRow formats row i of rec as (name = value, ...).
func sampleRow(rec arrow.Record, i int) string {
	var sb strings.Builder
	sb.WriteByte('(')
	for c, f := range rec.Schema().Fields() {
		if c > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(f.Name)
		sb.WriteString(" = ")
		col := rec.Column(c)
		switch {
		case col.IsNull(i):
			sb.WriteString("NULL")
		case col.DataType().ID() == arrow.DECIMAL128:
			sb.WriteString(col.(*array.Decimal128).Value(i).ToString(col.DataType().(*arrow.Decimal128Type).Scale))
		case col.DataType().ID() == arrow.STRING || col.DataType().ID() == arrow.LARGE_STRING:
			sb.WriteString("'" + strings.ReplaceAll(col.ValueStr(i), "'", "''") + "'")
		default:
			sb.WriteString(col.ValueStr(i))
		}
	}
	sb.WriteByte(')')
	return sb.String()
}

// Close implements Operator.
func (e *Expect) Close() error { return e.input.Close() }
