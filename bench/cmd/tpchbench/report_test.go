package main

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"
)

func testResults() *results {
	s := func(x float64) timing { return timing{Best: time.Duration(x * float64(time.Second))} }
	return &results{sf: 1, threads: 2, queries: []int{1, 6, 17},
		etlc: map[int]timing{1: {Best: 2 * time.Second, RSS: 300 << 20}, 6: s(0.5), 17: {Timeout: true}},
		duck: map[int]timing{1: s(1), 6: s(0.25), 17: s(0.1)},
		pg:   map[int]timing{1: s(8), 6: {Err: "boom"}, 17: {Timeout: true}},
	}
}

func TestGeomean(t *testing.T) {
	if g := geomean([]float64{2, 8}); math.Abs(g-4) > 1e-12 {
		t.Errorf("geomean(2, 8) = %v, want 4", g)
	}
	if g := geomean(nil); g != 0 {
		t.Errorf("geomean() = %v, want 0", g)
	}
}

func TestTableAndCSV(t *testing.T) {
	r := testResults()
	var csv bytes.Buffer
	if err := r.csv(&csv); err != nil {
		t.Fatal(err)
	}
	want := `query,etlc_s,duckdb_s,postgres_s,etlc_over_duckdb,etlc_over_postgres,etlc_peak_rss_mib,threads,sf
q01,2.000,1.000,8.000,2.00,0.25,300,2,1
q06,0.500,0.250,error,2.00,-,-,2,1
q17,timeout,0.100,timeout,-,-,-,2,1
geomean,1.000,0.292,8.000,2.00,0.25,-,2,1
`
	if csv.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", csv.String(), want)
	}
	var tab bytes.Buffer
	r.table(&tab)
	if !strings.Contains(tab.String(), "timeout") || !strings.Contains(tab.String(), "etlc/duckdb") {
		t.Errorf("table lacks the timeout or the ratio header:\n%s", tab.String())
	}
}

func TestChartIsAPNG(t *testing.T) {
	var b bytes.Buffer
	if err := testResults().chart(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	// Four groups of bars (three queries and the geometric means).
	if got, want := img.Bounds().Dx(), 60+20+4*44; got != want {
		t.Errorf("width %d, want %d", got, want)
	}
}

func TestMeasureStopsAtTimeout(t *testing.T) {
	calls := 0
	tm := measure(t.Context(), func(ctx context.Context, q int, text string) error {
		calls++
		<-ctx.Done()
		return ctx.Err()
	}, 1, "", 3, 20*time.Millisecond)
	if !tm.Timeout || calls != 1 {
		t.Errorf("timing %+v after %d calls, want a timeout after 1", tm, calls)
	}
	calls = 0
	tm = measure(t.Context(), func(context.Context, int, string) error { calls++; return nil }, 1, "", 3, time.Second)
	if !tm.ok() || calls != 4 {
		t.Errorf("timing %+v after %d calls, want ok after a warm-up and 3 runs", tm, calls)
	}
}

func TestParseQueries(t *testing.T) {
	qs, err := parseQueries("")
	if err != nil || len(qs) != 22 || qs[21] != 22 {
		t.Errorf("parseQueries(\"\") = %v, %v", qs, err)
	}
	if _, err := parseQueries("1,23"); err == nil {
		t.Error("parseQueries(1,23): no error")
	}
}
