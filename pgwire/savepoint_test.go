package pgwire

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgCode returns the SQLSTATE of a PostgreSQL error ("" for nil, "?"
// for another error).
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	if err == nil {
		return ""
	}
	return "?: " + err.Error()
}

// TestSavepointPgx: pgx's nested transactions are savepoints; rolling one
// back discards its writes and keeps the outer ones, and after a failed
// statement ROLLBACK TO SAVEPOINT makes the block usable again, in the
// simple and the extended protocol.
func TestSavepointPgx(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	a, b := ts.connect(t), ts.connect(t)
	if _, err := a.Exec(ctx, "CREATE TABLE t (id BIGINT NOT NULL, v VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	// Outside a block: 25P01, as PostgreSQL.
	for _, q := range []string{"SAVEPOINT x", "RELEASE SAVEPOINT x", "ROLLBACK TO SAVEPOINT x"} {
		if _, err := a.Exec(ctx, q); pgCode(err) != "25P01" {
			t.Errorf("%s outside a block: %v, want 25P01", q, err)
		}
	}
	tx, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", 1, "a"); err != nil {
		t.Fatal(err)
	}
	inner, err := tx.Begin(ctx) // SAVEPOINT sp_1
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inner.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", 2, "b"); err != nil {
		t.Fatal(err)
	}
	if err := inner.Rollback(ctx); err != nil { // ROLLBACK TO SAVEPOINT sp_1
		t.Fatal(err)
	}
	inner, err = tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inner.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", 3, "c"); err != nil {
		t.Fatal(err)
	}
	if err := inner.Commit(ctx); err != nil { // RELEASE SAVEPOINT
		t.Fatal(err)
	}
	// A failure, then ROLLBACK TO: extended protocol.
	if _, err := tx.Exec(ctx, "SAVEPOINT autosave"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", 4, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", nil, "null"); pgCode(err) == "" {
		t.Fatal("a NULL into a NOT NULL column succeeded")
	}
	if st := a.PgConn().TxStatus(); st != 'E' {
		t.Errorf("status after the failure %c, want E", st)
	}
	if _, err := tx.Exec(ctx, "SELECT $1::int", 1); pgCode(err) != "25P02" {
		t.Errorf("a statement in the failed block: %v, want 25P02", err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT autosave"); err != nil {
		t.Fatal(err)
	}
	if st := a.PgConn().TxStatus(); st != 'T' {
		t.Errorf("status after ROLLBACK TO %c, want T", st)
	}
	// A failure, then ROLLBACK TO: simple protocol, with statements after
	// it in the same message.
	if _, err := tx.Exec(ctx, "SAVEPOINT s2"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1/0", pgx.QueryExecModeSimpleProtocol); pgCode(err) != "22012" {
		t.Fatalf("SELECT 1/0: %v", err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO s2; INSERT INTO t VALUES (5, 'e')", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, err := tx.Query(ctx, "SELECT id::text || v FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if g := strconv.Quote(fmtList(got)); g != strconv.Quote("1a,3c,5e") {
		t.Errorf("rows in the block %s, want 1a,3c,5e", g)
	}
	if n := count(t, b, "t"); n != 0 {
		t.Errorf("another connection sees %d rows of the open block", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, b, "t"); n != 3 {
		t.Errorf("%d rows after COMMIT, want 3", n)
	}
	if n := stagingDirs(t, ts, "t"); n != 0 {
		t.Errorf("%d staging directories left", n)
	}
}

func fmtList(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// TestSavepointPsycopg2: the savepoint pattern of SQLAlchemy's nested
// transactions through psycopg2: SAVEPOINT, a failing statement,
// ROLLBACK TO SAVEPOINT, and the transaction commits the rest.
func TestSavepointPsycopg2(t *testing.T) {
	if err := osexec.Command("/usr/bin/python3", "-c", "import psycopg2").Run(); err != nil {
		t.Fatalf("psycopg2 is not installed for /usr/bin/python3 (apt-get install -y python3-psycopg2): %v", err)
	}
	ts := startServer(t, Config{})
	prog := `
import sys, psycopg2
conn = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="etl", dbname="etl", sslmode="disable")
cur = conn.cursor()
cur.execute("CREATE TABLE t (id BIGINT NOT NULL, v VARCHAR)")
conn.commit()
cur.execute("INSERT INTO t VALUES (%s, %s)", (1, "a"))
cur.execute("SAVEPOINT sa_1")
cur.execute("INSERT INTO t VALUES (%s, %s)", (2, "b"))
try:
    cur.execute("INSERT INTO t VALUES (%s, %s)", (None, "x"))
except psycopg2.Error as e:
    print("error", e.pgcode, conn.get_transaction_status())
cur.execute("ROLLBACK TO SAVEPOINT sa_1")
print("status", conn.get_transaction_status())
cur.execute("SAVEPOINT sa_2")
cur.execute("INSERT INTO t VALUES (%s, %s)", (3, "c"))
cur.execute("RELEASE SAVEPOINT sa_2")
cur.execute("SELECT id FROM t ORDER BY id")
print("in the block", [r[0] for r in cur.fetchall()])
conn.commit()
cur.execute("SELECT id FROM t ORDER BY id")
print("committed", [r[0] for r in cur.fetchall()])
conn.commit()
`
	out, err := osexec.Command("/usr/bin/python3", "-c", prog, strconv.Itoa(ts.addr.Port)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := `error 23502 3
status 2
in the block [1, 3]
committed [1, 3]
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestSavepointJDBC: pgJDBC with autosave=always goes on with a
// transaction after a failed statement and commits the rest.
func TestSavepointJDBC(t *testing.T) {
	jar := "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("pgJDBC is not installed (apt-get install -y libpostgresql-jdbc-java): %v", err)
	}
	for _, tool := range []string{"java", "javac"} {
		if _, err := osexec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (apt-get install -y default-jdk-headless): %v", tool, err)
		}
	}
	dir := t.TempDir()
	if out, err := osexec.Command("javac", "-d", dir, "-cp", jar, filepath.Join("testdata", "jdbcsave", "JdbcAutosave.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	ts := startServer(t, Config{})
	out, err := osexec.Command("java", "-cp", jar+string(os.PathListSeparator)+dir, "JdbcAutosave", strconv.Itoa(ts.addr.Port)).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	want := `insert 1
error 23502
insert 1
error 22012
in the transaction 1 one
in the transaction 2 two
committed 2
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestImplicitTransactionPgx: a simple Query message of several
// statements is one transaction, as in PostgreSQL.
func TestImplicitTransactionPgx(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	a, b := ts.connect(t), ts.connect(t)
	simple := func(q string) error {
		t.Helper()
		_, err := a.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol)
		return err
	}
	if err := simple("CREATE TABLE t (id BIGINT, v VARCHAR); CREATE TABLE u (id BIGINT)"); err != nil {
		t.Fatal(err)
	}
	// The error in the third statement undoes the first two (two tables).
	if err := simple("INSERT INTO t VALUES (1, 'a'); INSERT INTO u VALUES (1); SELECT 1/0; INSERT INTO t VALUES (2, 'b')"); pgCode(err) != "22012" {
		t.Fatalf("error %v, want 22012", err)
	}
	if st := a.PgConn().TxStatus(); st != 'I' {
		t.Errorf("status after the failed message %c, want I", st)
	}
	if n, m := count(t, b, "t"), count(t, b, "u"); n != 0 || m != 0 {
		t.Errorf("rows after the failed message: t %d, u %d; want none", n, m)
	}
	if n := stagingDirs(t, ts, "t"); n != 0 {
		t.Errorf("%d staging directories left", n)
	}
	// Without an error both commit, and the statements see each other's
	// writes.
	rr := a.PgConn().Exec(ctx, "INSERT INTO t VALUES (1, 'a'); INSERT INTO u SELECT id FROM t; SELECT count(*) FROM u")
	res, err := rr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || string(res[2].Rows[0][0]) != "1" {
		t.Fatalf("results %+v", res)
	}
	if n, m := count(t, b, "t"), count(t, b, "u"); n != 1 || m != 1 {
		t.Errorf("rows after the message: t %d, u %d; want 1, 1", n, m)
	}
	// BEGIN ... COMMIT in the message: what COMMIT ended stays, the rest
	// is a new implicit transaction the error undoes.
	if err := simple("BEGIN; INSERT INTO t VALUES (2, 'b'); COMMIT; INSERT INTO t VALUES (3, 'c'); SELECT 1/0"); pgCode(err) != "22012" {
		t.Fatalf("error %v, want 22012", err)
	}
	if n := count(t, b, "t"); n != 2 {
		t.Errorf("rows after BEGIN/COMMIT and an error: %d, want 2", n)
	}
	// BEGIN without COMMIT leaves the block open, holding the statements
	// before it too.
	if err := simple("INSERT INTO t VALUES (4, 'd'); BEGIN; INSERT INTO t VALUES (5, 'e')"); err != nil {
		t.Fatal(err)
	}
	if st := a.PgConn().TxStatus(); st != 'T' {
		t.Errorf("status after BEGIN in the message %c, want T", st)
	}
	if n := count(t, b, "t"); n != 2 {
		t.Errorf("another connection sees %d rows, want 2", n)
	}
	if err := simple("COMMIT"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, b, "t"); n != 4 {
		t.Errorf("rows after COMMIT: %d, want 4", n)
	}
}
