package catalog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/parser"
)

// CodeDuplicateColumn is the SQLSTATE of a column declared twice.
const CodeDuplicateColumn = "42701"

// Column is one column of a relation. Name is as declared: folded to lower
// case unless it was quoted.
type Column struct {
	Name    string `json:"name"`
	Type    Type   `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	// Default is the DEFAULT expression of a table's column as SQL text,
	// empty when it has none: an INSERT or MERGE that does not list the
	// column stores it.
	Default string `json:"default,omitempty"`
}

// String returns "name TYPE [NOT NULL]".
func (c Column) String() string {
	s := c.Name + " " + c.Type.String()
	if c.NotNull {
		s += " NOT NULL"
	}
	return s
}

// Schema is the ordered list of a relation's columns.
type Schema []Column

// Index returns the position of the column named name (compared exactly:
// names are already folded), or -1.
func (s Schema) Index(name string) int {
	for i, c := range s {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Names returns the column names in order.
func (s Schema) Names() []string {
	names := make([]string, len(s))
	for i, c := range s {
		names[i] = c.Name
	}
	return names
}

// String formats the schema as "(name TYPE [NOT NULL], ...)".
func (s Schema) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(c.Name))
		b.WriteByte(' ')
		b.WriteString(c.Type.String())
		if c.NotNull {
			b.WriteString(" NOT NULL")
		}
	}
	b.WriteByte(')')
	return b.String()
}

// QuoteIdent returns name as an SQL identifier: as it is when it is a plain
// lower-case name, otherwise in double quotes with quotes doubled.
func QuoteIdent(name string) string {
	if isPlainName(name) {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// ArrowTypeKey is the Arrow field metadata key under which Schema.Arrow
// records a column's SQL type, for the types whose Arrow type is shared with
// others (CHAR(n), VARCHAR(n), JSON); SchemaFromArrow reads it back.
const ArrowTypeKey = "etlc.type"

// Arrow returns the Arrow schema of s: each column's Arrow type, nullable
// unless NOT NULL, with the SQL type in the field metadata where the Arrow
// type alone does not tell it.
func (s Schema) Arrow() *arrow.Schema {
	fields := make([]arrow.Field, len(s))
	for i, c := range s {
		f := arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: !c.NotNull}
		if needsTypeMetadata(c.Type) {
			f.Metadata = arrow.NewMetadata([]string{ArrowTypeKey}, []string{c.Type.String()})
		}
		fields[i] = f
	}
	return arrow.NewSchema(fields, nil)
}

// needsTypeMetadata reports whether FromArrow(t.Arrow()) would not give t.
func needsTypeMetadata(t Type) bool {
	return t.Kind == KindJSON || t.Kind == KindString && (t.Length > 0 || t.Fixed)
}

// SchemaFromArrow converts an Arrow schema into a Schema, honouring the SQL
// type recorded by Schema.Arrow in the field metadata, so that
// SchemaFromArrow(s.Arrow()) equals s.
func SchemaFromArrow(as *arrow.Schema) (Schema, error) {
	s := make(Schema, 0, as.NumFields())
	for _, f := range as.Fields() {
		var t Type
		if i := f.Metadata.FindKey(ArrowTypeKey); i >= 0 {
			var err error
			if t, err = ParseTypeString(f.Metadata.Values()[i]); err != nil {
				return nil, fmt.Errorf("catalog: column %q: %w", f.Name, err)
			}
		} else {
			var err error
			if t, err = FromArrow(f.Type); err != nil {
				return nil, fmt.Errorf("catalog: column %q: %w", f.Name, err)
			}
		}
		s = append(s, Column{Name: f.Name, Type: t, NotNull: !f.Nullable})
	}
	return s, nil
}

// SchemaFromColumns resolves the column list of a CREATE statement. A type
// that does not resolve is an error at the type (with ResolveType's message
// and hint); a column declared twice is an error at the second declaration.
// Columns with errors are left out of the returned schema.
func SchemaFromColumns(cols []parser.ColumnDef, src *parser.Source) (Schema, parser.Diagnostics) {
	var (
		s     Schema
		diags parser.Diagnostics
		seen  = make(map[string]int, len(cols))
	)
	for _, c := range cols {
		if _, dup := seen[c.Name.Name]; dup {
			diags = append(diags, &parser.Diagnostic{
				Source:   src,
				Span:     identSpan(c.Name),
				Severity: parser.SevError,
				Code:     CodeDuplicateColumn,
				Message:  fmt.Sprintf("column %q specified more than once", c.Name.Name),
			})
			continue
		}
		seen[c.Name.Name] = len(s)
		t, err := ResolveType(c.Type)
		if err == nil && t.IsArray() {
			// The file connectors do not read Parquet lists back yet.
			err = &TypeError{Code: parser.CodeFeature, Message: fmt.Sprintf("column %q: array columns cannot be stored yet", c.Name.Name),
				Hint: "store the list as JSON, or compute the array in the query that reads it"}
		}
		if err != nil {
			d := &parser.Diagnostic{
				Source:   src,
				Span:     typeSpan(c.Type),
				Severity: parser.SevError,
				Code:     parser.CodeUndefinedObject,
				Message:  err.Error(),
			}
			var te *TypeError
			if errors.As(err, &te) {
				d.Code, d.Message, d.Hint = te.Code, te.Message, te.Hint
			}
			diags = append(diags, d)
			continue
		}
		col := Column{Name: c.Name.Name, Type: t, NotNull: c.NotNull}
		if c.Default != nil {
			col.Default = parser.RestoreSQL(c.Default.Node)
		}
		s = append(s, col)
	}
	return s, diags
}

// identSpan is the extent of an identifier as written (with its quotes).
func identSpan(id parser.Ident) parser.Span {
	n := len(id.Name)
	if id.Quoted {
		n += 2 + strings.Count(id.Name, `"`)
	}
	return parser.Span{Start: id.Pos, End: id.Pos + n}
}

// typeSpan is the extent of a type name as written.
func typeSpan(tn parser.TypeName) parser.Span {
	n := len(tn.Text)
	if n == 0 {
		n = len(tn.Name)
	}
	return parser.Span{Start: tn.Pos, End: tn.Pos + n}
}
