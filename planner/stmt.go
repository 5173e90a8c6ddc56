package planner

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// BoundStmt is one bound statement of a Program. Every implementation is a
// pointer to a struct of this file; Parsed returns the parsed statement.
type BoundStmt interface {
	Parsed() parser.Stmt
}

// QueryStmt is an ad-hoc SELECT run for its result.
type QueryStmt struct {
	Stmt *parser.Select
	Plan Node
}

// InsertStmt writes the rows of Plan into Target. Columns[i] is the target
// column that query column i goes to (by position, or as listed); target
// columns not listed get NULL or their DEFAULT.
type InsertStmt struct {
	Stmt      *parser.Insert
	Target    *catalog.Object
	Overwrite bool
	Columns   []int
	Plan      Node
	// Defaults holds, per target column, the bound DEFAULT of a column the
	// statement does not write (nil for the others: they get NULL).
	Defaults []Expr
	// Checks are the target table's CHECK constraints, bound over its
	// columns.
	Checks []*TableCheck
}

// TableCheck is a CHECK constraint of a table bound over the table's
// columns: a row for which Cond is FALSE is refused.
type TableCheck struct {
	Name string
	Cond Expr
}

// CreateIndexStmt is CREATE [UNIQUE] INDEX: Index is what the catalog
// records on Table (its name made up when the statement gave none).
type CreateIndexStmt struct {
	Stmt        *parser.CreateIndex
	Table       *catalog.Object
	Index       catalog.Index
	IfNotExists bool
}

// DropIndexStmt is DROP INDEX of the named indexes.
type DropIndexStmt struct {
	Stmt  *parser.DropIndex
	Names []string
}

// CreateStmt creates a source, stream, sink, table or view. Object is what
// the catalog stores; Query is the bound definition of a view or of
// CREATE TABLE AS.
type CreateStmt struct {
	Stmt   parser.Stmt
	Object *catalog.Object
	Mode   catalog.CreateMode
	Query  Node
}

// Expectation is a bound pipeline expectation. Cond is bound over the rows
// the INSERT query reads: the output of its FROM clause (joins included),
// before WHERE, so that DROP ROW removes a bad row before it is filtered,
// aggregated or written (EXPECT (amount > 0) over a query that sums
// amount). When the condition does not bind there but binds over the
// query's output columns (EXPECT (revenue >= 0)), or the query is not a
// plain SELECT (a set operation), Cond is bound over the output rows and
// OverOutput is set: exec then checks the rows the INSERT writes.
type Expectation struct {
	Name       string
	Cond       Expr
	Action     parser.ViolationAction
	OverOutput bool
}

// PipelineStmt is CREATE PIPELINE: the pipeline object, its INSERT, and its
// expectations. Source is the plan of the INSERT query's FROM clause that
// the expectations are evaluated over.
type PipelineStmt struct {
	Stmt         *parser.CreatePipeline
	Object       *catalog.Object
	Mode         catalog.CreateMode
	Insert       *InsertStmt
	Source       Node
	Expectations []*Expectation
	// Quarantine is the table <pipeline>__quarantine that receives the
	// rows QUARANTINE expectations reject, when the pipeline has such
	// expectations and names no other target (WITH (quarantine = ...)).
	// Creating the pipeline creates it when it does not exist.
	Quarantine *catalog.Object
}

// ValidateStmt is VALIDATE name AS query; Plan returns (BOOLEAN, TEXT).
type ValidateStmt struct {
	Stmt *parser.Validate
	Name string
	Plan Node
}

// AssertStmt is ASSERT cond, 'message'; Cond is evaluated over one empty row.
type AssertStmt struct {
	Stmt    *parser.Assert
	Cond    Expr
	Message string
}

// MergeAction is one bound WHEN clause of MERGE. Cond, Values and Sets are
// bound over the target's columns followed by the source's columns.
type MergeAction struct {
	Matched bool
	Cond    Expr
	Kind    parser.MergeActionKind
	// Sets: target column index -> value (UPDATE), in the order written.
	SetColumns []int
	SetValues  []Expr
	// Insert: target column index per value (INSERT).
	InsertColumns []int
	InsertValues  []Expr
}

// MergeStmt is MERGE INTO a table. On and every clause are bound over the
// target's columns followed by the source's columns.
type MergeStmt struct {
	Stmt   *parser.Merge
	Target *catalog.Object
	// Checks are the target table's CHECK constraints, bound over its
	// columns.
	Checks  []*TableCheck
	Source  Node
	On      Expr
	Actions []*MergeAction
}

// DropStmt drops the named objects (those that exist).
type DropStmt struct {
	Stmt    *parser.Drop
	Objects []*catalog.Object
}

// ExplainStmt is EXPLAIN [ANALYZE] of a bound statement.
type ExplainStmt struct {
	Stmt    *parser.Explain
	Analyze bool
	Inner   BoundStmt
}

// DeclareStmt is DECLARE name TYPE [DEFAULT value] with its type resolved.
type DeclareStmt struct {
	Stmt *parser.Declare
	Type catalog.Type
}

// UtilityStmt is a statement with nothing to bind: SHOW, SET, BEGIN/COMMIT,
// START/STOP PIPELINE, ANALYZE. Object is the named object where there is
// one.
type UtilityStmt struct {
	Stmt   parser.Stmt
	Object *catalog.Object
}

// Source implementations.
func (s *QueryStmt) Parsed() parser.Stmt       { return s.Stmt }
func (s *InsertStmt) Parsed() parser.Stmt      { return s.Stmt }
func (s *CreateStmt) Parsed() parser.Stmt      { return s.Stmt }
func (s *PipelineStmt) Parsed() parser.Stmt    { return s.Stmt }
func (s *ValidateStmt) Parsed() parser.Stmt    { return s.Stmt }
func (s *AssertStmt) Parsed() parser.Stmt      { return s.Stmt }
func (s *MergeStmt) Parsed() parser.Stmt       { return s.Stmt }
func (s *DropStmt) Parsed() parser.Stmt        { return s.Stmt }
func (s *CreateIndexStmt) Parsed() parser.Stmt { return s.Stmt }
func (s *DropIndexStmt) Parsed() parser.Stmt   { return s.Stmt }
func (s *ExplainStmt) Parsed() parser.Stmt     { return s.Stmt }
func (s *DeclareStmt) Parsed() parser.Stmt     { return s.Stmt }
func (s *UtilityStmt) Parsed() parser.Stmt     { return s.Stmt }
