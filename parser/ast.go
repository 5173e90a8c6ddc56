package parser

import "github.com/pingcap/tidb/pkg/parser/ast"

// Script is a parsed script: its statements in order, with the parameter
// values that were substituted into it.
type Script struct {
	Source *Source
	Stmts  []Stmt
	// Params holds every parameter's resolved value and where it came from.
	Params map[string]Param
}

// Param is a resolved script parameter.
type Param struct {
	Name  string
	Value string
	// Type is the declared type for a DECLAREd parameter, or nil.
	Type *TypeName
	// From is "flag", "env" or "declare".
	From string
}

// Stmt is one statement of a script. Every implementation is a pointer to a
// struct defined in this file.
type Stmt interface {
	// StmtSpan is the statement's extent in the script, without the ';'.
	StmtSpan() Span
}

// Ident is a name as written: Name is folded to lower case unless the
// identifier was quoted. Pos is the byte offset of its first character.
type Ident struct {
	Name   string
	Quoted bool
	Pos    int
}

// ObjectName is a possibly schema-qualified object name (etl.pipelines).
type ObjectName struct {
	Schema Ident // Schema.Name is "" when unqualified
	Name   Ident
}

// String returns "schema.name" or "name".
func (o ObjectName) String() string {
	if o.Schema.Name != "" {
		return o.Schema.Name + "." + o.Name.Name
	}
	return o.Name.Name
}

// Pos is the offset of the name's first character.
func (o ObjectName) Pos() int {
	if o.Schema.Name != "" {
		return o.Schema.Pos
	}
	return o.Name.Pos
}

// TypeName is a SQL type as written, e.g. DECIMAL(12,2) or DOUBLE PRECISION.
// Name is the canonical upper-case spelling with PostgreSQL aliases folded
// (INTEGER -> INT, DOUBLE PRECISION -> DOUBLE, CHARACTER VARYING -> VARCHAR,
// TIMESTAMP WITH TIME ZONE -> TIMESTAMPTZ, ...); the catalog resolves it.
type TypeName struct {
	Name string
	Args []int
	Pos  int
	// Text is the type exactly as written.
	Text string
}

// Fragment is SQL text handed to the TiDB parser after the front-end lowered
// PostgreSQL spellings and substituted parameters. Orig maps an offset in
// Text back to the byte offset in the script, so positions reported by the
// TiDB AST (ast.Node.OriginTextPosition) and its errors land on the text the
// user wrote.
type Fragment struct {
	Source *Source
	Text   string
	// pieces map ranges of Text to ranges of the script; sorted by fragment offset.
	pieces []piece
}

// piece says that Text[frag:frag+n] came from the script at orig. Text that
// the lowering inserted has n == 0 in the script and maps to orig.
type piece struct {
	frag, orig, n int
	copied        bool
}

// DefaultMarker is the function an item DEFAULT of INSERT ... VALUES is
// lowered to (DEFAULT becomes __etl_default()): the planner puts the
// target column's DEFAULT (or NULL) in its place.
const DefaultMarker = "__etl_default"

// Expr is an expression parsed by the TiDB grammar.
type Expr struct {
	Frag *Fragment
	Node ast.ExprNode
}

// Pos is the script offset of the expression's first character.
func (e Expr) Pos() int { return e.Frag.Orig(e.Node.OriginTextPosition()) }

// Query is a query body (SELECT, set operation, WITH ... SELECT) parsed by
// the TiDB grammar.
type Query struct {
	Span Span
	Frag *Fragment
	// Node is *ast.SelectStmt or *ast.SetOprStmt.
	Node ast.StmtNode
	// Streams are the relations read with FROM STREAM / JOIN STREAM.
	Streams []Ident
}

// ColumnDef is one column of CREATE SOURCE / STREAM / SINK / TABLE.
type ColumnDef struct {
	Name    Ident
	Type    TypeName
	NotNull bool
	// Default is the DEFAULT expression, if any.
	Default *Expr
}

// Option is one key = 'value' of a WITH clause. Value has parameters
// substituted; ValuePos is the offset of the value's opening quote.
type Option struct {
	Key      Ident
	Value    string
	ValuePos int
}

// Watermark is WATERMARK FOR column AS expression.
type Watermark struct {
	Pos    int
	Column Ident
	Expr   Expr
}

// ObjectKind names the kinds of catalog objects a statement can create or drop.
type ObjectKind int

// The object kinds.
const (
	KindSource ObjectKind = iota
	KindStream
	KindSink
	KindTable
	KindView
	KindPipeline
)

// String returns the kind's SQL keyword, e.g. "SOURCE".
func (k ObjectKind) String() string {
	return [...]string{"SOURCE", "STREAM", "SINK", "TABLE", "VIEW", "PIPELINE"}[k]
}

// CreateSource is CREATE SOURCE or CREATE STREAM (Kind tells which).
type CreateSource struct {
	Span        Span
	Kind        ObjectKind // KindSource or KindStream
	OrReplace   bool
	IfNotExists bool
	Name        ObjectName
	// Columns is nil when the schema is to be inferred.
	Columns   []ColumnDef
	Watermark *Watermark
	Options   []Option
}

// CreateSink is CREATE SINK name [(columns)] WITH (...).
type CreateSink struct {
	Span        Span
	OrReplace   bool
	IfNotExists bool
	Name        ObjectName
	Columns     []ColumnDef
	Options     []Option
}

// CreateTable is CREATE TABLE name (columns) [WITH (...)] or CREATE TABLE name AS query.
type CreateTable struct {
	Span        Span
	OrReplace   bool
	IfNotExists bool
	Name        ObjectName
	Columns     []ColumnDef
	// PrimaryKey lists the PRIMARY KEY columns, if declared (inline or as a
	// table constraint); PrimaryKeyName is the name of its CONSTRAINT
	// clause, empty when it has none.
	PrimaryKey     []Ident
	PrimaryKeyName Ident
	// Constraints are the UNIQUE and CHECK constraints, inline ones
	// (a INT UNIQUE) as well as table constraints, in the order written.
	Constraints []Constraint
	Options     []Option
	As          *Query
}

// ConstraintKind is the kind of a table constraint other than PRIMARY KEY.
type ConstraintKind int

// The constraint kinds.
const (
	// ConstraintUnique is UNIQUE (columns).
	ConstraintUnique ConstraintKind = iota
	// ConstraintCheck is CHECK (expression).
	ConstraintCheck
)

// Constraint is a UNIQUE or CHECK constraint of CREATE TABLE.
type Constraint struct {
	// Pos is the offset of the constraint's first word (CONSTRAINT, UNIQUE
	// or CHECK).
	Pos  int
	Kind ConstraintKind
	// Name is the CONSTRAINT name (or MySQL's UNIQUE KEY name), empty when
	// none was written.
	Name Ident
	// Columns are the key of a UNIQUE constraint.
	Columns []KeyPart
	// Check is the condition of a CHECK constraint.
	Check *Expr
	// Column is the column whose definition holds an inline constraint
	// (a INT UNIQUE, a INT CHECK (a > 0)); empty for a table constraint.
	Column Ident
}

// KeyPart is one column of a key: a UNIQUE constraint's or an index's.
type KeyPart struct {
	Column Ident
	// Prefix is MySQL's key prefix length, a(10): only the first Prefix
	// characters of the value are the key; 0 means the whole value.
	Prefix int
	// Desc is set by DESC after the column (accepted; keys are unordered).
	Desc bool
}

// CreateIndex is CREATE [UNIQUE] INDEX [IF NOT EXISTS] [name] ON table
// [USING method] (columns).
type CreateIndex struct {
	Span        Span
	Unique      bool
	IfNotExists bool
	// Name is empty when the statement names no index (a name is made up
	// from the table's and the columns' names, as PostgreSQL does).
	Name    Ident
	Table   ObjectName
	Columns []KeyPart
}

// DropIndex is DROP INDEX [IF EXISTS] name, ... [ON table].
type DropIndex struct {
	Span     Span
	IfExists bool
	Names    []Ident
	// Table is MySQL's ON table, nil when not written.
	Table *ObjectName
}

// CreateView is CREATE [OR REPLACE] [TEMPORARY] VIEW name [(cols)] AS query.
type CreateView struct {
	Span      Span
	OrReplace bool
	Temporary bool
	Name      ObjectName
	Columns   []Ident
	Query     *Query
}

// ViolationAction is what a pipeline expectation does with a failing row.
type ViolationAction int

// The violation actions; ActionNone only counts.
const (
	ActionNone ViolationAction = iota
	ActionDropRow
	ActionFail
	ActionQuarantine
)

// String returns the action as written in SQL ("" for ActionNone).
func (a ViolationAction) String() string {
	return [...]string{"", "DROP ROW", "FAIL", "QUARANTINE"}[a]
}

// Expectation is CONSTRAINT name EXPECT (expr) [ON VIOLATION action].
type Expectation struct {
	Pos    int
	Name   Ident
	Expr   Expr
	Action ViolationAction
}

// CreatePipeline is CREATE PIPELINE name [(expectations)] [WITH (...)] AS INSERT ...
type CreatePipeline struct {
	Span         Span
	OrReplace    bool
	IfNotExists  bool
	Name         ObjectName
	Expectations []Expectation
	Options      []Option
	Insert       *Insert
}

// PipelineAction is START, STOP or DROP for PipelineCmd.
type PipelineAction int

// The pipeline actions.
const (
	PipelineStart PipelineAction = iota
	PipelineStop
)

// PipelineCmd is START PIPELINE name or STOP PIPELINE name.
type PipelineCmd struct {
	Span   Span
	Action PipelineAction
	Name   ObjectName
}

// Drop is DROP SOURCE|STREAM|SINK|TABLE|VIEW|PIPELINE [IF EXISTS] name [, ...].
type Drop struct {
	Span     Span
	Kind     ObjectKind
	IfExists bool
	Names    []ObjectName
}

// Show is SHOW PIPELINES | SOURCES | SINKS | STREAMS | TABLES | VIEWS, or
// SHOW <setting> / SHOW ALL (What is the lower-cased word after SHOW).
type Show struct {
	Span Span
	What string
	Pos  int
}

// Set is SET [SESSION|LOCAL] name {=|TO} value, or RESET name / RESET ALL
// (Reset true, Value empty).
type Set struct {
	Span  Span
	Name  Ident
	Value string
	Reset bool
}

// Insert is INSERT INTO|OVERWRITE target [(columns)] query-or-VALUES.
type Insert struct {
	Span      Span
	Overwrite bool
	Target    ObjectName
	Columns   []Ident
	// Exactly one of Query and Values is set.
	Query  *Query
	Values [][]Expr
}

// Validate is VALIDATE name AS query (Arc's SQLValidate contract).
type Validate struct {
	Span  Span
	Name  Ident
	Query *Query
}

// Assert is ASSERT condition [, 'message'].
type Assert struct {
	Span    Span
	Cond    Expr
	Message string
}

// MergeSource is the USING part of MERGE: a relation name or a subquery.
type MergeSource struct {
	Name  *ObjectName
	Query *Query
	Alias Ident
}

// Assignment is column = expr in MERGE ... UPDATE SET.
type Assignment struct {
	Column Ident
	Value  Expr
}

// MergeActionKind is UPDATE, DELETE or INSERT.
type MergeActionKind int

// The MERGE actions.
const (
	MergeUpdate MergeActionKind = iota
	MergeDelete
	MergeInsert
)

// MergeClause is WHEN [NOT] MATCHED [AND cond] THEN action.
type MergeClause struct {
	Pos     int
	Matched bool
	Cond    *Expr
	Action  MergeActionKind
	Sets    []Assignment // MergeUpdate
	Columns []Ident      // MergeInsert (nil: all target columns in order)
	Values  []Expr       // MergeInsert
}

// Merge is MERGE INTO target [AS] alias USING source [AS] alias ON cond WHEN ...
type Merge struct {
	Span    Span
	Target  ObjectName
	Alias   Ident
	Source  MergeSource
	On      Expr
	Clauses []MergeClause
}

// Declare is DECLARE name TYPE [DEFAULT value]. Default is the literal text
// of the default (unquoted), HasDefault tells whether one was given.
type Declare struct {
	Span       Span
	Name       Ident
	Type       TypeName
	Default    string
	HasDefault bool
}

// Explain is EXPLAIN [ANALYZE] statement.
type Explain struct {
	Span    Span
	Analyze bool
	Stmt    Stmt
}

// Analyze is ANALYZE name: collect statistics for a source or table.
type Analyze struct {
	Span Span
	Name ObjectName
}

// Select is a query run for its result (an ad-hoc SELECT).
type Select struct {
	Span  Span
	Query *Query
}

// Transaction is BEGIN / START TRANSACTION / COMMIT / ROLLBACK and the
// savepoint statements SAVEPOINT name, RELEASE [SAVEPOINT] name and
// ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name (Word is the
// upper-cased verb: BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE or
// ROLLBACK TO; Savepoint names the savepoint). A BEGIN's transaction
// modes are in Isolation (the upper-cased level, "" when not given) and
// ReadOnly.
type Transaction struct {
	Span      Span
	Word      string
	Isolation string
	ReadOnly  bool
	Savepoint Ident
}

// StmtSpan implementations.
func (s *CreateSource) StmtSpan() Span   { return s.Span }
func (s *CreateSink) StmtSpan() Span     { return s.Span }
func (s *CreateTable) StmtSpan() Span    { return s.Span }
func (s *CreateView) StmtSpan() Span     { return s.Span }
func (s *CreatePipeline) StmtSpan() Span { return s.Span }
func (s *PipelineCmd) StmtSpan() Span    { return s.Span }
func (s *Drop) StmtSpan() Span           { return s.Span }
func (s *CreateIndex) StmtSpan() Span    { return s.Span }
func (s *DropIndex) StmtSpan() Span      { return s.Span }
func (s *Show) StmtSpan() Span           { return s.Span }
func (s *Set) StmtSpan() Span            { return s.Span }
func (s *Insert) StmtSpan() Span         { return s.Span }
func (s *Validate) StmtSpan() Span       { return s.Span }
func (s *Assert) StmtSpan() Span         { return s.Span }
func (s *Merge) StmtSpan() Span          { return s.Span }
func (s *Declare) StmtSpan() Span        { return s.Span }
func (s *Explain) StmtSpan() Span        { return s.Span }
func (s *Analyze) StmtSpan() Span        { return s.Span }
func (s *Select) StmtSpan() Span         { return s.Span }
func (s *Transaction) StmtSpan() Span    { return s.Span }
