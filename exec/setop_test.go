package exec

import (
	"fmt"
	"math/rand"
	"testing"
)

// refSetOp computes a set operation over rendered rows with multiset
// semantics, in the order rows first appear on the left (right for UNION's
// second input).
func refSetOp(kind SetOpKind, all bool, left, right []string) []string {
	rc := map[string]int{}
	for _, r := range right {
		rc[r]++
	}
	var out []string
	seen := map[string]bool{}
	switch kind {
	case SetUnion:
		for _, r := range append(append([]string(nil), left...), right...) {
			if all || !seen[r] {
				out = append(out, r)
				seen[r] = true
			}
		}
	case SetIntersect:
		for _, r := range left {
			if all {
				if rc[r] > 0 {
					rc[r]--
					out = append(out, r)
				}
			} else if rc[r] > 0 && !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	case SetExcept:
		for _, r := range left {
			if all {
				if rc[r] > 0 {
					rc[r]--
				} else {
					out = append(out, r)
				}
			} else if rc[r] == 0 && !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

func TestSetOps(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	left := [][]any{{int64(1), "a"}, {int64(1), "a"}, {nil, "n"}, {int64(2), nil}, {nil, "n"}, {int64(3), "c"}, {int64(1), "a"}}
	right := [][]any{{int64(1), "a"}, {nil, "n"}, {nil, "n"}, {nil, "n"}, {int64(2), "b"}, {int64(3), "c"}}
	want := map[string][]string{
		"UNION":         {"1|a", "NULL|n", "2|NULL", "3|c", "2|b"},
		"UNION ALL":     append(rowsOfTest(left), rowsOfTest(right)...),
		"INTERSECT":     {"1|a", "NULL|n", "3|c"},
		"INTERSECT ALL": {"1|a", "NULL|n", "NULL|n", "3|c"},
		"EXCEPT":        {"2|NULL"},
		"EXCEPT ALL":    {"1|a", "2|NULL", "1|a"},
	}
	for _, kind := range []SetOpKind{SetUnion, SetIntersect, SetExcept} {
		for _, all := range []bool{false, true} {
			name := kind.String()
			if all {
				name += " ALL"
			}
			for _, size := range []int{1, 3, 7} {
				got := run(t, NewSetOp(kind, all, source(t, mem, s, left, size), source(t, mem, schemaOf(tInt64, tString), right, size), s, mem))
				equalRows(t, got, want[name])
				equalRows(t, got, refSetOp(kind, all, rowsOfTest(left), rowsOfTest(right)))
			}
		}
	}
	equalRows(t, run(t, NewDistinct(source(t, mem, s, left, 2), nil, mem)), []string{"1|a", "NULL|n", "2|NULL", "3|c"})
}

func TestSetOpsDifferential(t *testing.T) {
	mem := leakCheck(t)
	rng := rand.New(rand.NewSource(4))
	s := schemaOf(tInt64, tString, tFloat)
	mk := func(n int) [][]any {
		rows := make([][]any, n)
		for i := range rows {
			row := []any{int64(rng.Intn(40)), fmt.Sprintf("v%d", rng.Intn(5)), float64(rng.Intn(3))}
			if rng.Intn(10) == 0 {
				row[rng.Intn(3)] = nil
			}
			rows[i] = row
		}
		return rows
	}
	left, right := mk(100000), mk(60000)
	for _, kind := range []SetOpKind{SetUnion, SetIntersect, SetExcept} {
		for _, all := range []bool{false, true} {
			got := run(t, NewSetOp(kind, all, source(t, mem, s, left, 4096), source(t, mem, s, right, 4096), s, mem))
			equalRows(t, got, refSetOp(kind, all, rowsOfTest(left), rowsOfTest(right)))
		}
	}
}
