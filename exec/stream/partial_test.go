package stream_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// sinkLines returns the rows of the CSV files under dir, sorted.
func sinkLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".csv") || strings.Contains(path, "/_") || strings.Contains(path, "/.") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return lines
}

// TestPartialStateMerge: windows over many keys, with partial state merged
// one (window, partition) group at a time (MergeBytes 1) or many at once
// (the default), across checkpoints, give exactly the rows of the batch
// aggregation over the same files, for TUMBLE and HOP (panes of the slide,
// of 2 seconds for a 10-second window every 4 seconds, and for a 4-second
// window every 10 seconds).
func TestPartialStateMerge(t *testing.T) {
	for _, c := range []struct {
		name, win  string
		mergeBytes int
	}{
		{"TUMBLE", "TUMBLE(ts, INTERVAL '10 seconds')", 1},
		{"HOP", "HOP(ts, INTERVAL '5 seconds', INTERVAL '15 seconds')", 1},
		{"HOP-gcd", "HOP(ts, INTERVAL '4 seconds', INTERVAL '10 seconds')", 1},
		{"HOP-gcd-batched", "HOP(ts, INTERVAL '4 seconds', INTERVAL '10 seconds')", 0},
		// Slide greater than size: the rows between windows are in none.
		{"HOP-gaps", "HOP(ts, INTERVAL '10 seconds', INTERVAL '4 seconds')", 0},
	} {
		win := c.win
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			in := filepath.Join(dir, "in")
			if err := os.MkdirAll(in, 0o755); err != nil {
				t.Fatal(err)
			}
			// 4 files of 1,500 rows over 1,000 keys, 40 s of event time in
			// order (no late row).
			row := 0
			for f := 0; f < 4; f++ {
				var sb strings.Builder
				for i := 0; i < 1500; i++ {
					ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(row) * 40 * time.Second / 6000)
					fmt.Fprintf(&sb, "{\"k\":%d,\"v\":%d,\"ts\":\"%s\"}\n", (row*7919)%1000, row%13-3, ts.Format("2006-01-02 15:04:05.000"))
					row++
				}
				if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("%d.json", f)), []byte(sb.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir}})
			defer s.Close()
			query := `SELECT window_start, k, COUNT(*), SUM(v), MIN(v), MAX(v), AVG(v) FROM %s GROUP BY ` + win + `, k`
			run, err := s.Exec(ctx, parser.NewSource("s.sql", `
CREATE STREAM ev (k BIGINT, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'file', path = '${dir}/in/', format = 'json');
CREATE SOURCE evb (k BIGINT, v BIGINT, ts TIMESTAMP) WITH (path = '${dir}/in/', format = 'json');
CREATE SINK out (ws TIMESTAMP, k BIGINT, n BIGINT, s BIGINT, lo BIGINT, hi BIGINT, a DOUBLE)
  WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE SINK batch (ws TIMESTAMP, k BIGINT, n BIGINT, s BIGINT, lo BIGINT, hi BIGINT, a DOUBLE)
  WITH (path = '${dir}/batch/', format = 'csv', header = 'false');
INSERT INTO batch `+fmt.Sprintf(query, "evb")+`;
CREATE PIPELINE p AS INSERT INTO out `+fmt.Sprintf(query, "STREAM ev")+`;`), session.ExecOptions{})
			if run != nil {
				run.Release()
			}
			if err != nil {
				t.Fatal(err)
			}
			h := &harness{t: t, dir: dir, eng: eng, now: time.Now(), name: "p", printed: map[string]bool{}}
			p, err := s.OpenPipeline(ctx, "p", session.PipelineOptions{CheckpointInterval: time.Hour, Now: h.clock, MergeBytes: c.mergeBytes})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			// A checkpoint after every file: windows span files and
			// checkpoints.
			for {
				n, _, err := p.Poll(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if err := p.Checkpoint(ctx, false); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Checkpoint(ctx, true); err != nil {
				t.Fatal(err)
			}
			got, want := sinkLines(t, filepath.Join(dir, "out")), sinkLines(t, filepath.Join(dir, "batch"))
			if len(want) < 1000 {
				t.Fatalf("the batch gives %d rows only", len(want))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("stream gives %d rows, batch %d; first stream rows:\n%s\nfirst batch rows:\n%s", len(got), len(want),
					strings.Join(got[:min(5, len(got))], "\n"), strings.Join(want[:min(5, len(want))], "\n"))
			}
		})
	}
}
