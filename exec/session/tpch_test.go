package session_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etlc/etlc/cmd/tpchgen/tpch"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// tpchDir is where TPC-H queries and answers live in the repository.
const tpchDir = "../../testdata/tpch"

// TestTPCH runs the 22 TPC-H queries on generated data and compares each
// result with testdata/tpch/answers/sf<N>: same number of rows, same order,
// numbers within 0.01 relative, text equal after trimming trailing blanks.
// Each query's time is printed, not asserted.
//
// The data is ${ETLC_CACHE:-$HOME/.cache/etlc}/tpch/sf<N>/parquet; when its
// _COMPLETE marker is missing the test makes it with
// `go run ./cmd/tpchgen -sf N -format parquet` (about two minutes at SF1).
// ETLC_TPCH=0 skips the test; ETLC_TPCH_SF picks another whole scale factor
// (default 1: only SF1 has answers, at other scales the results are only
// run and timed); ETLC_TPCH_QUERIES limits the run to some queries
// ("1,6,17"); ETLC_TPCH_QUERY_TIMEOUT bounds each query (default 10m).
//
// The queries run twice: all of them with as many threads as CPUs
// (subtests threads=N/qNN), then a few with one thread (threads=1/qNN;
// ETLC_TPCH_SERIAL_QUERIES picks them, "all" for every query), so that
// the answers are checked both ways. ETLC_TPCH_THREADS=N runs one pass,
// with N threads.
func TestTPCH(t *testing.T) {
	if os.Getenv("ETLC_TPCH") == "0" {
		t.Skip("ETLC_TPCH=0")
	}
	sf := 1
	if s := os.Getenv("ETLC_TPCH_SF"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("ETLC_TPCH_SF=%q: want a whole number >= 1", s)
		}
		sf = n
	}
	only := map[int]bool{}
	if s := os.Getenv("ETLC_TPCH_QUERIES"); s != "" {
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 22 {
				t.Fatalf("ETLC_TPCH_QUERIES=%q: want numbers 1..22 separated by commas", s)
			}
			only[n] = true
		}
	}
	queryTimeout := 10 * time.Minute
	if s := os.Getenv("ETLC_TPCH_QUERY_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("ETLC_TPCH_QUERY_TIMEOUT=%q: %v", s, err)
		}
		queryTimeout = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	data := ensureTPCHData(ctx, t, sf)

	// The passes: every query with all threads, then some queries with
	// one thread (the same answers whatever the thread count).
	type pass struct {
		threads int
		queries map[int]bool
	}
	passes := []pass{{runtime.NumCPU(), only}, {1, parseQuerySet(t, "ETLC_TPCH_SERIAL_QUERIES", defaultSerialQueries)}}
	if s := os.Getenv("ETLC_TPCH_THREADS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("ETLC_TPCH_THREADS=%q: want a whole number >= 1", s)
		}
		passes = []pass{{n, only}}
	}
	if len(only) > 0 && len(passes) == 2 {
		// ETLC_TPCH_QUERIES picks the queries of both passes.
		passes[1].queries = only
	}
	eng, err := session.Open(ctx, filepath.Join(t.TempDir(), "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ddlSess := eng.NewSession(session.Options{})
	if _, err := ddlSess.Exec(ctx, parser.NewSource("tpch_sources.sql", tpch.SourcesDDL(data)), session.ExecOptions{}); err != nil {
		t.Fatal(err)
	}
	ddlSess.Close()

	answers := filepath.Join(tpchDir, "answers", fmt.Sprintf("sf%d", sf))
	if _, err := os.Stat(answers); err != nil {
		t.Logf("no answers for SF%d in %s: the queries are run and timed only", sf, answers)
		answers = ""
	}
	for _, p := range passes {
		sess := eng.NewSession(session.Options{Settings: map[string]string{"threads": strconv.Itoa(p.threads)}})
		var times []string
		var total time.Duration
		t.Run(fmt.Sprintf("threads=%d", p.threads), func(t *testing.T) {
			for q := 1; q <= 22; q++ {
				if len(p.queries) > 0 && !p.queries[q] {
					continue
				}
				name := fmt.Sprintf("q%02d", q)
				t.Run(name, func(t *testing.T) {
					text, err := os.ReadFile(filepath.Join(tpchDir, "queries", name+".sql"))
					if err != nil {
						t.Fatal(err)
					}
					qctx, cancel := context.WithTimeout(ctx, queryTimeout)
					defer cancel()
					start := time.Now()
					got, err := runTPCHQuery(qctx, sess, name+".sql", string(text))
					elapsed := time.Since(start)
					total += elapsed
					line := fmt.Sprintf("%s %8.2fs", name, elapsed.Seconds())
					if err != nil {
						times = append(times, line+"  failed")
						t.Fatalf("%s failed after %s: %v", name, elapsed.Round(time.Millisecond), err)
					}
					times = append(times, line)
					t.Logf("%s: %d rows in %s", name, len(got), elapsed.Round(time.Millisecond))
					if answers == "" {
						return
					}
					want, err := readAnswer(filepath.Join(answers, name+".csv"))
					if err != nil {
						t.Fatal(err)
					}
					compareTPCH(t, got, want)
				})
			}
		})
		sess.Close()
		summary := fmt.Sprintf("TPC-H SF%d on etlc with %d threads, seconds per query:\n  %s\n  total %.2fs",
			sf, p.threads, strings.Join(times, "\n  "), total.Seconds())
		t.Log(summary)
		fmt.Println(summary)
	}
}

// defaultSerialQueries are the queries the one-thread pass runs by
// default: a grouped scan (1), joins with top-N (3, 18), a scalar scan
// (6), a six-way join (9) and an outer join under two aggregations (13).
const defaultSerialQueries = "1,3,6,9,13,18"

// parseQuerySet reads a list of query numbers from the environment
// variable env, or def when it is unset; "all" is every query.
func parseQuerySet(t *testing.T, env, def string) map[int]bool {
	t.Helper()
	s, ok := os.LookupEnv(env)
	if !ok {
		s = def
	}
	set := map[int]bool{}
	if s == "all" {
		return set
	}
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 22 {
			t.Fatalf("%s=%q: want numbers 1..22 separated by commas, or all", env, s)
		}
		set[n] = true
	}
	return set
}

// runTPCHQuery runs one query and returns its rows, each value as
// session.FormatValue writes it ("" for NULL).
func runTPCHQuery(ctx context.Context, sess *session.Session, name, text string) ([][]string, error) {
	run, err := sess.Exec(ctx, parser.NewSource(name, text), session.ExecOptions{})
	defer run.Release()
	if err != nil {
		return nil, err
	}
	last := run.Statements[len(run.Statements)-1]
	var rows [][]string
	for _, rec := range last.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j], _ = session.FormatValue(col, i)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// readAnswer reads an answer file: '|'-separated values, a header line
// first.
func readAnswer(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		rows = append(rows, strings.Split(sc.Text(), "|"))
	}
	return rows, sc.Err()
}

// compareTPCH checks got against want: same rows in the same order, the
// numbers of want matched within 0.01 relative, text after trimming
// trailing blanks. It reports at most ten differences.
func compareTPCH(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	bad := 0
	for i := 0; i < len(got) && i < len(want); i++ {
		if len(got[i]) != len(want[i]) {
			t.Errorf("row %d: %d columns, want %d", i+1, len(got[i]), len(want[i]))
			bad++
		} else {
			for j := range want[i] {
				if !tpchValueMatches(got[i][j], want[i][j]) {
					t.Errorf("row %d column %d: got %q, want %q", i+1, j+1, got[i][j], want[i][j])
					bad++
				}
			}
		}
		if bad >= 10 {
			t.Errorf("... stopping after %d differences", bad)
			return
		}
	}
}

// tpchValueMatches compares one value: numbers within 0.01 relative, text
// after trimming trailing blanks.
func tpchValueMatches(got, want string) bool {
	w, werr := strconv.ParseFloat(want, 64)
	g, gerr := strconv.ParseFloat(got, 64)
	if werr == nil && gerr == nil {
		if w == g {
			return true
		}
		return math.Abs(g-w) <= 0.01*math.Max(math.Abs(g), math.Abs(w))
	}
	return strings.TrimRight(got, " ") == strings.TrimRight(want, " ")
}

// ensureTPCHData returns the Parquet directory of scale factor sf, made by
// cmd/tpchgen when its completion marker is missing or names an older
// layout.
func ensureTPCHData(ctx context.Context, t *testing.T, sf int) string {
	t.Helper()
	cache := os.Getenv("ETLC_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "etlc")
	}
	dir := filepath.Join(cache, "tpch", fmt.Sprintf("sf%d", sf))
	parquet := filepath.Join(dir, "parquet")
	// The marker names the layout cmd/tpchgen writes today (its
	// parquetLayout); data of an older layout is made anew.
	if b, err := os.ReadFile(filepath.Join(parquet, "_COMPLETE")); err == nil {
		var m struct {
			Layout string `json:"layout"`
		}
		if json.Unmarshal(b, &m) == nil && m.Layout == "decimal-int64" {
			return parquet
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	t.Logf("generating TPC-H SF%d Parquet data in %s (go run ./cmd/tpchgen; about 2 minutes per scale factor unit)", sf, dir)
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/tpchgen", "-sf", strconv.Itoa(sf), "-out", dir, "-format", "parquet")
	cmd.Dir = "../.."
	cmd.Stdout = testWriter{t}
	cmd.Stderr = testWriter{t}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./cmd/tpchgen: %v", err)
	}
	if _, err := os.Stat(filepath.Join(parquet, "_COMPLETE")); err != nil {
		t.Fatalf("tpchgen finished without a complete output: %v", err)
	}
	t.Logf("generated in %s", time.Since(start).Round(time.Second))
	return parquet
}

// testWriter writes a subprocess's output lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestTPCHValueMatches pins the comparison rule of TestTPCH.
func TestTPCHValueMatches(t *testing.T) {
	for _, c := range []struct {
		got, want string
		ok        bool
	}{
		{"53758257134.8700", "53758257134.87", true},
		{"100.5", "100", true}, // within 0.01 relative
		{"102", "100", false},  // 2% off
		{"0", "0.000", true},   // equal numbers
		{"Customer#1", "Customer#1   ", true},
		{"  x", "x", false}, // leading blanks count
		{"1995-03-15", "1995-03-15", true},
		{"abc", "abd", false},
	} {
		if got := tpchValueMatches(c.got, c.want); got != c.ok {
			t.Errorf("tpchValueMatches(%q, %q) = %v, want %v", c.got, c.want, got, c.ok)
		}
	}
}
