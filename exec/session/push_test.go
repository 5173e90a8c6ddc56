package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/connector/s3test"
)

// streamFiles returns the names under a stream's directory, hidden ones
// included, sorted.
func streamFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// TestPushIntoStream pushes rows into a file stream with INSERT ... VALUES,
// INSERT ... SELECT and COPY FROM STDIN, each as one new file, then runs
// the pipeline reading the stream until it is idle; a bad row fails as an
// INSERT into a table does and writes no file.
func TestPushIntoStream(t *testing.T) {
	ctx := context.Background()
	e := openEngine(t)
	s := e.NewSession(Options{})
	defer s.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	mustExec(t, s, fmt.Sprintf(`
CREATE STREAM ev (id BIGINT, amount DECIMAL(6,2), note VARCHAR) WITH (connector = 'file', path = '%[1]s/in/', format = 'csv', header = 'true');
CREATE SINK ev_out (id BIGINT, amount DECIMAL(6,2), note VARCHAR) WITH (path = '%[1]s/out/', format = 'csv', header = 'false');
CREATE PIPELINE copy_ev AS INSERT INTO ev_out SELECT id, amount, note FROM STREAM ev;`, dir))

	run := mustExec(t, s, "INSERT INTO ev VALUES (1, 1.5, 'a'), (2, '2.25', NULL)")
	if tag := run.Statements[0].Tag; tag != "INSERT 0 2" {
		t.Errorf("tag %q", tag)
	}
	mustExec(t, s, "INSERT INTO ev (note, id) SELECT 'sel', 3")
	files := streamFiles(t, in)
	if len(files) != 2 || !strings.HasPrefix(files[0], "part-") || !strings.HasSuffix(files[0], ".csv") {
		t.Fatalf("files after two INSERTs: %v", files)
	}
	data, err := os.ReadFile(filepath.Join(in, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != "id,amount,note\n1,1.50,a\n2,2.25,\n" {
		t.Errorf("first file:\n%s", got)
	}

	ci, err := s.BeginCopyIn(ctx, "ev", []string{"id", "amount"})
	if err != nil {
		t.Fatal(err)
	}
	rec := textBatch([]string{"id", "amount"}, []string{"4", "4.00"}, []string{"5", "NULL"})
	if err := ci.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if n, err := ci.Commit(ctx); err != nil || n != 2 {
		t.Fatalf("COPY: %d %v", n, err)
	}

	// Bad rows: the error of an INSERT into a table, and no file.
	_, err = execScript(t, s, "bad.sql", "INSERT INTO ev (id) SELECT CAST(x AS BIGINT) FROM (SELECT '6' AS x UNION ALL SELECT 'seven') AS v")
	if se := stmtErr(t, err); se.Code != "22P02" {
		t.Errorf("bad INSERT: %s %s", se.Code, se.Message)
	}
	ci, err = s.BeginCopyIn(ctx, "ev", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec = textBatch([]string{"id", "amount", "note"}, []string{"8", "1", "x"}, []string{"9", "abc", "y"})
	err = ci.Write(ctx, rec)
	rec.Release()
	if re, ok := err.(*CopyRowError); !ok || re.Row != 1 || re.Column != "amount" || re.Code != "22P02" {
		t.Errorf("bad COPY row: %#v", err)
	}
	ci.Abort(ctx)
	if got := streamFiles(t, in); len(got) != 3 {
		t.Errorf("files after the failed pushes: %v", got)
	}

	if err := s.RunPipeline(ctx, "copy_ev", PipelineOptions{UntilIdle: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"1|1.50|a", "2|2.25|NULL", "3|NULL|sel", "4|4.00|NULL", "5|NULL|NULL"}
	if got := rows(t, s, "SELECT id, amount, note FROM ev_out ORDER BY id"); !slices.Equal(got, want) {
		t.Errorf("sink:\n%v\nwant\n%v", got, want)
	}
}

// TestPushIntoStreamBlock stages a push in a transaction block: nothing
// visible to the stream until COMMIT, nothing at all after ROLLBACK.
func TestPushIntoStreamBlock(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	defer s.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	mustExec(t, s, fmt.Sprintf(`CREATE STREAM ev (id BIGINT) WITH (connector = 'file', path = '%s/in/', format = 'csv', header = 'false');`, dir))
	visible := func() []string {
		var out []string
		for _, f := range streamFiles(t, in) {
			if !strings.HasPrefix(f, "_") {
				out = append(out, f)
			}
		}
		return out
	}
	mustExec(t, s, "BEGIN; INSERT INTO ev VALUES (1); INSERT INTO ev VALUES (2), (3);")
	if got := visible(); len(got) != 0 {
		t.Fatalf("visible before COMMIT: %v", got)
	}
	mustExec(t, s, "COMMIT")
	got := visible()
	if len(got) != 2 {
		t.Fatalf("after COMMIT: %v", got)
	}
	var all []string
	for _, f := range got {
		data, err := os.ReadFile(filepath.Join(in, f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, string(data))
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"1\n", "2\n3\n"}) {
		t.Errorf("files: %q", all)
	}
	mustExec(t, s, "BEGIN; INSERT INTO ev VALUES (4); ROLLBACK;")
	if got := streamFiles(t, in); len(got) != 2 {
		t.Errorf("after ROLLBACK: %v", got)
	}
}

// TestPushIntoS3Stream pushes rows into a stream on an S3 prefix (a real
// S3-compatible server on 127.0.0.1) and drains it with the pipeline: one
// object per push, no staging object left.
func TestPushIntoS3Stream(t *testing.T) {
	s3test.Run(t)
	ctx := context.Background()
	cl, err := connector.NewS3Client(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bucket, _ := s3test.Bucket(ctx, t, cl)
	s := openEngine(t).NewSession(Options{Params: map[string]string{"bucket": bucket}})
	defer s.Close()
	mustExec(t, s, `
CREATE STREAM ev (id BIGINT, note VARCHAR) WITH (connector = 'file', path = 's3://${bucket}/in/', format = 'json');
CREATE SINK ev_out (id BIGINT, note VARCHAR) WITH (path = 's3://${bucket}/out/', format = 'csv');
CREATE PIPELINE p AS INSERT INTO ev_out SELECT id, note FROM STREAM ev;
INSERT INTO ev VALUES (1, 'a'), (2, NULL);
INSERT INTO ev SELECT 3, 'c';`)
	out, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: strPtr("in/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "in/part-") || !strings.HasSuffix(keys[1], ".json") {
		t.Fatalf("stream objects: %v", keys)
	}
	if err := s.RunPipeline(ctx, "p", PipelineOptions{UntilIdle: true}); err != nil {
		t.Fatal(err)
	}
	want := []string{"1|a", "2|NULL", "3|c"}
	if got := rows(t, s, "SELECT id, note FROM ev_out ORDER BY id"); !slices.Equal(got, want) {
		t.Errorf("sink: %v, want %v", got, want)
	}
}
