package exec

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

func TestUniqueKeys(t *testing.T) {
	mem := memory.NewGoAllocator()
	ints := func(vals []int64, valid []bool) arrow.Array {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(vals, valid)
		return b.NewArray()
	}
	strs := func(vals []string, valid []bool) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(vals, valid)
		return b.NewArray()
	}
	u, err := NewUniqueKeys([]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cols []arrow.Array
		want int
	}{
		{"distinct", []arrow.Array{ints([]int64{1, 1, 2}, nil), strs([]string{"a", "b", "a"}, nil)}, -1},
		// NULL in a key column: never a duplicate, also of another NULL.
		{"nulls", []arrow.Array{ints([]int64{1, 1, 3}, []bool{true, true, false}), strs([]string{"", "", "a"}, []bool{false, false, true})}, -1},
		{"duplicate of an earlier batch", []arrow.Array{ints([]int64{5, 2}, nil), strs([]string{"x", "a"}, nil)}, 1},
		{"duplicate within the batch", []arrow.Array{ints([]int64{7, 8, 7}, nil), strs([]string{"q", "q", "q"}, nil)}, 2},
	} {
		if got := u.Add(c.cols); got != c.want {
			t.Errorf("%s: Add = %d, want %d", c.name, got, c.want)
		}
		for _, a := range c.cols {
			a.Release()
		}
	}
	if u.Len() != 6 || u.Bytes() <= 0 {
		t.Errorf("Len = %d, Bytes = %d", u.Len(), u.Bytes())
	}
}
