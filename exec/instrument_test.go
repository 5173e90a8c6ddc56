package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestInstrumented counts the rows and batches an operator produces and
// the memory reserved while it runs.
func TestInstrumented(t *testing.T) {
	ctx := context.Background()
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	mk := func(vals ...int64) arrow.Record {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues(vals, nil)
		arr := b.NewArray()
		defer arr.Release()
		return array.NewRecord(schema, []arrow.Array{arr}, int64(len(vals)))
	}
	mem := NewMemory(0)
	if err := mem.Reserve("before", 100); err != nil {
		t.Fatal(err)
	}
	src := NewRecordSource(schema, []arrow.Record{mk(1, 2, 3), mk(4, 5)})
	in := Instrument(src, mem)
	if in.Stats().Opened {
		t.Fatal("opened before Open")
	}
	if err := in.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mem.Reserve("during", 4096); err != nil {
		t.Fatal(err)
	}
	for {
		b, ok, err := in.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		b.Rec.Release()
	}
	mem.Release(4096)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	st := in.Stats()
	if st.Rows != 5 || st.Batches != 2 || st.PeakMem != 4096 || !st.Opened || st.Time <= 0 {
		t.Fatalf("stats %+v, want 5 rows, 2 batches, peak 4096", st)
	}
}
