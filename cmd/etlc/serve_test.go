package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockedBuffer is a bytes.Buffer safe for the server's logger and the
// test reading it at the same time.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServe runs `etlc serve` in-process, queries it with pgx (SCRAM
// over the self-signed TLS) and stops it as SIGINT would, by cancelling
// its context.
func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var stderr lockedBuffer
	sys := &system{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr,
		lookupEnv: func(string) (string, bool) { return "", false }, isTerminal: func(io.Writer) bool { return false }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--auth", "scram",
			"--user", "etl:secret", "--tls-self-signed"}, sys)
	}()
	re := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("the server did not report its address:\n%s", stderr.String())
	}
	conn, err := pgx.Connect(ctx, "postgres://etl:secret@"+addr+"/etl?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT 6 * 7").Scan(&n); err != nil || n != 42 {
		t.Errorf("%d %v", n, err)
	}
	conn.Close(ctx)
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "etlc serve: stopped") {
		t.Errorf("log:\n%s", stderr.String())
	}
}

func TestServeRefusesOpenTrust(t *testing.T) {
	code, _, stderr := runETLC(t, []string{"serve", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir()}, "", nil, false)
	if code != exitUsage || !strings.Contains(stderr, "refusing to listen on 0.0.0.0:0 without authentication") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, _, stderr = runETLC(t, []string{"serve", "--auth", "scram", "--data-dir", t.TempDir()}, "", nil, false)
	if code != exitUsage || !strings.Contains(stderr, "needs at least one user") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, _, stderr = runETLC(t, []string{"serve", "--auth", "kerberos"}, "", nil, false)
	if code != exitUsage || !strings.Contains(stderr, `unknown authentication mode "kerberos"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
