package stream_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/connector/s3test"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// TestS3Stream runs a windowed pipeline over an S3 prefix on a real
// S3-compatible server: objects put after the pipeline started are read at
// the next poll, each once, and the output published to an S3 sink reads
// back with the expected windows.
func TestS3Stream(t *testing.T) {
	s3test.Run(t)
	ctx := context.Background()
	cl, err := connector.NewS3Client(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bucket, put := s3test.Bucket(ctx, t, cl)
	eng, err := session.Open(ctx, filepath.Join(t.TempDir(), "data"), session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	params := map[string]string{"bucket": bucket}
	s := eng.NewSession(session.Options{Params: params})
	defer s.Close()
	exec := func(sql string) []string {
		run, err := s.Exec(ctx, parser.NewSource("t.sql", sql), session.ExecOptions{})
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer run.Release()
		var rows []string
		for _, st := range run.Statements {
			for _, rec := range st.Records {
				for i := 0; i < int(rec.NumRows()); i++ {
					var cells []string
					for c := 0; c < int(rec.NumCols()); c++ {
						v, _ := session.FormatValue(rec.Column(c), i)
						cells = append(cells, v)
					}
					rows = append(rows, strings.Join(cells, "|"))
				}
			}
		}
		return rows
	}
	exec(`
CREATE STREAM ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts)
  WITH (connector = 'file', path = 's3://${bucket}/in/', format = 'json');
CREATE SINK out (ws TIMESTAMP, k VARCHAR, s BIGINT)
  WITH (path = 's3://${bucket}/out/', format = 'parquet');
CREATE PIPELINE p AS INSERT INTO out
  SELECT window_start, k, SUM(v) FROM STREAM ev GROUP BY TUMBLE(ts, INTERVAL '1 minute'), k;`)
	put("in/1.json", `{"k":"a","v":1,"ts":"2024-01-01 00:00:01"}`+"\n"+`{"k":"b","v":2,"ts":"2024-01-01 00:00:02"}`+"\n")
	p, err := s.OpenPipeline(ctx, "p", session.PipelineOptions{CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if n, _, err := p.Poll(ctx); err != nil || n != 1 {
		t.Fatalf("first poll: %d files, %v", n, err)
	}
	put("in/2.json", `{"k":"a","v":4,"ts":"2024-01-01 00:01:30"}`+"\n")
	if n, _, err := p.Poll(ctx); err != nil || n != 1 {
		t.Fatalf("second poll: %d files, %v", n, err)
	}
	if n, _, err := p.Poll(ctx); err != nil || n != 0 {
		t.Fatalf("third poll: %d files, %v", n, err)
	}
	if err := p.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	back := `CREATE OR REPLACE SOURCE back WITH (path = 's3://${bucket}/out/', format = 'parquet');
SELECT * FROM back ORDER BY 1, 2;`
	if got, want := strings.Join(exec(back), ","), "2024-01-01 00:00:00+00|a|1,2024-01-01 00:00:00+00|b|2"; got != want {
		t.Fatalf("after the first checkpoint: %s, want %s", got, want)
	}
	if err := p.Checkpoint(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(exec(back), ","), "2024-01-01 00:00:00+00|a|1,2024-01-01 00:00:00+00|b|2,2024-01-01 00:01:00+00|a|4"; got != want {
		t.Fatalf("at the end: %s, want %s", got, want)
	}
}
