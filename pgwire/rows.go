package pgwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/exec/session"
)

// rawMessages are backend messages already encoded: the DataRows of part
// of a batch, sent with one Send instead of one per row.
type rawMessages []byte

// Backend implements pgproto3.BackendMessage.
func (rawMessages) Backend() {}

// Decode implements pgproto3.BackendMessage; raw messages are only sent.
func (rawMessages) Decode([]byte) error { return fmt.Errorf("raw messages are not decoded") }

// Encode implements pgproto3.BackendMessage.
func (m rawMessages) Encode(dst []byte) ([]byte, error) { return append(dst, m...), nil }

// valueEncoder appends row i of a column (known not NULL) in one format.
type valueEncoder func(dst []byte, i int) ([]byte, error)

// encoderFor returns the encoder of a column: the common types have their
// own loops' worth of code, the rest go through appendValue.
func encoderFor(arr arrow.Array, format int16) valueEncoder {
	if format == formatBinary {
		switch a := arr.(type) {
		case *array.Int64:
			v := a.Int64Values()
			return func(dst []byte, i int) ([]byte, error) { return binary.BigEndian.AppendUint64(dst, uint64(v[i])), nil }
		case *array.Int32:
			v := a.Int32Values()
			return func(dst []byte, i int) ([]byte, error) { return binary.BigEndian.AppendUint32(dst, uint32(v[i])), nil }
		case *array.Float64:
			v := a.Float64Values()
			return func(dst []byte, i int) ([]byte, error) {
				return binary.BigEndian.AppendUint64(dst, math.Float64bits(v[i])), nil
			}
		case *array.String:
			return func(dst []byte, i int) ([]byte, error) { return append(dst, a.Value(i)...), nil }
		case *array.Date32:
			v := a.Date32Values()
			return func(dst []byte, i int) ([]byte, error) {
				return binary.BigEndian.AppendUint32(dst, uint32(int32(v[i])-pgEpochDays)), nil
			}
		}
	} else {
		switch a := arr.(type) {
		case *array.Int64:
			v := a.Int64Values()
			return func(dst []byte, i int) ([]byte, error) { return strconv.AppendInt(dst, v[i], 10), nil }
		case *array.Int32:
			v := a.Int32Values()
			return func(dst []byte, i int) ([]byte, error) { return strconv.AppendInt(dst, int64(v[i]), 10), nil }
		case *array.Int16:
			v := a.Int16Values()
			return func(dst []byte, i int) ([]byte, error) { return strconv.AppendInt(dst, int64(v[i]), 10), nil }
		case *array.Float64:
			v := a.Float64Values()
			return func(dst []byte, i int) ([]byte, error) { return appendFloatText(dst, v[i], 64), nil }
		case *array.Float32:
			v := a.Float32Values()
			return func(dst []byte, i int) ([]byte, error) { return appendFloatText(dst, float64(v[i]), 32), nil }
		case *array.String:
			return func(dst []byte, i int) ([]byte, error) { return append(dst, a.Value(i)...), nil }
		case *array.Boolean:
			return func(dst []byte, i int) ([]byte, error) {
				if a.Value(i) {
					return append(dst, 't'), nil
				}
				return append(dst, 'f'), nil
			}
		case *array.Date32:
			v := a.Date32Values()
			return func(dst []byte, i int) ([]byte, error) {
				if out, ok := appendDateText(dst, int64(v[i])); ok {
					return out, nil
				}
				s, _ := session.FormatValue(a, i)
				return append(dst, s...), nil
			}
		}
	}
	return func(dst []byte, i int) ([]byte, error) {
		out, _, err := appendValue(dst, arr, i, format)
		return out, err
	}
}

// appendFloatText appends a float as PostgreSQL writes it (shortest
// exact digits; Infinity, -Infinity, NaN).
func appendFloatText(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendDateText appends days since 1970-01-01 as YYYY-MM-DD for years 1
// to 9999 (false otherwise: the caller formats it the slow way).
func appendDateText(dst []byte, days int64) ([]byte, bool) {
	// Civil date from a day count (proleptic Gregorian calendar).
	z := days + 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	if y < 1 || y > 9999 {
		return dst, false
	}
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10)), true
}
