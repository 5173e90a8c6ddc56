package pgwire

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// catalogFixture starts a gateway and creates the objects the catalog
// tests look at: the example orders (JSON) and contacts (CSV) sources, a
// Parquet sink and a source over what it wrote, a managed table with a
// primary key and a unique index of two columns, and a view.
func catalogFixture(t *testing.T) (*testServer, *pgx.Conn, func(string) string) {
	t.Helper()
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	// psql sizes its columns to the longest value, and the object
	// descriptions hold paths: the paths get a fixed length, wherever the
	// checkout and the temporary directory are, so the goldens do not move.
	abs, err := filepath.Abs("../testdata/examples")
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(os.TempDir(), fmt.Sprintf("etlc-catalog-%08x", uint32(time.Now().UnixNano())))
	examples, tmp := filepath.Join(base, "examples"), filepath.Join(base, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Symlink(abs, examples); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		`CREATE SOURCE orders (order_id BIGINT NOT NULL, customer_id BIGINT, amount DECIMAL(12,2), ts TIMESTAMP)
		 WITH (connector = 'file', path = '` + examples + `/orders/', format = 'json')`,
		`CREATE SOURCE contacts (id INT NOT NULL, name VARCHAR, email VARCHAR, state CHAR(2), updated_at TIMESTAMP)
		 WITH (connector = 'file', path = '` + examples + `/contacts/initial/*.csv', format = 'csv', header = 'true',
		       on_error = 'quarantine')`,
		`CREATE SINK revenue WITH (connector = 'file', path = '` + tmp + `/revenue/', format = 'parquet', mode = 'overwrite')`,
		`INSERT INTO revenue SELECT customer_id, SUM(amount) AS revenue, COUNT(*) AS orders FROM orders GROUP BY customer_id`,
		`CREATE SOURCE revenue_files WITH (connector = 'file', path = '` + tmp + `/revenue/', format = 'parquet')`,
		`CREATE TABLE customers (id BIGINT NOT NULL, name VARCHAR(40), tier CHAR(1), PRIMARY KEY (id))`,
		`CREATE UNIQUE INDEX customers_name_tier_idx ON customers (name, tier)`,
		`INSERT INTO customers VALUES (1, 'Ada', 'A'), (2, 'Grace', 'B')`,
		`CREATE VIEW big_orders AS SELECT order_id, customer_id, amount FROM orders WHERE amount > 100`,
	} {
		if _, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	clean := func(s string) string {
		s = strings.ReplaceAll(s, examples, "$EXAMPLES")
		return strings.ReplaceAll(s, tmp, "$TMP")
	}
	return ts, conn, clean
}

var timingRE = regexp.MustCompile(`Time: [0-9.]+ ms( \([^)]*\))?`)

// TestPsqlCatalog runs psql sessions (testdata/psql): the input is fed to
// psql on standard input with every line echoed; the output is what psql
// printed, standard error after "[stderr]".
func TestPsqlCatalog(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatalf("psql is not installed: %v (apt-get install -y postgresql-client)", err)
	}
	ts, _, clean := catalogFixture(t)
	datadriven.RunTest(t, "testdata/psql", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "psql" {
			t.Fatalf("unknown command %q", d.Cmd)
		}
		args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(ts.addr.Port), "-U", "etl", "-d", "etl",
			"-X", "--no-psqlrc", "-a", "-v", "ON_ERROR_STOP=0"}
		cmd := exec.Command("psql", args...)
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable", "PAGER=", "PSQL_PAGER=",
			"COLUMNS=200", "PGTZ=UTC")
		cmd.Stdin = strings.NewReader(d.Input + "\n")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatalf("psql: %v", err)
			}
		}
		res := timingRE.ReplaceAllString(out.String(), "Time: N ms")
		if errb.Len() > 0 {
			res += "[stderr]\n" + errb.String()
		}
		return clean(res)
	})
}

// TestClientMetadataQueries replays the catalog queries BI tools and
// drivers send (testdata/metadata): "query" runs the input over the
// extended protocol as JDBC-based tools do and prints the rows, one a line,
// values separated by " | ", NULL as NULL; "simple" runs it over the simple
// protocol. An error prints its SQLSTATE and message.
func TestClientMetadataQueries(t *testing.T) {
	_, conn, clean := catalogFixture(t)
	datadriven.RunTest(t, "testdata/metadata", func(t *testing.T, d *datadriven.TestData) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var args []any
		switch d.Cmd {
		case "query":
		case "simple":
			args = append(args, pgx.QueryExecModeSimpleProtocol)
		default:
			t.Fatalf("unknown command %q", d.Cmd)
		}
		rows, err := conn.Query(ctx, d.Input, args...)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		defer rows.Close()
		var b strings.Builder
		var names []string
		for _, f := range rows.FieldDescriptions() {
			names = append(names, f.Name)
		}
		b.WriteString(strings.Join(names, " | ") + "\n")
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = formatValue(v)
			}
			b.WriteString(strings.Join(parts, " | ") + "\n")
		}
		if err := rows.Err(); err != nil {
			b.WriteString("error: " + err.Error() + "\n")
		}
		return clean(b.String())
	})
}

// formatValue prints a value pgx decoded for the golden files.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return "<time>"
	case pgtype.Numeric:
		b, err := x.MarshalJSON()
		if err != nil {
			return err.Error()
		}
		return string(b)
	case fmt.Stringer:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v)
}

// TestJDBCMetaData runs pgJDBC's DatabaseMetaData calls as a JDBC tool
// such as DBeaver makes them (testdata/jdbcmeta/MetaData.java) and checks
// every line they print.
func TestJDBCMetaData(t *testing.T) {
	const jar = "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("pgJDBC is not installed: %v (apt-get install -y libpostgresql-jdbc-java)", err)
	}
	for _, tool := range []string{"javac", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: %v (apt-get install -y default-jdk-headless)", tool, err)
		}
	}
	ts, _, clean := catalogFixture(t)
	classes := t.TempDir()
	if out, err := exec.Command("javac", "-d", classes, "-cp", jar, "testdata/jdbcmeta/MetaData.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	url := fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/etl?user=etl&sslmode=disable", ts.addr.Port)
	cmd := exec.Command("java", "-cp", jar+string(os.PathListSeparator)+classes, "MetaData", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	want := `product: PostgreSQL 15.0
user: etl
catalog: etl, schema: public
schema: etl
schema: information_schema
schema: pg_catalog
schema: public
table: public.contacts TABLE (source: file, csv, $EXAMPLES/contacts/initial/*.csv)
table: public.contacts__errors TABLE (bad rows of source contacts)
table: public.customers TABLE (managed table (stored in the data directory))
table: public.orders TABLE (source: file, json, $EXAMPLES/orders/)
table: public.revenue TABLE (sink: file, parquet, $TMP/revenue/)
table: public.revenue_files TABLE (source: file, parquet, $TMP/revenue/)
table: public.big_orders VIEW (view)
table: etl.runs TABLE
column: customers.id int8 sqltype=-5 size=19 digits=0 nullable=NO pos=1
column: customers.name varchar sqltype=12 size=40 digits=0 nullable=YES pos=2
column: customers.tier bpchar sqltype=1 size=1 digits=0 nullable=YES pos=3
column: orders.order_id int8 sqltype=-5 size=19 digits=0 nullable=NO pos=1
column: orders.customer_id int8 sqltype=-5 size=19 digits=0 nullable=YES pos=2
column: orders.amount numeric sqltype=2 size=12 digits=2 nullable=YES pos=3
column: orders.ts timestamp sqltype=93 size=29 digits=6 nullable=YES pos=4
primary key: public.customers customers_pkey column=id seq=1
index: customers customers_name_tier_idx non_unique=false type=3 pos=1 column=name order=A filter=null
index: customers customers_name_tier_idx non_unique=false type=3 pos=2 column=tier order=A filter=null
index: customers customers_pkey non_unique=false type=3 pos=1 column=id order=A filter=null
`
	if got := clean(string(out)); got != want {
		t.Errorf("pgJDBC DatabaseMetaData:\n%s\nwant\n%s", got, want)
	}
}
