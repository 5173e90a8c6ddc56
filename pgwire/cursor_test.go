package pgwire

import (
	"strings"
	"testing"
)

func TestCursorStatements(t *testing.T) {
	ts := startServer(t, Config{})
	genTable(t, ts, 10)
	conn := ts.connect(t)
	for _, c := range []struct{ q, want string }{
		{"BEGIN", "BEGIN\n"},
		{`DECLARE "C1" NO SCROLL CURSOR WITHOUT HOLD FOR SELECT x FROM g ORDER BY x`, "DECLARE CURSOR\n"},
		{`FETCH 2 FROM "C1"`, "x\n0\n1\nFETCH 2\n"},
		{`MOVE FORWARD 5 IN "C1"`, "MOVE 5\n"},
		{`FETCH NEXT FROM "C1"`, "x\n7\nFETCH 1\n"},
		{`FETCH ALL "C1"`, "x\n8\n9\nFETCH 2\n"},
		{`FETCH "C1"`, "FETCH 0\n"},
		{"DECLARE keep CURSOR WITH HOLD FOR SELECT COUNT(*) AS n FROM g", "DECLARE CURSOR\n"},
		{"COMMIT", "COMMIT\n"},
		{"FETCH FORWARD ALL FROM keep", "n\n10\nFETCH 1\n"},
		{"CLOSE keep", "CLOSE CURSOR\n"},
	} {
		got, err := results(t, conn, c.q)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.q, got, err, c.want)
		}
	}
	// The block's cursor closed at COMMIT; the held one by CLOSE.
	for _, q := range []string{`FETCH 1 FROM "C1"`, "CLOSE keep"} {
		if _, err := results(t, conn, q); err == nil || !strings.Contains(err.Error(), "SQLSTATE 34000") {
			t.Errorf("%s: %v, want 34000", q, err)
		}
	}
	if _, err := results(t, conn, "DECLARE bad CURSOR FOR SELECT nope FROM g"); err == nil || !strings.Contains(err.Error(), "42703") {
		t.Errorf("bad query: %v", err)
	}
}
