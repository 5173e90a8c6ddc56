package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// httpGet returns the status and body of a GET.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitFor returns the first submatch of re in the buffer, waiting up to 20 s.
func waitFor(t *testing.T, buf *lockedBuffer, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no %s in:\n%s", re, buf.String())
	return ""
}

// metricLines returns the lines of a /metrics body that start with prefix.
func metricLines(body, prefix string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestServeMetrics runs `etlc serve --metrics-addr 127.0.0.1:0`, writes
// a sink and runs a pipeline over the wire, and checks the endpoints.
func TestServeMetrics(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeTestFile(t, filepath.Join(dir, "in/orders.csv"), "id,amount\n1,5\n2,-1\n3,7\n")
	var stderr lockedBuffer
	sys := &system{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr,
		lookupEnv: func(string) (string, bool) { return "", false }, isTerminal: func(io.Writer) bool { return false }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--metrics-addr", "127.0.0.1:0"}, sys)
	}()
	maddr := waitFor(t, &stderr, regexp.MustCompile(`metrics_addr=(127\.0\.0\.1:\d+)`))
	addr := waitFor(t, &stderr, regexp.MustCompile(` addr=(127\.0\.0\.1:\d+)`))
	base := "http://" + maddr
	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, body := httpGet(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz %d %q", code, body)
	}
	conn, err := pgx.Connect(ctx, "postgres://etl@"+addr+"/etl?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE SOURCE orders (id BIGINT, amount BIGINT) WITH (connector = 'file', path = '" + dir + "/in/', format = 'csv', header = 'true')",
		"CREATE SINK good (id BIGINT, amount BIGINT) WITH (connector = 'file', path = '" + dir + "/out/', format = 'csv')",
		"CREATE PIPELINE p (CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION DROP ROW) AS INSERT INTO good SELECT * FROM orders",
		"START PIPELINE p",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)
	code, body := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics %d", code)
	}
	equalStrings(t, "sink lines", metricLines(body, "etlc_sink_rows_written_total"), []string{`etlc_sink_rows_written_total{sink="good"} 2`})
	equalStrings(t, "source lines", metricLines(body, "etlc_source_rows_read_total"), []string{`etlc_source_rows_read_total{source="orders"} 3`})
	equalStrings(t, "expectation lines", metricLines(body, "etlc_expectation_rows_total"), []string{
		`etlc_expectation_rows_total{pipeline="p",constraint="positive",action="drop row",outcome="dropped"} 1`,
		`etlc_expectation_rows_total{pipeline="p",constraint="positive",action="drop row",outcome="failed"} 1`,
		`etlc_expectation_rows_total{pipeline="p",constraint="positive",action="drop row",outcome="passed"} 2`,
		`etlc_expectation_rows_total{pipeline="p",constraint="positive",action="drop row",outcome="quarantined"} 0`,
	})
	equalStrings(t, "statement counts", metricLines(body, `etlc_statement_duration_seconds_count{kind="START PIPELINE"`),
		[]string{`etlc_statement_duration_seconds_count{kind="START PIPELINE",status="ok"} 1`})
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the metrics server still answers after serve stopped")
	}
}

// TestRunMetrics runs `etlc run --metrics-addr 127.0.0.1:0 -`: the
// endpoints answer while the script is read from standard input, and stop
// with the run.
func TestRunMetrics(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	sys := &system{stdin: pr, stdout: &bytes.Buffer{}, stderr: &stderr,
		lookupEnv: func(string) (string, bool) { return "", false }, isTerminal: func(io.Writer) bool { return false }}
	exit := make(chan int, 1)
	go func() {
		exit <- run(context.Background(), []string{"run", "--no-progress", "--data-dir", filepath.Join(dir, "data"),
			"--metrics-addr", "127.0.0.1:0", "-"}, sys)
	}()
	maddr := waitFor(t, &stderr, regexp.MustCompile(`metrics on http://(127\.0\.0\.1:\d+)/metrics`))
	base := "http://" + maddr
	if code, body := httpGet(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, body := httpGet(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz %d %q", code, body)
	}
	code, body := httpGet(t, base+"/metrics")
	equalStrings(t, "metrics before the run", metricLines(body, "# TYPE etlc_s"), []string{
		"# TYPE etlc_sink_bytes_written_total counter",
		"# TYPE etlc_sink_commits_total counter",
		"# TYPE etlc_sink_files_written_total counter",
		"# TYPE etlc_sink_rows_written_total counter",
		"# TYPE etlc_source_bad_rows_total counter",
		"# TYPE etlc_source_bytes_read_total counter",
		"# TYPE etlc_source_files_read_total counter",
		"# TYPE etlc_source_rows_read_total counter",
		"# TYPE etlc_statement_duration_seconds summary",
	})
	if code != 200 || len(metricLines(body, "etlc_source_rows_read_total{")) != 0 {
		t.Errorf("/metrics %d:\n%s", code, body)
	}
	io.WriteString(pw, "SELECT 1;\n")
	pw.Close()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not finish")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the metrics server still answers after the run")
	}
}

// writeTestFile writes a file, creating its directory.
func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
