package pgserver

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartQueryStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.DSN(""))
	if err != nil {
		t.Fatalf("connect %s: %v", s.DSN(""), err)
	}
	var version, collate, ctype, fsync, upper string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num'), datcollate, datctype,
		current_setting('fsync'), upper('héllo')
		FROM pg_database WHERE datname = current_database()`).Scan(&version, &collate, &ctype, &fsync, &upper); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "1") || len(version) != 6 {
		t.Errorf("server_version_num = %q, want a 6-digit version", version)
	}
	if collate != "C" || ctype != "C.UTF-8" || fsync != "off" || upper != "HÉLLO" {
		t.Errorf("datcollate = %q, datctype = %q, fsync = %q, upper('héllo') = %q; want C, C.UTF-8, off, HÉLLO",
			collate, ctype, fsync, upper)
	}
	var addr string
	if err := conn.QueryRow(ctx, `SELECT host(inet_server_addr())`).Scan(&addr); err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1" {
		t.Errorf("server address = %q, want 127.0.0.1", addr)
	}
	conn.Close(ctx)

	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("after Stop, %s still exists (err %v)", s.Dir, err)
	}
	if _, err := pgx.Connect(ctx, s.DSN("")); err == nil {
		t.Errorf("connect after Stop succeeded")
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Skipf("no PostgreSQL here: %v", err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFindBinDirIn(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no initdb on PATH
	root := t.TempDir()
	if _, err := findBinDir(root); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("empty root: error = %v, want ErrNotInstalled", err)
	}
	touch := func(rel string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	touch("9/bin/initdb")
	touch("9/bin/pg_ctl")
	touch("13/bin/initdb")
	touch("13/bin/pg_ctl")
	touch("16/bin/initdb") // no pg_ctl: not usable
	got, err := findBinDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "13", "bin"); got != want {
		t.Errorf("findBinDir = %s, want %s (the newest complete version)", got, want)
	}
}

func TestPgVersionOf(t *testing.T) {
	if got := pgVersionOf("/usr/lib/postgresql/15/bin/initdb"); got != 15 {
		t.Errorf("pgVersionOf = %d, want 15", got)
	}
	if got := pgVersionOf("/opt/pg/bin/initdb"); got != 0 {
		t.Errorf("pgVersionOf(no version) = %d, want 0", got)
	}
}

func TestSweepStale(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// A process that has ended: its pid is free.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	mk := func(name, owner string) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	stale := mk(dirPrefix+"stale", strconv.Itoa(dead))
	live := mk(dirPrefix+"live", strconv.Itoa(os.Getpid()))
	unowned := mk(dirPrefix+"unowned", "")
	other := mk("something-else", strconv.Itoa(dead))
	sweepStale(context.Background(), t.TempDir(), "")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale server directory survived: %v", err)
	}
	for _, dir := range []string{live, unowned, other} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s was removed: %v", dir, err)
		}
	}
}
