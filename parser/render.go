package parser

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// RenderFormat selects how Render writes diagnostics.
type RenderFormat int

const (
	// RenderText writes diagnostics the way compilers do: a
	// "file:line:col: severity: message" header, the source line with a
	// caret under the offending text, an optional hint, and a closing
	// "N errors, M warnings" line.
	RenderText RenderFormat = iota
	// RenderJSON writes one JSON array of DiagnosticJSON objects.
	RenderJSON
)

// DefaultTabWidth is the tab stop distance Render uses when
// RenderOptions.TabWidth is zero.
const DefaultTabWidth = 4

// RenderOptions controls Render.
type RenderOptions struct {
	// Format is RenderText (the zero value) or RenderJSON.
	Format RenderFormat
	// Color adds ANSI colors to the text form; set it only when writing
	// to a terminal. The JSON form ignores it.
	Color bool
	// TabWidth is the distance between tab stops when a source line is
	// shown; zero means DefaultTabWidth. Tabs are expanded to spaces in the
	// source line and in the caret line alike, so the caret stays under
	// the offending text.
	TabWidth int
}

// DiagnosticJSON is the JSON form of a Diagnostic. Lines and columns are
// 1-based; columns count characters (runes), a tab counting as one, exactly
// as in the text form's header. EndLine and EndColumn locate the position
// just past the offending text (exclusive), so an empty span has
// EndColumn == Column. File is "" when the diagnostic has no source.
type DiagnosticJSON struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
	Severity  string `json:"severity"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Hint      string `json:"hint"`
}

// ToJSON returns the JSON form of d.
func (d *Diagnostic) ToJSON() DiagnosticJSON {
	start := d.Pos()
	end := start
	if d.Source != nil && d.Span.End > d.Span.Start {
		end = d.Source.Position(d.Span.End)
	}
	return DiagnosticJSON{
		File:      start.File,
		Line:      start.Line,
		Column:    start.Col,
		EndLine:   end.Line,
		EndColumn: end.Col,
		Severity:  d.Severity.String(),
		Code:      d.Code,
		Message:   d.Message,
		Hint:      d.Hint,
	}
}

// Render writes ds to w in the form opts asks for, in the order given (call
// ds.Sort first for file and position order). The text form ends with a
// summary line such as "2 errors, 1 warning", also when ds is empty; the JSON
// form writes "[]" for no diagnostics. It returns the first write error.
func Render(w io.Writer, ds Diagnostics, opts RenderOptions) error {
	if opts.Format == RenderJSON {
		return renderJSON(w, ds)
	}
	tab := opts.TabWidth
	if tab <= 0 {
		tab = DefaultTabWidth
	}
	p := painter{on: opts.Color}
	var b strings.Builder
	errs, warns := 0, 0
	for _, d := range ds {
		if d.Severity == SevWarning {
			warns++
		} else {
			errs++
		}
		renderOne(&b, d, tab, p)
	}
	b.WriteString(p.paint(bold, Summary(errs, warns)))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary returns "N errors, M warnings" with singular nouns for a count of one.
func Summary(errors, warnings int) string {
	return plural(errors, "error") + ", " + plural(warnings, "warning")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func renderJSON(w io.Writer, ds Diagnostics) error {
	out := make([]DiagnosticJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.ToJSON())
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding diagnostics: %w", err)
	}
	data = append(data, '\n')
	_, err = w.Write(data)
	return err
}

// renderOne writes one diagnostic in the text form.
func renderOne(b *strings.Builder, d *Diagnostic, tab int, p painter) {
	sevStyle := red
	if d.Severity == SevWarning {
		sevStyle = magenta
	}
	if d.Source != nil {
		b.WriteString(p.paint(bold, d.Pos().String()+":"))
		b.WriteByte(' ')
	}
	b.WriteString(p.paint(sevStyle, d.Severity.String()+":"))
	b.WriteByte(' ')
	b.WriteString(p.paint(bold, d.Message))
	b.WriteByte('\n')
	if d.Source != nil {
		renderSnippet(b, d, tab, p)
	}
	if d.Hint != "" {
		b.WriteString("   ")
		b.WriteString(p.paint(cyan, "hint:"))
		b.WriteByte(' ')
		b.WriteString(d.Hint)
		b.WriteByte('\n')
	}
}

// renderSnippet writes the source line of d's start and, under it, a caret at
// the start followed by '~' up to the span's end when the span ends on the
// same line (or up to the end of the line when it goes on).
func renderSnippet(b *strings.Builder, d *Diagnostic, tab int, p painter) {
	src := d.Source
	start := src.Position(d.Span.Start)
	line := src.Line(start.Line)
	// Byte offsets of the span within the line.
	lineStart := strings.LastIndexByte(src.Text[:start.Offset], '\n') + 1
	from := start.Offset - lineStart
	to := from
	if d.Span.End > d.Span.Start {
		to = d.Span.End - lineStart
	}
	from = min(from, len(line))
	to = min(max(to, from), len(line))

	shown, cols := expand(line, tab)
	caretAt := cols[from]
	caretEnd := cols[to]
	width := max(caretEnd-caretAt, 1)

	num := strconv.Itoa(start.Line)
	gutter := max(5, len(num)+1)
	pad := strings.Repeat(" ", gutter-len(num))
	b.WriteString(p.paint(blue, pad+num+" |"))
	if shown != "" {
		b.WriteByte(' ')
		b.WriteString(shown)
	}
	b.WriteByte('\n')
	b.WriteString(p.paint(blue, strings.Repeat(" ", gutter)+" |"))
	b.WriteByte(' ')
	b.WriteString(strings.Repeat(" ", caretAt))
	b.WriteString(p.paint(green, "^"+strings.Repeat("~", width-1)))
	b.WriteByte('\n')
}

// expand returns line with tabs expanded to tab stops and control characters
// replaced by visible symbols, and for every byte offset i of line (0..len)
// the display column at which the character starting there is drawn. Wide
// (East Asian) characters take two columns and combining marks none, so the
// caret lines up on a terminal.
func expand(line string, tab int) (string, []int) {
	cols := make([]int, len(line)+1)
	var b strings.Builder
	col := 0
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		for k := 0; k < size; k++ {
			cols[i+k] = col
		}
		switch {
		case r == '\t':
			n := tab - col%tab
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case r < 0x20 || r == 0x7f:
			// A control character would move the cursor or be invisible:
			// show its Control Pictures symbol instead.
			sym := rune(0x2400) + r
			if r == 0x7f {
				sym = 0x2421
			}
			b.WriteRune(sym)
			col++
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			col++
		default:
			b.WriteRune(r)
			col += runeWidth(r)
		}
		i += size
	}
	cols[len(line)] = col
	return b.String(), cols
}

// runeWidth is the number of terminal columns r occupies.
func runeWidth(r rune) int {
	if unicode.In(r, unicode.Mn, unicode.Me) || r == 0x200b || r == 0xfeff {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// style is an ANSI SGR parameter string.
type style string

const (
	bold    style = "1"
	red     style = "1;31"
	green   style = "1;32"
	magenta style = "1;35"
	blue    style = "1;34"
	cyan    style = "1;36"
)

// painter wraps text in ANSI color codes when on is set.
type painter struct{ on bool }

func (p painter) paint(s style, text string) string {
	if !p.on || text == "" {
		return text
	}
	return "\x1b[" + string(s) + "m" + text + "\x1b[0m"
}
