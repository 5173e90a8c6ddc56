package pgwire

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestAuthModes(t *testing.T) {
	users := map[string]string{"alice": "s3cret", "bob": "pa:ss"}
	for _, mode := range []AuthMode{AuthPassword, AuthMD5, AuthSCRAM} {
		t.Run(mode.String(), func(t *testing.T) {
			ts := startServer(t, Config{Auth: mode, Users: users})
			// The right password: in, and the session works.
			conn := ts.connectURL(t, ts.url("alice", "s3cret", "disable"))
			var n int64
			if err := conn.QueryRow(context.Background(), "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
				t.Fatalf("%d %v", n, err)
			}
			for _, c := range []struct{ user, pw string }{{"alice", "wrong"}, {"nobody", "s3cret"}, {"alice", ""}} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				cfg, err := pgx.ParseConfig(ts.url(c.user, c.pw, "disable"))
				if err != nil {
					t.Fatal(err)
				}
				cfg.Password = c.pw
				_, err = pgx.ConnectConfig(ctx, cfg)
				cancel()
				if err == nil {
					t.Errorf("%s/%q: connected", c.user, c.pw)
					continue
				}
				pe := pgErr(t, err)
				if pe.Code != "28P01" || pe.Message != `password authentication failed for user "`+c.user+`"` {
					t.Errorf("%s/%q: %s %q", c.user, c.pw, pe.Code, pe.Message)
				}
			}
		})
	}
}

func TestUsersFile(t *testing.T) {
	users := map[string]string{}
	err := readUsers(users, strings.NewReader("# users\nalice:s3cret\n\nbob:pa:ss\n"), "users.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users["alice"] != "s3cret" || users["bob"] != "pa:ss" {
		t.Errorf("users %v", users)
	}
	err = readUsers(map[string]string{}, strings.NewReader("alice:x\nnocolon\n"), "users.txt")
	if err == nil || err.Error() != `users.txt:2: user "nocolon": want name:password` {
		t.Errorf("error %v", err)
	}
}

func TestLoopbackOnlyWithoutAuth(t *testing.T) {
	ts := startServer(t, Config{})
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:5432", "[::]:0"} {
		if _, err := ts.srv.Listen(context.Background(), addr); err == nil || !strings.Contains(err.Error(), "without authentication") {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := ts.srv.Listen(context.Background(), addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		ln.Close()
	}
	if _, err := New(Config{Engine: ts.eng, Auth: AuthSCRAM}); err == nil {
		t.Error("SCRAM without users accepted")
	}
}

func TestTLS(t *testing.T) {
	tc, err := SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{TLS: tc, Auth: AuthSCRAM, Users: map[string]string{"etl": "pw"}})
	cfg, err := pgx.ParseConfig(ts.url("etl", "pw", "require"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = tlsConfigForClient()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("connection is %T, not TLS", conn.PgConn().Conn())
	}
	var s string
	if err := conn.QueryRow(ctx, "SELECT 'over tls'").Scan(&s); err != nil || s != "over tls" {
		t.Errorf("%q %v", s, err)
	}
	// Without TLS configured, SSL is refused and sslmode=require fails
	// while prefer goes on in plain text.
	plain := startServer(t, Config{})
	if _, err := pgx.Connect(ctx, plain.url("etl", "", "require")); err == nil {
		t.Error("sslmode=require connected to a server without TLS")
	}
	c2 := plain.connectURL(t, plain.url("etl", "", "prefer"))
	if _, ok := c2.PgConn().Conn().(*tls.Conn); ok {
		t.Error("TLS without a certificate")
	}
}
