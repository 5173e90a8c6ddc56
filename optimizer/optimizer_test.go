package optimizer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// fixedStats gives relation statistics from a map, for the golden tests.
type fixedStats map[string]*catalog.TableStats

// TableStats implements Stats.
func (s fixedStats) TableStats(obj *catalog.Object) (catalog.TableStats, bool) {
	t, ok := s[obj.Name]
	if !ok {
		return catalog.TableStats{}, false
	}
	return *t, true
}

// table returns the statistics of a relation, made on first use.
func (s fixedStats) table(name string) *catalog.TableStats {
	t := s[name]
	if t == nil {
		t = &catalog.TableStats{Relation: name}
		s[name] = t
	}
	return t
}

// parseStats reads lines "rel rows=N" and "rel.col ndv=N nulls=N min=V
// max=V width=N" (V a number or a date YYYY-MM-DD) into s.
func parseStats(t *testing.T, s fixedStats, input string) {
	for _, line := range strings.Split(input, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		rel, col, isCol := strings.Cut(f[0], ".")
		ts := s.table(rel)
		cs := catalog.ColumnStats{Name: col, Distinct: -1, Nulls: -1}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var x float64
			if d, err := time.Parse("2006-01-02", v); err == nil {
				x = float64(d.Unix() / 86400)
			} else if x, err = strconv.ParseFloat(v, 64); err != nil {
				t.Fatalf("stats: %s: %v", kv, err)
			}
			switch k {
			case "rows":
				ts.Rows = x
			case "ndv":
				cs.Distinct = x
			case "nulls":
				cs.Nulls = x
			case "min":
				cs.Min, cs.HasRange = x, true
			case "max":
				cs.Max, cs.HasRange = x, true
			case "width":
				cs.AvgWidth = x
			default:
				t.Fatalf("stats: unknown key %q", k)
			}
		}
		if isCol {
			ts.Columns = append(ts.Columns, cs)
		}
	}
}

// fixedParts gives the partition columns of sources from a map, for the
// golden tests.
type fixedParts map[string][]string

// PartitionColumns implements PartitionColumns.
func (p fixedParts) PartitionColumns(obj *catalog.Object) []string { return p[obj.Name] }

// TestRules runs testdata/*: "schema" creates relations, "rows name=N ..."
// sets relation sizes, "stats" sets statistics (parseStats), "partitioned
// name=col,col ..." names the partition columns of sources, "opt" binds a
// SELECT and prints the optimized plan, "explain" prints it with the
// estimated rows and cost of each operator.
func TestRules(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		cat := catalog.NewMemory()
		reg := planner.NewRegistry()
		stats := fixedStats{}
		parts := fixedParts{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "schema":
				_, diags := planner.CompileScript(context.Background(), parser.NewSource("schema.sql", d.Input), cat,
					planner.CompileOptions{Apply: true, Registry: reg})
				if len(diags) > 0 {
					return diags.Error() + "\n"
				}
				return "ok\n"
			case "rows":
				for _, a := range d.CmdArgs {
					v, err := strconv.ParseFloat(a.Vals[0], 64)
					if err != nil {
						t.Fatal(err)
					}
					stats.table(a.Key).Rows = v
				}
				return "ok\n"
			case "partitioned":
				for _, a := range d.CmdArgs {
					for _, v := range a.Vals {
						parts[a.Key] = append(parts[a.Key], strings.Split(v, ",")...)
					}
				}
				return "ok\n"
			case "stats":
				parseStats(t, stats, d.Input)
				return "ok\n"
			case "opt", "explain":
				prog, diags := planner.CompileScript(context.Background(), parser.NewSource("test.sql", d.Input), cat,
					planner.CompileOptions{Registry: reg})
				if diags.HasErrors() {
					return diags.Error() + "\n"
				}
				var b strings.Builder
				for _, st := range prog.Statements {
					q, ok := st.(*planner.QueryStmt)
					if !ok {
						t.Fatalf("%T is not a query", st)
					}
					out, err := Optimize(q.Plan, Options{Registry: reg, Stats: stats, Partitions: parts})
					if err != nil {
						return fmt.Sprintf("error: %v\n", err)
					}
					if got, want := columnsOf(out), columnsOf(q.Plan); got != want {
						t.Errorf("optimized plan has columns %s, want %s", got, want)
					}
					if d.Cmd == "explain" {
						b.WriteString(FormatEstimated(out, Options{Registry: reg, Stats: stats, Partitions: parts}))
					} else {
						b.WriteString(planner.Format(out))
					}
				}
				return b.String()
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

// columnsOf renders a plan's output columns (names and types).
func columnsOf(n planner.Node) string {
	var parts []string
	for _, c := range n.Schema() {
		parts = append(parts, c.Name+":"+c.Type.String())
	}
	return strings.Join(parts, ", ")
}
