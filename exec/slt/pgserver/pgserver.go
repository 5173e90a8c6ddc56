// Package pgserver starts a throwaway PostgreSQL server for tests: a fresh
// cluster made by initdb in a temporary directory, listening on 127.0.0.1
// at a free port, with fsync off, stopped and removed when the test ends.
//
// The PostgreSQL binaries (initdb, pg_ctl) are looked up on PATH, then in
// /usr/lib/postgresql/<version>/bin (newest first); Debian's package
// postgresql-15 provides them. When they are absent the test is skipped
// with a message, unless the environment variable CI is "true", where their
// absence fails the test: CI must not pass by skipping.
//
// A server whose test process died without stopping it (killed, or ended
// by a test timeout) is stopped and removed by the next Start.
//
// PostgreSQL refuses to run as root. When the test runs as root, the server
// runs as the system user etlc-pg, created with useradd when it is missing
// (a system account without a login shell or home directory), and the
// cluster's directory is handed to that user; initdb and pg_ctl are run
// through runuser. Otherwise the server runs as the current user.
//
// The cluster uses UTF8 encoding, the C collation (text compares and sorts
// by bytes, that is by code point, as etlc does) and the C.UTF-8 character
// classes (upper and lower work on all of Unicode, not only ASCII).
package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ServiceUser is the system user the server runs as when tests run as root.
const ServiceUser = "etlc-pg"

// Server is a running throwaway PostgreSQL server.
type Server struct {
	// Host is the listen address, 127.0.0.1.
	Host string
	// Port is the TCP port.
	Port int
	// User is the superuser name, with trust authentication on loopback.
	User string
	// Dir holds the cluster (Dir/data), the socket and the server log.
	Dir string
	// BinDir is the directory of initdb and pg_ctl.
	BinDir string

	runAs string // user to run binaries as, "" for the current user
}

// DSN returns a connection string for database db ("" means postgres).
func (s *Server) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", s.User, s.Host, s.Port, db)
}

// LogPath is the server's log file.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "server.log") }

// ErrNotInstalled is returned (wrapped) by FindBinDir when no PostgreSQL
// installation is found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found")

// FindBinDir returns the directory holding initdb and pg_ctl: the one of
// initdb on PATH, else the newest /usr/lib/postgresql/<version>/bin.
func FindBinDir() (string, error) { return findBinDir("/usr/lib/postgresql") }

// findBinDir is FindBinDir with the versioned installations under root.
func findBinDir(root string) (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir = filepath.Dir(real)
		}
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob(filepath.Join(root, "*", "bin", "initdb"))
	sort.Slice(matches, func(a, b int) bool { return pgVersionOf(matches[a]) > pgVersionOf(matches[b]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w on PATH or in %s/*/bin (Debian: apt-get install postgresql-15)", ErrNotInstalled, root)
}

// pgVersionOf extracts N from /usr/lib/postgresql/N/bin/initdb.
func pgVersionOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// Start makes and starts a server for t, and registers its stop and removal
// with t.Cleanup. When PostgreSQL is not installed, Start skips t (or fails
// it when CI=true). Other failures are returned, with the server log.
func Start(ctx context.Context, t testing.TB) (*Server, error) {
	t.Helper()
	bin, err := FindBinDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgserver: %v; CI=true, so this is a failure, not a skip", err)
		}
		t.Skipf("pgserver: %v; skipping (set CI=true to make this a failure)", err)
	}
	s, err := start(ctx, bin, nil)
	if s != nil {
		t.Cleanup(func() {
			if err := s.Stop(context.Background()); err != nil {
				t.Errorf("pgserver: %v", err)
			}
		})
	}
	return s, err
}

// dirPrefix starts the name of every server directory in os.TempDir().
const dirPrefix = "etlc-pg-"

// ownerFile, in a server directory, holds the pid of the process that
// started the server.
const ownerFile = "owner.pid"

// StartServer makes and starts a server outside a test (a benchmark
// program, say); the caller stops it with Stop. settings are more
// server settings, each "name=value" as for postgres -c. When PostgreSQL
// is not installed the error wraps ErrNotInstalled.
func StartServer(ctx context.Context, settings ...string) (*Server, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	for _, st := range settings {
		if !strings.Contains(st, "=") || strings.ContainsAny(st, " '\"") {
			return nil, fmt.Errorf("pgserver: setting %q: want name=value without blanks or quotes", st)
		}
	}
	return start(ctx, bin, settings)
}

func start(ctx context.Context, bin string, settings []string) (*Server, error) {
	runAs := ""
	if os.Geteuid() == 0 {
		if err := ensureUser(ctx); err != nil {
			return nil, err
		}
		runAs = ServiceUser
	}
	sweepStale(ctx, bin, runAs)
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgserver: temp dir: %w", err)
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, BinDir: bin, User: "postgres", runAs: runAs}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgserver: %w", err)
	}
	if runAs != "" {
		if err := chownTo(dir, runAs); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run(ctx, "initdb", "-D", data, "-U", s.User, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--lc-ctype=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgserver: initdb: %w\n%s", err, out)
	}
	// A free port can be taken by someone else between the probe and the
	// server's bind; try a few.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.Port = port
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s "+
			"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40 "+
			"-c shared_buffers=128MB", port, dir)
		for _, st := range settings {
			opts += " -c " + st
		}
		out, err := s.run(ctx, "pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", s.LogPath(), "-o", opts)
		if err == nil {
			return s, nil
		}
		log, _ := os.ReadFile(s.LogPath())
		lastErr = fmt.Errorf("pgserver: pg_ctl start: %w\n%s\nserver log:\n%s", err, out, tail(log, 40))
		if !bytes.Contains(log, []byte("could not bind")) && !bytes.Contains(log, []byte("Address already in use")) {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// Stop stops the server (fast shutdown) and removes its directory.
func (s *Server) Stop(ctx context.Context) error {
	data := filepath.Join(s.Dir, "data")
	var stopErr error
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		if out, err := s.run(ctx, "pg_ctl", "stop", "-D", data, "-m", "fast", "-w", "-t", "60"); err != nil {
			stopErr = fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
		}
	}
	if err := os.RemoveAll(s.Dir); err != nil && stopErr == nil {
		stopErr = fmt.Errorf("remove %s: %w", s.Dir, err)
	}
	return stopErr
}

// sweepStale stops and removes the servers of test processes that died
// without cleaning up (killed, or ended by a test timeout, which runs no
// Cleanup). A directory whose owner process is alive is left alone.
func sweepStale(ctx context.Context, bin, runAs string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		s := &Server{Dir: dir, BinDir: bin, runAs: runAs}
		s.Stop(ctx) // best effort: a failure leaves the directory for the next sweep
	}
}

// processAlive reports whether a process with pid exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// run runs a PostgreSQL binary from BinDir, as runAs when set.
func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	path := filepath.Join(s.BinDir, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// pg_ctl start leaves the postmaster running with our pipes open unless
	// its output goes to the log; -l does that, so CombinedOutput returns.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC", "PGTZ=UTC")
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

// ensureUser creates ServiceUser when it does not exist.
func ensureUser(ctx context.Context) error {
	if _, err := user.Lookup(ServiceUser); err == nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, "useradd", "--system", "--no-create-home",
		"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", ServiceUser).CombinedOutput()
	if err != nil {
		// Another test process may have created it meanwhile.
		if _, lerr := user.Lookup(ServiceUser); lerr == nil {
			return nil
		}
		return fmt.Errorf("pgserver: useradd %s: %w\n%s", ServiceUser, err, out)
	}
	return nil
}

// chownTo gives dir to the named user.
func chownTo(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("pgserver: chown %s: %w", dir, err)
	}
	return nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
