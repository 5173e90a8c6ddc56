package session

import (
	"testing"
)

const mergeSetup = `
CREATE TABLE tgt (id INT, v VARCHAR, n INT);
CREATE TABLE src (id INT, v VARCHAR, n INT);
INSERT INTO tgt VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3), (NULL, 'z', 0), (5, 'e', 5);
INSERT INTO src VALUES (1, 'A', 10), (2, 'B', 20), (3, 'C', 30), (4, 'D', 40), (NULL, 'N', 99);
`

// TestMerge checks MERGE's clauses: the first WHEN clause that applies to
// a row wins, AND conditions, UPDATE from target and source values,
// DELETE, INSERT with and without a column list, and NULL keys, which
// never match (a NULL source key is inserted, a NULL target key kept).
func TestMerge(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, mergeSetup)
	run := mustExec(t, s, `
MERGE INTO tgt AS t USING src AS s ON t.id = s.id
WHEN MATCHED AND s.n > 25 THEN DELETE
WHEN MATCHED AND s.v = 'A' THEN UPDATE SET v = s.v, n = t.n + s.n
WHEN MATCHED THEN UPDATE SET n = 0
WHEN NOT MATCHED AND s.id IS NOT NULL THEN INSERT (id, v, n) VALUES (s.id, s.v, s.n)
WHEN NOT MATCHED THEN INSERT (v, id) VALUES (s.v, -1);`)
	st := run.Statements[0]
	if st.Inserted != 2 || st.Updated != 2 || st.Deleted != 1 || st.Tag != "MERGE 5" {
		t.Errorf("MERGE: %d inserted, %d updated, %d deleted, tag %q; want 2, 2, 1, MERGE 5", st.Inserted, st.Updated, st.Deleted, st.Tag)
	}
	equalLines(t, "target after MERGE", rows(t, s, "SELECT id, v, n FROM tgt ORDER BY id NULLS FIRST, v"), []string{
		"NULL|z|0", "-1|N|NULL", "1|A|11", "2|b|0", "4|D|40", "5|e|5",
	})
	if got := run.Targets; len(got) != 1 || got[0].Inserted != 2 || got[0].Updated != 2 || got[0].Deleted != 1 || got[0].Kind != "table" {
		t.Errorf("targets = %+v", got)
	}

	// Insert-only MERGE (the FULL JOIN path) into a table never written.
	mustExec(t, s, `CREATE TABLE fresh (id INT, v VARCHAR);
MERGE INTO fresh f USING src s ON f.id = s.id WHEN NOT MATCHED AND s.id IS NOT NULL THEN INSERT VALUES (s.id, s.v);
MERGE INTO fresh f USING src s ON f.id = s.id WHEN NOT MATCHED AND s.id IS NOT NULL THEN INSERT VALUES (s.id, s.v);`)
	equalLines(t, "insert-only MERGE twice", rows(t, s, "SELECT id, v FROM fresh ORDER BY id"), []string{"1|A", "2|B", "3|C", "4|D"})

	// A MERGE whose source is a query, whose clauses change nothing for
	// most rows.
	mustExec(t, s, `MERGE INTO fresh f USING (SELECT id, LOWER(v) AS v FROM src WHERE id >= 3) AS s ON f.id = s.id
WHEN MATCHED AND f.id = 4 THEN UPDATE SET v = s.v;`)
	equalLines(t, "MERGE from a subquery", rows(t, s, "SELECT id, v FROM fresh ORDER BY id"), []string{"1|A", "2|B", "3|C", "4|d"})
}

// TestMergeMultipleMatches checks that a target row that two source rows
// would change is an error (SQLSTATE 21000) that leaves the table as it
// was, and that two source rows matching a row are fine when only one of
// them chooses an action, as in PostgreSQL.
func TestMergeMultipleMatches(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, mergeSetup+"INSERT INTO src VALUES (5, 'x', 1), (5, 'y', 2);")
	_, err := execScript(t, s, "merge.sql", "MERGE INTO tgt t USING src s ON t.id = s.id\nWHEN MATCHED AND t.id = 5 THEN UPDATE SET v = s.v;")
	se := stmtErr(t, err)
	if se.Code != "21000" || se.Error() != "merge.sql:1:1: MERGE INTO tgt failed: MERGE command cannot affect row a second time (ensure that not more than one source row matches any one target row)" {
		t.Errorf("double match: code %s, %v", se.Code, se)
	}
	before := []string{"NULL|z|0", "1|a|1", "2|b|2", "3|c|3", "5|e|5"}
	equalLines(t, "target after the failed MERGE", rows(t, s, "SELECT id, v, n FROM tgt ORDER BY id NULLS FIRST"), before)

	_, err = execScript(t, s, "merge.sql", "MERGE INTO tgt t USING src s ON t.id = s.id\nWHEN MATCHED AND t.id = 5 THEN DELETE;")
	if se := stmtErr(t, err); se.Code != "21000" {
		t.Errorf("double delete: %v", se)
	}
	mustExec(t, s, "MERGE INTO tgt t USING src s ON t.id = s.id WHEN MATCHED AND s.v = 'y' THEN UPDATE SET v = s.v;")
	equalLines(t, "target after a MERGE where one of two matches acts", rows(t, s, "SELECT id, v, n FROM tgt ORDER BY id NULLS FIRST"),
		[]string{"NULL|z|0", "1|a|1", "2|b|2", "3|c|3", "5|y|5"})
}
