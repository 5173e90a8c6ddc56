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
//	columns             CREATE statements -> SchemaFromColumns of their columns
//	supertype           "A; B" per line -> CommonSuperType
//	arith               "A op B" per line -> ArithmeticType
//	cast                "A -> B" per line -> CanImplicitCast, CanExplicitCast
//	duration            one duration per line -> ParseDuration
//	options [params=(k=v,...)]  a script of CREATE statements -> ValidateOptions
//	create              a script of CREATE statements -> ObjectFromCreate
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
				return runOptions(t, d)
			case "create":
				return runCreate(d.Input)
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

// runColumns parses CREATE statements with the real parser and resolves
// their column lists with SchemaFromColumns, printing each schema and then
// the diagnostics.
func runColumns(t *testing.T, input string) string {
	src := parser.NewSource("test", input)
	script, diags := parser.Parse(src, parser.Options{})
	var b strings.Builder
	for _, st := range script.Stmts {
		var cols []parser.ColumnDef
		switch st := st.(type) {
		case *parser.CreateSource:
			cols = st.Columns
		case *parser.CreateSink:
			cols = st.Columns
		case *parser.CreateTable:
			cols = st.Columns
		default:
			t.Fatalf("columns: unexpected statement %T", st)
		}
		s, cdiags := SchemaFromColumns(cols, src)
		diags = append(diags, cdiags...)
		fmt.Fprintf(&b, "schema: %s\n", s)
	}
	diags.Sort()
	b.WriteString(renderDiags(src, diags))
	return b.String()
}

// runOptions parses a script with the real parser, with parameters given
// as params=name=value,... and validates the WITH options of its CREATE
// statements, printing each statement's normalized options and then the
// diagnostics of parsing and validation.
func runOptions(t *testing.T, d *datadriven.TestData) string {
	opts := parser.Options{Params: map[string]string{}}
	if arg, ok := d.Arg("params"); ok {
		for _, kv := range arg.Vals {
			k, v, _ := strings.Cut(kv, "=")
			opts.Params[k] = v
		}
	}
	src := parser.NewSource("test", d.Input)
	script, diags := parser.Parse(src, opts)
	var b strings.Builder
	for _, st := range script.Stmts {
		var (
			kind parser.ObjectKind
			name parser.ObjectName
			with []parser.Option
		)
		switch st := st.(type) {
		case *parser.CreateSource:
			kind, name, with = st.Kind, st.Name, st.Options
		case *parser.CreateSink:
			kind, name, with = parser.KindSink, st.Name, st.Options
		case *parser.CreateTable:
			kind, name, with = parser.KindTable, st.Name, st.Options
		case *parser.CreatePipeline:
			kind, name, with = parser.KindPipeline, st.Name, st.Options
		default:
			t.Fatalf("options: unexpected statement %T", st)
		}
		got, vdiags := ValidateOptions(kind, name, with, src)
		diags = append(diags, vdiags...)
		if len(script.Stmts) > 1 {
			fmt.Fprintf(&b, "%s %s:\n", kind, name)
		}
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, strconv.Quote(got[k]))
		}
	}
	diags.Sort()
	b.WriteString(renderDiags(src, diags))
	return b.String()
}

// runCreate parses a script and prints the object each statement defines.
func runCreate(input string) string {
	src := parser.NewSource("test", input)
	script, diags := parser.Parse(src, parser.Options{})
	modes := map[CreateMode]string{CreateNew: "new", CreateOrReplace: "or replace", CreateIfNotExists: "if not exists"}
	var b strings.Builder
	for _, st := range script.Stmts {
		o, mode, ds := ObjectFromCreate(st, src)
		diags = append(diags, ds...)
		fmt.Fprintf(&b, "%s %s (%s)", o.Kind, QuoteIdent(o.Name), modes[mode])
		if o.Temporary {
			b.WriteString(" temporary")
		}
		b.WriteByte('\n')
		if o.Columns != nil {
			fmt.Fprintf(&b, "  columns %s\n", o.Columns)
		}
		if o.PrimaryKey != nil {
			fmt.Fprintf(&b, "  primary key %s\n", strings.Join(o.PrimaryKey, ", "))
		}
		if o.Watermark != nil {
			fmt.Fprintf(&b, "  watermark for %s as %s\n", o.Watermark.Column, o.Watermark.Expr)
		}
		keys := make([]string, 0, len(o.Options))
		for k := range o.Options {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  option %s=%s\n", k, strconv.Quote(o.Options[k]))
		}
		fmt.Fprintf(&b, "  sql %s\n", strconv.Quote(o.SQL))
	}
	diags.Sort()
	b.WriteString(renderDiags(src, diags))
	return b.String()
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
