package pgwire

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlc/etlc/exec/session"
)

// testServer is a gateway serving a fresh data directory on 127.0.0.1.
type testServer struct {
	srv  *Server
	eng  *session.Engine
	addr *net.TCPAddr
}

// startServer starts a gateway; cfg's Engine is filled in. The test fails
// when a connection goroutine panicked.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := session.Open(ctx, filepath.Join(t.TempDir(), "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Engine = eng
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if n := srv.Panics(); n != 0 {
			t.Errorf("%d connection goroutines panicked", n)
		}
		eng.Close()
	})
	return &testServer{srv: srv, eng: eng, addr: ln.Addr().(*net.TCPAddr)}
}

// url is a connection string for user and password with sslmode.
func (ts *testServer) url(user, password, sslmode string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/etl?sslmode=%s", user, password, ts.addr.Port, sslmode)
}

// connect opens a pgx connection as user etl without TLS.
func (ts *testServer) connect(t testing.TB) *pgx.Conn {
	t.Helper()
	return ts.connectURL(t, ts.url("etl", "", "disable"))
}

func (ts *testServer) connectURL(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tlsConfigForClient is a client TLS configuration that does not verify
// the self-signed certificate.
func tlsConfigForClient() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true}
}
