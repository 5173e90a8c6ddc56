package slt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/exec/slt"
	"github.com/etlc/etlc/parser"
)

// etlcDB runs records in an etlc session: each record's SQL is one script
// run by Session.Exec, so it is compiled and run exactly as `etlc run`
// would run it.
type etlcDB struct {
	sess *session.Session
	name string // script name in positions
}

var _ slt.DB = (*etlcDB)(nil)

// openEtlc opens an engine on a fresh data directory and returns a
// session of it.
func openEtlc(t *testing.T, name string) *etlcDB {
	t.Helper()
	eng, err := session.Open(context.Background(), filepath.Join(t.TempDir(), "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	sess := eng.NewSession(session.Options{})
	t.Cleanup(func() { sess.Close() })
	return &etlcDB{sess: sess, name: name}
}

// run runs sql as a script; the error's text is the message of the
// failing statement or of the compile errors.
func (db *etlcDB) run(ctx context.Context, sql string) (*session.Run, error) {
	run, err := db.sess.Exec(ctx, parser.NewSource(db.name, sql), session.ExecOptions{})
	if err == nil {
		return run, nil
	}
	run.Release()
	var ds parser.Diagnostics
	if errors.As(err, &ds) {
		var msgs []string
		for _, d := range ds {
			if d.Severity == parser.SevError {
				msgs = append(msgs, d.Message)
			}
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	var se *session.StmtError
	if errors.As(err, &se) {
		return nil, errors.New(se.Message)
	}
	return nil, err
}

// Exec implements slt.DB.
func (db *etlcDB) Exec(ctx context.Context, sql string) error {
	run, err := db.run(ctx, sql)
	run.Release()
	return err
}

// Query implements slt.DB: the rows of the script's last statement.
func (db *etlcDB) Query(ctx context.Context, sql string) (*slt.Rows, error) {
	run, err := db.run(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer run.Release()
	if len(run.Statements) == 0 {
		return nil, errors.New("the script has no statement")
	}
	last := run.Statements[len(run.Statements)-1]
	if last.Schema == nil {
		return nil, fmt.Errorf("%s returns no rows", last.Info.Kind)
	}
	return arrowRows(last.Schema, last.Records), nil
}

// arrowRows converts records to the values slt.FormatValue takes:
// booleans, integers and floats as Go values, decimals as slt.Numeric with
// their scale, everything else (text, dates, timestamps, intervals, bytes)
// as the text PostgreSQL would send, which is what the corpus compares.
func arrowRows(schema *arrow.Schema, recs []arrow.Record) *slt.Rows {
	out := &slt.Rows{Columns: schema.NumFields()}
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = arrowValue(col, i)
			}
			out.Values = append(out.Values, row)
		}
	}
	return out
}

func arrowValue(col arrow.Array, i int) any {
	if col.IsNull(i) || col.DataType().ID() == arrow.NULL {
		return nil
	}
	switch a := col.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return a.Value(i)
	case *array.Uint16:
		return a.Value(i)
	case *array.Uint32:
		return a.Value(i)
	case *array.Uint64:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		s, _ := session.FormatValue(col, i)
		return slt.Numeric(s)
	}
	s, _ := session.FormatValue(col, i)
	return s
}

// TestEtlcCorpus runs every testdata/slt/*.slt file on etlc (engine name
// "etlc": records guarded "skipif etlc" are skipped, "onlyif etlc" ones
// run), each file on a fresh data directory, and requires every record to
// pass.
func TestEtlcCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no .slt files in %s", corpusDir)
	}
	var summary []string
	var passed, failed, ran int
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".slt"), func(t *testing.T) {
			f, err := slt.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			db := openEtlc(t, name)
			rep := slt.Run(context.Background(), f, db, slt.RunOptions{Engine: "etlc", Timeout: time.Minute})
			for _, res := range rep.Results {
				if res.Outcome == slt.Failed {
					t.Errorf("%s: %v\n%s", f.Pos(res.Record.Line), res.Err, res.Record.SQL)
				}
			}
			line := fmt.Sprintf("%-34s %4d passed, %d failed of %4d run (%5.1f%% passed), %d skipped",
				name, rep.Passed, rep.Failed, rep.Ran(), rate(rep.Passed, rep.Ran()), rep.Skipped)
			t.Log(line)
			summary = append(summary, line)
			passed += rep.Passed
			failed += rep.Failed
			ran += rep.Ran()
		})
	}
	summary = append(summary, fmt.Sprintf("%-34s %4d passed, %d failed of %4d run (%5.1f%% passed)", "total", passed, failed, ran, rate(passed, ran)))
	printSummary(t, "etlc corpus (testdata/slt) on etlc", summary)
}

// rate is a percentage, 100 for nothing run.
func rate(n, of int) float64 {
	if of == 0 {
		return 100
	}
	return 100 * float64(n) / float64(of)
}

// printSummary writes the lines to the test log, to standard output
// (where `go test` shows them without -v when run in one package) and to
// the summary file of `make test` (see summaryFile).
func printSummary(t *testing.T, title string, lines []string) {
	t.Helper()
	text := title + ":\n  " + strings.Join(lines, "\n  ")
	t.Log(text)
	fmt.Println(text)
	summaryFile(t, text)
}

// sqliteCorpusDir finds the SQLite sqllogictest files: the directory
// $ETLC_SQLITE_SLT when set, else shared/slt next to the repository
// (../shared/slt from its root) or next to one of its ancestors (a git
// worktree nested one level deeper).
func sqliteCorpusDir() (string, bool) {
	if dir := os.Getenv("ETLC_SQLITE_SLT"); dir != "" {
		return dir, true
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", false
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "slt")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, true
		}
		if dir == filepath.Dir(dir) {
			return "", false
		}
	}
}

// apartReason is a documented difference between etlc and SQLite: the
// records that fail only because of it are counted apart from failures,
// with the reason printed.
type apartReason struct {
	// name is the short name in the per-file counts; reason says why the
	// results differ on purpose and where etlc documents it.
	name, reason string
	// match reports whether a failed record fails only because of it.
	match func(*slt.Result) bool
}

// apartReasons are the differences TestSQLiteCorpus counts apart, tried
// in order (a record is counted under the first that matches).
var apartReasons = []apartReason{
	{"`/`", "`/` on integers gives a fractional result (7 / 2 = 3.5) and division by zero is an error, where SQLite truncates and gives NULL (DIALECT.md, docs/dialect.md)",
		isDivisionDifference},
	{"strict comparison", "comparing a string or a blob with a number is a type error, as in PostgreSQL, where SQLite compares them by its type affinity rules (docs/dialect.md)",
		isStrictComparison},
}

// sqliteFile is what TestSQLiteCorpus expects of one SQLite file: the
// number of records that fail for a reason that is not a documented
// difference, and the number counted apart under each apartReason name.
// Both are pinned to what was measured, so that any change shows: a
// regression as more failures, a fix as fewer (then lower the pin).
type sqliteFile struct {
	failures int
	apart    map[string]int
}

// sqliteFiles pins the outcome of each SQLite file.
var sqliteFiles = map[string]sqliteFile{
	"select1.test": {},
	"select2.test": {},
	// 'hello' IN (SELECT * FROM t1) and x'303132' IN (SELECT * FROM t1)
	// with an INT column: a type error in etlc, as in PostgreSQL.
	"in1.test":              {apart: map[string]int{"strict comparison": 4}},
	"in2.test":              {},
	"slt_lang_aggfunc.test": {},
}

// isDivisionDifference reports whether a failed record fails only because
// etlc's `/` gives a fractional result (7 / 2 = 3.5) where SQLite divides
// integers as integers (7 / 2 = 3), or because etlc's division by zero is
// an error where SQLite's is NULL. The rule, applied to a failed record:
//
//   - its SQL contains the character '/', and
//   - it is a query, and either etlc ran it and it returned other values
//     than expected, or a value could not be written in its column type
//     (a fraction in an I column), or etlc stopped it with the error
//     "division by zero".
//
// Any other failure (a statement, a query etlc rejects, a wrong column
// count) is a real failure even when the SQL contains '/'.
func isDivisionDifference(res *slt.Result) bool {
	r := res.Record
	if r.Kind != slt.Query || !strings.Contains(r.SQL, "/") {
		return false
	}
	if res.RunErr != nil {
		return strings.Contains(res.RunErr.Error(), "division by zero")
	}
	return res.Values != nil || res.FormatErr != nil
}

// The types of the strict comparison errors: numbers, and strings or
// blobs, as etlc names them in messages.
const (
	numberTypes = `(?:TINYINT|SMALLINT|INT|BIGINT|REAL|DOUBLE|DECIMAL(?:\(\d+,\d+\))?)`
	stringTypes = `(?:VARCHAR(?:\(\d+\))?|CHAR\(\d+\)|VARBINARY)`
)

// strictComparison matches the messages of a string or blob compared with
// a number: the string literal read as the number's type, or the types
// refused together.
var strictComparison = regexp.MustCompile(`^(?:invalid ` + numberTypes + ` literal '|cannot compare ` + stringTypes +
	` with (?:subquery column of type )?` + numberTypes + `$|cannot compare ` + numberTypes +
	` with (?:subquery column of type )?` + stringTypes + `$)`)

// isStrictComparison reports whether a failed record fails only because
// etlc refuses to compare a string or a blob with a number (SQLite
// compares them by its affinity rules; PostgreSQL refuses, as etlc does):
// it is a query, etlc rejected it, and the whole error is one of those
// type errors.
func isStrictComparison(res *slt.Result) bool {
	if res.Record.Kind != slt.Query || res.RunErr == nil {
		return false
	}
	return strictComparison.MatchString(res.RunErr.Error())
}

// summaryFile appends lines to the file named by $ETLC_SLT_SUMMARY when it
// is set: `make test` prints it after go test, which shows the output of
// passing packages only with -v.
func summaryFile(t *testing.T, text string) {
	t.Helper()
	path := os.Getenv("ETLC_SLT_SUMMARY")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("summary file: %v", err)
		return
	}
	if _, err := f.WriteString(text + "\n"); err != nil {
		t.Errorf("summary file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("summary file: %v", err)
	}
}

// TestSQLiteCorpus runs the SQLite sqllogictest files of ../shared/slt on
// etlc as engine "mysql" (the dialect's base grammar: "onlyif mysql"
// records run, "skipif mysql" ones do not), each on a fresh data
// directory, prints per file and in total the records passed, counted
// apart (failing only by a documented difference, see apartReasons) and
// failed, and asserts the pinned counts of sqliteFiles. Skipped when the
// files are absent.
func TestSQLiteCorpus(t *testing.T) {
	title := "SQLite sqllogictest files on etlc as mysql"
	dir, ok := sqliteCorpusDir()
	if !ok {
		summaryFile(t, title+": skipped, no shared/slt directory next to the repository")
		t.Skip("no shared/slt directory next to the repository (the SQLite sqllogictest files)")
	}
	names := make([]string, 0, len(sqliteFiles))
	for name := range sqliteFiles {
		names = append(names, name)
	}
	sort.Strings(names)
	var summary []string
	var total struct{ passed, apart, failed, skipped int }
	totalApart := map[string]int{}
	for _, name := range names {
		want := sqliteFiles[name]
		t.Run(strings.TrimSuffix(name, ".test"), func(t *testing.T) {
			f, err := slt.ParseFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			db := openEtlc(t, name)
			start := time.Now()
			rep := slt.Run(context.Background(), f, db, slt.RunOptions{Engine: "mysql", Timeout: time.Minute})
			failures := 0
			apart := map[string]int{}
		results:
			for i := range rep.Results {
				res := &rep.Results[i]
				if res.Outcome != slt.Failed {
					continue
				}
				for _, a := range apartReasons {
					if a.match(res) {
						apart[a.name]++
						if testing.Verbose() {
							t.Logf("%s: counted apart (%s): %v", f.Pos(res.Record.Line), a.name, firstLine(res.Err))
						}
						continue results
					}
				}
				failures++
				if testing.Verbose() {
					t.Logf("%s: %v\n%s", f.Pos(res.Record.Line), res.Err, res.Record.SQL)
				}
			}
			nApart := 0
			for _, a := range apartReasons {
				nApart += apart[a.name]
				totalApart[a.name] += apart[a.name]
			}
			line := fmt.Sprintf("%-22s %4d passed, %3d counted apart%s, %3d failed of %4d run (%5.1f%% passed), %d skipped (%s)",
				name, rep.Passed, nApart, apartText(apart), failures, rep.Ran(), rate(rep.Passed, rep.Ran()), rep.Skipped,
				time.Since(start).Round(time.Millisecond))
			t.Log(line)
			summary = append(summary, line)
			total.passed += rep.Passed
			total.apart += nApart
			total.failed += failures
			total.skipped += rep.Skipped
			for _, a := range apartReasons {
				if apart[a.name] != want.apart[a.name] {
					t.Errorf("%s: %d records counted apart as %s, pinned %d (run with -v to see them)", name, apart[a.name], a.name, want.apart[a.name])
				}
			}
			if failures != want.failures {
				t.Errorf("%s: %d failures, pinned %d (run with -v to see them; lower the pin after a fix)", name, failures, want.failures)
			}
		})
	}
	ran := total.passed + total.apart + total.failed
	summary = append(summary, fmt.Sprintf("%-22s %4d passed, %3d counted apart%s, %3d failed of %4d run (%5.1f%% passed), %d skipped",
		"total", total.passed, total.apart, apartText(totalApart), total.failed, ran, rate(total.passed, ran), total.skipped))
	for _, a := range apartReasons {
		summary = append(summary, fmt.Sprintf("counted apart as %s: %s", a.name, a.reason))
	}
	printSummary(t, title, summary)
}

// apartText lists the non-zero counts of apart by reason: " (4 strict
// comparison)", or "" when there are none.
func apartText(apart map[string]int) string {
	var parts []string
	for _, a := range apartReasons {
		if n := apart[a.name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a.name))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// firstLine is the first line of err's text.
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// TestIsDivisionDifference pins the rule that sets records apart as `/`
// differences.
func TestIsDivisionDifference(t *testing.T) {
	query := func(sql string) *slt.Record {
		return &slt.Record{Kind: slt.Query, SQL: sql, Types: "I"}
	}
	for _, c := range []struct {
		name string
		res  slt.Result
		want bool
	}{
		{"other values", slt.Result{Record: query("SELECT a/2 FROM t1"), Values: []string{"3"}}, true},
		{"fraction in an I column", slt.Result{Record: query("SELECT 7/2"), FormatErr: errors.New("3.5 is not a whole number")}, true},
		{"division by zero", slt.Result{Record: query("SELECT 1/0"), RunErr: errors.New("division by zero")}, true},
		{"no slash", slt.Result{Record: query("SELECT a*2 FROM t1"), Values: []string{"3"}}, false},
		{"rejected query", slt.Result{Record: query("SELECT a/2 FROM nope"), RunErr: errors.New(`relation "nope" does not exist`)}, false},
		{"statement", slt.Result{Record: &slt.Record{Kind: slt.Statement, SQL: "INSERT INTO t SELECT a/2 FROM t"}, RunErr: errors.New("x")}, false},
	} {
		if got := isDivisionDifference(&c.res); got != c.want {
			t.Errorf("%s: isDivisionDifference = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestIsStrictComparison pins the rule that sets records apart as strict
// comparisons: only a query whose whole error is a string or blob compared
// with a number.
func TestIsStrictComparison(t *testing.T) {
	query := &slt.Record{Kind: slt.Query, SQL: "SELECT 'hello' IN (SELECT * FROM t1)", Types: "I"}
	for _, c := range []struct {
		err  string
		want bool
	}{
		{"invalid INT literal 'hello'", true},
		{"invalid DECIMAL(10,2) literal 'x'", true},
		{"cannot compare VARBINARY with subquery column of type INT", true},
		{"cannot compare VARCHAR with BIGINT", true},
		{"cannot compare INT with VARCHAR(3)", true},
		{"invalid DATE literal 'x'", false},
		{"cannot compare DATE with INT", false},
		{"cannot compare VARCHAR with INT; relation \"t\" does not exist", false},
		{`relation "t" does not exist`, false},
	} {
		res := slt.Result{Record: query, RunErr: errors.New(c.err)}
		if got := isStrictComparison(&res); got != c.want {
			t.Errorf("%q: isStrictComparison = %v, want %v", c.err, got, c.want)
		}
	}
	stmt := slt.Result{Record: &slt.Record{Kind: slt.Statement, SQL: "INSERT INTO t VALUES ('x')"}, RunErr: errors.New("invalid INT literal 'x'")}
	if isStrictComparison(&stmt) {
		t.Error("a statement is never counted apart")
	}
	wrong := slt.Result{Record: query, Values: []string{"1"}}
	if isStrictComparison(&wrong) {
		t.Error("a query that ran is never counted apart as a strict comparison")
	}
}

// TestRunOutcomes checks slt.Run on etlc with a file that exercises every
// outcome: conditions, hash thresholds, error regexps, column counts,
// wrong values and halt.
func TestRunOutcomes(t *testing.T) {
	const file = `hash-threshold 2

statement ok
CREATE TABLE r_t (a INT)

statement ok
INSERT INTO r_t VALUES (1), (2), (3)

skipif etlc
statement ok
THIS IS NOT SQL

onlyif postgresql
query I
SELECT 1
----
1

query I rowsort
SELECT a FROM r_t
----
3 values hashing to c0710d6b4f15dfa88f600b0e6b624077

statement error division by zero
SELECT 1 / 0

statement error no such thing
SELECT 1 / 0

statement error
SELECT 1

query II
SELECT a FROM r_t

query I nosort
SELECT a FROM r_t ORDER BY a DESC
----
3 values hashing to c0710d6b4f15dfa88f600b0e6b624077

query I
SELECT a FROM r_t WHERE a = 2
----
2

statement ok
SELECT nope FROM r_t

onlyif etlc
halt

statement ok
THIS WOULD FAIL
`
	f, err := slt.Parse("outcomes.slt", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	rep := slt.Run(context.Background(), f, openEtlc(t, "outcomes.slt"), slt.RunOptions{Engine: "etlc"})
	var got []string
	for _, r := range rep.Results {
		line := fmt.Sprintf("line %d: %s", r.Record.Line, r.Outcome)
		if r.Err != nil {
			line += ": " + firstLine(r.Err)
		}
		got = append(got, line)
	}
	want := []string{
		"line 3: passed",
		"line 6: passed",
		"line 9: skipped",
		"line 13: skipped",
		"line 19: passed",
		"line 24: passed",
		`line 27: failed: error "division by zero in 1 / 0" does not match "no such thing"`,
		`line 30: failed: statement succeeded, want an error matching ""`,
		"line 33: failed: query returns 1 columns, the record declares 2 (II)",
		"line 36: failed: got 3 values hashing to 53c225db474ffb86c7e9459e87ebf56e, want 3 values hashing to c0710d6b4f15dfa88f600b0e6b624077",
		"line 41: passed",
		`line 46: failed: statement failed: column "nope" does not exist`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outcomes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Passed != 5 || rep.Failed != 5 || rep.Skipped != 2 || rep.Ran() != 10 {
		t.Errorf("counts: %d passed, %d failed, %d skipped, %d ran", rep.Passed, rep.Failed, rep.Skipped, rep.Ran())
	}
}
