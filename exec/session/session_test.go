package session

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/parser"
)

// TestCompileErrorRunsNothing checks that a script with an error in its
// last statement runs none of its statements.
func TestCompileErrorRunsNothing(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	run, err := s.Exec(context.Background(), parser.NewSource("job.sql", "CREATE TABLE t (id INT);\nSELECT idd FROM t;"), ExecOptions{})
	ds, ok := err.(parser.Diagnostics)
	if !ok || len(ds) != 1 || ds[0].Error() != `job.sql:2:8: error: column "idd" does not exist (did you mean id?)` {
		t.Fatalf("error %v (%T), want one diagnostic", err, err)
	}
	if len(run.Statements) != 0 {
		t.Errorf("%d statements ran", len(run.Statements))
	}
	if _, ok := e.Catalog().Lookup("t"); ok {
		t.Error("table t was created by a script that does not compile")
	}
}

// recorder records observer events.
type recorder struct{ events []string }

func (r *recorder) StatementStarted(i *StmtInfo) {
	r.events = append(r.events, fmt.Sprintf("start %d/%d %s %s", i.Index+1, i.Count, i.Title(), i.Pos))
}
func (r *recorder) StatementProgress(*StmtInfo, Progress) {}
func (r *recorder) StatementFinished(res *StmtResult) {
	e := fmt.Sprintf("finish %s %q read %d written %d", res.Info.Title(), res.Tag, res.RowsRead, res.RowsWritten)
	if res.Err != nil {
		e += " error " + res.Err.Error()
	}
	r.events = append(r.events, e)
}

// TestObserverAndStreams checks the events a script's statements send and
// the streaming of SELECT rows to ExecOptions.Results.
func TestObserverAndStreams(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	rec := &recorder{}
	var streamed []string
	run, err := s.Exec(context.Background(), parser.NewSource("obs.sql", `CREATE TABLE t (id INT, v VARCHAR);
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT v FROM t ORDER BY id DESC;
SELECT id FROM t ORDER BY id;`), ExecOptions{Observer: rec,
		Results: func(_ context.Context, info *StmtInfo, rd array.RecordReader) error {
			for rd.Next() {
				r := rd.Record()
				for i := 0; i < int(r.NumRows()); i++ {
					v, _ := FormatValue(r.Column(0), i)
					streamed = append(streamed, fmt.Sprintf("%d:%s", info.Index+1, v))
				}
				if info.Index == 3 {
					return nil // stop reading early: the rest is drained
				}
			}
			return rd.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Release()
	equalLines(t, "events", rec.events, []string{
		"start 1/4 CREATE TABLE t obs.sql:1:1",
		`finish CREATE TABLE t "CREATE TABLE" read 0 written 0`,
		"start 2/4 INSERT INTO t obs.sql:2:1",
		`finish INSERT INTO t "INSERT 0 3" read 0 written 3`,
		"start 3/4 SELECT obs.sql:3:1",
		`finish SELECT "SELECT 3" read 3 written 0`,
		"start 4/4 SELECT obs.sql:4:1",
		`finish SELECT "SELECT 3" read 3 written 0`,
	})
	equalLines(t, "streamed rows", streamed, []string{"3:c", "3:b", "3:a", "4:1", "4:2", "4:3"})
	if recs := run.Statements[2].Records; recs != nil {
		t.Errorf("streamed statement also collected %d records", len(recs))
	}
}

// TestViewsAndSessions checks that temporary views belong to their session
// and stored views to the catalog, also after the engine is reopened.
func TestViewsAndSessions(t *testing.T) {
	e := openEngine(t)
	a := e.NewSession(Options{Params: map[string]string{"min": "2"}})
	mustExec(t, a, `CREATE TABLE t (id INT, v VARCHAR);
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TEMPORARY VIEW tv AS SELECT id FROM t WHERE id >= ${min};
CREATE VIEW pv (n, letter) AS SELECT id, UPPER(v) FROM t WHERE id >= ${min};`)
	equalLines(t, "temporary view in its session", rows(t, a, "SELECT id FROM tv ORDER BY id"), []string{"2", "3"})
	b := e.NewSession(Options{})
	if _, err := b.Exec(context.Background(), parser.NewSource("b.sql", "SELECT * FROM tv;"), ExecOptions{}); err == nil ||
		!strings.Contains(err.Error(), `relation "tv" does not exist`) {
		t.Errorf("another session sees the temporary view: %v", err)
	}
	equalLines(t, "stored view in another session", rows(t, b, "SELECT n, letter FROM pv ORDER BY n"), []string{"2|B", "3|C"})
	dir := e.Dir()
	e.Close()
	e2, err := Open(context.Background(), dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	c := e2.NewSession(Options{})
	equalLines(t, "stored view after reopening", rows(t, c, "SELECT n, letter FROM pv ORDER BY n"), []string{"2|B", "3|C"})
	mustExec(t, c, "DROP VIEW pv")
	if _, ok := e2.Catalog().Lookup("pv"); ok {
		t.Error("pv is still in the catalog")
	}
}

// TestInferredSource checks a source declared without columns: its schema
// is inferred when the script is compiled.
func TestInferredSource(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "events/e.json"), `{"id": 1, "kind": "click", "at": "2024-01-05 09:00:00"}
{"id": 2, "kind": "view", "at": "2024-01-05 09:01:00"}
`)
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	equalLines(t, "inferred source", rows(t, s, `CREATE SOURCE events WITH (connector = 'file', path = '${dir}/events/', format = 'json');
SELECT id, kind, at FROM events ORDER BY id;`), []string{"1|click|2024-01-05 09:00:00", "2|view|2024-01-05 09:01:00"})
	o, _ := e.Catalog().Lookup("events")
	if got := o.Columns.String(); got != "(id BIGINT, kind VARCHAR, at TIMESTAMP)" {
		t.Errorf("stored columns %s", got)
	}
}

// TestUtilityStatements checks EXPLAIN, SET/SHOW/RESET, SHOW of objects,
// and the statements this engine does not run.
func TestUtilityStatements(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, "CREATE TABLE t (id INT, v VARCHAR)")
	equalLines(t, "EXPLAIN", rows(t, s, "EXPLAIN SELECT v FROM t WHERE id = 1"), []string{
		"Project v:VARCHAR := v#1  (rows=100 cost=2.54k)",
		"  Filter (id#0 = 1)  (rows=100 cost=2.44k)",
		"    Scan t (id:INT, v:VARCHAR)  (rows=1k cost=1.44k)",
	})
	// EXPLAIN shows the optimized plan: the filter on u below the join,
	// only the columns used read.
	mustExec(t, s, "CREATE TABLE u (id INT, k INT, z VARCHAR)")
	equalLines(t, "EXPLAIN optimized", rows(t, s, "EXPLAIN SELECT v FROM t JOIN u ON t.id = u.id WHERE u.k > 2"), []string{
		"Project v:VARCHAR := v#1  (rows=1k cost=7.31k)",
		"  Join INNER (id#0 = id#2)  (rows=1k cost=6.31k)",
		"    Scan t (id:INT, v:VARCHAR)  (rows=1k cost=1.44k)",
		"    Filter (k#1 > 2)  (rows=333 cost=2.12k)",
		"      Scan u (id:INT, k:INT)  (rows=1k cost=1.12k)",
		"        columns [0 1] of 3",
	})
	equalLines(t, "EXPLAIN INSERT", rows(t, s, "EXPLAIN INSERT INTO u (id) SELECT id FROM t"), []string{
		"INSERT INTO u (id)",
		"  Project id:INT := id#0, k:INT := NULL, z:VARCHAR := NULL",
		"    Project id:INT := id#0",
		"      Scan t (id:INT)",
		"        columns [0] of 2",
	})
	equalLines(t, "SHOW TimeZone", rows(t, s, "SHOW TimeZone"), []string{"UTC"})
	equalLines(t, "SET then SHOW", rows(t, s, "SET application_name = 'etl-test'; SHOW application_name"), []string{"etl-test"})
	equalLines(t, "RESET", rows(t, s, "RESET application_name; SHOW application_name"), []string{""})
	equalLines(t, "SHOW TABLES", rows(t, s, "SHOW TABLES"), []string{"t|(id INT, v VARCHAR)|", "u|(id INT, k INT, z VARCHAR)|"})
	_, err := execScript(t, s, "x.sql", "SHOW nonsense")
	if se := stmtErr(t, err); se.Code != "42704" || se.Message != `unrecognized configuration parameter "nonsense"` {
		t.Errorf("SHOW nonsense: %v (%s)", se, se.Code)
	}
	_, err = execScript(t, s, "x.sql", "EXPLAIN ANALYZE INSERT INTO t VALUES (1, 'a')")
	if se := stmtErr(t, err); se.Code != "0A000" {
		t.Errorf("EXPLAIN ANALYZE INSERT: %v (%s)", se, se.Code)
	}
	mustExec(t, s, "BEGIN; COMMIT;")
}

// TestSystemTables checks etl.sources, etl.sinks and etl.runs.
func TestSystemTables(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.csv"), badCSV)
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SOURCE q (id INT, d DATE) WITH (connector = 'file', path = '${dir}/in.csv', format = 'csv', header = 'true', on_error = 'quarantine');
CREATE SINK out_q (id INT) WITH (connector = 'file', path = '${dir}/out/', format = 'parquet', mode = 'overwrite');
INSERT INTO out_q SELECT id FROM q;`)
	_, err := execScript(t, s, "bad.sql", "VALIDATE never AS SELECT FALSE, 'no';")
	if err == nil {
		t.Fatal("VALIDATE FALSE passed")
	}
	equalLines(t, "etl.sources", rows(t, s, "SELECT name, kind, connector, format, files_read, rows_read, bytes_read, bad_rows FROM etl.sources"),
		[]string{fmt.Sprintf("q|source|file|csv|1|2|%d|2", len(badCSV))})
	equalLines(t, "etl.sinks", rows(t, s, "SELECT name, connector, format, mode, files_written, rows_written FROM etl.sinks"),
		[]string{"out_q|file|parquet|overwrite|1|2"})
	// The runs so far: the script, the failed check, the two queries above.
	equalLines(t, "etl.runs", rows(t, s, "SELECT job, state, rows_in, rows_out, error FROM etl.runs"), []string{
		"test.sql|succeeded|2|2|NULL",
		"bad.sql|failed|0|0|bad.sql:1:1: VALIDATE never failed: no",
		"test.sql|succeeded|0|0|NULL",
		"test.sql|succeeded|0|0|NULL",
	})
}

// TestConcurrentSessions runs sessions of one engine at the same time, all
// appending to one table and reading it: writes to a target are
// serialized, so every row arrives.
func TestConcurrentSessions(t *testing.T) {
	e := openEngine(t)
	mustExec(t, e.NewSession(Options{}), "CREATE TABLE t (worker INT, i INT);")
	const workers, inserts = 4, 5
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			s := e.NewSession(Options{})
			defer s.Close()
			for i := 0; i < inserts; i++ {
				run, err := s.Exec(context.Background(), parser.NewSource("w.sql",
					fmt.Sprintf("INSERT INTO t VALUES (%d, %d); SELECT COUNT(*) FROM t;", w, i)), ExecOptions{})
				run.Release()
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	equalLines(t, "rows per worker", rows(t, e.NewSession(Options{}), "SELECT worker, COUNT(*), SUM(i) FROM t GROUP BY worker ORDER BY worker"),
		[]string{"0|5|10", "1|5|10", "2|5|10", "3|5|10"})
}
