package stream_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/exec/stream"
	"github.com/etlc/etlc/parser"
)

// TestHopRefusesPerWindowState: a HOP pipeline does not resume from state
// an earlier etlc kept as partial aggregates per window (layout
// "partial-v1"): its panes would be read as windows. Open says so; the
// pipeline's own state (panes) it resumes from.
func TestHopRefusesPerWindowState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in", "1.json"), []byte(`{"k":"a","v":1,"ts":"2024-01-01 00:00:05"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
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
  SELECT window_start, k, SUM(v) FROM STREAM ev GROUP BY HOP(ts, INTERVAL '20 seconds', INTERVAL '50 seconds'), k;`), session.ExecOptions{})
	if run != nil {
		run.Release()
	}
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*session.PipelineRun, error) {
		return s.OpenPipeline(ctx, "p", session.PipelineOptions{CheckpointInterval: time.Hour})
	}
	p, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Its own state: it resumes.
	if p, err = open(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := stream.SetStateLayout(filepath.Join(dir, "data", "pipelines", "p"), "partial-v1"); err != nil {
		t.Fatal(err)
	}
	p, err = open()
	if err == nil {
		p.Close()
		t.Fatal("the pipeline resumed from per-window HOP state")
	}
	want := `pipeline "p": its state in ` + filepath.Join(dir, "data", "pipelines", "p") + ` was written by another version of etlc (layout "partial-v1", this one keeps "partial-panes-v1")`
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q\ndoes not say %q", err, want)
	}
}
