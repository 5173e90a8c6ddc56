package pgwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jackc/pgx/v5"
)

// TestCopyBinaryTimeTypes loads TIMESTAMPTZ, TIME and REAL through a
// binary COPY (pgx CopyFrom) and reads them back.
func TestCopyBinaryTimeTypes(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE z (tz TIMESTAMPTZ, tm TIME, f REAL)"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"z"}, []string{"tz", "tm", "f"}, pgx.CopyFromRows([][]any{{at, "01:02:03.5", float32(1.5)}, {at.Add(-24 * time.Hour), "23:59:59", float32(0.1)}}))
	if err != nil {
		t.Fatal(err)
	}
	want := "2024-02-29 13:14:15.123456+00\t01:02:03.5\t1.5\n2024-02-28 13:14:15.123456+00\t23:59:59\t0.1\n"
	if got := queryText(t, conn, "SELECT * FROM z ORDER BY tz DESC"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCopySourceAndSink copies a file source's rows out, and rows into a
// sink, whose committed output the source-like scan reads back.
func TestCopySourceAndSink(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte("id,name\n1,Ada\n2,Alan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE SOURCE people (id BIGINT, name VARCHAR) WITH (connector = 'file', path = '%s/people.csv', format = 'csv', header = 'true');
CREATE SINK copies (id BIGINT, name VARCHAR) WITH (connector = 'file', path = '%s', format = 'csv')`, dir, out)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &b, "COPY people TO STDOUT (FORMAT csv, HEADER)"); err != nil {
		t.Fatal(err)
	}
	if want := "id,name\n1,Ada\n2,Alan\n"; b.String() != want {
		t.Errorf("source: %q, want %q", b.String(), want)
	}
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("3\tGrace\n"), "COPY copies FROM STDIN")
	if err != nil || tag.String() != "COPY 1" {
		t.Fatalf("into a sink: %q %v", tag, err)
	}
	if got := queryText(t, conn, "SELECT * FROM copies"); got != "3\tGrace\n" {
		t.Errorf("sink read back: %q", got)
	}
	var pe *pgconn.PgError
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("4\tx\n"), "COPY people FROM STDIN"); !errors.As(err, &pe) || pe.Code != "42809" {
		t.Errorf("into a source: %v", err)
	}
}
