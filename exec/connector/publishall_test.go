package connector

import (
	"context"
	"strings"
	"testing"
)

// prepareRows writes rows into a new sink at dir/out in the given mode and
// prepares it, held.
func prepareRows(t *testing.T, c *FileConnector, dir, mode, rows string) *Sink {
	t.Helper()
	s, err := writeSinkRows(t, c, dir, mode, rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Hold()
	return s
}

// TestPublishAllAfterAnotherWriter: a held, prepared append survives
// another writer's OpenSink and overwrite on the same path, and
// PublishAll adds its rows to what that writer published; its staged
// files read before publishing.
func TestPublishAllAfterAnotherWriter(t *testing.T) {
	ctx := context.Background()
	c := checkedConnector(t)
	dir := t.TempDir()
	setupOld(t, c, dir)
	held := prepareRows(t, c, dir, "append", "7,q")
	opts, _ := ParseOptions(map[string]string{"path": dir + "/out/", "format": "parquet"}, RoleSource)
	got := normalize(scanText(ctx, c, opts, ScanSpec{Fields: parseColumns(t, sinkTestColumns), Files: held.StagedFiles()}), dir)
	if want := "batch 1: 1 rows\n  7 | \"q\"\nstats: files=1 rows=1 bad_rows=0 bad_files=0\n"; got != want {
		t.Errorf("staged files read:\n%s\nwant:\n%s", got, want)
	}
	other, err := writeSinkRows(t, c, dir, "overwrite", "3,a\n4,b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readOut(t, c, dir); got != newOverwrite {
		t.Fatalf("after the other writer:\n%s", got)
	}
	if !strings.Contains(listTree(t, dir+"/out"), stagingPrefix+held.RunID()) {
		t.Fatal("the other writer's OpenSink removed the held run's staging")
	}
	if _, err := PublishAll(ctx, []*Sink{held}); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(newOverwrite, "stats: files=2 rows=2", "batch 3: 1 rows\n  7 | \"q\"\nstats: files=3 rows=3", 1)
	if got := readOut(t, c, dir); got != want {
		t.Errorf("after PublishAll:\n%s\nwant:\n%s", got, want)
	}
	checkClean(t, dir)
}

// TestPublishAllSequence: an append, an overwrite and an append of one
// path publish as one commit: the overwrite drops the old output and the
// first append, the last append adds to the overwrite.
func TestPublishAllSequence(t *testing.T) {
	ctx := context.Background()
	c := checkedConnector(t)
	dir := t.TempDir()
	setupOld(t, c, dir)
	a := prepareRows(t, c, dir, "append", "5,z")
	b := prepareRows(t, c, dir, "overwrite", "3,a")
	d := prepareRows(t, c, dir, "append", "4,b")
	if got := readOut(t, c, dir); got != oldOutput {
		t.Fatalf("before PublishAll:\n%s", got)
	}
	m, err := PublishAll(ctx, []*Sink{a, b, d})
	if err != nil {
		t.Fatal(err)
	}
	if m.Mode != "overwrite" || m.Rows != 2 || len(m.Files) != 2 || m.RunID != d.RunID() {
		t.Errorf("manifest: %+v", m)
	}
	if got := readOut(t, c, dir); got != newOverwrite {
		t.Errorf("after PublishAll:\n%s\nwant:\n%s", got, newOverwrite)
	}
	checkClean(t, dir)
	if _, err := PublishAll(ctx, []*Sink{a}); err == nil || err.Error() != "publish of a sink that is not prepared" {
		t.Errorf("second PublishAll: %v", err)
	}
}

// TestPublishAllFailure: a staged file gone before PublishAll (another
// writer removed it) fails the publish, which takes back what it moved
// and aborts every sink: the old output stays, nothing is left behind.
func TestPublishAllFailure(t *testing.T) {
	ctx := context.Background()
	c := checkedConnector(t)
	dir := t.TempDir()
	setupOld(t, c, dir)
	a := prepareRows(t, c, dir, "append", "5,z")
	b := prepareRows(t, c, dir, "append", "6,y")
	if err := (LocalFS{}).Remove(ctx, b.StagedFiles()[0].Name); err != nil {
		t.Fatal(err)
	}
	if _, err := PublishAll(ctx, []*Sink{a, b}); err == nil || !strings.Contains(err.Error(), "into place") {
		t.Fatalf("PublishAll: %v", err)
	}
	if got := readOut(t, c, dir); got != oldOutput {
		t.Errorf("after the failed PublishAll:\n%s", got)
	}
	checkClean(t, dir)
	if c.isHeld(a.RunID()) || c.isHeld(b.RunID()) {
		t.Error("runs still held after the abort")
	}
}

// TestPublishStagedAll: PublishAll of an overwrite and an append killed
// after moving the files (before the manifest) or after publishing it
// (before the clean-up) is finished by PublishStagedAll through another
// connector, as after a restart; a second call changes nothing.
func TestPublishStagedAll(t *testing.T) {
	ctx := context.Background()
	for _, stop := range []string{"moved", "deleted"} {
		t.Run(stop, func(t *testing.T) {
			c := checkedConnector(t)
			dir := t.TempDir()
			setupOld(t, c, dir)
			a := prepareRows(t, c, dir, "overwrite", "3,a")
			d := prepareRows(t, c, dir, "append", "4,b")
			d.hook = func(step string) error {
				if step == stop {
					panic(errCrash)
				}
				return nil
			}
			func() {
				defer func() { recover() }()
				PublishAll(ctx, []*Sink{a, d})
			}()
			if got := readOut(t, c, dir); stop == "moved" && got != oldOutput {
				t.Fatalf("before PublishStagedAll:\n%s", got)
			}
			restarted := NewFileConnector(Config{})
			opts, _ := ParseOptions(map[string]string{"path": dir + "/out/", "format": "parquet", "partition_by": "p"}, RoleSink)
			for i := 0; i < 2; i++ {
				if err := restarted.PublishStagedAll(ctx, opts, []string{a.RunID(), d.RunID()}); err != nil {
					t.Fatalf("PublishStagedAll %d: %v", i+1, err)
				}
				checkClean(t, dir)
				if got := readOut(t, c, dir); got != newOverwrite {
					t.Errorf("after PublishStagedAll %d:\n%s\nwant:\n%s", i+1, got, newOverwrite)
				}
			}
		})
	}
}
