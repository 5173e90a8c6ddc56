package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/exec/expr"
)

// evalAll evaluates evs over rec; the caller releases the arrays.
func evalAll(ctx context.Context, evs []expr.Evaluator, rec arrow.Record) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(evs))
	for i, e := range evs {
		a, err := e.Eval(ctx, rec)
		if err != nil {
			releaseArrays(out)
			return nil, err
		}
		if a.Len() != int(rec.NumRows()) {
			a.Release()
			releaseArrays(out)
			return nil, fmt.Errorf("exec: expression returned %d values for %d rows", a.Len(), rec.NumRows())
		}
		out[i] = a
	}
	return out, nil
}

// oneRow returns a record with one row and no columns, the input of
// expressions that read no column.
func oneRow() arrow.Record {
	return array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
}

// RecordSource is an operator producing given records, in order: the
// replay of a materialised common table expression or an in-memory table.
type RecordSource struct {
	schema *arrow.Schema
	recs   []arrow.Record
	next   int
}

// NewRecordSource returns an operator that yields recs (relabelled to
// schema, which must have their column types). It takes a reference of
// its own to each record; Close releases those not yet handed out.
func NewRecordSource(schema *arrow.Schema, recs []arrow.Record) *RecordSource {
	own := make([]arrow.Record, len(recs))
	for i, r := range recs {
		r.Retain()
		own[i] = r
	}
	return &RecordSource{schema: schema, recs: own}
}

// Schema implements Operator.
func (s *RecordSource) Schema() *arrow.Schema { return s.schema }

// Open implements Operator.
func (s *RecordSource) Open(context.Context) error {
	for _, r := range s.recs {
		if !typesMatch(r.Schema(), s.schema) {
			return fmt.Errorf("exec: record of schema %s does not match %s", r.Schema(), s.schema)
		}
	}
	return nil
}

// Next implements Operator.
func (s *RecordSource) Next(ctx context.Context) (Batch, bool, error) {
	for s.next < len(s.recs) {
		r := s.recs[s.next]
		s.recs[s.next] = nil
		s.next++
		if r.NumRows() == 0 && s.next < len(s.recs) {
			r.Release()
			continue
		}
		return Batch{Kind: BatchData, Rec: relabel(s.schema, r)}, true, nil
	}
	return Batch{}, false, nil
}

// Close implements Operator.
func (s *RecordSource) Close() error {
	ReleaseRecords(s.recs[s.next:])
	s.recs = nil
	return nil
}

// typesMatch reports whether two schemas have the same column types.
func typesMatch(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		if !arrow.TypeEqual(a.Field(i).Type, b.Field(i).Type) {
			return false
		}
	}
	return true
}

// Values produces the rows of an inline table, each cell an expression
// over no input columns.
type Values struct {
	schema *arrow.Schema
	rows   [][]expr.Evaluator
	mem    *Memory
	out    arrow.Record
	done   bool
}

// NewValues returns the VALUES operator: rows[i][j] computes column j of
// row i. A Values with no columns and one empty row is the input of a
// SELECT without FROM.
func NewValues(schema *arrow.Schema, rows [][]expr.Evaluator, mem *Memory) *Values {
	return &Values{schema: schema, rows: rows, mem: mem}
}

// Schema implements Operator.
func (v *Values) Schema() *arrow.Schema { return v.schema }

// Open implements Operator: it evaluates every cell.
func (v *Values) Open(ctx context.Context) error {
	in := oneRow()
	defer in.Release()
	ncol := v.schema.NumFields()
	cols := make([]arrow.Array, ncol)
	defer releaseArrays(cols)
	cells := make([]arrow.Array, len(v.rows))
	for c := 0; c < ncol; c++ {
		for r, row := range v.rows {
			if len(row) != ncol {
				releaseArrays(cells[:r])
				return fmt.Errorf("exec: VALUES row %d has %d columns, want %d", r+1, len(row), ncol)
			}
			a, err := row[c].Eval(ctx, in)
			if err != nil {
				releaseArrays(cells[:r])
				return fmt.Errorf("VALUES row %d, column %d: %w", r+1, c+1, err)
			}
			if a.DataType().ID() == arrow.NULL && physOf(v.schema.Field(c).Type) != physNull {
				// An untyped NULL cell takes its column's type.
				n := a.Len()
				a.Release()
				if a, err = nullArray(v.mem.Alloc, v.schema.Field(c).Type, n); err != nil {
					releaseArrays(cells[:r])
					return err
				}
			}
			if !arrow.TypeEqual(a.DataType(), v.schema.Field(c).Type) {
				a.Release()
				releaseArrays(cells[:r])
				return fmt.Errorf("exec: VALUES row %d, column %d is %s, want %s", r+1, c+1, a.DataType(), v.schema.Field(c).Type)
			}
			cells[r] = a
		}
		col, err := concatArrays(v.mem.Alloc, v.schema.Field(c).Type, cells)
		releaseArrays(cells)
		if err != nil {
			return err
		}
		cols[c] = col
	}
	v.out = array.NewRecord(v.schema, cols, int64(len(v.rows)))
	return nil
}

// Next implements Operator.
func (v *Values) Next(context.Context) (Batch, bool, error) {
	if v.done || v.out == nil {
		return Batch{}, false, nil
	}
	v.done = true
	r := v.out
	v.out = nil
	return Batch{Kind: BatchData, Rec: r}, true, nil
}

// Close implements Operator.
func (v *Values) Close() error {
	if v.out != nil {
		v.out.Release()
		v.out = nil
	}
	return nil
}

// Filter passes the rows of its input for which a BOOLEAN condition is
// TRUE. It is stateless: control batches pass through untouched.
type Filter struct {
	input Operator
	cond  expr.Evaluator
	mem   *Memory
	sel   []int32
}

// NewFilter returns a filter of input by cond.
func NewFilter(input Operator, cond expr.Evaluator, mem *Memory) *Filter {
	return &Filter{input: input, cond: cond, mem: mem}
}

// Schema implements Operator.
func (f *Filter) Schema() *arrow.Schema { return f.input.Schema() }

// Open implements Operator.
func (f *Filter) Open(ctx context.Context) error {
	if f.cond.Type().ID() != arrow.BOOL && f.cond.Type().ID() != arrow.NULL {
		return fmt.Errorf("exec: filter condition is %s, not BOOLEAN", f.cond.Type())
	}
	return f.input.Open(ctx)
}

// Next implements Operator.
func (f *Filter) Next(ctx context.Context) (Batch, bool, error) {
	for {
		b, ok, err := f.input.Next(ctx)
		if err != nil || !ok || b.Kind != BatchData {
			return b, ok, err
		}
		out, err := f.apply(ctx, b.Rec)
		b.Rec.Release()
		if err != nil {
			return Batch{}, false, err
		}
		if out != nil {
			return Batch{Kind: BatchData, Rec: out}, true, nil
		}
	}
}

// apply returns the selected rows of rec, nil for none.
func (f *Filter) apply(ctx context.Context, rec arrow.Record) (arrow.Record, error) {
	n := int(rec.NumRows())
	if n == 0 {
		return nil, nil
	}
	c, err := f.cond.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	f.sel = selectTrue(c, f.sel[:0])
	c.Release()
	switch len(f.sel) {
	case 0:
		return nil, nil
	case n:
		rec.Retain()
		return rec, nil
	}
	if contiguous(f.sel) {
		return sliceRecord(rec, int(f.sel[0]), int(f.sel[len(f.sel)-1])+1), nil
	}
	return takeRecord(f.mem.Alloc, nil, rec, f.sel)
}

// contiguous reports whether sel is a run of consecutive rows.
func contiguous(sel []int32) bool {
	return int(sel[len(sel)-1]-sel[0]) == len(sel)-1
}

// Close implements Operator.
func (f *Filter) Close() error { return f.input.Close() }

// Project computes expressions over each batch of its input. It is
// stateless: control batches pass through untouched.
type Project struct {
	input  Operator
	exprs  []expr.Evaluator
	schema *arrow.Schema
}

// NewProject returns the projection of input to exprs; schema names the
// output columns and must have the expressions' types.
func NewProject(input Operator, exprs []expr.Evaluator, schema *arrow.Schema) *Project {
	return &Project{input: input, exprs: exprs, schema: schema}
}

// Schema implements Operator.
func (p *Project) Schema() *arrow.Schema { return p.schema }

// Open implements Operator.
func (p *Project) Open(ctx context.Context) error {
	if len(p.exprs) != p.schema.NumFields() {
		return fmt.Errorf("exec: projection of %d expressions into %d columns", len(p.exprs), p.schema.NumFields())
	}
	for i, e := range p.exprs {
		if !arrow.TypeEqual(e.Type(), p.schema.Field(i).Type) {
			return fmt.Errorf("exec: projection column %q is %s, the expression gives %s", p.schema.Field(i).Name, p.schema.Field(i).Type, e.Type())
		}
	}
	return p.input.Open(ctx)
}

// Next implements Operator.
func (p *Project) Next(ctx context.Context) (Batch, bool, error) {
	b, ok, err := p.input.Next(ctx)
	if err != nil || !ok || b.Kind != BatchData {
		return b, ok, err
	}
	defer b.Rec.Release()
	cols, err := evalAll(ctx, p.exprs, b.Rec)
	if err != nil {
		return Batch{}, false, err
	}
	return Batch{Kind: BatchData, Rec: newRecord(p.schema, cols, int(b.Rec.NumRows()))}, true, nil
}

// Close implements Operator.
func (p *Project) Close() error { return p.input.Close() }

// Limit skips Offset rows and then passes at most Count rows. It stops
// pulling its input once Count rows have passed. Control batches pass
// through.
type Limit struct {
	input         Operator
	offset, count int64
	seen, passed  int64
}

// NewLimit returns input with offset rows skipped and at most count rows
// passed (count < 0: no limit).
func NewLimit(input Operator, offset, count int64) *Limit {
	return &Limit{input: input, offset: offset, count: count}
}

// Schema implements Operator.
func (l *Limit) Schema() *arrow.Schema { return l.input.Schema() }

// Open implements Operator.
func (l *Limit) Open(ctx context.Context) error {
	if l.offset < 0 {
		return fmt.Errorf("OFFSET must not be negative, got %d", l.offset)
	}
	return l.input.Open(ctx)
}

// Next implements Operator.
func (l *Limit) Next(ctx context.Context) (Batch, bool, error) {
	for {
		if l.count >= 0 && l.passed >= l.count {
			return Batch{}, false, nil
		}
		b, ok, err := l.input.Next(ctx)
		if err != nil || !ok || b.Kind != BatchData {
			return b, ok, err
		}
		n := b.Rec.NumRows()
		lo := int64(0)
		if l.seen < l.offset {
			lo = min(l.offset-l.seen, n)
		}
		l.seen += n
		hi := n
		if l.count >= 0 {
			hi = min(n, lo+l.count-l.passed)
		}
		if lo >= hi {
			b.Rec.Release()
			continue
		}
		l.passed += hi - lo
		if lo == 0 && hi == n {
			return b, true, nil
		}
		out := sliceRecord(b.Rec, int(lo), int(hi))
		b.Rec.Release()
		return Batch{Kind: BatchData, Rec: out}, true, nil
	}
}

// Close implements Operator.
func (l *Limit) Close() error { return l.input.Close() }

// UnionAll passes the batches of its inputs one input after the other,
// relabelled to its schema. Control batches pass through (the stream
// runtime merges watermarks of several inputs before they reach here).
type UnionAll struct {
	schema *arrow.Schema
	inputs []Operator
	cur    int
}

// NewUnionAll returns the concatenation of inputs, which have the column
// types of schema.
func NewUnionAll(schema *arrow.Schema, inputs ...Operator) *UnionAll {
	return &UnionAll{schema: schema, inputs: inputs}
}

// Schema implements Operator.
func (u *UnionAll) Schema() *arrow.Schema { return u.schema }

// Open implements Operator.
func (u *UnionAll) Open(ctx context.Context) error {
	for _, in := range u.inputs {
		if !typesMatch(in.Schema(), u.schema) {
			return fmt.Errorf("exec: UNION input %s does not match %s", in.Schema(), u.schema)
		}
		if err := in.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Next implements Operator.
func (u *UnionAll) Next(ctx context.Context) (Batch, bool, error) {
	for u.cur < len(u.inputs) {
		b, ok, err := u.inputs[u.cur].Next(ctx)
		if err != nil {
			return Batch{}, false, err
		}
		if !ok {
			u.cur++
			continue
		}
		if b.Kind == BatchData {
			b.Rec = relabel(u.schema, b.Rec)
		}
		return b, true, nil
	}
	return Batch{}, false, nil
}

// Close implements Operator.
func (u *UnionAll) Close() error {
	var first error
	for _, in := range u.inputs {
		if err := in.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
