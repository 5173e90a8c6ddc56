package parser

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Source is the text of one script together with the name it is reported
// under (a file path, or "<stdin>"). Every offset in the AST and in
// diagnostics is a byte offset into Text.
type Source struct {
	Name       string
	Text       string
	lineStarts []int
}

// NewSource returns a Source for text reported as name.
func NewSource(name, text string) *Source {
	s := &Source{Name: name, Text: text, lineStarts: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			s.lineStarts = append(s.lineStarts, i+1)
		}
	}
	return s
}

// Position is a human-readable location: 1-based line and column, where the
// column counts characters (runes), not bytes, so a caret lines up under
// non-ASCII text.
type Position struct {
	File   string
	Offset int
	Line   int
	Col    int
}

// String formats the position as file:line:col.
func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Position converts a byte offset into a Position. Offsets outside the text
// are clamped to its ends.
func (s *Source) Position(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(s.Text) {
		off = len(s.Text)
	}
	line := sort.Search(len(s.lineStarts), func(i int) bool { return s.lineStarts[i] > off }) - 1
	start := s.lineStarts[line]
	return Position{File: s.Name, Offset: off, Line: line + 1, Col: utf8.RuneCountInString(s.Text[start:off]) + 1}
}

// Line returns the text of the 1-based line n without its line end.
func (s *Source) Line(n int) string {
	if n < 1 || n > len(s.lineStarts) {
		return ""
	}
	start := s.lineStarts[n-1]
	end := len(s.Text)
	if n < len(s.lineStarts) {
		end = s.lineStarts[n] - 1
	}
	return strings.TrimRight(s.Text[start:end], "\r")
}

// Span is a half-open byte range [Start, End) of a Source's text.
type Span struct {
	Start int
	End   int
}

// Severity says whether a diagnostic stops compilation.
type Severity int

const (
	// SevError is a diagnostic that makes the script invalid.
	SevError Severity = iota
	// SevWarning is a diagnostic that is reported but does not fail.
	SevWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SevWarning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a script, anchored at a byte offset of
// its Source. Code is a stable machine-readable class (a PostgreSQL SQLSTATE
// where one fits, such as 42601 for syntax or 42703 for an undefined column)
// so the gateway can report it over the wire.
type Diagnostic struct {
	Source   *Source
	Span     Span
	Severity Severity
	Code     string
	Message  string
	Hint     string
}

// Pos returns the diagnostic's start as a Position.
func (d *Diagnostic) Pos() Position {
	if d.Source == nil {
		return Position{Line: 1, Col: 1, Offset: d.Span.Start}
	}
	return d.Source.Position(d.Span.Start)
}

// Error formats the diagnostic as "file:line:col: error: message".
func (d *Diagnostic) Error() string {
	msg := fmt.Sprintf("%s: %s: %s", d.Pos(), d.Severity, d.Message)
	if d.Hint != "" {
		msg += " (" + d.Hint + ")"
	}
	return msg
}

// SQLSTATE codes used by diagnostics.
const (
	CodeSyntax          = "42601"
	CodeUndefinedTable  = "42P01"
	CodeUndefinedColumn = "42703"
	CodeUndefinedFunc   = "42883"
	CodeUndefinedObject = "42704"
	CodeDuplicateObject = "42710"
	CodeAmbiguousColumn = "42702"
	CodeDatatype        = "42804"
	CodeGrouping        = "42803"
	CodeInvalidParam    = "22023"
	CodeUndefinedParam  = "42P02"
	CodeFeature         = "0A000"
)

// Diagnostics is an ordered list of diagnostics; as an error it reports all of them.
type Diagnostics []*Diagnostic

// Error joins every diagnostic's message, one per line.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SevError {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by source name, then offset, keeping the original
// order among equal positions.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		an, bn := "", ""
		if a.Source != nil {
			an = a.Source.Name
		}
		if b.Source != nil {
			bn = b.Source.Name
		}
		if an != bn {
			return an < bn
		}
		return a.Span.Start < b.Span.Start
	})
}
