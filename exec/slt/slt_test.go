package slt

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// dumpFile renders a parsed file as text for golden comparison.
func dumpFile(f *File) string {
	var b strings.Builder
	for i, r := range f.Records {
		fmt.Fprintf(&b, "%d: line %d %s", i, r.Line, r.Kind)
		for _, c := range r.Conditions {
			if c.Only {
				fmt.Fprintf(&b, " onlyif=%s", c.Engine)
			} else {
				fmt.Fprintf(&b, " skipif=%s", c.Engine)
			}
		}
		switch r.Kind {
		case Statement:
			if r.ExpectError {
				fmt.Fprintf(&b, " error=%q", r.ErrorPattern)
			} else {
				b.WriteString(" ok")
			}
		case Query:
			fmt.Fprintf(&b, " types=%s sort=%s", r.Types, r.Sort)
			if r.Label != "" {
				fmt.Fprintf(&b, " label=%s", r.Label)
			}
			if r.HasSeparator {
				fmt.Fprintf(&b, " results=%d-%d", r.ResultLine, r.ResultEnd)
			}
		case HashThreshold:
			fmt.Fprintf(&b, " %d", r.Threshold)
		}
		b.WriteString("\n")
		if r.Comment != "" {
			fmt.Fprintf(&b, "  comment: %q\n", r.Comment)
		}
		if r.SQL != "" {
			fmt.Fprintf(&b, "  sql: %q\n", r.SQL)
		}
		if r.Hash != nil {
			fmt.Fprintf(&b, "  hash: %d values, %s\n", r.Hash.Values, r.Hash.MD5)
		}
		for _, v := range r.Expected {
			fmt.Fprintf(&b, "  value: %q\n", v)
		}
	}
	return b.String()
}

// sep and sepAlias: slt's "----" line would end a datadriven input, so the
// test files write it as "====".
var (
	sepAlias = regexp.MustCompile(`(?m)^====$`)
	sep      = regexp.MustCompile(`(?m)^----$`)
)

// sltInput turns a datadriven input into slt text.
func sltInput(d *datadriven.TestData) string { return sepAlias.ReplaceAllString(d.Input, "----") }

// TestParse runs testdata/parse: "parse" parses the input as a file and
// dumps its records, or prints the error.
func TestParse(t *testing.T) {
	datadriven.RunTest(t, "testdata/parse", func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "parse":
			f, err := Parse("test.slt", strings.NewReader(sltInput(d)))
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return dumpFile(f)
		case "applies":
			// applies engine=<name>: which records run on that engine.
			var engine string
			d.ScanArgs(t, "engine", &engine)
			f, err := Parse("test.slt", strings.NewReader(sltInput(d)))
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			var b strings.Builder
			for i, r := range f.Records {
				fmt.Fprintf(&b, "%d: %v\n", i, r.Applies(engine))
			}
			return b.String()
		}
		t.Fatalf("unknown command %q", d.Cmd)
		return ""
	})
}

// TestRewrite runs testdata/rewrite: "rewrite" parses the input and
// replaces the results of every query with the values given as arguments
// (index=v1,v2,...; threshold=N hashes longer results).
func TestRewrite(t *testing.T) {
	datadriven.RunTest(t, "testdata/rewrite", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "rewrite" {
			t.Fatalf("unknown command %q", d.Cmd)
		}
		f, err := Parse("test.slt", strings.NewReader(sltInput(d)))
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		threshold := 0
		results := map[int][]string{}
		for _, arg := range d.CmdArgs {
			if arg.Key == "threshold" {
				fmt.Sscan(arg.Vals[0], &threshold)
				continue
			}
			var idx int
			if _, err := fmt.Sscan(arg.Key, &idx); err != nil {
				t.Fatalf("bad argument %q", arg.Key)
			}
			var vals []string
			if len(arg.Vals) > 0 && arg.Vals[0] != "" {
				vals = strings.Split(arg.Vals[0], ",")
			}
			results[idx] = vals
		}
		for idx, vals := range results {
			results[idx] = ResultLines(vals, threshold)
		}
		return sep.ReplaceAllString(RewriteResults(sltInput(d)+"\n", f, results), "====")
	})
}
