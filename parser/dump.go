package parser

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

// Dump renders a statement as a stable, indented outline for tests and
// debugging: one line per clause, names with their script offsets (@n),
// expressions and queries restored to SQL text from their TiDB nodes.
func Dump(s Stmt) string {
	var d dumper
	d.stmt(s, 0)
	return d.b.String()
}

type dumper struct{ b strings.Builder }

func (d *dumper) line(depth int, format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

func identStr(id Ident) string {
	if id.Quoted {
		return fmt.Sprintf("%q@%d", id.Name, id.Pos)
	}
	return fmt.Sprintf("%s@%d", id.Name, id.Pos)
}

func objStr(o ObjectName) string {
	if o.Schema.Name != "" {
		return identStr(o.Schema) + "." + identStr(o.Name)
	}
	return identStr(o.Name)
}

func spanStr(s Span) string { return fmt.Sprintf("[%d,%d)", s.Start, s.End) }

// RestoreSQL renders a TiDB node as SQL text (names double-quoted, keywords
// lower case); it returns an error text instead of panicking.
func RestoreSQL(n ast.Node) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("<restore failed: %v>", r)
		}
	}()
	if n == nil {
		return "<nil>"
	}
	var b strings.Builder
	ctx := format.NewRestoreCtx(format.RestoreStringSingleQuotes|format.RestoreStringWithoutCharset|format.RestoreKeyWordLowercase|format.RestoreNameDoubleQuotes, &b)
	if err := n.Restore(ctx); err != nil {
		return fmt.Sprintf("<restore failed: %v>", err)
	}
	return b.String()
}

func exprStr(e Expr) string {
	return fmt.Sprintf("%s @%d", RestoreSQL(e.Node), e.Pos())
}

func (d *dumper) query(depth int, label string, q *Query) {
	if q == nil {
		return
	}
	d.line(depth, "%s %s: %s", label, spanStr(q.Span), RestoreSQL(q.Node))
	for _, s := range q.Streams {
		d.line(depth+1, "stream %s", identStr(s))
	}
}

func (d *dumper) columns(depth int, cols []ColumnDef) {
	for _, c := range cols {
		var extra string
		if c.NotNull {
			extra += " NOT NULL"
		}
		if c.Default != nil {
			extra += " DEFAULT " + exprStr(*c.Default)
		}
		d.line(depth, "column %s %s@%d (as written %q)%s", identStr(c.Name), c.Type.String(), c.Type.Pos, c.Type.Text, extra)
	}
}

func (d *dumper) options(depth int, opts []Option) {
	for _, o := range opts {
		d.line(depth, "option %s = %q @%d", identStr(o.Key), o.Value, o.ValuePos)
	}
}

func flags(pairs ...any) string {
	var out []string
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1].(bool) {
			out = append(out, pairs[i].(string))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " [" + strings.Join(out, " ") + "]"
}

func idents(ids []Ident) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = identStr(id)
	}
	return strings.Join(s, ", ")
}

func (d *dumper) stmt(s Stmt, depth int) {
	switch s := s.(type) {
	case *CreateSource:
		d.line(depth, "create %s %s %s%s", strings.ToLower(s.Kind.String()), objStr(s.Name), spanStr(s.Span),
			flags("or-replace", s.OrReplace, "if-not-exists", s.IfNotExists))
		if s.Columns == nil {
			d.line(depth+1, "columns inferred")
		}
		d.columns(depth+1, s.Columns)
		if s.Watermark != nil {
			d.line(depth+1, "watermark@%d for %s as %s", s.Watermark.Pos, identStr(s.Watermark.Column), exprStr(s.Watermark.Expr))
		}
		d.options(depth+1, s.Options)
	case *CreateSink:
		d.line(depth, "create sink %s %s%s", objStr(s.Name), spanStr(s.Span),
			flags("or-replace", s.OrReplace, "if-not-exists", s.IfNotExists))
		d.columns(depth+1, s.Columns)
		d.options(depth+1, s.Options)
	case *CreateTable:
		d.line(depth, "create table %s %s%s", objStr(s.Name), spanStr(s.Span),
			flags("or-replace", s.OrReplace, "if-not-exists", s.IfNotExists))
		d.columns(depth+1, s.Columns)
		if s.PrimaryKey != nil {
			name := ""
			if s.PrimaryKeyName.Name != "" {
				name = " constraint " + identStr(s.PrimaryKeyName)
			}
			d.line(depth+1, "primary key (%s)%s", idents(s.PrimaryKey), name)
		}
		for _, c := range s.Constraints {
			name := ""
			if c.Name.Name != "" {
				name = " constraint " + identStr(c.Name)
			}
			if c.Kind == ConstraintCheck {
				d.line(depth+1, "check@%d %s%s", c.Pos, exprStr(*c.Check), name)
			} else {
				d.line(depth+1, "unique@%d (%s)%s", c.Pos, keyPartsStr(c.Columns), name)
			}
		}
		d.options(depth+1, s.Options)
		d.query(depth+1, "as", s.As)
	case *CreateIndex:
		name := "(unnamed)"
		if s.Name.Name != "" {
			name = identStr(s.Name)
		}
		d.line(depth, "create index %s on %s (%s) %s%s", name, objStr(s.Table), keyPartsStr(s.Columns), spanStr(s.Span),
			flags("unique", s.Unique, "if-not-exists", s.IfNotExists))
	case *DropIndex:
		names := make([]string, len(s.Names))
		for i, n := range s.Names {
			names[i] = identStr(n)
		}
		on := ""
		if s.Table != nil {
			on = " on " + objStr(*s.Table)
		}
		d.line(depth, "drop index %s%s %s%s", strings.Join(names, ", "), on, spanStr(s.Span), flags("if-exists", s.IfExists))
	case *CreateView:
		d.line(depth, "create view %s %s%s", objStr(s.Name), spanStr(s.Span),
			flags("or-replace", s.OrReplace, "temporary", s.Temporary))
		if s.Columns != nil {
			d.line(depth+1, "columns (%s)", idents(s.Columns))
		}
		d.query(depth+1, "as", s.Query)
	case *CreatePipeline:
		d.line(depth, "create pipeline %s %s%s", objStr(s.Name), spanStr(s.Span),
			flags("or-replace", s.OrReplace, "if-not-exists", s.IfNotExists))
		for _, e := range s.Expectations {
			action := e.Action.String()
			if action == "" {
				action = "count only"
			}
			d.line(depth+1, "expect@%d %s: %s on violation %s", e.Pos, identStr(e.Name), exprStr(e.Expr), action)
		}
		d.options(depth+1, s.Options)
		d.stmt(s.Insert, depth+1)
	case *PipelineCmd:
		verb := "start"
		if s.Action == PipelineStop {
			verb = "stop"
		}
		d.line(depth, "%s pipeline %s %s", verb, objStr(s.Name), spanStr(s.Span))
	case *Drop:
		names := make([]string, len(s.Names))
		for i, n := range s.Names {
			names[i] = objStr(n)
		}
		d.line(depth, "drop %s %s %s%s", strings.ToLower(s.Kind.String()), strings.Join(names, ", "), spanStr(s.Span),
			flags("if-exists", s.IfExists))
	case *Show:
		d.line(depth, "show %q@%d %s", s.What, s.Pos, spanStr(s.Span))
	case *Set:
		if s.Reset {
			d.line(depth, "reset %s %s", identStr(s.Name), spanStr(s.Span))
		} else {
			d.line(depth, "set %s = %q %s", identStr(s.Name), s.Value, spanStr(s.Span))
		}
	case *Insert:
		verb := "insert into"
		if s.Overwrite {
			verb = "insert overwrite"
		}
		d.line(depth, "%s %s %s", verb, objStr(s.Target), spanStr(s.Span))
		if s.Columns != nil {
			d.line(depth+1, "columns (%s)", idents(s.Columns))
		}
		for _, row := range s.Values {
			vals := make([]string, len(row))
			for i, e := range row {
				vals[i] = exprStr(e)
			}
			d.line(depth+1, "values (%s)", strings.Join(vals, ", "))
		}
		d.query(depth+1, "query", s.Query)
	case *Validate:
		d.line(depth, "validate %s %s", identStr(s.Name), spanStr(s.Span))
		d.query(depth+1, "query", s.Query)
	case *Assert:
		d.line(depth, "assert %s", spanStr(s.Span))
		d.line(depth+1, "cond %s", exprStr(s.Cond))
		if s.Message != "" {
			d.line(depth+1, "message %q", s.Message)
		}
	case *Merge:
		d.line(depth, "merge into %s as %s %s", objStr(s.Target), identStr(s.Alias), spanStr(s.Span))
		if s.Source.Name != nil {
			d.line(depth+1, "using %s as %s", objStr(*s.Source.Name), identStr(s.Source.Alias))
		} else {
			d.query(depth+1, "using", s.Source.Query)
			d.line(depth+1, "as %s", identStr(s.Source.Alias))
		}
		d.line(depth+1, "on %s", exprStr(s.On))
		for _, c := range s.Clauses {
			m := "matched"
			if !c.Matched {
				m = "not matched"
			}
			cond := ""
			if c.Cond != nil {
				cond = " and " + exprStr(*c.Cond)
			}
			switch c.Action {
			case MergeUpdate:
				d.line(depth+1, "when@%d %s%s then update", c.Pos, m, cond)
				for _, a := range c.Sets {
					d.line(depth+2, "set %s = %s", identStr(a.Column), exprStr(a.Value))
				}
			case MergeDelete:
				d.line(depth+1, "when@%d %s%s then delete", c.Pos, m, cond)
			case MergeInsert:
				d.line(depth+1, "when@%d %s%s then insert", c.Pos, m, cond)
				if c.Columns != nil {
					d.line(depth+2, "columns (%s)", idents(c.Columns))
				}
				vals := make([]string, len(c.Values))
				for i, e := range c.Values {
					vals[i] = exprStr(e)
				}
				d.line(depth+2, "values (%s)", strings.Join(vals, ", "))
			}
		}
	case *Declare:
		def := ""
		if s.HasDefault {
			def = fmt.Sprintf(" default %q", s.Default)
		}
		d.line(depth, "declare %s %s%s %s", identStr(s.Name), s.Type.String(), def, spanStr(s.Span))
	case *Explain:
		d.line(depth, "explain %s%s", spanStr(s.Span), flags("analyze", s.Analyze))
		d.stmt(s.Stmt, depth+1)
	case *Analyze:
		d.line(depth, "analyze %s %s", objStr(s.Name), spanStr(s.Span))
	case *Select:
		d.query(depth, "select", s.Query)
	case *Transaction:
		mode := ""
		if s.Isolation != "" {
			mode += " isolation=" + strings.ReplaceAll(strings.ToLower(s.Isolation), " ", "_")
		}
		if s.ReadOnly {
			mode += " read_only"
		}
		if s.Savepoint.Name != "" {
			mode += " " + identStr(s.Savepoint)
		}
		d.line(depth, "transaction %s%s %s", s.Word, mode, spanStr(s.Span))
	default:
		d.line(depth, "%T", s)
	}
}

// keyPartsStr formats the columns of a key: name[(prefix)][ desc].
func keyPartsStr(parts []KeyPart) string {
	out := make([]string, len(parts))
	for i, kp := range parts {
		out[i] = identStr(kp.Column)
		if kp.Prefix > 0 {
			out[i] += fmt.Sprintf("(%d)", kp.Prefix)
		}
		if kp.Desc {
			out[i] += " desc"
		}
	}
	return strings.Join(out, ", ")
}
