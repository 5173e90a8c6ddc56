package session

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/parser"
)

// StmtInfo describes one statement of a running script.
type StmtInfo struct {
	// Index is the statement's 0-based position in the script; Count is
	// the number of statements.
	Index, Count int
	// Kind is the statement's verb: SELECT, INSERT, INSERT OVERWRITE,
	// MERGE, CREATE SOURCE, CREATE TABLE, VALIDATE, ASSERT, DROP TABLE,
	// EXPLAIN, SET, SHOW, DECLARE, ...
	Kind string
	// Object is the object the statement writes, creates, drops or
	// validates ("" when none).
	Object string
	// Pos is where the statement starts.
	Pos parser.Position
	// Text is the statement as written.
	Text string
}

// Title is the statement's kind and object, e.g. "INSERT INTO dim_contact"
// or "VALIDATE contacts_quality".
func (i *StmtInfo) Title() string {
	kind := i.Kind
	if kind == "INSERT" {
		kind = "INSERT INTO"
	}
	if kind == "MERGE" {
		kind = "MERGE INTO"
	}
	if i.Object == "" {
		return kind
	}
	return kind + " " + i.Object
}

// Progress is what a statement has done so far.
type Progress struct {
	RowsRead    int64
	BytesRead   int64
	RowsWritten int64
	Elapsed     time.Duration
}

// Validation is the outcome of a VALIDATE or ASSERT.
type Validation struct {
	// Kind is VALIDATE or ASSERT; Name is the VALIDATE's name ("" for ASSERT).
	Kind, Name string
	Passed     bool
	// Message is the query's message (VALIDATE) or the ASSERT's.
	Message string
	// Condition is an ASSERT's condition as written.
	Condition string
	// Data is the message as JSON when it is a JSON object or array, kept
	// as structured data in logs and summaries.
	Data json.RawMessage
}

// StmtResult is what a finished statement did.
type StmtResult struct {
	Info StmtInfo
	Progress
	// Tag is the PostgreSQL command tag: "SELECT 3", "INSERT 0 17",
	// "MERGE 5", "CREATE TABLE", ...
	Tag string
	// FilesWritten and BytesWritten count the files an INSERT or MERGE
	// committed.
	FilesWritten int64
	BytesWritten int64
	// Inserted, Updated and Deleted count the rows a MERGE changed (Inserted
	// also counts the rows of an INSERT).
	Inserted, Updated, Deleted int64
	// Staged is set when the statement ran in a transaction block: what it
	// wrote is staged, published by the block's COMMIT (whose
	// FilesWritten and BytesWritten count what it published).
	Staged bool
	// Validation is set for VALIDATE and ASSERT.
	Validation *Validation
	// Schema is set for statements that return rows (SELECT, EXPLAIN,
	// SHOW). Records holds the rows when ExecOptions.Results was nil; Run.
	// Release releases them.
	Schema  *arrow.Schema
	Records []arrow.Record
	// Err is the statement's error (a *StmtError), nil when it succeeded.
	Err error
}

// Observer follows a script as it runs. Its methods are called from the
// goroutine that runs the script, in order: Started, any number of
// Progress calls (at most about ten a second), then Finished.
type Observer interface {
	StatementStarted(info *StmtInfo)
	StatementProgress(info *StmtInfo, p Progress)
	StatementFinished(res *StmtResult)
}

// StmtError is a failed statement: where it is, what it is, the SQLSTATE
// and the message for people. Validation is set when a VALIDATE or ASSERT
// failed.
type StmtError struct {
	Pos     parser.Position
	Title   string
	Code    string
	Message string
	// Detail adds facts to the message, as PostgreSQL's DETAIL does: the
	// key of a row that violates a unique constraint.
	Detail     string
	Hint       string
	Validation *Validation
	Err        error
}

// Error formats the error as "file:line:col: TITLE failed: message
// (detail) (hint)".
func (e *StmtError) Error() string {
	s := fmt.Sprintf("%s: %s failed: %s", e.Pos, e.Title, e.Message)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns the underlying error.
func (e *StmtError) Unwrap() error { return e.Err }

// SourceSummary is what one run read from a source.
type SourceSummary struct {
	Name    string
	OnError string // fail, drop or quarantine
	// Scans is how often the run read the source; RowsRead, FilesRead and
	// BytesRead add up every read.
	Scans     int
	FilesRead int64
	RowsRead  int64
	BytesRead int64
	// Rows and BadRows are the good and bad rows of the latest complete
	// read: what the source holds. Bad rows were dropped or quarantined.
	Rows    int64
	BadRows int64
	// ErrorsRelation is <source>__errors for a quarantining source.
	ErrorsRelation string
}

// TargetSummary is what one run wrote to a sink or table.
type TargetSummary struct {
	Name string
	Kind string // sink or table
	// Inserted counts rows written by INSERT and inserted by MERGE;
	// Updated and Deleted count MERGE's changes.
	Inserted, Updated, Deleted int64
	Commits                    int
	FilesWritten               int64
	BytesWritten               int64
}

// Run is the outcome of Session.Exec.
type Run struct {
	ID         string
	Job        string
	StartedAt  time.Time
	FinishedAt time.Time
	// Warnings are the compiler's warnings.
	Warnings parser.Diagnostics
	// Statements holds a result for every statement that ran, the failed
	// one last.
	Statements []*StmtResult
	// Count is the number of statements in the script.
	Count       int
	Sources     []SourceSummary
	Targets     []TargetSummary
	Validations []Validation
	// Expectations are the counts of the expectations of the pipelines
	// the run ran (START PIPELINE), per pipeline and constraint.
	Expectations []exec.ExpectSnapshot
	// Err is the failing statement's *StmtError (nil: the run succeeded).
	Err error
}

// Release releases the rows collected for the statements' results.
func (r *Run) Release() {
	if r == nil {
		return
	}
	for _, s := range r.Statements {
		for _, rec := range s.Records {
			rec.Release()
		}
		s.Records = nil
	}
}
