package main

import (
	"bytes"
	"encoding/json"
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
	// With -o, two runs write the same bytes, and every script has a plan.
	var plans [2][]byte
	for i := range plans {
		out := filepath.Join(t.TempDir(), "plans.json")
		code, stdout, stderr := runETLC(t, append([]string{"compile", "-o", out}, files...), "", nil, false)
		if code != exitOK || stdout != "" || stderr != "0 errors, 0 warnings\n" {
			t.Fatalf("etlc compile -o: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		plans[i] = data
	}
	if !bytes.Equal(plans[0], plans[1]) {
		t.Errorf("two runs of etlc compile -o wrote different plans (%d and %d bytes)", len(plans[0]), len(plans[1]))
	}
	var doc struct {
		Plans map[string]struct {
			Source     string            `json:"source"`
			Statements []json.RawMessage `json:"statements"`
		} `json:"plans"`
	}
	if err := json.Unmarshal(plans[0], &doc); err != nil {
		t.Fatalf("plans are not JSON: %v", err)
	}
	for _, f := range files {
		p, ok := doc.Plans[f]
		if !ok || p.Source != f || len(p.Statements) == 0 {
			t.Errorf("plans document: %s has no plan (source %q, %d statements)", f, p.Source, len(p.Statements))
		}
	}
	if len(doc.Plans) != len(files) {
		t.Errorf("plans document has %d plans, want %d", len(doc.Plans), len(files))
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
