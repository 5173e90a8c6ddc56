package exec

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// memTables is a ScanFactory over in-memory tables; it counts the scans
// it opens.
type memTables struct {
	t      testing.TB
	mem    *Memory
	tables map[string]*memTable
	opened map[string]int
}

type memTable struct {
	schema *arrow.Schema
	rows   [][]any
}

func (m *memTables) OpenScan(_ context.Context, obj *catalog.Object, columns []int) (Operator, error) {
	tab, ok := m.tables[obj.Name]
	if !ok {
		return nil, fmt.Errorf("no table %s", obj.Name)
	}
	m.opened[obj.Name]++
	fs := make([]arrow.Field, len(columns))
	rows := make([][]any, len(tab.rows))
	for i, c := range columns {
		fs[i] = tab.schema.Field(c)
	}
	for r, row := range tab.rows {
		rows[r] = make([]any, len(columns))
		for i, c := range columns {
			rows[r][i] = row[c]
		}
	}
	return source(m.t, m.mem, arrow.NewSchema(fs, nil), rows, 2), nil
}

// A small plan-writing kit.
var reg = planner.NewRegistry()

func fn(name string) *planner.Func {
	f, ok := reg.Lookup(name)
	if !ok {
		panic(name)
	}
	return f
}

func cref(i int, t catalog.Type) *planner.ColRef {
	return &planner.ColRef{Index: i, Name: fmt.Sprintf("c%d", i), T: t}
}
func ci(v int64) *planner.Const { return &planner.Const{Value: v, T: catalog.Int64} }
func call(name string, t catalog.Type, args ...planner.Expr) *planner.Call {
	return &planner.Call{Fn: fn(name), Name: name, Args: args, T: t}
}

func pcols(names string, types ...catalog.Type) []planner.Column {
	var cs []planner.Column
	for i, n := range strings.Split(names, ",") {
		cs = append(cs, planner.Column{Name: n, Type: types[i], Nullable: true})
	}
	return cs
}

func newTables(t *testing.T, mem *Memory) *memTables {
	i64, str := tInt64, tString
	return &memTables{t: t, mem: mem, opened: map[string]int{}, tables: map[string]*memTable{
		"t": {schema: arrow.NewSchema([]arrow.Field{{Name: "k", Type: str, Nullable: true}, {Name: "v", Type: i64, Nullable: true}}, nil),
			rows: [][]any{{"a", int64(1)}, {"b", int64(-2)}, {"a", int64(3)}, {nil, int64(4)}, {"c", nil}, {"b", int64(5)}, {"a", int64(0)}}},
		"u": {schema: arrow.NewSchema([]arrow.Field{{Name: "k", Type: str, Nullable: true}, {Name: "w", Type: i64, Nullable: true}}, nil),
			rows: [][]any{{"a", int64(2)}, {"b", int64(10)}, {"d", int64(7)}, {nil, int64(1)}, {"a", int64(0)}}},
	}}
}

func scanT() *planner.Scan {
	return &planner.Scan{Object: &catalog.Object{Name: "t"}, Alias: "t", Columns: pcols("k,v", catalog.String, catalog.Int64)}
}

func scanU() *planner.Scan {
	return &planner.Scan{Object: &catalog.Object{Name: "u"}, Alias: "u", Columns: pcols("k,w", catalog.String, catalog.Int64)}
}

func runPlan(t *testing.T, mem *Memory, tabs *memTables, plan planner.Node) []string {
	t.Helper()
	env := &BuildEnv{Mem: mem, Scans: tabs}
	op, err := Build(context.Background(), plan, env)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return run(t, op)
}

func TestBuildAggregateSortLimit(t *testing.T) {
	mem := leakCheck(t)
	tabs := newTables(t, mem)
	// SELECT k, count(*), sum(v) FROM t WHERE v > 0 GROUP BY k ORDER BY k DESC NULLS LAST LIMIT 2
	agg := &planner.Aggregate{
		Input:   &planner.Filter{Input: scanT(), Cond: call("gt", catalog.Bool, cref(1, catalog.Int64), ci(0))},
		GroupBy: []planner.Expr{cref(0, catalog.String)},
		Aggs: []*planner.AggCall{
			{Fn: fn("count"), T: catalog.Int64},
			{Fn: fn("sum"), Args: []planner.Expr{cref(1, catalog.Int64)}, T: catalog.Int64},
		},
		Columns: pcols("k,count,sum", catalog.String, catalog.Int64, catalog.Int64),
	}
	sorted := &planner.Sort{Input: agg, Keys: []planner.SortKey{{Expr: cref(0, catalog.String), Desc: true}}}
	plan := &planner.Limit{Input: sorted, Count: ci(2)}
	equalRows(t, runPlan(t, mem, tabs, plan), []string{"b|1|5", "a|2|4"})
	// The same through Sort and Limit with an offset.
	plan.Offset = ci(1)
	equalRows(t, runPlan(t, mem, tabs, plan), []string{"a|2|4", "NULL|1|4"})
	// LIMIT without ORDER BY.
	equalRows(t, runPlan(t, mem, tabs, &planner.Limit{Input: scanT(), Count: ci(1), Offset: ci(1)}), []string{"b|-2"})
}

func TestBuildJoinKeysAndResidual(t *testing.T) {
	mem := leakCheck(t)
	tabs := newTables(t, mem)
	// SELECT * FROM t LEFT JOIN u ON u.k = t.k AND t.v < u.w
	cond := call("and", catalog.Bool,
		call("eq", catalog.Bool, cref(2, catalog.String), cref(0, catalog.String)),
		call("lt", catalog.Bool, cref(1, catalog.Int64), cref(3, catalog.Int64)))
	join := &planner.Join{Kind: planner.LeftJoin, Left: scanT(), Right: scanU(), Cond: cond,
		Columns: pcols("k,v,k,w", catalog.String, catalog.Int64, catalog.String, catalog.Int64)}
	keys, residual := splitJoinCond(cond, 2)
	if len(keys) != 1 || residual == nil || residual.String() != "(c1#1 < c3#3)" {
		t.Fatalf("keys %v residual %v", keys, residual)
	}
	got := sorted(runPlan(t, mem, tabs, join))
	equalRows(t, got, []string{"NULL|4|NULL|NULL", "a|0|a|2", "a|1|a|2", "a|3|NULL|NULL", "b|-2|b|10", "b|5|b|10", "c|NULL|NULL|NULL"})
	// A condition without equi-keys: nested loops; CROSS without one.
	join.Kind = planner.InnerJoin
	join.Cond = call("gt", catalog.Bool, cref(1, catalog.Int64), cref(3, catalog.Int64))
	got = sorted(runPlan(t, mem, tabs, join))
	equalRows(t, got, []string{"NULL|4|NULL|1", "NULL|4|a|0", "NULL|4|a|2", "a|1|a|0", "a|3|NULL|1", "a|3|a|0", "a|3|a|2", "b|5|NULL|1", "b|5|a|0", "b|5|a|2"})
	join.Kind, join.Cond = planner.CrossJoin, nil
	if n := len(runPlan(t, mem, tabs, join)); n != 35 {
		t.Fatalf("cross join: %d rows", n)
	}
	// Semi join: t rows with a u row of the same key.
	semi := &planner.Join{Kind: planner.SemiJoin, Left: scanT(), Right: scanU(),
		Cond: call("eq", catalog.Bool, cref(0, catalog.String), cref(2, catalog.String)), Columns: pcols("k,v", catalog.String, catalog.Int64)}
	equalRows(t, runPlan(t, mem, tabs, semi), []string{"a|1", "b|-2", "a|3", "b|5", "a|0"})
}

func TestBuildCTESharedOnce(t *testing.T) {
	mem := leakCheck(t)
	tabs := newTables(t, mem)
	// WITH c AS (SELECT k, v FROM t WHERE v IS NOT NULL)
	// SELECT * FROM c AS a JOIN c AS b ON a.k = b.k AND a.v < b.v
	cte := &planner.Filter{Input: scanT(), Cond: call("not", catalog.Bool, call("is_null", catalog.Bool, cref(1, catalog.Int64)))}
	ref := func(alias string) *planner.CTERef {
		return &planner.CTERef{Name: "c", Alias: alias, Plan: cte, Columns: pcols("k,v", catalog.String, catalog.Int64)}
	}
	join := &planner.Join{Kind: planner.InnerJoin, Left: ref("a"), Right: ref("b"),
		Cond: call("and", catalog.Bool,
			call("eq", catalog.Bool, cref(0, catalog.String), cref(2, catalog.String)),
			call("lt", catalog.Bool, cref(1, catalog.Int64), cref(3, catalog.Int64))),
		Columns: pcols("k,v,k,v", catalog.String, catalog.Int64, catalog.String, catalog.Int64)}
	got := sorted(runPlan(t, mem, tabs, join))
	equalRows(t, got, []string{"a|0|a|1", "a|0|a|3", "a|1|a|3", "b|-2|b|5"})
	if tabs.opened["t"] != 1 {
		t.Fatalf("t scanned %d times, want 1", tabs.opened["t"])
	}
	// A CTE referenced once is inlined.
	tabs.opened["t"] = 0
	runPlan(t, mem, tabs, ref("x"))
	if tabs.opened["t"] != 1 {
		t.Fatalf("t scanned %d times", tabs.opened["t"])
	}
	if mem.Used() != 0 {
		t.Fatalf("used %d", mem.Used())
	}
}

func TestBuildSubqueries(t *testing.T) {
	mem := leakCheck(t)
	tabs := newTables(t, mem)
	// SELECT k, v, (SELECT max(w) FROM u) FROM t: uncorrelated, computed once.
	maxW := &planner.Aggregate{Input: scanU(), Aggs: []*planner.AggCall{{Fn: fn("max"), Args: []planner.Expr{cref(1, catalog.Int64)}, T: catalog.Int64}},
		Columns: pcols("max", catalog.Int64)}
	scalar := &planner.Subquery{Kind: planner.SubScalar, Plan: maxW, T: catalog.Int64, ID: 1}
	proj := &planner.Project{Input: scanT(), Exprs: []planner.Expr{cref(0, catalog.String), scalar},
		Columns: pcols("k,m", catalog.String, catalog.Int64)}
	equalRows(t, runPlan(t, mem, tabs, proj), []string{"a|10", "b|10", "a|10", "NULL|10", "c|10", "b|10", "a|10"})
	if tabs.opened["u"] != 1 {
		t.Fatalf("u scanned %d times, want 1", tabs.opened["u"])
	}
	// SELECT k, v FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.k AND u.w > t.v): correlated.
	inner := &planner.Filter{Input: scanU(), Cond: call("and", catalog.Bool,
		call("eq", catalog.Bool, cref(0, catalog.String), &planner.OuterRef{Depth: 1, Index: 0, Name: "k", T: catalog.String}),
		call("gt", catalog.Bool, cref(1, catalog.Int64), &planner.OuterRef{Depth: 1, Index: 1, Name: "v", T: catalog.Int64}))}
	exists := &planner.Subquery{Kind: planner.SubExists, Plan: inner, Correlated: true, T: catalog.Bool, ID: 2}
	equalRows(t, runPlan(t, mem, tabs, &planner.Filter{Input: scanT(), Cond: exists}), []string{"a|1", "b|-2", "b|5", "a|0"})
	// NOT EXISTS and a nested correlated subquery (depth 2): rows of t for
	// which no u row has key k and a w above every... here: above the
	// largest v of t with that key.
	maxV := &planner.Aggregate{
		Input: &planner.Filter{Input: scanT(), Cond: call("eq", catalog.Bool, cref(0, catalog.String), &planner.OuterRef{Depth: 2, Index: 0, Name: "k", T: catalog.String})},
		Aggs:  []*planner.AggCall{{Fn: fn("max"), Args: []planner.Expr{cref(1, catalog.Int64)}, T: catalog.Int64}}, Columns: pcols("max", catalog.Int64)}
	inner2 := &planner.Filter{Input: scanU(), Cond: call("and", catalog.Bool,
		call("eq", catalog.Bool, cref(0, catalog.String), &planner.OuterRef{Depth: 1, Index: 0, Name: "k", T: catalog.String}),
		call("gt", catalog.Bool, cref(1, catalog.Int64), &planner.Subquery{Kind: planner.SubScalar, Plan: maxV, Correlated: true, T: catalog.Int64, ID: 4}))}
	notExists := &planner.Subquery{Kind: planner.SubExists, Not: true, Plan: inner2, Correlated: true, T: catalog.Bool, ID: 3}
	equalRows(t, runPlan(t, mem, tabs, &planner.Filter{Input: scanT(), Cond: notExists}), []string{"a|1", "a|3", "NULL|4", "c|NULL", "a|0"})
}

func TestBuildValuesSetOpWindow(t *testing.T) {
	mem := leakCheck(t)
	tabs := newTables(t, mem)
	vals := &planner.Values{Rows: [][]planner.Expr{
		{&planner.Const{Value: "a", T: catalog.String}, ci(1)},
		{&planner.Const{Value: "z", T: catalog.String}, ci(9)},
		{&planner.Const{T: catalog.String}, ci(4)},
	}, Columns: pcols("k,v", catalog.String, catalog.Int64)}
	for _, c := range []struct {
		kind planner.SetOpKind
		all  bool
		want []string
	}{
		{planner.Union, false, []string{"a|1", "b|-2", "a|3", "NULL|4", "c|NULL", "b|5", "a|0", "z|9"}},
		{planner.Intersect, false, []string{"a|1", "NULL|4"}},
		{planner.Except, true, []string{"b|-2", "a|3", "c|NULL", "b|5", "a|0"}},
	} {
		op := &planner.SetOp{Kind: c.kind, All: c.all, Left: scanT(), Right: vals, Columns: pcols("k,v", catalog.String, catalog.Int64)}
		equalRows(t, runPlan(t, mem, tabs, op), c.want)
	}
	equalRows(t, runPlan(t, mem, tabs, &planner.Distinct{Input: &planner.Project{Input: scanT(),
		Exprs: []planner.Expr{cref(0, catalog.String)}, Columns: pcols("k", catalog.String)}}), []string{"a", "b", "NULL", "c"})
	// row_number() OVER (PARTITION BY k ORDER BY v DESC), sum(v) OVER (PARTITION BY k),
	// group_concat(v) OVER (PARTITION BY k ORDER BY v DESC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
	part := []planner.Expr{cref(0, catalog.String)}
	order := []planner.SortKey{{Expr: cref(1, catalog.Int64), Desc: true, NullsFirst: true}}
	win := &planner.Window{Input: scanT(), Funcs: []*planner.WindowFunc{
		{Fn: fn("row_number"), PartitionBy: part, OrderBy: order, T: catalog.Int64},
		{Fn: fn("sum"), Args: []planner.Expr{cref(1, catalog.Int64)}, PartitionBy: part, T: catalog.Int64},
		{Fn: fn("group_concat"), Args: []planner.Expr{cref(1, catalog.Int64)}, PartitionBy: part, OrderBy: order, T: catalog.String,
			Frame: &planner.Frame{Mode: planner.FrameRows, Start: planner.FrameBound{Kind: planner.Preceding, Offset: ci(1)}, End: planner.FrameBound{Kind: planner.CurrentRow}}},
	}, Columns: pcols("k,v,rn,s,g", catalog.String, catalog.Int64, catalog.Int64, catalog.Int64, catalog.String)}
	equalRows(t, runPlan(t, mem, tabs, win), []string{
		"a|1|2|4|3,1", "b|-2|2|3|5,-2", "a|3|1|4|3", "NULL|4|1|4|4", "c|NULL|1|NULL|NULL", "b|5|1|3|5", "a|0|3|4|1,0",
	})
}

func TestBuildErrors(t *testing.T) {
	mem := leakCheck(t)
	tabs := newTables(t, mem)
	env := &BuildEnv{Mem: mem, Scans: tabs}
	_, err := Build(context.Background(), &planner.Scan{Object: &catalog.Object{Name: "nope"}, Columns: pcols("k", catalog.String)}, env)
	if err == nil || !strings.Contains(err.Error(), "no table nope") {
		t.Fatalf("error %v", err)
	}
	// A scan whose types differ from the plan's.
	_, err = Build(context.Background(), &planner.Scan{Object: &catalog.Object{Name: "t"}, Columns: pcols("k,v", catalog.Int64, catalog.Int64)}, env)
	if err == nil || !strings.Contains(err.Error(), "the plan expects") {
		t.Fatalf("error %v", err)
	}
	neg := &planner.Limit{Input: scanT(), Count: ci(-1)}
	if _, err := Build(context.Background(), neg, env); err == nil || !strings.Contains(err.Error(), "LIMIT must not be negative") {
		t.Fatalf("error %v", err)
	}
}

// panicScans opens an operator that panics, standing for a bug below the
// API boundary.
type panicScans struct{}

func (panicScans) OpenScan(context.Context, *catalog.Object, []int) (Operator, error) {
	return &panicOp{schema: schemaOf(tString, tInt64)}, nil
}

type panicOp struct{ schema *arrow.Schema }

func (p *panicOp) Schema() *arrow.Schema                     { return p.schema }
func (p *panicOp) Open(context.Context) error                { return nil }
func (p *panicOp) Next(context.Context) (Batch, bool, error) { panic("kaboom") }
func (p *panicOp) Close() error                              { return nil }

func TestBuildGuardsPanics(t *testing.T) {
	mem := leakCheck(t)
	op, err := Build(context.Background(), &planner.Filter{Input: scanT(), Cond: &planner.Const{Value: true, T: catalog.Bool}},
		&BuildEnv{Mem: mem, Scans: panicScans{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err = op.Next(ctx)
	if err == nil || !strings.Contains(err.Error(), "internal error: kaboom") {
		t.Fatalf("error %v", err)
	}
	op.Close()
}

func TestSplitJoinCond(t *testing.T) {
	i64 := catalog.Int64
	// l.a + 1 = r.b AND r.c = l.d AND l.a < r.b AND l.a + r.b = 3 AND l.d = 5,
	// with left columns 0,1 (a, d) and right columns 2,3 (b, c).
	cond := call("and", catalog.Bool,
		call("and", catalog.Bool,
			call("and", catalog.Bool,
				call("eq", catalog.Bool, call("add", i64, cref(0, i64), ci(1)), cref(2, i64)),
				call("is_not_distinct_from", catalog.Bool, cref(3, i64), cref(1, i64))),
			call("lt", catalog.Bool, cref(0, i64), cref(2, i64))),
		call("and", catalog.Bool,
			call("eq", catalog.Bool, call("add", i64, cref(0, i64), cref(2, i64)), ci(3)),
			call("eq", catalog.Bool, cref(1, i64), ci(5))))
	keys, residual := splitJoinCond(cond, 2)
	if len(keys) != 2 {
		t.Fatalf("keys %v", keys)
	}
	if keys[0].left.String() != "(c0#0 + 1)" || keys[0].right.String() != "c2#0" || keys[0].nullSafe {
		t.Fatalf("key 0: %s = %s", keys[0].left, keys[0].right)
	}
	if keys[1].left.String() != "c1#1" || keys[1].right.String() != "c3#1" || !keys[1].nullSafe {
		t.Fatalf("key 1: %s = %s", keys[1].left, keys[1].right)
	}
	if residual.String() != "(((c0#0 < c2#2) AND ((c0#0 + c2#2) = 3)) AND (c1#1 = 5))" {
		t.Fatalf("residual %s", residual)
	}
}
