package pgwire

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestLargeResult streams 200,000 rows in both protocols and checks every
// row arrived, in order.
func TestLargeResult(t *testing.T) {
	ts := startServer(t, Config{})
	genTable(t, ts, 2000)
	conn := ts.connect(t)
	const q = "SELECT a.x * 100 + b.x AS v, 'row' AS s FROM g a, g b WHERE b.x < 100 ORDER BY v"
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		rows, err := conn.Query(context.Background(), q, mode)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for rows.Next() {
			var v int64
			var s string
			if err := rows.Scan(&v, &s); err != nil {
				t.Fatal(err)
			}
			if v != n || s != "row" {
				t.Fatalf("mode %v: row %d is %d %q", mode, n, v, s)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 200000 || rows.CommandTag().String() != "SELECT 200000" {
			t.Errorf("mode %v: %d rows, tag %q", mode, n, rows.CommandTag())
		}
	}
}

// TestClientVanishes drops the connection in the middle of a large result:
// the session ends and the server serves the next client.
func TestClientVanishes(t *testing.T) {
	ts := startServer(t, Config{})
	genTable(t, ts, 2000)
	conn := ts.connect(t)
	rows, err := conn.Query(context.Background(), "SELECT a.x, b.x FROM g a, g b")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && rows.Next(); i++ {
	}
	conn.PgConn().Conn().Close()
	rows.Close()
	other := ts.connect(t)
	var n int64
	if err := other.QueryRow(context.Background(), "SELECT COUNT(*) FROM g").Scan(&n); err != nil || n != 2000 {
		t.Errorf("next client: %d %v", n, err)
	}
}
