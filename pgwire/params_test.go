package pgwire

import (
	"context"
	"fmt"
	"testing"
)

// TestParameterDescription checks the parameter types Describe reports,
// which drivers use to encode the values they bind.
func TestParameterDescription(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id INT, amount DECIMAL(12,2), name VARCHAR, day DATE, at TIMESTAMP)"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"INSERT INTO t VALUES ($1, $2, $3, $4, $5)":         "[23 1700 25 1082 1114]",
		"SELECT amount + $1, id * $2 FROM t":                "[1700 23]",
		"SELECT id FROM t WHERE at < $1 AND name = $2":      "[1114 25]",
		"SELECT id FROM t WHERE id = $1 OR amount > $2 + 1": "[23 20]",
	} {
		sd, err := conn.Prepare(ctx, "", q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if got := fmt.Sprint(sd.ParamOIDs); got != want {
			t.Errorf("%s: parameter OIDs %s, want %s", q, got, want)
		}
	}
	// pgx encodes by those types: values of the column types round-trip.
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1, $2, $3, $4, $5)", 7, "12.50", "seven", "2024-05-06", "2024-05-06 07:08:09"); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := conn.QueryRow(ctx, "SELECT name FROM t WHERE id = $1 AND amount + $2 = 13.50", 7, "1.00").Scan(&s); err != nil || s != "seven" {
		t.Errorf("round trip: %q %v", s, err)
	}
}
