package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// Things in `etlc run` output that change from run to run.
var (
	runIDPattern   = regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{8}`)
	secondsPattern = regexp.MustCompile(`\b\d+\.\d\ds\b`)
	sizePattern    = regexp.MustCompile(`\b\d+(\.\d)? (B|KiB|MiB)\b`)
)

// normalizeRun replaces run ids, durations and sizes in text output.
func normalizeRun(s string) string {
	s = runIDPattern.ReplaceAllString(s, "RUNID")
	s = secondsPattern.ReplaceAllString(s, "T")
	return sizePattern.ReplaceAllString(s, "SIZE")
}

// TestRunGolden runs the golden files in testdata/run, each in a fresh
// temporary working directory (the default data directory .etlc is in
// it). Directives:
//
//	file name=PATH
//	<contents>
//
// writes a file;
//
//	etlc ARGS... [terminal]
//	<standard input>
//
// runs etlc in-process and prints its exit code and output, with run ids,
// durations and sizes replaced (RUNID, T, SIZE); JSON log lines are printed
// without their "time" and with elapsed_ms and bytes zeroed.
func TestRunGolden(t *testing.T) {
	datadriven.Walk(t, "testdata/run", func(t *testing.T, path string) {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Chdir(t.TempDir())
		datadriven.RunTest(t, abs, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "file":
				var name string
				d.ScanArgs(t, "name", &name)
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, []byte(d.Input+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return ""
			case "etlc":
				var args []string
				terminal := false
				for _, a := range d.CmdArgs {
					if a.Key == "terminal" {
						terminal = true
						continue
					}
					args = append(args, a.String())
				}
				code, stdout, stderr := runETLC(t, args, d.Input, nil, terminal)
				return normalizeRun(formatRun(code, stdout, normalizeJSONLog(t, stderr)))
			default:
				d.Fatalf(t, "unknown directive %q", d.Cmd)
				return ""
			}
		})
	})
}

// normalizeJSONLog drops "time" from JSON log lines and zeroes the values
// that change between runs; other lines are kept.
func normalizeJSONLog(t *testing.T, s string) string {
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		var m map[string]any
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &m) != nil {
			out.WriteString(line + "\n")
			continue
		}
		delete(m, "time")
		zero(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.String()
}

// zero sets the run-dependent values of a decoded log line to 0.
func zero(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "elapsed_ms", "bytes_read", "bytes_written":
				x[k] = 0
			default:
				zero(val)
			}
		}
	case []any:
		for _, e := range x {
			zero(e)
		}
	}
}

// TestRunLiveProgress checks the progress line drawn on a terminal: it is
// erased before each statement's log line, and nothing is drawn with
// --no-progress.
func TestRunLiveProgress(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("job.sql", []byte("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runETLC(t, []string{"run", "job.sql"}, "", nil, true)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "\r\x1b[K[1/2] CREATE TABLE t ...\r\x1b[K[1/2] CREATE TABLE t") {
		t.Errorf("no live line on the terminal:\n%q", stderr)
	}
	code, _, stderr = runETLC(t, []string{"run", "--no-progress", "--data-dir", "other", "job.sql"}, "", nil, true)
	if code != exitOK || strings.Contains(stderr, "\r") {
		t.Errorf("--no-progress: exit %d, output %q", code, stderr)
	}
}

// buildETLC builds the etlc binary into a temporary directory.
func buildETLC(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "etlc")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killDuringWrite starts `etlc run script` as a process, waits until the
// statement has staged data under dir (a _staging-<run>/ directory holding
// a file with bytes in it) and kills the process with SIGKILL.
func killDuringWrite(t *testing.T, bin, dataDir, script, dir string) {
	t.Helper()
	signalDuringWrite(t, bin, dataDir, script, dir, syscall.SIGKILL)
}

// signalDuringWrite is killDuringWrite with another signal; it returns
// the process's output. For SIGINT and SIGTERM the process must exit with
// code 1 on its own.
func signalDuringWrite(t *testing.T, bin, dataDir, script, dir string, sig syscall.Signal) string {
	t.Helper()
	old := map[string]bool{}
	if m, err := filepath.Glob(filepath.Join(dir, "_staging-*")); err == nil {
		for _, d := range m {
			old[d] = true
		}
	}
	cmd := exec.Command(bin, "run", "--no-progress", "--data-dir", dataDir, script)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("etlc run %s ended before it was killed (%v):\n%s", script, err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("etlc run %s staged nothing under %s in 2 minutes:\n%s", script, dir, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if stagedBytes(dir, old) > 64*1024 {
			break
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("etlc run %s did not end within a minute of %v:\n%s", script, sig, out.String())
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		t.Fatalf("no wait status: %v", err)
	case sig == syscall.SIGKILL && (!ws.Signaled() || ws.Signal() != syscall.SIGKILL):
		t.Fatalf("etlc run %s was not killed by SIGKILL: %v\n%s", script, err, out.String())
	case sig != syscall.SIGKILL && (!ws.Exited() || ws.ExitStatus() != exitErrors):
		t.Fatalf("etlc run %s after %v: %v, want exit status 1\n%s", script, sig, err, out.String())
	}
	return out.String()
}

// stagedBytes is the size of the files in the staging directories under
// dir, but those in skip (left by an earlier run).
func stagedBytes(dir string, skip map[string]bool) int64 {
	var n int64
	matches, _ := filepath.Glob(filepath.Join(dir, "_staging-*", "*"))
	for _, m := range matches {
		if skip[filepath.Dir(m)] {
			continue
		}
		if fi, err := os.Stat(m); err == nil && !fi.IsDir() {
			n += fi.Size()
		}
	}
	return n
}

// query runs one query against a data directory and returns its rows.
func query(t *testing.T, dataDir, q string) []string {
	t.Helper()
	eng, err := session.Open(context.Background(), dataDir, session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	run, err := eng.NewSession(session.Options{}).Exec(context.Background(), parser.NewSource("q.sql", q), session.ExecOptions{})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer run.Release()
	var out []string
	for _, rec := range run.Statements[len(run.Statements)-1].Records {
		for r := 0; r < int(rec.NumRows()); r++ {
			var cells []string
			for _, c := range rec.Columns() {
				v, _ := session.FormatValue(c, r)
				cells = append(cells, v)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

// visible lists the files of a directory tree that readers which only list
// (and skip names starting with _ or .) would read.
func visible(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), "_") || strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestRunKilled kills `etlc run` (the real binary) with SIGKILL while it
// writes a large output into a sink and into a managed table, and checks
// that the previous output is still readable and complete, that no staged
// file is visible, and that the next run recovers and writes normally.
func TestRunKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds etlc and writes large outputs")
	}
	bin := buildETLC(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	var b strings.Builder
	b.WriteString("id\n")
	for i := 1; i <= 20000; i++ {
		b.WriteString(strconv.Itoa(i) + "\n")
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("n.csv", b.String())
	setup := fmt.Sprintf(`CREATE SOURCE n (id BIGINT) WITH (connector = 'file', path = '%[1]s/n.csv', format = 'csv', header = 'true');
CREATE SINK snap (a BIGINT, b BIGINT) WITH (connector = 'file', path = '%[1]s/snap/', format = 'csv', header = 'true', mode = 'overwrite');
CREATE TABLE big (a BIGINT, b BIGINT);
INSERT INTO snap SELECT id, id * 2 FROM n WHERE id <= 1000;
INSERT INTO big SELECT id, id * 2 FROM n WHERE id <= 1000;
`, dir)
	code, _, stderr := runETLC(t, []string{"run", "--no-progress", "--data-dir", dataDir, write("setup.sql", setup)}, "", nil, false)
	if code != exitOK {
		t.Fatalf("setup: exit %d\n%s", code, stderr)
	}
	snapFiles := visible(t, filepath.Join(dir, "snap"))
	tableDir := filepath.Join(dataDir, "tables", "big")
	tableFiles := visible(t, tableDir)
	check := func(what string) {
		t.Helper()
		for _, q := range []string{"SELECT COUNT(*), SUM(a), SUM(b) FROM snap", "SELECT COUNT(*), SUM(a), SUM(b) FROM big"} {
			if got := strings.Join(query(t, dataDir, q), ","); got != "1000|500500|1001000" {
				t.Errorf("%s: %s = %s, want 1000|500500|1001000", what, q, got)
			}
		}
		if got := visible(t, filepath.Join(dir, "snap")); strings.Join(got, ",") != strings.Join(snapFiles, ",") {
			t.Errorf("%s: the sink's visible files are %v, want %v", what, got, snapFiles)
		}
		if got := visible(t, tableDir); strings.Join(got, ",") != strings.Join(tableFiles, ",") {
			t.Errorf("%s: the table's visible files are %v, want %v", what, got, tableFiles)
		}
	}
	// 400 million rows: the process is killed long before it is done.
	huge := "SELECT x.id, y.id FROM n AS x CROSS JOIN n AS y"
	killDuringWrite(t, bin, dataDir, write("sink.sql", "INSERT OVERWRITE snap "+huge+";\n"), filepath.Join(dir, "snap"))
	check("after a kill during the sink write")
	killDuringWrite(t, bin, dataDir, write("table.sql", "INSERT OVERWRITE big "+huge+";\n"), tableDir)
	check("after a kill during the table write")

	// SIGINT and SIGTERM cancel the statement: it aborts its sink (no staging
	// directory is left) and the run fails with the statement's position.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		before, _ := filepath.Glob(filepath.Join(dir, "snap", "_staging-*"))
		out := signalDuringWrite(t, bin, dataDir, filepath.Join(dir, "sink.sql"), filepath.Join(dir, "snap"), sig)
		if !strings.Contains(out, "sink.sql:1:1: INSERT OVERWRITE snap failed: canceled: "+sig.String()+" signal received") {
			t.Errorf("after %v the output does not name the canceled statement:\n%s", sig, out)
		}
		after, _ := filepath.Glob(filepath.Join(dir, "snap", "_staging-*"))
		// The recovery of the SIGKILLed run's staging directory happened when
		// the sink was opened; the aborted run removed its own.
		if len(after) != 0 {
			t.Errorf("after %v: staging directories %v (before: %v)", sig, after, before)
		}
		check(fmt.Sprintf("after %v during the sink write", sig))
	}

	// The next writes recover the killed runs' staging directories.
	code, _, stderr = runETLC(t, []string{"run", "--no-progress", "--data-dir", dataDir, write("again.sql",
		"INSERT OVERWRITE snap SELECT id, 0 FROM n WHERE id <= 10;\nINSERT INTO big SELECT id, 0 FROM n WHERE id <= 10;\n")}, "", nil, false)
	if code != exitOK {
		t.Fatalf("run after the kills: exit %d\n%s", code, stderr)
	}
	if got := strings.Join(query(t, dataDir, "SELECT COUNT(*), SUM(a) FROM snap"), ","); got != "10|55" {
		t.Errorf("sink after the next run: %s, want 10|55", got)
	}
	if got := strings.Join(query(t, dataDir, "SELECT COUNT(*), SUM(a) FROM big"), ","); got != "1010|500555" {
		t.Errorf("table after the next run: %s, want 1010|500555", got)
	}
	for _, d := range []string{filepath.Join(dir, "snap"), tableDir} {
		if n := stagedBytes(d, nil); n != 0 {
			t.Errorf("%s still has %d staged bytes", d, n)
		}
		if m, _ := filepath.Glob(filepath.Join(d, "_staging-*")); len(m) != 0 {
			t.Errorf("%s still has staging directories %v", d, m)
		}
	}
}
