package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/parser"
)

// TestCLI runs the golden files in testdata/cli, each in a fresh temporary
// working directory. Directives:
//
//	file name=PATH
//	<contents>
//
// writes a file (creating its directories).
//
//	env [NAME=VALUE ...]
//
// sets the environment the following commands see (replacing the previous
// one; no arguments clears it).
//
//	etlc ARGS... [terminal]
//	<standard input>
//
// runs etlc in-process and prints its exit code, standard output and
// standard error; terminal makes standard error count as a terminal.
//
//	cat name=PATH
//
// prints a file.
func TestCLI(t *testing.T) {
	datadriven.Walk(t, "testdata/cli", func(t *testing.T, path string) {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Chdir(t.TempDir())
		env := map[string]string{}
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
			case "env":
				env = map[string]string{}
				for _, a := range d.CmdArgs {
					if len(a.Vals) != 1 {
						d.Fatalf(t, "env wants NAME=VALUE, got %s", a)
					}
					env[a.Key] = a.Vals[0]
				}
				return ""
			case "cat":
				var name string
				d.ScanArgs(t, "name", &name)
				data, err := os.ReadFile(name)
				if err != nil {
					return fmt.Sprintf("error: %v\n", unwrapPathError(err))
				}
				return string(data)
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
				code, stdout, stderr := runETLC(t, args, d.Input, env, terminal)
				return formatRun(code, stdout, stderr)
			default:
				d.Fatalf(t, "unknown directive %q", d.Cmd)
				return ""
			}
		})
	})
}

// runETLC runs etlc in-process with args, stdin, the environment env and
// buffers for the output streams.
func runETLC(t *testing.T, args []string, stdin string, env map[string]string, terminal bool) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	sys := &system{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		lookupEnv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
		isTerminal: func(w io.Writer) bool { return terminal && w == io.Writer(&stderr) },
	}
	code := run(context.Background(), args, sys)
	return code, stdout.String(), stderr.String()
}

// formatRun prints a run's result for a golden file. The Go version and
// platform in version output are replaced by GO and OS/ARCH.
func formatRun(code int, stdout, stderr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d\n", code)
	for _, s := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
		if s.text == "" {
			continue
		}
		text := strings.ReplaceAll(s.text, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH, "GO OS/ARCH")
		text = strings.ReplaceAll(text, "\x1b", `\e`)
		fmt.Fprintf(&b, "%s:\n%s", s.name, text)
		if !strings.HasSuffix(text, "\n") {
			b.WriteString("<no newline at end>\n")
		}
	}
	return b.String()
}

// TestReportPanic checks the message for a panic that reached main.
func TestReportPanic(t *testing.T) {
	var b bytes.Buffer
	code := reportPanic(&b, "index out of range [3] with length 2", false, []byte("goroutine 1 [running]:\n"))
	want := "etlc: internal error: index out of range [3] with length 2\n" +
		"etlc: this is a bug in etlc; please report it with the script that triggered it (set ETLC_TRACEBACK=1 for a stack trace)\n"
	if code != exitErrors || b.String() != want {
		t.Errorf("reportPanic = %d, %q; want %d, %q", code, b.String(), exitErrors, want)
	}
	b.Reset()
	reportPanic(&b, "boom", true, []byte("goroutine 1 [running]:\n"))
	if !strings.HasSuffix(b.String(), "\ngoroutine 1 [running]:\n") {
		t.Errorf("with traceback, output %q does not end with the stack", b.String())
	}
}

// TestParseParams checks --param parsing, including the last-one-wins rule.
func TestParseParams(t *testing.T) {
	got, err := parseParams([]string{"a=1", "b_2=x=y", "A=3", "_c="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "3", "b_2": "x=y", "_c": ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseParams = %v, want %v", got, want)
	}
	for _, bad := range []string{"a", "=1", "1a=2", "a-b=1", "a b=1", "é=1"} {
		if _, err := parseParams([]string{bad}); err == nil {
			t.Errorf("parseParams(%q) succeeded, want an error", bad)
		}
	}
}

// TestGuard checks that a panic while compiling one script becomes an
// internal-error diagnostic for that script.
func TestGuard(t *testing.T) {
	src := parser.NewSource("job.sql", "SELECT 1;\n")
	plan, ds := guard(src, func() (json.RawMessage, parser.Diagnostics) {
		var m map[string]int
		m["x"] = 1 // assignment to a nil map panics
		return json.RawMessage(`{}`), nil
	})
	if plan != nil {
		t.Errorf("plan = %s, want none", plan)
	}
	var b bytes.Buffer
	if err := parser.Render(&b, ds, parser.RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `job.sql:1:1: error: internal error while compiling this script: assignment to entry in nil map
    1 | SELECT 1;
      | ^
   hint: this is a bug in etlc; please report it with this script
1 error, 0 warnings
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	plan, ds = guard(src, func() (json.RawMessage, parser.Diagnostics) { return json.RawMessage(`{}`), nil })
	if string(plan) != "{}" || len(ds) != 0 {
		t.Errorf("without a panic: plan %s, diagnostics %v; want {} and none", plan, ds)
	}
}
