package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// results renders a simple-protocol exchange: every result's tag and rows.
func results(t *testing.T, conn *pgx.Conn, sql string) (string, error) {
	t.Helper()
	rs, err := conn.PgConn().Exec(context.Background(), sql).ReadAll()
	var sb strings.Builder
	for _, r := range rs {
		if len(r.FieldDescriptions) > 0 {
			var names []string
			for _, f := range r.FieldDescriptions {
				names = append(names, f.Name)
			}
			sb.WriteString(strings.Join(names, "|") + "\n")
		}
		for _, row := range r.Rows {
			var cells []string
			for _, v := range row {
				if v == nil {
					cells = append(cells, "NULL")
				} else {
					cells = append(cells, string(v))
				}
			}
			sb.WriteString(strings.Join(cells, "|") + "\n")
		}
		sb.WriteString(r.CommandTag.String() + "\n")
	}
	return sb.String(), err
}

func TestMultipleStatements(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	got, err := results(t, conn, `CREATE TABLE t (id BIGINT, name VARCHAR);
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL);
SELECT id, name FROM t ORDER BY id;
SELECT COUNT(*) AS n FROM t WHERE name IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE TABLE\nINSERT 0 3\nid|name\n1|a\n2|b\n3|NULL\nSELECT 3\nn\n1\nSELECT 1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// An empty query and a query of only a comment.
	for _, q := range []string{"", "  ;  ", "-- nothing\n"} {
		rs, err := conn.PgConn().Exec(context.Background(), q).ReadAll()
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if len(rs) != 1 || rs[0].CommandTag.String() != "" || len(rs[0].Rows) != 0 {
			t.Errorf("%q: %d results", q, len(rs))
		}
	}
}

// pgErr returns err as a *pgconn.PgError or fails the test.
func pgErr(t *testing.T, err error) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a PostgreSQL error", err, err)
	}
	return pe
}

func TestErrors(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	if _, err := results(t, conn, "CREATE TABLE t (id BIGINT, amount DOUBLE)"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		sql      string
		code     string
		position int32
		message  string
	}{
		{"SELEC 1", "42601", 1, ""},
		{"SELECT amout FROM t", "42703", 8, `column "amout" does not exist`},
		{"SELECT id FROM missing", "42P01", 16, ""},
		{"SELECT 1 / 0", "22012", 0, ""},
		{"SELECT CAST('x' AS INT)", "22P02", 13, "invalid INT literal 'x'"},
		// Positions count characters, not bytes.
		{"SELECT 'é', nope FROM t", "42703", 13, ""},
	}
	for _, c := range cases {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			var x any
			err := conn.QueryRow(context.Background(), c.sql, mode).Scan(&x)
			pe := pgErr(t, err)
			if pe.Code != c.code || pe.Position != c.position || (c.message != "" && pe.Message != c.message) {
				t.Errorf("%s (mode %v): code %s position %d message %q, want %s %d %q", c.sql, mode, pe.Code, pe.Position, pe.Message, c.code, c.position, c.message)
			}
			if pe.Severity != "ERROR" {
				t.Errorf("%s: severity %q", c.sql, pe.Severity)
			}
		}
	}
	// After an error the session goes on; a failed statement in a
	// message stops the rest and, the message being one implicit
	// transaction, undoes the writes of the statements before it.
	got, err := results(t, conn, "INSERT INTO t VALUES (1, 2.5); SELECT 1 / 0; INSERT INTO t VALUES (2, 1)")
	if pe := pgErr(t, err); pe.Code != "22012" {
		t.Errorf("code %s", pe.Code)
	}
	if got != "INSERT 0 1\n\n" {
		t.Errorf("results before the error: %q", got)
	}
	var n int64
	if err := conn.QueryRow(context.Background(), "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("count %d, %v", n, err)
	}
}

func TestTransactionsAndSettings(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st := conn.PgConn().TxStatus(); st != 'T' {
		t.Errorf("status in a block %c", st)
	}
	if _, err := tx.Exec(context.Background(), "CREATE TABLE x (a INT)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Errorf("status after COMMIT %c", st)
	}
	// A failed statement in a block makes it a failed block until ROLLBACK.
	results(t, conn, "BEGIN")
	if _, err := results(t, conn, "SELECT nope"); err == nil {
		t.Fatal("no error")
	}
	if st := conn.PgConn().TxStatus(); st != 'E' {
		t.Errorf("status after an error in a block %c", st)
	}
	results(t, conn, "ROLLBACK")
	if st := conn.PgConn().TxStatus(); st != 'I' {
		t.Errorf("status after ROLLBACK %c", st)
	}

	if v := conn.PgConn().ParameterStatus("server_version"); v != ServerVersion {
		t.Errorf("server_version %q", v)
	}
	for name, want := range map[string]string{"DateStyle": "ISO, MDY", "TimeZone": "UTC", "client_encoding": "UTF8",
		"integer_datetimes": "on", "standard_conforming_strings": "on"} {
		if v := conn.PgConn().ParameterStatus(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	got, err := results(t, conn, "SET application_name = 'etl-test'; SHOW application_name; RESET application_name; SHOW application_name")
	if err != nil {
		t.Fatal(err)
	}
	if want := "SET\napplication_name\netl-test\nSHOW\nRESET\napplication_name\n\nSHOW\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	if v := conn.PgConn().ParameterStatus("application_name"); v != "" {
		t.Errorf("application_name reported %q after RESET", v)
	}
	results(t, conn, "SET application_name = 'again'")
	if v := conn.PgConn().ParameterStatus("application_name"); v != "again" {
		t.Errorf("application_name reported %q after SET", v)
	}
}

func TestExtendedParams(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	if _, err := results(t, conn, `CREATE TABLE p (id BIGINT, amount DECIMAL(12,2), name VARCHAR, day DATE, at TIMESTAMP, ok BOOLEAN, score DOUBLE);
INSERT INTO p VALUES (1, 10.50, 'a', DATE '2024-01-01', TIMESTAMP '2024-01-01 08:00:00', TRUE, 0.5),
 (2, 20.25, 'b', DATE '2024-01-02', TIMESTAMP '2024-01-02 09:30:00', FALSE, 1.5),
 (3, 30.00, 'c', DATE '2024-01-03', TIMESTAMP '2024-01-03 10:00:00', TRUE, 2.5)`); err != nil {
		t.Fatal(err)
	}
	q := "SELECT id, name FROM p WHERE id >= $1 AND amount > $2 AND day <= $3 AND at < $4 AND ok = $5 AND score < $6 AND name <> $7 ORDER BY id"
	day := time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 1, 3, 12, 0, 0, 0, time.UTC)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec} {
		rows, err := conn.Query(ctx, q, mode, int64(1), "10.00", day, at, true, 3.0, "x")
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		var got []string
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d:%s", id, name))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if strings.Join(got, ",") != "1:a,3:c" {
			t.Errorf("mode %v: %v", mode, got)
		}
	}
	// The statement's parameter types are the planner's inference.
	sd, err := conn.Prepare(ctx, "q1", q)
	if err != nil {
		t.Fatal(err)
	}
	var oids []uint32
	for _, o := range sd.ParamOIDs {
		oids = append(oids, o)
	}
	if fmt.Sprint(oids) != "[20 1700 1082 1114 16 701 25]" {
		t.Errorf("parameter OIDs %v", oids)
	}
	if len(sd.Fields) != 2 || sd.Fields[0].DataTypeOID != 20 || string(sd.Fields[1].Name) != "name" {
		t.Errorf("fields %+v", sd.Fields)
	}
	// A statement without rows describes as NoData and reports its tag.
	tag, err := conn.Exec(ctx, "INSERT INTO p SELECT id + $1, amount, name, day, at, ok, score FROM p", int64(10))
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "INSERT 0 3" {
		t.Errorf("tag %q", tag)
	}
	// A batch: several extended queries in one round trip.
	b := &pgx.Batch{}
	b.Queue("SELECT COUNT(*) FROM p")
	b.Queue("SELECT MAX(id) FROM p WHERE id < $1", int64(12))
	br := conn.SendBatch(ctx, b)
	var n, m int64
	if err := br.QueryRow().Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := br.QueryRow().Scan(&m); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 6 || m != 11 {
		t.Errorf("batch: %d %d", n, m)
	}
}

// TestPortalRowLimit executes a portal a few rows at a time: each
// Execute with a row limit ends in PortalSuspended until the last.
func TestPortalRowLimit(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	pc := conn.PgConn()
	ctx := context.Background()
	if _, err := results(t, conn, "CREATE TABLE v (x BIGINT); INSERT INTO v VALUES (1), (2), (3), (4), (5)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Prepare(ctx, "s", "SELECT x FROM v WHERE x >= $1 ORDER BY x", nil); err != nil {
		t.Fatal(err)
	}
	// pgconn has no API for Execute with a row limit: speak the protocol.
	fe := pc.Frontend()
	fe.SendBind(&pgproto3Bind{DestinationPortal: "p", PreparedStatement: "s", Parameters: [][]byte{[]byte("2")}})
	fe.SendExecute(&pgproto3Execute{Portal: "p", MaxRows: 2})
	fe.SendExecute(&pgproto3Execute{Portal: "p", MaxRows: 2})
	fe.SendExecute(&pgproto3Execute{Portal: "p", MaxRows: 2})
	fe.SendSync(&pgproto3Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3DataRow:
			got = append(got, string(m.Values[0]))
		case *pgproto3PortalSuspended:
			got = append(got, "suspended")
		case *pgproto3CommandComplete:
			got = append(got, string(m.CommandTag))
		case *pgproto3ErrorResponse:
			t.Fatalf("error %s", m.Message)
		}
		if _, ok := msg.(*pgproto3ReadyForQuery); ok {
			break
		}
	}
	if s := strings.Join(got, ","); s != "2,3,suspended,4,5,suspended,SELECT 0" {
		t.Errorf("got %s", s)
	}
}
