package slt

import (
	"context"
	"fmt"
	"time"
)

// DB is the engine under test, as Run drives it: it runs the SQL of one
// record at a time. Implementations adapt etlc's session or a PostgreSQL
// connection.
type DB interface {
	// Exec runs the SQL of a statement record. The text of a returned
	// error is what the record's error regexp is matched against, so it
	// should be the engine's message for people (without positions).
	Exec(ctx context.Context, sql string) error
	// Query runs the SQL of a query record and returns its result.
	Query(ctx context.Context, sql string) (*Rows, error)
}

// Rows is the result of a query: the number of columns and the rows, each
// a slice of Columns values of the Go types FormatValue accepts.
type Rows struct {
	Columns int
	Values  [][]any
}

// Outcome is what happened to one record in a Run.
type Outcome int

// The outcomes.
const (
	// Skipped: the record does not apply to the engine (skipif/onlyif), or
	// it is not a statement or query.
	Skipped Outcome = iota
	// Passed: the statement did what it expected, or the query's values
	// matched.
	Passed
	// Failed: see Result.Err.
	Failed
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	}
	return "skipped"
}

// RunOptions configure Run.
type RunOptions struct {
	// Engine is the name the DB answers to in skipif/onlyif lines.
	Engine string
	// Timeout bounds one record's run; 0 means no bound.
	Timeout time.Duration
}

// Result is the outcome of one statement or query record.
type Result struct {
	// Index is the record's index in File.Records; Record points at it.
	Index  int
	Record *Record
	// Outcome is whether the record passed, failed or was skipped.
	Outcome Outcome
	// Err says why the record failed (nil unless Outcome is Failed).
	Err error
	// RunErr is set when the failure is the engine's error for SQL that was
	// expected to succeed (as opposed to a wrong result, or success where an
	// error was expected); it is the DB's error.
	RunErr error
	// Values are a query's values as compared (formatted, then sorted by
	// the record's sort mode); nil when the query did not run or its values
	// could not be formatted.
	Values []string
	// FormatErr is set when the query ran but a value could not be written
	// in its column type (a fraction in an I column, text in an R one).
	FormatErr error
	// Threshold is the hash-threshold in force for the record.
	Threshold int
}

// Report is the outcome of a Run over one file.
type Report struct {
	File *File
	// Results holds one entry per statement and query record, in file
	// order, up to a halt that applies.
	Results []Result
	// Passed, Failed and Skipped count the Results by outcome.
	Passed, Failed, Skipped int
}

// Ran is the number of records that ran (passed or failed).
func (r *Report) Ran() int { return r.Passed + r.Failed }

// Run runs the records of f that apply to opts.Engine on db, in order,
// and reports every statement's and query's outcome. It never stops early
// except at a halt that applies or when ctx ends (the remaining records
// then fail with ctx's error). Hash thresholds take effect as the records
// are met.
func Run(ctx context.Context, f *File, db DB, opts RunOptions) *Report {
	rep := &Report{File: f}
	threshold := 0
	for i := range f.Records {
		r := &f.Records[i]
		if r.Kind != Statement && r.Kind != Query {
			if !r.Applies(opts.Engine) {
				continue
			}
			if r.Kind == HashThreshold {
				threshold = r.Threshold
				continue
			}
			if r.Kind == Halt {
				break
			}
			continue
		}
		res := Result{Index: i, Record: r, Threshold: threshold}
		if !r.Applies(opts.Engine) {
			res.Outcome = Skipped
		} else {
			runRecord(ctx, db, r, opts.Timeout, &res)
		}
		switch res.Outcome {
		case Passed:
			rep.Passed++
		case Failed:
			rep.Failed++
		default:
			rep.Skipped++
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
}

// runRecord runs one applicable statement or query record and fills res.
func runRecord(ctx context.Context, db DB, r *Record, timeout time.Duration, res *Result) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	fail := func(err error) {
		res.Outcome, res.Err = Failed, err
	}
	if err := ctx.Err(); err != nil {
		fail(err)
		return
	}
	if r.Kind == Statement {
		err := db.Exec(ctx, r.SQL)
		switch {
		case !r.ExpectError && err != nil:
			res.RunErr = err
			fail(fmt.Errorf("statement failed: %v", err))
		case r.ExpectError && err == nil:
			fail(fmt.Errorf("statement succeeded, want an error matching %q", r.ErrorPattern))
		case r.ExpectError && r.ErrorRegexp != nil && !r.ErrorRegexp.MatchString(err.Error()):
			fail(fmt.Errorf("error %q does not match %q", err.Error(), r.ErrorPattern))
		default:
			res.Outcome = Passed
		}
		return
	}
	rows, err := db.Query(ctx, r.SQL)
	if err != nil {
		res.RunErr = err
		fail(fmt.Errorf("query failed: %v", err))
		return
	}
	if rows.Columns != len(r.Types) {
		fail(fmt.Errorf("query returns %d columns, the record declares %d (%s)", rows.Columns, len(r.Types), r.Types))
		return
	}
	formatted, err := FormatRows(r.Types, rows.Values)
	if err != nil {
		res.FormatErr = err
		fail(err)
		return
	}
	res.Values = SortValues(r.Sort, formatted)
	if err := r.Check(res.Values); err != nil {
		fail(err)
		return
	}
	res.Outcome = Passed
}
