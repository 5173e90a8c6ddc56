package pgwire

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// psql runs psql against the server with extra arguments and returns its
// standard output and error.
func psql(t *testing.T, ts *testServer, env []string, args ...string) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatalf("psql is not installed: %v (apt-get install -y postgresql-client)", err)
	}
	base := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(ts.addr.Port), "-U", "etl", "-d", "etl", "-X", "--no-psqlrc"}
	cmd := exec.Command("psql", append(base, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer")
	cmd.Env = append(cmd.Env, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("psql: %v", err)
		}
	}
	return out.String(), errb.String()
}

func TestPsql(t *testing.T) {
	ts := startServer(t, Config{})
	out, errs := psql(t, ts, nil, "-v", "ON_ERROR_STOP=1", "-c",
		"CREATE TABLE people (id INT, name VARCHAR, born DATE); INSERT INTO people VALUES (1, 'Ada', DATE '1815-12-10'), (2, 'Alan', DATE '1912-06-23')")
	if errs != "" {
		t.Fatalf("psql: %s", errs)
	}
	if out != "CREATE TABLE\nINSERT 0 2\n" {
		t.Errorf("create and insert: %q", out)
	}
	out, errs = psql(t, ts, nil, "-c", "SELECT id, name, born FROM people ORDER BY id")
	want := ` id | name |    born    
----+------+------------
  1 | Ada  | 1815-12-10
  2 | Alan | 1912-06-23
(2 rows)

`
	if out != want || errs != "" {
		t.Errorf("select: got\n%s\nwant\n%s\nstderr %s", out, want, errs)
	}
	// An error with a caret under the offending text.
	out, errs = psql(t, ts, nil, "-v", "ON_ERROR_STOP=0", "-c", "SELECT nme FROM people")
	wantErr := `ERROR:  column "nme" does not exist
LINE 1: SELECT nme FROM people
               ^
`
	if !strings.HasPrefix(errs, wantErr) || out != "" {
		t.Errorf("error: got\n%s\nwant prefix\n%s", errs, wantErr)
	}
	out, errs = psql(t, ts, nil, "-v", "ON_ERROR_STOP=0", "-c", "SELEC 1")
	wantErr = `ERROR:  unknown statement "SELEC"
LINE 1: SELEC 1
        ^
HINT:  did you mean SELECT?
`
	if !strings.HasPrefix(errs, wantErr) {
		t.Errorf("syntax error: got\n%s\nwant prefix\n%s", errs, wantErr)
	}
	// A script through standard input with the tuples-only, unaligned
	// output scripts use.
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sql")
	if err := os.WriteFile(script, []byte("SELECT COUNT(*) FROM people;\nSHOW timezone;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs = psql(t, ts, nil, "-At", "-f", script)
	if out != "2\nUTC\n" || errs != "" {
		t.Errorf("script: %q %q", out, errs)
	}
	out, errs = psql(t, ts, nil, "-At", "-c", `\timing on`, "-c", "SELECT 'timed'")
	if !regexp.MustCompile(`^Timing is on\.\ntimed\nTime: \d+[.,]\d+ ms\n$`).MatchString(out) || errs != "" {
		t.Errorf("timing: %q %q", out, errs)
	}
}

func TestPsqlPassword(t *testing.T) {
	tc, err := SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{Auth: AuthSCRAM, Users: map[string]string{"etl": "pw"}, TLS: tc})
	out, errs := psql(t, ts, []string{"PGPASSWORD=pw", "PGSSLMODE=require"}, "-At", "-c", "SELECT 'ok'")
	if out != "ok\n" || errs != "" {
		t.Errorf("scram over TLS: %q %q", out, errs)
	}
	_, errs = psql(t, ts, []string{"PGPASSWORD=nope"}, "-At", "-c", "SELECT 'ok'")
	if !strings.Contains(errs, `password authentication failed for user "etl"`) {
		t.Errorf("wrong password: %q", errs)
	}
}

func TestPsycopg2(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import psycopg2").Run(); err != nil {
		t.Fatalf("psycopg2 is not installed for /usr/bin/python3 (apt-get install -y python3-psycopg2): %v", err)
	}
	ts := startServer(t, Config{Auth: AuthMD5, Users: map[string]string{"etl": "pw"}})
	prog := `
import sys, decimal, datetime, psycopg2
conn = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="etl", password="pw", dbname="etl", sslmode="disable")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE TABLE orders (id BIGINT, amount DECIMAL(12,2), at TIMESTAMP)")
cur.execute("INSERT INTO orders VALUES (1, 9.99, TIMESTAMP '2024-05-01 12:00:00'), (2, 100.00, TIMESTAMP '2024-05-02 13:30:00'), (3, 0.01, TIMESTAMP '2024-05-03 00:00:00')")
cur.execute("SELECT id, amount, at FROM orders WHERE amount > %s ORDER BY id", (decimal.Decimal("1.00"),))
for row in cur.fetchall():
    print(row[0], repr(row[1]), row[2].isoformat())
cur.execute("SELECT name FROM (SELECT 'x' AS name) AS t WHERE name = %s", ("it's",))
print(cur.rowcount)
cur.executemany("INSERT INTO orders VALUES (%s, %s, %s)", [(10, decimal.Decimal("1.50"), datetime.datetime(2024, 6, 1, 8, 0)), (11, decimal.Decimal("2.50"), None)])
cur.execute("SELECT COUNT(*), SUM(amount) FROM orders WHERE id >= %(min)s", {"min": 10})
print(cur.fetchone())
try:
    cur.execute("SELECT nope FROM orders")
except psycopg2.Error as e:
    print(e.pgcode)
`
	cmd := exec.Command("/usr/bin/python3", "-c", prog, strconv.Itoa(ts.addr.Port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "1 Decimal('9.99') 2024-05-01T12:00:00\n2 Decimal('100.00') 2024-05-02T13:30:00\n0\n(2, Decimal('4.00'))\n42703\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestPsycopg2CursorsAndCopy runs psycopg2's server-side (named) cursor
// in a transaction, executemany, and copy_expert both ways.
func TestPsycopg2CursorsAndCopy(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import psycopg2").Run(); err != nil {
		t.Fatalf("psycopg2 is not installed for /usr/bin/python3 (apt-get install -y python3-psycopg2): %v", err)
	}
	ts := startServer(t, Config{})
	prog := `
import sys, io, psycopg2
conn = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="etl", dbname="etl", sslmode="disable")
conn.autocommit = True
cur = conn.cursor()
cur.execute("CREATE TABLE n (id BIGINT, name VARCHAR)")
cur.executemany("INSERT INTO n VALUES (%s, %s)", [(i, "n%d" % i) for i in range(1, 6)])
cur.copy_expert("COPY n FROM STDIN WITH (FORMAT csv)", io.StringIO("".join("%d,n%d\n" % (i, i) for i in range(6, 2501))))
print(cur.rowcount)
conn.autocommit = False
named = conn.cursor(name="big")
named.itersize = 1000
named.execute("SELECT id, name FROM n ORDER BY id")
total, last = 0, None
for row in named:
    total += 1
    last = row
print(total, last)
named.close()
two = conn.cursor(name="two")
two.execute("SELECT id FROM n WHERE id <= %s ORDER BY id", (7,))
print(two.fetchone(), two.fetchmany(3), two.fetchall())
two.close()
conn.commit()
conn.autocommit = True
out = io.StringIO()
cur.copy_expert("COPY (SELECT id, name FROM n WHERE id % 1000 = 0 ORDER BY id) TO STDOUT WITH CSV HEADER", out)
print(repr(out.getvalue()))
try:
    cur.copy_expert("COPY n FROM STDIN", io.StringIO("1\tok\nx\tbad\n"))
except psycopg2.Error as e:
    print(e.pgcode, e.diag.context)
cur.execute("SELECT COUNT(*) FROM n")
print(cur.fetchone()[0])
`
	out, err := exec.Command("/usr/bin/python3", "-c", prog, strconv.Itoa(ts.addr.Port)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := `2495
2500 (2500, 'n2500')
(1,) [(2,), (3,), (4,)] [(5,), (6,), (7,)]
'id,name\n1000,n1000\n2000,n2000\n'
22P02 COPY n, line 2, column id
2500
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestJDBC runs pgJDBC (Debian's libpostgresql-jdbc-java) from a small
// Java program compiled by the test: a PreparedStatement with every
// supported type, and a fetch size with autocommit off.
func TestJDBC(t *testing.T) {
	jar := "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("pgJDBC is not installed (apt-get install -y libpostgresql-jdbc-java): %v", err)
	}
	for _, tool := range []string{"java", "javac"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (apt-get install -y default-jdk-headless): %v", tool, err)
		}
	}
	dir := t.TempDir()
	if out, err := exec.Command("javac", "-d", dir, "-cp", jar, filepath.Join("testdata", "jdbc", "JdbcClient.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	ts := startServer(t, Config{})
	cmd := exec.Command("java", "-cp", jar+string(os.PathListSeparator)+dir, "JdbcClient", strconv.Itoa(ts.addr.Port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	want := `insert 1
insert 1
2|0|0|0.0|0.0|null|null|false|null|null|null
3|3|3|0.75|3.0|0.300|r3|false|2024-03-03|2024-03-03 00:00:00.0|1
4|4|4|1.0|4.0|0.400|r4|true|2024-03-04|2024-03-04 00:00:00.0|1
6|6|6|1.5|6.0|0.600|r6|true|2024-03-06|2024-03-06 00:00:00.0|1
7|7|7|1.75|7.0|0.700|r7|false|2024-03-07|2024-03-07 00:00:00.0|1
9007199254740993|-42|7|0.1|1.5|12.345|it's|true|2024-02-29|2024-02-29 13:14:15.123456|3
fetched 7 sum 9007199254741020
error 42703
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestNodePostgres runs node-postgres (npm pg and pg-cursor, installed by
// `make tools` into testdata/node): parameterized queries and a cursor.
func TestNodePostgres(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not installed (apt-get install -y nodejs npm): %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"pg", "pg-cursor"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			t.Fatalf("npm module %s is not installed (make tools, or npm ci in %s): %v", m, dir, err)
		}
	}
	ts := startServer(t, Config{})
	cmd := exec.Command("node", "client.js", strconv.Itoa(ts.addr.Port))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	want := `[{"id":"21","name":"n21","amount":"5.25","ok":false},{"id":"23","name":"n23","amount":"5.75","ok":false},{"id":"24","name":"n24","amount":"6.00","ok":true}] 3
[{"n":"12","total":"39.00"}]
[["3","n3"]]
1,2,3,4,5,6,7,8,9,10 / 11,12,13,14,15,16,17,18,19,20 / 21,22,23,24,25
42703 8
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
