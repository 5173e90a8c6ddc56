package connector

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/catalog"
)

// parseType parses the SQL type spellings the tests use.
func parseType(t testing.TB, s string) catalog.Type {
	t.Helper()
	s = strings.ToUpper(strings.TrimSpace(s))
	args := func() []int {
		i := strings.Index(s, "(")
		var out []int
		for _, a := range strings.Split(strings.TrimSuffix(s[i+1:], ")"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(a))
			if err != nil {
				t.Fatalf("bad type %q", s)
			}
			out = append(out, n)
		}
		return out
	}
	switch {
	case strings.HasPrefix(s, "DECIMAL("):
		a := args()
		return catalog.Decimal(a[0], a[1])
	case strings.HasPrefix(s, "VARCHAR("):
		return catalog.Type{Kind: catalog.KindString, Length: args()[0]}
	case strings.HasPrefix(s, "CHAR("):
		return catalog.Type{Kind: catalog.KindString, Length: args()[0], Fixed: true}
	}
	m := map[string]catalog.Type{
		"BOOLEAN": catalog.Bool, "TINYINT": catalog.Int8, "SMALLINT": catalog.Int16, "INT": catalog.Int32,
		"BIGINT": catalog.Int64, "REAL": catalog.Float32, "DOUBLE": catalog.Float64, "VARCHAR": catalog.String,
		"VARBINARY": catalog.Binary, "DATE": catalog.Date, "TIME": catalog.Time, "TIMESTAMP": catalog.Timestamp,
		"TIMESTAMPTZ": catalog.TimestampTZ, "INTERVAL": catalog.Interval, "JSON": catalog.JSON,
	}
	ty, ok := m[s]
	if !ok {
		t.Fatalf("unknown type %q", s)
	}
	return ty
}

// parseColumns parses "id INT NOT NULL, amount DECIMAL(12,2), ...".
func parseColumns(t testing.TB, spec string) []Field {
	t.Helper()
	var out []Field
	depth, start := 0, 0
	var parts []string
	for i, c := range spec {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, spec[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, spec[start:])
	for _, p := range parts {
		p = strings.TrimSpace(p)
		name, rest, _ := strings.Cut(p, " ")
		f := Field{Name: name}
		if r, ok := strings.CutSuffix(strings.TrimSpace(rest), " NOT NULL"); ok {
			f.NotNull = true
			rest = r
		}
		f.Type = parseType(t, rest)
		out = append(out, f)
	}
	return out
}

// formatFields prints fields as "name TYPE [NOT NULL], ...".
func formatFields(fields []Field) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.String()
	}
	return strings.Join(parts, ", ")
}

// formatCell prints one value: NULL, strings quoted, the rest as text.
func formatCell(t catalog.Type, a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	s := string(appendValue(nil, t, a, i))
	if t.IsString() {
		return strconv.Quote(s)
	}
	return s
}

// formatRecord prints a record's rows, one per line, cells joined by " | ".
func formatRecord(b *strings.Builder, fields []Field, rec arrow.Record, indent string) {
	if rec.NumCols() == 0 {
		return
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		cells := make([]string, rec.NumCols())
		for k := range cells {
			cells[k] = formatCell(fields[k].Type, rec.Column(k), i)
		}
		b.WriteString(indent + strings.Join(cells, " | ") + "\n")
	}
}

// scanText runs a scan to the end and prints its batches, stats,
// quarantine rows and error.
func scanText(ctx context.Context, c *FileConnector, opts Options, spec ScanSpec) string {
	var b strings.Builder
	s, err := c.Scan(ctx, opts, spec)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	defer s.Close()
	var out []Field
	if spec.Columns == nil {
		out = spec.Fields
	} else {
		for _, i := range spec.Columns {
			out = append(out, spec.Fields[i])
		}
	}
	var quar []string
	takeQ := func() {
		if q := s.TakeQuarantine(); q != nil {
			var qb strings.Builder
			formatRecord(&qb, QuarantineFields(), q, "  ")
			quar = append(quar, qb.String())
			q.Release()
		}
	}
	n := 0
	for {
		rec, err := s.Next(ctx)
		takeQ()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			break
		}
		n++
		fmt.Fprintf(&b, "batch %d: %d rows\n", n, rec.NumRows())
		formatRecord(&b, out, rec, "  ")
		rec.Release()
	}
	st := s.Stats()
	fmt.Fprintf(&b, "stats: files=%d rows=%d bad_rows=%d bad_files=%d\n", st.Files, st.Rows, st.BadRows, st.BadFiles)
	if len(quar) > 0 {
		b.WriteString("quarantine:\n" + strings.Join(quar, ""))
	}
	return b.String()
}

// runIDPattern matches run ids in names.
var runIDPattern = regexp.MustCompile(`\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}`)

// normalize replaces the test directory and run ids in output.
func normalize(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "$DIR")
	}
	return runIDPattern.ReplaceAllString(s, "<run>")
}

// listTree prints every file under dir (relative, sorted), hidden ones too.
func listTree(t testing.TB, dir string) string {
	t.Helper()
	var names []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	return b.String()
}

// unescapeBytes turns \xHH escapes of test input into bytes.
func unescapeBytes(s string) []byte {
	re := regexp.MustCompile(`\\x[0-9a-fA-F]{2}`)
	return re.ReplaceAllFunc([]byte(s), func(m []byte) []byte {
		v, _ := strconv.ParseUint(string(m[2:]), 16, 8)
		return []byte{byte(v)}
	})
}

// ddSpec is the "key: value" input of scan, infer and write directives.
type ddSpec struct {
	opts    map[string]string
	columns string
	project string
	rows    []string
}

func parseDDSpec(t testing.TB, input, dir string) ddSpec {
	t.Helper()
	sp := ddSpec{opts: map[string]string{}}
	lines := strings.Split(input, "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) == "rows:" {
			sp.rows = lines[i+1:]
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad spec line %q", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "columns":
			sp.columns = v
		case "project":
			sp.project = v
		case "path":
			if !strings.HasPrefix(v, "s3://") {
				v = filepath.ToSlash(filepath.Join(dir, v))
				if strings.HasSuffix(line, "/") {
					v += "/"
				}
			}
			sp.opts[k] = v
		default:
			sp.opts[k] = v
		}
	}
	return sp
}

// scanSpec returns the ScanSpec of a dd spec.
func (sp ddSpec) scanSpec(t testing.TB) ScanSpec {
	spec := ScanSpec{Fields: parseColumns(t, sp.columns)}
	if sp.project != "" {
		spec.Columns = []int{}
		if sp.project != "-" {
			for _, name := range strings.Split(sp.project, ",") {
				i := findField(spec.Fields, strings.TrimSpace(name))
				if i < 0 {
					t.Fatalf("no column %q", name)
				}
				spec.Columns = append(spec.Columns, i)
			}
		}
	}
	return spec
}

// runFileDirectives handles the directives that every datadriven file of
// this package may use; it returns false for other commands.
func runFileDirectives(t *testing.T, d *datadriven.TestData, c *FileConnector, dir string) (string, bool) {
	ctx := context.Background()
	switch d.Cmd {
	case "file":
		var name string
		d.ScanArgs(t, "name", &name)
		data := []byte(d.Input)
		if d.HasArg("escapes") {
			data = unescapeBytes(d.Input)
		}
		if !d.HasArg("nonl") {
			data = append(data, '\n')
		}
		if d.HasArg("crlf") {
			data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		}
		if d.HasArg("gzip") {
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			zw.Write(data)
			zw.Close()
			data = zb.Bytes()
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return "", true
	case "scan":
		sp := parseDDSpec(t, d.Input, dir)
		opts, err := ParseOptions(sp.opts, RoleSource)
		if err != nil {
			return normalize("error: "+err.Error()+"\n", dir), true
		}
		return normalize(scanText(ctx, c, opts, sp.scanSpec(t)), dir), true
	case "infer":
		sp := parseDDSpec(t, d.Input, dir)
		opts, err := ParseOptions(sp.opts, RoleSource)
		if err != nil {
			return normalize("error: "+err.Error()+"\n", dir), true
		}
		fields, err := c.InferSchema(ctx, opts)
		if err != nil {
			return normalize("error: "+err.Error()+"\n", dir), true
		}
		var b strings.Builder
		for _, f := range fields {
			b.WriteString(f.String() + "\n")
		}
		return b.String(), true
	case "write":
		return normalize(writeDirective(t, c, d.Input, dir), dir), true
	case "ls":
		sub := ""
		if d.HasArg("dir") {
			d.ScanArgs(t, "dir", &sub)
		}
		return normalize(listTree(t, filepath.Join(dir, sub)), dir), true
	case "cat":
		var name string
		d.ScanArgs(t, "name", &name)
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(name)))
		if len(matches) != 1 {
			t.Fatalf("cat %s: %d matches", name, len(matches))
		}
		data, err := os.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		return normalize(string(data), dir), true
	}
	return "", false
}

// writeDirective reads the spec's rows (CSV text of the columns) and writes
// them through a sink with the spec's options: "commit" (default) or
// "abort" after writing, per the "then" key.
func writeDirective(t testing.TB, c *FileConnector, input, dir string) string {
	ctx := context.Background()
	sp := parseDDSpec(t, input, dir)
	then := sp.opts["then"]
	delete(sp.opts, "then")
	fields := parseColumns(t, sp.columns)
	rows, err := readRows(ctx, c, dir, fields, strings.Join(sp.rows, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, r := range rows {
			r.Release()
		}
	}()
	opts, err := ParseOptions(sp.opts, RoleSink)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	s, err := c.OpenSink(ctx, opts, fields)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	for _, r := range rows {
		if err := s.Write(ctx, r); err != nil {
			s.Abort(ctx)
			return "error: " + err.Error() + "\n"
		}
	}
	if then == "abort" {
		if err := s.Abort(ctx); err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "aborted\n"
	}
	m, err := s.Commit(ctx)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return fmt.Sprintf("committed %d rows in %d files\n", m.Rows, len(m.Files))
}

// readRows reads CSV text (header-less, '|'-free) as batches of fields,
// two rows a batch.
func readRows(ctx context.Context, c *FileConnector, dir string, fields []Field, text string) ([]arrow.Record, error) {
	f, err := os.CreateTemp(dir, ".rows-*.csv")
	if err != nil {
		return nil, err
	}
	f.WriteString(text + "\n")
	f.Close()
	defer os.Remove(f.Name())
	opts, err := ParseOptions(map[string]string{"path": filepath.ToSlash(f.Name()), "format": "csv", "batch_size": "2", "null_values": "NULL"}, RoleSource)
	if err != nil {
		return nil, err
	}
	s, err := c.Scan(ctx, opts, ScanSpec{Fields: fields})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []arrow.Record
	for {
		r, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}

// checkedConnector returns a connector whose allocator fails the test on
// leaked buffers.
func checkedConnector(t *testing.T) *FileConnector {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return NewFileConnector(Config{Allocator: mem})
}
