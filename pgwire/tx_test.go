package pgwire

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	// Writes in a block are staged; ROLLBACK undoes them without a word.
	results(t, conn, "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
	status('T', "in a block")
	if _, err := results(t, conn, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 0 {
		t.Errorf("notices after ROLLBACK of data writes: %q", notices)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after ROLLBACK: %d %v", n, err)
	}
	// A CREATE in a block took effect at once: ROLLBACK says so.
	results(t, conn, "BEGIN; CREATE TABLE u (a INT); INSERT INTO u VALUES (1)")
	if _, err := results(t, conn, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	want := "WARNING 25000 ROLLBACK does not undo the 1 CREATE or DROP statement(s) of this block"
	if len(notices) != 1 || notices[0] != want {
		t.Errorf("notices %q, want %q", notices, want)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM u").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows of the table created in the rolled back block: %d %v", n, err)
	}
	// PostgreSQL's warnings for BEGIN in a block and COMMIT outside one.
	notices = nil
	results(t, conn, "BEGIN; BEGIN; COMMIT; COMMIT; ROLLBACK")
	want = "WARNING 25001 there is already a transaction in progress|WARNING 25P01 there is no transaction in progress|WARNING 25P01 there is no transaction in progress"
	if got := strings.Join(notices, "|"); got != want {
		t.Errorf("notices %q, want %q", got, want)
	}
	status('I', "after the warnings")
}

func TestTxVerb(t *testing.T) {
	for in, want := range map[string]string{
		"begin": "BEGIN", "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED": "BEGIN", "start transaction": "BEGIN",
		"commit;": "COMMIT", "END": "COMMIT", "rollback": "ROLLBACK", "abort": "ROLLBACK",
		"ROLLBACK TO SAVEPOINT a": "ROLLBACK TO", "abort work to b": "ROLLBACK TO", "SELECT 1": "", "": "", "START PIPELINE p": "",
	} {
		if got := txVerb(in); got != want {
			t.Errorf("txVerb(%q) = %q, want %q", in, got, want)
		}
	}
}

// count returns SELECT COUNT(*) FROM table on conn.
func count(t *testing.T, conn *pgx.Conn, table string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count of %s: %v", table, err)
	}
	return n
}

// stagingDirs counts the staging directories of a managed table.
func stagingDirs(t *testing.T, ts *testServer, table string) int {
	t.Helper()
	kids, err := os.ReadDir(filepath.Join(ts.eng.Dir(), "tables", table))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	n := 0
	for _, k := range kids {
		if strings.HasPrefix(k.Name(), "_staging-") {
			n++
		}
	}
	return n
}

// TestTxPgx: pgx's Tx against real blocks. Rollback undoes inserts and
// COPY; Commit publishes them; the block reads its own rows while another
// connection does not see them; a connection that goes away inside a
// block leaves no staged file; a COMMIT that conflicts fails with 40001
// and leaves the connection idle.
func TestTxPgx(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	a, b := ts.connect(t), ts.connect(t)
	if _, err := a.Exec(ctx, "CREATE TABLE t (id INT, v VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", 1, "a"); err != nil {
		t.Fatal(err)
	}
	if n, err := tx.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "v"}, pgx.CopyFromRows([][]any{{2, "b"}, {3, "c"}})); err != nil || n != 2 {
		t.Fatalf("CopyFrom: %d %v", n, err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM t WHERE id > $1", 0).Scan(&n); err != nil || n != 3 {
		t.Errorf("rows in the block: %d %v", n, err)
	}
	if got := count(t, b, "t"); got != 0 {
		t.Errorf("another connection sees %d rows of an open block", got)
	}
	var state string
	if err := b.QueryRow(ctx, "SELECT state FROM pg_stat_activity WHERE pid = $1", int(a.PgConn().PID())).Scan(&state); err != nil || state != "idle in transaction" {
		t.Errorf("pg_stat_activity state of the connection in a block: %q %v", state, err)
	}
	if got := stagingDirs(t, ts, "t"); got != 2 {
		t.Errorf("%d staging directories in the block, want 2", got)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, a, "t"); got != 0 {
		t.Errorf("%d rows after Rollback", got)
	}
	if got := stagingDirs(t, ts, "t"); got != 0 {
		t.Errorf("%d staging directories after Rollback", got)
	}

	tx, err = a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1, 'a'), (2, 'b')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, b, "t"); got != 2 {
		t.Errorf("%d rows after Commit, want 2", got)
	}

	// A connection lost inside a block.
	c := ts.connect(t)
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "INSERT INTO t VALUES (9, 'z')"); err != nil {
		t.Fatal(err)
	}
	if got := stagingDirs(t, ts, "t"); got != 1 {
		t.Errorf("%d staging directories before the connection ends, want 1", got)
	}
	c.Close(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for stagingDirs(t, ts, "t") != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := stagingDirs(t, ts, "t"); got != 0 {
		t.Errorf("%d staging directories after the connection ended", got)
	}
	if got := count(t, b, "t"); got != 2 {
		t.Errorf("%d rows after the lost connection, want 2", got)
	}

	// An overwrite overtaken by another connection's commit.
	tx, err = a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT OVERWRITE t VALUES (7, 'x')"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "INSERT INTO t VALUES (3, 'c')"); err != nil {
		t.Fatal(err)
	}
	var pe *pgconn.PgError
	if err := tx.Commit(ctx); !errors.As(err, &pe) || pe.Code != "40001" {
		t.Errorf("conflicting Commit: %v", err)
	}
	if st := a.PgConn().TxStatus(); st != 'I' {
		t.Errorf("status after the failed COMMIT %c, want I", st)
	}
	if got := count(t, a, "t"); got != 3 {
		t.Errorf("%d rows after the conflict, want 3", got)
	}
}

// TestTxPsycopg2: psycopg2 opens a block before the first statement
// (autocommit is off by default): conn.rollback() undoes the inserts,
// conn.commit() publishes them, another connection sees only what was
// committed.
func TestTxPsycopg2(t *testing.T) {
	if err := osexec.Command("/usr/bin/python3", "-c", "import psycopg2").Run(); err != nil {
		t.Fatalf("psycopg2 is not installed for /usr/bin/python3 (apt-get install -y python3-psycopg2): %v", err)
	}
	ts := startServer(t, Config{})
	prog := `
import sys, psycopg2
def connect():
    return psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="etl", dbname="etl", sslmode="disable")
conn, other = connect(), connect()
other.autocommit = True
ocur = other.cursor()
cur = conn.cursor()
cur.execute("CREATE TABLE t (id BIGINT, v VARCHAR)")
conn.commit()
cur.executemany("INSERT INTO t VALUES (%s, %s)", [(1, "a"), (2, "b")])
cur.execute("SELECT COUNT(*) FROM t")
print("in the block", cur.fetchone()[0], conn.get_transaction_status())
ocur.execute("SELECT COUNT(*) FROM t")
print("other", ocur.fetchone()[0])
conn.rollback()
cur.execute("SELECT COUNT(*) FROM t")
print("after rollback", cur.fetchone()[0])
cur.execute("INSERT INTO t VALUES (3, 'c')")
conn.commit()
ocur.execute("SELECT id, v FROM t")
print("after commit", ocur.fetchall())
try:
    cur.execute("INSERT INTO t VALUES (4, 'd')")
    cur.execute("SELECT 1/0")
except psycopg2.Error as e:
    print(e.pgcode)
try:
    cur.execute("SELECT 1")
except psycopg2.Error as e:
    print(e.pgcode)
conn.commit()
ocur.execute("SELECT COUNT(*) FROM t")
print("after a failed block", ocur.fetchone()[0])
`
	out, err := osexec.Command("/usr/bin/python3", "-c", prog, strconv.Itoa(ts.addr.Port)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := `in the block 2 2
other 0
after rollback 0
after commit [(3, 'c')]
22012
25P02
after a failed block 1
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if got := stagingDirs(t, ts, "t"); got != 0 {
		t.Errorf("%d staging directories left", got)
	}
}
