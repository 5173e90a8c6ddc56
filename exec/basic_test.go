package exec

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

func TestFilter(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	rows := [][]any{{int64(1), "a"}, {nil, "b"}, {int64(3), nil}, {int64(4), "d"}, {int64(5), "e"}, {int64(6), "f"}, {int64(7), "g"}}
	// x > 2, NULL when x is NULL: NULL rows are dropped.
	cond := funcEval{dt: tBool, f: func(r []any) any {
		if r[0] == nil {
			return nil
		}
		return r[0].(int64) > 2
	}}
	got := run(t, NewFilter(source(t, mem, s, rows, 3), cond, mem))
	equalRows(t, got, []string{"3|NULL", "4|d", "5|e", "6|f", "7|g"})

	none := funcEval{dt: tBool, f: func([]any) any { return false }}
	equalRows(t, run(t, NewFilter(source(t, mem, s, rows, 2), none, mem)), nil)
	all := funcEval{dt: tBool, f: func([]any) any { return true }}
	equalRows(t, run(t, NewFilter(source(t, mem, s, rows, 4), all, mem)), rowsOfTest(rows))
	// A scattered selection goes through the take kernel.
	odd := funcEval{dt: tBool, f: func(r []any) any { return r[0] != nil && r[0].(int64)%2 == 1 }}
	equalRows(t, run(t, NewFilter(source(t, mem, s, rows, 7), odd, mem)), []string{"1|a", "3|NULL", "5|e", "7|g"})
}

func rowsOfTest(rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = fmtValue(v)
		}
		out[i] = strings.Join(parts, "|")
	}
	return out
}

func TestProject(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	rows := [][]any{{int64(1), "a"}, {nil, "b"}, {int64(3), nil}}
	double := funcEval{dt: tInt64, f: func(r []any) any {
		if r[0] == nil {
			return nil
		}
		return r[0].(int64) * 2
	}}
	out := schemaOf(tString, tInt64)
	got := run(t, NewProject(source(t, mem, s, rows, 2), []expr2{col(t, s, 1), double}, out))
	equalRows(t, got, []string{"a|2", "b|NULL", "NULL|6"})

	// A type mismatch is reported at Open.
	bad := NewProject(source(t, mem, s, rows, 2), []expr2{col(t, s, 1)}, schemaOf(tInt64))
	if err := runErr(t, bad); !strings.Contains(err.Error(), "projection column") {
		t.Fatalf("error %v", err)
	}
}

func TestLimit(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64)
	var rows [][]any
	for i := 0; i < 10; i++ {
		rows = append(rows, []any{int64(i)})
	}
	cases := []struct {
		off, count int64
		want       string
	}{
		{0, 3, "0 1 2"},
		{2, 3, "2 3 4"},
		{3, 4, "3 4 5 6"},
		{8, 5, "8 9"},
		{10, 5, ""},
		{4, -1, "4 5 6 7 8 9"},
		{0, 0, ""},
	}
	for _, c := range cases {
		got := strings.Join(run(t, NewLimit(source(t, mem, s, rows, 3), c.off, c.count)), " ")
		if got != c.want {
			t.Errorf("offset %d count %d: got %q, want %q", c.off, c.count, got, c.want)
		}
	}
}

// countingSource counts the batches pulled from it.
type countingSource struct {
	Operator
	pulled int
}

func (c *countingSource) Next(ctx context.Context) (Batch, bool, error) {
	b, ok, err := c.Operator.Next(ctx)
	if ok {
		c.pulled++
	}
	return b, ok, err
}

func TestLimitStopsPulling(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64)
	var rows [][]any
	for i := 0; i < 100; i++ {
		rows = append(rows, []any{int64(i)})
	}
	src := &countingSource{Operator: source(t, mem, s, rows, 10)}
	equalRows(t, run(t, NewLimit(src, 5, 10)), []string{"5", "6", "7", "8", "9", "10", "11", "12", "13", "14"})
	if src.pulled != 2 {
		t.Fatalf("pulled %d batches, want 2", src.pulled)
	}
}

func TestValues(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	c := func(v any, dt arrow.DataType) expr2 { return funcEval{dt: dt, f: func([]any) any { return v }} }
	// An untyped NULL cell (arrow's NULL type) takes its column's type.
	v := NewValues(s, [][]expr2{{c(int64(1), tInt64), c("x", tString)}, {c(nil, tInt64), c(nil, arrow.Null)}}, mem)
	equalRows(t, run(t, v), []string{"1|x", "NULL|NULL"})
	// SELECT without FROM: one row, no columns.
	recs, err := Collect(context.Background(), NewValues(arrow.NewSchema(nil, nil), [][]expr2{{}}, mem))
	if err != nil || len(recs) != 1 || recs[0].NumRows() != 1 || recs[0].NumCols() != 0 {
		t.Fatalf("empty VALUES: %v %v", recs, err)
	}
	ReleaseRecords(recs)
}

func TestUnionAllAndControl(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64)
	l := source(t, mem, s, [][]any{{int64(1)}, {int64(2)}}, 1)
	r := source(t, mem, schemaOf(tInt64), [][]any{{int64(3)}}, 1)
	equalRows(t, run(t, NewUnionAll(s, l, r)), []string{"1", "2", "3"})

	// Stateless operators forward watermarks and barriers untouched.
	rec := mkRec(t, mem.Alloc, s, [][]any{{int64(5)}, {int64(6)}})
	src := &ctlSource{schema: s, bs: []Batch{
		{Kind: BatchWatermark, Watermark: 42},
		{Kind: BatchData, Rec: rec},
		{Kind: BatchBarrier, Barrier: 7},
	}}
	yes := funcEval{dt: tBool, f: func([]any) any { return true }}
	op := NewLimit(NewProject(NewFilter(src, yes, mem), []expr2{col(t, s, 0)}, s), 0, 10)
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var kinds []BatchKind
	for {
		b, ok, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		kinds = append(kinds, b.Kind)
		switch b.Kind {
		case BatchWatermark:
			if b.Watermark != 42 {
				t.Fatalf("watermark %d", b.Watermark)
			}
		case BatchBarrier:
			if b.Barrier != 7 {
				t.Fatalf("barrier %d", b.Barrier)
			}
		case BatchData:
			b.Rec.Release()
		}
	}
	op.Close()
	if len(kinds) != 3 || kinds[0] != BatchWatermark || kinds[1] != BatchData || kinds[2] != BatchBarrier {
		t.Fatalf("kinds %v", kinds)
	}
	// Pipeline breakers report a control batch as an error.
	src2 := &ctlSource{schema: s, bs: []Batch{{Kind: BatchWatermark, Watermark: 1}}}
	err := runErr(t, NewSort(src2, []SortKey{{Expr: col(t, s, 0)}}, mem))
	if !strings.Contains(err.Error(), "watermark") {
		t.Fatalf("error %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	m := NewMemory(1000)
	if err := m.Reserve("x", 600); err != nil {
		t.Fatal(err)
	}
	err := m.Reserve("y", 600)
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("error %v", err)
	}
	m.Release(600)
	if m.Used() != 0 || m.Peak() != 600 {
		t.Fatalf("used %d peak %d", m.Used(), m.Peak())
	}
}
