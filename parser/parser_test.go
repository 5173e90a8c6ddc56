package parser

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestDataDriven runs the golden files under testdata/. Commands:
//
//	split                      statement extents of the input
//	parse [param=k=v ...] [env=K=V ...]   statement dumps, parameters, diagnostics
//	errors [param=...]         diagnostics only
//	lower                      each fragment's lowered text and where its nodes map
//	expr [param=...]           ParseExpr: the restored expression and node positions
//	copy                       ParseCopy: the COPY statement's parts, or its diagnostics
//
// Run with -rewrite to update the expected output.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if strings.HasPrefix(path, "testdata/render_") {
			return // TestRender's golden files (render_test.go)
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			src := NewSource("test.sql", d.Input)
			opts := optionsFromArgs(t, d)
			switch d.Cmd {
			case "split":
				var b strings.Builder
				for _, sp := range Split(d.Input) {
					a, z := src.Position(sp.Start), src.Position(sp.End)
					fmt.Fprintf(&b, "%d:%d-%d:%d %q\n", a.Line, a.Col, z.Line, z.Col, d.Input[sp.Start:sp.End])
				}
				return b.String()
			case "parse":
				script, diags := Parse(src, opts)
				var b strings.Builder
				for _, st := range script.Stmts {
					b.WriteString(Dump(st))
				}
				writeParams(&b, script)
				writeDiags(&b, src, diags)
				return b.String()
			case "errors":
				script, diags := Parse(src, opts)
				var b strings.Builder
				fmt.Fprintf(&b, "%d statements ok\n", len(script.Stmts))
				writeDiags(&b, src, diags)
				return b.String()
			case "lower":
				script, diags := Parse(src, opts)
				var b strings.Builder
				for _, st := range script.Stmts {
					for _, f := range fragmentsOf(st) {
						writeFragment(&b, src, f)
					}
				}
				writeDiags(&b, src, diags)
				return b.String()
			case "copy":
				c, diags := ParseCopy(src)
				var b strings.Builder
				if c != nil {
					b.WriteString(dumpCopy(c))
				}
				writeDiags(&b, src, diags)
				return b.String()
			case "expr":
				e, diags := ParseExpr(src, opts)
				var b strings.Builder
				if e != nil {
					fmt.Fprintf(&b, "%s\n", RestoreSQL(e.Node))
					writeFragment(&b, src, frag{e.Frag, []ast.Node{e.Node}})
				}
				writeDiags(&b, src, diags)
				return b.String()
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func optionsFromArgs(t *testing.T, d *datadriven.TestData) Options {
	opts := Options{Params: map[string]string{}}
	env := map[string]string{}
	for _, a := range d.CmdArgs {
		for _, v := range a.Vals {
			k, val, ok := strings.Cut(v, "=")
			if !ok {
				t.Fatalf("argument %s: want k=v, got %q", a.Key, v)
			}
			switch a.Key {
			case "param":
				opts.Params[k] = val
			case "env":
				env[k] = val
			default:
				t.Fatalf("unknown argument %q", a.Key)
			}
		}
	}
	opts.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return opts
}

func writeParams(b *strings.Builder, s *Script) {
	names := make([]string, 0, len(s.Params))
	for n := range s.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Params[n]
		typ := ""
		if p.Type != nil {
			typ = " " + p.Type.String()
		}
		fmt.Fprintf(b, "param %s%s = %q from %s\n", p.Name, typ, p.Value, p.From)
	}
}

// writeDiags prints each diagnostic with its position, the source line and
// a caret under the position.
func writeDiags(b *strings.Builder, src *Source, diags Diagnostics) {
	for _, d := range diags {
		pos := d.Pos()
		fmt.Fprintf(b, "%d:%d: %s %s: %s\n", pos.Line, pos.Col, d.Severity, d.Code, d.Message)
		fmt.Fprintf(b, "  | %s\n", src.Line(pos.Line))
		fmt.Fprintf(b, "  | %s^\n", strings.Repeat(" ", pos.Col-1))
		if d.Hint != "" {
			fmt.Fprintf(b, "  hint: %s\n", d.Hint)
		}
	}
}

// frag is a fragment with the TiDB nodes parsed from it.
type frag struct {
	f     *Fragment
	nodes []ast.Node
}

// fragmentsOf returns the fragments of a statement in order.
func fragmentsOf(s Stmt) []frag {
	var out []frag
	addQ := func(q *Query) {
		if q != nil {
			out = append(out, frag{q.Frag, []ast.Node{q.Node}})
		}
	}
	addE := func(es ...Expr) {
		for _, e := range es {
			if n := len(out); n > 0 && out[n-1].f == e.Frag {
				out[n-1].nodes = append(out[n-1].nodes, e.Node)
				continue
			}
			out = append(out, frag{e.Frag, []ast.Node{e.Node}})
		}
	}
	switch s := s.(type) {
	case *Select:
		addQ(s.Query)
	case *CreateSource:
		for _, c := range s.Columns {
			if c.Default != nil {
				addE(*c.Default)
			}
		}
		if s.Watermark != nil {
			addE(s.Watermark.Expr)
		}
	case *CreateTable:
		addQ(s.As)
	case *CreateView:
		addQ(s.Query)
	case *CreatePipeline:
		for _, e := range s.Expectations {
			addE(e.Expr)
		}
		out = append(out, fragmentsOf(s.Insert)...)
	case *Insert:
		addQ(s.Query)
		for _, row := range s.Values {
			addE(row...)
		}
	case *Validate:
		addQ(s.Query)
	case *Assert:
		addE(s.Cond)
	case *Merge:
		addQ(s.Source.Query)
		addE(s.On)
		for _, c := range s.Clauses {
			if c.Cond != nil {
				addE(*c.Cond)
			}
			for _, a := range c.Sets {
				addE(a.Value)
			}
			addE(c.Values...)
		}
	case *Explain:
		out = append(out, fragmentsOf(s.Stmt)...)
	}
	return out
}

// nodeLister collects expression nodes in visiting order.
type nodeLister struct{ nodes []ast.ExprNode }

func (v *nodeLister) Enter(n ast.Node) (ast.Node, bool) {
	if e, ok := n.(ast.ExprNode); ok {
		v.nodes = append(v.nodes, e)
	}
	return n, false
}

func (v *nodeLister) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// writeFragment prints the lowered text and, for every expression node,
// the script position its offset maps to and the script token there.
func writeFragment(b *strings.Builder, src *Source, f frag) {
	fmt.Fprintf(b, "fragment: %s\n", f.f.Text)
	var v nodeLister
	for _, n := range f.nodes {
		n.Accept(&v)
	}
	for _, e := range v.nodes {
		off := e.OriginTextPosition()
		if off == 0 {
			continue // nodes TiDB synthesizes (count(*)'s argument) carry no position
		}
		orig := f.f.Orig(off)
		pos := src.Position(orig)
		name := fmt.Sprintf("%T", e)
		name = name[strings.LastIndexByte(name, '.')+1:]
		fmt.Fprintf(b, "  %s %d:%d %s\n", name, pos.Line, pos.Col, tokenAt(src.Text, orig))
	}
}

// tokenAt quotes the script token starting at off.
func tokenAt(text string, off int) string {
	for _, t := range lex(text).toks {
		if t.start == off {
			return fmt.Sprintf("%q", text[t.start:t.end])
		}
		if t.start > off {
			break
		}
	}
	return fmt.Sprintf("(not a token start: %q)", text[off:min(len(text), off+5)])
}

// dumpCopy prints a parsed COPY statement, one part a line.
func dumpCopy(c *Copy) string {
	var b strings.Builder
	dir := "TO STDOUT"
	if c.From {
		dir = "FROM STDIN"
	}
	if c.Query != nil {
		fmt.Fprintf(&b, "copy (%s) %s\n", c.Query.Text, dir)
	} else {
		var cols []string
		for _, col := range c.Columns {
			cols = append(cols, col.Name)
		}
		fmt.Fprintf(&b, "copy %s (%s) %s\n", c.Table, strings.Join(cols, ", "), dir)
	}
	fmt.Fprintf(&b, "format=%s delimiter=%q null=%q header=%v quote=%q escape=%q\n",
		c.Format, c.Delimiter, c.Null, c.Header, c.Quote, c.Escape)
	names := func(ids []Ident) string {
		var out []string
		for _, id := range ids {
			out = append(out, id.Name)
		}
		return strings.Join(out, ",")
	}
	if c.ForceQuoteAll || len(c.ForceQuote)+len(c.ForceNotNull)+len(c.ForceNull) > 0 {
		fmt.Fprintf(&b, "force_quote_all=%v force_quote=%s force_not_null=%s force_null=%s\n",
			c.ForceQuoteAll, names(c.ForceQuote), names(c.ForceNotNull), names(c.ForceNull))
	}
	return b.String()
}
