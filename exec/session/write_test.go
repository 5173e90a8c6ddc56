package session

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlc/etlc/parser"
)

// TestInsertSinkModes checks INSERT INTO and INSERT OVERWRITE against the
// sink modes: append adds, overwrite replaces, error_if_exists refuses a
// second write, and INSERT OVERWRITE always replaces.
func TestInsertSinkModes(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SINK s_app (id BIGINT, v VARCHAR) WITH (connector = 'file', path = '${dir}/app/', format = 'csv', header = 'true');
CREATE SINK s_ow (id BIGINT, v VARCHAR) WITH (connector = 'file', path = '${dir}/ow/', format = 'json', mode = 'overwrite');
CREATE SINK s_once (id BIGINT, v VARCHAR) WITH (connector = 'file', path = '${dir}/once/', format = 'parquet', mode = 'error_if_exists');
INSERT INTO s_app VALUES (1, 'a');
INSERT INTO s_app VALUES (2, 'b'), (3, 'c');
INSERT INTO s_ow VALUES (1, 'a');
INSERT INTO s_ow VALUES (2, 'b');
INSERT INTO s_once VALUES (1, 'a');
`)
	equalLines(t, "append sink after two INSERT INTO", rows(t, s, "SELECT id, v FROM s_app ORDER BY id"), []string{"1|a", "2|b", "3|c"})
	equalLines(t, "overwrite sink after two INSERT INTO", rows(t, s, "SELECT id, v FROM s_ow ORDER BY id"), []string{"2|b"})
	mustExec(t, s, "INSERT OVERWRITE s_app VALUES (9, 'z')")
	equalLines(t, "append sink after INSERT OVERWRITE", rows(t, s, "SELECT id, v FROM s_app ORDER BY id"), []string{"9|z"})

	_, err := execScript(t, s, "again.sql", "INSERT INTO s_once VALUES (2, 'b');")
	se := stmtErr(t, err)
	if !strings.HasPrefix(se.Error(), "again.sql:1:1: INSERT INTO s_once failed: opening sink \"s_once\": sink path ") ||
		!strings.HasSuffix(se.Error(), "already holds output (mode = 'error_if_exists')") {
		t.Errorf("second write to an error_if_exists sink: %v", se)
	}
	equalLines(t, "error_if_exists sink", rows(t, s, "SELECT id, v FROM s_once"), []string{"1|a"})
	// INSERT OVERWRITE may replace it.
	mustExec(t, s, "INSERT OVERWRITE s_once VALUES (3, 'c')")
	equalLines(t, "error_if_exists sink after INSERT OVERWRITE", rows(t, s, "SELECT id, v FROM s_once"), []string{"3|c"})
}

// TestInsertTable checks INSERT into managed tables: append, overwrite, a
// target column list (reordered, the others NULL), casts to the column
// types, and NOT NULL.
func TestInsertTable(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	run := mustExec(t, s, `
CREATE TABLE t (id BIGINT, v VARCHAR NOT NULL, amount DECIMAL(10,2), note VARCHAR);
INSERT INTO t (v, id) VALUES ('x', 1);
INSERT INTO t SELECT 2, 'y', 2.5, 'second';
INSERT INTO t (amount, v, id) SELECT CAST(7 AS INT), 'z', CAST(3 AS SMALLINT);
`)
	if got := run.Statements[1].Tag; got != "INSERT 0 1" {
		t.Errorf("tag = %q, want INSERT 0 1", got)
	}
	equalLines(t, "table after three INSERT INTO", rows(t, s, "SELECT id, v, amount, note FROM t ORDER BY id"),
		[]string{"1|x|NULL|NULL", "2|y|2.50|second", "3|z|7.00|NULL"})

	_, err := execScript(t, s, "nulls.sql", "INSERT INTO t (id) VALUES (4);")
	se := stmtErr(t, err)
	if se.Code != "23502" || se.Error() != `nulls.sql:1:1: INSERT INTO t failed: null value in column "v" of table "t" violates not-null constraint` {
		t.Errorf("NOT NULL violation: code %s, %v", se.Code, se)
	}
	equalLines(t, "table after the failed INSERT", rows(t, s, "SELECT COUNT(*) FROM t"), []string{"3"})

	mustExec(t, s, "INSERT OVERWRITE t (id, v) VALUES (10, 'only')")
	equalLines(t, "table after INSERT OVERWRITE", rows(t, s, "SELECT id, v, amount, note FROM t"), []string{"10|only|NULL|NULL"})
	files, staging := visibleFiles(t, e.tableDir("t"))
	if len(files) != 1 || len(staging) != 0 {
		t.Errorf("table directory holds %v and staging %v, want one file and no staging", files, staging)
	}

	// CREATE TABLE AS, DROP TABLE (files go too), CREATE TABLE again starts empty.
	mustExec(t, s, "CREATE TABLE t2 AS SELECT id * 2 AS twice, v FROM t")
	equalLines(t, "CREATE TABLE AS", rows(t, s, "SELECT twice, v FROM t2"), []string{"20|only"})
	mustExec(t, s, "DROP TABLE t2; CREATE TABLE t2 (twice BIGINT, v VARCHAR)")
	equalLines(t, "re-created table", rows(t, s, "SELECT COUNT(*) FROM t2"), []string{"0"})
}

// TestFailedStatementKeepsPreviousOutput makes statements fail in the
// middle of their writes, by division by zero in row 10,000 of 20,000 and
// by a VALIDATE, and checks that the previous output is intact, nothing
// partial is visible and no staging directory is left.
func TestFailedStatementKeepsPreviousOutput(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	genCSV(t, filepath.Join(dir, "n.csv"), 20000)
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SOURCE n (id BIGINT) WITH (connector = 'file', path = '${dir}/n.csv', format = 'csv', header = 'true');
CREATE SINK outs (id BIGINT, q DOUBLE) WITH (connector = 'file', path = '${dir}/out/', format = 'csv', header = 'true');
CREATE TABLE tab (id BIGINT, q DOUBLE);
INSERT OVERWRITE outs SELECT id, 100.0 / id FROM n WHERE id <= 100;
INSERT OVERWRITE tab SELECT id, 100.0 / id FROM n WHERE id <= 100;
`)
	sinkFiles, _ := visibleFiles(t, filepath.Join(dir, "out"))
	tableFiles, _ := visibleFiles(t, e.tableDir("tab"))
	check := func(what string) {
		t.Helper()
		equalLines(t, what+": sink", rows(t, s, "SELECT COUNT(*), SUM(id) FROM outs"), []string{"100|5050"})
		equalLines(t, what+": table", rows(t, s, "SELECT COUNT(*), SUM(id) FROM tab"), []string{"100|5050"})
		for _, d := range []struct {
			dir  string
			want []string
		}{{filepath.Join(dir, "out"), sinkFiles}, {e.tableDir("tab"), tableFiles}} {
			files, staging := visibleFiles(t, d.dir)
			if strings.Join(files, ",") != strings.Join(d.want, ",") || len(staging) > 0 {
				t.Errorf("%s: %s holds %v and staging %v, want %v and none", what, d.dir, files, staging, d.want)
			}
		}
	}
	for _, target := range []string{"outs", "tab"} {
		script := "-- fails in the second batch\nINSERT OVERWRITE " + target + " SELECT id, 100 / (id - 10000) FROM n;\n"
		run, err := execScript(t, s, "div.sql", script)
		se := stmtErr(t, err)
		if se.Code != "22012" || !strings.HasPrefix(se.Error(), "div.sql:2:1: INSERT OVERWRITE "+target+" failed: division by zero") {
			t.Errorf("division by zero into %s: code %s, %v", target, se.Code, se)
		}
		if st := run.Statements[0]; st.RowsWritten < 8192 {
			t.Errorf("into %s: %d rows written before the failure, want at least a batch (the failure must come mid-write)", target, st.RowsWritten)
		}
		check("after division by zero into " + target)
	}

	// A VALIDATE that fails stops the script: what ran before stays
	// committed, what comes after never runs.
	run, err := execScript(t, s, "checks.sql", `CREATE SINK later (id BIGINT) WITH (connector = 'file', path = '${dir}/later/', format = 'csv');
INSERT INTO outs SELECT id, 0 FROM n WHERE id = 101;
VALIDATE enough_rows AS SELECT COUNT(*) > 1000, CONCAT(COUNT(*), ' rows in outs, want more than 1000') FROM outs;
INSERT INTO later SELECT id FROM n;`)
	se := stmtErr(t, err)
	if se.Error() != "checks.sql:3:1: VALIDATE enough_rows failed: 101 rows in outs, want more than 1000" || se.Code != "P0001" {
		t.Errorf("VALIDATE failure: code %s, %v", se.Code, se)
	}
	if len(run.Statements) != 3 || run.Count != 4 {
		t.Errorf("ran %d of %d statements, want 3 of 4", len(run.Statements), run.Count)
	}
	equalLines(t, "sink after the VALIDATE failed", rows(t, s, "SELECT COUNT(*), SUM(id) FROM outs"), []string{"101|5151"})
	if files, _ := visibleFiles(t, filepath.Join(dir, "later")); len(files) != 0 {
		t.Errorf("the statement after the failed VALIDATE wrote %v", files)
	}
}

// cancelAt cancels a context at the first progress report of the
// statement with the given index.
type cancelAt struct {
	index  int
	cancel context.CancelFunc
	seen   Progress
}

func (c *cancelAt) StatementStarted(*StmtInfo) {}
func (c *cancelAt) StatementProgress(info *StmtInfo, p Progress) {
	if info.Index == c.index && p.RowsWritten > 0 && c.seen.RowsWritten == 0 {
		c.seen = p
		c.cancel()
	}
}
func (c *cancelAt) StatementFinished(*StmtResult) {}

// TestCancelAbortsWrite cancels a run while a statement writes: the
// statement fails as canceled, its output is discarded, the previous
// output stays.
func TestCancelAbortsWrite(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	genCSV(t, filepath.Join(dir, "n.csv"), 20000)
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SOURCE n (id BIGINT) WITH (connector = 'file', path = '${dir}/n.csv', format = 'csv', header = 'true');
CREATE TABLE big (a BIGINT, b BIGINT);
INSERT INTO big SELECT id, id FROM n WHERE id <= 10;`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &cancelAt{index: 0, cancel: cancel}
	run, err := s.Exec(ctx, parser.NewSource("big.sql", "INSERT OVERWRITE big SELECT x.id, y.id FROM n AS x CROSS JOIN (SELECT id FROM n WHERE id <= 200) AS y;"),
		ExecOptions{Observer: obs})
	defer run.Release()
	se := stmtErr(t, err)
	if se.Code != "57014" || obs.seen.RowsWritten == 0 {
		t.Errorf("canceled write: code %s (%v), canceled after %d rows written", se.Code, se, obs.seen.RowsWritten)
	}
	equalLines(t, "table after the canceled write", rows(t, s, "SELECT COUNT(*), SUM(a) FROM big"), []string{"10|55"})
	if _, staging := visibleFiles(t, e.tableDir("big")); len(staging) != 0 {
		t.Errorf("staging directories left: %v", staging)
	}
}
