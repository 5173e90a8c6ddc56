package session

import (
	"context"
	"path/filepath"
	"testing"
)

// TestConstraints checks constraints across engines opened on one data
// directory (so that what the catalog keeps is what counts): DEFAULTs
// applied by INSERT and MERGE, the SQLSTATE, message and detail of each
// violation, a UNIQUE key prefix, and that a failed write leaves the table
// as it was.
func TestConstraints(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	e, err := Open(ctx, dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession(Options{})
	mustExec(t, s, `CREATE TABLE c (id BIGINT PRIMARY KEY, tag VARCHAR(10) DEFAULT 'new' || '!', qty INT NOT NULL DEFAULT 2 * 3,
		CONSTRAINT qty_small CHECK (qty < 100), UNIQUE (tag(3)))`)
	s.Close()
	e.Close()

	e = func() *Engine {
		e, err := Open(ctx, dir, Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}()
	s = e.NewSession(Options{})
	defer s.Close()
	mustExec(t, s, "INSERT INTO c (id) VALUES (1)")
	mustExec(t, s, "INSERT INTO c (id, tag, qty) VALUES (2, 'abcdef', 7), (3, NULL, 8), (4, NULL, 9)")
	mustExec(t, s, "MERGE INTO c USING (SELECT 5 AS id) src ON c.id = src.id WHEN NOT MATCHED THEN INSERT (id, tag) VALUES (src.id, 'xyz')")
	want := []string{"1|new!|6", "2|abcdef|7", "3|NULL|8", "4|NULL|9", "5|xyz|6"}
	equalLines(t, "rows", rows(t, s, "SELECT id, tag, qty FROM c ORDER BY id"), want)

	for _, c := range []struct {
		sql, code, msg, detail string
	}{
		{"INSERT INTO c (id) VALUES (1)", "23505", `duplicate key value violates unique constraint "c_pkey"`, "Key (id)=(1) already exists."},
		{"INSERT INTO c (id, tag) VALUES (9, 'abcxyz')", "23505", `duplicate key value violates unique constraint "c_tag_key"`, "Key (tag)=(abc) already exists."},
		{"INSERT INTO c (id, qty) VALUES (9, 100)", "23514", `new row for relation "c" violates check constraint "qty_small"`, "Failing row contains (9, new!, 100)."},
		{"INSERT INTO c (id, qty) VALUES (9, NULL)", "23502", `null value in column "qty" of table "c" violates not-null constraint`, ""},
		{"INSERT OVERWRITE c SELECT id, NULL, 1 FROM c UNION ALL SELECT 1, NULL, 1", "23505", `duplicate key value violates unique constraint "c_pkey"`, "Key (id)=(1) already exists."},
		{"MERGE INTO c USING (SELECT 2 AS id) src ON c.id = src.id WHEN MATCHED THEN UPDATE SET tag = 'new?'", "23505",
			`duplicate key value violates unique constraint "c_tag_key"`, "Key (tag)=(new) already exists."},
		{"CREATE UNIQUE INDEX c_qty ON c (qty)", "23505", `could not create unique index "c_qty"`, "Key (qty)=(6) is duplicated."},
	} {
		_, err := execScript(t, s, "bad.sql", c.sql)
		se := stmtErr(t, err)
		if se.Code != c.code || se.Message != c.msg || se.Detail != c.detail {
			t.Errorf("%s:\n got %s %q (%q)\nwant %s %q (%q)", c.sql, se.Code, se.Message, se.Detail, c.code, c.msg, c.detail)
		}
	}
	equalLines(t, "rows after the failed writes", rows(t, s, "SELECT id, tag, qty FROM c ORDER BY id"), want)

	// EXPLAIN shows the index statements; a second engine sees the index.
	equalLines(t, "EXPLAIN CREATE INDEX", rows(t, s, "EXPLAIN CREATE UNIQUE INDEX ON c (qty, tag)"), []string{"CREATE INDEX c_qty_tag_idx UNIQUE (qty, tag) ON c"})
	mustExec(t, s, "CREATE UNIQUE INDEX ON c (qty, tag)")
	if _, ix, ok := e.cat.FindIndex("c_qty_tag_idx"); !ok || !ix.Unique {
		t.Errorf("the index is not in the catalog: %+v %v", ix, ok)
	}
	_, err = execScript(t, s, "bad.sql", "INSERT INTO c (id, tag, qty) VALUES (10, 'abc', 7)")
	if se := stmtErr(t, err); se.Code != "23505" {
		t.Errorf("duplicate key of two unique keys: %s %s", se.Code, se.Message)
	}
	mustExec(t, s, "DROP INDEX c_qty_tag_idx")
	if _, _, ok := e.cat.FindIndex("c_qty_tag_idx"); ok {
		t.Error("the dropped index is still in the catalog")
	}
}
