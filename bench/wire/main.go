// Command wire measures etlc serve against a local PostgreSQL 15 over the
// wire: rows per second streaming one large table to pgx in binary and in
// text, and queries per second with the 99th percentile latency for many
// concurrent clients running a short query. Both servers get the same
// table, built by the same SQL, in the same run; PostgreSQL runs from a
// throwaway cluster (initdb, pg_ctl) in a temporary directory, as the
// current user, on 127.0.0.1.
//
// Usage:
//
//	go run ./wire [-rows 10000000] [-clients 64] [-duration 5s] [-rounds 2] [-etlc bin/etlc] [-cpuprofile etlc.pprof]
//
// Without -etlc the gateway runs in this process (so -cpuprofile sees it);
// with it, the given binary is started with `serve`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/pgwire"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-wire:", err)
		os.Exit(1)
	}
}

type config struct {
	rows       int64
	clients    int
	duration   time.Duration
	etlcBin    string
	cpuProfile string
	only       string
	rounds     int
	shortOnly  bool
}

func run() error {
	var cfg config
	flag.Int64Var(&cfg.rows, "rows", 10_000_000, "rows of the streamed table (a multiple of 10000)")
	flag.IntVar(&cfg.clients, "clients", 64, "concurrent clients of the short-query test")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of the short-query test per server")
	flag.StringVar(&cfg.etlcBin, "etlc", "", "etlc binary to run with serve (default: the gateway in this process)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the etlc measurements (in-process gateway) to this file")
	flag.StringVar(&cfg.only, "only", "", "run against one server only: etlc or postgres")
	flag.IntVar(&cfg.rounds, "rounds", 2, "measure this many times, alternating between the servers; the best figure counts")
	flag.BoolVar(&cfg.shortOnly, "short-only", false, "run only the short-query test (the streamed table gets the least -rows, 10000)")
	flag.Parse()
	if cfg.shortOnly {
		cfg.rows = 10000
	}
	if cfg.rows < 10000 || cfg.rows%10000 != 0 {
		return fmt.Errorf("-rows must be a positive multiple of 10000")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bench-wire-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Both servers run side by side and the measurements alternate
	// between them, so that a machine whose load changes during the run
	// (other work on it) weighs on both alike; each figure is the best of
	// -rounds.
	var servers []*target
	if cfg.only == "" || cfg.only == "etlc" {
		url, cpu, stop, err := startEtlc(ctx, cfg, filepath.Join(dir, "etlc"))
		if err != nil {
			return fmt.Errorf("starting etlc: %w", err)
		}
		defer stop()
		servers = append(servers, &target{result: result{server: "etlc"}, url: url, cpu: cpu})
	}
	if cfg.only == "" || cfg.only == "postgres" {
		url, stop, err := startPostgres(ctx, filepath.Join(dir, "pg"))
		if err != nil {
			return fmt.Errorf("starting PostgreSQL: %w", err)
		}
		defer stop()
		servers = append(servers, &target{result: result{server: "postgresql"}, url: url})
	}
	for _, s := range servers {
		if err := s.open(ctx, cfg); err != nil {
			return fmt.Errorf("%s: %w", s.server, err)
		}
		defer s.conn.Close(ctx)
	}
	if cfg.cpuProfile != "" && cfg.etlcBin == "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	for round := 0; round < cfg.rounds && !cfg.shortOnly; round++ {
		for _, format := range []int16{pgx.BinaryFormatCode, pgx.TextFormatCode} {
			for _, s := range servers {
				rate, err := stream(ctx, s.conn, format, cfg.rows)
				if err != nil {
					return fmt.Errorf("%s: %w", s.server, err)
				}
				name := "binary"
				best := &s.binaryRows
				if format == pgx.TextFormatCode {
					name, best = "text", &s.textRows
				}
				*best = max(*best, rate)
				fmt.Fprintf(os.Stderr, "round %d: %s %s %.0f rows/s\n", round+1, s.server, name, rate)
			}
		}
	}
	for round := 0; round < cfg.rounds; round++ {
		for _, s := range servers {
			var cpu0 time.Duration
			if s.cpu != nil {
				cpu0 = s.cpu()
			}
			qps, p50, p99, n, err := shortQueries(ctx, cfg, s.url)
			if err != nil {
				return fmt.Errorf("%s: %w", s.server, err)
			}
			cpuNote := ""
			if s.cpu != nil {
				used := s.cpu() - cpu0
				cpuNote = fmt.Sprintf(", server CPU %.2fs = %.0f µs/query", used.Seconds(), float64(used.Microseconds())/float64(n))
			}
			fmt.Fprintf(os.Stderr, "round %d: %s %.0f queries/s, p50 %s, p99 %s%s\n", round+1, s.server, qps, p50, p99, cpuNote)
			if qps > s.qps {
				s.qps, s.p50, s.p99 = qps, p50, p99
			}
		}
	}
	var results []result
	for _, s := range servers {
		results = append(results, s.result)
	}
	fmt.Printf("\n%d rows (id BIGINT, k INT, v DOUBLE PRECISION, s VARCHAR, d DATE); %d clients for %s\n\n", cfg.rows, cfg.clients, cfg.duration)
	fmt.Printf("%-11s %16s %16s %12s %12s %14s\n", "server", "binary rows/s", "text rows/s", "queries/s", "p50 ms", "p99 ms")
	for _, r := range results {
		fmt.Printf("%-11s %16.0f %16.0f %12.0f %12.3f %14.3f\n", r.server, r.binaryRows, r.textRows, r.qps,
			r.p50.Seconds()*1000, r.p99.Seconds()*1000)
	}
	return nil
}

type result struct {
	server               string
	binaryRows, textRows float64
	qps                  float64
	p50, p99             time.Duration
}

// startEtlc serves a fresh data directory on 127.0.0.1 in this process or
// from a binary.
//
// cpu returns the CPU time (user and system) the server used so far; it
// is nil for the in-process gateway, whose process runs the clients too.
func startEtlc(ctx context.Context, cfg config, dir string) (url string, cpu func() time.Duration, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	url = fmt.Sprintf("postgres://etl@%s/etl?sslmode=disable", addr)
	if cfg.etlcBin != "" {
		cmd := exec.Command(cfg.etlcBin, "serve", "--listen", addr, "--data-dir", dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			return "", nil, nil, err
		}
		stop := func() {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
		if err := waitConnect(ctx, url); err != nil {
			stop()
			return "", nil, nil, err
		}
		return url, func() time.Duration { return procCPU(cmd.Process.Pid) }, stop, nil
	}
	eng, err := session.Open(ctx, dir, session.Config{})
	if err != nil {
		return "", nil, nil, err
	}
	srv, err := pgwire.New(pgwire.Config{Engine: eng, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return "", nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	ln, err := srv.Listen(sctx, addr)
	if err != nil {
		cancel()
		return "", nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	stop = func() {
		tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer tcancel()
		srv.Shutdown(tctx)
		cancel()
		<-done
		eng.Close()
	}
	return url, nil, stop, nil
}

// procCPU returns the user and system CPU time of a process so far, from
// /proc/PID/stat (0 where there is no /proc).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces) in ")".
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	// utime and stime are fields 14 and 15 of the line, in clock ticks
	// (100 a second on Linux).
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// startPostgres makes a cluster in dir with initdb and starts it with
// pg_ctl on a free port of 127.0.0.1. PostgreSQL refuses to run as root:
// then the cluster belongs to the system user etlc-pg (created when
// missing, as the differential tests do) and the programs run through
// runuser.
func startPostgres(ctx context.Context, dir string) (string, func(), error) {
	bin, err := pgBin()
	if err != nil {
		return "", nil, err
	}
	runAs := ""
	if os.Geteuid() == 0 {
		runAs = "etlc-pg"
		if err := exec.Command("id", "-u", runAs).Run(); err != nil {
			if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", runAs).CombinedOutput(); err != nil {
				return "", nil, fmt.Errorf("useradd %s: %v\n%s", runAs, err, out)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if runAs != "" {
		if out, err := exec.Command("chown", "-R", runAs, dir).CombinedOutput(); err != nil {
			return "", nil, fmt.Errorf("chown: %v\n%s", err, out)
		}
		// The temporary directory above must be reachable too.
		os.Chmod(filepath.Dir(dir), 0o755)
	}
	cmd := func(name string, args ...string) *exec.Cmd {
		prog := filepath.Join(bin, name)
		if runAs != "" {
			return exec.Command("runuser", append([]string{"-u", runAs, "--", prog}, args...)...)
		}
		return exec.Command(prog, args...)
	}
	data := filepath.Join(dir, "data")
	if out, err := cmd("initdb", "-D", data, "-U", "bench", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	opts := fmt.Sprintf("-p %d -c unix_socket_directories=%s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB -c max_connections=200", port, dir)
	logf := filepath.Join(dir, "log")
	if out, err := cmd("pg_ctl", "-D", data, "-o", opts, "-l", logf, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logf)
		return "", nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	stop := func() {
		cmd("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run()
	}
	url := fmt.Sprintf("postgres://bench@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := waitConnect(ctx, url); err != nil {
		stop()
		return "", nil, err
	}
	return url, stop, nil
}

// pgBin finds PostgreSQL 15's server programs.
func pgBin() (string, error) {
	if m, _ := filepath.Glob("/usr/lib/postgresql/15/bin/initdb"); len(m) > 0 {
		return filepath.Dir(m[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found: install postgresql-15")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitConnect(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := pgx.Connect(ctx, url)
		if err == nil {
			return c.Close(ctx)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// load builds the tables with the same SQL on both servers: g holds
// 0..9999, t is g crossed with the first rows/10000 rows of g, small is
// the short query's 1000-row table.
func load(ctx context.Context, conn *pgx.Conn, rows int64) error {
	var vals strings.Builder
	vals.WriteString("INSERT INTO g VALUES (0)")
	for i := 1; i < 10000; i++ {
		fmt.Fprintf(&vals, ",(%d)", i)
	}
	stmts := []string{
		"CREATE TABLE g (x BIGINT)",
		vals.String(),
		"CREATE TABLE t (id BIGINT, k INT, v DOUBLE PRECISION, s VARCHAR, d DATE)",
		fmt.Sprintf(`INSERT INTO t SELECT a.x * 10000 + b.x, CAST(b.x %% 1000 AS INT), CAST(a.x AS DOUBLE PRECISION) / 3,
			'name-' || CAST(b.x AS VARCHAR), CAST('2024-01-01' AS DATE) + CAST(b.x %% 365 AS INT) FROM g a, g b WHERE a.x < %d`, rows/10000),
		"CREATE TABLE small (id BIGINT, s VARCHAR)",
		"INSERT INTO small SELECT x, 'item-' || CAST(x AS VARCHAR) FROM g WHERE x < 1000",
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("%.60s...: %w", s, err)
		}
	}
	return nil
}

// target is one server under test.
type target struct {
	result
	url  string
	conn *pgx.Conn
	// cpu, when set, returns the server's CPU time so far.
	cpu func() time.Duration
}

// open connects to the server, loads the tables and streams the table
// once (file caches, plan caches).
func (s *target) open(ctx context.Context, cfg config) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	s.conn = conn
	t0 := time.Now()
	if err := load(ctx, conn, cfg.rows); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: loaded %d rows in %s\n", s.server, cfg.rows, time.Since(t0).Round(time.Millisecond))
	_, err = stream(ctx, conn, pgx.BinaryFormatCode, cfg.rows)
	return err
}

// stream reads every row of t in the given result format without
// decoding the values, and returns rows per second.
func stream(ctx context.Context, conn *pgx.Conn, format int16, want int64) (float64, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, "SELECT id, k, v, s, d FROM t", pgx.QueryResultFormats{format, format, format, format, format})
	if err != nil {
		return 0, err
	}
	var n int64
	var bytes int
	for rows.Next() {
		for _, v := range rows.RawValues() {
			bytes += len(v)
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n != want {
		return 0, fmt.Errorf("streamed %d rows, want %d", n, want)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// shortQueries runs a point query over a 1000-row table from many clients
// for the configured time and returns queries per second and latencies.
// It also returns the number of queries run.
func shortQueries(ctx context.Context, cfg config, url string) (float64, time.Duration, time.Duration, int, error) {
	conns := make([]*pgx.Conn, cfg.clients)
	for i := range conns {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, 0, 0, 0, err
		}
		defer c.Close(ctx)
		conns[i] = c
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lats []time.Duration
		ferr error
	)
	start := time.Now()
	end := start.Add(cfg.duration)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for k := 0; time.Now().Before(end); k++ {
				id := int64((i*7919 + k*31) % 1000)
				t := time.Now()
				var s string
				if err := c.QueryRow(ctx, "SELECT s FROM small WHERE id = $1", id).Scan(&s); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ferr != nil {
		return 0, 0, 0, 0, ferr
	}
	if len(lats) == 0 {
		return 0, 0, 0, 0, errors.New("no query finished")
	}
	slices.Sort(lats)
	return float64(len(lats)) / elapsed.Seconds(), lats[len(lats)/2], lats[len(lats)*99/100], len(lats), nil
}
