package session

import (
	"context"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// StmtDescription describes one statement of a script without running it:
// what the wire protocol's Describe reports.
type StmtDescription struct {
	// Kind is the statement's verb, as StmtInfo.Kind.
	Kind string
	// ParamTypes are the types of the statement's parameters, $1 first, as
	// the planner inferred them from their context (TEXT when nothing
	// typed one).
	ParamTypes []catalog.Type
	// Columns are the columns of the rows the statement returns; nil when
	// it returns none.
	Columns []planner.Column
}

// Describe compiles src as Compile does and describes each statement: its
// parameter types and the columns of the rows it returns. Nothing runs and
// neither the catalog nor the session changes.
func (s *Session) Describe(ctx context.Context, src *parser.Source) ([]StmtDescription, parser.Diagnostics) {
	return s.DescribeTyped(ctx, src, nil)
}

// DescribeTyped is Describe of a statement whose parameters the client
// declared with the given PostgreSQL type OIDs (as in a Parse message):
// the program it compiles is kept in the session's plan cache, so that
// an Exec of the same text with the same ExecOptions.ParamTypes does not
// compile it again.
func (s *Session) DescribeTyped(ctx context.Context, src *parser.Source, paramTypes []uint32) ([]StmtDescription, parser.Diagnostics) {
	s.mu.Lock()
	prog, diags := s.compileCached(ctx, src, paramTypes)
	s.mu.Unlock()
	if diags.HasErrors() {
		return nil, diags
	}
	out := make([]StmtDescription, len(prog.Statements))
	for i, st := range prog.Statements {
		kind, _ := describe(st)
		d := StmtDescription{Kind: kind, Columns: resultColumns(st)}
		if i < len(prog.ParamTypes) {
			d.ParamTypes = prog.ParamTypes[i]
		}
		out[i] = d
	}
	return out, diags
}

// resultColumns returns the columns of the rows st returns (nil: none),
// the ones Exec delivers.
func resultColumns(st planner.BoundStmt) []planner.Column {
	text := func(names ...string) []planner.Column {
		cols := make([]planner.Column, len(names))
		for i, n := range names {
			cols[i] = planner.Column{Name: n, Type: catalog.String, Nullable: true}
		}
		return cols
	}
	switch st := st.(type) {
	case *planner.QueryStmt:
		return st.Plan.Schema()
	case *planner.ExplainStmt:
		return text("QUERY PLAN")
	case *planner.UtilityStmt:
		u, ok := st.Stmt.(*parser.Show)
		if !ok {
			return nil
		}
		switch what := strings.ToLower(u.What); what {
		case "sources", "sinks", "streams", "tables", "views", "pipelines":
			return text("name", "columns", "options")
		case "all":
			return text("name", "setting")
		default:
			return text(what)
		}
	}
	return nil
}
