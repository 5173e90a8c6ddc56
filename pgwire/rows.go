package pgwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/exec/expr"
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
			return func(dst []byte, i int) ([]byte, error) { return expr.AppendFloatShortest(dst, v[i], 64), nil }
		case *array.Float32:
			v := a.Float32Values()
			return func(dst []byte, i int) ([]byte, error) { return expr.AppendFloatShortest(dst, float64(v[i]), 32), nil }
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
				if d := int64(v[i]); d >= firstFastDay && d <= lastFastDay {
					return expr.AppendDate(dst, d), nil
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

// firstFastDay and lastFastDay are 0001-01-01 and 9999-12-31 as days since
// 1970-01-01: the dates between them the text encoder writes with
// expr.AppendDate; the others go the slow way, through session.FormatValue.
const (
	firstFastDay = -719162
	lastFastDay  = 2932896
)
