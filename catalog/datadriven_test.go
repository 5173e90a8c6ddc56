package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/parser"
)

// TestDataDriven runs the golden files under testdata/. Commands:
//
//	resolve             one type per line -> ParseTypeString's result
//	columns             column definitions, one a line -> SchemaFromColumns
//	supertype           "A; B" per line -> CommonSuperType
//	arith               "A op B" per line -> ArithmeticType
//	cast                "A -> B" per line -> CanImplicitCast, CanExplicitCast
//	duration            one duration per line -> ParseDuration
//	options kind=K      CREATE K name WITH (...) -> ValidateOptions
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "resolve":
				return eachLine(d.Input, runResolve)
			case "columns":
				return runColumns(t, d.Input)
			case "supertype":
				return eachLine(d.Input, runSuperType)
			case "arith":
				return eachLine(d.Input, runArith)
			case "cast":
				return eachLine(d.Input, runCast)
			case "duration":
				return eachLine(d.Input, func(s string) string {
					v, err := ParseDuration(s)
					if err != nil {
						return "error: " + err.Error()
					}
					return v.String()
				})
			case "options":
				var kind string
				d.ScanArgs(t, "kind", &kind)
				return runOptions(t, kind, d.Input)
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

// eachLine applies f to every non-empty input line and prints
// "line -> result", aligned.
func eachLine(input string, f func(string) string) string {
	var lines []string
	width := 0
	for _, l := range strings.Split(input, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
			width = max(width, len(l))
		}
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s -> %s\n", width, l, f(l))
	}
	return b.String()
}

func describeType(t Type) string {
	return fmt.Sprintf("%s  pg=%s(%d) typmod=%d  arrow=%s", t, t.PGName(), t.PGOID(), t.PGTypeMod(), t.Arrow())
}

func describeErr(err error) string {
	if te, ok := err.(*TypeError); ok {
		s := fmt.Sprintf("error %s: %s", te.Code, te.Message)
		if te.Hint != "" {
			s += " (hint: " + te.Hint + ")"
		}
		return s
	}
	return "error: " + err.Error()
}

func runResolve(s string) string {
	t, err := ParseTypeString(s)
	if err != nil {
		return describeErr(err)
	}
	return describeType(t)
}

// parseTypeLine reads a type of a rules test; NULL is the type of a bare NULL.
func parseTypeLine(s string) (Type, error) {
	if s = strings.TrimSpace(s); s == "NULL" {
		return Null, nil
	}
	return ParseTypeString(s)
}

func runSuperType(s string) string {
	a, b, ok := strings.Cut(s, ";")
	if !ok {
		return "bad test line: want A; B"
	}
	ta, err := parseTypeLine(a)
	if err != nil {
		return describeErr(err)
	}
	tb, err := parseTypeLine(b)
	if err != nil {
		return describeErr(err)
	}
	t, ok := CommonSuperType(ta, tb)
	if !ok {
		return "none"
	}
	return t.String()
}

func runArith(s string) string {
	for _, op := range []ArithOp{OpAdd, OpSub, OpMul, OpDiv, OpMod, OpIntDiv} {
		a, b, ok := strings.Cut(s, " "+op.String()+" ")
		if !ok {
			continue
		}
		ta, err := parseTypeLine(a)
		if err != nil {
			return describeErr(err)
		}
		tb, err := parseTypeLine(b)
		if err != nil {
			return describeErr(err)
		}
		t, err := ArithmeticType(op, ta, tb)
		if err != nil {
			return describeErr(err)
		}
		return t.String()
	}
	return "bad test line: want A op B"
}

func runCast(s string) string {
	a, b, ok := strings.Cut(s, "->")
	if !ok {
		return "bad test line: want A -> B"
	}
	ta, err := parseTypeLine(a)
	if err != nil {
		return describeErr(err)
	}
	tb, err := parseTypeLine(b)
	if err != nil {
		return describeErr(err)
	}
	switch {
	case CanImplicitCast(ta, tb):
		return "implicit"
	case CanExplicitCast(ta, tb):
		return "explicit"
	}
	return "no"
}

// runColumns reads "name TYPE [NOT NULL][,]" lines with their offsets in
// the input, resolves them with SchemaFromColumns and prints the schema and
// the diagnostics.
func runColumns(t *testing.T, input string) string {
	src := parser.NewSource("test", input)
	var cols []parser.ColumnDef
	off := 0
	for _, line := range strings.SplitAfter(input, "\n") {
		start := off
		off += len(line)
		body := strings.TrimRight(line, "\n")
		body = strings.TrimRight(strings.TrimSpace(body), ",")
		if body == "" {
			continue
		}
		lead := strings.Index(line, body)
		name, rest := body, ""
		if i := strings.IndexByte(body, ' '); i >= 0 {
			name, rest = body[:i], body[i+1:]
		}
		id := parser.Ident{Name: strings.ToLower(name), Pos: start + lead}
		if strings.HasPrefix(name, `"`) {
			id = parser.Ident{Name: strings.Trim(name, `"`), Quoted: true, Pos: start + lead}
		}
		notNull := false
		if strings.HasSuffix(strings.ToUpper(rest), " NOT NULL") {
			notNull = true
			rest = rest[:len(rest)-len(" NOT NULL")]
		}
		typePos := start + lead + len(name) + 1
		tn, err := parseTypeName(rest, typePos)
		if err != nil {
			t.Fatalf("test input %q: %v", line, err)
		}
		cols = append(cols, parser.ColumnDef{Name: id, Type: tn, NotNull: notNull})
	}
	s, diags := SchemaFromColumns(cols, src)
	return "schema: " + s.String() + "\n" + renderDiags(src, diags)
}

// runOptions reads "CREATE KIND name WITH (key = value, ...)" by hand
// (quoted values with '' and, for E'...', backslash escapes; bare words),
// validates the options and prints them normalized, then the diagnostics.
func runOptions(t *testing.T, kindName, input string) string {
	kinds := map[string]parser.ObjectKind{
		"source": parser.KindSource, "stream": parser.KindStream, "sink": parser.KindSink,
		"table": parser.KindTable, "view": parser.KindView, "pipeline": parser.KindPipeline,
	}
	kind, ok := kinds[kindName]
	if !ok {
		t.Fatalf("unknown kind %q", kindName)
	}
	src := parser.NewSource("test", input)
	name, opts := scanCreate(t, input)
	got, diags := ValidateOptions(kind, name, opts, src)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, strconv.Quote(got[k]))
	}
	b.WriteString(renderDiags(src, diags))
	return b.String()
}

// scanCreate is the tests' small reader of CREATE statements.
func scanCreate(t *testing.T, text string) (parser.ObjectName, []parser.Option) {
	i := 0
	skip := func() {
		for i < len(text) && strings.ContainsRune(" \t\r\n", rune(text[i])) {
			i++
		}
	}
	word := func() parser.Ident {
		skip()
		start := i
		if i < len(text) && text[i] == '"' {
			j := strings.IndexByte(text[i+1:], '"')
			i += j + 2
			return parser.Ident{Name: text[start+1 : i-1], Quoted: true, Pos: start}
		}
		for i < len(text) && (text[i] == '_' || text[i] >= 'a' && text[i] <= 'z' || text[i] >= 'A' && text[i] <= 'Z' || text[i] >= '0' && text[i] <= '9') {
			i++
		}
		return parser.Ident{Name: strings.ToLower(text[start:i]), Pos: start}
	}
	expect := func(s string) {
		skip()
		if !strings.HasPrefix(text[i:], s) {
			t.Fatalf("test input: expected %q at %q", s, text[i:])
		}
		i += len(s)
	}
	word() // CREATE
	word() // kind
	var name parser.ObjectName
	name.Name = word()
	if i < len(text) && text[i] == '.' {
		i++
		name.Schema, name.Name = name.Name, word()
	}
	skip()
	if i == len(text) {
		return name, nil
	}
	if w := word(); w.Name != "with" {
		t.Fatalf("test input: expected WITH, got %q", w.Name)
	}
	expect("(")
	var opts []parser.Option
	for {
		skip()
		if strings.HasPrefix(text[i:], ")") {
			break
		}
		key := word()
		expect("=")
		skip()
		pos := i
		var val strings.Builder
		switch {
		case strings.HasPrefix(text[i:], "'") || strings.HasPrefix(text[i:], "E'"):
			backslash := text[i] == 'E'
			if backslash {
				i++
			}
			i++
			for ; i < len(text); i++ {
				c := text[i]
				if backslash && c == '\\' && i+1 < len(text) {
					i++
					switch text[i] {
					case 't':
						val.WriteByte('\t')
					case 'n':
						val.WriteByte('\n')
					default:
						val.WriteByte(text[i])
					}
					continue
				}
				if c == '\'' {
					if i+1 < len(text) && text[i+1] == '\'' {
						val.WriteByte('\'')
						i++
						continue
					}
					i++
					break
				}
				val.WriteByte(c)
			}
		default:
			for i < len(text) && !strings.ContainsRune(" \t\r\n,)", rune(text[i])) {
				val.WriteByte(text[i])
				i++
			}
		}
		opts = append(opts, parser.Option{Key: key, Value: val.String(), ValuePos: pos})
		skip()
		if strings.HasPrefix(text[i:], ",") {
			i++
		}
	}
	return name, opts
}

// renderDiags prints each diagnostic with its code, the source line and a
// caret under its span.
func renderDiags(src *parser.Source, diags parser.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%s [%s]\n", d.Error(), d.Code)
		p := src.Position(d.Span.Start)
		line := src.Line(p.Line)
		fmt.Fprintf(&b, "  %s\n", line)
		width := max(1, len([]rune(src.Text[d.Span.Start:min(d.Span.End, len(src.Text))])))
		if rest := len([]rune(line)) - (p.Col - 1); width > rest && rest > 0 {
			width = rest
		}
		fmt.Fprintf(&b, "  %s%s\n", strings.Repeat(" ", p.Col-1), strings.Repeat("^", width))
	}
	return b.String()
}
