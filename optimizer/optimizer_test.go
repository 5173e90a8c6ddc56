package optimizer

import (
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

const schema = `
CREATE SOURCE orders (o_id BIGINT, o_cust BIGINT, o_date DATE, o_total DECIMAL(12,2)) WITH (connector = 'file', path = 'o/', format = 'parquet');
CREATE SOURCE customer (c_id BIGINT, c_name VARCHAR, c_nation BIGINT) WITH (connector = 'file', path = 'c/', format = 'parquet');
CREATE SOURCE nation (n_id BIGINT, n_name VARCHAR) WITH (connector = 'file', path = 'n/', format = 'parquet');
`

// TestRules runs the golden files of the rules: each case prints the
// bound plan of a query and the plan after Optimize.
func TestRules(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			src := parser.NewSource("test.sql", schema+d.Input)
			reg := planner.NewRegistry()
			prog, diags := planner.CompileScript(context.Background(), src, nil, planner.CompileOptions{Registry: reg})
			if diags.HasErrors() {
				return "error: " + diags.Error() + "\n"
			}
			q, ok := prog.Statements[len(prog.Statements)-1].(*planner.QueryStmt)
			if !ok {
				t.Fatalf("%s: the last statement is not a query", d.Pos)
			}
			after := New(reg).Optimize(q.Plan)
			switch d.Cmd {
			case "optimize":
				return strings.TrimRight(planner.Format(after), "\n") + "\n"
			case "both":
				return "before:\n" + planner.Format(q.Plan) + "after:\n" + planner.Format(after)
			}
			t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
			return ""
		})
	})
}
