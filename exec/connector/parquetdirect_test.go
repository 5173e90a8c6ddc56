package connector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// directTestColumns is the schema of the direct reader's test file: one
// column of each direct kind, NULLs allowed.
const directTestColumns = "i INT, b BIGINT, f DOUBLE, d DATE, p DECIMAL(9,2), q DECIMAL(15,2), s VARCHAR"

// directTestRecord builds n rows of every direct kind; every column has
// NULLs (at different rows, including the first and last of the file for
// some), strings repeat (dictionary pages) or, with unique, never do.
func directTestRecord(mem memory.Allocator, n int, unique bool) arrow.Record {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "p", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}, Nullable: true},
		{Name: "q", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for r := 0; r < n; r++ {
		null := func(k int) bool { return (r+k)%(k+3) == 0 }
		if null(0) {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.Int32Builder).Append(int32(r*7 - 50))
		}
		if null(1) {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(int64(r)*1e12 - 3)
		}
		if null(2) {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(float64(r) / 4)
		}
		if null(3) {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.Date32Builder).Append(arrow.Date32(8000 + r))
		}
		if null(4) {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r*r) - 999999999 + int64(r%2)*1999999998))
		}
		if null(5) {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(-999999999999999 + int64(r)*123456789))
		}
		switch {
		case r == n-1 || null(6):
			b.Field(6).AppendNull()
		case unique:
			b.Field(6).(*array.StringBuilder).Append(fmt.Sprintf("value %d, é", r))
		default:
			b.Field(6).(*array.StringBuilder).Append([]string{"AIR", "", "REG AIR", "日本"}[r%4])
		}
	}
	return b.NewRecord()
}

// TestParquetDirect: the direct reader returns exactly the values written,
// NULLs included, for every direct kind, with and without dictionary
// pages, for batch sizes that end inside, at and across row groups and
// pages; and it is the reader used for these columns.
func TestParquetDirect(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	fields := parseColumns(t, directTestColumns)
	for _, tc := range []struct {
		name   string
		unique bool
		props  []parquet.WriterProperty
	}{
		{"dict", false, nil},
		{"plain", true, []parquet.WriterProperty{parquet.WithDictionaryDefault(false)}},
		{"smallpages", false, []parquet.WriterProperty{parquet.WithDataPageSize(64), parquet.WithBatchSize(16)}},
	} {
		rec := directTestRecord(mem, 101, tc.unique)
		path := filepath.Join(dir, tc.name+".parquet")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		props := parquet.NewWriterProperties(append([]parquet.WriterProperty{
			parquet.WithMaxRowGroupLength(30), parquet.WithStoreDecimalAsInteger(true)}, tc.props...)...)
		w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		formatRecord(&want, fields, rec, "  ")
		rec.Release()

		c := checkedConnector(t)
		opts, err := ParseOptions(map[string]string{"path": path}, RoleSource)
		if err != nil {
			t.Fatal(err)
		}
		for _, bs := range []int{1, 7, 30, 31, 64, 1000} {
			opts.BatchSize = bs
			got := scanText(ctx, c, opts, ScanSpec{Fields: fields})
			var rows strings.Builder
			batches := 0
			for _, line := range strings.SplitAfter(got, "\n") {
				switch {
				case strings.HasPrefix(line, "  "):
					rows.WriteString(line)
				case strings.HasPrefix(line, "batch "):
					batches++
				case line == "", strings.HasPrefix(line, "stats: files=1 rows=101 bad_rows=0"):
				default:
					t.Fatalf("%s, batch size %d: unexpected line %q in:\n%s", tc.name, bs, line, got)
				}
			}
			if rows.String() != want.String() {
				t.Errorf("%s, batch size %d: got\n%s\nwant\n%s", tc.name, bs, rows.String(), want.String())
			}
			if wantBatches := (101 + bs - 1) / bs; batches != wantBatches {
				t.Errorf("%s, batch size %d: %d batches, want %d", tc.name, bs, batches, wantBatches)
			}
		}

		// The columns are read by the direct reader, also a projection
		// of them in another order with one column twice.
		for _, proj := range [][]int{nil, {6, 0, 6}} {
			out := fields
			if proj != nil {
				out = []Field{fields[6], fields[0], fields[6]}
			}
			fc := &fileContext{uri: path, name: path, fs: LocalFS{}, opts: &opts, mem: memory.DefaultAllocator,
				inFile: fields, outputs: out, bad: func(e *RowError) error { return e }}
			r, err := openParquet(ctx, fc)
			if err != nil {
				t.Fatal(err)
			}
			if r.(*parquetReader).direct == nil {
				t.Errorf("%s %v: the direct reader is not used", tc.name, proj)
			}
			n := int64(0)
			for {
				b, err := r.next(ctx, 40)
				if err != nil {
					break
				}
				if proj != nil {
					for i := 0; i < int(b.NumRows()); i++ {
						if x, y := b.Column(0).ValueStr(i), b.Column(2).ValueStr(i); x != y {
							t.Errorf("%s: column s twice: %q and %q", tc.name, x, y)
						}
					}
				}
				n += b.NumRows()
				b.Release()
			}
			if n != 101 {
				t.Errorf("%s %v: %d rows, want 101", tc.name, proj, n)
			}
			r.close()
		}
	}
}

// TestParquetDirectChecks: values the direct reader decodes still pass the
// column checks: a NULL in a NOT NULL column and a string longer than
// VARCHAR(n) are bad rows, and a type that is not read directly (BIGINT
// from INT32) goes through pqarrow with the same result.
func TestParquetDirectChecks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	path := filepath.Join(dir, "a.parquet")
	a := strs(mem, "ab", "NULL", "abcd")
	i32b := array.NewInt32Builder(mem)
	i32b.AppendValues([]int32{1, 2, 3}, nil)
	i := i32b.NewArray()
	i32b.Release()
	writeParquet(t, path, 2, []string{"s", "i"}, a, i)
	a.Release()
	i.Release()
	c := checkedConnector(t)
	for _, tc := range []struct{ spec, want string }{
		{"s VARCHAR NOT NULL, i INT", `batch 1: 2 rows
  "ab" | 1
  "abcd" | 3
stats: files=1 rows=2 bad_rows=1 bad_files=0
`},
		{"s VARCHAR(3), i BIGINT", `batch 1: 2 rows
  "ab" | 1
  NULL | 2
stats: files=1 rows=2 bad_rows=1 bad_files=0
`},
	} {
		opts, err := ParseOptions(map[string]string{"path": path, "on_error": "drop"}, RoleSource)
		if err != nil {
			t.Fatal(err)
		}
		if got := scanText(ctx, c, opts, ScanSpec{Fields: parseColumns(t, tc.spec)}); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.spec, got, tc.want)
		}
	}
}
