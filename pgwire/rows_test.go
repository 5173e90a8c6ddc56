package pgwire

import (
	"bytes"
	"math"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/exec/session"
)

// TestEncodersMatchAppendValue checks the per-column fast encoders give
// byte for byte what the general appendValue gives, in both formats.
func TestEncodersMatchAppendValue(t *testing.T) {
	mem := memory.NewGoAllocator()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{0, -1, math.MaxInt64, math.MinInt64, 42}, nil)
	i32 := array.NewInt32Builder(mem)
	i32.AppendValues([]int32{0, -7, math.MaxInt32, math.MinInt32, 5}, nil)
	i16 := array.NewInt16Builder(mem)
	i16.AppendValues([]int16{0, -7, math.MaxInt16, math.MinInt16, 5}, nil)
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{0.1, 1e21, math.Inf(1), math.NaN(), 1234567}, nil)
	f32 := array.NewFloat32Builder(mem)
	f32.AppendValues([]float32{0.1, 3e38, float32(math.Inf(-1)), 1.5, 1234567}, nil)
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"", "a", "héllo", "tab\there", "x"}, nil)
	bb := array.NewBooleanBuilder(mem)
	bb.AppendValues([]bool{true, false, true, false, true}, nil)
	db := array.NewDate32Builder(mem)
	db.AppendValues([]arrow.Date32{0, -719162, 2932896, 19782, -1000000}, nil)
	arrs := []arrow.Array{ib.NewArray(), i32.NewArray(), i16.NewArray(), fb.NewArray(), f32.NewArray(), sb.NewArray(), bb.NewArray(), db.NewArray()}
	for _, arr := range arrs {
		for _, format := range []int16{formatText, formatBinary} {
			enc := encoderFor(arr, format)
			for i := 0; i < arr.Len(); i++ {
				want, _, werr := appendValue(nil, arr, i, format)
				got, gerr := enc(nil, i)
				if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
					t.Errorf("%s format %d row %d: got %q (%v), want %q (%v)", arr.DataType(), format, i, got, gerr, want, werr)
				}
			}
		}
	}
	// Dates across the whole range the fast path takes (firstFastDay to
	// lastFastDay).
	for d := int64(-719162); d <= 2932896; d += 97 {
		a := array.NewDate32Builder(mem)
		a.Append(arrow.Date32(d))
		arr := a.NewArray()
		want, _ := session.FormatValue(arr, 0)
		if got, err := encoderFor(arr, formatText)(nil, 0); err != nil || string(got) != want {
			t.Fatalf("day %d: %q, want %q", d, got, want)
		}
	}
}

func TestTextParam(t *testing.T) {
	for _, c := range []struct {
		oid     uint32
		in, out string
	}{
		{1082, "2024-02-29 +00", "2024-02-29"},
		{1082, "2024-02-29 -05:30", "2024-02-29"},
		{1082, "2024-02-29", "2024-02-29"},
		{1114, "2024-02-29 13:14:15.123456+00", "2024-02-29 13:14:15.123456"},
		{1114, "2024-02-29 13:14:15+01:00", "2024-02-29 13:14:15"},
		{1114, "2024-02-29 13:14:15", "2024-02-29 13:14:15"},
		{1114, "2024-02-29", "2024-02-29"},
		{1184, "2024-02-29 13:14:15+01", "2024-02-29 13:14:15+01"},
		{25, "x +00", "x +00"},
	} {
		if got := textParam(c.oid, c.in); got != c.out {
			t.Errorf("textParam(%d, %q) = %q, want %q", c.oid, c.in, got, c.out)
		}
	}
}
