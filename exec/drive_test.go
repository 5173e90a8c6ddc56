package exec

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// closeCounter counts the Close calls of the operator it wraps.
type closeCounter struct {
	Operator
	closes int
}

func (c *closeCounter) Close() error { c.closes++; return c.Operator.Close() }

func TestDrive(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	schema := schemaOf(arrow.PrimitiveTypes.Int64)
	batches := func() []Batch {
		return []Batch{
			{Kind: BatchData, Rec: mkRec(t, alloc, schema, [][]any{{int64(1)}, {int64(2)}})},
			{Kind: BatchWatermark, Watermark: 10},
			{Kind: BatchBarrier, Barrier: 1},
			{Kind: BatchData, Rec: mkRec(t, alloc, schema, [][]any{{int64(3)}})},
		}
	}

	t.Run("data batches only, closed once", func(t *testing.T) {
		op := &closeCounter{Operator: &ctlSource{schema: schema, bs: batches()}}
		var got []string
		if err := Drive(context.Background(), op, func(rec arrow.Record) error {
			got = append(got, rowsOf(rec)...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		equalRows(t, got, []string{"1", "2", "3"})
		if op.closes != 1 {
			t.Fatalf("closed %d times, want 1", op.closes)
		}
	})

	t.Run("the callback's error stops the run", func(t *testing.T) {
		op := &closeCounter{Operator: &ctlSource{schema: schema, bs: batches()}}
		stop := errors.New("stop")
		calls := 0
		err := Drive(context.Background(), op, func(arrow.Record) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 || op.closes != 1 {
			t.Fatalf("err %v after %d calls and %d closes, want %v after 1 call and 1 close", err, calls, op.closes, stop)
		}
	})

	t.Run("a done context stops the run", func(t *testing.T) {
		op := &closeCounter{Operator: &ctlSource{schema: schema, bs: batches()}}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Drive(ctx, op, func(arrow.Record) error { t.Fatal("callback called"); return nil })
		if !errors.Is(err, context.Canceled) || op.closes != 1 {
			t.Fatalf("err %v and %d closes, want context.Canceled and 1 close", err, op.closes)
		}
	})
}
