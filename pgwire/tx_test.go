package pgwire

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestFailedTransactionBlock(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	var notices []string
	cfg, err := pgx.ParseConfig(ts.url("etl", "", "disable"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		notices = append(notices, n.Severity+" "+n.Code+" "+n.Message)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	status := func(want byte, when string) {
		t.Helper()
		if st := conn.PgConn().TxStatus(); st != want {
			t.Errorf("%s: status %c, want %c", when, st, want)
		}
	}
	code := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code
		}
		return ""
	}
	if _, err := results(t, conn, "CREATE TABLE t (a INT)"); err != nil {
		t.Fatal(err)
	}
	// A failed statement fails the block: later statements, simple or
	// extended, get 25P02 until ROLLBACK; COMMIT ends it as ROLLBACK.
	if _, err := results(t, conn, "BEGIN; SELECT 1/0"); code(err) != "22012" {
		t.Fatalf("division by zero: %v", err)
	}
	status('E', "after the error")
	if _, err := results(t, conn, "SELECT 1"); code(err) != "25P02" {
		t.Errorf("simple in a failed block: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT $1::INT", 1).Scan(&n); code(err) != "25P02" {
		t.Errorf("extended in a failed block: %v", err)
	}
	status('E', "still")
	got, err := results(t, conn, "COMMIT")
	if err != nil || got != "ROLLBACK\n" {
		t.Errorf("COMMIT of a failed block: %q %v", got, err)
	}
	status('I', "after COMMIT")
	// ROLLBACK followed by more statements in one query runs them.
	results(t, conn, "BEGIN")
	results(t, conn, "SELEC 1")
	status('E', "after a syntax error")
	got, err = results(t, conn, "ROLLBACK; SELECT 2 AS two")
	if err != nil || got != "ROLLBACK\ntwo\n2\nSELECT 1\n" {
		t.Errorf("ROLLBACK; SELECT: %q %v", got, err)
	}
	status('I', "after ROLLBACK")
	// pgx's Tx: a failing statement, then Rollback.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT nope FROM t"); code(err) != "42703" {
		t.Errorf("tx error: %v", err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); code(err) != "25P02" {
		t.Errorf("tx after error: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Errorf("rollback: %v", err)
	}
	status('I', "after pgx Rollback")
	// Outside a block an error leaves the session idle.
	results(t, conn, "SELECT 1/0")
	status('I', "error outside a block")
	if len(notices) != 0 {
		t.Errorf("notices before any write: %q", notices)
	}
	// Writes in a block are committed statement by statement; ROLLBACK
	// says so.
	results(t, conn, "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
	status('T', "in a block")
	if _, err := results(t, conn, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	want := "WARNING 25000 ROLLBACK does not undo the 2 statement(s) of this block that wrote data"
	if len(notices) != 1 || notices[0] != want {
		t.Errorf("notices %q, want %q", notices, want)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows after ROLLBACK: %d %v", n, err)
	}
}

func TestTxVerb(t *testing.T) {
	for in, want := range map[string]string{
		"begin": "BEGIN", "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED": "BEGIN", "start transaction": "BEGIN",
		"commit;": "COMMIT", "END": "COMMIT", "rollback": "ROLLBACK", "abort": "ROLLBACK",
		"ROLLBACK TO SAVEPOINT a": "", "SELECT 1": "", "": "", "START PIPELINE p": "",
	} {
		if got := txVerb(in); got != want {
			t.Errorf("txVerb(%q) = %q, want %q", in, got, want)
		}
	}
}
