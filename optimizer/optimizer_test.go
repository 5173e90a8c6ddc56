package optimizer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// rowStats gives relation sizes from a map, for the golden tests.
type rowStats map[string]float64

func (s rowStats) RowCount(obj *catalog.Object) (float64, bool) {
	r, ok := s[obj.Name]
	return r, ok
}

// TestRules runs testdata/*: "schema" creates relations, "rows name=N ..."
// sets relation sizes, "opt" binds a SELECT and prints the optimized plan.
func TestRules(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		cat := catalog.NewMemory()
		reg := planner.NewRegistry()
		stats := rowStats{}
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
					stats[a.Key] = v
				}
				return "ok\n"
			case "opt":
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
					out, err := Optimize(q.Plan, Options{Registry: reg, Stats: stats})
					if err != nil {
						return fmt.Sprintf("error: %v\n", err)
					}
					if got, want := columnsOf(out), columnsOf(q.Plan); got != want {
						t.Errorf("optimized plan has columns %s, want %s", got, want)
					}
					b.WriteString(planner.Format(out))
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
