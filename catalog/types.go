package catalog

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
)

// Kind is the family of an etlc SQL type.
type Kind int

// The SQL type kinds. KindNull is the type of a bare NULL literal before
// it is given a type by its context.
const (
	KindNull Kind = iota
	KindBool
	KindInt8
	KindInt16
	KindInt32
	KindInt64
	KindFloat32
	KindFloat64
	KindDecimal
	KindString
	KindBinary
	KindDate
	KindTime
	KindTimestamp
	KindTimestampTZ
	KindInterval
	KindJSON
	// KindArray is a one-dimensional array of a scalar type: Elem is the
	// element's kind and Precision, Scale, Length and Fixed describe the
	// element (INT[], DECIMAL(12,2)[], VARCHAR(10)[]).
	KindArray
)

// Type is an etlc SQL type. Precision and Scale are set for DECIMAL; Length
// for CHAR(n)/VARCHAR(n) (0: unbounded); Fixed marks CHAR(n). An array type
// (KindArray) names its element's kind in Elem and keeps the element's
// parameters in the other fields, so Type stays comparable with ==.
type Type struct {
	Kind      Kind
	Precision int
	Scale     int
	Length    int
	Fixed     bool
	Elem      Kind
}

// ArrayOf returns the type of a one-dimensional array of elem; elem must
// not itself be an array.
func ArrayOf(elem Type) Type {
	elem.Elem = elem.Kind
	elem.Kind = KindArray
	return elem
}

// IsArray reports whether t is an array type.
func (t Type) IsArray() bool { return t.Kind == KindArray }

// ElemType returns the element type of an array type (t itself for a
// scalar type).
func (t Type) ElemType() Type {
	if t.Kind != KindArray {
		return t
	}
	t.Kind, t.Elem = t.Elem, KindNull
	return t
}

// Convenience values for the parameterless types.
var (
	Null        = Type{Kind: KindNull}
	Bool        = Type{Kind: KindBool}
	Int8        = Type{Kind: KindInt8}
	Int16       = Type{Kind: KindInt16}
	Int32       = Type{Kind: KindInt32}
	Int64       = Type{Kind: KindInt64}
	Float32     = Type{Kind: KindFloat32}
	Float64     = Type{Kind: KindFloat64}
	String      = Type{Kind: KindString}
	Binary      = Type{Kind: KindBinary}
	Date        = Type{Kind: KindDate}
	Time        = Type{Kind: KindTime}
	Timestamp   = Type{Kind: KindTimestamp}
	TimestampTZ = Type{Kind: KindTimestampTZ}
	Interval    = Type{Kind: KindInterval}
	JSON        = Type{Kind: KindJSON}
)

// MaxDecimalPrecision is the largest DECIMAL precision (decimal128).
const MaxDecimalPrecision = 38

// Decimal returns DECIMAL(p, s).
func Decimal(p, s int) Type { return Type{Kind: KindDecimal, Precision: p, Scale: s} }

// String returns the type's SQL spelling, e.g. DECIMAL(12,2) or VARCHAR.
func (t Type) String() string {
	switch t.Kind {
	case KindNull:
		return "NULL"
	case KindBool:
		return "BOOLEAN"
	case KindInt8:
		return "TINYINT"
	case KindInt16:
		return "SMALLINT"
	case KindInt32:
		return "INT"
	case KindInt64:
		return "BIGINT"
	case KindFloat32:
		return "REAL"
	case KindFloat64:
		return "DOUBLE"
	case KindDecimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case KindString:
		switch {
		case t.Fixed:
			return fmt.Sprintf("CHAR(%d)", t.Length)
		case t.Length > 0:
			return fmt.Sprintf("VARCHAR(%d)", t.Length)
		}
		return "VARCHAR"
	case KindBinary:
		return "VARBINARY"
	case KindDate:
		return "DATE"
	case KindTime:
		return "TIME"
	case KindTimestamp:
		return "TIMESTAMP"
	case KindTimestampTZ:
		return "TIMESTAMPTZ"
	case KindInterval:
		return "INTERVAL"
	case KindJSON:
		return "JSON"
	case KindArray:
		return t.ElemType().String() + "[]"
	}
	return fmt.Sprintf("Kind(%d)", int(t.Kind))
}

// IsInteger reports whether t is one of the integer types.
func (t Type) IsInteger() bool { return t.Kind >= KindInt8 && t.Kind <= KindInt64 }

// IsFloat reports whether t is REAL or DOUBLE.
func (t Type) IsFloat() bool { return t.Kind == KindFloat32 || t.Kind == KindFloat64 }

// IsNumeric reports whether t is an integer, floating or decimal type.
func (t Type) IsNumeric() bool { return t.IsInteger() || t.IsFloat() || t.Kind == KindDecimal }

// IsTemporal reports whether t is DATE, TIME, TIMESTAMP or TIMESTAMPTZ.
func (t Type) IsTemporal() bool { return t.Kind >= KindDate && t.Kind <= KindTimestampTZ }

// IsString reports whether t is a character type (JSON is text too).
func (t Type) IsString() bool { return t.Kind == KindString || t.Kind == KindJSON }

// Arrow returns the one Arrow type t maps to: decimal128 for DECIMAL,
// microsecond timestamps (zone "UTC" for TIMESTAMPTZ, none for TIMESTAMP),
// date32, time64[us], month-day-nano intervals, UTF-8 strings for the
// character types and JSON, and a list of the element's type for an array.
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case KindNull:
		return arrow.Null
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindInt8:
		return arrow.PrimitiveTypes.Int8
	case KindInt16:
		return arrow.PrimitiveTypes.Int16
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindInt64:
		return arrow.PrimitiveTypes.Int64
	case KindFloat32:
		return arrow.PrimitiveTypes.Float32
	case KindFloat64:
		return arrow.PrimitiveTypes.Float64
	case KindDecimal:
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}
	case KindString, KindJSON:
		return arrow.BinaryTypes.String
	case KindBinary:
		return arrow.BinaryTypes.Binary
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindTime:
		return arrow.FixedWidthTypes.Time64us
	case KindTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case KindTimestampTZ:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case KindInterval:
		return arrow.FixedWidthTypes.MonthDayNanoInterval
	case KindArray:
		return arrow.ListOf(t.ElemType().Arrow())
	}
	panic(fmt.Sprintf("catalog: no Arrow type for kind %d", int(t.Kind)))
}

// FromArrow returns the SQL type for an Arrow type read from a file
// (Parquet metadata, an inferred CSV/JSON schema). Arrow types with no SQL
// counterpart are an error naming the type.
func FromArrow(dt arrow.DataType) (Type, error) {
	switch dt := dt.(type) {
	case *arrow.NullType:
		return Null, nil
	case *arrow.BooleanType:
		return Bool, nil
	case *arrow.Int8Type:
		return Int8, nil
	case *arrow.Int16Type, *arrow.Uint8Type:
		return Int16, nil
	case *arrow.Int32Type, *arrow.Uint16Type:
		return Int32, nil
	case *arrow.Int64Type, *arrow.Uint32Type:
		return Int64, nil
	case *arrow.Uint64Type:
		return Decimal(20, 0), nil
	case *arrow.Float16Type, *arrow.Float32Type:
		return Float32, nil
	case *arrow.Float64Type:
		return Float64, nil
	case *arrow.Decimal128Type:
		return Decimal(int(dt.Precision), int(dt.Scale)), nil
	case *arrow.StringType, *arrow.LargeStringType:
		return String, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.FixedSizeBinaryType:
		return Binary, nil
	case *arrow.Date32Type, *arrow.Date64Type:
		return Date, nil
	case *arrow.Time32Type, *arrow.Time64Type:
		return Time, nil
	case *arrow.TimestampType:
		if dt.TimeZone != "" {
			return TimestampTZ, nil
		}
		return Timestamp, nil
	case *arrow.MonthDayNanoIntervalType, *arrow.MonthIntervalType, *arrow.DayTimeIntervalType, *arrow.DurationType:
		return Interval, nil
	case *arrow.DictionaryType:
		return FromArrow(dt.ValueType)
	case *arrow.ListType:
		elem, err := FromArrow(dt.Elem())
		if err != nil {
			return Type{}, err
		}
		if elem.IsArray() {
			return Type{}, fmt.Errorf("catalog: Arrow type %s: arrays of arrays have no SQL type", dt)
		}
		return ArrayOf(elem), nil
	}
	return Type{}, fmt.Errorf("catalog: Arrow type %s has no SQL type", dt)
}
