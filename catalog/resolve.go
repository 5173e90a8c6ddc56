package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/etlc/etlc/parser"
)

// Bounds of the type parameters that ResolveType checks.
const (
	// MaxStringLength is the largest n of VARCHAR(n) and CHAR(n), as in PostgreSQL.
	MaxStringLength = 10485760
	// DefaultDecimalPrecision and DefaultDecimalScale give the type of a bare
	// DECIMAL, as in Spark SQL and Hive: DECIMAL means DECIMAL(10,0).
	DefaultDecimalPrecision = 10
	// DefaultDecimalScale is the scale of a bare DECIMAL and of DECIMAL(p).
	DefaultDecimalScale = 0
	// MaxFractionalSeconds is the largest precision accepted by TIME(p),
	// TIMESTAMP(p) and TIMESTAMPTZ(p); values are always kept in microseconds.
	MaxFractionalSeconds = 6
)

// TypeError is a type that cannot be resolved: an unknown name, a wrong
// number of arguments or an argument out of bounds. Hint, when set, says what
// to write instead.
type TypeError struct {
	// Code is the SQLSTATE: 42704 for an unknown type, 0A000 for a type
	// etlc does not support, 22023 for bad arguments.
	Code    string
	Message string
	Hint    string
}

// Error returns the message, with the hint in parentheses.
func (e *TypeError) Error() string {
	if e.Hint != "" {
		return e.Message + " (" + e.Hint + ")"
	}
	return e.Message
}

func typeErrorf(hint, format string, args ...any) error {
	return &TypeError{Code: parser.CodeInvalidParam, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// typeNameCandidates are the type names offered in "did you mean" hints.
var typeNameCandidates = []string{
	"BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "REAL", "FLOAT", "DOUBLE",
	"DECIMAL", "VARCHAR", "CHAR", "VARBINARY", "DATE", "TIME", "TIMESTAMP",
	"TIMESTAMPTZ", "INTERVAL", "JSON",
	// Aliases, so that a typo of one is recognised too.
	"INTEGER", "NUMERIC", "TEXT", "BYTEA", "DATETIME",
}

// foldTypeAlias maps the PostgreSQL, MySQL and Spark spellings of a type to
// the canonical name. The parser folds them already (parser/types.go); the
// catalog accepts them too, with the same meaning, so that ParseTypeString
// and direct callers agree with it.
func foldTypeAlias(name string) string {
	n := strings.ToUpper(strings.Join(strings.Fields(name), " "))
	switch n {
	case "BOOL":
		return "BOOLEAN"
	case "INT1", "BYTE":
		return "TINYINT"
	case "INT2", "SHORT":
		return "SMALLINT"
	case "INTEGER", "INT4", "MEDIUMINT":
		return "INT"
	case "INT8", "LONG", "SIGNED", "SIGNED INTEGER", "SIGNED INT":
		return "BIGINT"
	case "FLOAT4":
		return "REAL"
	case "FLOAT8", "DOUBLE PRECISION":
		return "DOUBLE"
	case "NUMERIC", "DEC", "FIXED":
		return "DECIMAL"
	case "TEXT", "STRING", "CHARACTER VARYING", "CHAR VARYING", "NVARCHAR",
		"NATIONAL CHARACTER VARYING", "NATIONAL CHAR VARYING",
		"TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "CLOB", "NAME":
		return "VARCHAR"
	case "CHARACTER", "BPCHAR", "NCHAR", "NATIONAL CHARACTER", "NATIONAL CHAR":
		return "CHAR"
	case "BYTEA", "BLOB", "BINARY", "BINARY VARYING", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB":
		return "VARBINARY"
	case "DATETIME", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP_NTZ":
		return "TIMESTAMP"
	case "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_LTZ":
		return "TIMESTAMPTZ"
	case "TIME WITHOUT TIME ZONE":
		return "TIME"
	case "TIME WITH TIME ZONE":
		return "TIMETZ"
	case "JSONB":
		return "JSON"
	}
	return n
}

// unsignedType returns the type that holds every value of MySQL's
// unsigned integer name (TINYINT UNSIGNED ... BIGINT UNSIGNED, and
// UNSIGNED alone as CAST(x AS UNSIGNED) writes it), the same mapping
// FromArrow uses for Arrow's unsigned types.
func unsignedType(name string) (Type, bool) {
	switch name {
	case "TINYINT UNSIGNED":
		return Int16, true
	case "SMALLINT UNSIGNED":
		return Int32, true
	case "INT UNSIGNED", "INTEGER UNSIGNED", "MEDIUMINT UNSIGNED":
		return Int64, true
	case "BIGINT UNSIGNED", "UNSIGNED", "UNSIGNED INT", "UNSIGNED INTEGER":
		return Decimal(20, 0), true
	}
	return Type{}, false
}

// unsupportedTypeHint names types that users coming from PostgreSQL or
// MySQL may write and says what to use instead.
func unsupportedTypeHint(name string) (string, bool) {
	switch name {
	case "TIMETZ":
		return "use TIME or TIMESTAMPTZ", true
	case "UUID":
		return "store UUIDs as VARCHAR", true
	case "SERIAL", "SMALLSERIAL", "BIGSERIAL":
		return "use INT or BIGINT; etlc has no sequences", true
	case "MONEY":
		return "use DECIMAL(19,4)", true
	case "XML":
		return "store XML as VARCHAR", true
	case "BIT", "BIT VARYING", "VARBIT":
		return "use BOOLEAN or VARBINARY", true
	}
	return "", false
}

// ResolveType turns a type as the parser read it into a Type, checking the
// number and bounds of its arguments. It accepts the canonical names the
// parser produces and their common aliases (INTEGER, NUMERIC, TEXT, BYTEA,
// DOUBLE PRECISION, TIMESTAMP WITH TIME ZONE, ...). The choices:
//
//   - DECIMAL is DECIMAL(10,0) and DECIMAL(p) is DECIMAL(p,0), as in Spark
//     SQL and Hive; 1 <= p <= 38 and 0 <= s <= p.
//   - FLOAT is DOUBLE (as in PostgreSQL); FLOAT(p) is REAL for p <= 24 and
//     DOUBLE for 25 <= p <= 53.
//   - VARCHAR and TEXT are unbounded; VARCHAR(n) and CHAR(n) take
//     1 <= n <= 10485760; CHAR is CHAR(1).
//   - VARBINARY(n) and BINARY(n) accept a length and ignore it.
//   - TIME(p), TIMESTAMP(p), TIMESTAMPTZ(p) accept 0 <= p <= 6; values keep
//     microseconds whatever p says.
//   - Integer display widths (INT(11)) are rejected: they mean nothing.
//   - MySQL's unsigned integers widen to the signed type that holds them:
//     TINYINT UNSIGNED is SMALLINT ... BIGINT UNSIGNED is DECIMAL(20,0).
//   - T[] (and T ARRAY) is a one-dimensional array of T; arrays of arrays
//     are not supported.
//   - TIMETZ, UUID, SERIAL, MONEY, XML, BIT are not supported; the error's
//     hint says what to use.
//
// Errors are *TypeError values.
func ResolveType(tn parser.TypeName) (Type, error) {
	name := foldTypeAlias(tn.Name)
	args := tn.Args
	noArgs := func(t Type) (Type, error) {
		if len(args) > 0 {
			hint := ""
			if t.IsInteger() {
				hint = fmt.Sprintf("display widths have no meaning in etlc; write %s", name)
			}
			return Type{}, typeErrorf(hint, "type %s takes no arguments", name)
		}
		return t, nil
	}
	for _, a := range args {
		if a < 0 {
			return Type{}, typeErrorf("", "type %s: argument %d must not be negative", name, a)
		}
	}
	if elem, ok := strings.CutSuffix(name, "[]"); ok {
		if strings.HasSuffix(elem, "[]") {
			return Type{}, &TypeError{Code: parser.CodeFeature, Message: fmt.Sprintf("multidimensional arrays are not supported: %s", typeText(tn)),
				Hint: "use a one-dimensional array, or store nested lists as JSON"}
		}
		et, err := ResolveType(parser.TypeName{Name: elem, Args: tn.Args, Pos: tn.Pos, Text: tn.Text})
		if err != nil {
			return Type{}, err
		}
		return ArrayOf(et), nil
	}
	if t, ok := unsignedType(name); ok {
		if len(args) > 0 {
			return Type{}, typeErrorf(fmt.Sprintf("display widths have no meaning in etlc; write %s", name),
				"type %s takes no arguments", name)
		}
		return t, nil
	}
	switch name {
	case "BOOLEAN":
		return noArgs(Bool)
	case "TINYINT":
		return noArgs(Int8)
	case "SMALLINT":
		return noArgs(Int16)
	case "INT":
		return noArgs(Int32)
	case "BIGINT":
		return noArgs(Int64)
	case "REAL":
		return noArgs(Float32)
	case "DOUBLE":
		return noArgs(Float64)
	case "DATE":
		return noArgs(Date)
	case "INTERVAL":
		return noArgs(Interval)
	case "JSON":
		return noArgs(JSON)
	case "FLOAT":
		switch {
		case len(args) == 0:
			return Float64, nil
		case len(args) > 1:
			return Type{}, typeErrorf("write FLOAT(p), REAL or DOUBLE", "type FLOAT takes at most one argument")
		case args[0] >= 1 && args[0] <= 24:
			return Float32, nil
		case args[0] >= 25 && args[0] <= 53:
			return Float64, nil
		}
		return Type{}, typeErrorf("", "FLOAT precision %d is out of range 1..53", args[0])
	case "DECIMAL":
		p, s := DefaultDecimalPrecision, DefaultDecimalScale
		switch len(args) {
		case 0:
		case 1:
			p = args[0]
		case 2:
			p, s = args[0], args[1]
		default:
			return Type{}, typeErrorf("write DECIMAL(precision, scale)", "type DECIMAL takes at most two arguments")
		}
		if p < 1 || p > MaxDecimalPrecision {
			return Type{}, typeErrorf("", "DECIMAL precision %d is out of range 1..%d", p, MaxDecimalPrecision)
		}
		if s > p {
			return Type{}, typeErrorf("the scale must be between 0 and the precision", "DECIMAL scale %d is larger than precision %d", s, p)
		}
		return Decimal(p, s), nil
	case "VARCHAR", "CHAR":
		fixed := name == "CHAR"
		n := 0
		switch len(args) {
		case 0:
			if fixed {
				n = 1
			}
		case 1:
			n = args[0]
			if n < 1 || n > MaxStringLength {
				return Type{}, typeErrorf("", "%s length %d is out of range 1..%d", name, n, MaxStringLength)
			}
		default:
			return Type{}, typeErrorf("", "type %s takes at most one argument", name)
		}
		return Type{Kind: KindString, Length: n, Fixed: fixed}, nil
	case "VARBINARY":
		if len(args) > 1 {
			return Type{}, typeErrorf("", "type %s takes at most one argument", name)
		}
		if len(args) == 1 && args[0] < 1 {
			return Type{}, typeErrorf("", "VARBINARY length %d must be at least 1", args[0])
		}
		return Binary, nil
	case "TIME", "TIMESTAMP", "TIMESTAMPTZ":
		t := Time
		switch name {
		case "TIMESTAMP":
			t = Timestamp
		case "TIMESTAMPTZ":
			t = TimestampTZ
		}
		if len(args) > 1 {
			return Type{}, typeErrorf("", "type %s takes at most one argument", name)
		}
		if len(args) == 1 && args[0] > MaxFractionalSeconds {
			return Type{}, typeErrorf("etlc keeps microseconds", "%s precision %d is out of range 0..%d", name, args[0], MaxFractionalSeconds)
		}
		return t, nil
	}
	if hint, ok := unsupportedTypeHint(name); ok {
		return Type{}, &TypeError{Code: parser.CodeFeature, Message: fmt.Sprintf("type %s is not supported", typeText(tn)), Hint: hint}
	}
	hint := ""
	if c := closestName(name, typeNameCandidates); c != "" {
		hint = "did you mean " + c + "?"
	}
	return Type{}, &TypeError{Code: parser.CodeUndefinedObject, Message: fmt.Sprintf("unknown type %q", typeText(tn)), Hint: hint}
}

// typeText is the type as written, or its canonical name when the text is
// not known.
func typeText(tn parser.TypeName) string {
	if tn.Text != "" {
		return tn.Text
	}
	return tn.String()
}

// ParseTypeString parses a type written as text, such as the canonical
// 'DECIMAL(12,2)' of the parser's __etl_cast(x, 'T') lowering, and resolves
// it with ResolveType. Multi-word names (DOUBLE PRECISION, TIMESTAMP WITH
// TIME ZONE) and the aliases ResolveType accepts are understood.
func ParseTypeString(s string) (Type, error) {
	tn, err := parseTypeName(s, 0)
	if err != nil {
		return Type{}, err
	}
	return ResolveType(tn)
}

// parseTypeName splits "NAME WORDS (a, b) [MORE WORDS]" into a TypeName whose
// Pos is pos. Words after the arguments (TIMESTAMP(3) WITH TIME ZONE) are
// joined to the name.
func parseTypeName(s string, pos int) (parser.TypeName, error) {
	tn := parser.TypeName{Pos: pos, Text: strings.TrimSpace(s)}
	rest := tn.Text
	var words []string
	hadArgs := false
	for rest != "" {
		switch c := rest[0]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			rest = rest[1:]
		case c == '(':
			if hadArgs || len(words) == 0 {
				return tn, &TypeError{Code: parser.CodeSyntax, Message: fmt.Sprintf("invalid type %q", tn.Text)}
			}
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return tn, &TypeError{Code: parser.CodeSyntax, Message: fmt.Sprintf("invalid type %q: missing )", tn.Text)}
			}
			for _, a := range strings.Split(rest[1:end], ",") {
				n, err := strconv.Atoi(strings.TrimSpace(a))
				if err != nil {
					return tn, &TypeError{Code: parser.CodeSyntax, Message: fmt.Sprintf("invalid type %q", tn.Text), Hint: "type arguments are whole numbers"}
				}
				tn.Args = append(tn.Args, n)
			}
			hadArgs = true
			rest = rest[end+1:]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			i := 0
			for i < len(rest) && (rest[i] == '_' || rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= 'A' && rest[i] <= 'Z' || rest[i] >= '0' && rest[i] <= '9') {
				i++
			}
			words = append(words, strings.ToUpper(rest[:i]))
			rest = rest[i:]
		case c == '[' && strings.HasPrefix(rest, "[]") && len(words) > 0:
			// INT[]: the name keeps the brackets, as the parser writes it.
			words[len(words)-1] += "[]"
			rest = rest[2:]
		default:
			return tn, &TypeError{Code: parser.CodeSyntax, Message: fmt.Sprintf("invalid type %q", tn.Text)}
		}
	}
	if len(words) == 0 {
		return tn, &TypeError{Code: parser.CodeSyntax, Message: fmt.Sprintf("invalid type %q", tn.Text)}
	}
	tn.Name = strings.Join(words, " ")
	return tn, nil
}

// MarshalText encodes t as its SQL spelling, so types read well in the
// catalog's JSON and survive a round trip through UnmarshalText.
func (t Type) MarshalText() ([]byte, error) {
	if t.Kind < KindNull || t.Kind > KindArray {
		return nil, fmt.Errorf("catalog: cannot encode type of kind %d", int(t.Kind))
	}
	return []byte(t.String()), nil
}

// UnmarshalText decodes a type written by MarshalText.
func (t *Type) UnmarshalText(b []byte) error {
	if string(b) == "NULL" {
		*t = Null
		return nil
	}
	v, err := ParseTypeString(string(b))
	if err != nil {
		return fmt.Errorf("catalog: decoding type: %w", err)
	}
	*t = v
	return nil
}
