package connector

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Keys lists every key of a bucket, sorted, run ids replaced.
func s3Keys(t *testing.T, cl *s3.Client, bucket string) string {
	t.Helper()
	out, err := cl.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	sort.Strings(keys)
	return normalize(strings.Join(keys, "\n")+"\n", "")
}

func putObject(t *testing.T, cl *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := cl.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

// TestS3ReadCSVAndParquet reads CSV (a glob, with a bad row quarantined)
// and Parquet (a prefix) from S3, and infers both schemas there.
func TestS3ReadCSVAndParquet(t *testing.T) {
	c, cl, bucket := needS3(t)
	ctx := context.Background()
	putObject(t, cl, bucket, "raw/contacts/a.csv", []byte("id,name,updated_at\n1,Alice,2020-01-02 03:04:05\n2,Bob,2020-13-01\n"))
	putObject(t, cl, bucket, "raw/contacts/b.csv", []byte("id,name,updated_at\n3,Carol,2020-01-04T00:00:00\n"))
	putObject(t, cl, bucket, "raw/contacts/notes.txt", []byte("not csv"))
	putObject(t, cl, bucket, "raw/contacts/_tmp/c.csv", []byte("id,name,updated_at\n9,Hidden,2020-01-01\n"))

	dir := t.TempDir()
	mem := memory.NewGoAllocator()
	writeParquet(t, filepath.Join(dir, "e.parquet"), 2, []string{"id", "kind", "amount"},
		int64s(mem, 1, 2, 3), strs(mem, "click", "NULL", "view"), int64s(mem, 10, 20, 30))
	data, err := os.ReadFile(filepath.Join(dir, "e.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	putObject(t, cl, bucket, "raw/events/day=2024-01-01/e.parquet", data)

	csvOpts, _ := ParseOptions(map[string]string{"path": "s3://" + bucket + "/raw/contacts/*.csv", "header": "true", "on_error": "quarantine"}, RoleSource)
	fields, err := c.InferSchema(ctx, csvOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatFields(fields), "id BIGINT, name VARCHAR, updated_at VARCHAR"; got != want {
		t.Errorf("CSV schema %s, want %s", got, want)
	}
	got := strings.ReplaceAll(scanText(ctx, c, csvOpts, ScanSpec{Fields: parseColumns(t, "id INT NOT NULL, name VARCHAR, updated_at TIMESTAMP")}), bucket, "BUCKET")
	want := `batch 1: 1 rows
  1 | "Alice" | 2020-01-02 03:04:05
batch 2: 1 rows
  3 | "Carol" | 2020-01-04 00:00:00
stats: files=2 rows=2 bad_rows=1 bad_files=0
quarantine:
  "s3://BUCKET/raw/contacts/a.csv" | 3 | "updated_at" | "invalid TIMESTAMP \"2020-13-01\"" | "2,Bob,2020-13-01"
`
	if got != want {
		t.Errorf("CSV from S3:\n%s\nwant:\n%s", got, want)
	}

	pqOpts, _ := ParseOptions(map[string]string{"path": "s3://" + bucket + "/raw/events/", "format": "parquet", "batch_size": "2"}, RoleSource)
	fields, err = c.InferSchema(ctx, pqOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatFields(fields), "id BIGINT, kind VARCHAR, amount BIGINT, day DATE"; got != want {
		t.Errorf("Parquet schema %s, want %s", got, want)
	}
	got = scanText(ctx, c, pqOpts, ScanSpec{Fields: fields, Columns: []int{3, 1, 0}})
	want = `batch 1: 2 rows
  2024-01-01 | "click" | 1
  2024-01-01 | NULL | 2
batch 2: 1 rows
  2024-01-01 | "view" | 3
stats: files=1 rows=3 bad_rows=0 bad_files=0
`
	if got != want {
		t.Errorf("Parquet from S3:\n%s\nwant:\n%s", got, want)
	}
}

// TestS3PartitionedParquetSink writes partitioned Parquet to S3, reads it
// back, overwrites it, and checks the keys at each point.
func TestS3PartitionedParquetSink(t *testing.T) {
	c, cl, bucket := needS3(t)
	ctx := context.Background()
	dir := t.TempDir()
	fields := parseColumns(t, "id INT, name VARCHAR, state CHAR(2)")
	write := func(mode, rows string) {
		recs, err := readRows(ctx, c, dir, fields, rows)
		if err != nil {
			t.Fatal(err)
		}
		opts, _ := ParseOptions(map[string]string{"path": "s3://" + bucket + "/curated/contacts/", "format": "parquet", "partition_by": "state", "mode": mode}, RoleSink)
		s, err := c.OpenSink(ctx, opts, fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
			r.Release()
		}
		if _, err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	write("overwrite", "1,Alice,CA\n2,Bob,NY\n3,Carol,CA")
	if got, want := s3Keys(t, cl, bucket), "curated/contacts/_SUCCESS\ncurated/contacts/state=CA/part-<run>-00000.parquet\ncurated/contacts/state=NY/part-<run>-00001.parquet\n"; got != want {
		t.Errorf("keys:\n%s\nwant:\n%s", got, want)
	}
	ropts, _ := ParseOptions(map[string]string{"path": "s3://" + bucket + "/curated/contacts", "format": "parquet"}, RoleSource)
	got := scanText(ctx, c, ropts, ScanSpec{Fields: fields})
	want := `batch 1: 2 rows
  1 | "Alice" | "CA"
  3 | "Carol" | "CA"
batch 2: 1 rows
  2 | "Bob" | "NY"
stats: files=2 rows=3 bad_rows=0 bad_files=0
`
	if got != want {
		t.Errorf("read back:\n%s\nwant:\n%s", got, want)
	}
	write("overwrite", "4,Dan,TX")
	if got, want := s3Keys(t, cl, bucket), "curated/contacts/_SUCCESS\ncurated/contacts/state=TX/part-<run>-00000.parquet\n"; got != want {
		t.Errorf("keys after overwrite:\n%s\nwant:\n%s", got, want)
	}
}

// TestS3AbortAndCrash: an aborted write leaves nothing and the previous
// output intact; a write that stopped without Commit or Abort (a crash)
// leaves only staged keys, which the next run removes; one that stopped
// after the commit point is finished by the next run.
func TestS3AbortAndCrash(t *testing.T) {
	c, cl, bucket := needS3(t)
	ctx := context.Background()
	dir := t.TempDir()
	fields := parseColumns(t, "id INT, state VARCHAR")
	path := "s3://" + bucket + "/out/"
	open := func(mode, rows string) *Sink {
		recs, err := readRows(ctx, c, dir, fields, rows)
		if err != nil {
			t.Fatal(err)
		}
		opts, _ := ParseOptions(map[string]string{"path": path, "format": "parquet", "partition_by": "state", "mode": mode}, RoleSink)
		s, err := c.OpenSink(ctx, opts, fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
			r.Release()
		}
		return s
	}
	ropts, _ := ParseOptions(map[string]string{"path": path, "format": "parquet"}, RoleSource)
	read := func() string { return scanText(ctx, c, ropts, ScanSpec{Fields: fields}) }

	if _, err := open("overwrite", "1,a\n2,b").Commit(ctx); err != nil {
		t.Fatal(err)
	}
	committed := s3Keys(t, cl, bucket)
	old := read()

	// Abort.
	// (S3 uploads a staged file when it is closed, at Commit, or in parts
	// of 16 MiB before.)
	s := open("overwrite", "3,c")
	if err := s.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s3Keys(t, cl, bucket); got != committed {
		t.Errorf("keys after abort:\n%s\nwant:\n%s", got, committed)
	}
	if got := read(); got != old {
		t.Errorf("after abort:\n%s\nwant:\n%s", got, old)
	}

	// A crash in the middle of moving files into place.
	s = open("overwrite", "3,c\n4,d")
	s.hook = func(step string) error {
		if step == "moved 1" {
			return errCrash
		}
		return nil
	}
	crashCommit(t, s)
	if got := read(); got != old {
		t.Errorf("after a crash while moving:\n%s\nwant:\n%s", got, old)
	}
	open("append", "").Abort(ctx) // the next run recovers
	if got := s3Keys(t, cl, bucket); got != committed {
		t.Errorf("keys after recovery:\n%s\nwant:\n%s", got, committed)
	}

	// A crash after the commit point.
	s = open("overwrite", "5,e")
	s.hook = func(step string) error {
		if step == "published" {
			return errCrash
		}
		return nil
	}
	crashCommit(t, s)
	newOut := `batch 1: 1 rows
  5 | "e"
stats: files=1 rows=1 bad_rows=0 bad_files=0
`
	if got := read(); got != newOut {
		t.Errorf("after a crash past the commit point:\n%s\nwant:\n%s", got, newOut)
	}
	open("append", "").Abort(ctx)
	if got, want := s3Keys(t, cl, bucket), "out/_SUCCESS\nout/state=e/part-<run>-00000.parquet\n"; got != want {
		t.Errorf("keys after recovery:\n%s\nwant:\n%s", got, want)
	}
}

// errCrash stops Commit like a crash (see crashCommit).
var errCrash = errors.New("simulated crash")

// crashCommit runs Commit with its hook panicking where the hook returns
// errCrash. A panic unwinds Commit without its clean-up on error (which
// looks at the returned error, not set yet while panicking), as a killed
// process would; the boundary then turns the panic into an error.
func crashCommit(t *testing.T, s *Sink) {
	t.Helper()
	hook := s.hook
	s.hook = func(step string) error {
		if err := hook(step); err != nil {
			panic(err)
		}
		return nil
	}
	if _, err := s.Commit(context.Background()); err == nil || !strings.Contains(err.Error(), errCrash.Error()) {
		t.Fatalf("Commit did not crash: %v", err)
	}
}

// TestS3MultipartAndRanges writes an object larger than one upload part
// and reads ranges of it back.
func TestS3MultipartAndRanges(t *testing.T) {
	c, _, bucket := needS3(t)
	ctx := context.Background()
	fs, key, err := c.Resolve(ctx, "s3://"+bucket+"/big/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, s3PartSize+s3PartSize/2+123)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	if err := WriteAll(ctx, fs, key, data); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size() != int64(len(data)) {
		t.Fatalf("size %d, want %d", f.Size(), len(data))
	}
	for _, off := range []int64{0, s3PartSize - 5, int64(len(data)) - 10} {
		buf := make([]byte, 20)
		n, err := f.ReadAt(buf, off)
		wantN := min(20, len(data)-int(off))
		if n != wantN || !bytes.Equal(buf[:n], data[off:off+int64(n)]) {
			t.Errorf("ReadAt(%d): %d bytes, %v", off, n, err)
		}
	}
	if _, err := fs.Stat(ctx, "big/missing"); !errors.Is(err, ErrNotExist) {
		t.Errorf("Stat of a missing key: %v", err)
	}
}
