package pgwire

import (
	"context"
	"testing"
	"time"

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
