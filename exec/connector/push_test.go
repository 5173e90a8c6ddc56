package connector

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOpenPush writes pushes into a stream directory: each committed push
// is one file moved into place, with no _SUCCESS; an aborted push and an
// empty one leave nothing.
func TestOpenPush(t *testing.T) {
	ctx := context.Background()
	c := checkedConnector(t)
	dir := t.TempDir()
	stream := filepath.Join(dir, "in")
	if err := os.MkdirAll(stream, 0o755); err != nil {
		t.Fatal(err)
	}
	// A file another producer dropped stays visible beside the pushes.
	if err := os.WriteFile(filepath.Join(stream, "dropped.csv"), []byte("0,z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fields := parseColumns(t, sinkTestColumns)
	opts, err := ParseOptions(map[string]string{"path": stream + "/", "format": "csv"}, RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	push := func(rows string, commit bool) {
		t.Helper()
		recs, err := readRows(ctx, c, dir, fields, rows)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.OpenPush(ctx, opts, fields)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
			r.Release()
		}
		if !commit {
			if err := s.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			return
		}
		m, err := s.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(rows, "\n") + 1; rows != "" && (len(m.Files) != 1 || m.Rows != int64(n)) {
			t.Errorf("manifest of the push: %+v", m)
		}
	}
	push("1,a\n2,b", true)
	push("3,c", false)
	push("4,d", true)
	entries, err := os.ReadDir(stream)
	if err != nil {
		t.Fatal(err)
	}
	var contents []string
	for _, e := range entries {
		if e.Name() != "dropped.csv" && !strings.HasPrefix(e.Name(), "part-") {
			t.Errorf("unexpected name %s", e.Name())
		}
		data, err := os.ReadFile(filepath.Join(stream, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		contents = append(contents, string(data))
	}
	slices.Sort(contents)
	if want := []string{"0,z\n", "1,a\n2,b\n", "4,d\n"}; !slices.Equal(contents, want) {
		t.Errorf("stream files %q, want %q", contents, want)
	}
	files, err := c.ListFiles(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Errorf("listed %d files, want 3", len(files))
	}
}
