package parser

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cockroachdb/datadriven"
)

// TestRender runs the golden files testdata/render_*. Directives:
//
//	source name=FILE [crlf] [escapes]
//	<script text>
//
// defines a script; crlf turns its line ends into "\r\n", escapes resolves
// \t, \n, \r, \x1b and other \xNN sequences in it.
//
//	render [format=json] [color] [tab=N]
//	<severity> <FILE|-> <LINE:COL>[-<LINE:COL>] <code> <message>
//	hint: <hint>
//
// renders the listed diagnostics (a hint line belongs to the diagnostic
// above it); columns count runes and may be one past the end of the line.
// In the output, ESC is shown as \e.
func TestRender(t *testing.T) {
	files, err := filepath.Glob("testdata/render_*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files testdata/render_* (%v)", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) { runRenderFile(t, path) })
	}
}

// runRenderFile runs one golden file of TestRender.
func runRenderFile(t *testing.T, path string) {
	sources := map[string]*Source{}
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		switch d.Cmd {
		case "source":
			var name string
			d.ScanArgs(t, "name", &name)
			text := d.Input
			if d.HasArg("escapes") {
				text = resolveEscapes(t, text)
			}
			if d.HasArg("crlf") {
				text = strings.ReplaceAll(text, "\n", "\r\n")
			}
			sources[name] = NewSource(name, text)
			return ""
		case "render":
			ds, err := parseDiagSpecs(sources, d.Input)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			opts := RenderOptions{Color: d.HasArg("color")}
			if d.HasArg("tab") {
				d.ScanArgs(t, "tab", &opts.TabWidth)
			}
			if d.HasArg("format") {
				var f string
				d.ScanArgs(t, "format", &f)
				switch f {
				case "json":
					opts.Format = RenderJSON
				case "text":
					opts.Format = RenderText
				default:
					d.Fatalf(t, "unknown format %q", f)
				}
			}
			var buf bytes.Buffer
			if err := Render(&buf, ds, opts); err != nil {
				d.Fatalf(t, "Render: %v", err)
			}
			return strings.ReplaceAll(buf.String(), "\x1b", `\e`)
		default:
			d.Fatalf(t, "unknown directive %q", d.Cmd)
			return ""
		}
	})
}

// resolveEscapes replaces \t, \n, \r, \\ and \xNN in s.
func resolveEscapes(t *testing.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case '\\':
			b.WriteByte('\\')
		case 'x':
			n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("bad escape in %q: %v", s, err)
			}
			b.WriteByte(byte(n))
			i += 2
		default:
			t.Fatalf("unknown escape \\%c", s[i])
		}
	}
	return b.String()
}

// parseDiagSpecs reads the diagnostics of a render directive.
func parseDiagSpecs(sources map[string]*Source, input string) (Diagnostics, error) {
	var ds Diagnostics
	for _, line := range strings.Split(input, "\n") {
		if line == "" {
			continue
		}
		if h, ok := strings.CutPrefix(line, "hint: "); ok {
			if len(ds) == 0 {
				return nil, errors.New("hint before any diagnostic")
			}
			ds[len(ds)-1].Hint = h
			continue
		}
		f := strings.SplitN(line, " ", 5)
		if len(f) < 5 {
			return nil, fmt.Errorf("want <severity> <file> <pos> <code> <message>: %q", line)
		}
		d := &Diagnostic{Code: f[3], Message: f[4]}
		switch f[0] {
		case "error":
			d.Severity = SevError
		case "warning":
			d.Severity = SevWarning
		default:
			return nil, fmt.Errorf("unknown severity %q", f[0])
		}
		if f[1] != "-" {
			src := sources[f[1]]
			if src == nil {
				return nil, fmt.Errorf("no source %q", f[1])
			}
			d.Source = src
			from, to, hasTo := strings.Cut(f[2], "-")
			start, err := offsetOf(src, from)
			if err != nil {
				return nil, err
			}
			d.Span = Span{Start: start, End: start}
			if hasTo {
				if d.Span.End, err = offsetOf(src, to); err != nil {
					return nil, err
				}
			}
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// offsetOf converts "LINE:COL" (1-based, COL in runes) to a byte offset of src.
func offsetOf(src *Source, lc string) (int, error) {
	l, c, ok := strings.Cut(lc, ":")
	if !ok {
		return 0, fmt.Errorf("want LINE:COL, got %q", lc)
	}
	line, err := strconv.Atoi(l)
	if err != nil {
		return 0, fmt.Errorf("line in %q: %w", lc, err)
	}
	col, err := strconv.Atoi(c)
	if err != nil {
		return 0, fmt.Errorf("column in %q: %w", lc, err)
	}
	off := 0
	for n := 1; n < line; n++ {
		i := strings.IndexByte(src.Text[off:], '\n')
		if i < 0 {
			return 0, fmt.Errorf("%s has no line %d", src.Name, line)
		}
		off += i + 1
	}
	for n := 1; n < col; n++ {
		if off >= len(src.Text) || src.Text[off] == '\n' {
			return 0, fmt.Errorf("%s:%d has no column %d", src.Name, line, col)
		}
		_, size := utf8.DecodeRuneInString(src.Text[off:])
		off += size
	}
	if p := src.Position(off); p.Line != line || p.Col != col {
		return 0, fmt.Errorf("%s: offset %d is at %d:%d, want %s", src.Name, off, p.Line, p.Col, lc)
	}
	return off, nil
}

// TestSummary checks the closing line's counts and plurals.
func TestSummary(t *testing.T) {
	for _, c := range []struct {
		e, w int
		want string
	}{
		{0, 0, "0 errors, 0 warnings"},
		{1, 0, "1 error, 0 warnings"},
		{0, 1, "0 errors, 1 warning"},
		{2, 3, "2 errors, 3 warnings"},
	} {
		if got := Summary(c.e, c.w); got != c.want {
			t.Errorf("Summary(%d, %d) = %q, want %q", c.e, c.w, got, c.want)
		}
	}
}
