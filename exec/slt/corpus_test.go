package slt_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlc/etlc/exec/slt"
)

// TestCorpusWellFormed checks the rules of testdata/slt that need no
// database: every file parses; every query has a "----" line; every record
// that does not run on PostgreSQL says why in a comment (a run of such
// records shares the comment of its first); the corpus is not trivially
// small.
func TestCorpusWellFormed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, path := range files {
		f, err := slt.ParseFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		n := 0
		prevGuarded := false
		for _, r := range f.Records {
			if r.Kind != slt.Statement && r.Kind != slt.Query {
				continue
			}
			n++
			if r.Kind == slt.Query && !r.HasSeparator {
				t.Errorf("%s: query without a ---- line", f.Pos(r.Line))
			}
			guarded := !r.Applies(engine)
			if guarded && !prevGuarded && strings.TrimSpace(r.Comment) == "" {
				t.Errorf("%s: record skipped on %s without a comment saying why", f.Pos(r.Line), engine)
			}
			if guarded && r.Kind == slt.Query && r.Hash == nil && len(r.Expected) == 0 {
				t.Errorf("%s: etlc-only query without expected values", f.Pos(r.Line))
			}
			prevGuarded = guarded
		}
		t.Logf("%s: %d records", filepath.Base(path), n)
		total += n
	}
	if total < 450 {
		t.Errorf("corpus has %d records, want at least 450", total)
	}
}
