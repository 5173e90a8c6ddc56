package expr

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file converts between single values and arrays: the canonical Go
// value of a row (planner.Const's representation), arrays of one value
// repeated, statement parameters, and the normalisation of input columns
// whose Arrow type differs from the canonical one (dictionaries, large
// strings).

// scalarAt returns row i of a as the canonical Go value of type t (nil for
// NULL).
func scalarAt(a arrow.Array, i int, t catalog.Type) any {
	if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
		return nil
	}
	switch x := a.(type) {
	case *array.Boolean:
		return x.Value(i)
	case *array.Int8:
		return int64(x.Value(i))
	case *array.Int16:
		return int64(x.Value(i))
	case *array.Int32:
		return int64(x.Value(i))
	case *array.Int64:
		return x.Value(i)
	case *array.Float32:
		return float64(x.Value(i))
	case *array.Float64:
		return x.Value(i)
	case *array.Decimal128:
		return x.Value(i)
	case *array.String:
		return x.Value(i)
	case *array.Binary:
		return append([]byte(nil), x.Value(i)...)
	case *array.Date32:
		return int32(x.Value(i))
	case *array.Time64:
		return int64(x.Value(i))
	case *array.Timestamp:
		return int64(x.Value(i))
	case *array.MonthDayNanoInterval:
		return x.Value(i)
	case *array.List:
		start, end := x.ValueOffsets(i)
		child, et := x.ListValues(), t.ElemType()
		out := make([]any, 0, end-start)
		for k := start; k < end; k++ {
			out = append(out, scalarAt(child, int(k), et))
		}
		return out
	}
	panic(fmt.Sprintf("scalarAt: unsupported array %s", a.DataType()))
}

// constArray returns an array of n copies of the canonical value v of type
// t, in Go memory.
func constArray(v any, t catalog.Type, n int) arrow.Array {
	dt := arrowType(t)
	if dt.ID() == arrow.NULL {
		return array.NewNull(n)
	}
	if t.IsArray() {
		vals := make([]any, n)
		for i := range vals {
			vals[i] = v
		}
		a, err := valuesArray(memory.DefaultAllocator, t, vals)
		if err != nil {
			panic(fmt.Sprintf("constArray: %v", err))
		}
		return a
	}
	if v == nil {
		valid := make([]byte, bitutil.BytesForBits(int64(n)))
		switch dt.ID() {
		case arrow.BOOL:
			return finishNoRelease(dt, n, memory.NewBufferBytes(valid), memory.NewBufferBytes(make([]byte, len(valid))))
		case arrow.STRING, arrow.BINARY:
			return finishNoRelease(dt, n, memory.NewBufferBytes(valid), memory.NewBufferBytes(make([]byte, 4*(n+1))), memory.NewBufferBytes(nil))
		}
		w := dt.(arrow.FixedWidthDataType).BitWidth() / 8
		return finishNoRelease(dt, n, memory.NewBufferBytes(valid), memory.NewBufferBytes(make([]byte, w*n)))
	}
	switch dt.ID() {
	case arrow.BOOL:
		vals := make([]byte, bitutil.BytesForBits(int64(n)))
		if v.(bool) {
			for i := range vals {
				vals[i] = 0xff
			}
		}
		return finishNoRelease(dt, n, nil, memory.NewBufferBytes(vals))
	case arrow.STRING, arrow.BINARY:
		var s []byte
		switch x := v.(type) {
		case string:
			s = []byte(x)
		case []byte:
			s = x
		}
		data := make([]byte, 0, len(s)*n)
		offs := make([]int32, n+1)
		for i := 0; i < n; i++ {
			data = append(data, s...)
			offs[i+1] = int32(len(data))
		}
		return finishNoRelease(dt, n, nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(data))
	}
	switch x := v.(type) {
	case int64:
		switch dt.ID() {
		case arrow.INT8:
			return fillFixed(dt, n, int8(x))
		case arrow.INT16:
			return fillFixed(dt, n, int16(x))
		case arrow.INT32:
			return fillFixed(dt, n, int32(x))
		}
		return fillFixed(dt, n, x)
	case float64:
		if dt.ID() == arrow.FLOAT32 {
			return fillFixed(dt, n, float32(x))
		}
		return fillFixed(dt, n, x)
	case decimal128.Num:
		return fillFixed(dt, n, i128FromNum(x))
	case int32:
		return fillFixed(dt, n, x)
	case arrow.MonthDayNanoInterval:
		return fillFixed(dt, n, x)
	}
	panic(fmt.Sprintf("constArray: value %T for %s", v, t))
}

func fillFixed[T any](dt arrow.DataType, n int, v T) arrow.Array {
	vals := make([]T, n)
	for i := range vals {
		vals[i] = v
	}
	return finishNoRelease(dt, n, nil, memory.NewBufferBytes(unsafeBytes(vals)))
}

// canonical checks and normalises a constant's Go value for type t.
func canonical(v any, t catalog.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("constant %v (%T) is not a canonical %s value", v, v, t)
	}
	switch t.Kind {
	case catalog.KindNull:
		return nil, nil
	case catalog.KindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case catalog.KindInt8, catalog.KindInt16, catalog.KindInt32, catalog.KindInt64:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		}
	case catalog.KindFloat32, catalog.KindFloat64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		}
	case catalog.KindDecimal:
		if d, ok := v.(decimal128.Num); ok {
			return d, nil
		}
	case catalog.KindString, catalog.KindJSON:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case catalog.KindBinary:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case catalog.KindDate:
		switch x := v.(type) {
		case int32:
			return x, nil
		case time.Time:
			return int32(floorDiv(x.Unix(), 86400)), nil
		}
	case catalog.KindTime, catalog.KindTimestamp, catalog.KindTimestampTZ:
		switch x := v.(type) {
		case int64:
			return x, nil
		case time.Time:
			if t.Kind == catalog.KindTime {
				break
			}
			return x.UnixMicro(), nil
		}
	case catalog.KindInterval:
		if iv, ok := v.(arrow.MonthDayNanoInterval); ok {
			return iv, nil
		}
	case catalog.KindArray:
		xs, ok := v.([]any)
		if !ok {
			break
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			e, err := canonical(x, t.ElemType())
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return bad()
}

// paramValue converts a parameter value to canonical form for type t: a
// canonical value as it is, a string read as a literal of t.
func paramValue(v any, t catalog.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && !t.IsString() && t.Kind != catalog.KindNull {
		return castScalar(s, catalog.String, t)
	}
	if t.Kind == catalog.KindNull {
		return nil, nil
	}
	cv, err := canonical(v, t)
	if err != nil {
		return nil, errorf(CodeInvalidParameter, "parameter value %v does not fit type %s", v, t)
	}
	return cv, nil
}

// castScalar converts one value with the cast kernels.
func castScalar(v any, from, to catalog.Type) (any, error) {
	fn, err := castFunc(from, to, false, false)
	if err != nil {
		return nil, err
	}
	in := constArray(v, from, 1)
	defer in.Release()
	b := &batch{alloc: memory.DefaultAllocator, n: 1, env: &Env{}}
	out, err := fn(b, in)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	return scalarAt(out, 0, to), nil
}

// sqlText renders a canonical value as SQL text for error messages.
func sqlText(v any, t catalog.Type) string {
	if f, ok := v.(float64); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return formatFloat(f, t.Kind == catalog.KindFloat32)
	}
	if d, ok := v.(decimal128.Num); ok {
		return formatDecimal(i128FromNum(d), t.Scale)
	}
	return planner.FormatValue(v, t)
}

// sqlAt renders row i of a as SQL text.
func sqlAt(a arrow.Array, i int, t catalog.Type) string {
	return sqlText(scalarAt(a, i, t), t)
}

// normalizer returns a conversion from an input column's Arrow type to the
// canonical type of its SQL type, for types that differ only in encoding.
func normalizer(got, want arrow.DataType) (func(memory.Allocator, arrow.Array) arrow.Array, bool) {
	switch g := got.(type) {
	case *arrow.DictionaryType:
		if !arrow.TypeEqual(g.ValueType, want) {
			inner, ok := normalizer(g.ValueType, want)
			if !ok {
				return nil, false
			}
			return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
				dec := decodeDictionary(alloc, a.(*array.Dictionary))
				defer dec.Release()
				return inner(alloc, dec)
			}, true
		}
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			return decodeDictionary(alloc, a.(*array.Dictionary))
		}, true
	case *arrow.LargeStringType:
		if want.ID() != arrow.STRING {
			return nil, false
		}
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			x := a.(*array.LargeString)
			o := newStrOut(x.Len(), len(x.ValueBytes()))
			for i := 0; i < x.Len(); i++ {
				if x.IsNull(i) {
					o.appendNull()
				} else {
					o.append(x.Value(i))
				}
			}
			return o.finish(arrow.BinaryTypes.String)
		}, true
	case *arrow.LargeBinaryType:
		if want.ID() != arrow.BINARY {
			return nil, false
		}
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			x := a.(*array.LargeBinary)
			o := newStrOut(x.Len(), len(x.ValueBytes()))
			for i := 0; i < x.Len(); i++ {
				if x.IsNull(i) {
					o.appendNull()
				} else {
					o.appendBytes(x.Value(i))
				}
			}
			return o.finish(arrow.BinaryTypes.Binary)
		}, true
	case *arrow.TimestampType:
		if _, ok := want.(*arrow.TimestampType); !ok {
			return nil, false
		}
		mul, div := unitScale(g.Unit)
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			return rescaleInt64(alloc, a, want, mul, div)
		}, true
	case *arrow.Time32Type:
		if want.ID() != arrow.TIME64 {
			return nil, false
		}
		mul, div := unitScale(g.Unit)
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			in := values[int32](a)
			buf, out := newValues[int64](alloc, a.Len())
			for i, v := range in {
				out[i] = int64(v) * mul / div
			}
			return finish(want, a.Len(), validAnd(alloc, a.Len(), a), buf)
		}, true
	case *arrow.Time64Type:
		if want.ID() != arrow.TIME64 {
			return nil, false
		}
		mul, div := unitScale(g.Unit)
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			return rescaleInt64(alloc, a, want, mul, div)
		}, true
	case *arrow.Date64Type:
		if want.ID() != arrow.DATE32 {
			return nil, false
		}
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			in := values[int64](a)
			buf, out := newValues[int32](alloc, a.Len())
			for i, v := range in {
				out[i] = int32(floorDiv(v, 86400000))
			}
			return finish(want, a.Len(), validAnd(alloc, a.Len(), a), buf)
		}, true
	case *arrow.Decimal128Type:
		w, ok := want.(*arrow.Decimal128Type)
		if !ok || w.Scale != g.Scale {
			return nil, false
		}
		return relabelArray(want), true
	case *arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type:
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			n := a.Len()
			out := make([]int64, n)
			switch x := a.(type) {
			case *array.Uint8:
				for i := range out {
					out[i] = int64(x.Value(i))
				}
			case *array.Uint16:
				for i := range out {
					out[i] = int64(x.Value(i))
				}
			case *array.Uint32:
				for i := range out {
					out[i] = int64(x.Value(i))
				}
			}
			t, _ := catalog.FromArrow(want)
			b := &batch{alloc: alloc}
			return finish(want, n, validAnd(alloc, n, a), narrowInts(b, out, t))
		}, want.ID() == arrow.INT16 || want.ID() == arrow.INT32 || want.ID() == arrow.INT64
	case *arrow.FixedSizeBinaryType:
		if want.ID() != arrow.BINARY {
			return nil, false
		}
		return func(alloc memory.Allocator, a arrow.Array) arrow.Array {
			x := a.(*array.FixedSizeBinary)
			o := newStrOut(x.Len(), x.Len()*g.ByteWidth)
			for i := 0; i < x.Len(); i++ {
				if x.IsNull(i) {
					o.appendNull()
				} else {
					o.appendBytes(x.Value(i))
				}
			}
			return o.finish(arrow.BinaryTypes.Binary)
		}, true
	}
	return nil, false
}

// unitScale returns the factors converting a time unit to microseconds.
func unitScale(u arrow.TimeUnit) (mul, div int64) {
	switch u {
	case arrow.Second:
		return 1_000_000, 1
	case arrow.Millisecond:
		return 1000, 1
	case arrow.Nanosecond:
		return 1, 1000
	}
	return 1, 1
}

// rescaleInt64 converts 64-bit time values to microseconds (floor for
// nanoseconds) under type want.
func rescaleInt64(alloc memory.Allocator, a arrow.Array, want arrow.DataType, mul, div int64) arrow.Array {
	if mul == 1 && div == 1 {
		return relabelArray(want)(alloc, a)
	}
	in := values[int64](a)
	buf, out := newValues[int64](alloc, a.Len())
	for i, v := range in {
		out[i] = floorDiv(v*mul, div)
	}
	return finish(want, a.Len(), validAnd(alloc, a.Len(), a), buf)
}

// relabelArray returns the same buffers under another type.
func relabelArray(want arrow.DataType) func(memory.Allocator, arrow.Array) arrow.Array {
	return func(_ memory.Allocator, a arrow.Array) arrow.Array {
		d := array.NewData(want, a.Len(), a.Data().Buffers(), nil, a.NullN(), a.Data().Offset())
		defer d.Release()
		return array.MakeFromData(d)
	}
}

// decodeDictionary materialises a dictionary-encoded array.
func decodeDictionary(alloc memory.Allocator, d *array.Dictionary) arrow.Array {
	n := d.Len()
	idx := make([]int32, n)
	which := make([]int32, n)
	for i := 0; i < n; i++ {
		if d.IsNull(i) {
			which[i] = -1
			continue
		}
		idx[i] = int32(d.GetValueIndex(i))
	}
	return gather(alloc, d.Dictionary().DataType(), []arrow.Array{d.Dictionary()}, which, idx)
}
