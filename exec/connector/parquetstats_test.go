package connector

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/catalog"
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

// TestParquetRowGroupPruning reads a file of three row groups (ids 1-2,
// 3-4, 5) with ranges: only the row groups that may hold wanted rows are
// read; a column the file lacks prunes nothing.
func TestParquetRowGroupPruning(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	writeParquet(t, filepath.Join(dir, "a.parquet"), 2, []string{"id", "name"},
		int64s(mem, 1, 2, 3, 4, 5), strs(mem, "a", "b", "c", "d", "e"))
	for _, tc := range []struct {
		ranges []ColumnRange
		want   string
	}{
		{nil, "1 2 3 4 5"},
		{[]ColumnRange{{Column: "id", Min: 3, HasMin: true}}, "3 4 5"},
		{[]ColumnRange{{Column: "ID", Max: 2.5, HasMax: true}}, "1 2"},
		{[]ColumnRange{{Column: "id", Min: 4, Max: 4, HasMin: true, HasMax: true}}, "3 4"},
		{[]ColumnRange{{Column: "id", Min: 9, HasMin: true}}, ""},
		{[]ColumnRange{{Column: "other", Min: 9, HasMin: true}}, "1 2 3 4 5"},
	} {
		opts, err := ParseOptions(map[string]string{"path": filepath.ToSlash(dir), "format": "parquet"}, RoleSource)
		if err != nil {
			t.Fatal(err)
		}
		opts.Ranges = tc.ranges
		sc, err := NewFileConnector(Config{Allocator: mem}).Scan(ctx, opts, ScanSpec{Fields: []Field{{Name: "id", Type: catalog.Int64}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			rec, err := sc.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				got = append(got, fmt.Sprint(rec.Column(0).(*array.Int64).Value(i)))
			}
			rec.Release()
		}
		sc.Close()
		if strings.Join(got, " ") != tc.want {
			t.Errorf("ranges %+v: read %q, want %q", tc.ranges, strings.Join(got, " "), tc.want)
		}
	}
}
