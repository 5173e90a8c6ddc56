package expr

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
)

// This file holds CAST: every conversion catalog.CanExplicitCast allows,
// with PostgreSQL's rules and messages. Numbers narrow with range checks
// ("integer out of range", "numeric field overflow"); DECIMAL rescales
// rounding half away from zero; floats become integers rounding half to
// even (as PostgreSQL's rint); text is parsed with the value named in the
// error ("invalid input syntax for type integer: \"abc\""); TIMESTAMPTZ
// converts to and from local types in the session time zone. A TRY cast
// gives NULL where a conversion fails. An implicit cast to VARCHAR(n) (a
// value stored into a column) fails on a value that is too long; an
// explicit one truncates.

// castFn converts an array; the batch supplies the allocator and session.
type castFn func(b *batch, a arrow.Array) (arrow.Array, error)

// cast compiles a conversion of n to type to.
func (c *compiler) cast(n node, to catalog.Type, try, implicit bool) (node, error) {
	from := n.typ()
	if from == to {
		return n, nil
	}
	if isNullConst(n) || from.Kind == catalog.KindNull {
		return c.constant(nil, to)
	}
	fn, err := castFunc(from, to, try, implicit)
	if err != nil {
		return nil, err
	}
	k := newKernel("cast", to, []node{n}, !try && castMayFail(from, to), func(b *batch, args []arrow.Array) (arrow.Array, error) {
		return fn(b, args[0])
	})
	return k, nil
}

// castMayFail reports conversions that can reject a value.
func castMayFail(from, to catalog.Type) bool {
	switch {
	case to.Kind == catalog.KindString && to.Length == 0:
		return false
	case from.IsInteger() && to.IsInteger():
		return intBits(to.Kind) < intBits(from.Kind)
	case from.IsInteger() && to.IsFloat():
		return false
	case from.Kind == catalog.KindFloat32 && to.Kind == catalog.KindFloat64:
		return false
	case from.Kind == catalog.KindDate && (to.Kind == catalog.KindTimestamp || to.Kind == catalog.KindTimestampTZ):
		return false
	case from.Kind == catalog.KindBool:
		return false
	}
	return true
}

func intBits(k catalog.Kind) int {
	switch k {
	case catalog.KindInt8:
		return 8
	case catalog.KindInt16:
		return 16
	case catalog.KindInt32:
		return 32
	}
	return 64
}

// pgTypeName is the type's name in PostgreSQL's messages.
func pgTypeName(t catalog.Type) string {
	switch t.Kind {
	case catalog.KindBool:
		return "boolean"
	case catalog.KindInt8:
		return "tinyint"
	case catalog.KindInt16:
		return "smallint"
	case catalog.KindInt32:
		return "integer"
	case catalog.KindInt64:
		return "bigint"
	case catalog.KindFloat32:
		return "real"
	case catalog.KindFloat64:
		return "double precision"
	case catalog.KindDecimal:
		return "numeric"
	case catalog.KindString:
		if t.Fixed {
			return fmt.Sprintf("character(%d)", t.Length)
		}
		if t.Length > 0 {
			return fmt.Sprintf("character varying(%d)", t.Length)
		}
		return "text"
	case catalog.KindBinary:
		return "bytea"
	case catalog.KindDate:
		return "date"
	case catalog.KindTime:
		return "time without time zone"
	case catalog.KindTimestamp:
		return "timestamp without time zone"
	case catalog.KindTimestampTZ:
		return "timestamp with time zone"
	case catalog.KindInterval:
		return "interval"
	case catalog.KindJSON:
		return "json"
	}
	return strings.ToLower(t.String())
}

// castRun is the state of one cast over one array: the output validity,
// and the first error (or, for TRY casts, the rows that became NULL).
type castRun struct {
	b        *batch
	in       arrow.Array
	from, to catalog.Type
	try      bool
	valid    []byte
	err      error
}

func newCastRun(b *batch, in arrow.Array, from, to catalog.Type, try bool) *castRun {
	return &castRun{b: b, in: in, from: from, to: to, try: try}
}

// fail handles a row that does not convert: NULL for TRY casts, otherwise
// the error is kept and fail returns true (stop).
func (r *castRun) fail(i int, e *Error) bool {
	if r.try {
		r.setNull(i)
		return false
	}
	e.Row = i
	r.err = e
	return true
}

func (r *castRun) setNull(i int) {
	if r.valid == nil {
		n := r.in.Len()
		r.valid = make([]byte, bitutil.BytesForBits(int64(n)))
		if r.in.NullN() > 0 {
			bitutil.CopyBitmap(r.in.NullBitmapBytes(), r.in.Data().Offset(), n, r.valid, 0)
		} else {
			bitutil.SetBitsTo(r.valid, 0, int64(n), true)
		}
	}
	bitutil.ClearBit(r.valid, i)
}

// validity is the output validity buffer (nil: no nulls).
func (r *castRun) validity() *memory.Buffer {
	if r.valid != nil {
		return memory.NewBufferBytes(r.valid)
	}
	return validAnd(r.b.alloc, r.in.Len(), r.in)
}

// where names the failing conversion of row i.
func (r *castRun) where(i int) string {
	return "CAST(" + sqlAt(r.in, i, r.from) + " AS " + r.to.String() + ")"
}

func (r *castRun) rangeErr(i int, msg string) bool {
	return r.fail(i, &Error{Code: CodeNumericOutOfRange, Msg: msg, Where: r.where(i)})
}

// syntaxErr reports text that does not read as the target type.
func (r *castRun) syntaxErr(i int, s string) bool {
	code := CodeInvalidText
	if r.to.IsTemporal() || r.to.Kind == catalog.KindInterval {
		code = CodeInvalidDatetime
	}
	return r.fail(i, &Error{Code: code, Msg: fmt.Sprintf("invalid input syntax for type %s: %q", pgTypeName(r.to), s)})
}

func (r *castRun) dateRangeErr(i int, s string) bool {
	return r.fail(i, &Error{Code: CodeDatetimeOverflow, Msg: fmt.Sprintf("date/time field value out of range: %q", s)})
}

// finishFixed wraps a value buffer as the output.
func (r *castRun) finishFixed(buf *memory.Buffer) (arrow.Array, error) {
	if r.err != nil {
		buf.Release()
		return nil, r.err
	}
	return finish(arrowType(r.to), r.in.Len(), r.validity(), buf), nil
}

// castFunc returns the conversion from one type to another.
func castFunc(from, to catalog.Type, try, implicit bool) (castFn, error) {
	if from == to {
		return func(b *batch, a arrow.Array) (arrow.Array, error) { a.Retain(); return a, nil }, nil
	}
	if from.Kind == catalog.KindNull {
		return func(b *batch, a arrow.Array) (arrow.Array, error) {
			return nullArray(b.alloc, arrowType(to), a.Len()), nil
		}, nil
	}
	unsupported := fmt.Errorf("cannot cast %s to %s", from, to)
	switch {
	case from.IsArray() && to.IsArray():
		return arrayToArrayCast(from, to, try, implicit)
	case from.IsString() && to.IsArray():
		return textToArrayCast(to, try), nil
	case to.Kind == catalog.KindString || (to.Kind == catalog.KindJSON && from.Kind != catalog.KindString):
		if from.Kind == catalog.KindJSON && to.Kind == catalog.KindString && to.Length == 0 {
			return relabel(to), nil
		}
		if to.Kind == catalog.KindJSON {
			return nil, unsupported
		}
		return toTextCast(from, to, try, implicit), nil
	case from.Kind == catalog.KindString || from.Kind == catalog.KindJSON:
		return fromTextCast(from, to, try)
	case from.IsNumeric() && to.IsNumeric():
		return numericCast(from, to, try)
	case from.Kind == catalog.KindBool && to.IsNumeric():
		return boolToNumber(from, to, try), nil
	case from.IsNumeric() && to.Kind == catalog.KindBool:
		return numberToBool(from, to), nil
	case from.IsTemporal() && to.IsTemporal():
		return temporalCast(from, to)
	case from.Kind == catalog.KindBinary && to.Kind == catalog.KindBinary:
		return relabel(to), nil
	}
	return nil, unsupported
}

// relabel returns the same values under another type of the same layout.
func relabel(to catalog.Type) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		d := array.NewData(arrowType(to), a.Len(), a.Data().Buffers(), nil, a.NullN(), a.Data().Offset())
		defer d.Release()
		return array.MakeFromData(d), nil
	}
}

// --- to text ----------------------------------------------------------------

// texter writes row i of an array as text.
type texter func(dst []byte, i int) []byte

// textOf returns the text writer of array a of type t (PostgreSQL's output
// formats; TIMESTAMPTZ in l).
func textOf(a arrow.Array, t catalog.Type, l *time.Location) texter {
	switch t.Kind {
	case catalog.KindBool:
		x := a.(*array.Boolean)
		return func(dst []byte, i int) []byte {
			if x.Value(i) {
				return append(dst, "true"...)
			}
			return append(dst, "false"...)
		}
	case catalog.KindInt8:
		v := values[int8](a)
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(v[i]), 10) }
	case catalog.KindInt16:
		v := values[int16](a)
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(v[i]), 10) }
	case catalog.KindInt32:
		v := values[int32](a)
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(v[i]), 10) }
	case catalog.KindInt64:
		v := values[int64](a)
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, v[i], 10) }
	case catalog.KindFloat32:
		v := values[float32](a)
		return func(dst []byte, i int) []byte { return appendFloat(dst, float64(v[i]), 32) }
	case catalog.KindFloat64:
		v := values[float64](a)
		return func(dst []byte, i int) []byte { return appendFloat(dst, v[i], 64) }
	case catalog.KindDecimal:
		v := values[i128](a)
		s := t.Scale
		return func(dst []byte, i int) []byte { return appendDecimal(dst, v[i], s) }
	case catalog.KindString, catalog.KindJSON:
		x := a.(*array.String)
		return func(dst []byte, i int) []byte { return append(dst, x.Value(i)...) }
	case catalog.KindBinary:
		x := a.(*array.Binary)
		return func(dst []byte, i int) []byte {
			dst = append(dst, '\\', 'x')
			return hex.AppendEncode(dst, x.Value(i))
		}
	case catalog.KindDate:
		v := values[int32](a)
		return func(dst []byte, i int) []byte { return appendDate(dst, int64(v[i])) }
	case catalog.KindTime:
		v := values[int64](a)
		return func(dst []byte, i int) []byte { return appendClock(dst, v[i]) }
	case catalog.KindTimestamp:
		v := values[int64](a)
		return func(dst []byte, i int) []byte { return appendTimestamp(dst, v[i]) }
	case catalog.KindTimestampTZ:
		v := values[int64](a)
		return func(dst []byte, i int) []byte { return appendTimestampTZ(dst, v[i], l) }
	case catalog.KindInterval:
		v := values[arrow.MonthDayNanoInterval](a)
		return func(dst []byte, i int) []byte { return appendInterval(dst, v[i]) }
	case catalog.KindArray:
		x := a.(*array.List)
		child := x.ListValues()
		elem := textOf(child, t.ElemType(), l)
		return func(dst []byte, i int) []byte {
			start, end := x.ValueOffsets(i)
			return appendArrayText(dst, child, int(start), int(end), elem)
		}
	}
	return func(dst []byte, i int) []byte { return dst }
}

// appendArrayText writes the elements start..end of child as PostgreSQL's
// array text: {1,2,NULL}, with an element quoted when it is empty, reads
// NULL, or holds a brace, quote, comma, backslash or white space.
func appendArrayText(dst []byte, child arrow.Array, start, end int, elem texter) []byte {
	dst = append(dst, '{')
	var tmp []byte
	for k := start; k < end; k++ {
		if k > start {
			dst = append(dst, ',')
		}
		if child.IsNull(k) {
			dst = append(dst, "NULL"...)
			continue
		}
		tmp = elem(tmp[:0], k)
		dst = appendArrayElem(dst, tmp)
	}
	return append(dst, '}')
}

// AppendArrayElem appends one element of an array's text form (the
// element's own text s), quoted as PostgreSQL quotes it when it must be:
// empty, NULL, or holding a brace, quote, comma, backslash or white space.
func AppendArrayElem(dst, s []byte) []byte { return appendArrayElem(dst, s) }

// appendArrayElem writes one element's text, quoted when it must be.
func appendArrayElem(dst, s []byte) []byte {
	quote := len(s) == 0 || strings.EqualFold(string(s), "NULL")
	for _, c := range s {
		switch c {
		case '{', '}', '"', ',', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			quote = true
		}
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// appendFloat writes a float as PostgreSQL does: the shortest text that
// reads back as the same value, in exponent form below 1e-4 and from 1e15
// (1e6 for REAL), and NaN, Infinity, -Infinity.
func appendFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize)
	k := len(e) - 1
	for e[k] != 'e' {
		k--
	}
	exp, _ := strconv.Atoi(string(e[k+1:]))
	limit := 15
	if bitSize == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return append(dst, e...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bitSize)
}

func formatFloat(f float64, is32 bool) string {
	if is32 {
		return string(appendFloat(nil, f, 32))
	}
	return string(appendFloat(nil, f, 64))
}

// toTextCast converts any type to VARCHAR, CHAR(n) or VARCHAR(n).
func toTextCast(from, to catalog.Type, try, implicit bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		n := a.Len()
		r := newCastRun(b, a, from, to, try)
		var write texter
		if from.IsString() {
			x := a.(*array.String)
			if from.Fixed && !to.Fixed {
				write = func(dst []byte, i int) []byte { return append(dst, strings.TrimRight(x.Value(i), " ")...) }
			} else {
				write = func(dst []byte, i int) []byte { return append(dst, x.Value(i)...) }
			}
		} else {
			write = textOf(a, from, b.env.loc())
		}
		out := newStrOut(n, n*8)
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				out.appendNull()
				continue
			}
			start := len(out.data)
			out.data = write(out.data, i)
			if to.Length > 0 {
				s := out.data[start:]
				cnt := utf8.RuneCount(s)
				if cnt > to.Length {
					cut := runePrefix(s, to.Length)
					if implicit && strings.Trim(string(s[cut:]), " ") != "" {
						if r.fail(i, &Error{Code: CodeStringTooLong, Msg: fmt.Sprintf("value too long for type %s", pgTypeName(to)), Where: r.where(i)}) {
							return nil, r.err
						}
						out.data = out.data[:start]
						out.appendNull()
						continue
					}
					out.data = out.data[:start+cut]
				} else if to.Fixed && cnt < to.Length {
					for k := cnt; k < to.Length; k++ {
						out.data = append(out.data, ' ')
					}
				}
			}
			out.next()
		}
		return out.finish(arrow.BinaryTypes.String), nil
	}
}

// runePrefix returns the byte length of the first n runes of s.
func runePrefix(s []byte, n int) int {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, sz := utf8.DecodeRune(s[i:])
		i += sz
	}
	return i
}

// --- from text --------------------------------------------------------------

func fromTextCast(from, to catalog.Type, try bool) (castFn, error) {
	switch {
	case to.IsInteger():
		return textToInt(from, to, try), nil
	case to.IsFloat():
		return textToFloat(from, to, try), nil
	case to.Kind == catalog.KindDecimal:
		return textToDecimal(from, to, try), nil
	case to.Kind == catalog.KindBool:
		return textToBool(from, to, try), nil
	case to.Kind == catalog.KindDate:
		return textToDate(from, to, try), nil
	case to.Kind == catalog.KindTimestamp, to.Kind == catalog.KindTimestampTZ:
		return textToTimestamp(from, to, try), nil
	case to.Kind == catalog.KindTime:
		return textToTime(from, to, try), nil
	case to.Kind == catalog.KindInterval:
		return textToInterval(from, to, try), nil
	case to.Kind == catalog.KindJSON:
		return textToJSON(from, to, try), nil
	case to.Kind == catalog.KindBinary:
		return textToBinary(from, to, try), nil
	}
	return nil, fmt.Errorf("cannot cast %s to %s", from, to)
}

// eachText runs f over the non-null rows of a string array, stopping when
// f returns false.
func eachText(a arrow.Array, f func(i int, s string) bool) {
	x := a.(*array.String)
	n := x.Len()
	if x.NullN() == 0 {
		for i := 0; i < n; i++ {
			if !f(i, x.Value(i)) {
				return
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		if x.IsValid(i) && !f(i, x.Value(i)) {
			return
		}
	}
}

func textToInt(from, to catalog.Type, try bool) castFn {
	bitsz := intBits(to.Kind)
	lo, hi := int64(-1)<<(bitsz-1), int64(1)<<(bitsz-1)-1
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		buf, out := newValues[int64](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return !r.fail(i, &Error{Code: CodeNumericOutOfRange, Msg: fmt.Sprintf("value %q is out of range for type %s", s, pgTypeName(to))})
				}
				return !r.syntaxErr(i, s)
			}
			if v < lo || v > hi {
				return !r.fail(i, &Error{Code: CodeNumericOutOfRange, Msg: fmt.Sprintf("value %q is out of range for type %s", s, pgTypeName(to))})
			}
			out[i] = v
			return true
		})
		if r.err != nil {
			buf.Release()
			return nil, r.err
		}
		res := narrowInts(b, out, to)
		buf.Release()
		return finish(arrowType(to), a.Len(), r.validity(), res), nil
	}
}

// narrowInts copies checked int64 values into a buffer of to's width.
func narrowInts(b *batch, in []int64, to catalog.Type) *memory.Buffer {
	switch to.Kind {
	case catalog.KindInt8:
		buf, out := newValues[int8](b.alloc, len(in))
		for i, v := range in {
			out[i] = int8(v)
		}
		return buf
	case catalog.KindInt16:
		buf, out := newValues[int16](b.alloc, len(in))
		for i, v := range in {
			out[i] = int16(v)
		}
		return buf
	case catalog.KindInt32:
		buf, out := newValues[int32](b.alloc, len(in))
		for i, v := range in {
			out[i] = int32(v)
		}
		return buf
	}
	buf, out := newValues[int64](b.alloc, len(in))
	copy(out, in)
	return buf
}

// parseFloatText reads a float as PostgreSQL does (also NaN, Infinity,
// inf), rejecting Go-only forms (hex, underscores).
func parseFloatText(s string, bitSize int) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.ContainsAny(t, "xX_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(t, bitSize)
}

func textToFloat(from, to catalog.Type, try bool) castFn {
	bitSize := 64
	if to.Kind == catalog.KindFloat32 {
		bitSize = 32
	}
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		buf, out := newValues[float64](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, err := parseFloatText(s, bitSize)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) && !math.IsInf(v, 0) {
					// Underflow: PostgreSQL rejects it too.
					return !r.fail(i, &Error{Code: CodeNumericOutOfRange, Msg: fmt.Sprintf("%q is out of range for type %s", s, pgTypeName(to))})
				}
				if errors.Is(err, strconv.ErrRange) {
					return !r.fail(i, &Error{Code: CodeNumericOutOfRange, Msg: fmt.Sprintf("%q is out of range for type %s", s, pgTypeName(to))})
				}
				return !r.syntaxErr(i, s)
			}
			out[i] = v
			return true
		})
		if r.err != nil {
			buf.Release()
			return nil, r.err
		}
		if bitSize == 32 {
			b32, o32 := newValues[float32](b.alloc, len(out))
			for i, v := range out {
				o32[i] = float32(v)
			}
			buf.Release()
			buf = b32
		}
		return finish(arrowType(to), a.Len(), r.validity(), buf), nil
	}
}

// overflowMsg is the message for a DECIMAL value that does not fit t.
func overflowMsg(t catalog.Type) string { return "numeric field overflow" }

func textToDecimal(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		buf, out := newValues[i128](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, ok, of := parseDecimal(s, to.Precision, to.Scale)
			switch {
			case !ok:
				return !r.syntaxErr(i, s)
			case of:
				return !r.rangeErr(i, overflowMsg(to))
			}
			out[i] = v
			return true
		})
		return r.finishFixed(buf)
	}
}

// parseBoolText reads PostgreSQL's boolean spellings.
func parseBoolText(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "tr", "tru", "y", "yes", "ye", "on", "1":
		return true, true
	case "f", "false", "fa", "fal", "fals", "n", "no", "off", "of", "0":
		return false, true
	}
	return false, false
}

func textToBool(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		res := make([]bool, a.Len())
		eachText(a, func(i int, s string) bool {
			v, ok := parseBoolText(s)
			if !ok {
				return !r.syntaxErr(i, s)
			}
			res[i] = v
			return true
		})
		if r.err != nil {
			return nil, r.err
		}
		return boolArray(b.alloc, res, r.validity()), nil
	}
}

func textToDate(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		buf, out := newValues[int32](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, res := parseDateText(s)
			switch res {
			case dateSyntax:
				return !r.syntaxErr(i, s)
			case dateRange:
				return !r.dateRangeErr(i, s)
			}
			out[i] = v
			return true
		})
		return r.finishFixed(buf)
	}
}

func textToTimestamp(from, to catalog.Type, try bool) castFn {
	tz := to.Kind == catalog.KindTimestampTZ
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		l := b.env.loc()
		buf, out := newValues[int64](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, res := parseTimestampText(s, tz, l)
			switch res {
			case dateSyntax:
				return !r.syntaxErr(i, s)
			case dateRange:
				return !r.dateRangeErr(i, s)
			}
			out[i] = v
			return true
		})
		return r.finishFixed(buf)
	}
}

func textToTime(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		buf, out := newValues[int64](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, res := parseTimeText(s)
			switch res {
			case dateSyntax:
				return !r.syntaxErr(i, s)
			case dateRange:
				return !r.dateRangeErr(i, s)
			}
			if v == microsPerDay {
				v = 0
			}
			out[i] = v
			return true
		})
		return r.finishFixed(buf)
	}
}

func textToInterval(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		buf, out := newValues[arrow.MonthDayNanoInterval](b.alloc, a.Len())
		eachText(a, func(i int, s string) bool {
			v, ok := parseIntervalText(s)
			if !ok {
				return !r.syntaxErr(i, s)
			}
			out[i] = v
			return true
		})
		return r.finishFixed(buf)
	}
}

func textToJSON(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		x := a.(*array.String)
		out := newStrOut(a.Len(), len(x.ValueBytes()))
		for i := 0; i < a.Len(); i++ {
			if x.IsNull(i) {
				out.appendNull()
				continue
			}
			s := x.Value(i)
			if !json.Valid([]byte(s)) {
				if r.fail(i, &Error{Code: CodeInvalidText, Msg: "invalid input syntax for type json", Where: r.where(i)}) {
					return nil, r.err
				}
				out.appendNull()
				continue
			}
			out.append(s)
		}
		return out.finish(arrow.BinaryTypes.String), nil
	}
}

func textToBinary(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		x := a.(*array.String)
		out := newStrOut(a.Len(), len(x.ValueBytes()))
		for i := 0; i < a.Len(); i++ {
			if x.IsNull(i) {
				out.appendNull()
				continue
			}
			s := x.Value(i)
			if strings.HasPrefix(s, `\x`) {
				d, err := hex.DecodeString(s[2:])
				if err != nil {
					if r.fail(i, &Error{Code: CodeInvalidText, Msg: fmt.Sprintf("invalid hexadecimal data in %q", s)}) {
						return nil, r.err
					}
					out.appendNull()
					continue
				}
				out.appendBytes(d)
				continue
			}
			out.append(s)
		}
		return out.finish(arrow.BinaryTypes.Binary), nil
	}
}

// --- numbers ----------------------------------------------------------------

// numericCast converts between integer, floating and DECIMAL types.
func numericCast(from, to catalog.Type, try bool) (castFn, error) {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		n := a.Len()
		valid := func(i int) bool { return a.IsValid(i) }
		switch {
		case from.IsInteger() && to.IsInteger():
			in := intsAsInt64(a, from)
			bitsz := intBits(to.Kind)
			lo, hi := int64(-1)<<(bitsz-1), int64(1)<<(bitsz-1)-1
			if bitsz < intBits(from.Kind) {
				for i, v := range in {
					if (v < lo || v > hi) && valid(i) && r.rangeErr(i, outOfRange(to)) {
						return nil, r.err
					}
				}
			}
			return finish(arrowType(to), n, r.validity(), narrowInts(b, in, to)), nil
		case from.IsInteger() && to.IsFloat():
			in := intsAsInt64(a, from)
			return floatsOut(b, r, n, func(i int) float64 { return float64(in[i]) })
		case from.IsInteger() && to.Kind == catalog.KindDecimal:
			in := intsAsInt64(a, from)
			buf, out := newValues[i128](b.alloc, n)
			for i, v := range in {
				d, of := i128From64(v).mulPow10(to.Scale)
				if (of || !d.fits(to.Precision)) && valid(i) {
					if r.rangeErr(i, overflowMsg(to)) {
						buf.Release()
						return nil, r.err
					}
					continue
				}
				out[i] = d
			}
			return r.finishFixed(buf)
		case from.IsFloat():
			in := floatsAsFloat64(a, from)
			switch {
			case to.IsFloat():
				if to.Kind == catalog.KindFloat32 {
					for i, v := range in {
						if !math.IsInf(v, 0) && math.Abs(v) > math.MaxFloat32 && valid(i) && r.rangeErr(i, "value out of range: overflow") {
							return nil, r.err
						}
					}
				}
				return floatsOut(b, r, n, func(i int) float64 { return in[i] })
			case to.IsInteger():
				bitsz := intBits(to.Kind)
				lim := math.Ldexp(1, bitsz-1)
				out := make([]int64, n)
				for i, v := range in {
					f := math.RoundToEven(v)
					if !(f >= -lim && f < lim) {
						if valid(i) && r.rangeErr(i, outOfRange(to)) {
							return nil, r.err
						}
						continue
					}
					out[i] = int64(f)
				}
				return finish(arrowType(to), n, r.validity(), narrowInts(b, out, to)), nil
			case to.Kind == catalog.KindDecimal:
				buf, out := newValues[i128](b.alloc, n)
				var tmp []byte
				for i, v := range in {
					if !valid(i) {
						continue
					}
					if math.IsNaN(v) || math.IsInf(v, 0) {
						if r.fail(i, &Error{Code: CodeNumericOutOfRange, Msg: fmt.Sprintf("cannot convert %s to %s", formatFloat(v, false), to), Where: r.where(i)}) {
							buf.Release()
							return nil, r.err
						}
						continue
					}
					tmp = strconv.AppendFloat(tmp[:0], v, 'e', -1, intBitsFloat(from))
					d, ok, of := parseDecimal(string(tmp), to.Precision, to.Scale)
					if !ok || of {
						if r.rangeErr(i, overflowMsg(to)) {
							buf.Release()
							return nil, r.err
						}
						continue
					}
					out[i] = d
				}
				return r.finishFixed(buf)
			}
		case from.Kind == catalog.KindDecimal:
			in := values[i128](a)
			switch {
			case to.Kind == catalog.KindDecimal:
				buf, out := newValues[i128](b.alloc, n)
				for i, v := range in {
					d, of := v.rescale(from.Scale, to.Scale)
					if (of || !d.fits(to.Precision)) && valid(i) {
						if r.rangeErr(i, overflowMsg(to)) {
							buf.Release()
							return nil, r.err
						}
						continue
					}
					out[i] = d
				}
				return r.finishFixed(buf)
			case to.IsInteger():
				bitsz := intBits(to.Kind)
				lo, hi := int64(-1)<<(bitsz-1), int64(1)<<(bitsz-1)-1
				out := make([]int64, n)
				for i, v := range in {
					w, ok := v.divPow10Round(from.Scale).int64()
					if (!ok || w < lo || w > hi) && valid(i) {
						if r.rangeErr(i, outOfRange(to)) {
							return nil, r.err
						}
						continue
					}
					out[i] = w
				}
				return finish(arrowType(to), n, r.validity(), narrowInts(b, out, to)), nil
			case to.IsFloat():
				return floatsOut(b, r, n, func(i int) float64 { return decimalToFloat(in[i], from.Scale) })
			}
		}
		return nil, fmt.Errorf("cannot cast %s to %s", from, to)
	}, nil
}

func intBitsFloat(t catalog.Type) int {
	if t.Kind == catalog.KindFloat32 {
		return 32
	}
	return 64
}

// decimalToFloat converts exactly-rounded: directly when the unscaled value
// and the power of ten are both exact doubles, through text otherwise.
func decimalToFloat(v i128, scale int) float64 {
	if x, ok := v.int64(); ok && x > -(1<<53) && x < 1<<53 && scale <= 22 {
		return float64(x) / math.Pow10(scale)
	}
	f, _ := strconv.ParseFloat(formatDecimal(v, scale), 64)
	return f
}

// intsAsInt64 returns an integer array's values widened to int64.
func intsAsInt64(a arrow.Array, t catalog.Type) []int64 {
	switch t.Kind {
	case catalog.KindInt8:
		return widen(values[int8](a), a.Len())
	case catalog.KindInt16:
		return widen(values[int16](a), a.Len())
	case catalog.KindInt32:
		return widen(values[int32](a), a.Len())
	}
	v := values[int64](a)
	if v == nil {
		return make([]int64, a.Len())
	}
	return v
}

func widen[T signed](in []T, n int) []int64 {
	out := make([]int64, n)
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

func floatsAsFloat64(a arrow.Array, t catalog.Type) []float64 {
	if t.Kind == catalog.KindFloat32 {
		in := values[float32](a)
		out := make([]float64, a.Len())
		for i, v := range in {
			out[i] = float64(v)
		}
		return out
	}
	v := values[float64](a)
	if v == nil {
		return make([]float64, a.Len())
	}
	return v
}

// floatsOut builds the float output of a numeric cast.
func floatsOut(b *batch, r *castRun, n int, f func(i int) float64) (arrow.Array, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.to.Kind == catalog.KindFloat32 {
		buf, out := newValues[float32](b.alloc, n)
		for i := range out {
			out[i] = float32(f(i))
		}
		return finish(arrowType(r.to), n, r.validity(), buf), nil
	}
	buf, out := newValues[float64](b.alloc, n)
	for i := range out {
		out[i] = f(i)
	}
	return finish(arrowType(r.to), n, r.validity(), buf), nil
}

func boolToNumber(from, to catalog.Type, try bool) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		r := newCastRun(b, a, from, to, try)
		x := a.(*array.Boolean)
		n := a.Len()
		switch {
		case to.IsInteger():
			out := make([]int64, n)
			for i := range out {
				if x.Value(i) {
					out[i] = 1
				}
			}
			return finish(arrowType(to), n, r.validity(), narrowInts(b, out, to)), nil
		case to.IsFloat():
			return floatsOut(b, r, n, func(i int) float64 {
				if x.Value(i) {
					return 1
				}
				return 0
			})
		}
		buf, out := newValues[i128](b.alloc, n)
		one, of := i128From64(1).mulPow10(to.Scale)
		for i := range out {
			if x.Value(i) && x.IsValid(i) {
				if of || !one.fits(to.Precision) {
					if r.rangeErr(i, overflowMsg(to)) {
						buf.Release()
						return nil, r.err
					}
					continue
				}
				out[i] = one
			}
		}
		return r.finishFixed(buf)
	}
}

func numberToBool(from, to catalog.Type) castFn {
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		n := a.Len()
		res := make([]bool, n)
		switch {
		case from.IsInteger():
			for i, v := range intsAsInt64(a, from) {
				res[i] = v != 0
			}
		case from.IsFloat():
			for i, v := range floatsAsFloat64(a, from) {
				res[i] = v != 0
			}
		default:
			for i, v := range values[i128](a) {
				res[i] = !v.isZero()
			}
		}
		return boolArray(b.alloc, res, validAnd(b.alloc, n, a)), nil
	}
}

// --- dates and times --------------------------------------------------------

func temporalCast(from, to catalog.Type) (castFn, error) {
	fk, tk := from.Kind, to.Kind
	type conv func(v int64, l *time.Location) int64
	var f conv
	switch {
	case fk == catalog.KindDate && tk == catalog.KindTimestamp:
		f = func(v int64, _ *time.Location) int64 { return v * microsPerDay }
	case fk == catalog.KindDate && tk == catalog.KindTimestampTZ:
		f = func(v int64, l *time.Location) int64 { return utcMicros(v*microsPerDay, l) }
	case fk == catalog.KindTimestamp && tk == catalog.KindDate:
		f = func(v int64, _ *time.Location) int64 { return floorDiv(v, microsPerDay) }
	case fk == catalog.KindTimestampTZ && tk == catalog.KindDate:
		f = func(v int64, l *time.Location) int64 { return floorDiv(localMicros(v, l), microsPerDay) }
	case fk == catalog.KindTimestamp && tk == catalog.KindTimestampTZ:
		f = func(v int64, l *time.Location) int64 { return utcMicros(v, l) }
	case fk == catalog.KindTimestampTZ && tk == catalog.KindTimestamp:
		f = func(v int64, l *time.Location) int64 { return localMicros(v, l) }
	case fk == catalog.KindTimestamp && tk == catalog.KindTime:
		f = func(v int64, _ *time.Location) int64 { return floorMod(v, microsPerDay) }
	case fk == catalog.KindTimestampTZ && tk == catalog.KindTime:
		f = func(v int64, l *time.Location) int64 { return floorMod(localMicros(v, l), microsPerDay) }
	default:
		return nil, fmt.Errorf("cannot cast %s to %s", from, to)
	}
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		l := b.env.loc()
		n := a.Len()
		var in []int64
		if fk == catalog.KindDate {
			d := values[int32](a)
			in = make([]int64, n)
			for i, v := range d {
				in[i] = int64(v)
			}
		} else {
			in = values[int64](a)
		}
		if tk == catalog.KindDate {
			buf, out := newValues[int32](b.alloc, n)
			for i, v := range in {
				if a.IsValid(i) {
					out[i] = int32(f(v, l))
				}
			}
			return finish(arrowType(to), n, validAnd(b.alloc, n, a), buf), nil
		}
		buf, out := newValues[int64](b.alloc, n)
		for i, v := range in {
			if a.IsValid(i) {
				out[i] = f(v, l)
			}
		}
		return finish(arrowType(to), n, validAnd(b.alloc, n, a), buf), nil
	}, nil
}
