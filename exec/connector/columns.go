package connector

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/catalog"
)

// Field is one column of a file schema: a name, an SQL type and whether
// NULL is allowed. (catalog.Column has the same shape.)
type Field struct {
	Name    string
	Type    catalog.Type
	NotNull bool
}

// String returns "name TYPE [NOT NULL]".
func (f Field) String() string {
	s := f.Name + " " + f.Type.String()
	if f.NotNull {
		s += " NOT NULL"
	}
	return s
}

// ArrowSchema returns the Arrow schema of fields (each type's Arrow()).
func ArrowSchema(fields []Field) *arrow.Schema {
	af := make([]arrow.Field, len(fields))
	for i, f := range fields {
		af[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow(), Nullable: !f.NotNull}
	}
	return arrow.NewSchema(af, nil)
}

// FieldsFromArrow returns the fields of an Arrow schema (catalog.FromArrow
// for each type).
func FieldsFromArrow(s *arrow.Schema) ([]Field, error) {
	out := make([]Field, s.NumFields())
	for i, f := range s.Fields() {
		t, err := catalog.FromArrow(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		out[i] = Field{Name: f.Name, Type: t, NotNull: !f.Nullable}
	}
	return out, nil
}

// findField returns the index of the field named name: an exact match
// first, then a case-insensitive one; -1 when there is none.
func findField(fields []Field, name string) int {
	for i, f := range fields {
		if f.Name == name {
			return i
		}
	}
	for i, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// column converts one output column's text values and appends them.
type column struct {
	field   Field
	builder array.Builder
	v       value
	scratch []byte
}

func newColumn(mem memory.Allocator, f Field) *column {
	return &column{field: f, builder: array.NewBuilder(mem, f.Type.Arrow())}
}

// errNotNull is the reason for a NULL in a NOT NULL column.
const reasonNotNull = "NULL in NOT NULL column"

// setNull stages a NULL; it fails for a NOT NULL column.
func (c *column) setNull() error {
	if c.field.NotNull {
		return fmt.Errorf("%s", reasonNotNull)
	}
	c.v.null = true
	return nil
}

// setText stages the converted text of a field.
func (c *column) setText(raw []byte) error {
	return parseText(c.field.Type, raw, &c.v, &c.scratch)
}

// appendStaged appends the staged value to the builder.
func (c *column) appendStaged() {
	if c.v.null {
		c.builder.AppendNull()
		return
	}
	v := &c.v
	switch b := c.builder.(type) {
	case *array.BooleanBuilder:
		b.Append(v.b)
	case *array.Int8Builder:
		b.Append(int8(v.i))
	case *array.Int16Builder:
		b.Append(int16(v.i))
	case *array.Int32Builder:
		b.Append(int32(v.i))
	case *array.Int64Builder:
		b.Append(v.i)
	case *array.Float32Builder:
		b.Append(float32(v.f))
	case *array.Float64Builder:
		b.Append(v.f)
	case *array.Decimal128Builder:
		b.Append(v.d)
	case *array.StringBuilder:
		b.BinaryBuilder.Append(v.s)
	case *array.BinaryBuilder:
		b.Append(v.s)
	case *array.Date32Builder:
		b.Append(arrow.Date32(v.i))
	case *array.Time64Builder:
		b.Append(arrow.Time64(v.i))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.i))
	case *array.MonthDayNanoIntervalBuilder:
		b.Append(v.iv)
	case *array.NullBuilder:
		b.AppendNull()
	default:
		panic(fmt.Sprintf("connector: no append for %T", b))
	}
}

// appendValue formats element i of arr (of SQL type t) as text, the way
// the readers read it back. It must not be called for a NULL.
func appendValue(b []byte, t catalog.Type, arr arrow.Array, i int) []byte {
	switch a := arr.(type) {
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Float32:
		return appendFloat(b, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(b, a.Value(i), 64)
	case *array.Decimal128:
		return appendDecimal(b, a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.String:
		return append(b, a.Value(i)...)
	case *array.Binary:
		b = append(b, `\x`...)
		const hexDigits = "0123456789abcdef"
		for _, c := range a.Value(i) {
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		return b
	case *array.Date32:
		return appendDate(b, int64(a.Value(i)))
	case *array.Time64:
		return appendClock(b, int64(a.Value(i)))
	case *array.Timestamp:
		return appendTimestamp(b, int64(a.Value(i)), t.Kind == catalog.KindTimestampTZ)
	case *array.MonthDayNanoInterval:
		return appendInterval(b, a.Value(i))
	}
	return append(b, arr.ValueStr(i)...)
}

// appendJSONValue formats element i of arr as a JSON value: numbers and
// booleans bare (DECIMAL exact, non-finite floats as strings), JSON
// columns embedded as they are, binary as base64, everything else as a
// string in the text form appendValue gives.
func appendJSONValue(b []byte, t catalog.Type, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(b, "null"...)
	}
	switch a := arr.(type) {
	case *array.Boolean, *array.Int8, *array.Int16, *array.Int32, *array.Int64, *array.Decimal128:
		return appendValue(b, t, arr, i)
	case *array.Float32, *array.Float64:
		start := len(b)
		b = appendValue(b, t, arr, i)
		if s := string(b[start:]); s == "NaN" || s == "Infinity" || s == "-Infinity" {
			return strconv.AppendQuote(b[:start], s)
		}
		return b
	case *array.String:
		if t.Kind == catalog.KindJSON {
			return append(b, a.Value(i)...)
		}
		return appendJSONString(b, a.Value(i))
	case *array.Binary:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, a.Value(i))
		return append(b, '"')
	}
	return appendJSONString(b, string(appendValue(nil, t, arr, i)))
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
