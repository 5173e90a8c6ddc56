package pgwire

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// copyTable makes the table the COPY tests load.
func copyTable(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE items (id INT NOT NULL, name VARCHAR, price DECIMAL(8,2), seen DATE)"); err != nil {
		t.Fatal(err)
	}
}

func queryText(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := conn.PgConn().CopyTo(context.Background(), &b, "COPY ("+q+") TO STDOUT"); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return b.String()
}

func TestCopyFromStdinText(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	copyTable(t, conn)
	ctx := context.Background()
	in := "1\tpen\t1.50\t2024-01-02\n2\t\\N\t\\N\t\\N\n3\ttab\\there\\\\back\t0.10\t2024-03-04\n\\.\n"
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(in), "COPY items FROM STDIN")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 3" {
		t.Errorf("tag %q", tag)
	}
	got := queryText(t, conn, "SELECT * FROM items ORDER BY id")
	want := "1\tpen\t1.50\t2024-01-02\n2\t\\N\t\\N\t\\N\n3\ttab\\there\\\\back\t0.10\t2024-03-04\n"
	if got != want {
		t.Errorf("round trip:\ngot  %q\nwant %q", got, want)
	}
	// A column list: the others are NULL.
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("7|seven\n"), "COPY items (id, name) FROM STDIN (DELIMITER '|')"); err != nil {
		t.Fatal(err)
	}
	if got := queryText(t, conn, "SELECT * FROM items WHERE id = 7"); got != "7\tseven\t\\N\t\\N\n" {
		t.Errorf("column list: %q", got)
	}
}

func TestCopyFromStdinBadRowWritesNothing(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	copyTable(t, conn)
	ctx := context.Background()
	in := "id,name,price,seen\n1,a,1.00,2024-01-01\n2,b,2.00,2024-01-02\nthree,c,3.00,2024-01-03\n"
	_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(in), "COPY items FROM STDIN WITH CSV HEADER")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PgError, got %v", err)
	}
	if pe.Code != "22P02" || pe.Message != `invalid input syntax for type integer: "three"` || pe.Where != "COPY items, line 4, column id" {
		t.Errorf("error: %s %q where %q", pe.Code, pe.Message, pe.Where)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after a failed COPY: %d %v", n, err)
	}
	// Too few and too many columns, a NULL in a NOT NULL column.
	for _, c := range []struct{ in, code, msg, where string }{
		{"1,a,1.00\n", "22P04", `missing data for column "seen"`, "COPY items, line 1, column seen"},
		{"1,a,1.00,2024-01-01,x\n", "22P04", "extra data after last expected column", "COPY items, line 1"},
		{"1,a,1.00,2024-01-01\n,b,2.00,2024-01-02\n", "23502", `null value in column "id" of table "items" violates not-null constraint`, "COPY items, line 2, column id"},
		{"1,\"open\n", "22P04", "unterminated CSV quoted field", "COPY items, line 1"},
	} {
		_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(c.in), "COPY items FROM STDIN (FORMAT csv)")
		if !errors.As(err, &pe) || pe.Code != c.code || pe.Message != c.msg || pe.Where != c.where {
			t.Errorf("%q: got %v (where %q), want %s %s at %s", c.in, err, pe.Where, c.code, c.msg, c.where)
		}
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after failed COPYs: %d %v", n, err)
	}
	// Into something that is not a table, from a server file.
	for q, want := range map[string]string{
		"COPY nope FROM STDIN":             "42P01",
		"COPY items (nope) FROM STDIN":     "42703",
		"COPY items FROM '/tmp/items.csv'": "42601",
	} {
		_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(""), q)
		if !errors.As(err, &pe) || pe.Code != want {
			t.Errorf("%s: %v, want %s", q, err, want)
		}
	}
}

func TestCopyCSVOptions(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	copyTable(t, conn)
	ctx := context.Background()
	in := "id;name;price;seen\n1;\"semi;colon\";1.5;2024-01-01\n2;\"quote \"\"q\"\"\";NA;NA\n3;\"multi\nline\";NA;2024-02-02\n4;\"\";0;2024-02-03\n"
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(in),
		"COPY items FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';', NULL 'NA', FORCE_NULL (price))")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 4" {
		t.Errorf("tag %q", tag)
	}
	var b bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &b, "COPY (SELECT id, name, price FROM items ORDER BY id) TO STDOUT WITH CSV HEADER"); err != nil {
		t.Fatal(err)
	}
	want := "id,name,price\n1,semi;colon,1.50\n2,\"quote \"\"q\"\"\",\n3,\"multi\nline\",\n4,\"\",0.00\n"
	if b.String() != want {
		t.Errorf("csv out:\ngot  %q\nwant %q", b.String(), want)
	}
	b.Reset()
	if _, err := conn.PgConn().CopyTo(ctx, &b, "COPY (SELECT id, name FROM items ORDER BY id) TO STDOUT (FORMAT csv, FORCE_QUOTE *, DELIMITER '|', QUOTE '''')"); err != nil {
		t.Fatal(err)
	}
	if want := "'1'|'semi;colon'\n'2'|'quote \"q\"'\n'3'|'multi\nline'\n'4'|''\n"; b.String() != want {
		t.Errorf("force quote:\ngot  %q\nwant %q", b.String(), want)
	}
}

func TestCopyToStdout(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE t (n INT, s VARCHAR, b BOOLEAN); INSERT INTO t VALUES (1, E'a\\tb', TRUE), (2, NULL, FALSE)"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"COPY t TO STDOUT":                                  "1\ta\\tb\tt\n2\t\\N\tf\n",
		"COPY t (s, n) TO STDOUT (NULL '', HEADER)":         "s\tn\na\\tb\t1\n\t2\n",
		"COPY (SELECT n * 10 AS x FROM t) TO STDOUT CSV":    "10\n20\n",
		"COPY (SELECT n FROM t WHERE n > 5) TO STDOUT":      "",
		"copy public.t to stdout with (format csv, header)": "n,s,b\n1,a\tb,t\n2,,f\n",
	} {
		var b bytes.Buffer
		tag, err := conn.PgConn().CopyTo(ctx, &b, q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if b.String() != want {
			t.Errorf("%s:\ngot  %q\nwant %q", q, b.String(), want)
		}
		if n := strings.Count(want, "\n") - strings.Count(q, "HEADER") - strings.Count(q, "header"); tag.String() != "COPY "+itoa(int64(n)) {
			t.Errorf("%s: tag %q", q, tag)
		}
	}
	// An error in the query has its position in the whole statement.
	var b bytes.Buffer
	_, err := conn.PgConn().CopyTo(ctx, &b, "COPY (SELECT nope FROM t) TO STDOUT")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42703" || pe.Position != 14 {
		t.Errorf("error: %v", err)
	}
}

func TestCopyPgxCopyFromAndBinary(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE m (id BIGINT, small SMALLINT, f DOUBLE, ok BOOLEAN, name VARCHAR, d DATE, ts TIMESTAMP, amount DECIMAL(10,3), raw BYTEA)"); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	rows := [][]any{
		{int64(1), int16(-2), 1.25, true, "one", day, at, "12.345", []byte{0, 1, 0xff}},
		{int64(2), nil, nil, nil, nil, nil, nil, nil, nil},
	}
	for i := 3; i <= 5000; i++ {
		rows = append(rows, []any{int64(i), int16(i % 100), float64(i) / 4, i%2 == 0, "row", day, at, "1.000", []byte("x")})
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"m"}, []string{"id", "small", "f", "ok", "name", "d", "ts", "amount", "raw"}, pgx.CopyFromRows(rows))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(rows)) {
		t.Errorf("copied %d", n)
	}
	got := queryText(t, conn, "SELECT * FROM m WHERE id <= 2 ORDER BY id")
	want := "1\t-2\t1.25\tt\tone\t2024-02-29\t2024-02-29 13:14:15.123456\t12.345\t\\\\x0001ff\n2\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
	if got != want {
		t.Errorf("binary copy in:\ngot  %q\nwant %q", got, want)
	}
	// Binary COPY out, read back by pgx's own decoder through a binary
	// COPY in: the same rows.
	var b bytes.Buffer
	tag, err := conn.PgConn().CopyTo(ctx, &b, "COPY (SELECT * FROM m ORDER BY id) TO STDOUT (FORMAT binary)")
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "COPY 5000" || !bytes.HasPrefix(b.Bytes(), copySignature) {
		t.Fatalf("binary out: %q, %d bytes", tag, b.Len())
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE m2 (id BIGINT, small SMALLINT, f DOUBLE, ok BOOLEAN, name VARCHAR, d DATE, ts TIMESTAMP, amount DECIMAL(10,3), raw BYTEA)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, &b, "COPY m2 FROM STDIN WITH BINARY"); err != nil {
		t.Fatal(err)
	}
	a := queryText(t, conn, "SELECT * FROM m ORDER BY id")
	c := queryText(t, conn, "SELECT * FROM m2 ORDER BY id")
	if a != c || len(a) < 1000 {
		t.Errorf("binary round trip differs (%d vs %d bytes)", len(a), len(c))
	}
}

func TestPsqlCopy(t *testing.T) {
	ts := startServer(t, Config{})
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("id,name,price,seen\n1,pen,1.50,2024-01-02\n2,\"ink, blue\",,2024-01-03\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	stdout, errs := psql(t, ts, nil, "-v", "ON_ERROR_STOP=1",
		"-c", "CREATE TABLE items (id INT NOT NULL, name VARCHAR, price DECIMAL(8,2), seen DATE)",
		"-c", `\copy items from '`+in+`' with (format csv, header)`,
		"-c", `\copy (SELECT id, name, price FROM items ORDER BY id) to '`+out+`' csv header`,
		"-c", `\copy items from stdin`)
	if errs != "" || stdout != "CREATE TABLE\nCOPY 2\nCOPY 2\nCOPY 0\n" {
		t.Errorf("psql: %q %q", stdout, errs)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "id,name,price\n1,pen,1.50\n2,\"ink, blue\",\n" {
		t.Errorf("\\copy to: %q", got)
	}
	// A bad line: psql prints the error with the line.
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("3,x,1,2024-01-01\n4,y,zz,2024-01-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs = psql(t, ts, nil, "-c", `\copy items from '`+bad+`' csv`)
	if errs != "ERROR:  invalid input syntax for type numeric: \"zz\"\nCONTEXT:  COPY items, line 2, column price\n" {
		t.Errorf("bad file: %q", errs)
	}
	stdout, _ = psql(t, ts, nil, "-At", "-c", "SELECT COUNT(*) FROM items")
	if stdout != "2\n" {
		t.Errorf("after the bad file: %q", stdout)
	}
}
