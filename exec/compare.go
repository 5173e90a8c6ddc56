package exec

import (
	"bytes"
	"cmp"
	"encoding/binary"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
)

// rowCmp compares row i of one array with row j of another (or the same)
// array: negative, zero or positive.
type rowCmp func(i, j int) int

// compareFloat orders floats with NaN above every other value and equal to
// itself, and -0 equal to 0, as PostgreSQL does.
func compareFloat[T float32 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	}
	return -1
}

// compareInterval orders intervals by their length with a month counted as
// 30 days and a day as 24 hours (PostgreSQL's interval ordering).
func compareInterval(a, b arrow.MonthDayNanoInterval) int {
	const day = 86400 * 1e9
	norm := func(iv arrow.MonthDayNanoInterval) (int64, int64) {
		d := int64(iv.Months)*30 + int64(iv.Days)
		q, r := iv.Nanoseconds/day, iv.Nanoseconds%day
		if r < 0 {
			q--
			r += day
		}
		return d + q, r
	}
	ad, an := norm(a)
	bd, bn := norm(b)
	if c := cmp.Compare(ad, bd); c != 0 {
		return c
	}
	return cmp.Compare(an, bn)
}

func compareDecimal(a, b decimal128.Num) int { return a.Cmp(b) }

// valueCmp returns a comparator of the non-NULL values of a and b, which
// have the same type; it ignores validity.
func valueCmp(a, b arrow.Array) (rowCmp, error) {
	switch physOf(a.DataType()) {
	case physNull:
		return func(int, int) int { return 0 }, nil
	case physBool:
		x, y := boolValsOf(a), boolValsOf(b)
		return func(i, j int) int {
			p, q := x.get(i), y.get(j)
			switch {
			case p == q:
				return 0
			case q:
				return -1
			}
			return 1
		}, nil
	case physInt8:
		return orderedCmp(fixedVals[int8](a), fixedVals[int8](b)), nil
	case physInt16:
		return orderedCmp(fixedVals[int16](a), fixedVals[int16](b)), nil
	case physInt32:
		return orderedCmp(fixedVals[int32](a), fixedVals[int32](b)), nil
	case physInt64:
		return orderedCmp(fixedVals[int64](a), fixedVals[int64](b)), nil
	case physFloat32:
		x, y := fixedVals[float32](a), fixedVals[float32](b)
		return func(i, j int) int { return compareFloat(x[i], y[j]) }, nil
	case physFloat64:
		x, y := fixedVals[float64](a), fixedVals[float64](b)
		return func(i, j int) int { return compareFloat(x[i], y[j]) }, nil
	case physDecimal:
		x, y := fixedVals[decimal128.Num](a), fixedVals[decimal128.Num](b)
		return func(i, j int) int { return x[i].Cmp(y[j]) }, nil
	case physInterval:
		x, y := fixedVals[arrow.MonthDayNanoInterval](a), fixedVals[arrow.MonthDayNanoInterval](b)
		return func(i, j int) int { return compareInterval(x[i], y[j]) }, nil
	case physBytes:
		xo, xd := bytesVals(a)
		yo, yd := bytesVals(b)
		// Compare the first 8 bytes as one big-endian integer first:
		// most comparisons end there.
		xp := bytePrefixes(xo, xd)
		yp := xp
		if b != a {
			yp = bytePrefixes(yo, yd)
		}
		return func(i, j int) int {
			if p, q := xp[i], yp[j]; p != q {
				if p < q {
					return -1
				}
				return 1
			}
			return bytes.Compare(xd[xo[i]:xo[i+1]], yd[yo[j]:yo[j+1]])
		}, nil
	}
	return nil, checkSupported(a.DataType())
}

// bytePrefixes returns, per value, its first 8 bytes as a big-endian
// integer (zero-padded), which orders like the bytes themselves.
func bytePrefixes(offs []int32, data []byte) []uint64 {
	out := make([]uint64, len(offs)-1)
	for i := range out {
		v := data[offs[i]:offs[i+1]]
		var p uint64
		if len(v) >= 8 {
			p = binary.BigEndian.Uint64(v)
		} else {
			for k := 0; k < 8; k++ {
				p <<= 8
				if k < len(v) {
					p |= uint64(v[k])
				}
			}
		}
		out[i] = p
	}
	return out
}

func orderedCmp[T cmp.Ordered](x, y []T) rowCmp {
	return func(i, j int) int {
		p, q := x[i], y[j]
		switch {
		case p < q:
			return -1
		case p > q:
			return 1
		}
		return 0
	}
}

// sortCmp returns the comparator of one ORDER BY key between row i of a
// and row j of b: NULLs first or last regardless of direction, values
// descending when desc.
func sortCmp(a, b arrow.Array, desc, nullsFirst bool) (rowCmp, error) {
	vc, err := valueCmp(a, b)
	if err != nil {
		return nil, err
	}
	va, vb := validityOf(a), validityOf(b)
	nullOrder := 1
	if nullsFirst {
		nullOrder = -1
	}
	if va.bm == nil && vb.bm == nil {
		if desc {
			return func(i, j int) int { return -vc(i, j) }, nil
		}
		return vc, nil
	}
	return func(i, j int) int {
		an, bn := !va.valid(i), !vb.valid(j)
		switch {
		case an && bn:
			return 0
		case an:
			return nullOrder
		case bn:
			return -nullOrder
		}
		if desc {
			return -vc(i, j)
		}
		return vc(i, j)
	}, nil
}

// multiCmp chains comparators: the first non-zero result wins.
func multiCmp(cs []rowCmp) rowCmp {
	switch len(cs) {
	case 0:
		return func(int, int) int { return 0 }
	case 1:
		return cs[0]
	case 2:
		a, b := cs[0], cs[1]
		return func(i, j int) int {
			if c := a(i, j); c != 0 {
				return c
			}
			return b(i, j)
		}
	}
	return func(i, j int) int {
		for _, c := range cs {
			if r := c(i, j); r != 0 {
				return r
			}
		}
		return 0
	}
}

// keysCmp returns the comparator of rows of two sets of key arrays (a[k]
// and b[k] have the same type) under the given orders.
func keysCmp(a, b []arrow.Array, keys []SortKey) (rowCmp, error) {
	cs := make([]rowCmp, len(a))
	for k := range a {
		c, err := sortCmp(a[k], b[k], keys[k].Desc, keys[k].NullsFirst)
		if err != nil {
			return nil, err
		}
		cs[k] = c
	}
	return multiCmp(cs), nil
}

// eqCmp returns a comparator telling whether rows of two sets of arrays are
// equal column by column, NULL equal to NULL (0) or not (non-zero).
func eqCmp(a, b []arrow.Array) (rowCmp, error) {
	cs := make([]rowCmp, len(a))
	for k := range a {
		c, err := sortCmp(a[k], b[k], false, false)
		if err != nil {
			return nil, err
		}
		cs[k] = c
	}
	return multiCmp(cs), nil
}
