package planner

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlc/etlc/catalog"
)

// sltStatements extracts the SQL of every record of a sqllogictest file.
func sltStatements(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	var cur []string
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
		}
		cur, in = nil, false
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "statement ") || strings.HasPrefix(line, "query "):
			flush()
			in = true
		case line == "----" || strings.TrimSpace(line) == "":
			flush()
		case in && !strings.HasPrefix(line, "#"):
			cur = append(cur, line)
		}
	}
	flush()
	return out, sc.Err()
}

// TestSLTCorpusNoInternalErrors binds every statement of the shared
// sqllogictest corpus: whatever is unsupported must be a diagnostic, never
// an internal error, and the corpus's simple queries must bind.
func TestSLTCorpusNoInternalErrors(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/slt/*.test")
	if len(files) == 0 {
		t.Skip("slt corpus not found")
	}
	for _, file := range files {
		stmts, err := sltStatements(file)
		if err != nil {
			t.Fatal(err)
		}
		cat := catalog.NewMemory()
		bound, failed := 0, 0
		for _, s := range stmts {
			s = strings.ReplaceAll(s, "CREATE TABLE", "CREATE TABLE IF NOT EXISTS")
			_, diags := compileString(t, cat, filepath.Base(file), s+";", true)
			for _, d := range diags {
				if d.Code == "XX000" {
					t.Errorf("%s: internal error for %q: %s", file, s, d.Message)
				}
			}
			if len(diags) == 0 {
				bound++
			} else {
				failed++
			}
		}
		t.Logf("%s: %d statements bound, %d with diagnostics", filepath.Base(file), bound, failed)
	}
}
