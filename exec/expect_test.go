package exec

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/parser"
)

// gt returns the condition c0 > k (NULL when c0 is NULL).
func gt(k int64) funcEval {
	return funcEval{dt: tBool, f: func(r []any) any {
		if r[0] == nil {
			return nil
		}
		return r[0].(int64) > k
	}}
}

// notNull returns the condition c<i> IS NOT NULL.
func notNull(i int) funcEval {
	return funcEval{dt: tBool, f: func(r []any) any { return r[i] != nil }}
}

type snapRow struct {
	name, action                         string
	passed, failed, dropped, quarantined int64
}

func snapRows(s *ExpectStats) []snapRow {
	var out []snapRow
	for _, e := range s.Snapshot() {
		out = append(out, snapRow{e.Constraint, e.Action, e.Passed, e.Failed, e.Dropped, e.Quarantined})
	}
	return out
}

func equalSnap(t *testing.T, got, want []snapRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("counts: got %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("counts[%d]: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestExpectCountsDropAndQuarantine(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	rows := [][]any{{int64(1), "a"}, {nil, "b"}, {int64(-3), nil}, {int64(4), "d"}, {int64(-5), "e"},
		{int64(6), nil}, {int64(7), "g"}, {int64(0), "h"}}
	stats := NewExpectStats()
	var quarantined []string
	env := &ExpectEnv{Stats: stats, Quarantine: func(_ context.Context, rec arrow.Record) error {
		if rec.Schema().Field(0).Name != QuarantineConstraintColumn || rec.Schema().Field(1).Name != "c0" {
			t.Errorf("quarantine schema %s", rec.Schema())
		}
		quarantined = append(quarantined, rowsOf(rec)...)
		return nil
	}}
	checks := []Check{
		{Name: "positive", Action: parser.ActionDropRow, Cond: gt(0)},
		{Name: "has_name", Action: parser.ActionQuarantine, Cond: notNull(1)},
		{Name: "small", Action: parser.ActionNone, Cond: funcEval{dt: tBool, f: func(r []any) any {
			if r[0] == nil {
				return nil
			}
			return r[0].(int64) < 5
		}}},
	}
	// Batches of 3: the selection crosses batch boundaries.
	got := run(t, NewExpect(source(t, mem, s, rows, 3), "p", checks, env, mem))
	// Dropped: NULL, -5 and 0 (positive NULL or FALSE); -3 fails positive
	// and has_name: quarantined. 6 has no name: quarantined.
	equalRows(t, got, []string{"1|a", "4|d", "7|g"})
	equalRows(t, quarantined, []string{"has_name|-3|NULL", "has_name|6|NULL"})
	equalSnap(t, snapRows(stats), []snapRow{
		{"positive", "drop row", 4, 4, 3, 0},
		{"has_name", "quarantine", 6, 2, 0, 2},
		{"small", "none", 5, 3, 0, 0},
	})
}

func TestExpectFail(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64, tString)
	rows := [][]any{{int64(1), "a"}, {int64(2), "b"}, {int64(3), "it's"}, {nil, "x"}, {int64(5), "e"}}
	stats := NewExpectStats()
	checks := []Check{
		{Name: "known", Action: parser.ActionNone, Cond: notNull(0)},
		{Name: "small", Action: parser.ActionFail, Cond: funcEval{dt: tBool, f: func(r []any) any {
			return r[0] == nil || r[0].(int64) < 3
		}}},
	}
	err := runErr(t, NewExpect(source(t, mem, s, rows, 2), "orders", checks, &ExpectEnv{Stats: stats}, mem))
	var ee *ExpectationError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v, want an ExpectationError", err)
	}
	want := `pipeline "orders": expectation "small" violated (ON VIOLATION FAIL) by 1 row(s), e.g. (c0 = 3, c1 = 'it''s')`
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
	// The first batch passed; the second was counted before the run stopped.
	equalSnap(t, snapRows(stats), []snapRow{
		{"known", "none", 3, 1, 0, 0},
		{"small", "fail", 3, 1, 0, 0},
	})
}

func TestExpectPassesControlBatches(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64)
	rec := mkRec(t, mem.Alloc, s, [][]any{{int64(-1)}, {int64(2)}})
	src := &ctlSource{schema: s, bs: []Batch{{Kind: BatchWatermark, Watermark: 42}, {Kind: BatchData, Rec: rec}, {Kind: BatchBarrier, Barrier: 7}}}
	stats := NewExpectStats()
	op := NewExpect(src, "p", []Check{{Name: "pos", Action: parser.ActionDropRow, Cond: gt(0)}}, &ExpectEnv{Stats: stats}, mem)
	ctx := context.Background()
	if err := op.Open(ctx); err != nil {
		t.Fatal(err)
	}
	var kinds []BatchKind
	var data []string
	for {
		b, ok, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		kinds = append(kinds, b.Kind)
		if b.Kind == BatchData {
			data = append(data, rowsOf(b.Rec)...)
			b.Rec.Release()
		}
	}
	op.Close()
	if len(kinds) != 3 || kinds[0] != BatchWatermark || kinds[1] != BatchData || kinds[2] != BatchBarrier {
		t.Fatalf("batch kinds %v", kinds)
	}
	equalRows(t, data, []string{"2"})
	equalSnap(t, snapRows(stats), []snapRow{{"pos", "drop row", 1, 1, 1, 0}})

	// Restore sets counts (a checkpoint) on fresh statistics.
	fresh := NewExpectStats()
	fresh.Restore(stats.Snapshot())
	equalSnap(t, snapRows(fresh), []snapRow{{"pos", "drop row", 1, 1, 1, 0}})
}

func TestExpectQuarantineWithoutDestination(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tInt64)
	op := NewExpect(source(t, mem, s, [][]any{{int64(1)}}, 1), "p",
		[]Check{{Name: "q", Action: parser.ActionQuarantine, Cond: gt(0)}}, nil, mem)
	err := op.Open(context.Background())
	op.Close()
	want := `pipeline "p": expectation "q" quarantines rows, but the run has no quarantine`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestQuarantineSchemaUniqueNames(t *testing.T) {
	in := arrow.NewSchema([]arrow.Field{{Name: "id", Type: tInt64}, {Name: "id", Type: tString}, {Name: "constraint_name", Type: tString}}, nil)
	got := QuarantineSchema(in)
	var names []string
	for _, f := range got.Fields() {
		names = append(names, f.Name)
	}
	equalRows(t, names, []string{"constraint_name", "id", "id_2", "constraint_name_2"})
}
