package stream_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// TestRowsHook: the Rows hook sees the stream's rows (all columns) before
// the plan; the rows it drops reach no window and do not move the
// watermark.
func TestRowsHook(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir}})
	defer s.Close()
	run, err := s.Exec(ctx, parser.NewSource("s.sql", `
CREATE STREAM ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'file', path = '${dir}/in/', format = 'json');
CREATE SINK out (ws TIMESTAMP, k VARCHAR, s BIGINT) WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE PIPELINE p AS INSERT INTO out
  SELECT window_start, k, SUM(v) FROM STREAM ev GROUP BY TUMBLE(ts, INTERVAL '1 minute'), k;`), session.ExecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run.Release()
	os.MkdirAll(filepath.Join(dir, "in"), 0o755)
	os.WriteFile(filepath.Join(dir, "in", "1.json"), []byte(`{"k":"a","v":1,"ts":"2024-01-01 00:00:01"}
{"k":"a","v":-5,"ts":"2024-01-01 00:09:00"}
{"k":"b","v":2,"ts":"2024-01-01 00:00:30"}
`), 0o644)
	var seen int64
	dropNegative := func(ctx context.Context, rec arrow.Record) (arrow.Record, error) {
		seen += rec.NumRows()
		if rec.NumCols() != 3 {
			t.Errorf("hook sees %d columns, want 3", rec.NumCols())
		}
		v := rec.Column(1).(*array.Int64)
		b := array.NewBooleanBuilder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < v.Len(); i++ {
			b.Append(v.IsValid(i) && v.Value(i) >= 0)
		}
		mask := b.NewArray()
		defer mask.Release()
		return compute.FilterRecordBatch(ctx, rec, mask, compute.DefaultFilterOptions())
	}
	now := time.Now()
	h := &harness{t: t, dir: dir, eng: eng, now: now, name: "p", printed: map[string]bool{}}
	p, err := s.OpenPipeline(ctx, "p", session.PipelineOptions{CheckpointInterval: time.Hour, Now: h.clock, Rows: dropNegative})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The watermark is 00:00:30 (the dropped row's 00:09:00 does not count):
	// no window is final yet.
	if got, want := h.newOutput()+"|"+h.status(), "|watermark 2024-01-01 00:00:30; in 3, out 0, late 0; files 1; checkpoints 1"; got != want || seen != 3 {
		t.Fatalf("got %s (hook saw %d rows), want %s", got, seen, want)
	}
	if err := p.Checkpoint(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got, want := h.newOutput(), "2024-01-01 00:00:00,a,1\n2024-01-01 00:00:00,b,2"; got != want {
		t.Fatalf("output:\n%s\nwant:\n%s", got, want)
	}
}
