package exec

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// refCompare orders test values of one type; NULLs are handled by the
// caller.
func refCompare(a, b any) int {
	switch x := a.(type) {
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		y := b.(float64)
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		}
		return cmp.Compare(x, y)
	case string:
		return cmp.Compare(x, b.(string))
	case bool:
		switch {
		case x == b.(bool):
			return 0
		case x:
			return 1
		}
		return -1
	}
	panic(fmt.Sprintf("refCompare %T", a))
}

type refKey struct {
	col        int
	desc       bool
	nullsFirst bool
}

// refSort sorts rows stably by keys.
func refSort(rows [][]any, keys []refKey) [][]any {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b []any) int {
		for _, k := range keys {
			x, y := a[k.col], b[k.col]
			var c int
			switch {
			case x == nil && y == nil:
				c = 0
			case x == nil:
				c = 1
				if k.nullsFirst {
					c = -1
				}
			case y == nil:
				c = -1
				if k.nullsFirst {
					c = 1
				}
			default:
				c = refCompare(x, y)
				if k.desc {
					c = -c
				}
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

func TestSortExact(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tString, tInt64, tFloat)
	rows := [][]any{
		{"b", int64(2), 1.0},
		{nil, int64(1), math.NaN()},
		{"a", nil, 2.0},
		{"b", int64(1), nil},
		{"a", int64(3), -0.5},
		{nil, nil, 3.0},
		{"b", int64(2), 0.0},
	}
	cases := []struct {
		keys []SortKey
		want []string
	}{
		{[]SortKey{{Expr: col(t, s, 0)}, {Expr: col(t, s, 1), Desc: true, NullsFirst: true}},
			[]string{"a|NULL|2.0", "a|3|-0.5", "b|2|1.0", "b|2|0.0", "b|1|NULL", "NULL|NULL|3.0", "NULL|1|NaN"}},
		{[]SortKey{{Expr: col(t, s, 0), Desc: true, NullsFirst: true}, {Expr: col(t, s, 1)}},
			[]string{"NULL|1|NaN", "NULL|NULL|3.0", "b|1|NULL", "b|2|1.0", "b|2|0.0", "a|3|-0.5", "a|NULL|2.0"}},
		// NaN sorts above every number; NULLS LAST.
		{[]SortKey{{Expr: col(t, s, 2)}},
			[]string{"a|3|-0.5", "b|2|0.0", "b|2|1.0", "a|NULL|2.0", "NULL|NULL|3.0", "NULL|1|NaN", "b|1|NULL"}},
		// A single BIGINT key without NULLs takes the pair-sort path, still stable.
		{[]SortKey{{Expr: funcEval{dt: tInt64, f: func(r []any) any { return int64(len(fmtValue(r[0]))) }}, Desc: true}},
			[]string{"NULL|1|NaN", "NULL|NULL|3.0", "b|2|1.0", "a|NULL|2.0", "b|1|NULL", "a|3|-0.5", "b|2|0.0"}},
	}
	for i, c := range cases {
		for _, size := range []int{1, 3, 7} {
			got := run(t, NewSort(source(t, mem, s, rows, size), c.keys, mem))
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("case %d batch %d:\ngot  %q\nwant %q", i, size, got, c.want)
			}
			// TopN gives a prefix of the same order.
			for _, lim := range [][2]int64{{0, 3}, {2, 3}, {5, 10}, {0, 7}} {
				got := run(t, NewTopN(source(t, mem, s, rows, size), c.keys, lim[0], lim[1], mem))
				want := c.want[min(int(lim[0]), len(c.want)):min(int(lim[0]+lim[1]), len(c.want))]
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("case %d batch %d top %v:\ngot  %q\nwant %q", i, size, lim, got, want)
				}
			}
		}
	}
}

func TestSortDifferential(t *testing.T) {
	mem := leakCheck(t)
	rng := rand.New(rand.NewSource(3))
	s := schemaOf(tInt64, tString, tFloat, tBool, tInt64)
	n := 100000
	rows := make([][]any, n)
	for i := range rows {
		row := []any{int64(rng.Intn(100)), fmt.Sprintf("k%03d", rng.Intn(500)), float64(rng.Intn(1000)) / 8, rng.Intn(2) == 0, int64(i)}
		for c := 0; c < 4; c++ {
			if rng.Intn(25) == 0 {
				row[c] = nil
			}
		}
		rows[i] = row
	}
	specs := [][]refKey{
		{{col: 0}},
		{{col: 1, desc: true}, {col: 2, nullsFirst: true}},
		{{col: 3}, {col: 0, desc: true, nullsFirst: true}, {col: 1}},
		{{col: 2, desc: true}},
	}
	for _, spec := range specs {
		keys := make([]SortKey, len(spec))
		for i, k := range spec {
			keys[i] = SortKey{Expr: col(t, s, k.col), Desc: k.desc, NullsFirst: k.nullsFirst}
		}
		want := rowsOfTest(refSort(rows, spec))
		equalRows(t, run(t, NewSort(source(t, mem, s, rows, 5000), keys, mem)), want)
		equalRows(t, run(t, NewTopN(source(t, mem, s, rows, 5000), keys, 0, 100, mem)), want[:100])
		equalRows(t, run(t, NewTopN(source(t, mem, s, rows, 3000), keys, 30000, 20000, mem)), want[30000:50000])
	}
	if mem.Peak() <= 0 {
		t.Fatal("no memory accounted")
	}
}

func TestSortMemoryLimit(t *testing.T) {
	mem := NewMemory(200 << 10)
	s := schemaOf(tInt64)
	var rows [][]any
	for i := 0; i < 100000; i++ {
		rows = append(rows, []any{int64(i)})
	}
	err := runErr(t, NewSort(source(t, newMem(), s, rows, 4096), []SortKey{{Expr: col(t, s, 0)}}, mem))
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("error %v", err)
	}
	if mem.Used() != 0 {
		t.Fatalf("used %d", mem.Used())
	}
}
