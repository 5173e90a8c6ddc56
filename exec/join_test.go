package exec

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// refJoin is the reference join: nested loops over rows of test values,
// with match deciding a pair (keys and residual together).
func refJoin(kind JoinKind, left, right [][]any, nl, nr int, match func(l, r []any) bool) []string {
	nulls := func(n int) []any { return make([]any, n) }
	var out [][]any
	rMatched := make([]bool, len(right))
	for _, l := range left {
		found := false
		for j, r := range right {
			if !match(l, r) {
				continue
			}
			found = true
			rMatched[j] = true
			if kind != JoinSemi && kind != JoinAnti && !kind.rightOnly() {
				out = append(out, append(append([]any(nil), l...), r...))
			}
		}
		switch {
		case kind == JoinSemi && found, kind == JoinAnti && !found:
			out = append(out, l)
		case (kind == JoinLeft || kind == JoinFull) && !found:
			out = append(out, append(append([]any(nil), l...), nulls(nr)...))
		}
	}
	for j, r := range right {
		switch {
		case (kind == JoinRight || kind == JoinFull) && !rMatched[j]:
			out = append(out, append(nulls(nl), r...))
		case kind == JoinRightSemi && rMatched[j], kind == JoinRightAnti && !rMatched[j]:
			out = append(out, r)
		}
	}
	return sorted(rowsOfTest(out))
}

func eqNotNull(a, b any) bool { return a != nil && b != nil && a == b }

func TestHashJoinKinds(t *testing.T) {
	mem := leakCheck(t)
	ls := schemaOf(tInt64, tString)
	rs := schemaOf(tInt64, tInt64)
	left := [][]any{
		{int64(1), "a"}, {int64(2), "b"}, {nil, "n"}, {int64(3), "c"}, {int64(2), "bb"}, {int64(5), "e"},
	}
	right := [][]any{
		{int64(2), int64(20)}, {int64(1), int64(10)}, {nil, int64(0)}, {int64(2), int64(21)}, {int64(4), int64(40)}, {int64(1), int64(-1)},
	}
	// Residual: w > 0.
	residual := funcEval{dt: tBool, f: func(r []any) any {
		if r[3] == nil {
			return nil
		}
		return r[3].(int64) > 0
	}}
	for _, kind := range []JoinKind{JoinInner, JoinLeft, JoinRight, JoinFull, JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti} {
		for _, withResidual := range []bool{false, true} {
			for _, size := range []int{1, 2, 6} {
				name := fmt.Sprintf("%s/residual=%v/batch=%d", kind, withResidual, size)
				spec := JoinSpec{Kind: kind, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, rs, 0)}}
				match := func(l, r []any) bool { return eqNotNull(l[0], r[0]) }
				if withResidual {
					spec.Residual = residual
					match = func(l, r []any) bool { return eqNotNull(l[0], r[0]) && r[1].(int64) > 0 }
				}
				out := pairSchemaOf(ls, rs)
				if kind == JoinSemi || kind == JoinAnti {
					out = ls
				}
				if kind.rightOnly() {
					out = rs
				}
				j := NewHashJoin(source(t, mem, ls, left, size), source(t, mem, rs, right, size), spec, out, mem)
				j.batchSize = 2 // exercise output chunking
				got := sorted(run(t, j))
				want := refJoin(kind, left, right, 2, 2, match)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s:\ngot  %q\nwant %q", name, got, want)
				}
				// The same join without keys is a nested-loop join.
				nlCond := funcEval{dt: tBool, f: func(r []any) any {
					if r[0] == nil || r[2] == nil {
						return nil
					}
					ok := r[0] == r[2]
					if withResidual {
						ok = ok && r[3].(int64) > 0
					}
					return ok
				}}
				nl := NewNestedLoopJoin(source(t, mem, ls, left, size), source(t, mem, rs, right, size), kind, nlCond, out, mem)
				nl.batchSize = 3
				got = sorted(run(t, nl))
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("nested loops %s:\ngot  %q\nwant %q", name, got, want)
				}
			}
		}
	}
	if mem.Peak() <= 0 || mem.Used() != 0 {
		t.Fatalf("peak %d used %d", mem.Peak(), mem.Used())
	}
}

func TestHashJoinExact(t *testing.T) {
	mem := leakCheck(t)
	ls := schemaOf(tInt64, tString)
	rs := schemaOf(tInt64, tString)
	left := [][]any{{int64(1), "x"}, {nil, "y"}, {int64(1), nil}}
	right := [][]any{{nil, "p"}, {int64(1), "q"}, {nil, "r"}}
	out := pairSchemaOf(ls, rs)
	keys := JoinSpec{LeftKeys: []expr2{col(t, ls, 0), col(t, ls, 1)}, RightKeys: []expr2{col(t, rs, 0), col(t, rs, 1)}}
	// Two keys, string and integer, NULLs never equal.
	spec := keys
	spec.Kind = JoinFull
	got := sorted(run(t, NewHashJoin(source(t, mem, ls, left, 2), source(t, mem, rs, right, 2), spec, out, mem)))
	equalRows(t, got, []string{"1|NULL|NULL|NULL", "1|x|NULL|NULL", "NULL|NULL|1|q", "NULL|NULL|NULL|p", "NULL|NULL|NULL|r", "NULL|y|NULL|NULL"})
	// IS NOT DISTINCT FROM on the first key: NULL matches NULL.
	spec = JoinSpec{Kind: JoinInner, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, rs, 0)}, NullSafe: []bool{true}}
	got = sorted(run(t, NewHashJoin(source(t, mem, ls, left, 2), source(t, mem, rs, right, 2), spec, out, mem)))
	equalRows(t, got, []string{"1|NULL|1|q", "1|x|1|q", "NULL|y|NULL|p", "NULL|y|NULL|r"})
	// A cross join.
	cross := NewNestedLoopJoin(source(t, mem, ls, left[:2], 1), source(t, mem, rs, right[:2], 1), JoinInner, nil, out, mem)
	equalRows(t, sorted(run(t, cross)), []string{"1|x|1|q", "1|x|NULL|p", "NULL|y|1|q", "NULL|y|NULL|p"})
	// Empty probe side: a RIGHT join gives every build row.
	spec = JoinSpec{Kind: JoinRight, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, rs, 0)}}
	got = sorted(run(t, NewHashJoin(source(t, mem, ls, nil, 2), source(t, mem, rs, right, 2), spec, out, mem)))
	equalRows(t, got, []string{"NULL|NULL|1|q", "NULL|NULL|NULL|p", "NULL|NULL|NULL|r"})
	// Empty build side.
	spec = JoinSpec{Kind: JoinLeft, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, rs, 0)}}
	got = sorted(run(t, NewHashJoin(source(t, mem, ls, left, 2), source(t, mem, rs, nil, 2), spec, out, mem)))
	equalRows(t, got, []string{"1|NULL|NULL|NULL", "1|x|NULL|NULL", "NULL|y|NULL|NULL"})
}

// TestNotInJoin checks the NULL semantics of x NOT IN (SELECT y ...).
func TestNotInJoin(t *testing.T) {
	mem := leakCheck(t)
	ls := schemaOf(tInt64)
	rs := schemaOf(tInt64, tInt64)
	left := [][]any{{int64(1)}, {int64(2)}, {nil}}
	notIn := func(right [][]any, residual expr2) []string {
		spec := JoinSpec{Kind: JoinAnti, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, rs, 0)}, NullAware: true, Residual: residual}
		return sorted(run(t, NewHashJoin(source(t, mem, ls, left, 2), source(t, mem, rs, right, 2), spec, ls, mem)))
	}
	equalRows(t, notIn([][]any{{int64(1), int64(0)}}, nil), []string{"2"})
	equalRows(t, notIn([][]any{{int64(1), int64(0)}, {nil, int64(0)}}, nil), nil)
	equalRows(t, notIn(nil, nil), []string{"1", "2", "NULL"})
	// Correlated: only right rows with z = 1 count.
	z1 := funcEval{dt: tBool, f: func(r []any) any { return r[2].(int64) == 1 }}
	equalRows(t, notIn([][]any{{nil, int64(0)}, {int64(2), int64(1)}}, z1), []string{"1"})
	equalRows(t, notIn([][]any{{nil, int64(0)}, {int64(2), int64(0)}}, z1), []string{"1", "2", "NULL"})
	equalRows(t, notIn([][]any{{nil, int64(1)}}, z1), nil)
}

// TestHashJoinDifferential joins 100k probe rows with 20k build rows
// against a map-based reference, for every join kind.
func TestHashJoinDifferential(t *testing.T) {
	mem := leakCheck(t)
	rng := rand.New(rand.NewSource(2))
	ls := schemaOf(tInt64, tString, tInt64)
	rs := schemaOf(tInt64, tString, tInt64)
	mk := func(n, keys int) [][]any {
		rows := make([][]any, n)
		for i := range rows {
			var k, s any
			if rng.Intn(50) > 0 {
				k = int64(rng.Intn(keys))
			}
			if rng.Intn(50) > 0 {
				s = fmt.Sprintf("s%d", rng.Intn(3))
			}
			rows[i] = []any{k, s, int64(i)}
		}
		return rows
	}
	left, right := mk(100000, 30000), mk(20000, 30000)
	type key struct {
		k int64
		s string
	}
	index := map[key][]int{}
	for j, r := range right {
		if r[0] != nil && r[1] != nil {
			k := key{r[0].(int64), r[1].(string)}
			index[k] = append(index[k], j)
		}
	}
	// Residual: (left id + right id) % 3 != 0.
	ok := func(l, r []any) bool { return (l[2].(int64)+r[2].(int64))%3 != 0 }
	residual := funcEval{dt: tBool, f: func(r []any) any { return (r[2].(int64)+r[5].(int64))%3 != 0 }}
	for _, kind := range []JoinKind{JoinInner, JoinLeft, JoinRight, JoinFull, JoinSemi, JoinAnti, JoinRightSemi, JoinRightAnti} {
		var want [][]any
		rMatched := make([]bool, len(right))
		for _, l := range left {
			found := false
			if l[0] != nil && l[1] != nil {
				for _, j := range index[key{l[0].(int64), l[1].(string)}] {
					if !ok(l, right[j]) {
						continue
					}
					found = true
					rMatched[j] = true
					if kind != JoinSemi && kind != JoinAnti && !kind.rightOnly() {
						want = append(want, append(append([]any(nil), l...), right[j]...))
					}
				}
			}
			switch {
			case kind == JoinSemi && found, kind == JoinAnti && !found:
				want = append(want, l)
			case (kind == JoinLeft || kind == JoinFull) && !found:
				want = append(want, append(append([]any(nil), l...), nil, nil, nil))
			}
		}
		for j, r := range right {
			switch {
			case (kind == JoinRight || kind == JoinFull) && !rMatched[j]:
				want = append(want, append([]any{nil, nil, nil}, r...))
			case kind == JoinRightSemi && rMatched[j], kind == JoinRightAnti && !rMatched[j]:
				want = append(want, r)
			}
		}
		out := pairSchemaOf(ls, rs)
		if kind == JoinSemi || kind == JoinAnti {
			out = ls
		}
		if kind.rightOnly() {
			out = rs
		}
		spec := JoinSpec{Kind: kind, LeftKeys: []expr2{col(t, ls, 0), col(t, ls, 1)}, RightKeys: []expr2{col(t, rs, 0), col(t, rs, 1)}, Residual: residual}
		got := sorted(run(t, NewHashJoin(source(t, mem, ls, left, 4096), source(t, mem, rs, right, 4096), spec, out, mem)))
		equalRows(t, got, sorted(rowsOfTest(want)))
	}
}

func TestHashJoinMemoryLimit(t *testing.T) {
	mem := NewMemory(100 << 10)
	ls := schemaOf(tInt64)
	var rows [][]any
	for i := 0; i < 50000; i++ {
		rows = append(rows, []any{int64(i)})
	}
	spec := JoinSpec{Kind: JoinInner, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, ls, 0)}}
	j := NewHashJoin(source(t, newMem(), ls, rows[:10], 10), source(t, newMem(), ls, rows, 1000), spec, pairSchemaOf(ls, ls), mem)
	err := runErr(t, j)
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "JOIN build side") {
		t.Fatalf("error %v", err)
	}
	if mem.Used() != 0 {
		t.Fatalf("used %d", mem.Used())
	}
}

var _ = arrow.Null

// TestSharedBuildTail runs two probes of one shared build side one after
// the other, with small output batches: the first to finish emits no
// right rows, the last emits all of them, over several batches.
func TestSharedBuildTail(t *testing.T) {
	mem := leakCheck(t)
	ls := schemaOf(tInt64)
	rs := schemaOf(tInt64, tString)
	var right [][]any
	for i := 0; i < 10; i++ {
		right = append(right, []any{int64(i), fmt.Sprintf("r%d", i)})
	}
	probes := [][][]any{{{int64(1)}, {int64(3)}}, {{int64(3)}, {int64(8)}, {nil}}}
	for _, kind := range []JoinKind{JoinRightSemi, JoinRightAnti, JoinRight} {
		out := rs
		if kind == JoinRight {
			out = pairSchemaOf(ls, rs)
		}
		build := source(t, mem, rs, right, 4)
		spec := JoinSpec{Kind: kind, LeftKeys: []expr2{col(t, ls, 0)}, RightKeys: []expr2{col(t, rs, 0)}}
		j1 := NewHashJoin(source(t, mem, ls, probes[0], 1), build, spec, out, mem)
		j2 := NewHashJoin(source(t, mem, ls, probes[1], 2), build, spec, out, mem)
		shareBuild([]*Join{j1, j2})
		j1.batchSize, j2.batchSize = 3, 3
		if err := j1.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := j2.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		first, err := Collect(context.Background(), &opened{j1})
		if err != nil {
			t.Fatal(err)
		}
		second, err := Collect(context.Background(), &opened{j2})
		if err != nil {
			t.Fatal(err)
		}
		got := sorted(append(rowsOf(first...), rowsOf(second...)...))
		ReleaseRecords(first)
		ReleaseRecords(second)
		j2.Close()
		j1.Close()
		var want []string
		for i := 0; i < 10; i++ {
			m := i == 1 || i == 3 || i == 8
			switch {
			case kind == JoinRightSemi && m, kind == JoinRightAnti && !m:
				want = append(want, fmt.Sprintf("%d|r%d", i, i))
			case kind == JoinRight && m:
				want = append(want, fmt.Sprintf("%d|%d|r%d", i, i, i))
				if i == 3 {
					want = append(want, "3|3|r3")
				}
			case kind == JoinRight:
				want = append(want, fmt.Sprintf("NULL|%d|r%d", i, i))
			}
		}
		equalRows(t, got, sorted(want))
	}
}

// opened runs an operator that is open already, for Collect (which opens
// and closes what it runs).
type opened struct{ Operator }

func (o *opened) Open(context.Context) error { return nil }
func (o *opened) Close() error               { return nil }
