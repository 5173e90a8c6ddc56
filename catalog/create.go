package catalog

import (
	"fmt"
	"strings"

	"github.com/etlc/etlc/parser"
)

// ObjectFromCreate builds the catalog object a CREATE statement defines,
// with everything the catalog can check before any data is read: the
// column types (SchemaFromColumns), the WITH options (ValidateOptions), the
// watermark column (declared, TIMESTAMP or TIMESTAMPTZ) and the PRIMARY KEY
// columns of a table. It returns the object, the CreateMode the statement
// asks for, and the diagnostics; the object is usable only when they hold
// no error.
//
// SQL is the statement as written in src. Queries are not bound here: the
// planner types a view's query and a pipeline's INSERT, and infers the
// schema of a source declared without columns. A watermark's expression is
// kept as the SQL the parser lowered it to. When the statement used ${name}
// parameters, its SQL needs the same parameter values to parse again.
func ObjectFromCreate(st parser.Stmt, src *parser.Source) (Object, CreateMode, parser.Diagnostics) {
	var (
		o     Object
		mode  CreateMode
		diags parser.Diagnostics
	)
	modeOf := func(orReplace, ifNotExists bool) CreateMode {
		switch {
		case orReplace:
			return CreateOrReplace
		case ifNotExists:
			return CreateIfNotExists
		}
		return CreateNew
	}
	columns := func(cols []parser.ColumnDef) {
		s, ds := SchemaFromColumns(cols, src)
		o.Columns = s
		diags = append(diags, ds...)
	}
	options := func(kind parser.ObjectKind, name parser.ObjectName, opts []parser.Option) {
		m, ds := ValidateOptions(kind, name, opts, src)
		if len(m) > 0 {
			o.Options = m
		}
		diags = append(diags, ds...)
	}
	switch st := st.(type) {
	case *parser.CreateSource:
		o = Object{Kind: ObjectKindOf(st.Kind), Name: st.Name.String()}
		mode = modeOf(st.OrReplace, st.IfNotExists)
		columns(st.Columns)
		options(st.Kind, st.Name, st.Options)
		if st.Watermark != nil {
			o.Watermark = &Watermark{Column: st.Watermark.Column.Name, Expr: parser.RestoreSQL(st.Watermark.Expr.Node)}
			diags = append(diags, checkWatermark(st, o.Columns, src)...)
		}
	case *parser.CreateSink:
		o = Object{Kind: ObjectSink, Name: st.Name.String()}
		mode = modeOf(st.OrReplace, st.IfNotExists)
		columns(st.Columns)
		options(parser.KindSink, st.Name, st.Options)
	case *parser.CreateTable:
		o = Object{Kind: ObjectTable, Name: st.Name.String()}
		mode = modeOf(st.OrReplace, st.IfNotExists)
		columns(st.Columns)
		options(parser.KindTable, st.Name, st.Options)
		for _, id := range st.PrimaryKey {
			if len(st.Columns) > 0 && !declared(st.Columns, id.Name) {
				diags = append(diags, undefinedColumn(src, id, st.Columns, "PRIMARY KEY"))
				continue
			}
			o.PrimaryKey = append(o.PrimaryKey, id.Name)
		}
		tableConstraints(&o, st)
	case *parser.CreateView:
		o = Object{Kind: ObjectView, Name: st.Name.String(), Temporary: st.Temporary}
		mode = modeOf(st.OrReplace, false)
	case *parser.CreatePipeline:
		o = Object{Kind: ObjectPipeline, Name: st.Name.String()}
		mode = modeOf(st.OrReplace, st.IfNotExists)
		options(parser.KindPipeline, st.Name, st.Options)
	default:
		diags = append(diags, &parser.Diagnostic{
			Source: src, Span: st.StmtSpan(), Severity: parser.SevError, Code: parser.CodeFeature,
			Message: fmt.Sprintf("%T does not create a catalog object", st),
		})
		return Object{}, CreateNew, diags
	}
	if src != nil {
		sp := st.StmtSpan()
		if sp.Start >= 0 && sp.End <= len(src.Text) && sp.Start <= sp.End {
			o.SQL = src.Text[sp.Start:sp.End]
		}
	}
	diags.Sort()
	return o, mode, diags
}

// declared reports whether a column named name is in cols.
func declared(cols []parser.ColumnDef, name string) bool {
	for _, c := range cols {
		if c.Name.Name == name {
			return true
		}
	}
	return false
}

// undefinedColumn is the diagnostic for a reference to a column the
// statement does not declare.
func undefinedColumn(src *parser.Source, id parser.Ident, cols []parser.ColumnDef, where string) *parser.Diagnostic {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name.Name
	}
	hint := ""
	if c := closestName(id.Name, names); c != "" {
		hint = "did you mean " + c + "?"
	} else {
		hint = "columns: " + strings.Join(names, ", ")
	}
	return &parser.Diagnostic{
		Source: src, Span: identSpan(id), Severity: parser.SevError, Code: parser.CodeUndefinedColumn,
		Message: fmt.Sprintf("column %q in %s is not defined", id.Name, where), Hint: hint,
	}
}

// checkWatermark checks that the watermark column is declared with a
// timestamp type (when the columns are declared at all).
func checkWatermark(st *parser.CreateSource, schema Schema, src *parser.Source) parser.Diagnostics {
	if len(st.Columns) == 0 {
		return nil // inferred schema: the planner checks after inference
	}
	id := st.Watermark.Column
	if !declared(st.Columns, id.Name) {
		return parser.Diagnostics{undefinedColumn(src, id, st.Columns, "WATERMARK")}
	}
	i := schema.Index(id.Name)
	if i < 0 {
		return nil // its type did not resolve; that is reported already
	}
	if t := schema[i].Type; t.Kind != KindTimestamp && t.Kind != KindTimestampTZ {
		return parser.Diagnostics{{
			Source: src, Span: identSpan(id), Severity: parser.SevError, Code: parser.CodeDatatype,
			Message: fmt.Sprintf("watermark column %q is %s, not TIMESTAMP or TIMESTAMPTZ", id.Name, t),
			Hint:    "event time needs a TIMESTAMP column; convert it in a view or declare it as TIMESTAMP",
		}}
	}
	return nil
}
