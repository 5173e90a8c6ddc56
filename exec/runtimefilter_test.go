package exec

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// countRows counts the rows an operator yields.
type countRows struct {
	Operator
	rows *int64
}

func (c *countRows) Next(ctx context.Context) (Batch, bool, error) {
	b, ok, err := c.Operator.Next(ctx)
	if ok && b.Kind == BatchData {
		*c.rows += b.Rec.NumRows()
	}
	return b, ok, err
}

// TestRuntimeFilterPlan joins an aggregation of big grouped by n with the
// dim rows of n < 5: the join's runtime filter reaches the scan of big
// below the aggregation, which then yields only the rows of n < 5. The
// answer is the same with every thread count.
func TestRuntimeFilterPlan(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	i64 := catalog.Int64
	big := scanBig()
	agg := &planner.Aggregate{Input: big, GroupBy: []planner.Expr{cref(3, i64)},
		Aggs: []*planner.AggCall{{Fn: fn("count"), T: i64}}, Columns: pcols("n,c", i64, i64)}
	dim := &planner.Filter{Input: scanDim(), Cond: call("lt", catalog.Bool, cref(0, i64), ci(5))}
	join := &planner.Join{Kind: planner.InnerJoin, Left: agg, Right: dim,
		Cond: call("eq", catalog.Bool, cref(0, i64), cref(2, i64)), Columns: pcols("n,c,n2,name", i64, i64, i64, catalog.String)}
	counts := map[int64]int{}
	small := int64(0)
	for _, r := range bigRows() {
		counts[r.n]++
		if r.n < 5 {
			small++
		}
	}
	var want []string
	for i := 0; i < 80; i++ {
		if n := int64(i % 60); n < 5 {
			want = append(want, fmt.Sprintf("%d|%d|%d|dim%d", n, counts[n], n, i))
		}
	}
	for _, th := range threadCounts {
		_, got := runThreads(t, mem, tabs, join, th)
		equalRows(t, sorted(got), sorted(want))
	}
	// Serially, with the rows out of big's scan counted.
	var scanned int64
	observe := func(n planner.Node, op Operator) Operator {
		if n == planner.Node(big) {
			return &countRows{Operator: op, rows: &scanned}
		}
		return op
	}
	op, err := Build(context.Background(), join, &BuildEnv{Mem: mem, Scans: tabs, Threads: 1, Observe: observe})
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, sorted(run(t, op)), sorted(want))
	if scanned != small {
		t.Errorf("the scan of big yielded %d rows, want the %d of n < 5", scanned, small)
	}
}

// TestTraceColumn checks which columns a runtime filter can follow.
func TestTraceColumn(t *testing.T) {
	i64 := catalog.Int64
	big := scanBig()
	proj := &planner.Project{Input: big, Exprs: []planner.Expr{cref(3, i64), call("add", i64, cref(1, i64), ci(1))},
		Columns: pcols("n,v1", i64, i64)}
	agg := &planner.Aggregate{Input: proj, GroupBy: []planner.Expr{cref(0, i64)},
		Aggs: []*planner.AggCall{{Fn: fn("count"), T: i64}}, Columns: pcols("n,c", i64, i64)}
	left := &planner.Join{Kind: planner.LeftJoin, Left: scanDim(), Right: agg,
		Cond: call("eq", catalog.Bool, cref(0, i64), cref(2, i64)), Columns: pcols("n,name,n2,c", i64, catalog.String, i64, i64)}
	for _, c := range []struct {
		n           planner.Node
		col         int
		scan        *planner.Scan
		scol        int
		costly, ok_ bool
	}{
		{proj, 0, big, 3, false, true},  // a projected column
		{proj, 1, nil, 0, false, false}, // computed
		{agg, 0, big, 3, true, true},    // a group key
		{agg, 1, nil, 0, false, false},  // an aggregate
		{left, 2, nil, 0, false, false}, // the NULL-extended side of a left join
	} {
		s, col, costly, ok := traceColumn(c.n, c.col)
		if s != c.scan || col != c.scol || costly != c.costly || ok != c.ok_ {
			t.Errorf("trace %T col %d: got %v %d %v %v", c.n, c.col, s != nil, col, costly, ok)
		}
	}
	if s, col, costly, ok := traceColumn(left, 0); !ok || !costly || col != 0 || s.Object.Name != "dim" {
		t.Errorf("trace left join col 0: got %v %d %v %v", s, col, costly, ok)
	}
}

// TestFilterOp runs the filter over batches: it keeps the rows whose key
// is in the published table (never NULL keys), passes everything before
// the table is published, and turns itself off once it keeps most rows.
func TestFilterOp(t *testing.T) {
	mem := leakCheck(t)
	hs := newHasher()
	table, err := newKeyTable(hs, []arrow.DataType{tInt64})
	if err != nil {
		t.Fatal(err)
	}
	keys := buildArray(t, mem.Alloc, tInt64, []any{int64(1), int64(3)})
	table.insert([]arrow.Array{keys}, 2, nil)
	keys.Release()
	schema := schemaOf(tInt64, tString)
	rows := [][]any{{int64(1), "a"}, {int64(2), "b"}, {nil, "c"}, {int64(3), "d"}}
	f := &runtimeFilter{}
	// Not published: every row passes.
	equalRows(t, run(t, newFilterOp(source(t, mem, schema, rows, 2), f, []int{0}, mem)), rowsOfTest(rows))
	f.publish(table, []bool{false})
	equalRows(t, run(t, newFilterOp(source(t, mem, schema, rows, 2), f, []int{0}, mem)), []string{"1|a", "3|d"})
	// Null-safe: NULL is a key like any other (absent here).
	f.publish(table, []bool{true})
	equalRows(t, run(t, newFilterOp(source(t, mem, schema, rows, 3), f, []int{0}, mem)), []string{"1|a", "3|d"})
	// A filter that keeps most rows stops filtering.
	f.publish(table, []bool{false})
	many := make([][]any, 0, filterProbeRows+4)
	for i := 0; i < filterProbeRows; i++ {
		many = append(many, []any{int64(1), "x"})
	}
	many = append(many, rows...)
	op := newFilterOp(source(t, mem, schema, many, 4096), f, []int{0}, mem)
	got := run(t, op)
	if !op.off || len(got) != len(many) {
		t.Errorf("off %v, %d rows out of %d", op.off, len(got), len(many))
	}
}
