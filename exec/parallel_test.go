package exec

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// partTables is a PartScanFactory over in-memory tables: the parts of a
// split scan take batches of 7 rows from a shared cursor, first come first
// served, so which worker reads which rows changes from run to run.
type partTables struct {
	*memTables
	splits int
}

func (p *partTables) OpenScanParts(ctx context.Context, obj *catalog.Object, columns []int, _ ScanFilters, n int) ([]Operator, bool, error) {
	one, err := p.OpenScan(ctx, obj, columns)
	if err != nil {
		return nil, false, err
	}
	recs, err := Collect(ctx, one)
	if err != nil {
		return nil, false, err
	}
	var batches []arrow.Record
	for _, r := range recs {
		for lo := int64(0); lo < r.NumRows(); lo += 7 {
			batches = append(batches, r.NewSlice(lo, min(lo+7, r.NumRows())))
		}
		r.Release()
	}
	sh := &sharedBatches{recs: batches, left: n}
	parts := make([]Operator, n)
	for i := range parts {
		parts[i] = &sharedPart{sh: sh, schema: one.Schema()}
	}
	p.splits++
	return parts, true, nil
}

type sharedBatches struct {
	mu   sync.Mutex
	recs []arrow.Record
	next int
	left int
}

type sharedPart struct {
	sh     *sharedBatches
	schema *arrow.Schema
}

func (s *sharedPart) Schema() *arrow.Schema      { return s.schema }
func (s *sharedPart) Open(context.Context) error { return nil }
func (s *sharedPart) Next(context.Context) (Batch, bool, error) {
	s.sh.mu.Lock()
	defer s.sh.mu.Unlock()
	if s.sh.next >= len(s.sh.recs) {
		return Batch{}, false, nil
	}
	r := s.sh.recs[s.sh.next]
	s.sh.recs[s.sh.next] = nil
	s.sh.next++
	return Batch{Kind: BatchData, Rec: r}, true, nil
}
func (s *sharedPart) Close() error {
	s.sh.mu.Lock()
	defer s.sh.mu.Unlock()
	s.sh.left--
	if s.sh.left == 0 {
		for _, r := range s.sh.recs[s.sh.next:] {
			r.Release()
		}
	}
	return nil
}

// bigRow is a row of the table "big": k text (NULL every 17th), v BIGINT
// (NULL every 11th), d DECIMAL(12,2), n BIGINT (the join key).
type bigRow struct {
	k    *string
	v    *int64
	d    int64 // unscaled
	n    int64
	hasV bool
}

func bigRows() []bigRow {
	var rows []bigRow
	for i := 0; i < 1000; i++ {
		r := bigRow{d: int64(i*37%1000) - 300, n: int64(i * 7 % 100)}
		if i%17 != 0 {
			k := fmt.Sprintf("k%d", i%13)
			r.k = &k
		}
		if i%11 != 0 {
			v := int64(i%50 - 20)
			r.v, r.hasV = &v, true
		}
		rows = append(rows, r)
	}
	return rows
}

func newPartTables(t *testing.T, mem *Memory) *partTables {
	big := &memTable{schema: arrow.NewSchema([]arrow.Field{{Name: "k", Type: tString, Nullable: true},
		{Name: "v", Type: tInt64, Nullable: true}, {Name: "d", Type: tDec(12, 2)}, {Name: "n", Type: tInt64}}, nil)}
	for _, r := range bigRows() {
		var k, v any
		if r.k != nil {
			k = *r.k
		}
		if r.v != nil {
			v = *r.v
		}
		big.rows = append(big.rows, []any{k, v, decimal128.FromI64(r.d), r.n})
	}
	dim := &memTable{schema: arrow.NewSchema([]arrow.Field{{Name: "n", Type: tInt64}, {Name: "name", Type: tString}}, nil)}
	for i := 0; i < 80; i++ {
		dim.rows = append(dim.rows, []any{int64(i % 60), fmt.Sprintf("dim%d", i)})
	}
	return &partTables{memTables: &memTables{t: t, mem: mem, opened: map[string]int{},
		tables: map[string]*memTable{"big": big, "dim": dim}}}
}

var tDec122 = catalog.Decimal(12, 2)

func scanBig() *planner.Scan {
	return &planner.Scan{Object: &catalog.Object{Name: "big"}, Alias: "big",
		Columns: pcols("k,v,d,n", catalog.String, catalog.Int64, tDec122, catalog.Int64)}
}

func scanDim() *planner.Scan {
	return &planner.Scan{Object: &catalog.Object{Name: "dim"}, Alias: "dim",
		Columns: pcols("n,name", catalog.Int64, catalog.String)}
}

// runThreads builds plan with the given threads and returns the root
// operator's type and the rows.
func runThreads(t *testing.T, mem *Memory, tabs *partTables, plan planner.Node, threads int) (string, []string) {
	t.Helper()
	op, err := Build(context.Background(), plan, &BuildEnv{Mem: mem, Scans: tabs, Threads: threads})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return fmt.Sprintf("%T", op.(*guard).op), run(t, op)
}

// threadCounts are the worker counts the parallel tests run with.
var threadCounts = []int{1, 2, 4, 7}

func decText(unscaled *big.Int) string { return unscaled.String() + "d" }

func TestParallelGatherFilterProject(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	// SELECT v * 2, n FROM big WHERE v > 10
	plan := &planner.Project{
		Input:   &planner.Filter{Input: scanBig(), Cond: call("gt", catalog.Bool, cref(1, catalog.Int64), ci(10))},
		Exprs:   []planner.Expr{call("mul", catalog.Int64, cref(1, catalog.Int64), ci(2)), cref(3, catalog.Int64)},
		Columns: pcols("v2,n", catalog.Int64, catalog.Int64),
	}
	var want []string
	for _, r := range bigRows() {
		if r.v != nil && *r.v > 10 {
			want = append(want, fmt.Sprintf("%d|%d", *r.v*2, r.n))
		}
	}
	for _, th := range threadCounts {
		root, got := runThreads(t, mem, tabs, plan, th)
		wantRoot := "*exec.Gather"
		if th == 1 {
			wantRoot = "*exec.Project"
		}
		if root != wantRoot {
			t.Errorf("threads %d: root %s, want %s", th, root, wantRoot)
		}
		equalRows(t, sorted(got), sorted(want))
	}
}

func TestParallelGatherError(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	// SELECT 100 / v FROM big: v is 0 in some rows.
	plan := &planner.Project{
		Input:   scanBig(),
		Exprs:   []planner.Expr{call("intdiv", catalog.Int64, ci(100), cref(1, catalog.Int64))},
		Columns: pcols("q", catalog.Int64),
	}
	for _, th := range threadCounts {
		op, err := Build(context.Background(), plan, &BuildEnv{Mem: mem, Scans: tabs, Threads: th})
		if err != nil {
			t.Fatal(err)
		}
		if err := runErr(t, op); !strings.Contains(err.Error(), "division by zero") {
			t.Errorf("threads %d: error %v, want division by zero", th, err)
		}
	}
}

func TestParallelAggregateExact(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	// SELECT k, count(*), count(v), sum(v), sum(d), avg(d), min(v), max(d), avg(v)
	// FROM big WHERE n <> 3 GROUP BY k
	i64, dec := catalog.Int64, tDec122
	avgDec := catalog.Decimal(16, 6)
	plan := &planner.Aggregate{
		Input:   &planner.Filter{Input: scanBig(), Cond: call("ne", catalog.Bool, cref(3, i64), ci(3))},
		GroupBy: []planner.Expr{cref(0, catalog.String)},
		Aggs: []*planner.AggCall{
			{Fn: fn("count"), T: i64},
			{Fn: fn("count"), Args: []planner.Expr{cref(1, i64)}, T: i64},
			{Fn: fn("sum"), Args: []planner.Expr{cref(1, i64)}, T: i64},
			{Fn: fn("sum"), Args: []planner.Expr{cref(2, dec)}, T: catalog.Decimal(38, 2)},
			{Fn: fn("avg"), Args: []planner.Expr{cref(2, dec)}, T: avgDec},
			{Fn: fn("min"), Args: []planner.Expr{cref(1, i64)}, T: i64},
			{Fn: fn("max"), Args: []planner.Expr{cref(2, dec)}, T: dec},
			{Fn: fn("avg"), Args: []planner.Expr{cref(1, i64)}, T: catalog.Float64},
		},
		Columns: pcols("k,c,cv,sv,sd,ad,mv,md,av", catalog.String, i64, i64, i64, catalog.Decimal(38, 2), avgDec, i64, dec, catalog.Float64),
	}
	type acc struct {
		c, cv, sv, sd, mv, md int64
		hasV                  bool
		hasD                  bool
	}
	groups := map[string]*acc{}
	for _, r := range bigRows() {
		if r.n == 3 {
			continue
		}
		key := "NULL"
		if r.k != nil {
			key = *r.k
		}
		a := groups[key]
		if a == nil {
			a = &acc{}
			groups[key] = a
		}
		a.c++
		a.sd += r.d
		if !a.hasD || r.d > a.md {
			a.md, a.hasD = r.d, true
		}
		if r.v != nil {
			a.cv++
			a.sv += *r.v
			if !a.hasV || *r.v < a.mv {
				a.mv, a.hasV = *r.v, true
			}
		}
	}
	var want []string
	for k, a := range groups {
		// avg(d) at scale 6, rounded half away from zero: unscaled d*10^4/c.
		num := new(big.Int).Mul(big.NewInt(a.sd), big.NewInt(10000))
		q, m := new(big.Int).QuoRem(num, big.NewInt(a.c), new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(big.NewInt(a.c)) >= 0 {
			q.Add(q, big.NewInt(int64(num.Sign())))
		}
		want = append(want, fmt.Sprintf("%s|%d|%d|%d|%dd|%s|%d|%dd|%s", k, a.c, a.cv, a.sv, a.sd, decText(q), a.mv, a.md,
			fmtValue(float64(a.sv)/float64(a.cv))))
	}
	for _, th := range threadCounts {
		root, got := runThreads(t, mem, tabs, plan, th)
		wantRoot := "*exec.ParallelAggregate"
		if th == 1 {
			wantRoot = "*exec.HashAggregate"
		}
		if root != wantRoot {
			t.Errorf("threads %d: root %s, want %s", th, root, wantRoot)
		}
		equalRows(t, sorted(got), sorted(want))
	}

	// Without GROUP BY, and over no rows at all (n > 1000).
	scalar := &planner.Aggregate{Input: plan.Input, Aggs: plan.Aggs[:4],
		Columns: pcols("c,cv,sv,sd", i64, i64, i64, catalog.Decimal(38, 2))}
	var c, cv, sv, sd int64
	for _, a := range groups {
		c, cv, sv, sd = c+a.c, cv+a.cv, sv+a.sv, sd+a.sd
	}
	empty := &planner.Aggregate{Input: &planner.Filter{Input: scanBig(), Cond: call("gt", catalog.Bool, cref(3, i64), ci(1000))},
		Aggs: plan.Aggs[:4], Columns: scalar.Columns}
	for _, th := range threadCounts {
		_, got := runThreads(t, mem, tabs, scalar, th)
		equalRows(t, got, []string{fmt.Sprintf("%d|%d|%d|%dd", c, cv, sv, sd)})
		_, got = runThreads(t, mem, tabs, empty, th)
		equalRows(t, got, []string{"0|0|NULL|NULL"})
	}
}

func TestParallelJoin(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	i64 := catalog.Int64
	cond := call("eq", catalog.Bool, cref(3, i64), cref(4, i64)) // big.n = dim.n
	dimByN := map[int64][]string{}
	for i := 0; i < 80; i++ {
		dimByN[int64(i%60)] = append(dimByN[int64(i%60)], fmt.Sprintf("dim%d", i))
	}
	for _, kind := range []planner.JoinKind{planner.InnerJoin, planner.LeftJoin, planner.SemiJoin, planner.AntiJoin} {
		cols := pcols("k,v,d,n,n2,name", catalog.String, i64, tDec122, i64, i64, catalog.String)
		if kind == planner.SemiJoin || kind == planner.AntiJoin {
			cols = cols[:4]
		}
		// Only the key columns of the output, to compare: n and the name.
		join := &planner.Join{Kind: kind, Left: scanBig(), Right: scanDim(), Cond: cond, Columns: cols}
		exprs := []planner.Expr{cref(3, i64)}
		out := pcols("n", i64)
		if len(cols) == 6 {
			exprs = append(exprs, cref(5, catalog.String))
			out = pcols("n,name", i64, catalog.String)
		}
		plan := &planner.Project{Input: join, Exprs: exprs, Columns: out}
		var want []string
		for _, r := range bigRows() {
			names := dimByN[r.n]
			switch kind {
			case planner.InnerJoin:
				for _, nm := range names {
					want = append(want, fmt.Sprintf("%d|%s", r.n, nm))
				}
			case planner.LeftJoin:
				for _, nm := range names {
					want = append(want, fmt.Sprintf("%d|%s", r.n, nm))
				}
				if len(names) == 0 {
					want = append(want, fmt.Sprintf("%d|NULL", r.n))
				}
			case planner.SemiJoin:
				if len(names) > 0 {
					want = append(want, fmt.Sprint(r.n))
				}
			case planner.AntiJoin:
				if len(names) == 0 {
					want = append(want, fmt.Sprint(r.n))
				}
			}
		}
		for _, th := range threadCounts {
			before := tabs.splits
			_, got := runThreads(t, mem, tabs, plan, th)
			if split := tabs.splits > before; split != (th > 1) {
				t.Errorf("%v join, threads %d: probe side split %v", kind, th, split)
			}
			if tabs.opened["dim"] == 0 {
				t.Fatalf("the build side was never read")
			}
			equalRows(t, sorted(got), sorted(want))
		}
	}
}

// TestParallelJoinTracked runs in parallel the joins that mark build rows:
// SEMI and ANTI joins built on their left input (dim, the rows they
// output; big is the probe side, split), with and without a residual, and
// RIGHT and FULL joins. The last probe to finish emits the marked rows.
func TestParallelJoinTracked(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	i64 := catalog.Int64
	vOf := map[int64][]*int64{} // big's v values by n
	for _, r := range bigRows() {
		vOf[r.n] = append(vOf[r.n], r.v)
	}
	for _, kind := range []planner.JoinKind{planner.SemiJoin, planner.AntiJoin} {
		for _, residual := range []bool{false, true} {
			// dim.n = big.n [AND big.v > 10]
			cond := call("eq", catalog.Bool, cref(0, i64), cref(5, i64))
			if residual {
				cond = call("and", catalog.Bool, cond, call("gt", catalog.Bool, cref(3, i64), ci(10)))
			}
			join := &planner.Join{Kind: kind, Left: scanDim(), Right: scanBig(), Cond: cond,
				Columns: pcols("n,name", i64, catalog.String), BuildLeft: true}
			var want []string
			for i := 0; i < 80; i++ {
				n := int64(i % 60)
				found := false
				for _, v := range vOf[n] {
					found = found || !residual || (v != nil && *v > 10)
				}
				if found == (kind == planner.SemiJoin) {
					want = append(want, fmt.Sprintf("%d|dim%d", n, i))
				}
			}
			if residual && (len(want) == 0 || len(want) == 80) {
				t.Fatalf("%v residual=%v: a test that cannot fail (%d rows)", kind, residual, len(want))
			}
			for _, th := range threadCounts {
				before := tabs.splits
				_, got := runThreads(t, mem, tabs, join, th)
				if split := tabs.splits > before; split != (th > 1) {
					t.Errorf("%v join, threads %d: probe side split %v", kind, th, split)
				}
				equalRows(t, sorted(got), sorted(want))
			}
		}
	}
	// dim LEFT JOIN big ON dim.n = big.n AND big.v > 10, built on dim:
	// a RIGHT join of big and dim, its columns put back in order.
	cond := call("and", catalog.Bool, call("eq", catalog.Bool, cref(0, i64), cref(5, i64)),
		call("gt", catalog.Bool, cref(3, i64), ci(10)))
	left := &planner.Join{Kind: planner.LeftJoin, Left: scanDim(), Right: scanBig(), Cond: cond, BuildLeft: true,
		Columns: pcols("n,name,k,v,d,n2", i64, catalog.String, catalog.String, i64, tDec122, i64)}
	plan := &planner.Project{Input: left, Exprs: []planner.Expr{cref(0, i64), cref(1, catalog.String), cref(3, i64)},
		Columns: pcols("n,name,v", i64, catalog.String, i64)}
	var want []string
	for i := 0; i < 80; i++ {
		n := int64(i % 60)
		found := false
		for _, v := range vOf[n] {
			if v != nil && *v > 10 {
				want = append(want, fmt.Sprintf("%d|dim%d|%d", n, i, *v))
				found = true
			}
		}
		if !found {
			want = append(want, fmt.Sprintf("%d|dim%d|NULL", n, i))
		}
	}
	for _, th := range threadCounts {
		before := tabs.splits
		_, got := runThreads(t, mem, tabs, plan, th)
		if split := tabs.splits > before; split != (th > 1) {
			t.Errorf("left join built left, threads %d: probe side split %v", th, split)
		}
		equalRows(t, sorted(got), sorted(want))
	}
	dimByN := map[int64][]string{}
	for i := 0; i < 80; i++ {
		dimByN[int64(i%60)] = append(dimByN[int64(i%60)], fmt.Sprintf("dim%d", i))
	}
	for _, kind := range []planner.JoinKind{planner.RightJoin, planner.FullJoin} {
		// big.n = dim.n AND big.v > 10; output n and name.
		cond := call("and", catalog.Bool, call("eq", catalog.Bool, cref(3, i64), cref(4, i64)),
			call("gt", catalog.Bool, cref(1, i64), ci(10)))
		join := &planner.Join{Kind: kind, Left: scanBig(), Right: scanDim(), Cond: cond,
			Columns: pcols("k,v,d,n,n2,name", catalog.String, i64, tDec122, i64, i64, catalog.String)}
		plan := &planner.Project{Input: join, Exprs: []planner.Expr{cref(3, i64), cref(5, catalog.String)},
			Columns: pcols("n,name", i64, catalog.String)}
		var want []string
		matched := map[string]bool{}
		for _, r := range bigRows() {
			names := dimByN[r.n]
			if r.v == nil || *r.v <= 10 {
				names = nil
			}
			for _, nm := range names {
				want = append(want, fmt.Sprintf("%d|%s", r.n, nm))
				matched[nm] = true
			}
			if len(names) == 0 && kind == planner.FullJoin {
				want = append(want, fmt.Sprintf("%d|NULL", r.n))
			}
		}
		for i := 0; i < 80; i++ {
			if nm := fmt.Sprintf("dim%d", i); !matched[nm] {
				want = append(want, "NULL|"+nm)
			}
		}
		for _, th := range threadCounts {
			before := tabs.splits
			_, got := runThreads(t, mem, tabs, plan, th)
			if split := tabs.splits > before; split != (th > 1) {
				t.Errorf("%v join, threads %d: probe side split %v", kind, th, split)
			}
			equalRows(t, sorted(got), sorted(want))
		}
	}
}

func TestParallelMergeSort(t *testing.T) {
	mem := leakCheck(t)
	tabs := newPartTables(t, mem)
	// SELECT v, d FROM big ORDER BY v DESC NULLS FIRST, d (d is unique: a total order)
	plan := &planner.Sort{
		Input: &planner.Project{Input: scanBig(), Exprs: []planner.Expr{cref(1, catalog.Int64), cref(2, tDec122)},
			Columns: pcols("v,d", catalog.Int64, tDec122)},
		Keys: []planner.SortKey{{Expr: cref(0, catalog.Int64), Desc: true, NullsFirst: true}, {Expr: cref(1, tDec122)}},
	}
	rows := bigRows()
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if (a.v == nil) != (b.v == nil) {
			return a.v == nil
		}
		if a.v != nil && *a.v != *b.v {
			return *a.v > *b.v
		}
		return a.d < b.d
	})
	var want []string
	for _, r := range rows {
		v := "NULL"
		if r.v != nil {
			v = fmt.Sprint(*r.v)
		}
		want = append(want, fmt.Sprintf("%s|%dd", v, r.d))
	}
	for _, th := range threadCounts {
		root, got := runThreads(t, mem, tabs, plan, th)
		wantRoot := "*exec.MergeSort"
		if th == 1 {
			wantRoot = "*exec.Sort"
		}
		if root != wantRoot {
			t.Errorf("threads %d: root %s, want %s", th, root, wantRoot)
		}
		equalRows(t, got, want)
	}
}
