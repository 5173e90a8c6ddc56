package stream_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// benchEvents writes n events (bid events: auction, bidder, price, time)
// as Parquet files of per rows under dir/events/, through a batch INSERT
// from CSV, and returns the engine's data directory used for that.
func benchEvents(b *testing.B, dir string, n, per, keys int) {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	csvDir := filepath.Join(dir, "csv")
	os.MkdirAll(csvDir, 0o755)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for f := 0; f*per < n; f++ {
		var sb strings.Builder
		sb.WriteString("auction,bidder,price,ts\n")
		for i := f * per; i < min(n, (f+1)*per); i++ {
			ts := base.Add(time.Duration(i) * time.Millisecond)
			fmt.Fprintf(&sb, "%d,%d,%d,%s\n", rng.Intn(keys), rng.Intn(1000), rng.Intn(10000), ts.Format("2006-01-02 15:04:05.000"))
		}
		os.WriteFile(filepath.Join(csvDir, fmt.Sprintf("bids-%05d.csv", f)), []byte(sb.String()), 0o644)
	}
	ctx := context.Background()
	eng, err := session.Open(ctx, filepath.Join(dir, "gen"), session.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir}})
	defer s.Close()
	// One INSERT per CSV file: as many Parquet files as CSV files.
	var script strings.Builder
	script.WriteString("CREATE SINK bids_pq WITH (path = '${dir}/events/', format = 'parquet');\n")
	for f := 0; f*per < n; f++ {
		fmt.Fprintf(&script, `CREATE OR REPLACE SOURCE bids_csv (auction BIGINT, bidder BIGINT, price BIGINT, ts TIMESTAMP)
  WITH (path = '${dir}/csv/bids-%05d.csv', format = 'csv', header = 'true');
INSERT INTO bids_pq SELECT * FROM bids_csv;
`, f)
	}
	run, err := s.Exec(ctx, parser.NewSource("gen.sql", script.String()), session.ExecOptions{})
	if run != nil {
		run.Release()
	}
	if err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchPipeline(b *testing.B, n, keys int, query string) {
	dir := b.TempDir()
	benchEvents(b, dir, n, 100_000, keys)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		data := filepath.Join(dir, fmt.Sprintf("data%d", i))
		eng, err := session.Open(ctx, data, session.Config{})
		if err != nil {
			b.Fatal(err)
		}
		s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir, "i": fmt.Sprint(i)}})
		script := `CREATE STREAM bids (auction BIGINT, bidder BIGINT, price BIGINT, ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '1 second')
  WITH (path = '${dir}/events/', format = 'parquet');
` + query
		run, err := s.Exec(ctx, parser.NewSource("bench.sql", script), session.ExecOptions{})
		if run != nil {
			run.Release()
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		if err := s.RunPipeline(ctx, "p", session.PipelineOptions{UntilIdle: true, CheckpointInterval: 10 * time.Second}); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(n)/el.Seconds(), "events/s")
		b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "events/cpu-s")
		s.Close()
		eng.Close()
		b.StartTimer()
	}
}

// BenchmarkFilterProject is a stateless pipeline: filter and project 2
// million events into a Parquet sink, checkpoints every 10 s.
func BenchmarkFilterProject(b *testing.B) {
	benchPipeline(b, 2_000_000, 1_000_000, `
CREATE SINK out (auction BIGINT, price_usd DOUBLE, ts TIMESTAMP) WITH (path = '${dir}/out${i}/', format = 'parquet');
CREATE PIPELINE p AS INSERT INTO out
  SELECT auction, price * 0.908, ts FROM STREAM bids WHERE price > 100;`)
}

// BenchmarkTumble is a tumbling-window aggregation (10 s windows) of 2
// million events over up to 1 million auctions.
func BenchmarkTumble(b *testing.B) {
	benchPipeline(b, 2_000_000, 1_000_000, `
CREATE SINK out (window_start TIMESTAMP, auction BIGINT, n BIGINT, top BIGINT) WITH (path = '${dir}/out${i}/', format = 'parquet');
CREATE PIPELINE p AS INSERT INTO out
  SELECT window_start, auction, COUNT(*), MAX(price) FROM STREAM bids
  GROUP BY TUMBLE(ts, INTERVAL '10 seconds'), auction;`)
}

// BenchmarkHop is a hopping-window aggregation (1 minute windows every
// 10 s) of 2 million events over 10,000 auctions.
func BenchmarkHop(b *testing.B) {
	benchPipeline(b, 2_000_000, 10_000, `
CREATE SINK out (window_start TIMESTAMP, auction BIGINT, n BIGINT) WITH (path = '${dir}/out${i}/', format = 'parquet');
CREATE PIPELINE p AS INSERT INTO out
  SELECT window_start, auction, COUNT(*) FROM STREAM bids
  GROUP BY HOP(ts, INTERVAL '10 seconds', INTERVAL '1 minute'), auction;`)
}

// BenchmarkDedup keeps the first bid of each of up to 1 million auctions
// among 2 million events (its keys in Pebble, state_ttl an hour).
func BenchmarkDedup(b *testing.B) {
	benchPipeline(b, 2_000_000, 1_000_000, `
CREATE SINK out (auction BIGINT, price BIGINT, ts TIMESTAMP) WITH (path = '${dir}/out${i}/', format = 'parquet');
CREATE PIPELINE p WITH (state_ttl = '1 hour') AS INSERT INTO out
  SELECT auction, price, ts FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY ts) AS rn FROM STREAM bids)
  WHERE rn = 1;`)
}

// BenchmarkIntervalJoin joins the 2 million events with themselves: bids
// of one auction (of 1 million) within a second of each other.
func BenchmarkIntervalJoin(b *testing.B) {
	benchPipeline(b, 2_000_000, 1_000_000, `
CREATE SINK out (auction BIGINT, p1 BIGINT, p2 BIGINT) WITH (path = '${dir}/out${i}/', format = 'parquet');
CREATE PIPELINE p AS INSERT INTO out
  SELECT a.auction, a.price, b.price FROM STREAM bids a JOIN STREAM bids b
    ON a.auction = b.auction AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1' SECOND;`)
}
