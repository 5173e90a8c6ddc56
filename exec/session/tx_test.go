package session

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/etlc/etlc/parser"
)

// txSetup makes a table t (1, 2) and an append CSV sink k with one row.
const txSetup = `
CREATE TABLE t (id INT NOT NULL, v VARCHAR);
INSERT INTO t VALUES (1, 'a'), (2, 'b');
CREATE SINK k (id INT, v VARCHAR) WITH (connector = 'file', path = '${dir}/k/', format = 'csv', header = 'true');
INSERT INTO k VALUES (1, 'a');
`

// txSessions opens an engine with txSetup run and two sessions of it.
func txSessions(t *testing.T) (e *Engine, a, b *Session, dir string) {
	t.Helper()
	e = openEngine(t)
	dir = t.TempDir()
	a = e.NewSession(Options{Params: map[string]string{"dir": dir}})
	b = e.NewSession(Options{Params: map[string]string{"dir": dir}})
	t.Cleanup(func() { a.Close(); b.Close() })
	mustExec(t, a, txSetup)
	return e, a, b, dir
}

// noStaging checks that no staging directory is left under dir.
func noStaging(t *testing.T, what, dir string) {
	t.Helper()
	if _, staging := visibleFiles(t, dir); len(staging) > 0 {
		t.Errorf("%s: staging left behind under %s: %v", what, dir, staging)
	}
}

// stagingCount is the number of staging directories under dir.
func stagingCount(t *testing.T, dir string) int {
	t.Helper()
	_, staging := visibleFiles(t, dir)
	return len(staging)
}

// TestTxCommit: the writes of a block are staged, invisible to another
// session, visible to the block itself, and published together by COMMIT.
func TestTxCommit(t *testing.T) {
	e, a, b, dir := txSessions(t)
	run := mustExec(t, a, `BEGIN;
INSERT INTO t VALUES (3, 'c');
INSERT INTO k VALUES (2, 'b');`)
	if got := run.Statements[0].Tag + "," + run.Statements[1].Tag; got != "BEGIN,INSERT 0 1" {
		t.Errorf("tags %s", got)
	}
	if !a.InBlock() || b.InBlock() {
		t.Errorf("InBlock: a %v, b %v; want true, false", a.InBlock(), b.InBlock())
	}
	if n := stagingCount(t, e.tableDir("t")); n != 1 {
		t.Errorf("%d staging directories in the table, want 1", n)
	}
	equalLines(t, "table in the block", rows(t, a, "SELECT id, v FROM t ORDER BY id"), []string{"1|a", "2|b", "3|c"})
	equalLines(t, "sink in the block", rows(t, a, "SELECT id, v FROM k ORDER BY id"), []string{"1|a", "2|b"})
	equalLines(t, "table in another session", rows(t, b, "SELECT id, v FROM t ORDER BY id"), []string{"1|a", "2|b"})
	equalLines(t, "sink in another session", rows(t, b, "SELECT id, v FROM k ORDER BY id"), []string{"1|a"})
	if files, _ := visibleFiles(t, dir+"/k"); len(files) != 1 {
		t.Errorf("sink files before COMMIT: %v", files)
	}
	run = mustExec(t, a, "COMMIT")
	if got := run.Statements[0].Tag; got != "COMMIT" {
		t.Errorf("COMMIT tag %q", got)
	}
	if a.InBlock() {
		t.Error("block still open after COMMIT")
	}
	equalLines(t, "table after COMMIT", rows(t, b, "SELECT id, v FROM t ORDER BY id"), []string{"1|a", "2|b", "3|c"})
	equalLines(t, "sink after COMMIT", rows(t, b, "SELECT id, v FROM k ORDER BY id"), []string{"1|a", "2|b"})
	if files, _ := visibleFiles(t, dir+"/k"); len(files) != 2 {
		t.Errorf("sink files after COMMIT: %v", files)
	}
	noStaging(t, "table after COMMIT", e.tableDir("t"))
	noStaging(t, "sink after COMMIT", dir+"/k")
	// Statistics follow the committed write.
	if st, ok := e.cat.Stats("t"); ok && st.Rows != 3 {
		t.Errorf("table statistics: %v rows, want 3", st.Rows)
	}
}

// TestTxRollback: ROLLBACK discards every staged write, an INSERT
// OVERWRITE included, and leaves no file behind.
func TestTxRollback(t *testing.T) {
	e, a, b, dir := txSessions(t)
	mustExec(t, a, `BEGIN;
INSERT OVERWRITE t VALUES (9, 'z');
INSERT INTO t VALUES (10, 'y');
INSERT INTO k VALUES (2, 'b');
MERGE INTO t USING (SELECT 9 AS id) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = 'merged';`)
	equalLines(t, "table in the block", rows(t, a, "SELECT id, v FROM t ORDER BY id"), []string{"9|merged", "10|y"})
	if n := stagingCount(t, e.tableDir("t")); n != 3 {
		t.Errorf("%d staging directories in the table, want 3", n)
	}
	run := mustExec(t, a, "ROLLBACK")
	if got := run.Statements[0].Tag; got != "ROLLBACK" {
		t.Errorf("ROLLBACK tag %q", got)
	}
	equalLines(t, "table after ROLLBACK", rows(t, a, "SELECT id, v FROM t ORDER BY id"), []string{"1|a", "2|b"})
	equalLines(t, "sink after ROLLBACK", rows(t, b, "SELECT id, v FROM k ORDER BY id"), []string{"1|a"})
	noStaging(t, "table after ROLLBACK", e.tableDir("t"))
	noStaging(t, "sink after ROLLBACK", dir+"/k")
	if files, _ := visibleFiles(t, e.tableDir("t")); len(files) != 1 {
		t.Errorf("table files after ROLLBACK: %v", files)
	}
}

// TestTxReadYourWrites: in a block, INSERT OVERWRITE hides the published
// rows, later INSERTs add to it, MERGE and COPY FROM read and stage the
// block's rows, and the block's COMMIT publishes the result of them all.
func TestTxReadYourWrites(t *testing.T) {
	e, a, b, _ := txSessions(t)
	ctx := context.Background()
	mustExec(t, a, `BEGIN;
INSERT INTO t VALUES (3, 'c');
INSERT OVERWRITE t SELECT id * 10, v FROM t;
INSERT INTO t SELECT id + 1, v || '+' FROM t WHERE id = 30;`)
	equalLines(t, "after INSERT, OVERWRITE, INSERT", rows(t, a, "SELECT id, v FROM t ORDER BY id"), []string{"10|a", "20|b", "30|c", "31|c+"})
	ci, err := a.BeginCopyIn(ctx, "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := textBatch([]string{"id", "v"}, []string{"40", "d"})
	err = ci.Write(ctx, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ci.Commit(ctx); err != nil || n != 1 {
		t.Fatalf("COPY: %d, %v", n, err)
	}
	mustExec(t, a, "MERGE INTO t USING (SELECT 20 AS id UNION ALL SELECT 50) s ON t.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'new');")
	want := []string{"10|a", "30|c", "31|c+", "40|d", "50|new"}
	equalLines(t, "after COPY and MERGE", rows(t, a, "SELECT id, v FROM t ORDER BY id"), want)
	equalLines(t, "count in the block", rows(t, a, "SELECT count(*) FROM t"), []string{"5"})
	equalLines(t, "another session", rows(t, b, "SELECT id, v FROM t ORDER BY id"), []string{"1|a", "2|b"})
	mustExec(t, a, "COMMIT")
	equalLines(t, "another session after COMMIT", rows(t, b, "SELECT id, v FROM t ORDER BY id"), want)
	noStaging(t, "table after COMMIT", e.tableDir("t"))
	// MERGE rewrote the table: its one file is what the COMMIT published.
	if files, _ := visibleFiles(t, e.tableDir("t")); len(files) != 1 {
		t.Errorf("table files after COMMIT: %v", files)
	}
}

// TestTxErrorInBlock: a failing statement discards the block's writes;
// the statements after it fail with 25P02 until COMMIT, which rolls back
// (tag ROLLBACK), as in PostgreSQL. A script failing in a block runs the
// same way and publishes nothing.
func TestTxErrorInBlock(t *testing.T) {
	e, a, _, _ := txSessions(t)
	mustExec(t, a, "BEGIN; INSERT INTO t VALUES (3, 'c');")
	_, err := execScript(t, a, "bad.sql", "INSERT INTO t VALUES (NULL, 'x');")
	if se := stmtErr(t, err); se.Code != "23502" {
		t.Fatalf("NOT NULL: %v", se)
	}
	noStaging(t, "table after the error", e.tableDir("t"))
	_, err = execScript(t, a, "after.sql", "SELECT 1;")
	if se := stmtErr(t, err); se.Code != "25P02" || se.Message != "current transaction is aborted, commands ignored until end of transaction block" {
		t.Errorf("statement in a failed block: %s %v", se.Code, se)
	}
	run := mustExec(t, a, "COMMIT")
	if got := run.Statements[0].Tag; got != "ROLLBACK" {
		t.Errorf("COMMIT of a failed block: tag %q, want ROLLBACK", got)
	}
	equalLines(t, "table after the failed block", rows(t, a, "SELECT id FROM t ORDER BY id"), []string{"1", "2"})

	// One script: the error stops it inside the block; closing the
	// session (as etlc run does) leaves nothing.
	s := e.NewSession(Options{})
	_, err = execScript(t, s, "script.sql", "BEGIN;\nINSERT INTO t VALUES (4, 'd');\nINSERT INTO t VALUES (NULL, 'x');\nCOMMIT;")
	if se := stmtErr(t, err); se.Code != "23502" || se.Pos.Line != 3 {
		t.Errorf("script: %v", se)
	}
	s.Close()
	equalLines(t, "table after the failed script", rows(t, a, "SELECT id FROM t ORDER BY id"), []string{"1", "2"})
	noStaging(t, "table after the failed script", e.tableDir("t"))

	// An ASSERT that fails guards the block's writes.
	s = e.NewSession(Options{})
	_, err = execScript(t, s, "assert.sql", "BEGIN;\nINSERT INTO t VALUES (4, 'd');\nASSERT (SELECT count(*) FROM t) > 10, 'too few rows';\nCOMMIT;")
	if se := stmtErr(t, err); se.Pos.Line != 3 || !strings.Contains(se.Message, "too few rows") {
		t.Errorf("ASSERT: %v", se)
	}
	s.Close()
	equalLines(t, "table after the failed ASSERT", rows(t, a, "SELECT id FROM t ORDER BY id"), []string{"1", "2"})

	// A compile error in a block fails it too.
	mustExec(t, a, "BEGIN; INSERT INTO t VALUES (5, 'e');")
	if _, err := a.Exec(context.Background(), parser.NewSource("bad.sql", "SELECT nope FROM t;"), ExecOptions{}); err == nil {
		t.Fatal("no compile error")
	}
	if run := mustExec(t, a, "COMMIT"); run.Statements[0].Tag != "ROLLBACK" {
		t.Errorf("COMMIT after a compile error: %q", run.Statements[0].Tag)
	}
	equalLines(t, "table after the compile error", rows(t, a, "SELECT id FROM t ORDER BY id"), []string{"1", "2"})
}

// TestTxSessionClose: a session that ends inside a block (a dropped
// connection, the end of an etlc run script) discards its staged files.
func TestTxSessionClose(t *testing.T) {
	e, a, _, dir := txSessions(t)
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, "BEGIN; INSERT INTO t VALUES (3, 'c'); INSERT INTO k VALUES (2, 'b');")
	if n := stagingCount(t, e.tableDir("t")) + stagingCount(t, dir+"/k"); n != 2 {
		t.Fatalf("%d staging directories before Close, want 2", n)
	}
	s.Close()
	files, staging := visibleFiles(t, e.tableDir("t"))
	if len(files) != 1 || len(staging) != 0 {
		t.Errorf("table directory after Close: files %v, staging %v", files, staging)
	}
	files, staging = visibleFiles(t, dir+"/k")
	if len(files) != 1 || len(staging) != 0 {
		t.Errorf("sink directory after Close: files %v, staging %v", files, staging)
	}
	equalLines(t, "table after Close", rows(t, a, "SELECT id FROM t ORDER BY id"), []string{"1", "2"})
}

// TestTxConcurrent: two blocks appending to one table both commit; a
// statement of another session writing the table meanwhile does not
// disturb a block's staged files; a block that overwrites (or MERGEs) a
// table another session committed to after the block first used it fails
// at COMMIT with 40001 and publishes nothing, nor its other targets.
func TestTxConcurrent(t *testing.T) {
	e, a, b, dir := txSessions(t)
	mustExec(t, a, "BEGIN; INSERT INTO t VALUES (3, 'a');")
	mustExec(t, b, "BEGIN; INSERT INTO t VALUES (4, 'b');")
	c := e.NewSession(Options{})
	defer c.Close()
	mustExec(t, c, "INSERT INTO t VALUES (5, 'c');") // autocommit, opens a sink on the path
	equalLines(t, "a sees its own and committed rows", rows(t, a, "SELECT id FROM t ORDER BY id"), []string{"1", "2", "3", "5"})
	mustExec(t, b, "COMMIT")
	mustExec(t, a, "COMMIT")
	equalLines(t, "both appends", rows(t, c, "SELECT id FROM t ORDER BY id"), []string{"1", "2", "3", "4", "5"})
	noStaging(t, "after both commits", e.tableDir("t"))

	// An overwrite that another session's commit overtook.
	mustExec(t, a, "BEGIN; INSERT INTO k VALUES (7, 'g'); INSERT OVERWRITE t SELECT id, 'x' FROM t WHERE id < 3;")
	mustExec(t, b, "INSERT INTO t VALUES (6, 'f');")
	_, err := execScript(t, a, "commit.sql", "COMMIT;")
	se := stmtErr(t, err)
	if se.Code != "40001" || se.Message != "could not serialize access due to concurrent update" ||
		!strings.Contains(se.Detail, `another session committed a write to table "t" after this transaction block first used it`) {
		t.Errorf("conflicting COMMIT: %s %q %q", se.Code, se.Message, se.Detail)
	}
	if a.InBlock() {
		t.Error("block open after a failed COMMIT")
	}
	equalLines(t, "table after the conflict", rows(t, c, "SELECT id FROM t ORDER BY id"), []string{"1", "2", "3", "4", "5", "6"})
	equalLines(t, "sink after the conflict", rows(t, c, "SELECT id FROM k ORDER BY id"), []string{"1"})
	noStaging(t, "table after the conflict", e.tableDir("t"))
	noStaging(t, "sink after the conflict", dir+"/k")

	// A MERGE, with the other session's commit before the block read t:
	// no conflict.
	mustExec(t, a, "BEGIN; SELECT count(*) FROM k;")
	mustExec(t, b, "INSERT INTO t VALUES (7, 'g');")
	mustExec(t, a, "MERGE INTO t USING (SELECT 7 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE; COMMIT;")
	equalLines(t, "after the MERGE", rows(t, c, "SELECT id FROM t ORDER BY id"), []string{"1", "2", "3", "4", "5", "6"})

	// A table dropped and created again under a block's staged append.
	mustExec(t, a, "BEGIN; INSERT INTO t VALUES (8, 'h');")
	mustExec(t, b, "DROP TABLE t; CREATE TABLE t (id INT NOT NULL, v VARCHAR);")
	_, err = execScript(t, a, "commit.sql", "COMMIT;")
	if se := stmtErr(t, err); se.Code != "40001" || !strings.Contains(se.Detail, `table "t" was dropped or replaced by another session`) {
		t.Errorf("COMMIT over a dropped table: %s %q", se.Code, se.Detail)
	}
	equalLines(t, "recreated table", rows(t, c, "SELECT count(*) FROM t"), []string{"0"})
}

// TestTxDDL: DDL in a block takes effect at once (CREATE TABLE AS creates
// the table now and stages its rows); DROP TABLE discards the block's
// staged writes of the table; CREATE OR REPLACE TABLE ... AS of an
// existing table is refused in a block.
func TestTxDDL(t *testing.T) {
	e, a, b, _ := txSessions(t)
	run := mustExec(t, a, "BEGIN; CREATE TABLE n AS SELECT id FROM t;")
	if got := run.Statements[1].Tag; got != "SELECT 2" {
		t.Errorf("CTAS tag %q", got)
	}
	equalLines(t, "new table in the block", rows(t, a, "SELECT id FROM n ORDER BY id"), []string{"1", "2"})
	equalLines(t, "new table in another session", rows(t, b, "SELECT count(*) FROM n"), []string{"0"})
	mustExec(t, a, "INSERT INTO t VALUES (3, 'c'); DROP TABLE t;")
	if n := stagingCount(t, e.tableDir("t")); n != 0 {
		t.Errorf("%d staging directories of the dropped table", n)
	}
	mustExec(t, a, "COMMIT")
	equalLines(t, "new table after COMMIT", rows(t, b, "SELECT id FROM n ORDER BY id"), []string{"1", "2"})

	mustExec(t, a, "BEGIN")
	_, err := execScript(t, a, "ctas.sql", "CREATE OR REPLACE TABLE n AS SELECT 5 AS id;")
	if se := stmtErr(t, err); se.Code != "25001" || se.Message != "CREATE OR REPLACE TABLE ... AS of an existing table cannot run inside a transaction block" {
		t.Errorf("CTAS replace in a block: %s %v", se.Code, se)
	}
	mustExec(t, a, "ROLLBACK")
}

// TestTxModes: BEGIN takes PostgreSQL's transaction modes; every
// isolation level stages writes the same way, and READ ONLY refuses
// writes with 25006.
func TestTxModes(t *testing.T) {
	_, a, b, _ := txSessions(t)
	mustExec(t, a, "BEGIN ISOLATION LEVEL SERIALIZABLE; INSERT INTO t VALUES (3, 'c');")
	equalLines(t, "other session", rows(t, b, "SELECT count(*) FROM t"), []string{"2"})
	mustExec(t, a, "COMMIT")
	equalLines(t, "after COMMIT", rows(t, b, "SELECT count(*) FROM t"), []string{"3"})
	mustExec(t, a, "START TRANSACTION READ ONLY, ISOLATION LEVEL REPEATABLE READ")
	equalLines(t, "read in a read-only block", rows(t, a, "SELECT count(*) FROM t"), []string{"3"})
	_, err := execScript(t, a, "ro.sql", "INSERT INTO t VALUES (4, 'd');")
	if se := stmtErr(t, err); se.Code != "25006" || se.Message != "cannot execute INSERT in a read-only transaction" {
		t.Errorf("INSERT in a read-only block: %s %v", se.Code, se)
	}
	if run := mustExec(t, a, "COMMIT"); run.Statements[0].Tag != "ROLLBACK" {
		t.Errorf("COMMIT of the failed read-only block: %q", run.Statements[0].Tag)
	}
}

// TestTxParallelAppends: blocks of several sessions appending to one table
// at the same time all commit, every row once, and leave no staging.
func TestTxParallelAppends(t *testing.T) {
	e, a, _, _ := txSessions(t)
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s := e.NewSession(Options{})
			defer s.Close()
			q := fmt.Sprintf("BEGIN; INSERT INTO t VALUES (%d, 'x'); INSERT INTO t SELECT id + 100, v FROM t WHERE id = %d; COMMIT;", 10+i, 10+i)
			run, err := s.Exec(context.Background(), parser.NewSource("p.sql", q), ExecOptions{})
			if run != nil {
				run.Release()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	equalLines(t, "rows", rows(t, a, "SELECT count(*), sum(id) FROM t"), []string{"14|753"})
	noStaging(t, "after the parallel blocks", e.tableDir("t"))
}

// TestTxCrashDuringCommit: a COMMIT of several targets killed after the
// first is published leaves a commit record; the next Open publishes the
// others, so the block commits whole, and removes the record.
func TestTxCrashDuringCommit(t *testing.T) {
	e, a, _, dir := txSessions(t)
	mustExec(t, a, "CREATE TABLE u (id INT);")
	mustExec(t, a, "BEGIN; INSERT INTO t VALUES (3, 'c'); INSERT INTO u VALUES (7); INSERT INTO k VALUES (2, 'b'); INSERT INTO u VALUES (8);")
	e.commitHook = func(step string) {
		if step == "published t" {
			panic("simulated crash")
		}
	}
	_, err := execScript(t, a, "commit.sql", "COMMIT;")
	if se := stmtErr(t, err); se.Code != "XX000" {
		t.Fatalf("COMMIT with a crash: %v", se)
	}
	recs, _ := os.ReadDir(e.commitsDir())
	if len(recs) != 1 {
		t.Fatalf("%d commit records, want 1", len(recs))
	}
	b := e.NewSession(Options{})
	equalLines(t, "u before the restart", rows(t, b, "SELECT count(*) FROM u"), []string{"0"})
	b.Close()
	a.Close()
	e.Close()

	e2, err := Open(context.Background(), e.Dir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	s := e2.NewSession(Options{})
	defer s.Close()
	equalLines(t, "t after the restart", rows(t, s, "SELECT id FROM t ORDER BY id"), []string{"1", "2", "3"})
	equalLines(t, "u after the restart", rows(t, s, "SELECT id FROM u ORDER BY id"), []string{"7", "8"})
	equalLines(t, "k after the restart", rows(t, s, "SELECT id FROM k ORDER BY id"), []string{"1", "2"})
	if recs, _ := os.ReadDir(e.commitsDir()); len(recs) != 0 {
		t.Errorf("commit records left: %v", recs)
	}
	noStaging(t, "t", e2.tableDir("t"))
	noStaging(t, "u", e2.tableDir("u"))
	noStaging(t, "k", dir+"/k")
}
