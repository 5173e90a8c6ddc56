package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// servedGateway is `etlc serve` running in-process on 127.0.0.1.
type servedGateway struct {
	addr   string
	stderr *lockedBuffer
	cancel context.CancelFunc
	exit   chan int
}

// startGateway runs `etlc serve` over dataDir on a loopback port, with
// more flags (default: trust authentication), and waits until it listens.
func startGateway(t *testing.T, dataDir string, flags ...string) *servedGateway {
	t.Helper()
	g := &servedGateway{stderr: &lockedBuffer{}, exit: make(chan int, 1)}
	sys := &system{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: g.stderr,
		lookupEnv: func(string) (string, bool) { return "", false }, isTerminal: func(io.Writer) bool { return false }}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, flags...)
	go func() { g.exit <- run(ctx, args, sys) }()
	re := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(20 * time.Second); g.addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(g.stderr.String()); m != nil {
			g.addr = m[1]
		}
	}
	if g.addr == "" {
		cancel()
		t.Fatalf("the server did not report its address:\n%s", g.stderr.String())
	}
	return g
}

// stop stops the server as SIGTERM does and checks it exits 0.
func (g *servedGateway) stop(t *testing.T) {
	t.Helper()
	g.cancel()
	select {
	case code := <-g.exit:
		if code != exitOK {
			t.Fatalf("serve exit %d:\n%s", code, g.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func (g *servedGateway) connect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), "postgres://etl@"+g.addr+"/etl?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// pipelineRow is a row of etl.pipelines.
type pipelineRow struct {
	state          string
	rowsIn, out    int64
	lastCheckpoint bool
	err            string
}

func readPipeline(t *testing.T, conn *pgx.Conn, name string) (pipelineRow, bool) {
	t.Helper()
	var r pipelineRow
	var e *string
	err := conn.QueryRow(context.Background(),
		"SELECT state, rows_in, rows_out, last_checkpoint IS NOT NULL AND checkpoint_age_ms >= 0, error FROM etl.pipelines WHERE name = $1", name).
		Scan(&r.state, &r.rowsIn, &r.out, &r.lastCheckpoint, &e)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if e != nil {
		r.err = *e
	}
	return r, true
}

// waitRowsOut polls etl.pipelines until the pipeline has committed want
// rows to its sink.
func waitRowsOut(t *testing.T, conn *pgx.Conn, name string, want int64) pipelineRow {
	t.Helper()
	var r pipelineRow
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r, _ = readPipeline(t, conn, name)
		if r.err != "" {
			t.Fatalf("pipeline %s failed: %s", name, r.err)
		}
		if r.out >= want {
			if r.out > want {
				t.Fatalf("pipeline %s: rows_out %d, want %d", name, r.out, want)
			}
			return r
		}
	}
	t.Fatalf("pipeline %s: rows_out %d after 30s, want %d (%+v)", name, r.out, want, r)
	return r
}

// dropFile writes a JSON file of events with ids from..to-1 into the
// stream's directory (written aside, then renamed into place); ids that
// are multiples of 5 have a negative amount.
func dropFile(t *testing.T, dir, name string, from, to int) {
	t.Helper()
	var sb strings.Builder
	for i := from; i < to; i++ {
		amount := i * 10
		if i%5 == 0 {
			amount = -i
		}
		fmt.Fprintf(&sb, "{\"id\":%d,\"amount\":%d}\n", i, amount)
	}
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// wantSink is the sink's rows for events 1..n-1: the positive ones, as
// id,amount, sorted as sinkRows sorts.
func wantSink(n int) []string {
	var out []string
	for i := 1; i < n; i++ {
		if i%5 != 0 {
			out = append(out, fmt.Sprintf("%d,%d", i, i*10))
		}
	}
	slices.Sort(out)
	return out
}

// wantQuarantine is the quarantine's rows for events 1..n-1.
func wantQuarantine(n int) []string {
	var out []string
	for i := 5; i < n; i += 5 {
		out = append(out, fmt.Sprintf("positive|%d|%d", i, -i))
	}
	return out
}

func quarantineRows(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT constraint_name, id, amount FROM p__quarantine ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		var id, amount int64
		if err := rows.Scan(&c, &id, &amount); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s|%d|%d", c, id, amount))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func expectationCounts(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var passed, dropped, failed, quarantined int64
	err := conn.QueryRow(context.Background(),
		"SELECT passed, dropped, failed, quarantined FROM etl.expectations WHERE pipeline = 'p' AND constraint_name = 'positive'").
		Scan(&passed, &dropped, &failed, &quarantined)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("passed %d, dropped %d, failed %d, quarantined %d", passed, dropped, failed, quarantined)
}

// TestServePipelines runs a streaming pipeline in the background of
// `etlc serve`: START, files dropped in while it runs, STOP (a last
// checkpoint), files added while stopped, START again (resuming from the
// checkpoint), a server restart (the pipeline runs again), DROP PIPELINE.
// The sink and the quarantine hold every row exactly once at each step.
func TestServePipelines(t *testing.T) {
	dir := t.TempDir()
	in, out, dataDir := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "data")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, dataDir)
	conn := g.connect(t)
	mustExec(t, conn, fmt.Sprintf(`CREATE STREAM ev (id BIGINT, amount BIGINT)
  WITH (connector = 'file', path = '%s/', format = 'json')`, in))
	mustExec(t, conn, fmt.Sprintf(`CREATE SINK out (id BIGINT, amount BIGINT)
  WITH (path = '%s/', format = 'csv', header = 'false')`, out))
	mustExec(t, conn, `CREATE PIPELINE p
  ( CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION QUARANTINE )
  WITH (checkpoint_interval = '100ms')
  AS INSERT INTO out SELECT id, amount FROM STREAM ev`)
	if r, _ := readPipeline(t, conn, "p"); r.state != "created" {
		t.Errorf("before START: %+v", r)
	}

	mustExec(t, conn, "START PIPELINE p")
	dropFile(t, in, "a.json", 1, 11)
	dropFile(t, in, "b.json", 11, 21)
	r := waitRowsOut(t, conn, "p", 16)
	if r.state != "running" || r.rowsIn != 20 || !r.lastCheckpoint {
		t.Errorf("running: %+v", r)
	}
	// START of a running pipeline: object_in_use.
	_, err := conn.Exec(context.Background(), "START PIPELINE p")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "55006" || pe.Message != `pipeline "p" is already running` {
		t.Errorf("START of a running pipeline: %v", err)
	}
	// Another session sees the same figures.
	other := g.connect(t)
	if r2, _ := readPipeline(t, other, "p"); r2.out != 16 || r2.state != "running" {
		t.Errorf("other session: %+v", r2)
	}

	mustExec(t, conn, "STOP PIPELINE p")
	if r, _ := readPipeline(t, conn, "p"); r.state != "stopped" || r.rowsIn != 20 || r.out != 16 {
		t.Errorf("stopped: %+v", r)
	}
	compareRows(t, "after STOP", sinkRows(t, out), wantSink(21))
	if got, want := quarantineRows(t, conn), wantQuarantine(21); !slices.Equal(got, want) {
		t.Errorf("quarantine after STOP:\n%v\nwant\n%v", got, want)
	}
	if got := expectationCounts(t, conn); got != "passed 16, dropped 0, failed 4, quarantined 4" {
		t.Errorf("expectations after STOP: %s", got)
	}
	mustExec(t, conn, "STOP PIPELINE p") // stopping a stopped pipeline does nothing

	// Files added while stopped are read after START, from the checkpoint.
	dropFile(t, in, "c.json", 21, 31)
	time.Sleep(300 * time.Millisecond)
	compareRows(t, "while stopped", sinkRows(t, out), wantSink(21))
	mustExec(t, conn, "START PIPELINE p")
	waitRowsOut(t, conn, "p", 24)
	dropFile(t, in, "d.json", 31, 41)
	waitRowsOut(t, conn, "p", 32)
	compareRows(t, "after the second START", sinkRows(t, out), wantSink(41))

	// A restart: the pipeline was running, so it runs again, from its
	// last checkpoint (taken when the server stopped).
	g.stop(t)
	if !strings.Contains(g.stderr.String(), "etlc serve: pipelines stopped") {
		t.Errorf("log of the first server:\n%s", g.stderr.String())
	}
	compareRows(t, "after the server stopped", sinkRows(t, out), wantSink(41))
	dropFile(t, in, "e.json", 41, 51)
	g = startGateway(t, dataDir)
	conn = g.connect(t)
	r = waitRowsOut(t, conn, "p", 40)
	if r.state != "running" || r.rowsIn != 50 {
		t.Errorf("after the restart: %+v", r)
	}
	if !strings.Contains(g.stderr.String(), "pipelines resumed") {
		t.Errorf("log of the second server:\n%s", g.stderr.String())
	}
	compareRows(t, "after the restart", sinkRows(t, out), wantSink(51))
	if got, want := quarantineRows(t, conn), wantQuarantine(51); !slices.Equal(got, want) {
		t.Errorf("quarantine after the restart:\n%v\nwant\n%v", got, want)
	}
	if got := expectationCounts(t, conn); got != "passed 40, dropped 0, failed 10, quarantined 10" {
		t.Errorf("expectations after the restart: %s", got)
	}

	// DROP PIPELINE stops it and removes its state.
	mustExec(t, conn, "DROP PIPELINE p")
	if r, ok := readPipeline(t, conn, "p"); ok {
		t.Errorf("after DROP: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "pipelines", "p")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state of the dropped pipeline is still there: %v", err)
	}
	dropFile(t, in, "f.json", 51, 61)
	time.Sleep(300 * time.Millisecond)
	compareRows(t, "after DROP", sinkRows(t, out), wantSink(51))
	g.stop(t)
	if strings.Contains(g.stderr.String(), "pipelines stopped") {
		t.Errorf("a dropped pipeline was stopped at shutdown:\n%s", g.stderr.String())
	}
	// The next server has nothing to resume.
	g = startGateway(t, dataDir)
	if strings.Contains(g.stderr.String(), "pipelines resumed") {
		t.Errorf("a dropped pipeline was resumed:\n%s", g.stderr.String())
	}
	g.stop(t)
}
