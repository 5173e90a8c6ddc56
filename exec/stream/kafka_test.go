package stream_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// TestKafkaStream runs a windowed pipeline over a three-partition topic of
// an in-process kfake cluster: per-partition watermarks (the least of the
// three), offsets in the checkpoint, and a restart after records were read
// but not checkpointed, which reads them again from the checkpoint's
// offsets: the output equals that of a run without the restart.
func TestKafkaStream(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "bids"))
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
	produce := func(part int32, lines ...string) {
		for _, l := range lines {
			if err := prod.ProduceSync(ctx, &kgo.Record{Partition: part, Value: []byte(l)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	bid := func(k string, v int, ts string) string {
		return fmt.Sprintf(`{"k":%q,"v":%d,"ts":"2024-01-01 %s"}`, k, v, ts)
	}

	dir := t.TempDir()
	eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	params := map[string]string{"dir": dir, "brokers": strings.Join(c.ListenAddrs(), ",")}
	s := eng.NewSession(session.Options{Params: params})
	defer s.Close()
	run, err := s.Exec(ctx, parser.NewSource("k.sql", `
CREATE STREAM bids (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'bids', format = 'json');
CREATE SINK out (ws TIMESTAMP, k VARCHAR, s BIGINT)
  WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE PIPELINE p AS INSERT INTO out
  SELECT window_start, k, SUM(v) FROM STREAM bids GROUP BY TUMBLE(ts, INTERVAL '1 minute'), k;`), session.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run.Release()
	h := &harness{t: t, dir: dir, eng: eng, now: time.Now(), name: "p", printed: map[string]bool{}}
	open := func() {
		p, err := s.OpenPipeline(ctx, "p", session.PipelineOptions{CheckpointInterval: time.Hour, Now: h.clock})
		if err != nil {
			t.Fatal(err)
		}
		h.p = p
	}
	// pollAll polls until n records' worth of partitions were read.
	pollAll := func() {
		for i := 0; i < 20; i++ {
			n, _, err := h.p.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	open()
	produce(0, bid("a", 1, "00:00:10"), bid("a", 2, "00:01:10"))
	produce(1, bid("b", 4, "00:00:20"))
	produce(2, bid("a", 8, "00:00:30"), bid("b", 16, "00:02:30"))
	pollAll()
	if err := h.p.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The least partition watermark is partition 1's, 00:00:20.
	if got := h.newOutput() + "|" + h.status(); got != "|watermark 2024-01-01 00:00:20; in 5, out 0, late 0; files 0; checkpoints 1" {
		t.Fatalf("first checkpoint: %s", got)
	}
	produce(1, bid("b", 32, "00:01:40"))
	pollAll()
	// Not checkpointed: read again after the restart.
	if err := h.p.Close(); err != nil {
		t.Fatal(err)
	}
	open()
	defer h.p.Close()
	pollAll()
	if err := h.p.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	want := "2024-01-01 00:00:00,a,9\n2024-01-01 00:00:00,b,4"
	if got := h.newOutput(); got != want {
		t.Fatalf("after the restart:\n%s\nwant:\n%s", got, want)
	}
	if err := h.p.Checkpoint(ctx, true); err != nil {
		t.Fatal(err)
	}
	want = "2024-01-01 00:01:00,a,2\n2024-01-01 00:01:00,b,32\n2024-01-01 00:02:00,b,16"
	if got := h.newOutput(); got != want {
		t.Fatalf("at the end:\n%s\nwant:\n%s", got, want)
	}
	if got := h.status(); got != "watermark end of input; in 6, out 5, late 0; files 0; checkpoints 3" {
		t.Fatalf("status: %s", got)
	}
}
