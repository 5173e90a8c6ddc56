// Command tpchbench times the 22 TPC-H queries on etlc, DuckDB and
// PostgreSQL over the same generated data, on the same machine, with the
// same number of threads, and reports the ratios.
//
// Usage (from the bench directory; `make bench` at the top runs it):
//
//	go run ./cmd/tpchbench [-sf 1] [-threads N] [-runs 3] [-timeout 5m] [-queries 1,6] [-engines etlc,duckdb,postgres] [-out results]
//
// The data is ${ETLC_CACHE:-$HOME/.cache/etlc}/tpch/sf<N>, made by
// cmd/tpchgen with -format both: etlc and DuckDB read the Parquet files,
// PostgreSQL loads the .tbl files with COPY. Each query runs once to warm
// up, then -runs times; the best time counts. A query that passes -timeout
// is reported as a timeout and not run again on that engine.
//
// etlc runs each query in a child process (this program started again with
// -child), through exec/session as `etlc run` does, so that the child's
// peak resident set size (getrusage of the child) is that query's. DuckDB
// runs in this process (github.com/duckdb/duckdb-go/v2, SET threads).
// PostgreSQL 15 is a throwaway server made with initdb in a temporary
// directory, listening on 127.0.0.1, with the TPC-H primary keys, ANALYZEd,
// and max_parallel_workers_per_gather set to threads-1 (the leader works
// too).
//
// The table goes to standard output; <out>/tpch-sf<N>.csv and
// <out>/tpch-sf<N>.png (a bar chart of the ratios) are written.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	sf      int
	threads int
	runs    int
	timeout time.Duration
	queries []int
	engines map[string]bool
	out     string
	data    string
	repo    string
	child   int
	// cpuprofile is where the etlc child writes a CPU profile of its
	// timed runs (empty: none); with several queries, q<N> is appended.
	cpuprofile string
}

func main() {
	var o options
	var queries, engines string
	flag.IntVar(&o.sf, "sf", 1, "TPC-H scale factor (data made by cmd/tpchgen)")
	flag.IntVar(&o.threads, "threads", runtime.NumCPU(), "threads every engine may use")
	flag.IntVar(&o.runs, "runs", 3, "timed runs per query after the warm-up (the best counts)")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "time limit of one query run")
	flag.StringVar(&queries, "queries", "", "query numbers to run, e.g. 1,6,17 (default all 22)")
	flag.StringVar(&engines, "engines", "etlc,duckdb,postgres", "engines to run")
	flag.StringVar(&o.out, "out", "results", "directory for the CSV and the chart")
	flag.StringVar(&o.data, "data", "", "data directory (default ${ETLC_CACHE:-$HOME/.cache/etlc}/tpch/sf<N>)")
	flag.StringVar(&o.repo, "repo", "..", "the etlc repository (for testdata/tpch/queries)")
	flag.IntVar(&o.child, "child", 0, "internal: run this query on etlc and print the times as JSON")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of etlc's timed runs to this file (.qN appended per query)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if o.queries, err = parseQueries(queries); err != nil {
		fail(err)
	}
	o.engines = map[string]bool{}
	for _, e := range strings.Split(engines, ",") {
		switch e = strings.TrimSpace(e); e {
		case "etlc", "duckdb", "postgres":
			o.engines[e] = true
		default:
			fail(fmt.Errorf("-engines: unknown engine %q (want etlc, duckdb, postgres)", e))
		}
	}
	if o.data == "" {
		o.data = filepath.Join(cacheDir(), "tpch", fmt.Sprintf("sf%d", o.sf))
	}
	if o.child > 0 {
		err = childMain(ctx, o, os.Stdout)
	} else {
		err = run(ctx, o, os.Stdout)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tpchbench:", err)
	os.Exit(1)
}

// cacheDir is ${ETLC_CACHE:-$HOME/.cache/etlc}.
func cacheDir() string {
	if d := os.Getenv("ETLC_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cache/etlc"
	}
	return filepath.Join(home, ".cache", "etlc")
}

// parseQueries reads "1,6,17"; empty means 1..22.
func parseQueries(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		qs := make([]int, 22)
		for i := range qs {
			qs[i] = i + 1
		}
		return qs, nil
	}
	var qs []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 22 {
			return nil, fmt.Errorf("-queries %q: want numbers 1..22 separated by commas", s)
		}
		qs = append(qs, n)
	}
	return qs, nil
}

// queryText reads query q of testdata/tpch/queries.
func queryText(repo string, q int) (string, error) {
	b, err := os.ReadFile(filepath.Join(repo, "testdata", "tpch", "queries", fmt.Sprintf("q%02d.sql", q)))
	return string(b), err
}

// timing is one engine's measurement of one query.
type timing struct {
	// Best is the fastest timed run (zero when none completed).
	Best time.Duration `json:"best_ns"`
	// Timeout is set when a run passed the time limit.
	Timeout bool `json:"timeout"`
	// Err is the error of a failed run.
	Err string `json:"error,omitempty"`
	// RSS is the peak resident set size in bytes (etlc only).
	RSS int64 `json:"rss"`
	// CPU is the least processor time (user + system, every thread of the
	// process) of a timed run; meaningful for the in-process engines (etlc
	// in its child, DuckDB), not for PostgreSQL, which works in its server.
	CPU time.Duration `json:"cpu_ns"`
}

// ok reports whether the query completed.
func (t timing) ok() bool { return !t.Timeout && t.Err == "" && t.Best > 0 }

// runner runs one query once.
type runner func(ctx context.Context, q int, text string) error

// measure runs a warm-up and then runs timed runs of q, each under
// timeout, and keeps the best.
func measure(ctx context.Context, run runner, q int, text string, runs int, timeout time.Duration) timing {
	var t timing
	for i := 0; i <= runs; i++ {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		cpu0 := cpuTime()
		start := time.Now()
		err := run(qctx, q, text)
		d := time.Since(start)
		cpu := cpuTime() - cpu0
		timedOut := qctx.Err() == context.DeadlineExceeded || d >= timeout
		cancel()
		if timedOut {
			t.Timeout = true
			return t
		}
		if err != nil {
			t.Err = err.Error()
			return t
		}
		if i > 0 && (t.Best == 0 || d < t.Best) {
			t.Best = d
		}
		if i > 0 && (t.CPU == 0 || cpu < t.CPU) {
			t.CPU = cpu
		}
	}
	return t
}

// run is the parent: it checks the data, runs every engine and reports.
func run(ctx context.Context, o options, w io.Writer) error {
	for _, sub := range []string{"parquet", "tbl"} {
		if _, err := os.Stat(filepath.Join(o.data, sub, "_COMPLETE")); err != nil {
			return fmt.Errorf("no complete TPC-H data in %s (make it with: go run ./cmd/tpchgen -sf %d -format both): %w",
				filepath.Join(o.data, sub), o.sf, err)
		}
	}
	texts := map[int]string{}
	for _, q := range o.queries {
		t, err := queryText(o.repo, q)
		if err != nil {
			return err
		}
		texts[q] = t
	}
	res := &results{sf: o.sf, threads: o.threads, queries: o.queries,
		etlc: map[int]timing{}, duck: map[int]timing{}, pg: map[int]timing{}}
	fmt.Fprintf(w, "TPC-H SF%d, %d threads, best of %d after a warm-up, timeout %s per run\n", o.sf, o.threads, o.runs, o.timeout)
	if o.engines["etlc"] {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		for _, q := range o.queries {
			t := runChild(ctx, self, o, q)
			res.etlc[q] = t
			fmt.Fprintf(w, "  etlc     q%02d %s\n", q, t)
		}
	}
	if o.engines["duckdb"] {
		d, err := openDuck(ctx, filepath.Join(o.data, "parquet"), o.threads)
		if err != nil {
			return fmt.Errorf("duckdb: %w", err)
		}
		for _, q := range o.queries {
			t := measure(ctx, d.run, q, texts[q], o.runs, o.timeout)
			res.duck[q] = t
			fmt.Fprintf(w, "  duckdb   q%02d %s\n", q, t)
		}
		d.close()
	}
	if o.engines["postgres"] {
		p, err := openPostgres(ctx, filepath.Join(o.data, "tbl"), o.threads, o.timeout, w)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		for _, q := range o.queries {
			t := measure(ctx, p.run, q, texts[q], o.runs, o.timeout)
			res.pg[q] = t
			fmt.Fprintf(w, "  postgres q%02d %s\n", q, t)
		}
		if err := p.close(ctx); err != nil {
			fmt.Fprintf(w, "postgres: stopping the server: %v\n", err)
		}
	}
	fmt.Fprintln(w)
	res.table(w)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	base := filepath.Join(o.out, fmt.Sprintf("tpch-sf%d", o.sf))
	if err := writeFile(base+".csv", res.csv); err != nil {
		return err
	}
	if err := writeFile(base+".png", res.chart); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwrote %s.csv and %s.png\n", base, base)
	return nil
}

// writeFile writes path through fn, atomically.
func writeFile(path string, fn func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// String renders a timing for the progress lines.
func (t timing) String() string {
	switch {
	case t.Timeout:
		return "timeout"
	case t.Err != "":
		return "error: " + t.Err
	}
	s := fmt.Sprintf("%8.3fs", t.Best.Seconds())
	if t.CPU > 0 {
		s += fmt.Sprintf("  cpu %7.3fs", t.CPU.Seconds())
	}
	if t.RSS > 0 {
		s += fmt.Sprintf("  peak RSS %s", mib(t.RSS))
	}
	return s
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// decodeChild reads the JSON a child prints.
func decodeChild(b []byte) (timing, error) {
	var t timing
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("child output %q: %w", strings.TrimSpace(string(b)), err)
	}
	return t, nil
}

var errTimeout = errors.New("timeout")

// cpuTime is the processor time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
