package session

import (
	"context"
	"testing"

	"github.com/etlc/etlc/parser"
)

// ROLLBACK TO SAVEPOINT discards the writes staged after the savepoint
// and keeps the earlier ones; RELEASE keeps the writes; COMMIT publishes
// what is left.
func TestSavepointRollbackTo(t *testing.T) {
	_, a, b, dir := txSessions(t)
	run := mustExec(t, a, `BEGIN;
INSERT INTO t VALUES (3, 'c');
SAVEPOINT s1;
INSERT INTO t VALUES (4, 'd');
INSERT INTO k VALUES (2, 'b');
SAVEPOINT s2;
INSERT INTO t VALUES (5, 'e');
ROLLBACK TO SAVEPOINT s1;`)
	var tags []string
	for _, st := range run.Statements {
		tags = append(tags, st.Tag)
	}
	equalLines(t, "tags", tags, []string{"BEGIN", "INSERT 0 1", "SAVEPOINT", "INSERT 0 1", "INSERT 0 1", "SAVEPOINT", "INSERT 0 1", "ROLLBACK"})
	equalLines(t, "the block after ROLLBACK TO s1", rows(t, a, `SELECT id FROM t ORDER BY id`), []string{"1", "2", "3"})
	// s1 stays, s2 is gone.
	if _, err := execScript(t, a, "q.sql", `RELEASE SAVEPOINT s2`); err == nil || stmtErr(t, err).Code != "3B001" {
		t.Fatalf("RELEASE of a savepoint rolled back past: %v, want 3B001", err)
	}
	mustExec(t, a, `ROLLBACK TO s1; INSERT INTO t VALUES (6, 'f'); SAVEPOINT s3; INSERT INTO t VALUES (7, 'g'); RELEASE s3;`)
	equalLines(t, "another session before COMMIT", rows(t, b, `SELECT id FROM t ORDER BY id`), []string{"1", "2"})
	mustExec(t, a, `COMMIT`)
	equalLines(t, "after COMMIT", rows(t, b, `SELECT id FROM t ORDER BY id`), []string{"1", "2", "3", "6", "7"})
	equalLines(t, "sink after COMMIT", rows(t, b, `SELECT count(*) FROM k`), []string{"1"})
	noStaging(t, "after COMMIT", dir)
}

// A statement that fails in a block leaves it failed until ROLLBACK TO
// SAVEPOINT, which makes it usable again with the writes before the
// savepoint kept: how drivers' autosave works.
func TestSavepointAfterError(t *testing.T) {
	_, a, b, _ := txSessions(t)
	mustExec(t, a, `BEGIN; INSERT INTO t VALUES (3, 'c'); SAVEPOINT sp;`)
	if _, err := execScript(t, a, "q.sql", `INSERT INTO t VALUES (4, 'd'); INSERT INTO t VALUES (NULL, 'x')`); err == nil {
		t.Fatal("inserting NULL into a NOT NULL column succeeded")
	}
	if _, err := execScript(t, a, "q.sql", `INSERT INTO t VALUES (5, 'e')`); err == nil || stmtErr(t, err).Code != "25P02" {
		t.Fatalf("a statement in the failed block: %v, want 25P02", err)
	}
	if _, err := execScript(t, a, "q.sql", `RELEASE SAVEPOINT sp`); err == nil || stmtErr(t, err).Code != "25P02" {
		t.Fatalf("RELEASE in the failed block: %v, want 25P02", err)
	}
	if _, err := execScript(t, a, "q.sql", `ROLLBACK TO SAVEPOINT nope`); err == nil || stmtErr(t, err).Code != "3B001" {
		t.Fatalf("ROLLBACK TO an unknown savepoint: %v, want 3B001", err)
	}
	mustExec(t, a, `ROLLBACK TO SAVEPOINT sp`)
	mustExec(t, a, `INSERT INTO t VALUES (8, 'h'); COMMIT`)
	equalLines(t, "after COMMIT", rows(t, b, `SELECT id FROM t ORDER BY id`), []string{"1", "2", "3", "8"})
}

// Outside a block the savepoint statements fail with 25P01, as in
// PostgreSQL.
func TestSavepointOutsideBlock(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	defer s.Close()
	for _, c := range []struct{ stmt, msg string }{
		{"SAVEPOINT a", "SAVEPOINT can only be used in transaction blocks"},
		{"RELEASE SAVEPOINT a", "RELEASE SAVEPOINT can only be used in transaction blocks"},
		{"ROLLBACK TO SAVEPOINT a", "ROLLBACK TO SAVEPOINT can only be used in transaction blocks"},
	} {
		_, err := execScript(t, s, "q.sql", c.stmt)
		if err == nil {
			t.Fatalf("%s outside a block succeeded", c.stmt)
		}
		if se := stmtErr(t, err); se.Code != "25P01" || se.Message != c.msg {
			t.Errorf("%s: %s %q, want 25P01 %q", c.stmt, se.Code, se.Message, c.msg)
		}
	}
}

// implicitExec runs a script as one simple Query message of the wire
// protocol.
func implicitExec(t *testing.T, s *Session, text string) error {
	t.Helper()
	run, err := s.Exec(context.Background(), parser.NewSource("q.sql", text), ExecOptions{Implicit: true})
	run.Release()
	return err
}

// A script run with Implicit is one transaction: all or nothing, unless
// it holds BEGIN, COMMIT or ROLLBACK, which act as PostgreSQL's do in a
// multi-statement Query message.
func TestImplicitTransaction(t *testing.T) {
	_, a, b, dir := txSessions(t)
	ids := func(what string, want ...string) {
		t.Helper()
		equalLines(t, what, rows(t, b, `SELECT id FROM t ORDER BY id`), want)
	}
	// An error in the third statement undoes the first two.
	err := implicitExec(t, a, `INSERT INTO t VALUES (3, 'c'); INSERT INTO k VALUES (2, 'b'); SELECT 1/0; INSERT INTO t VALUES (4, 'd')`)
	if err == nil || stmtErr(t, err).Code != "22012" {
		t.Fatalf("error %v, want 22012", err)
	}
	ids("after the failed message", "1", "2")
	equalLines(t, "sink after the failed message", rows(t, b, `SELECT count(*) FROM k`), []string{"1"})
	if a.InBlock() {
		t.Fatal("the implicit block is still open after the message")
	}
	noStaging(t, "after the failed message", dir)
	// Without an error every write commits; the statements see each
	// other's writes.
	run, err := a.Exec(context.Background(), parser.NewSource("q.sql", `INSERT INTO t VALUES (3, 'c'); INSERT INTO t VALUES (4, 'd'); SELECT count(*) FROM t`), ExecOptions{Implicit: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Statements[2].Tag; got != "SELECT 1" {
		t.Errorf("tag %q", got)
	}
	run.Release()
	ids("after the message", "1", "2", "3", "4")
	// COMMIT keeps what came before it; the rest is a new implicit block.
	err = implicitExec(t, a, `INSERT INTO t VALUES (5, 'e'); COMMIT; INSERT INTO t VALUES (6, 'f'); SELECT 1/0`)
	if err == nil {
		t.Fatal("SELECT 1/0 succeeded")
	}
	ids("after COMMIT then an error", "1", "2", "3", "4", "5")
	// BEGIN turns the implicit block into a regular one, open after the
	// message, with the statements before it.
	if err := implicitExec(t, a, `INSERT INTO t VALUES (7, 'g'); BEGIN; INSERT INTO t VALUES (8, 'h')`); err != nil {
		t.Fatal(err)
	}
	if !a.InBlock() {
		t.Fatal("BEGIN in the message: no block open after it")
	}
	ids("block open", "1", "2", "3", "4", "5")
	mustExec(t, a, `ROLLBACK`)
	ids("after ROLLBACK", "1", "2", "3", "4", "5")
	// SAVEPOINT is refused in an implicit block.
	if err := implicitExec(t, a, `INSERT INTO t VALUES (9, 'i'); SAVEPOINT x`); err == nil || stmtErr(t, err).Code != "25P01" {
		t.Fatalf("SAVEPOINT in an implicit block: %v, want 25P01", err)
	}
	ids("after SAVEPOINT in an implicit block", "1", "2", "3", "4", "5")
	// In an open block, the message is part of it.
	mustExec(t, a, `BEGIN`)
	if err := implicitExec(t, a, `INSERT INTO t VALUES (10, 'j'); INSERT INTO t VALUES (11, 'k')`); err != nil {
		t.Fatal(err)
	}
	ids("in a block", "1", "2", "3", "4", "5")
	mustExec(t, a, `COMMIT`)
	ids("block committed", "1", "2", "3", "4", "5", "10", "11")
	// CREATE OR REPLACE TABLE ... AS of an existing table runs on its own.
	if err := implicitExec(t, a, `INSERT INTO t VALUES (12, 'l'); CREATE OR REPLACE TABLE t AS SELECT * FROM t WHERE id > 10; INSERT INTO t VALUES (13, 'm')`); err != nil {
		t.Fatal(err)
	}
	ids("after CREATE OR REPLACE TABLE AS", "11", "12", "13")
	noStaging(t, "at the end", dir)
}
