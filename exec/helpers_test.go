package exec

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/exec/expr"
)

// Test values are Go values: nil (NULL), bool, int64 (any integer type,
// DATE as days, TIME/TIMESTAMP as micros), float64, string, []byte,
// decimal128.Num, arrow.MonthDayNanoInterval.

var (
	tInt64  = arrow.PrimitiveTypes.Int64
	tInt32  = arrow.PrimitiveTypes.Int32
	tFloat  = arrow.PrimitiveTypes.Float64
	tString = arrow.BinaryTypes.String
	tBool   = arrow.FixedWidthTypes.Boolean
	tTS     = &arrow.TimestampType{Unit: arrow.Microsecond}
	tIv     = arrow.FixedWidthTypes.MonthDayNanoInterval
)

func tDec(p, s int32) arrow.DataType { return &arrow.Decimal128Type{Precision: p, Scale: s} }

// schemaOf makes a schema of columns c0, c1, ... of the given types.
func schemaOf(types ...arrow.DataType) *arrow.Schema {
	fs := make([]arrow.Field, len(types))
	for i, t := range types {
		fs[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: t, Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// buildArray builds an array of type dt from test values.
func buildArray(t testing.TB, mem memory.Allocator, dt arrow.DataType, vals []any) arrow.Array {
	t.Helper()
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.BooleanBuilder:
			b.Append(v.(bool))
		case *array.Int8Builder:
			b.Append(int8(v.(int64)))
		case *array.Int16Builder:
			b.Append(int16(v.(int64)))
		case *array.Int32Builder:
			b.Append(int32(v.(int64)))
		case *array.Int64Builder:
			b.Append(v.(int64))
		case *array.Float32Builder:
			b.Append(float32(v.(float64)))
		case *array.Float64Builder:
			b.Append(v.(float64))
		case *array.StringBuilder:
			b.Append(v.(string))
		case *array.BinaryBuilder:
			b.Append(v.([]byte))
		case *array.Decimal128Builder:
			b.Append(v.(decimal128.Num))
		case *array.Date32Builder:
			b.Append(arrow.Date32(v.(int64)))
		case *array.TimestampBuilder:
			b.Append(arrow.Timestamp(v.(int64)))
		case *array.Time64Builder:
			b.Append(arrow.Time64(v.(int64)))
		case *array.MonthDayNanoIntervalBuilder:
			b.Append(v.(arrow.MonthDayNanoInterval))
		case *array.NullBuilder:
			b.AppendNull()
		default:
			t.Fatalf("buildArray: no builder for %s", dt)
		}
	}
	return b.NewArray()
}

// mkRec builds a record of schema from rows of test values.
func mkRec(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows [][]any) arrow.Record {
	t.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	for c := range cols {
		vals := make([]any, len(rows))
		for r, row := range rows {
			vals[r] = row[c]
		}
		cols[c] = buildArray(t, mem, schema.Field(c).Type, vals)
	}
	return newRecord(schema, cols, len(rows))
}

// valueAt returns row i of a as a test value.
func valueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Decimal128:
		return a.Value(i)
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Time64:
		return int64(a.Value(i))
	case *array.MonthDayNanoInterval:
		return a.Value(i)
	}
	panic(fmt.Sprintf("valueAt: %s", a.DataType()))
}

// fmtValue renders a test value for comparisons: NULL, numbers, strings
// as they are; decimals unscaled with a "d" suffix.
func fmtValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%.1f", x)
		}
		return fmt.Sprintf("%.6g", x)
	case decimal128.Num:
		return x.BigInt().String() + "d"
	case arrow.MonthDayNanoInterval:
		return fmt.Sprintf("%dm%dd%dns", x.Months, x.Days, x.Nanoseconds)
	case []byte:
		return fmt.Sprintf("x%x", x)
	}
	return fmt.Sprint(v)
}

// rowsOf renders the rows of records as "a|b|c" strings.
func rowsOf(recs ...arrow.Record) []string {
	var out []string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			parts := make([]string, r.NumCols())
			for c := range parts {
				parts[c] = fmtValue(valueAt(r.Column(c), i))
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// run collects an operator's output as rows, failing the test on error.
func run(t testing.TB, op Operator) []string {
	t.Helper()
	recs, err := Collect(context.Background(), op)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	defer ReleaseRecords(recs)
	return rowsOf(recs...)
}

// runErr runs an operator expecting an error.
func runErr(t testing.TB, op Operator) error {
	t.Helper()
	recs, err := Collect(context.Background(), op)
	ReleaseRecords(recs)
	if err == nil {
		t.Fatalf("runErr: no error")
	}
	return err
}

func equalRows(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot:  %q\nwant: %q", len(got), len(want), head(got), head(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d: got %q, want %q\ngot:  %q\nwant: %q", i, got[i], want[i], head(got), head(want))
		}
	}
}

func head(s []string) []string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// source returns a RecordSource over rows split into batches of size.
func source(t testing.TB, mem *Memory, schema *arrow.Schema, rows [][]any, size int) Operator {
	t.Helper()
	var recs []arrow.Record
	for i := 0; i < len(rows); i += size {
		recs = append(recs, mkRec(t, mem.Alloc, schema, rows[i:min(i+size, len(rows))]))
	}
	src := NewRecordSource(schema, recs)
	ReleaseRecords(recs)
	return src
}

// ctlSource yields batches, including control batches, as given.
type ctlSource struct {
	schema *arrow.Schema
	bs     []Batch
	i      int
}

func (s *ctlSource) Schema() *arrow.Schema      { return s.schema }
func (s *ctlSource) Open(context.Context) error { return nil }
func (s *ctlSource) Next(context.Context) (Batch, bool, error) {
	if s.i >= len(s.bs) {
		return Batch{}, false, nil
	}
	s.i++
	return s.bs[s.i-1], true, nil
}
func (s *ctlSource) Close() error {
	for _, b := range s.bs[s.i:] {
		if b.Rec != nil {
			b.Rec.Release()
		}
	}
	return nil
}

// col returns an evaluator of input column i (via the test compiler).
func col(t testing.TB, schema *arrow.Schema, i int) expr.Evaluator {
	t.Helper()
	return colEval{i: i, dt: schema.Field(i).Type}
}

type colEval struct {
	i  int
	dt arrow.DataType
}

func (c colEval) Eval(_ context.Context, rec arrow.Record) (arrow.Array, error) {
	a := rec.Column(c.i)
	a.Retain()
	return a, nil
}
func (c colEval) Type() arrow.DataType { return c.dt }

// funcEval computes a test expression row by row from test values.
type funcEval struct {
	dt arrow.DataType
	f  func(row []any) any
}

func (f funcEval) Type() arrow.DataType { return f.dt }
func (f funcEval) Eval(_ context.Context, rec arrow.Record) (arrow.Array, error) {
	n := int(rec.NumRows())
	vals := make([]any, n)
	row := make([]any, rec.NumCols())
	for i := 0; i < n; i++ {
		for c := range row {
			row[c] = valueAt(rec.Column(c), i)
		}
		vals[i] = f.f(row)
	}
	return buildArray(tb{}, memory.DefaultAllocator, f.dt, vals), nil
}

// tb is a testing.TB for helpers used outside a test's goroutine; it panics.
type tb struct{ testing.TB }

func (tb) Helper()                      {}
func (tb) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

func newMem() *Memory { return NewMemory(0) }

// leakCheck returns a Memory whose allocator checks that every buffer is
// released by the end of the test.
func leakCheck(t *testing.T) *Memory {
	m := NewMemory(0)
	ca := memory.NewCheckedAllocator(memory.NewGoAllocator())
	m.Alloc = ca
	t.Cleanup(func() { ca.AssertSize(t, 0) })
	return m
}

// expr2 is expr.Evaluator, short for test tables.
type expr2 = expr.Evaluator
