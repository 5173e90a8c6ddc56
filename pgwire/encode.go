package pgwire

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/session"
)

// PostgreSQL's binary formats count dates and timestamps from 2000-01-01.
const (
	pgEpochDays   = 10957
	pgEpochMicros = 946684800000000
)

// Format codes of the protocol.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// appendValue appends row i of arr in the given format to buf; ok is false
// for NULL.
func appendValue(buf []byte, arr arrow.Array, i int, format int16) (out []byte, ok bool, err error) {
	if arr.IsNull(i) || arr.DataType().ID() == arrow.NULL {
		return buf, false, nil
	}
	if format != formatBinary {
		s, _ := session.FormatValue(arr, i)
		return append(buf, s...), true, nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return append(buf, 1), true, nil
		}
		return append(buf, 0), true, nil
	case *array.Int8:
		return binary.BigEndian.AppendUint16(buf, uint16(int16(a.Value(i)))), true, nil
	case *array.Int16:
		return binary.BigEndian.AppendUint16(buf, uint16(a.Value(i))), true, nil
	case *array.Int32:
		return binary.BigEndian.AppendUint32(buf, uint32(a.Value(i))), true, nil
	case *array.Int64:
		return binary.BigEndian.AppendUint64(buf, uint64(a.Value(i))), true, nil
	case *array.Float32:
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(a.Value(i))), true, nil
	case *array.Float64:
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(a.Value(i))), true, nil
	case *array.Decimal128:
		return appendNumeric(buf, a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale)), true, nil
	case *array.String:
		return append(buf, a.Value(i)...), true, nil
	case *array.Binary:
		return append(buf, a.Value(i)...), true, nil
	case *array.Date32:
		return binary.BigEndian.AppendUint32(buf, uint32(int32(a.Value(i))-pgEpochDays)), true, nil
	case *array.Time64:
		return binary.BigEndian.AppendUint64(buf, uint64(a.Value(i))), true, nil
	case *array.Timestamp:
		return binary.BigEndian.AppendUint64(buf, uint64(int64(a.Value(i))-pgEpochMicros)), true, nil
	case *array.MonthDayNanoInterval:
		v := a.Value(i)
		buf = binary.BigEndian.AppendUint64(buf, uint64(v.Nanoseconds/1000))
		buf = binary.BigEndian.AppendUint32(buf, uint32(v.Days))
		return binary.BigEndian.AppendUint32(buf, uint32(v.Months)), true, nil
	case *array.List:
		return appendBinaryArray(buf, a, i)
	}
	return buf, false, fmt.Errorf("no binary output format for type %s", arr.DataType())
}

// appendBinaryArray appends row i of a list array in PostgreSQL's binary
// array format: dimensions (0 for an empty array, else 1), a has-NULLs
// flag, the element type's OID, the length and lower bound (1), then each
// element as a length (-1 for NULL) and its binary value.
func appendBinaryArray(buf []byte, a *array.List, i int) ([]byte, bool, error) {
	et, err := catalog.FromArrow(a.DataType().(*arrow.ListType).Elem())
	if err != nil {
		return buf, false, err
	}
	start, end := a.ValueOffsets(i)
	child := a.ListValues()
	n := int(end - start)
	hasNull := uint32(0)
	for k := int(start); k < int(end); k++ {
		if child.IsNull(k) {
			hasNull = 1
		}
	}
	if n == 0 {
		buf = binary.BigEndian.AppendUint32(buf, 0)
		buf = binary.BigEndian.AppendUint32(buf, 0)
		return binary.BigEndian.AppendUint32(buf, et.PGOID()), true, nil
	}
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, hasNull)
	buf = binary.BigEndian.AppendUint32(buf, et.PGOID())
	buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	buf = binary.BigEndian.AppendUint32(buf, 1)
	for k := int(start); k < int(end); k++ {
		at := len(buf)
		buf = binary.BigEndian.AppendUint32(buf, 0)
		out, ok, err := appendValue(buf, child, k, formatBinary)
		if err != nil {
			return buf, false, err
		}
		buf = out
		size := uint32(len(buf) - at - 4)
		if !ok {
			size = math.MaxUint32 // -1: NULL
		}
		binary.BigEndian.PutUint32(buf[at:], size)
	}
	return buf, true, nil
}

// appendNumeric appends the unscaled decimal n with scale s in
// PostgreSQL's binary numeric format: ndigits, weight, sign, dscale, then
// base-10000 digits.
func appendNumeric(buf []byte, n decimal128.Num, scale int) []byte {
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	digits := n.BigInt().String()
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	intPart, frac := digits[:len(digits)-scale], digits[len(digits)-scale:]
	if intPart == "0" {
		intPart = ""
	}
	if r := len(intPart) % 4; r != 0 {
		intPart = strings.Repeat("0", 4-r) + intPart
	}
	if r := len(frac) % 4; r != 0 {
		frac += strings.Repeat("0", 4-r)
	}
	all := intPart + frac
	groups := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		var g uint16
		for _, c := range all[i : i+4] {
			g = g*10 + uint16(c-'0')
		}
		groups = append(groups, g)
	}
	weight := len(intPart)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight = 0
	}
	var sign uint16
	if neg && len(groups) > 0 {
		sign = 0x4000
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(groups)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(scale))
	for _, g := range groups {
		buf = binary.BigEndian.AppendUint16(buf, g)
	}
	return buf
}

// decodeNumeric renders a binary numeric as decimal text.
func decodeNumeric(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("numeric value of %d bytes", len(b))
	}
	nd := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*nd {
		return "", fmt.Errorf("numeric value of %d bytes for %d digits", len(b), nd)
	}
	if sign != 0 && sign != 0x4000 {
		return "", fmt.Errorf("numeric NaN and infinities are not supported")
	}
	v := new(big.Int)
	tenK := big.NewInt(10000)
	for i := 0; i < nd; i++ {
		g := binary.BigEndian.Uint16(b[8+2*i:])
		if g > 9999 {
			return "", fmt.Errorf("invalid numeric digit %d", g)
		}
		v.Mul(v, tenK).Add(v, big.NewInt(int64(g)))
	}
	if nd == 0 {
		s := "0"
		if dscale > 0 {
			s += "." + strings.Repeat("0", dscale)
		}
		return s, nil
	}
	// v is the number times 10000^(nd-1-weight).
	exp := 4 * (nd - 1 - weight) // decimal digits after the point in v
	s := v.String()
	switch {
	case exp <= 0:
		s += strings.Repeat("0", -exp)
		if dscale > 0 {
			s += "." + strings.Repeat("0", dscale)
		}
	default:
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		ip, fp := s[:len(s)-exp], s[len(s)-exp:]
		if len(fp) > dscale {
			fp = fp[:dscale]
		} else {
			fp += strings.Repeat("0", dscale-len(fp))
		}
		s = ip
		if fp != "" {
			s += "." + fp
		}
	}
	if sign == 0x4000 {
		s = "-" + s
	}
	return s, nil
}

// decodeBinaryParam converts a parameter sent in binary format for the
// type oid to the value the engine takes: the type's canonical Go value,
// or text for types whose canonical value needs the target's scale.
func decodeBinaryParam(oid uint32, b []byte) (any, error) {
	need := func(n int) error {
		if len(b) != n {
			return fmt.Errorf("binary value of %d bytes for a %d-byte type", len(b), n)
		}
		return nil
	}
	switch oid {
	case catalog.PGOIDBool:
		if err := need(1); err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case catalog.PGOIDInt2:
		if err := need(2); err != nil {
			return nil, err
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case catalog.PGOIDInt4:
		if err := need(4); err != nil {
			return nil, err
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case catalog.PGOIDInt8:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case catalog.PGOIDFloat4:
		if err := need(4); err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case catalog.PGOIDFloat8:
		if err := need(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case catalog.PGOIDNumeric:
		return decodeNumeric(b)
	case catalog.PGOIDText, catalog.PGOIDVarchar, catalog.PGOIDBpchar, catalog.PGOIDJSON, catalog.PGOIDUnknown, 0:
		return string(b), nil
	case catalog.PGOIDJSONB:
		if len(b) == 0 || b[0] != 1 {
			return nil, fmt.Errorf("unsupported jsonb binary version")
		}
		return string(b[1:]), nil
	case catalog.PGOIDBytea:
		return append([]byte(nil), b...), nil
	case catalog.PGOIDDate:
		if err := need(4); err != nil {
			return nil, err
		}
		return int32(binary.BigEndian.Uint32(b)) + pgEpochDays, nil
	case catalog.PGOIDTime:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case catalog.PGOIDTimestamp, catalog.PGOIDTimestampTZ:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(b)) + pgEpochMicros, nil
	case catalog.PGOIDInterval:
		if err := need(16); err != nil {
			return nil, err
		}
		us := int64(binary.BigEndian.Uint64(b))
		return arrow.MonthDayNanoInterval{Nanoseconds: us * 1000, Days: int32(binary.BigEndian.Uint32(b[8:])),
			Months: int32(binary.BigEndian.Uint32(b[12:]))}, nil
	}
	return nil, fmt.Errorf("no binary input format for type OID %d", oid)
}
