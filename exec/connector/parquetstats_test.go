package connector

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestParquetSummary sums up the footers of two files of several row
// groups: rows, NULLs, numeric ranges and text ranges; a column no file
// has stays unknown.
func TestParquetSummary(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	writeParquet(t, filepath.Join(dir, "a.parquet"), 2, []string{"id", "name"},
		int64s(mem, 5, 7, 9), strs(mem, "kiwi", "NULL", "apple"))
	writeParquet(t, filepath.Join(dir, "b.parquet"), 2, []string{"id", "name"},
		int64s(mem, -3, 40), strs(mem, "NULL", "zucchini"))
	opts, err := ParseOptions(map[string]string{"path": filepath.ToSlash(dir), "format": "parquet"}, RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := NewFileConnector(Config{}).ParquetSummary(ctx, opts, []string{"ID", "name", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || sum.Rows != 5 || len(sum.Columns) != 3 {
		t.Fatalf("got %+v", sum)
	}
	id := sum.Columns[0]
	if id != (ColumnSummary{Name: "ID", Nulls: 0, NullsKnown: true, HasRange: true, Min: -3, Max: 40}) {
		t.Errorf("id: %+v", id)
	}
	name := sum.Columns[1]
	if name != (ColumnSummary{Name: "name", Nulls: 2, NullsKnown: true, MinText: "apple", MaxText: "zucchini"}) {
		t.Errorf("name: %+v", name)
	}
	if m := sum.Columns[2]; m != (ColumnSummary{Name: "missing"}) {
		t.Errorf("missing: %+v", m)
	}
}
