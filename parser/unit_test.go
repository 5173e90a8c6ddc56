package parser

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestTPCH parses the 22 TPC-H queries of the shared benchmark folder.
func TestTPCH(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "tpch", "queries")
	files, err := filepath.Glob(filepath.Join(dir, "q*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			t.Skipf("%s is absent", dir)
		}
		t.Fatalf("no queries in %s", dir)
	}
	if len(files) != 22 {
		t.Errorf("found %d TPC-H queries, want 22", len(files))
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		script, diags := Parse(NewSource(f, string(text)), Options{})
		if len(diags) > 0 {
			t.Errorf("%s: %v", filepath.Base(f), diags)
			continue
		}
		if len(script.Stmts) != 1 {
			t.Errorf("%s: %d statements, want 1", filepath.Base(f), len(script.Stmts))
			continue
		}
		sel, ok := script.Stmts[0].(*Select)
		if !ok {
			t.Errorf("%s: got %T, want *Select", filepath.Base(f), script.Stmts[0])
			continue
		}
		// Every expression node lands on a token of the script that starts
		// where the node says (or on the construct it was lowered from).
		var v nodeLister
		sel.Query.Node.Accept(&v)
		starts := map[int]bool{}
		for _, tok := range lex(string(text)).toks {
			starts[tok.start] = true
		}
		for _, e := range v.nodes {
			if off := e.OriginTextPosition(); off != 0 && !starts[sel.Query.Frag.Orig(off)] {
				t.Errorf("%s: %T at fragment offset %d maps to script offset %d, not a token start",
					filepath.Base(f), e, off, sel.Query.Frag.Orig(off))
			}
		}
	}
}

// TestOrig checks Fragment.Orig through the lowering: copied text maps
// byte for byte, inserted text maps to the construct it replaced.
func TestOrig(t *testing.T) {
	text := "SELECT  x::int + 1, INTERVAL '2' DAY /* c */ FROM t"
	script, diags := Parse(NewSource("o.sql", text), Options{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	f := script.Stmts[0].(*Select).Query.Frag
	const want = "select  __etl_cast(x, 'INT') + 1, __etl_interval('2 day')   from t"
	if f.Text != want {
		t.Fatalf("lowered text\n got %q\nwant %q", f.Text, want)
	}
	cases := []struct {
		frag string // a unique substring of the fragment
		orig string // the script text its first byte maps to
	}{
		{"select", "SELECT"},
		{"__etl_cast(", "x::int"},
		{"x, 'INT'", "x::int"},
		{", 'INT'", "::int"},
		{"'INT')", "int +"},
		{"+ 1", "+ 1"},
		{"__etl_interval", "INTERVAL '2'"},
		{"'2 day')", "INTERVAL '2'"},
		{"   from", " /* c */"},
		{" from", " FROM"},
		{"from t", "FROM t"},
	}
	for _, c := range cases {
		i := strings.Index(f.Text, c.frag)
		if i < 0 {
			t.Fatalf("%q not in %q", c.frag, f.Text)
		}
		o := f.Orig(i)
		if !strings.HasPrefix(text[o:], c.orig) {
			t.Errorf("Orig(%d) (%q) = %d (%q), want the start of %q", i, c.frag, o, text[o:min(len(text), o+10)], c.orig)
		}
	}
	// Every copied byte maps to the same byte of the script (up to case).
	for i := 0; i < len(f.Text); i++ {
		if f.Copied(i) && !strings.EqualFold(f.Text[i:i+1], text[f.Orig(i):f.Orig(i)+1]) {
			t.Errorf("copied byte %d %q maps to %q", i, f.Text[i], text[f.Orig(i)])
		}
	}
	if got, want := f.Orig(len(f.Text)), len(text); got != want {
		t.Errorf("Orig(end) = %d, want %d", got, want)
	}
}

// TestExprPositions checks that the nodes of an embedded expression map
// back into the statement they came from, not to the "SELECT (" wrapper.
func TestExprPositions(t *testing.T) {
	text := "ASSERT (SELECT count(*) FROM staged) > ${min}, 'too few';"
	script, diags := Parse(NewSource("a.sql", text), Options{Params: map[string]string{"min": "3"}})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	a := script.Stmts[0].(*Assert)
	if got := a.Cond.Pos(); got != strings.Index(text, "(SELECT") {
		t.Errorf("cond at %d, want %d", got, strings.Index(text, "(SELECT"))
	}
	b := a.Cond.Node.(*ast.BinaryOperationExpr)
	if got, want := a.Cond.Frag.Orig(b.R.OriginTextPosition()), strings.Index(text, "${min}"); got != want {
		t.Errorf("parameter literal at %d, want %d", got, want)
	}
	if a.Message != "too few" {
		t.Errorf("message %q", a.Message)
	}
}

func TestFindIdent(t *testing.T) {
	text := "SELECT o.id FROM orders o JOIN etl.Customers c ON o.c = c.id JOIN \"Orders\" x ON true"
	script, diags := Parse(NewSource("f.sql", text), Options{})
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	f := script.Stmts[0].(*Select).Query.Frag
	cases := []struct {
		name  string
		after int
		want  int
	}{
		{"orders", 0, strings.Index(text, "orders")},
		{"ORDERS", 0, strings.Index(text, "orders")},
		{"Orders", strings.Index(text, "orders") + 1, strings.Index(text, "\"Orders\"")},
		{"etl.customers", 0, strings.Index(text, "etl.")},
		{"customers", 0, -1}, // only as part of etl.customers
		{"missing", 0, -1},
		{"__etl_cast", 0, -1},
	}
	for _, c := range cases {
		if got := f.FindIdent(c.name, c.after); got != c.want {
			t.Errorf("FindIdent(%q, %d) = %d, want %d", c.name, c.after, got, c.want)
		}
	}
	// Only copied text is searched: the inserted __etl_cast is not a name.
	s2, _ := Parse(NewSource("g.sql", "SELECT a::int FROM t"), Options{})
	if got := s2.Stmts[0].(*Select).Query.Frag.FindIdent("__etl_cast", 0); got != -1 {
		t.Errorf("found inserted text at %d", got)
	}
}

func TestClosestName(t *testing.T) {
	cands := []string{"amount", "customer_id", "CREATE", "ts", "name"}
	cases := []struct{ name, want string }{
		{"amout", "amount"},
		{"amuont", "amount"}, // a swap is one edit
		{"customerid", "customer_id"},
		{"custmer_di", "customer_id"},
		{"creat", "CREATE"},
		{"tss", "ts"},
		{"nmae", "name"},
		{"zzz", ""},
		{"x", ""},
		{"", ""},
		{"amount", "amount"},
	}
	for _, c := range cases {
		if got := ClosestName(c.name, cands); got != c.want {
			t.Errorf("ClosestName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTypeNames(t *testing.T) {
	cases := map[string]string{
		"integer": "INT", "int4": "INT", "int8": "BIGINT", "int2": "SMALLINT", "float8": "DOUBLE",
		"double precision": "DOUBLE", "float4": "REAL", "float": "DOUBLE", "float(24)": "REAL",
		"float(53)": "DOUBLE", "numeric": "DECIMAL", "numeric(10, 2)": "DECIMAL(10,2)", "text": "VARCHAR",
		"character varying(5)": "VARCHAR(5)", "string": "VARCHAR", "character(2)": "CHAR(2)",
		"bool": "BOOLEAN", "timestamp with time zone": "TIMESTAMPTZ", "timestamptz": "TIMESTAMPTZ",
		"timestamp(3) without time zone": "TIMESTAMP(3)", "bytea": "VARBINARY", "datetime": "TIMESTAMP",
		"signed": "BIGINT", "signed integer": "BIGINT", "pg_catalog.regclass": "REGCLASS", "jsonb": "JSON",
		"int[]": "INT[]", "varchar(10)[]": "VARCHAR(10)[]", "\"char\"": "CHAR", "interval": "INTERVAL",
		"time with time zone": "TIMETZ", "int unsigned": "INT UNSIGNED",
	}
	names := make([]string, 0, len(cases))
	for k := range cases {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, text := range names {
		toks := lex(text).toks
		typ, next, ok := parseType(text, toks, 0, len(toks))
		if !ok || next != len(toks) {
			t.Errorf("%q: ok=%v next=%d of %d", text, ok, next, len(toks))
			continue
		}
		if got := typ.String(); got != cases[text] {
			t.Errorf("%q: got %s, want %s", text, got, cases[text])
		}
		if typ.Text != text {
			t.Errorf("%q: Text %q", text, typ.Text)
		}
	}
}

func TestParseExprErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"", "e.sql:1:1: error: expected an expression, found end of input"},
		{"a b", "e.sql:1:3: error: syntax error at or near \"b\""},
		{"1, 2", "e.sql:1:2: error: syntax error at or near \",\""},
		{"a FROM t", "e.sql:1:3: error: syntax error at or near \"FROM\""},
	} {
		e, diags := ParseExpr(NewSource("e.sql", c.text), Options{})
		if e != nil || diags.Error() != c.want {
			t.Errorf("ParseExpr(%q) = %v, %q; want nil, %q", c.text, e, diags.Error(), c.want)
		}
	}
}

// FuzzParse checks that Parse never panics and that every diagnostic lies
// inside the script.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Each datadriven case's input is a seed.
		for _, block := range strings.Split(string(data), "\n\n") {
			lines := strings.Split(block, "\n")
			var in []string
			for _, l := range lines[min(1, len(lines)):] {
				if l == "----" {
					break
				}
				in = append(in, l)
			}
			f.Add(strings.Join(in, "\n"))
		}
	}
	f.Add("SELECT a::int ~* b FROM STREAM s ORDER BY a NULLS FIRST; ${x} $$ E'\\")
	f.Fuzz(func(t *testing.T, text string) {
		src := NewSource("fuzz.sql", text)
		script, diags := Parse(src, Options{Params: map[string]string{"x": "1"}})
		if script == nil {
			t.Fatal("nil script")
		}
		for _, d := range diags {
			if d.Span.Start < 0 || d.Span.Start > len(text) || d.Span.End < d.Span.Start || d.Span.End > len(text) {
				t.Fatalf("diagnostic %q has span %v outside the text (%d bytes)", d.Message, d.Span, len(text))
			}
		}
		for _, st := range script.Stmts {
			sp := st.StmtSpan()
			if sp.Start < 0 || sp.End > len(text) || sp.End < sp.Start {
				t.Fatalf("statement span %v outside the text", sp)
			}
			_ = Dump(st)
		}
	})
}

func TestNodePos(t *testing.T) {
	text := "SELECT count(*), x FROM t"
	script, _ := Parse(NewSource("n.sql", text), Options{})
	q := script.Stmts[0].(*Select).Query
	sel := q.Node.(*ast.SelectStmt)
	if got := q.Frag.NodePos(sel.Fields.Fields[1].Expr); got != strings.Index(text, "x") {
		t.Errorf("x at %d", got)
	}
	agg := sel.Fields.Fields[0].Expr.(*ast.AggregateFuncExpr)
	if got := q.Frag.NodePos(agg.Args[0]); got != -1 {
		t.Errorf("count(*) argument at %d, want -1", got)
	}
	if got := q.Frag.NodePos(sel.From.TableRefs.Left.(*ast.TableSource).Source); got != -1 {
		t.Errorf("table name at %d, want -1", got)
	}
}

// TestLongStatementError checks positions when TiDB cuts the quoted text
// after 2048 bytes.
func TestLongStatementError(t *testing.T) {
	long := strings.Repeat("a + ", 1000)
	text := "SELECT 1;\nSELECT x y z, " + long + "1 FROM t"
	_, diags := Parse(NewSource("l.sql", text), Options{})
	if len(diags) != 1 || diags[0].Error() != `l.sql:2:12: error: syntax error at or near "z"` {
		t.Fatalf("got %v", diags)
	}
}
