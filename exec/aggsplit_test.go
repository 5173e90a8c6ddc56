package exec

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestStableHash: the hash is a fixed function of the values (the stream
// runtime's state on disk is partitioned by it), equal for values that
// group together (0 and -0), and NULL hashes apart from the values.
func TestStableHash(t *testing.T) {
	mem := memory.NewGoAllocator()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 1, 2}, nil)
	ib.AppendNull()
	ints := ib.NewArray()
	defer ints.Release()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "a", "b", "a"}, nil)
	strs := sb.NewArray()
	defer strs.Release()
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{0, negZero(), 1.5, 1.5}, nil)
	floats := fb.NewArray()
	defer floats.Release()

	h := StableHash([]arrow.Array{ints, strs}, 4, nil)
	got := fmt.Sprintf("%016x %016x %016x %016x", h[0], h[1], h[2], h[3])
	if want := "c11f4f46e3df7a82 c11f4f46e3df7a82 3a0c8a09d4a77d39 dfa0853d4d43c9f0"; got != want {
		t.Errorf("StableHash(ints, strings) = %s, want %s", got, want)
	}
	f := StableHash([]arrow.Array{floats}, 4, nil)
	if f[0] != f[1] || f[2] != f[3] || f[0] == f[2] {
		t.Errorf("StableHash(0, -0, 1.5, 1.5) = %x", f)
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

// TestFinishPartial: partial columns whose rows are groups of their own
// give the merge aggregates' results row by row.
func TestFinishPartial(t *testing.T) {
	mem := memory.NewGoAllocator()
	sb := array.NewInt64Builder(mem)
	sb.AppendValues([]int64{7, 10}, nil)
	sb.AppendNull()
	sums := sb.NewArray()
	defer sums.Release()
	cb := array.NewInt64Builder(mem)
	cb.AppendValues([]int64{2, 4, 0}, nil)
	counts := cb.NewArray()
	defer counts.Release()
	avg, err := FinishPartial(AggAvgMerge, []arrow.Array{sums, counts}, arrow.PrimitiveTypes.Float64, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer avg.Release()
	if got, want := avg.String(), "[3.5 2.5 (null)]"; got != want {
		t.Errorf("avg = %s, want %s", got, want)
	}
	sum, err := FinishPartial(AggSum, []arrow.Array{sums}, arrow.PrimitiveTypes.Int64, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer sum.Release()
	if got, want := sum.String(), "[7 10 (null)]"; got != want {
		t.Errorf("sum = %s, want %s", got, want)
	}
	// DECIMAL(38,2) sums over counts into DECIMAL(20,6), rounded half away
	// from zero.
	in := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	out := &arrow.Decimal128Type{Precision: 20, Scale: 6}
	db := array.NewDecimal128Builder(mem, in)
	db.AppendValues([]decimal128.Num{decimal128.FromI64(668), decimal128.FromI64(-1000)}, nil)
	decs := db.NewArray()
	defer decs.Release()
	cb.AppendValues([]int64{3, 2}, nil)
	dcounts := cb.NewArray()
	defer dcounts.Release()
	davg, err := FinishPartial(AggAvgMerge, []arrow.Array{decs, dcounts}, out, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer davg.Release()
	d := davg.(*array.Decimal128)
	if got, want := d.Value(0).ToString(6)+" "+d.Value(1).ToString(6), "2.226667 -5.000000"; got != want {
		t.Errorf("decimal avg = %s, want %s", got, want)
	}
}
