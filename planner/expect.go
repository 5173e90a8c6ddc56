package planner

import (
	"fmt"

	"github.com/etlc/etlc/catalog"
)

// Expect checks a pipeline's expectations on every row of Input. Each
// check's Cond is bound over Input's columns. A row violates a check when
// Cond is not TRUE (FALSE or NULL, as a VALIDATE fails on NULL). The node passes
// on the rows that no DROP ROW or QUARANTINE check rejects; a violated FAIL
// check stops the run; a check without action only counts. Its output
// columns are Input's.
//
// The binder puts one Expect over the FROM clause of a pipeline's INSERT
// query (the checks that bind over the rows read) and, for the checks
// that bind only over the query's output, one over the query.
type Expect struct {
	Input Node
	// Pipeline names the pipeline the checks belong to.
	Pipeline string
	Checks   []*Expectation
}

// QuarantineSuffix ends the name of the managed table that receives the
// rows a pipeline's QUARANTINE expectations reject, unless the pipeline
// names another target with WITH (quarantine = '...'): orders__quarantine
// for the pipeline orders.
const QuarantineSuffix = "__quarantine"

// QuarantineConstraintColumn is the first column of a quarantined row: the
// QUARANTINE expectation(s) it violated, comma-separated.
const QuarantineConstraintColumn = "constraint_name"

// QuarantineNames returns the column names of quarantined rows whose
// checked rows have the given column names: constraint_name, then the
// names, each made unique with _2, _3, ...
func QuarantineNames(names []string) []string {
	out := []string{QuarantineConstraintColumn}
	seen := map[string]bool{QuarantineConstraintColumn: true}
	for _, n := range names {
		name := n
		for k := 2; seen[name]; k++ {
			name = fmt.Sprintf("%s_%d", n, k)
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}

// QuarantineColumns is the schema of the quarantine of rows with the
// columns cols: constraint_name (NOT NULL), then cols, nullable.
func QuarantineColumns(cols []Column) catalog.Schema {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	qn := QuarantineNames(names)
	out := catalog.Schema{{Name: qn[0], Type: catalog.String, NotNull: true}}
	for i, c := range cols {
		t := c.Type
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		out = append(out, catalog.Column{Name: qn[i+1], Type: t})
	}
	return out
}

// Schema implements Node.
func (n *Expect) Schema() []Column { return n.Input.Schema() }

// Children implements Node.
func (n *Expect) Children() []Node { return []Node{n.Input} }
