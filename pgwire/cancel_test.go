package pgwire

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// genTable creates table g with n rows (x BIGINT).
func genTable(t *testing.T, ts *testServer, n int) {
	t.Helper()
	conn := ts.connect(t)
	var vals []string
	for i := range n {
		vals = append(vals, fmt.Sprintf("(%d)", i))
	}
	if _, err := results(t, conn, "CREATE TABLE g (x BIGINT); INSERT INTO g VALUES "+strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	genTable(t, ts, 2000)
	conn := ts.connect(t)
	ctx := context.Background()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		var n int64
		// 8 billion rows: far longer than the test waits.
		done <- conn.QueryRow(ctx, "SELECT COUNT(*) FROM g a, g b, g c WHERE a.x + b.x + c.x >= 0").Scan(&n)
	}()
	time.Sleep(300 * time.Millisecond)
	if err := conn.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the query did not stop within 20s of the CancelRequest")
	}
	pe := pgErr(t, err)
	if pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
		t.Errorf("got %s %q", pe.Code, pe.Message)
	}
	t.Logf("cancelled after %v", time.Since(start))
	// The session goes on.
	var one int64
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("after cancel: %d %v", one, err)
	}
	// A CancelRequest with a wrong key cancels nothing (and is harmless).
	ts.srv.cancel(conn.PgConn().PID(), []byte{0, 0, 0, 0})
}

// TestConcurrentSessions runs 64 sessions at once, each creating,
// filling and querying its own table and querying a shared one.
func TestConcurrentSessions(t *testing.T) {
	ts := startServer(t, Config{})
	genTable(t, ts, 100)
	const sessions = 64
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		conn := ts.connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			name := fmt.Sprintf("s%d", i)
			if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (id BIGINT, v VARCHAR)", name)); err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
				return
			}
			if _, err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT x, 'v' FROM g WHERE x < $1", name), int64(i)); err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
				return
			}
			for range 5 {
				var n, sum int64
				if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT COUNT(*), COALESCE(SUM(id), 0) FROM %s", name)).Scan(&n, &sum); err != nil {
					errs <- fmt.Errorf("session %d: %w", i, err)
					return
				}
				if n != int64(i) || sum != int64(i*(i-1)/2) {
					errs <- fmt.Errorf("session %d: count %d sum %d", i, n, sum)
					return
				}
				var total int64
				if err := conn.QueryRow(ctx, "SELECT SUM(x) FROM g").Scan(&total); err != nil || total != 4950 {
					errs <- fmt.Errorf("session %d: shared sum %d %v", i, total, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestStatementTimeout(t *testing.T) {
	ts := startServer(t, Config{})
	genTable(t, ts, 2000)
	cfg, err := pgx.ParseConfig(ts.url("etl", "", "disable"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["options"] = `-c statement_timeout=300 --application-name=with\ space`
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if v := conn.PgConn().ParameterStatus("application_name"); v != "with space" {
		t.Errorf("application_name from options: %q", v)
	}
	start := time.Now()
	var n int64
	err = conn.QueryRow(ctx, "SELECT COUNT(*) FROM g a, g b, g c WHERE a.x + b.x + c.x >= 0").Scan(&n)
	pe := pgErr(t, err)
	if pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
		t.Errorf("got %s %q", pe.Code, pe.Message)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	// SET changes it; 0 turns it off.
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM g a, g b WHERE a.x < 10").Scan(&n); err != nil || n != 20000 {
		t.Errorf("without a timeout: %d %v", n, err)
	}
}

func TestParseOptions(t *testing.T) {
	got := parseOptions(`-c search_path=etl  -cDateStyle=ISO --statement-timeout=5s -c a\ b=c\ d junk`)
	want := map[string]string{"search_path": "etl", "datestyle": "ISO", "statement_timeout": "5s", "a b": "c d"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v want %v", got, want)
	}
}
