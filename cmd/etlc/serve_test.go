package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
	g := startGateway(t, filepath.Join(t.TempDir(), "data"), "--auth", "scram", "--user", "etl:secret", "--tls-self-signed")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://etl:secret@"+g.addr+"/etl?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT 6 * 7").Scan(&n); err != nil || n != 42 {
		t.Errorf("%d %v", n, err)
	}
	conn.Close(ctx)
	g.stop(t)
	if !strings.Contains(g.stderr.String(), "etlc serve: stopped") {
		t.Errorf("log:\n%s", g.stderr.String())
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
