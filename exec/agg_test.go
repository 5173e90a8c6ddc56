package exec

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
)

// agg is a shorthand for an AggSpec over input columns.
func agg(t testing.TB, s *arrow.Schema, k AggKind, res arrow.DataType, cols ...int) AggSpec {
	a := AggSpec{Kind: k, Type: res}
	for _, c := range cols {
		a.Args = append(a.Args, col(t, s, c))
	}
	return a
}

func TestHashAggregateBasic(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tString, tInt64, tFloat, tBool)
	rows := [][]any{
		{"a", int64(1), 1.5, true},
		{nil, int64(10), nil, false},
		{"b", int64(2), 2.5, true},
		{"a", nil, 3.0, false},
		{"b", int64(4), nil, nil},
		{nil, int64(20), 4.0, true},
		{"a", int64(3), nil, true},
		{"c", nil, nil, nil},
	}
	aggs := []AggSpec{
		agg(t, s, AggCountStar, tInt64),
		agg(t, s, AggCount, tInt64, 1),
		agg(t, s, AggSum, tInt64, 1),
		agg(t, s, AggAvg, tFloat, 1),
		agg(t, s, AggMin, tInt64, 1),
		agg(t, s, AggMax, tFloat, 2),
		agg(t, s, AggBoolAnd, tBool, 3),
		agg(t, s, AggBoolOr, tBool, 3),
		agg(t, s, AggFirst, tInt64, 1),
		agg(t, s, AggLast, tFloat, 2),
		agg(t, s, AggMin, tString, 0),
	}
	out := schemaOf(tString, tInt64, tInt64, tInt64, tFloat, tInt64, tFloat, tBool, tBool, tInt64, tFloat, tString)
	for _, size := range []int{1, 3, 8} {
		op := NewHashAggregate(source(t, mem, s, rows, size), []expr2{col(t, s, 0)}, nil, aggs, out, mem)
		got := run(t, op)
		// Groups come out in first-seen order; NULL is a group.
		equalRows(t, got, []string{
			"a|3|2|4|2.0|1|3.0|false|true|1|3.0|a",
			"NULL|2|2|30|15.0|10|4.0|false|true|10|4.0|NULL",
			"b|2|2|6|3.0|2|2.5|true|true|2|2.5|b",
			"c|1|0|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|c",
		})
	}
	if mem.Peak() <= 0 {
		t.Fatalf("peak %d", mem.Peak())
	}
	if mem.Used() != 0 {
		t.Fatalf("used %d after close", mem.Used())
	}
}

func TestHashAggregateEmpty(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	aggs := []AggSpec{
		agg(t, s, AggCountStar, tInt64),
		agg(t, s, AggCount, tInt64, 0),
		agg(t, s, AggSum, tInt64, 0),
		agg(t, s, AggMax, tString, 1),
		agg(t, s, AggApproxCountDistinct, tInt64, 0),
	}
	// No GROUP BY: one row over no input.
	out := schemaOf(tInt64, tInt64, tInt64, tString, tInt64)
	equalRows(t, run(t, NewHashAggregate(source(t, mem, s, nil, 1), nil, nil, aggs, out, mem)),
		[]string{"0|0|NULL|NULL|0"})
	// With GROUP BY: no rows.
	out2 := schemaOf(tString, tInt64, tInt64, tInt64, tString, tInt64)
	equalRows(t, run(t, NewHashAggregate(source(t, mem, s, nil, 1), []expr2{col(t, s, 1)}, nil, aggs, out2, mem)), nil)
	// Scalar aggregate over rows.
	rows := [][]any{{int64(1), "x"}, {nil, "y"}, {int64(5), nil}}
	equalRows(t, run(t, NewHashAggregate(source(t, mem, s, rows, 2), nil, nil, aggs, out, mem)),
		[]string{"3|2|6|y|2"})
}

func TestHashAggregateDistinctFilterOrdered(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tInt64, tString, tString)
	rows := [][]any{
		{int64(1), int64(5), "x", ","},
		{int64(1), int64(5), "y", ";"},
		{int64(1), nil, "z", ","},
		{int64(2), int64(7), nil, ","},
		{int64(1), int64(6), "w", "-"},
		{int64(2), int64(7), "v", ","},
		{int64(2), int64(8), "u", ","},
	}
	cd := agg(t, s, AggCount, tInt64, 1)
	cd.Distinct = true
	sd := agg(t, s, AggSum, tInt64, 1)
	sd.Distinct = true
	cf := agg(t, s, AggCountStar, tInt64)
	cf.Filter = funcEval{dt: tBool, f: func(r []any) any {
		if r[1] == nil {
			return nil
		}
		return r[1].(int64) > 5
	}}
	sa := agg(t, s, AggStringAgg, tString, 2, 3)
	sa.OrderBy = []SortKey{{Expr: col(t, s, 2)}}
	sa2 := agg(t, s, AggStringAgg, tString, 2, 3)
	sa2.OrderBy = []SortKey{{Expr: col(t, s, 2), Desc: true}}
	first := agg(t, s, AggFirst, tString, 2)
	first.OrderBy = []SortKey{{Expr: col(t, s, 2)}}
	sdist := agg(t, s, AggStringAgg, tString, 2, 3)
	sdist.Distinct = true
	out := schemaOf(tInt64, tInt64, tInt64, tInt64, tString, tString, tString, tString)
	for _, size := range []int{1, 2, 7} {
		op := NewHashAggregate(source(t, mem, s, rows, size), []expr2{col(t, s, 0)}, nil,
			[]AggSpec{cd, sd, cf, sa, sa2, first, sdist}, out, mem)
		equalRows(t, run(t, op), []string{
			// string_agg puts each value's own separator before it.
			"1|2|11|1|w,x;y,z|z;y,x-w|w|x;y,z-w",
			"2|2|15|3|u,v|v,u|u|v,u",
		})
	}
}

func TestHashAggregateTypes(t *testing.T) {
	mem := leakCheck(t)
	d := func(v int64) decimal128.Num { return decimal128.FromI64(v) }
	s := schemaOf(tDec(10, 2), tIv, tFloat, tInt32)
	rows := [][]any{
		{d(150), arrow.MonthDayNanoInterval{Months: 1, Days: 0, Nanoseconds: 0}, 1.0, int64(1)},
		{d(-25), arrow.MonthDayNanoInterval{Months: 0, Days: 3, Nanoseconds: 1000}, 2.0, int64(2)},
		{nil, nil, 4.0, int64(2)},
		{d(1), arrow.MonthDayNanoInterval{Days: 1}, 5.0, nil},
	}
	aggs := []AggSpec{
		agg(t, s, AggSum, tDec(38, 2), 0),
		agg(t, s, AggAvg, tDec(14, 6), 0),
		agg(t, s, AggMax, tDec(10, 2), 0),
		agg(t, s, AggSum, tIv, 1),
		agg(t, s, AggAvg, tIv, 1),
		agg(t, s, AggMax, tIv, 1),
		agg(t, s, AggVarSamp, tFloat, 2),
		agg(t, s, AggVarPop, tFloat, 2),
		agg(t, s, AggStddevSamp, tFloat, 2),
		agg(t, s, AggSum, tInt64, 3),
		agg(t, s, AggAvg, tFloat, 3),
	}
	out := schemaOf(tDec(38, 2), tDec(14, 6), tDec(10, 2), tIv, tIv, tIv, tFloat, tFloat, tFloat, tInt64, tFloat)
	got := run(t, NewHashAggregate(source(t, mem, s, rows, 3), nil, nil, aggs, out, mem))
	// avg(1.50, -0.25, 0.01) = 1.26/3 = 0.42; the interval average divides
	// the month into 30-day days: (1 mon 4 days 1us)/3 = 11 days 8:00:00.000000333.
	equalRows(t, got, []string{"126d|420000d|150d|1m4d1000ns|0m11d28800000000333ns|1m0d0ns|3.33333|2.5|1.82574|5|1.66667"})
}

func TestHashAggregateOverflow(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64)
	rows := [][]any{{int64(math.MaxInt64)}, {int64(1)}}
	out := schemaOf(tInt64)
	err := runErr(t, NewHashAggregate(source(t, mem, s, rows, 1), nil, nil, []AggSpec{agg(t, s, AggSum, tInt64, 0)}, out, mem))
	if !errors.Is(err, errBigintRange) {
		t.Fatalf("error %v", err)
	}
	// The average of the same values does not overflow (128-bit sum).
	equalRows(t, run(t, NewHashAggregate(source(t, mem, s, rows, 1), nil, nil, []AggSpec{agg(t, s, AggAvg, tFloat, 0)}, schemaOf(tFloat), mem)),
		[]string{"4.61169e+18"})
}

func TestHashAggregateMemoryLimit(t *testing.T) {
	mem := NewMemory(64 << 10)
	s := schemaOf(tInt64)
	var rows [][]any
	for i := 0; i < 20000; i++ {
		rows = append(rows, []any{int64(i)})
	}
	op := NewHashAggregate(source(t, newMem(), s, rows, 1000), []expr2{col(t, s, 0)}, nil,
		[]AggSpec{agg(t, s, AggCountStar, tInt64)}, schemaOf(tInt64, tInt64), mem)
	err := runErr(t, op)
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "GROUP BY") {
		t.Fatalf("error %v", err)
	}
	if mem.Used() != 0 {
		t.Fatalf("used %d after close", mem.Used())
	}
}

// TestHashAggregateDifferential compares 100k rows of random keys (with
// NULLs, two key columns) with a map-based reference.
func TestHashAggregateDifferential(t *testing.T) {
	mem := leakCheck(t)
	rng := rand.New(rand.NewSource(1))
	s := schemaOf(tInt64, tString, tInt64, tFloat)
	n := 100000
	rows := make([][]any, n)
	type acc struct {
		n, cnt, sum int64
		min, max    any
		fsum        float64
		fcnt        int64
		first       any
		set         map[int64]bool
	}
	ref := map[string]*acc{}
	var order []string
	for i := range rows {
		var k1, k2, x, f any
		if rng.Intn(20) > 0 {
			k1 = int64(rng.Intn(50))
		}
		if rng.Intn(20) > 0 {
			k2 = fmt.Sprintf("s%d", rng.Intn(30))
		}
		if rng.Intn(10) > 0 {
			x = int64(rng.Intn(1000) - 500)
		}
		if rng.Intn(10) > 0 {
			f = float64(rng.Intn(100)) / 4
		}
		rows[i] = []any{k1, k2, x, f}
		key := fmtValue(k1) + "|" + fmtValue(k2)
		a := ref[key]
		if a == nil {
			a = &acc{set: map[int64]bool{}}
			ref[key] = a
			order = append(order, key)
		}
		a.n++
		if x != nil {
			v := x.(int64)
			a.cnt++
			a.sum += v
			a.set[v] = true
			if a.min == nil || v < a.min.(int64) {
				a.min = v
			}
			if a.first == nil {
				a.first = v
			}
		}
		if f != nil {
			a.fsum += f.(float64)
			a.fcnt++
			if a.max == nil || f.(float64) > a.max.(float64) {
				a.max = f
			}
		}
	}
	var want []string
	for _, k := range order {
		a := ref[k]
		var sum, avg any
		if a.cnt > 0 {
			sum = a.sum
		}
		if a.fcnt > 0 {
			avg = a.fsum / float64(a.fcnt)
		}
		want = append(want, strings.Join([]string{k, fmtValue(a.n), fmtValue(a.cnt), fmtValue(sum), fmtValue(a.min),
			fmtValue(a.max), fmtValue(avg), fmtValue(a.first), fmtValue(int64(len(a.set)))}, "|"))
	}
	cd := agg(t, s, AggCount, tInt64, 2)
	cd.Distinct = true
	aggs := []AggSpec{
		agg(t, s, AggCountStar, tInt64), agg(t, s, AggCount, tInt64, 2), agg(t, s, AggSum, tInt64, 2),
		agg(t, s, AggMin, tInt64, 2), agg(t, s, AggMax, tFloat, 3), agg(t, s, AggAvg, tFloat, 3),
		agg(t, s, AggFirst, tInt64, 2), cd,
	}
	out := schemaOf(tInt64, tString, tInt64, tInt64, tInt64, tInt64, tFloat, tFloat, tInt64, tInt64)
	got := run(t, NewHashAggregate(source(t, mem, s, rows, 4096), []expr2{col(t, s, 0), col(t, s, 1)}, nil, aggs, out, mem))
	equalRows(t, got, want)
}

func TestApproxCountDistinct(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	var rows [][]any
	// Group 0: 100 distinct values (exact in the sparse form); group 1:
	// 200000 rows over 50000 distinct strings.
	for i := 0; i < 1000; i++ {
		rows = append(rows, []any{int64(0), fmt.Sprint(i % 100)})
	}
	for i := 0; i < 200000; i++ {
		rows = append(rows, []any{int64(1), fmt.Sprintf("v%d", i%50000)})
	}
	rows = append(rows, []any{int64(0), nil})
	got := run(t, NewHashAggregate(source(t, mem, s, rows, 8192), []expr2{col(t, s, 0)}, nil,
		[]AggSpec{agg(t, s, AggApproxCountDistinct, tInt64, 1)}, schemaOf(tInt64, tInt64), mem))
	if got[0] != "0|100" {
		t.Fatalf("small group: %s", got[0])
	}
	var g, est int64
	fmt.Sscanf(got[1], "%d|%d", &g, &est)
	if math.Abs(float64(est)-50000)/50000 > 0.03 {
		t.Fatalf("estimate %d for 50000 distinct values", est)
	}
}

func TestGroupWindows(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tString, tTS, tInt64)
	const sec = int64(1e6)
	rows := [][]any{
		{"a", 10 * sec, int64(1)},
		{"a", 65 * sec, int64(2)},
		{"b", 70 * sec, int64(3)},
		{"a", 59 * sec, int64(4)},
		{"a", nil, int64(5)},
		{"a", 200 * sec, int64(6)},
		{"b", 75 * sec, int64(7)},
	}
	out := schemaOf(tString, tTS, tTS, tInt64, tInt64)
	aggs := []AggSpec{agg(t, s, AggCountStar, tInt64), agg(t, s, AggSum, tInt64, 2)}
	win := func(k GroupWindowKind, size, slide, gap int64) *GroupWindow {
		return &GroupWindow{Kind: k, Time: col(t, s, 1), Size: size * sec, Slide: slide * sec, Gap: gap * sec}
	}
	tumble := run(t, NewHashAggregate(source(t, mem, s, rows, 2), []expr2{col(t, s, 0)}, win(WindowTumble, 60, 0, 0), aggs, out, mem))
	equalRows(t, sorted(tumble), []string{
		"a|0|60000000|2|5",
		"a|180000000|240000000|1|6",
		"a|60000000|120000000|1|2",
		"b|60000000|120000000|2|10",
	})
	hop := run(t, NewHashAggregate(source(t, mem, s, rows, 3), []expr2{col(t, s, 0)}, win(WindowHop, 60, 30, 0), aggs, out, mem))
	equalRows(t, sorted(hop), []string{
		"a|-30000000|30000000|1|1",
		"a|0|60000000|2|5",
		"a|150000000|210000000|1|6",
		"a|180000000|240000000|1|6",
		"a|30000000|90000000|2|6",
		"a|60000000|120000000|1|2",
		"b|30000000|90000000|2|10",
		"b|60000000|120000000|2|10",
	})
	session := run(t, NewHashAggregate(source(t, mem, s, rows, 4), []expr2{col(t, s, 0)}, win(WindowSession, 0, 0, 30), aggs, out, mem))
	equalRows(t, sorted(session), []string{
		"a|10000000|40000000|1|1",
		"a|200000000|230000000|1|6",
		"a|59000000|95000000|2|6",
		"b|70000000|105000000|2|10",
	})
}
