package pgwire

import (
	"context"
	"testing"
)

func TestSimpleSelect(t *testing.T) {
	ts := startServer(t, Config{})
	conn := ts.connect(t)
	var n int64
	var s string
	if err := conn.QueryRow(context.Background(), "SELECT 1 + 2, 'abc'").Scan(&n, &s); err != nil {
		t.Fatal(err)
	}
	if n != 3 || s != "abc" {
		t.Fatalf("got %d %q", n, s)
	}
}
