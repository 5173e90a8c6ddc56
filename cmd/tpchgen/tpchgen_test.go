package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/pingcap/go-tpc/tpch/dbgen"
)

// newTestWriter returns a tblWriter over a temporary file; read it back
// with lines.
func newTestWriter(t *testing.T, table dbgen.Table) *tblWriter {
	t.Helper()
	w, err := newTblWriter(table, filepath.Join(t.TempDir(), "out.tbl"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// lines closes tw and returns what it wrote.
func (tw *tblWriter) lines(t *testing.T) string {
	t.Helper()
	name := tw.f.Name()
	if err := tw.close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTblWriterLayout(t *testing.T) {
	order := &dbgen.Order{OKey: 1, CustKey: 36901, Status: 'O', TotalPrice: 17367456, Date: "1996-01-02",
		OrderPriority: "5-LOW", Clerk: "Clerk#000000951", ShipPriority: 0, Comment: "nstructions sleep furiously among ",
		Lines: []dbgen.LineItem{
			{OKey: 1, PartKey: 155190, SuppKey: 7706, LCnt: 1, Quantity: 17, EPrice: 2116823, Discount: 4, Tax: 2,
				RFlag: 'N', LStatus: 'O', SDate: "1996-03-13", CDate: "1996-02-12", RDate: "1996-03-22",
				ShipInstruct: "DELIVER IN PERSON", ShipMode: "TRUCK", Comment: "egular courts above the"},
			{OKey: 1, PartKey: 2, SuppKey: 3, LCnt: 2, Quantity: 1, EPrice: -5, Discount: 10, Tax: 0,
				RFlag: 'R', LStatus: 'F', SDate: "1996-03-14", CDate: "1996-02-13", RDate: "1996-03-23",
				ShipInstruct: "NONE", ShipMode: "MAIL", Comment: ""},
		}}
	part := &dbgen.Part{PartKey: 1, Name: "goldenrod lavender", Mfgr: "Manufacturer#1", Brand: "Brand#13",
		Type: "PROMO BURNISHED COPPER", Size: 7, Container: "JUMBO PKG", RetailPrice: 90100, Comment: "ly. slyly ironi",
		S: []dbgen.PartSupp{{PartKey: 1, SuppKey: 2, Qty: 3325, SCost: 77112, Comment: "first"},
			{PartKey: 1, SuppKey: 2502, Qty: 8076, SCost: 99301, Comment: "second"}}}
	cases := []struct {
		table dbgen.Table
		item  any
		want  string
	}{
		{dbgen.TNation, &dbgen.Nation{Code: 0, Text: "ALGERIA", Join: 0, Comment: " haggle. carefully final"},
			"0|ALGERIA|0| haggle. carefully final\n"},
		{dbgen.TRegion, &dbgen.Region{Code: 1, Text: "AMERICA", Comment: "hs use ironic, even requests. s"},
			"1|AMERICA|hs use ironic, even requests. s\n"},
		{dbgen.TSupp, &dbgen.Supp{SuppKey: 1, Name: "Supplier#000000001", Address: "N kD4on9OM Ipw3,gf0JBoQDd7tgrzrddZ",
			NationCode: 17, Phone: "27-918-335-1736", Acctbal: 575611, Comment: "each slyly above the careful"},
			"1|Supplier#000000001|N kD4on9OM Ipw3,gf0JBoQDd7tgrzrddZ|17|27-918-335-1736|5756.11|each slyly above the careful\n"},
		{dbgen.TCust, &dbgen.Cust{CustKey: 2, Name: "Customer#000000002", Address: "XSTf4,NCwDVaWNe6tEgvwfmRchLXak",
			NationCode: 13, Phone: "23-768-687-3665", Acctbal: 12165, MktSegment: "AUTOMOBILE", Comment: "l accounts. "},
			"2|Customer#000000002|XSTf4,NCwDVaWNe6tEgvwfmRchLXak|13|23-768-687-3665|121.65|AUTOMOBILE|l accounts. \n"},
		{dbgen.TCust, &dbgen.Cust{CustKey: 3, Acctbal: -99999, MktSegment: "X"}, "3|||0||-999.99|X|\n"},
		{dbgen.TPart, part,
			"1|goldenrod lavender|Manufacturer#1|Brand#13|PROMO BURNISHED COPPER|7|JUMBO PKG|901.00|ly. slyly ironi\n"},
		{dbgen.TPsupp, part, "1|2|3325|771.12|first\n1|2502|8076|993.01|second\n"},
		{dbgen.TOrder, order,
			"1|36901|O|173674.56|1996-01-02|5-LOW|Clerk#000000951|0|nstructions sleep furiously among \n"},
		{dbgen.TLine, order,
			"1|155190|7706|1|17|21168.23|0.04|0.02|N|O|1996-03-13|1996-02-12|1996-03-22|DELIVER IN PERSON|TRUCK|egular courts above the\n" +
				"1|2|3|2|1|-0.05|0.10|0.00|R|F|1996-03-14|1996-02-13|1996-03-23|NONE|MAIL|\n"},
	}
	for _, c := range cases {
		w := newTestWriter(t, c.table)
		if err := w.Load(c.item); err != nil {
			t.Fatal(err)
		}
		if got := w.lines(t); got != c.want {
			t.Errorf("table %d:\ngot  %q\nwant %q", c.table, got, c.want)
		}
	}
	w := newTestWriter(t, dbgen.TOrderLine)
	if err := w.Load(order); err == nil || !strings.Contains(err.Error(), "no loader for dbgen table") {
		t.Errorf("Load on a composite table: error = %v", err)
	}
	w.close()
}

func TestAppendMoneyMatchesDbgen(t *testing.T) {
	for _, cents := range []int64{0, 1, 9, 10, 99, 100, 101, -1, -99, -100, -12345, 99999999, -99999} {
		// dbgen's money type is unexported: set it through a struct field.
		var c dbgen.Cust
		reflect.ValueOf(&c).Elem().FieldByName("Acctbal").SetInt(cents)
		if got, want := string(appendMoney(nil, cents)), dbgen.FmtMoney(c.Acctbal); got != want {
			t.Errorf("appendMoney(%d) = %q, dbgen.FmtMoney = %q", cents, got, want)
		}
	}
}

func TestParseCents(t *testing.T) {
	good := map[string]int64{"0": 0, "17": 1700, "0.04": 4, "0.1": 10, "-12.5": -1250, "+3.01": 301,
		"21168.23": 2116823, "9999999999999.99": 999999999999999}
	for in, want := range good {
		if got, err := parseCents([]byte(in)); err != nil || got != want {
			t.Errorf("parseCents(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", ".", "1.234", "1.2.3", "12a", "10000000000000.00", "1e5", " 1"} {
		if got, err := parseCents([]byte(in)); err == nil {
			t.Errorf("parseCents(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	good := map[string]arrow.Date32{"1970-01-01": 0, "1970-01-02": 1, "1969-12-31": -1, "1992-01-01": 8035, "2000-02-29": 11016}
	for in, want := range good {
		if got, err := parseDate([]byte(in)); err != nil || got != want {
			t.Errorf("parseDate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1992-1-01", "1992/01/01", "1992-13-01", "1992-02-30", "1900-02-29", "19a2-01-01"} {
		if _, err := parseDate([]byte(in)); err == nil {
			t.Errorf("parseDate(%q): want an error", in)
		}
	}
}

// readParquetDir reads every part file of dir in name order and returns the
// schema and the rows formatted as '|'-joined text.
func readParquetDir(t *testing.T, dir string) (*arrow.Schema, []string, []string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "part-*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var schema *arrow.Schema
	var rows []string
	for _, name := range names {
		pf, err := file.OpenParquetFile(name, false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		schema = tbl.Schema()
		tr := array.NewTableReader(tbl, 1024)
		for tr.Next() {
			rec := tr.Record()
			for r := 0; r < int(rec.NumRows()); r++ {
				vals := make([]string, rec.NumCols())
				for c := range vals {
					col := rec.Column(c)
					switch a := col.(type) {
					case *array.Date32:
						vals[c] = a.Value(r).FormattedString()
					case *array.Decimal128:
						vals[c] = a.Value(r).ToString(2)
					default:
						vals[c] = col.ValueStr(r)
					}
				}
				rows = append(rows, strings.Join(vals, "|"))
			}
		}
		tr.Release()
		tbl.Release()
		pf.Close()
	}
	base := make([]string, len(names))
	for i, n := range names {
		base[i] = filepath.Base(n)
	}
	return schema, rows, base
}

func specNamed(t *testing.T, name string) tableSpec {
	for _, s := range tpchTables() {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no table %s", name)
	return tableSpec{}
}

const lineitemTbl = `1|155190|7706|1|17|21168.23|0.04|0.02|N|O|1996-03-13|1996-02-12|1996-03-22|DELIVER IN PERSON|TRUCK|egular courts above the
1|67310|7311|2|36|45983.16|0.09|0.06|N|O|1996-04-12|1996-02-28|1996-04-20|TAKE BACK RETURN|MAIL|ly final dependencies: slyly bold 
2|106170|1191|1|38|44694.46|0.00|0.05|N|O|1997-01-28|1997-01-14|1997-02-02|TAKE BACK RETURN|RAIL|ven requests. deposits breach a
3|4297|1798|1|45|54058.05|0.06|0.00|R|F|1994-02-02|1994-01-04|1994-02-23|NONE|AIR|ongside of the furiously brave acco
3|19036|6540|2|49|-46796.47|0.10|0.00|R|F|1993-11-09|1993-12-20|1993-11-24|TAKE BACK RETURN|RAIL|
`

func TestConvertLineitem(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "lineitem.tbl")
	if err := os.WriteFile(src, []byte(lineitemTbl), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	n, err := convertTable(context.Background(), specNamed(t, "lineitem"), src, out, convertOptions{rowsPerFile: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("converted %d rows, want 5", n)
	}
	schema, rows, files := readParquetDir(t, out)
	if got := strings.Join(files, ","); got != "part-00000.parquet,part-00001.parquet,part-00002.parquet" {
		t.Errorf("files = %s, want three files of at most 2 rows", got)
	}
	wantSchema := "l_orderkey:int64 l_partkey:int64 l_suppkey:int64 l_linenumber:int32 l_quantity:decimal(15, 2) " +
		"l_extendedprice:decimal(15, 2) l_discount:decimal(15, 2) l_tax:decimal(15, 2) l_returnflag:utf8 " +
		"l_linestatus:utf8 l_shipdate:date32 l_commitdate:date32 l_receiptdate:date32 l_shipinstruct:utf8 " +
		"l_shipmode:utf8 l_comment:utf8"
	var got []string
	for _, f := range schema.Fields() {
		if f.Nullable {
			t.Errorf("column %s is nullable, want NOT NULL", f.Name)
		}
		got = append(got, f.Name+":"+f.Type.String())
	}
	if strings.Join(got, " ") != wantSchema {
		t.Errorf("schema\n%s\nwant\n%s", strings.Join(got, " "), wantSchema)
	}
	// Every row reads back as its .tbl line, l_quantity with 2 decimals.
	wantRows := strings.Split(strings.TrimSuffix(lineitemTbl, "\n"), "\n")
	for i := range wantRows {
		f := strings.Split(wantRows[i], "|")
		f[4] += ".00"
		wantRows[i] = strings.Join(f, "|")
	}
	if strings.Join(rows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(wantRows, "\n"))
	}
	// DECIMAL(15,2) is stored as INT64, as DuckDB and Spark store it.
	pf, err := file.OpenParquetFile(filepath.Join(out, "part-00000.parquet"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var physical []string
	for i := 0; i < pf.MetaData().Schema.NumColumns(); i++ {
		c := pf.MetaData().Schema.Column(i)
		if c.LogicalType().String() == "Decimal(precision=15, scale=2)" {
			physical = append(physical, c.Name()+":"+c.PhysicalType().String())
		}
	}
	if got, want := strings.Join(physical, " "), "l_quantity:INT64 l_extendedprice:INT64 l_discount:INT64 l_tax:INT64"; got != want {
		t.Errorf("decimal columns %s, want %s", got, want)
	}
}

func TestConvertErrors(t *testing.T) {
	cases := []struct{ table, text, want string }{
		{"region", "0|AFRICA|x\n1|AMERICA\n", "region.tbl:2: 2 fields, want 3"},
		{"region", "0|AFRICA|x|y\n", "region.tbl:1: more than 3 fields"},
		{"region", "zero|AFRICA|x\n", `region.tbl:1: column r_regionkey: bad BIGINT "zero"`},
		{"partsupp", "1|2|3000000000|1.00|c\n", `partsupp.tbl:1: column ps_availqty: bad INT "3000000000"`},
		{"partsupp", "1|2|3|1.001|c\n", `column ps_supplycost: bad DECIMAL(15,2) "1.001": more than 2 fraction digits`},
		{"orders", "1|2|O|1.00|1996-02-30|1-URGENT|Clerk#1|0|c\n", `column o_orderdate: bad DATE, want YYYY-MM-DD: "1996-02-30" is not a calendar date`},
	}
	for _, c := range cases {
		dir := t.TempDir()
		src := filepath.Join(dir, c.table+".tbl")
		os.WriteFile(src, []byte(c.text), 0o644)
		_, err := convertTable(context.Background(), specNamed(t, c.table), src, dir, convertOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: error = %v, want one containing %q", c.table, c.text, err, c.want)
		}
	}
}

// sampleTbl returns a valid one-row .tbl text for spec.
func sampleTbl(spec tableSpec, key int) string {
	vals := make([]string, len(spec.cols))
	for i, c := range spec.cols {
		switch c.kind {
		case kindBigint, kindInt:
			vals[i] = fmt.Sprint(key + i)
		case kindDecimal:
			vals[i] = fmt.Sprintf("%d.%02d", key, i)
		case kindDate:
			vals[i] = fmt.Sprintf("1995-%02d-%02d", 1+key%12, 1+i)
		default:
			vals[i] = fmt.Sprintf("%s %d", c.name, key)
		}
	}
	return strings.Join(vals, "|") + "\n"
}

// TestRunReusesCache: with complete .tbl files in place, -format parquet
// converts them without generating, writes the marker, and a second run
// reuses both; a parquet directory without a marker is made anew.
func TestRunReusesCache(t *testing.T) {
	out := t.TempDir()
	tblDir := filepath.Join(out, "tbl")
	os.MkdirAll(tblDir, 0o755)
	rows := map[string]int64{}
	for _, spec := range tpchTables() {
		text := sampleTbl(spec, 1) + sampleTbl(spec, 2)
		if err := os.WriteFile(filepath.Join(tblDir, spec.name+".tbl"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		rows[spec.name] = 2
	}
	if err := writeMarker(tblDir, marker{ScaleFactor: 1, Format: "tbl", Generator: generatorVersion, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	// A leftover of an interrupted conversion.
	stale := filepath.Join(out, "parquet", "stale.parquet")
	os.MkdirAll(filepath.Dir(stale), 0o755)
	os.WriteFile(stale, []byte("half"), 0o644)

	var log bytes.Buffer
	if err := run(context.Background(), options{sf: 1, out: out, format: "parquet"}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "tbl: reusing") || !strings.Contains(log.String(), "parquet: lineitem           2 rows in") {
		t.Errorf("first run log:\n%s", log.String())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale file survived: %v", err)
	}
	m, ok := readMarker(filepath.Join(out, "parquet"), 1)
	if !ok || m.Rows["orders"] != 2 || len(m.Rows) != 8 {
		t.Errorf("parquet marker = %+v, %v", m, ok)
	}
	if _, ok := readMarker(filepath.Join(out, "parquet"), 2); ok {
		t.Errorf("marker for sf 1 accepted for sf 2")
	}
	_, got, _ := readParquetDir(t, filepath.Join(out, "parquet", "nation"))
	if want := "1|n_name 1|3|n_comment 1\n2|n_name 2|4|n_comment 2"; strings.Join(got, "\n") != want {
		t.Errorf("nation rows\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	// The .tbl files existed before: -format parquet keeps them.
	if _, err := os.Stat(filepath.Join(tblDir, "lineitem.tbl")); err != nil {
		t.Errorf("tbl removed: %v", err)
	}

	log.Reset()
	if err := run(context.Background(), options{sf: 1, out: out, format: "both"}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "parquet: reusing") || !strings.Contains(log.String(), "tbl: reusing") ||
		strings.Contains(log.String(), "rows in") {
		t.Errorf("second run did work:\n%s", log.String())
	}

	// A Parquet output of an older layout is made anew.
	old := m
	old.Layout = ""
	if err := writeMarker(filepath.Join(out, "parquet"), old); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if err := run(context.Background(), options{sf: 1, out: out, format: "parquet"}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "tbl: reusing") || !strings.Contains(log.String(), "parquet: lineitem           2 rows in") {
		t.Errorf("old layout reused:\n%s", log.String())
	}
	if m, ok := readMarker(filepath.Join(out, "parquet"), 1); !ok || m.Layout != parquetLayout {
		t.Errorf("remade marker = %+v, %v", m, ok)
	}
	log.Reset()
	if err := run(context.Background(), options{sf: 1, out: out, format: "both"}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "parquet: reusing") || !strings.Contains(log.String(), "tbl: reusing") ||
		strings.Contains(log.String(), "rows in") {
		t.Errorf("second run did work:\n%s", log.String())
	}
}

func TestRunFlags(t *testing.T) {
	for _, o := range []options{{sf: 1}, {sf: 0, out: "x"}, {sf: 1, out: "x", format: "csv"}} {
		if err := run(context.Background(), o, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%+v): want an error", o)
		}
	}
}

// TestEtlcDoesNotLinkGoTPC: go-tpc is for this command only; no other
// package of the module may depend on it.
func TestEtlcDoesNotLinkGoTPC(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(gobin, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/etlc/etlc/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen, selfUses := 0, false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		seen++
		pkg := fields[0]
		for _, dep := range fields[1:] {
			if !strings.HasPrefix(dep, "github.com/pingcap/go-tpc") {
				continue
			}
			if pkg == "github.com/etlc/etlc/cmd/tpchgen" {
				selfUses = true
			} else {
				t.Errorf("%s depends on %s; only cmd/tpchgen may", pkg, dep)
			}
		}
	}
	if !selfUses {
		t.Errorf("go list shows no go-tpc dependency of cmd/tpchgen: the check is not looking")
	}
	if seen < 3 {
		t.Errorf("go list saw %d packages, want the module's packages", seen)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("ETLC_CACHE", "/x/cache")
	if got := defaultCacheDir(); got != "/x/cache" {
		t.Errorf("with ETLC_CACHE: %s", got)
	}
	t.Setenv("ETLC_CACHE", "")
	t.Setenv("HOME", "/home/u")
	if got := defaultCacheDir(); got != "/home/u/.cache/etlc" {
		t.Errorf("without ETLC_CACHE: %s", got)
	}
}
