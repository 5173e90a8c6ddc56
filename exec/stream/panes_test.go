package stream_test

import (
	"context"
	"fmt"
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

// TestHopRestarts: a HOP pipeline (10-second windows every 3 seconds,
// panes of 1 second) over files of out-of-order rows, some late, restarted
// from its last checkpoint at many points between checkpoints (the panes
// written since dropped, their files read again), writes exactly what an
// uninterrupted run writes.
func TestHopRestarts(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, restartAt func(step int) bool) ([]string, int64) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in")
		if err := os.MkdirAll(in, 0o755); err != nil {
			t.Fatal(err)
		}
		eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir}})
		defer s.Close()
		res, err := s.Exec(ctx, parser.NewSource("s.sql", `
CREATE STREAM ev (k BIGINT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '2 seconds')
  WITH (connector = 'file', path = '${dir}/in/', format = 'json');
CREATE SINK out (ws TIMESTAMP, k BIGINT, n BIGINT, s BIGINT, lo BIGINT, hi BIGINT)
  WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE PIPELINE p AS INSERT INTO out
  SELECT window_start, k, COUNT(*), SUM(v), MIN(v), MAX(v) FROM STREAM ev
  GROUP BY HOP(ts, INTERVAL '3 seconds', INTERVAL '10 seconds'), k;`), session.ExecOptions{})
		if res != nil {
			res.Release()
		}
		if err != nil {
			t.Fatal(err)
		}
		open := func() *session.PipelineRun {
			p, err := s.OpenPipeline(ctx, "p", session.PipelineOptions{CheckpointInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		p := open()
		defer func() { p.Close() }()
		base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		row := 0
		for f := 0; f < 12; f++ {
			// 200 rows 25 ms apart, each up to 3 s early: some late.
			var sb strings.Builder
			for i := 0; i < 200; i++ {
				ts := base.Add(time.Duration(row)*25*time.Millisecond - time.Duration(row*7919%3000)*time.Millisecond)
				fmt.Fprintf(&sb, "{\"k\":%d,\"v\":%d,\"ts\":\"%s\"}\n", row*31%17, row%23-5, ts.Format("2006-01-02 15:04:05.000"))
				row++
			}
			name := filepath.Join(in, fmt.Sprintf("%02d.json", f))
			if err := os.WriteFile(name+".tmp", []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(name+".tmp", name); err != nil {
				t.Fatal(err)
			}
			if _, _, err := p.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if restartAt(2 * f) {
				p.Close()
				p = open()
			}
			if f%3 == 2 {
				if err := p.Checkpoint(ctx, false); err != nil {
					t.Fatal(err)
				}
			}
			if restartAt(2*f + 1) {
				p.Close()
				p = open()
			}
		}
		if _, _, err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Checkpoint(ctx, true); err != nil {
			t.Fatal(err)
		}
		var late int64
		for _, st := range eng.PipelineStatus() {
			if st.Name == "p" {
				late = st.LateRows
			}
		}
		return sinkLines(t, filepath.Join(dir, "out")), late
	}
	want, wantLate := run(t, func(int) bool { return false })
	if len(want) < 100 || wantLate == 0 {
		t.Fatalf("%d rows, %d late", len(want), wantLate)
	}
	for _, every := range []int{2, 3} {
		t.Run(fmt.Sprintf("every%d", every), func(t *testing.T) {
			got, late := run(t, func(step int) bool { return step%every == every-1 })
			if strings.Join(got, "\n") != strings.Join(want, "\n") || late != wantLate {
				t.Fatalf("with restarts %d rows (%d late), without %d (%d late)", len(got), late, len(want), wantLate)
			}
		})
	}
}
