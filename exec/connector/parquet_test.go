package connector

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// allTypes is a row set with every SQL type, NULLs and edge values, as
// CSV text (read with null_values NULL).
const allTypesColumns = "b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f32 REAL, f64 DOUBLE, " +
	"dec DECIMAL(38,9), s VARCHAR, c CHAR(3), bin VARBINARY, d DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, j JSON"

const allTypesRows = `true,-128,-32768,-2147483648,-9223372036854775808,1.5,-2.25,-12345678901234567890123456789.123456789,"a, ""b""",abc,\x00ff,0001-01-01,00:00:00,1969-12-31 23:59:59.999999,2024-01-01 00:00:00Z,"{""k"":[1,2]}"
false,127,32767,2147483647,9223372036854775807,3.4e+38,1e+308,0.000000001,"",ab,\x,9999-12-31,23:59:59.999999,2024-02-29 12:00:00,1970-01-01 00:00:00.000001Z,[]
NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL
t,0,0,0,0,-0,NaN,0.000000000,"two
lines",xyz,\xdeadbeef,2000-02-29,12:00:00.5,2000-01-01 00:00:00,1999-12-31 23:00:00Z,"""s"""
f,1,2,3,4,-Infinity,Infinity,1.5,café,é,\x01,1970-01-01,01:02:03,1970-01-01 00:00:00,2020-06-30 12:00:00Z,true`

// TestRoundTripEveryFormat writes every type through a sink in every
// format (in batches of two rows) and reads it back (in batches of two).
func TestRoundTripEveryFormat(t *testing.T) {
	ctx := context.Background()
	for _, format := range []string{"csv", "json", "parquet"} {
		for _, comp := range []string{"", "gzip"} {
			if comp == "gzip" && format == "parquet" {
				comp = "zstd"
			}
			t.Run(format+"/"+comp, func(t *testing.T) {
				c := checkedConnector(t)
				dir := t.TempDir()
				fields := parseColumns(t, allTypesColumns)
				if format != "parquet" {
					fields = append(fields, Field{Name: "iv", Type: parseType(t, "INTERVAL")})
				}
				text := allTypesRows
				if format != "parquet" {
					lines := strings.Split(text, "\n")
					ivs := []string{"1 year 2 days 03:04:05", "-00:00:00.000001", "NULL", "", "3 months"}
					// The row with the embedded line break spans two lines.
					out := []string{lines[0] + "," + ivs[0], lines[1] + "," + ivs[1], lines[2] + "," + ivs[2], lines[3], lines[4] + ",00:00:00", lines[5] + "," + ivs[4]}
					text = strings.Join(out, "\n")
				}
				in, err := readRows(ctx, c, dir, fields, text)
				if err != nil {
					t.Fatal(err)
				}
				var want strings.Builder
				for _, r := range in {
					formatRecord(&want, fields, r, "")
				}
				m := map[string]string{"path": dir + "/out/", "format": format, "header": "true"}
				if comp != "" {
					m["compression"] = comp
				}
				opts, err := ParseOptions(m, RoleSink)
				if err != nil {
					t.Fatal(err)
				}
				s, err := c.OpenSink(ctx, opts, fields)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range in {
					if err := s.Write(ctx, r); err != nil {
						t.Fatal(err)
					}
					r.Release()
				}
				if _, err := s.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				delete(m, "compression")
				m["batch_size"] = "2"
				ropts, err := ParseOptions(m, RoleSource)
				if err != nil {
					t.Fatal(err)
				}
				sc, err := c.Scan(ctx, ropts, ScanSpec{Fields: fields})
				if err != nil {
					t.Fatal(err)
				}
				defer sc.Close()
				var got strings.Builder
				batches := 0
				for {
					r, err := sc.Next(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					batches++
					if r.NumRows() > 2 {
						t.Errorf("batch of %d rows, want at most 2", r.NumRows())
					}
					formatRecord(&got, fields, r, "")
					r.Release()
				}
				if got.String() != want.String() {
					t.Errorf("round trip differs:\n got:\n%s\nwant:\n%s", got.String(), want.String())
				}
				if batches != 3 {
					t.Errorf("%d batches, want 3", batches)
				}
				if st := sc.Stats(); st.Rows != 5 || st.BadRows != 0 {
					t.Errorf("stats %+v", st)
				}
			})
		}
	}
}

// writeParquet writes columns (name, array) into a Parquet file.
func writeParquet(t *testing.T, p string, rowGroup int64, names []string, cols ...arrow.Array) {
	t.Helper()
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = arrow.Field{Name: names[i], Type: c.DataType(), Nullable: true}
	}
	sc := arrow.NewSchema(fs, nil)
	rec := array.NewRecord(sc, cols, int64(cols[0].Len()))
	defer rec.Release()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func int64s(mem memory.Allocator, v ...int64) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(v, nil)
	return b.NewArray()
}

func strs(mem memory.Allocator, v ...string) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	for _, s := range v {
		if s == "NULL" {
			b.AppendNull()
		} else {
			b.Append(s)
		}
	}
	return b.NewArray()
}

// TestParquetBadInput: a truncated file and a file that is not Parquet,
// under fail, drop and quarantine; the good file next to them is read.
func TestParquetBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	writeParquet(t, filepath.Join(dir, "a.parquet"), 100, []string{"id", "s"}, int64s(mem, 1, 2), strs(mem, "x", "y"))
	good, err := os.ReadFile(filepath.Join(dir, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "b.parquet"), good[:len(good)-10], 0o644)
	os.WriteFile(filepath.Join(dir, "c.parquet"), []byte("id,s\n1,x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "d.parquet"), nil, 0o644)
	fields := parseColumns(t, "id BIGINT, s VARCHAR")
	want := map[string]string{
		"fail": `batch 1: 2 rows
  1 | "x"
  2 | "y"
error: $DIR/b.parquet: invalid parquet file: parquet: file is smaller than indicated metadata size
stats: files=2 rows=2 bad_rows=0 bad_files=0
`,
		"drop": `batch 1: 2 rows
  1 | "x"
  2 | "y"
stats: files=4 rows=2 bad_rows=0 bad_files=3
`,
		"quarantine": `batch 1: 2 rows
  1 | "x"
  2 | "y"
stats: files=4 rows=2 bad_rows=0 bad_files=3
quarantine:
  "$DIR/b.parquet" | 0 | NULL | "invalid parquet file: parquet: file is smaller than indicated metadata size" | NULL
  "$DIR/c.parquet" | 0 | NULL | "invalid parquet file: parquet: file is smaller than indicated metadata size" | NULL
  "$DIR/d.parquet" | 0 | NULL | "invalid parquet file: parquet: file too small (size=0)" | NULL
`,
	}
	for _, mode := range []string{"fail", "drop", "quarantine"} {
		t.Run(mode, func(t *testing.T) {
			c := checkedConnector(t)
			opts, err := ParseOptions(map[string]string{"path": dir, "format": "parquet", "on_error": mode}, RoleSource)
			if err != nil {
				t.Fatal(err)
			}
			got := normalize(scanText(ctx, c, opts, ScanSpec{Fields: fields}), dir)
			if got != want[mode] {
				t.Errorf("got:\n%s\nwant:\n%s", got, want[mode])
			}
		})
	}
}

// TestParquetConversion reads Parquet types other than the declared ones:
// widening, narrowing with range checks, timestamp units, text to types;
// bad values are bad rows with their row number and the row as JSON.
func TestParquetConversion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	i32 := array.NewInt32Builder(mem)
	i32.AppendValues([]int32{1, 2, 3}, nil)
	tsb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"})
	tsb.AppendValues([]arrow.Timestamp{1_500_000_001, -1, 0}, nil)
	writeParquet(t, filepath.Join(dir, "conv.parquet"), 2, []string{"a", "Big", "when", "txt"},
		i32.NewArray(), int64s(mem, 5, 300, -7), tsb.NewArray(), strs(mem, "2024-01-01", "nope", "NULL"))
	c := checkedConnector(t)
	fields := parseColumns(t, "a BIGINT, big TINYINT, when TIMESTAMPTZ, txt DATE")
	opts, _ := ParseOptions(map[string]string{"path": dir + "/conv.parquet", "on_error": "quarantine"}, RoleSource)
	got := normalize(scanText(ctx, c, opts, ScanSpec{Fields: fields}), dir)
	want := `batch 1: 2 rows
  1 | 5 | 1970-01-01 00:00:01.500000Z | 2024-01-01
  3 | -7 | 1970-01-01 00:00:00Z | NULL
stats: files=1 rows=2 bad_rows=1 bad_files=0
quarantine:
  "$DIR/conv.parquet" | 2 | "big" | "value \"300\" out of range for TINYINT" | "{\"a\":\"2\",\"big\":\"300\",\"when\":\"1969-12-31 23:59:59.999999Z\",\"txt\":\"nope\"}"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	opts.OnError = OnErrorFail
	got = normalize(scanText(ctx, c, opts, ScanSpec{Fields: fields}), dir)
	if want := "error: $DIR/conv.parquet: row 2: column \"big\": value \"300\" out of range for TINYINT\n"; !strings.HasPrefix(got, want) {
		t.Errorf("got:\n%s\nwant prefix:\n%s", got, want)
	}
	// A declared column the file lacks, and a type that cannot convert.
	for spec, want := range map[string]string{
		"a BIGINT, bgi INT": `error: $DIR/conv.parquet: no column "bgi" in the file (did you mean "Big"?)`,
		"when BOOLEAN":      `error: $DIR/conv.parquet: column "when": parquet type timestamp[ns, tz=UTC] cannot be read as BOOLEAN`,
	} {
		got := normalize(scanText(ctx, c, opts, ScanSpec{Fields: parseColumns(t, spec)}), dir)
		if !strings.HasPrefix(got, want+"\n") {
			t.Errorf("%s: got:\n%s\nwant:\n%s", spec, got, want)
		}
	}
}

// TestParquetInvalidUTF8: a Parquet string that is not UTF-8 is a bad row
// of a VARCHAR column (the other rows still pass through).
func TestParquetInvalidUTF8(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	writeParquet(t, filepath.Join(dir, "u.parquet"), 10, []string{"id", "s"}, int64s(mem, 1, 2, 3), strs(mem, "ok", "bad \xff", "café"))
	c := checkedConnector(t)
	opts, _ := ParseOptions(map[string]string{"path": dir + "/u.parquet", "on_error": "quarantine"}, RoleSource)
	got := normalize(scanText(ctx, c, opts, ScanSpec{Fields: parseColumns(t, "id BIGINT, s VARCHAR(4)")}), dir)
	want := `batch 1: 2 rows
  1 | "ok"
  3 | "café"
stats: files=1 rows=2 bad_rows=1 bad_files=0
quarantine:
  "$DIR/u.parquet" | 2 | "s" | "invalid UTF-8 in VARCHAR(4) value" | "{\"id\":\"2\",\"s\":\"bad �\"}"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// rangeFS is the local file system recording the byte ranges read.
type rangeFS struct {
	LocalFS
	mu     sync.Mutex
	ranges [][2]int64
}

type rangeFile struct {
	File
	fs *rangeFS
}

func (f rangeFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.ranges = append(f.fs.ranges, [2]int64{off, off + int64(len(p))})
	f.fs.mu.Unlock()
	return f.File.ReadAt(p, off)
}

func (r *rangeFS) Open(ctx context.Context, name string) (File, error) {
	f, err := r.LocalFS.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return rangeFile{File: f, fs: r}, nil
}

// TestParquetProjectionPushdown checks that reading one column reads no
// byte of the other columns' chunks.
func TestParquetProjectionPushdown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	n := 20000
	a, b, cc := make([]int64, n), make([]string, n), make([]int64, n)
	for i := range a {
		a[i], cc[i] = int64(i)*7919, int64(i)*104729
		b[i] = strings.Repeat("v", i%13) + string(rune('a'+i%26))
	}
	p := filepath.Join(dir, "wide.parquet")
	writeParquet(t, p, 5000, []string{"a", "b", "c"}, int64s(mem, a...), strs(mem, b...), int64s(mem, cc...))

	// The byte ranges of every column chunk, from the metadata.
	pf, err := file.OpenParquetFile(p, false)
	if err != nil {
		t.Fatal(err)
	}
	type chunk struct {
		col      int
		from, to int64
	}
	var chunks []chunk
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		md := pf.MetaData().RowGroup(rg)
		for col := 0; col < 3; col++ {
			cm, _ := md.ColumnChunk(col)
			from := cm.DataPageOffset()
			if cm.HasDictionaryPage() && cm.DictionaryPageOffset() < from {
				from = cm.DictionaryPageOffset()
			}
			chunks = append(chunks, chunk{col, from, from + cm.TotalCompressedSize()})
		}
	}
	pf.Close()
	if len(chunks) != 12 {
		t.Fatalf("%d chunks, want 12 (4 row groups x 3 columns)", len(chunks))
	}

	fs := &rangeFS{}
	opts := Options{Format: FormatParquet, BatchSize: 4096}
	fields := parseColumns(t, "a BIGINT, b VARCHAR, c BIGINT")
	fc := &fileContext{uri: p, name: p, fs: fs, opts: &opts, mem: memory.NewGoAllocator(),
		inFile: fields, proj: []int{1}, outputs: fields[1:2], bad: func(e *RowError) error { return e }}
	r, err := openParquet(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	var sum int
	for {
		rec, err := r.next(ctx, 4096)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.NumCols() != 1 || rec.NumRows() > 4096 {
			t.Fatalf("batch of %d columns, %d rows", rec.NumCols(), rec.NumRows())
		}
		col := rec.Column(0).(*array.String)
		for i := 0; i < col.Len(); i++ {
			if col.Value(i) != b[rows+i] {
				t.Fatalf("row %d: %q, want %q", rows+i, col.Value(i), b[rows+i])
			}
			sum += len(col.Value(i))
		}
		rows += int(rec.NumRows())
		rec.Release()
	}
	r.close()
	if rows != n {
		t.Fatalf("%d rows, want %d", rows, n)
	}
	touched := map[int]bool{}
	sort.Slice(fs.ranges, func(i, j int) bool { return fs.ranges[i][0] < fs.ranges[j][0] })
	for _, rg := range fs.ranges {
		for _, ch := range chunks {
			if rg[0] < ch.to && ch.from < rg[1] {
				touched[ch.col] = true
			}
		}
	}
	if !touched[1] || touched[0] || touched[2] {
		t.Errorf("column chunks read: %v, want only column 1 (b); ranges %v", touched, fs.ranges)
	}
}

// TestParquetIntegerDecimals: DECIMAL columns stored as INT32 and INT64
// (as DuckDB and Spark write them) read exactly, NULLs included, across row
// groups (a batch spans two) in batches smaller than a row group, as their own type and
// converted to another scale and to text.
func TestParquetIntegerDecimals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	decs := func(p, s int32, v ...string) arrow.Array {
		dt := &arrow.Decimal128Type{Precision: p, Scale: s}
		b := array.NewDecimal128Builder(mem, dt)
		defer b.Release()
		for _, x := range v {
			if x == "NULL" {
				b.AppendNull()
				continue
			}
			n, err := decimal128.FromString(x, p, s)
			if err != nil {
				t.Fatal(err)
			}
			b.Append(n)
		}
		return b.NewArray()
	}
	small := decs(9, 2, "1.50", "-2.25", "9999999.99", "0.00", "-0.01")
	wide := decs(15, 2, "123456789012.34", "NULL", "-999999999999.99", "0.05", "NULL")
	sc := arrow.NewSchema([]arrow.Field{{Name: "p", Type: small.DataType(), Nullable: true}, {Name: "q", Type: wide.DataType(), Nullable: true}}, nil)
	rec := array.NewRecord(sc, []arrow.Array{small, wide}, 5)
	defer rec.Release()
	path := filepath.Join(dir, "dec.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(3), parquet.WithStoreDecimalAsInteger(true))
	w, err := pqarrow.NewFileWriter(sc, f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if p, q := pf.MetaData().Schema.Column(0).PhysicalType(), pf.MetaData().Schema.Column(1).PhysicalType(); p != parquet.Types.Int32 || q != parquet.Types.Int64 {
		t.Fatalf("physical types %s, %s; want INT32, INT64", p, q)
	}
	pf.Close()

	c := checkedConnector(t)
	for _, tc := range []struct{ spec, want string }{
		{"p DECIMAL(9,2), q DECIMAL(15,2)", `batch 1: 2 rows
  1.50 | 123456789012.34
  -2.25 | NULL
batch 2: 2 rows
  9999999.99 | -999999999999.99
  0.00 | 0.05
batch 3: 1 rows
  -0.01 | NULL
stats: files=1 rows=5 bad_rows=0 bad_files=0
`},
		{"q DECIMAL(18,3), p VARCHAR", `batch 1: 2 rows
  123456789012.340 | "1.50"
  NULL | "-2.25"
batch 2: 2 rows
  -999999999999.990 | "9999999.99"
  0.050 | "0.00"
batch 3: 1 rows
  NULL | "-0.01"
stats: files=1 rows=5 bad_rows=0 bad_files=0
`},
	} {
		opts, _ := ParseOptions(map[string]string{"path": path}, RoleSource)
		opts.BatchSize = 2
		if got := normalize(scanText(ctx, c, opts, ScanSpec{Fields: parseColumns(t, tc.spec)}), dir); got != tc.want {
			t.Errorf("%s: got:\n%s\nwant:\n%s", tc.spec, got, tc.want)
		}
	}
}

// TestValidUTF8Values: the whole-buffer check agrees with checking each
// value, also when a character is split across two values and for a slice.
func TestValidUTF8Values(t *testing.T) {
	mem := memory.NewGoAllocator()
	for _, tc := range []struct {
		vals []string
		want bool
	}{
		{[]string{"ok", "", "café", "NULL", "日本"}, true},
		{[]string{"ok", "bad \xff"}, false},
		{[]string{"a\xc3", "\xa9b"}, false}, // together "aéb"
		{[]string{"", "\xa9"}, false},
		{[]string{"", ""}, true},
	} {
		a := strs(mem, tc.vals...).(*array.String)
		if got := validUTF8Values(a); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.vals, got, tc.want)
		}
		a.Release()
	}
	a := strs(mem, "x\xc3", "\xa9", "ok", "é").(*array.String)
	defer a.Release()
	for _, tc := range []struct {
		lo, hi int64
		want   bool
	}{{0, 2, false}, {1, 3, false}, {2, 4, true}, {3, 4, true}} {
		s := array.NewSlice(a, tc.lo, tc.hi).(*array.String)
		if got := validUTF8Values(s); got != tc.want {
			t.Errorf("slice [%d:%d]: got %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
		s.Release()
	}
}
