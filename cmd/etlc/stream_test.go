package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// streamJob is a script with pipelines over a stream of events: a
// tumbling-window aggregation, a filter + project, a deduplication, a
// DISTINCT and an inner and a left interval join of the stream with a
// second stream over the same files. ${dir} is the test directory.
const streamJob = `
CREATE STREAM IF NOT EXISTS events (id BIGINT, k INT, amount BIGINT, ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'file', path = '${dir}/in/', format = 'csv', header = 'true');
CREATE SINK IF NOT EXISTS per_key (window_start TIMESTAMP, k INT, total BIGINT, n BIGINT)
  WITH (path = '${dir}/out_${run}/agg/', format = 'csv', header = 'false');
CREATE SINK IF NOT EXISTS big (id BIGINT, k INT, amount BIGINT)
  WITH (path = '${dir}/out_${run}/big/', format = 'csv', header = 'false');
CREATE PIPELINE IF NOT EXISTS totals WITH (checkpoint_interval = '150ms') AS INSERT INTO per_key
  SELECT window_start, k, SUM(amount), COUNT(*) FROM STREAM events
  GROUP BY TUMBLE(ts, INTERVAL '10 seconds'), k;
CREATE PIPELINE IF NOT EXISTS large WITH (checkpoint_interval = '100ms') AS INSERT INTO big
  SELECT id, k, amount * 2 FROM STREAM events WHERE amount > 90;
CREATE STREAM IF NOT EXISTS events2 (id BIGINT, k INT, amount BIGINT, ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'file', path = '${dir}/in/', format = 'csv', header = 'true');
CREATE SINK IF NOT EXISTS firsts (id BIGINT, k INT, amount BIGINT)
  WITH (path = '${dir}/out_${run}/firsts/', format = 'csv', header = 'false');
CREATE SINK IF NOT EXISTS kinds (k INT, tens BIGINT)
  WITH (path = '${dir}/out_${run}/kinds/', format = 'csv', header = 'false');
CREATE SINK IF NOT EXISTS pairs (a BIGINT, b BIGINT, k INT)
  WITH (path = '${dir}/out_${run}/pairs/', format = 'csv', header = 'false');
CREATE SINK IF NOT EXISTS followed (a BIGINT, b BIGINT)
  WITH (path = '${dir}/out_${run}/followed/', format = 'csv', header = 'false');
CREATE PIPELINE IF NOT EXISTS first_per_key WITH (checkpoint_interval = '120ms', state_ttl = '1 day') AS INSERT INTO firsts
  SELECT id, k, amount FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY k % 100, amount / 10 ORDER BY ts) AS rn FROM STREAM events)
  WHERE rn = 1;
CREATE PIPELINE IF NOT EXISTS distinct_kinds WITH (checkpoint_interval = '130ms', state_ttl = '1 day') AS INSERT INTO kinds
  SELECT DISTINCT k % 50, amount / 10 FROM STREAM events;
CREATE PIPELINE IF NOT EXISTS near_pairs WITH (checkpoint_interval = '140ms') AS INSERT INTO pairs
  SELECT a.id, b.id, a.k FROM STREAM events a JOIN STREAM events2 b
    ON a.k = b.k AND a.id < b.id AND b.ts BETWEEN a.ts - INTERVAL '2' SECOND AND a.ts + INTERVAL '2' SECOND
  WHERE a.amount > 80;
CREATE PIPELINE IF NOT EXISTS followed_by WITH (checkpoint_interval = '110ms') AS INSERT INTO followed
  SELECT a.id, b.id FROM STREAM events a LEFT JOIN STREAM events2 b
    ON a.k = b.k AND a.id < b.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1' SECOND
  WHERE a.amount > 95;
`

// writeEvents writes n events into files of per events each under dir/in:
// 500 keys, event time advancing 10ms an event with up to 3 seconds of
// disorder (less than the watermark's 5 seconds: no row is late), so that a
// batch run over the files gives the same windows.
func writeEvents(t *testing.T, dir string, n, per int) {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	for f := 0; f*per < n; f++ {
		var sb strings.Builder
		sb.WriteString("id,k,amount,ts\n")
		for i := f * per; i < min(n, (f+1)*per); i++ {
			ts := base.Add(time.Duration(i)*10*time.Millisecond - time.Duration(rng.Intn(3000))*time.Millisecond)
			fmt.Fprintf(&sb, "%d,%d,%d,%s\n", i, rng.Intn(500), rng.Intn(100), ts.Format("2006-01-02 15:04:05.000"))
		}
		if err := os.WriteFile(filepath.Join(dir, "in", fmt.Sprintf("events-%04d.csv", f)), []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sinkRows returns the rows of the committed files of a sink directory
// (those its _SUCCESS manifest lists), sorted.
func sinkRows(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), "_") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" {
				rows = append(rows, l)
			}
		}
	}
	slices.Sort(rows)
	return rows
}

// startStream starts `etlc run --until-idle` of the stream job.
func startStream(t *testing.T, bin, dir, run string, out *strings.Builder) *exec.Cmd {
	t.Helper()
	script := filepath.Join(dir, "job.sql")
	if err := os.WriteFile(script, []byte(streamJob), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--no-progress", "--until-idle", "--data-dir", filepath.Join(dir, "data_"+run),
		"-p", "dir="+dir, "-p", "run="+run, script)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func compareRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the reference has no rows", what)
	}
	if !slices.Equal(got, want) {
		extra, missing := 0, 0
		i, j := 0, 0
		for i < len(got) || j < len(want) {
			switch {
			case j >= len(want) || (i < len(got) && got[i] < want[j]):
				extra++
				i++
			case i >= len(got) || got[i] > want[j]:
				missing++
				j++
			default:
				i++
				j++
			}
		}
		t.Fatalf("%s: %d rows, want %d (%d extra or duplicated, %d missing)", what, len(got), len(want), extra, missing)
	}
}

// TestStreamCrashRecovery runs the stream job over 200,000 events without
// interruption, then again killing `etlc run` with SIGKILL at random points
// and starting it again each time (once also stopping it with SIGTERM,
// which must checkpoint and exit 0), and compares the sinks: identical, no
// row lost, none duplicated. It also checks that the windowed pipeline's
// output equals a batch INSERT of the same query over the same files.
func TestStreamCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds etlc and runs it several times")
	}
	bin := buildETLC(t)
	dir := t.TempDir()
	writeEvents(t, dir, 200_000, 2_000)

	var out strings.Builder
	ref := startStream(t, bin, dir, "ref", &out)
	if err := ref.Wait(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out.String())
	}
	wantAgg := sinkRows(t, filepath.Join(dir, "out_ref", "agg"))
	wantBig := sinkRows(t, filepath.Join(dir, "out_ref", "big"))
	stateful := []string{"firsts", "kinds", "pairs", "followed"}
	want := map[string][]string{}
	for _, s := range stateful {
		want[s] = sinkRows(t, filepath.Join(dir, "out_ref", s))
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	kills, finished := 0, false
	for attempt := 0; attempt < 6 && !finished; attempt++ {
		out.Reset()
		cmd := startStream(t, bin, dir, "crash", &out)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		wait := time.Duration(300+rng.Intn(1500)) * time.Millisecond
		sig := syscall.SIGKILL
		if attempt == 2 {
			sig = syscall.SIGTERM
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v\n%s", attempt, err, out.String())
			}
			finished = true
		case <-time.After(wait):
			cmd.Process.Signal(sig)
			err := <-done
			if sig == syscall.SIGTERM && err != nil {
				t.Fatalf("SIGTERM: etlc run exited with %v, want 0:\n%s", err, out.String())
			}
			kills++
		}
	}
	if !finished {
		out.Reset()
		cmd := startStream(t, bin, dir, "crash", &out)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("last run: %v\n%s", err, out.String())
		}
	}
	t.Logf("%d interruptions", kills)
	compareRows(t, "windowed sink after crashes", sinkRows(t, filepath.Join(dir, "out_crash", "agg")), wantAgg)
	compareRows(t, "filter+project sink after crashes", sinkRows(t, filepath.Join(dir, "out_crash", "big")), wantBig)
	for _, s := range stateful {
		compareRows(t, s+" sink after crashes", sinkRows(t, filepath.Join(dir, "out_crash", s)), want[s])
	}

	// The same queries as a batch over the same files.
	batch := `
CREATE SOURCE ev (id BIGINT, k INT, amount BIGINT, ts TIMESTAMP)
  WITH (connector = 'file', path = '${dir}/in/', format = 'csv', header = 'true');
CREATE SINK b_agg (window_start TIMESTAMP, k INT, total BIGINT, n BIGINT)
  WITH (path = '${dir}/batch/agg/', format = 'csv', header = 'false');
CREATE SINK b_big (id BIGINT, k INT, amount BIGINT)
  WITH (path = '${dir}/batch/big/', format = 'csv', header = 'false');
INSERT INTO b_agg SELECT window_start, k, SUM(amount), COUNT(*) FROM ev GROUP BY TUMBLE(ts, INTERVAL '10 seconds'), k;
INSERT INTO b_big SELECT id, k, amount * 2 FROM ev WHERE amount > 90;
CREATE SINK b_firsts (id BIGINT, k INT, amount BIGINT)
  WITH (path = '${dir}/batch/firsts/', format = 'csv', header = 'false');
CREATE SINK b_kinds (k INT, tens BIGINT)
  WITH (path = '${dir}/batch/kinds/', format = 'csv', header = 'false');
CREATE SINK b_pairs (a BIGINT, b BIGINT, k INT)
  WITH (path = '${dir}/batch/pairs/', format = 'csv', header = 'false');
CREATE SINK b_followed (a BIGINT, b BIGINT)
  WITH (path = '${dir}/batch/followed/', format = 'csv', header = 'false');
INSERT INTO b_firsts SELECT id, k, amount FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY k % 100, amount / 10 ORDER BY ts) AS rn FROM ev)
  WHERE rn = 1;
INSERT INTO b_kinds SELECT DISTINCT k % 50, amount / 10 FROM ev;
INSERT INTO b_pairs SELECT a.id, b.id, a.k FROM ev a JOIN ev b
    ON a.k = b.k AND a.id < b.id AND b.ts BETWEEN a.ts - INTERVAL '2' SECOND AND a.ts + INTERVAL '2' SECOND
  WHERE a.amount > 80;
INSERT INTO b_followed SELECT a.id, b.id FROM ev a LEFT JOIN ev b
    ON a.k = b.k AND a.id < b.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1' SECOND
  WHERE a.amount > 95;
`
	script := filepath.Join(dir, "batch.sql")
	os.WriteFile(script, []byte(batch), 0o644)
	cmd := exec.Command(bin, "run", "--no-progress", "--data-dir", filepath.Join(dir, "data_batch"), "-p", "dir="+dir, script)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("batch run: %v\n%s", err, b)
	}
	compareRows(t, "stream vs batch (windows)", wantAgg, sinkRows(t, filepath.Join(dir, "batch", "agg")))
	compareRows(t, "stream vs batch (filter+project)", wantBig, sinkRows(t, filepath.Join(dir, "batch", "big")))
	for _, s := range stateful {
		compareRows(t, "stream vs batch ("+s+")", want[s], sinkRows(t, filepath.Join(dir, "batch", s)))
	}
}

// kafkaJob is a windowed pipeline over a Kafka topic; ${brokers} and
// ${dir} are set by the test.
const kafkaJob = `
CREATE STREAM IF NOT EXISTS bids (k INT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'bids', format = 'json');
CREATE SINK IF NOT EXISTS per_key (window_start TIMESTAMP, k INT, total BIGINT, n BIGINT)
  WITH (path = '${dir}/out_${run}/', format = 'csv', header = 'false');
CREATE PIPELINE IF NOT EXISTS totals WITH (checkpoint_interval = '100ms') AS INSERT INTO per_key
  SELECT window_start, k, SUM(v), COUNT(*) FROM STREAM bids
  GROUP BY TUMBLE(ts, INTERVAL '10 seconds'), k;
`

// TestKafkaCrashRecovery is TestStreamCrashRecovery with the events in a
// four-partition topic of an in-process kfake cluster: the offsets are in
// the checkpoint, and the sink after SIGKILLs and restarts equals that of
// an uninterrupted run.
func TestKafkaCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds etlc and runs it several times")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "bids"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("bids"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	rng := rand.New(rand.NewSource(11))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100_000; i++ {
		ts := base.Add(time.Duration(i)*10*time.Millisecond - time.Duration(rng.Intn(2000))*time.Millisecond)
		v := fmt.Sprintf(`{"k":%d,"v":%d,"ts":"%s"}`, rng.Intn(300), rng.Intn(100), ts.Format("2006-01-02 15:04:05.000"))
		prod.Produce(ctx, &kgo.Record{Partition: int32(i % 4), Value: []byte(v)}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	bin := buildETLC(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "kafka.sql")
	if err := os.WriteFile(script, []byte(kafkaJob), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(run string, out *strings.Builder) *exec.Cmd {
		cmd := exec.Command(bin, "run", "--no-progress", "--until-idle", "--data-dir", filepath.Join(dir, "data_"+run),
			"-p", "dir="+dir, "-p", "run="+run, "-p", "brokers="+strings.Join(c.ListenAddrs(), ","), script)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	var out strings.Builder
	if err := start("ref", &out).Wait(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out.String())
	}
	want := sinkRows(t, filepath.Join(dir, "out_ref"))
	rng = rand.New(rand.NewSource(time.Now().UnixNano()))
	kills := 0
	for attempt := 0; attempt < 4; attempt++ {
		out.Reset()
		cmd := start("crash", &out)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v\n%s", attempt, err, out.String())
			}
		case <-time.After(time.Duration(300+rng.Intn(1500)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	out.Reset()
	if err := start("crash", &out).Wait(); err != nil {
		t.Fatalf("last run: %v\n%s", err, out.String())
	}
	t.Logf("%d interruptions", kills)
	compareRows(t, "Kafka sink after crashes", sinkRows(t, filepath.Join(dir, "out_crash")), want)
}
