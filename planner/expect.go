package planner

// Expect checks a pipeline's expectations on every row of Input. Each
// check's Cond is bound over Input's columns. A row violates a check when
// Cond is FALSE (NULL passes, as for a CHECK constraint). The node passes
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

// Schema implements Node.
func (n *Expect) Schema() []Column { return n.Input.Schema() }

// Children implements Node.
func (n *Expect) Children() []Node { return []Node{n.Input} }
