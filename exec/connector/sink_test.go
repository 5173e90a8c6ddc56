package connector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const sinkTestColumns = "id INT, p VARCHAR"

// writeSinkRows writes CSV rows of sinkTestColumns to a Parquet sink at
// dir/out partitioned by p, with hook set; commit says whether to commit.
func writeSinkRows(t testing.TB, c *FileConnector, dir, mode, rows string, hook func(string) error) (*Sink, error) {
	ctx := context.Background()
	fields := parseColumns(t, sinkTestColumns)
	recs, err := readRows(ctx, c, dir, fields, rows)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	opts, err := ParseOptions(map[string]string{"path": dir + "/out/", "format": "parquet", "partition_by": "p", "mode": mode}, RoleSink)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.OpenSink(ctx, opts, fields)
	if err != nil {
		return nil, err
	}
	s.hook = hook
	for _, r := range recs {
		if err := s.Write(ctx, r); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readOut reads dir/out as a reader would: one line per row, sorted by the
// order of the files.
func readOut(t testing.TB, c *FileConnector, dir string) string {
	opts, err := ParseOptions(map[string]string{"path": dir + "/out/", "format": "parquet"}, RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	return normalize(scanText(context.Background(), c, opts, ScanSpec{Fields: parseColumns(t, sinkTestColumns)}), dir)
}

const (
	oldOutput = `batch 1: 1 rows
  1 | "a"
batch 2: 1 rows
  2 | "x"
stats: files=2 rows=2 bad_rows=0 bad_files=0
`
	newOverwrite = `batch 1: 1 rows
  3 | "a"
batch 2: 1 rows
  4 | "b"
stats: files=2 rows=2 bad_rows=0 bad_files=0
`
	newAppend = `batch 1: 1 rows
  1 | "a"
batch 2: 1 rows
  2 | "x"
batch 3: 1 rows
  3 | "a"
batch 4: 1 rows
  4 | "b"
stats: files=4 rows=4 bad_rows=0 bad_files=0
`
)

// commitSteps are the hook points of Commit, in order.
var commitSteps = []string{"closed", "staged", "moved 1", "moved 2", "published", "deleted"}

func stepIndex(step string) int {
	for i, s := range commitSteps {
		if s == step {
			return i
		}
	}
	panic(step)
}

// setupOld commits the previous output: rows 1 (p=a) and 2 (p=x).
func setupOld(t testing.TB, c *FileConnector, dir string) {
	s, err := writeSinkRows(t, c, dir, "overwrite", "1,a\n2,x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// checkClean checks that every file under dir/out is _SUCCESS or a file
// its manifest lists: no staging directory, temporary manifest or orphan.
func checkClean(t testing.TB, dir string) {
	t.Helper()
	m, err := readManifest(context.Background(), LocalFS{}, dir+"/out/")
	if err != nil || m == nil {
		t.Fatalf("manifest: %v %v", m, err)
	}
	listed := map[string]bool{manifestName: true}
	for _, f := range m.Files {
		listed[f.Path] = true
	}
	tree := listTree(t, filepath.Join(dir, "out"))
	for _, name := range strings.Fields(tree) {
		if !listed[name] {
			t.Errorf("left behind: %s", name)
		}
	}
	if got := len(strings.Fields(tree)); got != len(m.Files)+1 {
		t.Errorf("%d files, the manifest lists %d:\n%s", got, len(m.Files), tree)
	}
}

// TestSinkFailureAtEachStep: Commit failing at each step rolls back
// (before the commit point: old output intact, nothing left) or stays
// committed (after it); the next OpenSink finishes what is left.
func TestSinkFailureAtEachStep(t *testing.T) {
	for _, mode := range []string{"overwrite", "append"} {
		for _, step := range commitSteps {
			if step == "deleted" && mode == "append" {
				continue // append deletes nothing
			}
			t.Run(mode+"/"+step, func(t *testing.T) {
				c := checkedConnector(t)
				dir := t.TempDir()
				setupOld(t, c, dir)
				boom := errors.New("boom")
				s, err := writeSinkRows(t, c, dir, mode, "3,a\n4,b", func(s string) error {
					if s == step {
						return boom
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				_, err = s.Commit(context.Background())
				if !errors.Is(err, boom) {
					t.Fatalf("Commit: %v, want boom", err)
				}
				want := oldOutput
				if stepIndex(step) >= stepIndex("published") {
					want = map[string]string{"overwrite": newOverwrite, "append": newAppend}[mode]
				}
				if got := readOut(t, c, dir); got != want {
					t.Errorf("after the failure:\n%s\nwant:\n%s", got, want)
				}
				// The next run recovers.
				s2, err := writeSinkRows(t, c, dir, "append", "", nil)
				if err != nil {
					t.Fatal(err)
				}
				s2.Abort(context.Background())
				checkClean(t, dir)
				if got := readOut(t, c, dir); got != want {
					t.Errorf("after recovery:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}

// TestMain runs the crash helper when asked to, and the tests otherwise.
func TestMain(m *testing.M) {
	if step := os.Getenv("ETLC_TEST_KILL_AT"); step != "" {
		crashHelper(step)
		return
	}
	os.Exit(runWithS3(m))
}

// crashHelper writes rows 3 (p=a) and 4 (p=b) to the sink in
// $ETLC_TEST_DIR/out with mode $ETLC_TEST_MODE and kills itself with
// SIGKILL at the Commit step named step ("write": before Commit).
func crashHelper(step string) {
	dir, mode := os.Getenv("ETLC_TEST_DIR"), os.Getenv("ETLC_TEST_MODE")
	c := NewFileConnector(Config{})
	kill := func(s string) error {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}
	s, err := writeSinkRows(fatalTB{}, c, dir, mode, "3,a\n4,b", kill)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	kill("write")
	if _, err := s.Commit(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// fatalTB is the testing.TB of the crash helper process: Fatal exits.
type fatalTB struct{ testing.TB }

func (fatalTB) Helper()                   {}
func (fatalTB) Fatal(args ...any)         { fmt.Fprintln(os.Stderr, args...); os.Exit(3) }
func (fatalTB) Fatalf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...); os.Exit(3) }

// TestSinkSIGKILL kills a writing process with SIGKILL at each step of a
// write and checks what readers see then, and after the next run's
// recovery: the old output before the commit point, the new after it,
// never a mix, and nothing left behind.
func TestSinkSIGKILL(t *testing.T) {
	steps := append([]string{"write"}, commitSteps...)
	for _, mode := range []string{"overwrite", "append"} {
		for _, step := range steps {
			if step == "deleted" && mode == "append" {
				continue
			}
			t.Run(mode+"/"+step, func(t *testing.T) {
				c := checkedConnector(t)
				dir := t.TempDir()
				setupOld(t, c, dir)
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "ETLC_TEST_KILL_AT="+step, "ETLC_TEST_DIR="+dir, "ETLC_TEST_MODE="+mode)
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
					t.Fatalf("helper was not killed: %v\n%s", err, out)
				}
				if !strings.Contains(listTree(t, dir+"/out"), stagingPrefix) {
					t.Errorf("no staging directory left by the killed run:\n%s", listTree(t, dir+"/out"))
				}
				want := oldOutput
				if step != "write" && stepIndex(step) >= stepIndex("published") {
					want = map[string]string{"overwrite": newOverwrite, "append": newAppend}[mode]
				}
				if got := readOut(t, c, dir); got != want {
					t.Errorf("after the kill:\n%s\nwant:\n%s", got, want)
				}
				s2, err := writeSinkRows(t, c, dir, "append", "", nil)
				if err != nil {
					t.Fatal(err)
				}
				s2.Abort(context.Background())
				checkClean(t, dir)
				if got := readOut(t, c, dir); got != want {
					t.Errorf("after recovery:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}

// TestSinkAbortAndReuse: Abort removes the staging directory; Write after
// Commit fails; a sink path that is a file is refused.
func TestSinkAbortAndReuse(t *testing.T) {
	ctx := context.Background()
	c := checkedConnector(t)
	dir := t.TempDir()
	setupOld(t, c, dir)
	s, err := writeSinkRows(t, c, dir, "overwrite", "5,z", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(listTree(t, dir+"/out"), stagingPrefix) {
		t.Fatal("nothing staged")
	}
	if err := s.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	checkClean(t, dir)
	if got := readOut(t, c, dir); got != oldOutput {
		t.Errorf("after abort:\n%s", got)
	}
	if _, err := s.Commit(ctx); err == nil || err.Error() != "commit of a sink that is committed or aborted" {
		t.Errorf("commit after abort: %v", err)
	}
	os.WriteFile(dir+"/file", []byte("x"), 0o644)
	opts, _ := ParseOptions(map[string]string{"path": dir + "/file", "format": "csv"}, RoleSink)
	if _, err := c.OpenSink(ctx, opts, parseColumns(t, "a INT")); err == nil || !strings.HasSuffix(err.Error(), "is a file; a sink writes a directory") {
		t.Errorf("sink on a file: %v", err)
	}
}

// TestPublishStaged: a run prepared (Prepare) and left there, as by a
// crash after the caller recorded its id, is published by PublishStaged,
// also when the crash came after some of its files were moved into place;
// publishing it again, or a run already published, is a no-op.
func TestPublishStaged(t *testing.T) {
	ctx := context.Background()
	for _, stop := range []string{"staged", "moved 1", "published"} {
		t.Run(stop, func(t *testing.T) {
			c := checkedConnector(t)
			dir := t.TempDir()
			setupOld(t, c, dir)
			s, err := writeSinkRows(t, c, dir, "append", "3,a\n4,b", func(step string) error {
				if step == stop && step != "staged" {
					return errCrash
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			run := s.RunID()
			if stop != "staged" {
				// A crash inside Publish: the deferred clean-up of a
				// failing Publish must not run, as in a killed process.
				s.hook = func(step string) error {
					if step == stop {
						panic(errCrash)
					}
					return nil
				}
				func() {
					defer func() { recover() }()
					s.Publish(ctx)
				}()
			}
			if got := readOut(t, c, dir); stop != "published" && got != oldOutput {
				t.Fatalf("before PublishStaged:\n%s", got)
			}
			opts, _ := ParseOptions(map[string]string{"path": dir + "/out/", "format": "parquet", "partition_by": "p"}, RoleSink)
			for i := 0; i < 2; i++ {
				if err := c.PublishStaged(ctx, opts, run); err != nil {
					t.Fatalf("PublishStaged %d: %v", i+1, err)
				}
				checkClean(t, dir)
				if got := readOut(t, c, dir); got != newAppend {
					t.Errorf("after PublishStaged %d:\n%s\nwant:\n%s", i+1, got, newAppend)
				}
			}
		})
	}
}
