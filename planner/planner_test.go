package planner

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// formatDiags prints diagnostics one a line as file:line:col: code: message,
// with the hint on its own line.
func formatDiags(ds parser.Diagnostics) string {
	var sb strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&sb, "%s: %s %s: %s\n", d.Pos(), d.Severity, d.Code, d.Message)
		if d.Hint != "" {
			fmt.Fprintf(&sb, "  hint: %s\n", d.Hint)
		}
	}
	return sb.String()
}

func compileString(t *testing.T, cat *catalog.Catalog, name, text string, apply bool) (*Program, parser.Diagnostics) {
	t.Helper()
	return CompileScript(context.Background(), parser.NewSource(name, text), cat, CompileOptions{Apply: apply, Infer: testInfer})
}

// testInfer stands for the connector layer's schema inference: a source
// whose path ends in "events/" has (id BIGINT, ts TIMESTAMP, payload JSON);
// any other path cannot be read.
func testInfer(_ context.Context, opts map[string]string) (catalog.Schema, error) {
	if strings.HasSuffix(opts["path"], "events/") {
		return catalog.Schema{{Name: "id", Type: catalog.Int64}, {Name: "ts", Type: catalog.Timestamp}, {Name: "payload", Type: catalog.JSON}}, nil
	}
	return nil, fmt.Errorf("no files at %s", opts["path"])
}

// TestBind runs the golden files of testdata/bind. Each file starts with an
// empty catalog. Directives:
//
//	schema   compile the input and keep its objects (prints ok or errors)
//	plan     compile the input and print every bound statement, then errors
//	error    compile the input and print only the diagnostics
//	json     compile the input and print the program's JSON, indented
//	state    compile the input and print the state layouts of its pipelines
//	compat   compile the input's two versions (split at a line "=== new")
//	         and print why the new pipelines cannot resume from the old
func TestBind(t *testing.T) {
	datadriven.Walk(t, "testdata/bind", func(t *testing.T, path string) {
		cat := catalog.NewMemory()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "schema":
				_, diags := compileString(t, cat, "schema.sql", d.Input, true)
				if len(diags) > 0 {
					return formatDiags(diags)
				}
				return "ok\n"
			case "json":
				prog, diags := compileString(t, cat, "test.sql", d.Input, false)
				if len(diags) > 0 {
					return formatDiags(diags)
				}
				raw, err := prog.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := json.Indent(&out, raw, "", "  "); err != nil {
					t.Fatal(err)
				}
				return out.String() + "\n"
			case "state":
				prog, diags := compileString(t, cat, "test.sql", d.Input, false)
				var sb strings.Builder
				for _, ps := range pipelines(prog) {
					fmt.Fprintf(&sb, "pipeline %s\n", ps.Object.Name)
					for _, l := range StateLayouts(ps.Insert.Plan) {
						fmt.Fprintf(&sb, "  %s %s %s\n", l.ID, l.Op, l.Fingerprint)
						if l.Window != "" {
							fmt.Fprintf(&sb, "    window %s\n", l.Window)
						}
						if l.Form != "" {
							fmt.Fprintf(&sb, "    form   %s\n", l.Form)
						}
						fmt.Fprintf(&sb, "    keys   %s\n", strings.Join(l.Keys, ", "))
						fmt.Fprintf(&sb, "    values %s\n", strings.Join(l.Values, ", "))
					}
				}
				sb.WriteString(formatDiags(diags))
				return sb.String()
			case "compat":
				oldText, newText, ok := strings.Cut(d.Input, "=== new\n")
				if !ok {
					t.Fatal("compat needs a line === new")
				}
				oldProg, diags := compileString(t, cat, "old.sql", oldText, false)
				newProg, diags2 := compileString(t, cat, "new.sql", newText, false)
				if len(diags)+len(diags2) > 0 {
					return formatDiags(append(diags, diags2...))
				}
				old := map[string][]StateLayout{}
				for _, ps := range pipelines(oldProg) {
					old[ps.Object.Name] = StateLayouts(ps.Insert.Plan)
				}
				var sb strings.Builder
				for _, ps := range pipelines(newProg) {
					prev, ok := old[ps.Object.Name]
					if !ok {
						continue
					}
					for _, x := range CompareState(ps.Object.Name, prev, StateLayouts(ps.Insert.Plan)) {
						sb.WriteString(x.String() + "\n")
					}
				}
				if sb.Len() == 0 {
					return "compatible\n"
				}
				return sb.String()
			case "plan", "error":
				prog, diags := compileString(t, cat, "test.sql", d.Input, false)
				var sb strings.Builder
				if d.Cmd == "plan" {
					for _, s := range prog.Statements {
						sb.WriteString(FormatStmt(s))
					}
				}
				sb.WriteString(formatDiags(diags))
				if d.Cmd == "error" && len(diags) == 0 {
					return "no errors\n"
				}
				return sb.String()
			}
			t.Fatalf("unknown directive %q", d.Cmd)
			return ""
		})
	})
}

// pipelines returns the pipelines of a program that have an INSERT plan.
func pipelines(p *Program) []*PipelineStmt {
	var out []*PipelineStmt
	for _, s := range p.Statements {
		if ps, ok := s.(*PipelineStmt); ok && ps.Insert != nil && ps.Insert.Plan != nil {
			out = append(out, ps)
		}
	}
	return out
}

func tpchCatalog(t testing.TB) *catalog.Catalog {
	schema, err := os.ReadFile("testdata/tpch_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewMemory()
	_, diags := CompileScript(context.Background(), parser.NewSource("tpch_schema.sql", string(schema)), cat, CompileOptions{Apply: true})
	if len(diags) > 0 {
		t.Fatalf("TPC-H schema:\n%s", formatDiags(diags))
	}
	return cat
}

// tpchQueries holds the 22 TPC-H queries (testdata/tpch of the repository).
const tpchQueries = "../testdata/tpch/queries"

// TestTPCH binds the 22 TPC-H queries without a diagnostic and compares
// their plans with testdata/tpch/qNN.plan (go test -rewrite updates them).
func TestTPCH(t *testing.T) {
	if _, err := os.Stat(tpchQueries); err != nil {
		t.Skipf("TPC-H queries not found: %v", err)
	}
	cat := tpchCatalog(t)
	rewrite := false
	if f := flag.Lookup("rewrite"); f != nil {
		rewrite = f.Value.String() == "true"
	}
	for i := 1; i <= 22; i++ {
		name := fmt.Sprintf("q%02d", i)
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(tpchQueries, name+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			prog, diags := compileString(t, cat, name+".sql", string(text), false)
			if len(diags) > 0 {
				t.Fatalf("diagnostics:\n%s", formatDiags(diags))
			}
			if len(prog.Statements) != 1 {
				t.Fatalf("%d statements, want 1", len(prog.Statements))
			}
			got := FormatStmt(prog.Statements[0])
			golden := filepath.Join("testdata", "tpch", name+".plan")
			if rewrite {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -rewrite to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s (go test -rewrite updates it):\n%s", golden, got)
			}
		})
	}
}

// TestProgramJSONDeterministic checks that the same script gives the same
// bytes and that the JSON is valid.
func TestProgramJSONDeterministic(t *testing.T) {
	cat := tpchCatalog(t)
	text, err := os.ReadFile(filepath.Join(tpchQueries, "q15.sql"))
	if err != nil {
		t.Skip("TPC-H queries not found")
	}
	var outs [][]byte
	for i := 0; i < 3; i++ {
		prog, diags := compileString(t, cat, "q15.sql", string(text), false)
		if len(diags) > 0 {
			t.Fatal(formatDiags(diags))
		}
		b, err := prog.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[1], outs[2]) {
		t.Fatal("MarshalJSON is not deterministic")
	}
	if !bytes.Contains(outs[0], []byte(`"op":"cte"`)) || !bytes.Contains(outs[0], []byte(`"fn":"max"`)) {
		t.Fatalf("unexpected JSON: %.300s", outs[0])
	}
}

// TestCompileDoesNotChangeCatalog checks that CompileScript without Apply
// leaves the catalog as it was.
func TestCompileDoesNotChangeCatalog(t *testing.T) {
	cat := catalog.NewMemory()
	_, diags := compileString(t, cat, "t.sql", "CREATE SOURCE s (a INT) WITH (connector='file', path='x/', format='csv'); SELECT a FROM s;", false)
	if len(diags) > 0 {
		t.Fatal(formatDiags(diags))
	}
	if _, ok := cat.Lookup("s"); ok {
		t.Fatal("compile without Apply created the source in the catalog")
	}
	_, diags = compileString(t, cat, "t.sql", "CREATE SOURCE s (a INT) WITH (connector='file', path='x/', format='csv');", true)
	if len(diags) > 0 {
		t.Fatal(formatDiags(diags))
	}
	if _, ok := cat.Lookup("s"); !ok {
		t.Fatal("compile with Apply did not create the source")
	}
}

func bigScript(n int) string {
	var sb strings.Builder
	sb.WriteString("CREATE SOURCE orders (id BIGINT, customer VARCHAR, amount DECIMAL(12,2), ts TIMESTAMP) WITH (connector='file', path='o/', format='csv');\n")
	sb.WriteString("CREATE SINK out WITH (connector='file', path='out/', format='parquet');\n")
	for i := 0; i < n-2; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&sb, "CREATE VIEW v%d AS SELECT customer, SUM(amount) AS total, COUNT(*) AS n FROM orders WHERE ts > '2000-01-01' AND amount > %d GROUP BY customer;\n", i, i)
		case 1:
			fmt.Fprintf(&sb, "SELECT customer, total FROM v%d WHERE total > 100.50 ORDER BY total DESC LIMIT 10;\n", i-1)
		default:
			fmt.Fprintf(&sb, "VALIDATE check%d AS SELECT COUNT(*) = 0, CONCAT(COUNT(*), ' bad rows') FROM orders WHERE customer IS NULL;\n", i)
		}
	}
	return sb.String()
}

// TestLargeScript compiles a 1,000-statement script without errors.
func TestLargeScript(t *testing.T) {
	prog, diags := compileString(t, catalog.NewMemory(), "big.sql", bigScript(1000), false)
	if len(diags) > 0 {
		t.Fatal(formatDiags(diags)[:min(2000, len(formatDiags(diags)))])
	}
	if len(prog.Statements) != 1000 {
		t.Fatalf("%d statements, want 1000", len(prog.Statements))
	}
}

// BenchmarkCompile1000 compiles a script of 1,000 statements.
func BenchmarkCompile1000(b *testing.B) {
	src := bigScript(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, diags := CompileScript(context.Background(), parser.NewSource("big.sql", src), catalog.NewMemory(), CompileOptions{})
		if len(diags) > 0 {
			b.Fatal(diags)
		}
	}
}
