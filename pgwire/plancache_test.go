package pgwire

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPreparedAfterWrites: a prepared statement executed again (its
// program cached in the session) sees the rows written since, by its own
// connection and by another, and a DDL that changes the columns it reads
// is seen: with the same column types the statement reads the new table,
// with other types it fails as PostgreSQL's cached plan does (0A000)
// until it is prepared again.
func TestPreparedAfterWrites(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	a, b := ts.connect(t), ts.connect(t)
	if _, err := a.Exec(ctx, "CREATE TABLE t (id BIGINT, v BIGINT); INSERT INTO t VALUES (1, 10)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Prepare(ctx, "q", "SELECT v FROM t WHERE id = $1"); err != nil {
		t.Fatal(err)
	}
	get := func(conn *pgx.Conn, stmt string, id int64) (any, error) {
		t.Helper()
		var v any
		err := conn.QueryRow(ctx, stmt, id).Scan(&v)
		return v, err
	}
	expect := func(stmt string, id int64, want any) {
		t.Helper()
		v, err := get(a, stmt, id)
		if err != nil || v != want {
			t.Errorf("%s(%d) = %v (%T), %v; want %v", stmt, id, v, v, err, want)
		}
	}
	expect("q", 1, int64(10))
	// The unnamed statement with the same text, through the extended
	// protocol (parsed again, the program cached).
	for range 3 {
		var v int64
		if err := a.QueryRow(ctx, "SELECT v FROM t WHERE id = $1", pgx.QueryExecModeDescribeExec, int64(1)).Scan(&v); err != nil || v != 10 {
			t.Fatalf("unnamed statement: %d, %v", v, err)
		}
	}
	// Writes of this connection and of another one.
	if _, err := a.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", int64(2), int64(20)); err != nil {
		t.Fatal(err)
	}
	expect("q", 2, int64(20))
	if _, err := b.Exec(ctx, "INSERT INTO t VALUES (3, 30)"); err != nil {
		t.Fatal(err)
	}
	expect("q", 3, int64(30))
	// A block's own writes, then the committed ones.
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (4, 40)"); err != nil {
		t.Fatal(err)
	}
	expect("q", 4, int64(40))
	if v, err := get(b, "SELECT v FROM t WHERE id = $1", 4); err != pgx.ErrNoRows {
		t.Errorf("another connection reads %v, %v of an open block", v, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := get(b, "SELECT v FROM t WHERE id = $1", 4); err != nil || v != int64(40) {
		t.Errorf("after COMMIT another connection reads %v, %v", v, err)
	}
	// The table replaced by another connection, same column types.
	if _, err := b.Exec(ctx, "CREATE OR REPLACE TABLE t (id BIGINT, v BIGINT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "INSERT INTO t VALUES (1, 100)"); err != nil {
		t.Fatal(err)
	}
	expect("q", 1, int64(100))
	// Replaced with v of another type: the prepared statement's result
	// changed.
	if _, err := b.Exec(ctx, "CREATE OR REPLACE TABLE t (id BIGINT, v VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "INSERT INTO t VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	if _, err := get(a, "q", 1); pgCode(err) != "0A000" {
		t.Errorf("prepared statement after its column changed type: %v, want 0A000", err)
	}
	if err := a.Deallocate(ctx, "q"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Prepare(ctx, "q", "SELECT v FROM t WHERE id = $1"); err != nil {
		t.Fatal(err)
	}
	expect("q", 1, "one")
}
