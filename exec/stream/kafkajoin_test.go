package stream_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// TestKafkaIntervalJoin runs an interval join of a file stream (clicks)
// with a Kafka stream (orders, on an in-process kfake cluster, fed by
// INSERT INTO the stream: pushes in Kafka transactions). The orders'
// offsets are part of the checkpoint: after a restart, records read but
// not checkpointed are read again from the checkpoint's offsets, and the
// output equals that of a run without the restart (no pair lost, none
// twice).
func TestKafkaIntervalJoin(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir, "brokers": strings.Join(c.ListenAddrs(), ",")}})
	defer s.Close()
	exec := func(sql string) {
		t.Helper()
		run, err := s.Exec(ctx, parser.NewSource("j.sql", sql), session.ExecOptions{})
		if err != nil {
			t.Fatal(err)
		}
		run.Release()
	}
	exec(`
CREATE STREAM clicks (id BIGINT, page VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'file', path = '${dir}/in/clicks/', format = 'json');
CREATE STREAM orders (id BIGINT, amount BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'orders', format = 'csv', key = 'id');
CREATE SINK out (id BIGINT, page VARCHAR, amount BIGINT, click_ts TIMESTAMP, order_ts TIMESTAMP)
  WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE PIPELINE p AS INSERT INTO out
  SELECT c.id, c.page, o.amount, c.ts, o.ts
  FROM STREAM clicks c JOIN STREAM orders o
    ON c.id = o.id AND o.ts BETWEEN c.ts - INTERVAL '1' HOUR AND c.ts + INTERVAL '1' HOUR;`)
	file := func(name, data string) {
		t.Helper()
		d := filepath.Join(dir, "in", "clicks")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "."+name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(d, "."+name), filepath.Join(d, name)); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, dir: dir, eng: eng, now: time.Now(), name: "p", printed: map[string]bool{}}

	h.reopen(ctx)
	file("1.json", `{"id":1,"page":"home","ts":"2024-01-01 10:00:00"}
{"id":2,"page":"cart","ts":"2024-01-01 10:30:00"}
{"id":3,"page":"help","ts":"2024-01-01 11:00:00"}
`)
	exec(`INSERT INTO orders VALUES (1, 10, '2024-01-01 10:50:00'), (2, 20, '2024-01-01 11:31:00'),
  (3, 30, '2024-01-01 10:00:00'), (4, 40, '2024-01-01 10:40:00');`)
	h.drain(ctx)
	h.checkpointIs(ctx, false, "1,home,10,2024-01-01 10:00:00,2024-01-01 10:50:00\n3,help,30,2024-01-01 11:00:00,2024-01-01 10:00:00"+
		"|watermark 2024-01-01 11:00:00; in 7, out 2, late 0; files 1; checkpoints 1")

	// Read, not checkpointed: read again after the restart.
	file("2.json", `{"id":4,"page":"shop","ts":"2024-01-01 11:20:00"}
{"id":2,"page":"again","ts":"2024-01-01 12:00:00"}
`)
	exec(`BEGIN; INSERT INTO orders VALUES (5, 50, '2024-01-01 12:10:00'); INSERT INTO orders VALUES (4, 41, '2024-01-01 12:15:00'); COMMIT;`)
	h.drain(ctx)
	if err := h.p.Close(); err != nil {
		t.Fatal(err)
	}
	h.reopen(ctx)
	defer h.p.Close()
	if got := h.status(); got != "watermark 2024-01-01 11:00:00; in 7, out 2, late 0; files 1; checkpoints 1" {
		t.Fatalf("after the restart: %s", got)
	}
	h.drain(ctx)
	h.checkpointIs(ctx, false, "2,again,20,2024-01-01 12:00:00,2024-01-01 11:31:00\n4,shop,40,2024-01-01 11:20:00,2024-01-01 10:40:00\n4,shop,41,2024-01-01 11:20:00,2024-01-01 12:15:00"+
		"|watermark 2024-01-01 12:00:00; in 11, out 5, late 0; files 2; checkpoints 2")
	// A rolled back push is never read.
	exec(`BEGIN; INSERT INTO orders VALUES (2, 99, '2024-01-01 12:30:00'); ROLLBACK;`)
	exec(`INSERT INTO orders VALUES (2, 21, '2024-01-01 12:40:00');`)
	h.drain(ctx)
	h.checkpointIs(ctx, true, "2,again,21,2024-01-01 12:00:00,2024-01-01 12:40:00"+
		"|watermark end of input; in 12, out 6, late 0; files 2; checkpoints 3")
}

// TestKafkaKafkaJoin joins two Kafka streams: each keeps its offsets in
// the checkpoint (the first stream's under the partition number, the
// second's under its tag), and a restart reads on from both.
func TestKafkaKafkaJoin(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "clicks", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir, "brokers": strings.Join(c.ListenAddrs(), ",")}})
	defer s.Close()
	exec := func(sql string) {
		t.Helper()
		run, err := s.Exec(ctx, parser.NewSource("j.sql", sql), session.ExecOptions{})
		if err != nil {
			t.Fatal(err)
		}
		run.Release()
	}
	exec(`
CREATE STREAM clicks (id BIGINT, page VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'clicks', format = 'json');
CREATE STREAM orders (id BIGINT, amount BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'orders', format = 'csv');
CREATE SINK out (id BIGINT, page VARCHAR, amount BIGINT)
  WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE PIPELINE p AS INSERT INTO out
  SELECT c.id, c.page, o.amount
  FROM STREAM clicks c JOIN STREAM orders o
    ON c.id = o.id AND o.ts BETWEEN c.ts - INTERVAL '1' HOUR AND c.ts + INTERVAL '1' HOUR;`)
	h := &harness{t: t, dir: dir, eng: eng, now: time.Now(), name: "p", printed: map[string]bool{}}
	h.reopen(ctx)
	exec(`INSERT INTO clicks VALUES (1, 'home', '2024-01-01 10:00:00'), (2, 'cart', '2024-01-01 10:30:00');
INSERT INTO orders VALUES (1, 10, '2024-01-01 10:50:00'), (2, 20, '2024-01-01 11:40:00');`)
	h.drain(ctx)
	h.checkpointIs(ctx, false, "1,home,10|watermark 2024-01-01 10:30:00; in 4, out 1, late 0; files 0; checkpoints 1")
	// Both streams read on, not checkpointed: read again after the restart.
	exec(`INSERT INTO clicks VALUES (3, 'help', '2024-01-01 11:00:00');
INSERT INTO orders VALUES (3, 30, '2024-01-01 11:10:00');`)
	h.drain(ctx)
	if err := h.p.Close(); err != nil {
		t.Fatal(err)
	}
	h.reopen(ctx)
	defer h.p.Close()
	h.drain(ctx)
	h.checkpointIs(ctx, false, "3,help,30|watermark 2024-01-01 11:00:00; in 6, out 2, late 0; files 0; checkpoints 2")
	exec(`INSERT INTO clicks VALUES (2, 'again', '2024-01-01 12:00:00');`)
	h.drain(ctx)
	h.checkpointIs(ctx, true, "2,again,20|watermark end of input; in 7, out 3, late 0; files 0; checkpoints 3")
}

// reopen opens the harness's pipeline, as a restart would.
func (h *harness) reopen(ctx context.Context) {
	h.t.Helper()
	if err := h.open(ctx); err != nil {
		h.t.Fatal(err)
	}
}

// drain polls until every stream of the pipeline is drained (a fetch of a
// Kafka stream may return only the marker that ends a transaction).
func (h *harness) drain(ctx context.Context) {
	h.t.Helper()
	for i := 0; i < 20; i++ {
		n, waiting, err := h.p.Poll(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 && waiting == 0 {
			return
		}
	}
	h.t.Fatal("the streams are not drained after 20 polls")
}

// checkpointIs takes a checkpoint and checks the output it published and
// the pipeline's status after it ("rows|status").
func (h *harness) checkpointIs(ctx context.Context, final bool, want string) {
	h.t.Helper()
	if err := h.p.Checkpoint(ctx, final); err != nil {
		h.t.Fatal(err)
	}
	if got := h.newOutput() + "|" + h.status(); got != want {
		h.t.Fatalf("checkpoint:\n%s\nwant:\n%s", got, want)
	}
}
