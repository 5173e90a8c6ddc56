package session

import (
	"testing"
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
