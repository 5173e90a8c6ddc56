package connector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The cache stays within its bound, dropping the least recently used
// entries first.
func TestMetaCacheBound(t *testing.T) {
	c := newMetaCache(4096)
	v := fileVersion{size: 1, mtime: time.Unix(1, 0)}
	files := []SourceFile{{FileInfo: FileInfo{Name: "d/part-0.parquet", Size: 10}, Rel: "part-0.parquet"}}
	for _, dir := range []string{"a/", "b/", "c/", "d/", "e/", "f/", "g/", "h/", "i/", "j/", "k/", "l/"} {
		c.putListing(dir, v, files)
		if _, ok := c.listing("a/", v); !ok && dir <= "c/" {
			t.Fatalf("a/ evicted after %s although used most recently", dir)
		}
		if c.used > c.max {
			t.Fatalf("after %s: %d bytes used, bound %d", dir, c.used, c.max)
		}
	}
	if _, ok := c.listing("a/", v); !ok {
		t.Error("the entry used after every insertion was evicted")
	}
	if _, ok := c.listing("b/", v); ok {
		t.Error("the least recently used entry was kept")
	}
	if _, ok := c.listing("a/", fileVersion{size: 2, mtime: v.mtime}); ok {
		t.Error("a listing was used for another version of its manifest")
	}
	c.forgetListing("a/")
	if _, ok := c.listing("a/", v); ok {
		t.Error("a forgotten listing was used")
	}
}

// A listing is used again only while the manifest is the same file: a
// manifest replaced by another program (a rename into place, a new
// inode) is read again even with the same size and time.
func TestMetaCacheManifestReplaced(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.csv", "x\n1\n")
	write("b.csv", "x\n2\n")
	write(manifestName, `{"version":1,"files":[{"path":"a.csv"}]}`)
	mtime := time.Unix(1700000000, 0)
	os.Chtimes(filepath.Join(dir, manifestName), mtime, mtime)
	c := NewFileConnector(Config{})
	name := filepath.ToSlash(dir) + "/"
	list := func() string {
		t.Helper()
		files, err := c.list(ctx, LocalFS{}, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 {
			t.Fatalf("%d files listed", len(files))
		}
		return files[0].Rel
	}
	if got := list(); got != "a.csv" {
		t.Fatalf("listed %s", got)
	}
	if got := list(); got != "a.csv" || c.MetaCacheStats().ListingHits != 1 {
		t.Fatalf("second listing %s, stats %+v", got, c.MetaCacheStats())
	}
	// Same size, same time, another file.
	tmp := filepath.Join(dir, "_tmp")
	os.WriteFile(tmp, []byte(`{"version":1,"files":[{"path":"b.csv"}]}`), 0o644)
	os.Chtimes(tmp, mtime, mtime)
	if err := os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "b.csv" {
		t.Errorf("after the manifest was replaced: listed %s, want b.csv", got)
	}
}
