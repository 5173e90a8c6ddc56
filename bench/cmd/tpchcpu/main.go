// Command tpchcpu runs TPC-H queries on etlc in its own process and prints,
// per query, the CPU time (user + system, from getrusage) of each run, its
// wall time, and the process's peak resident set size. On a machine
// shared with other work, wall times say little; CPU time is what a change
// to the engine is measured by. With -analyze it prints EXPLAIN ANALYZE
// instead (one serial run per query), with -cpuprofile a pprof profile of
// all the runs.
//
//	go run ./cmd/tpchcpu -q 4,17,21 -runs 3 -threads 2
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/bench/internal/tpchsession"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// usage is the process's CPU time so far and its peak RSS in MiB.
func usage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss / 1024
}

type options struct {
	queries          string
	runs, threads    int
	analyze, explain bool
	print            bool
	profile          string
	data, repo       string
}

func main() {
	var o options
	home, _ := os.UserHomeDir()
	cache := os.Getenv("ETLC_CACHE")
	if cache == "" {
		cache = filepath.Join(home, ".cache", "etlc")
	}
	flag.StringVar(&o.queries, "q", "1", "query numbers, e.g. 4,17,21; 0 reads the query from -f")
	flag.IntVar(&o.runs, "runs", 2, "runs per query")
	flag.IntVar(&o.threads, "threads", runtime.NumCPU(), "threads")
	flag.BoolVar(&o.analyze, "analyze", false, "print EXPLAIN ANALYZE instead of timing")
	flag.BoolVar(&o.explain, "explain", false, "print EXPLAIN instead of timing")
	flag.BoolVar(&o.print, "print", false, "print the result rows")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the runs to this file")
	flag.StringVar(&o.data, "data", filepath.Join(cache, "tpch", "sf1"), "data directory (cmd/tpchgen's, with parquet/)")
	flag.StringVar(&o.repo, "repo", "..", "the etlc repository (for testdata/tpch/queries)")
	file := flag.String("f", "", "a query file, for -q 0")
	flag.Parse()
	if err := run(context.Background(), o, *file, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tpchcpu:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, file string, w io.Writer) error {
	sess, closeSession, err := tpchsession.Open(ctx, o.data, o.threads)
	if err != nil {
		return err
	}
	defer closeSession()
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, qs := range strings.Split(o.queries, ",") {
		q, err := strconv.Atoi(strings.TrimSpace(qs))
		if err != nil {
			return fmt.Errorf("query %q: %w", qs, err)
		}
		path := filepath.Join(o.repo, "testdata", "tpch", "queries", fmt.Sprintf("q%02d.sql", q))
		if q == 0 {
			path = file
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		if o.analyze || o.explain {
			pre := "EXPLAIN "
			if o.analyze {
				pre = "EXPLAIN ANALYZE "
			}
			if err := execPrint(ctx, sess, pre+text, w); err != nil {
				return fmt.Errorf("q%02d: %w", q, err)
			}
			continue
		}
		var runs []string
		var best time.Duration
		for i := 0; i < o.runs; i++ {
			c0, _ := usage()
			w0 := time.Now()
			out := io.Discard
			if o.print && i == 0 {
				out = w
			}
			if err := execPrint(ctx, sess, text, out); err != nil {
				return fmt.Errorf("q%02d: %w", q, err)
			}
			c1, _ := usage()
			c := c1 - c0
			if best == 0 || c < best {
				best = c
			}
			runs = append(runs, fmt.Sprintf("%.2f/%.2f", c.Seconds(), time.Since(w0).Seconds()))
		}
		_, rss := usage()
		fmt.Fprintf(w, "q%02d cpu_best=%.2fs runs(cpu/wall s)=%v peak_rss=%dMiB\n", q, best.Seconds(), runs, rss)
	}
	return nil
}

// execPrint runs text and writes its rows to w, a line each, columns
// separated by |.
func execPrint(ctx context.Context, sess *session.Session, text string, w io.Writer) error {
	r, err := sess.Exec(ctx, parser.NewSource("query.sql", text), session.ExecOptions{})
	defer r.Release()
	if err != nil {
		return err
	}
	for _, st := range r.Statements {
		for _, rec := range st.Records {
			for i := 0; i < int(rec.NumRows()); i++ {
				parts := make([]string, rec.NumCols())
				for c := range parts {
					if s, ok := rec.Column(c).(*array.String); ok {
						parts[c] = s.Value(i)
					} else {
						parts[c] = rec.Column(c).ValueStr(i)
					}
				}
				fmt.Fprintln(w, strings.Join(parts, "|"))
			}
		}
	}
	return nil
}
