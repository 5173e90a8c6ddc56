package session

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestFormatValueNullArray: a column of Arrow's null type (the type of a
// bare NULL in a select list) has no validity bitmap, yet each row is NULL.
func TestFormatValueNullArray(t *testing.T) {
	b := array.NewNullBuilder(memory.DefaultAllocator)
	b.AppendNulls(2)
	arr := b.NewArray()
	defer arr.Release()
	for i := 0; i < arr.Len(); i++ {
		if s, ok := FormatValue(arr, i); ok || s != "" {
			t.Errorf("row %d: FormatValue = %q, %v; want \"\", false", i, s, ok)
		}
	}
	s := mustExec(t, openEngine(t).NewSession(Options{}), "SELECT NULL AS n, 1 AS one")
	rec := s.Statements[0].Records[0]
	if v, ok := FormatValue(rec.Column(0), 0); ok {
		t.Errorf("SELECT NULL formats as %q, want NULL", v)
	}
}
