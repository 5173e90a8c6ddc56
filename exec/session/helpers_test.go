package session

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/etlc/etlc/parser"
)

// openEngine opens an engine on a fresh data directory.
func openEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := Open(context.Background(), filepath.Join(t.TempDir(), "data"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// exec runs a script in the session and returns its run; a compile error
// fails the test.
func execScript(t *testing.T, s *Session, name, text string) (*Run, error) {
	t.Helper()
	run, err := s.Exec(context.Background(), parser.NewSource(name, text), ExecOptions{})
	if ds, ok := err.(parser.Diagnostics); ok {
		t.Fatalf("%s does not compile:\n%v", name, ds)
	}
	t.Cleanup(run.Release)
	return run, err
}

// mustExec runs a script that must succeed.
func mustExec(t *testing.T, s *Session, text string) *Run {
	t.Helper()
	run, err := execScript(t, s, "test.sql", text)
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	return run
}

// rows runs one query and returns its rows as "a|b|c" lines (NULL as
// "NULL").
func rows(t *testing.T, s *Session, query string) []string {
	t.Helper()
	run := mustExec(t, s, query)
	last := run.Statements[len(run.Statements)-1]
	var out []string
	for _, rec := range last.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for _, col := range rec.Columns() {
				v, ok := FormatValue(col, i)
				if !ok {
					v = "NULL"
				}
				cells = append(cells, v)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

// writeFile writes a file, creating its directory.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile reads a file of the repository, relative to this package.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// equalLines compares rows with the expected ones and reports the difference.
func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// genCSV writes a CSV file with a header "id" and the numbers 1..n.
func genCSV(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id\n")
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	writeFile(t, path, b.String())
}

// visibleFiles lists the files under dir that readers see, and the
// staging directories left there.
func visibleFiles(t *testing.T, dir string) (files, staging []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && strings.HasPrefix(d.Name(), "_staging-") {
			staging = append(staging, rel)
			return filepath.SkipDir
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), "_") && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files, staging
}

// stmtErr returns a run's error as a *StmtError, failing the test when it
// is something else.
func stmtErr(t *testing.T, err error) *StmtError {
	t.Helper()
	var se *StmtError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *StmtError", err, err)
	}
	return se
}
