package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples compiles every script under examples/ from the repository
// root, as `make demo` does, and requires them to be clean, with their
// defaults and with parameters overridden.
func TestExamples(t *testing.T) {
	t.Chdir("../..")
	var files []string
	for _, pattern := range []string{"examples/*.sql", "examples/*/*.sql"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 6 {
		t.Fatalf("found %d example scripts (%v), want at least 6", len(files), files)
	}
	for _, extra := range [][]string{
		nil,
		{"--param", "max_rejected=0", "--param", "output_dir=s3://curated-bucket/etlc"},
	} {
		args := append(append([]string{"compile"}, extra...), files...)
		code, stdout, stderr := runETLC(t, args, "", map[string]string{"ETL_PARAM_ORDERS_PATH": "s3://raw-bucket/orders/"}, false)
		if code != exitOK || stdout != "" || stderr != "0 errors, 0 warnings\n" {
			t.Errorf("etlc %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
}

// TestReadmeJob compiles the job shown in README.md, which must be clean.
func TestReadmeJob(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```sql\n")
	job, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(job, "INSERT INTO") {
		t.Fatalf("README.md has no SQL job in a ```sql block")
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("job.sql", []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runETLC(t, []string{"compile", "job.sql"}, "", nil, false)
	if code != exitOK || stdout != "" || stderr != "0 errors, 0 warnings\n" {
		t.Errorf("the README's job: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
