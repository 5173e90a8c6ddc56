package expr

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// Arrays: Arrow list arrays of a scalar element type. The array functions
// work row by row on the canonical Go values (an array is []any of its
// elements): arrays in etlc are short (catalog keys, small lists), and
// their casts and text output, the paths that see volume, work on the
// child arrays batch at a time.

// valuesArray builds an array of type t from canonical values (nil for
// NULL).
func valuesArray(alloc memory.Allocator, t catalog.Type, vals []any) (arrow.Array, error) {
	bld := array.NewBuilder(alloc, arrowType(t))
	defer bld.Release()
	for _, v := range vals {
		if err := appendValue(bld, v); err != nil {
			return nil, err
		}
	}
	return bld.NewArray(), nil
}

// appendValue appends one canonical value to a builder of its type.
func appendValue(bld array.Builder, v any) error {
	if v == nil {
		bld.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("value %v (%T) does not fit %s", v, v, bld.Type()) }
	switch b := bld.(type) {
	case *array.ListBuilder:
		xs, ok := v.([]any)
		if !ok {
			return bad()
		}
		b.Append(true)
		for _, x := range xs {
			if err := appendValue(b.ValueBuilder(), x); err != nil {
				return err
			}
		}
		return nil
	case *array.NullBuilder:
		b.AppendNull()
		return nil
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.Int8Builder:
		if x, ok := v.(int64); ok {
			b.Append(int8(x))
			return nil
		}
	case *array.Int16Builder:
		if x, ok := v.(int64); ok {
			b.Append(int16(x))
			return nil
		}
	case *array.Int32Builder:
		if x, ok := v.(int64); ok {
			b.Append(int32(x))
			return nil
		}
	case *array.Int64Builder:
		if x, ok := v.(int64); ok {
			b.Append(x)
			return nil
		}
	case *array.Float32Builder:
		if x, ok := v.(float64); ok {
			b.Append(float32(x))
			return nil
		}
	case *array.Float64Builder:
		if x, ok := v.(float64); ok {
			b.Append(x)
			return nil
		}
	case *array.Decimal128Builder:
		if x, ok := v.(decimal128.Num); ok {
			b.Append(x)
			return nil
		}
	case *array.StringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.BinaryBuilder:
		if x, ok := v.([]byte); ok {
			b.Append(x)
			return nil
		}
	case *array.Date32Builder:
		if x, ok := v.(int32); ok {
			b.Append(arrow.Date32(x))
			return nil
		}
	case *array.Time64Builder:
		if x, ok := v.(int64); ok {
			b.Append(arrow.Time64(x))
			return nil
		}
	case *array.TimestampBuilder:
		if x, ok := v.(int64); ok {
			b.Append(arrow.Timestamp(x))
			return nil
		}
	case *array.MonthDayNanoIntervalBuilder:
		if x, ok := v.(arrow.MonthDayNanoInterval); ok {
			b.Append(x)
			return nil
		}
	}
	return bad()
}

// listAt returns the elements of row i of a list array (nil for a NULL
// row; ok false then).
func listAt(a arrow.Array, i int, t catalog.Type) ([]any, bool) {
	v := scalarAt(a, i, t)
	if v == nil {
		return nil, false
	}
	return v.([]any), true
}

// equalValues compares two non-NULL canonical values of one type.
func equalValues(x, y any) bool {
	switch a := x.(type) {
	case []byte:
		b, ok := y.([]byte)
		return ok && bytes.Equal(a, b)
	case []any:
		b, ok := y.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if (a[i] == nil) != (b[i] == nil) || a[i] != nil && !equalValues(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return x == y
}

// rowKernel is a kernel that computes each row from the canonical values
// of its arguments.
func rowKernel(name string, t catalog.Type, args []node, f func(vals []any) (any, error)) node {
	return newKernel(name, t, args, false, func(b *batch, in []arrow.Array) (arrow.Array, error) {
		out := make([]any, b.n)
		vals := make([]any, len(in))
		for i := 0; i < b.n; i++ {
			for k, a := range in {
				vals[k] = scalarAt(a, i, args[k].typ())
			}
			v, err := f(vals)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return valuesArray(b.alloc, t, out)
	})
}

// arrayFunc compiles the array functions; ok is false for other names.
func (c *compiler) arrayFunc(x *planner.Call, args []node) (node, bool, error) {
	t := x.T
	intArg := func(v any) (int64, bool) {
		n, ok := v.(int64)
		return n, ok
	}
	switch x.Name {
	case "__etl_array":
		return rowKernel("array", t, args, func(vals []any) (any, error) {
			return append([]any{}, vals...), nil
		}), true, nil
	case "__etl_array_elem":
		return rowKernel("array_elem", t, args, func(vals []any) (any, error) {
			a, ok := vals[0].([]any)
			i, iok := intArg(vals[1])
			if !ok || !iok || i < 1 || i > int64(len(a)) {
				return nil, nil
			}
			return a[i-1], nil
		}), true, nil
	case "array_length", "array_upper", "array_lower", "cardinality":
		name := x.Name
		return rowKernel(name, t, args, func(vals []any) (any, error) {
			a, ok := vals[0].([]any)
			if !ok {
				return nil, nil
			}
			if name == "cardinality" {
				return int64(len(a)), nil
			}
			if d, ok := intArg(vals[1]); !ok || d != 1 || len(a) == 0 {
				return nil, nil
			}
			if name == "array_lower" {
				return int64(1), nil
			}
			return int64(len(a)), nil
		}), true, nil
	case "array_cat":
		return rowKernel("array_cat", t, args, func(vals []any) (any, error) {
			a, aok := vals[0].([]any)
			b, bok := vals[1].([]any)
			switch {
			case !aok && !bok:
				return nil, nil
			case !aok:
				return b, nil
			case !bok:
				return a, nil
			}
			return append(append([]any{}, a...), b...), nil
		}), true, nil
	case "array_append":
		return rowKernel("array_append", t, args, func(vals []any) (any, error) {
			a, _ := vals[0].([]any)
			return append(append([]any{}, a...), vals[1]), nil
		}), true, nil
	case "array_prepend":
		return rowKernel("array_prepend", t, args, func(vals []any) (any, error) {
			a, _ := vals[1].([]any)
			return append([]any{vals[0]}, a...), nil
		}), true, nil
	case "array_position":
		return rowKernel("array_position", t, args, func(vals []any) (any, error) {
			a, ok := vals[0].([]any)
			if !ok || vals[1] == nil {
				return nil, nil
			}
			for i, e := range a {
				if e != nil && equalValues(e, vals[1]) {
					return int64(i + 1), nil
				}
			}
			return nil, nil
		}), true, nil
	case "__etl_any_eq":
		return rowKernel("any_eq", t, args, func(vals []any) (any, error) {
			a, ok := vals[1].([]any)
			if !ok || vals[0] == nil {
				return nil, nil
			}
			sawNull := false
			for _, e := range a {
				if e == nil {
					sawNull = true
				} else if equalValues(e, vals[0]) {
					return true, nil
				}
			}
			if sawNull {
				return nil, nil
			}
			return false, nil
		}), true, nil
	case "array_to_string":
		return c.arrayToString(x, args), true, nil
	case "bitand", "bitor":
		op := x.Name
		return newKernel(op, t, args, false, func(b *batch, in []arrow.Array) (arrow.Array, error) {
			l, r := int64sOf(in[0]), int64sOf(in[1])
			return intRows(b, in, t, func(i int) (int64, bool, error) {
				if op == "bitand" {
					return l[i] & r[i], false, nil
				}
				return l[i] | r[i], false, nil
			})
		}), true, nil
	}
	return nil, false, nil
}

// arrayToString joins the elements' text with a separator; NULL elements
// are left out, or written as the third argument when it is given.
func (c *compiler) arrayToString(x *planner.Call, args []node) node {
	et := args[0].typ().ElemType()
	return newKernel("array_to_string", x.T, args, false, func(b *batch, in []arrow.Array) (arrow.Array, error) {
		list := in[0].(*array.List)
		child := list.ListValues()
		var text texter
		if et.Kind != catalog.KindNull {
			text = textOf(child, et, b.env.loc())
		}
		out := newStrOut(b.n, b.n*8)
		var tmp []byte
		for i := 0; i < b.n; i++ {
			if anyNullAt(in[:2], i) {
				out.appendNull()
				continue
			}
			sep := in[1].(*array.String).Value(i)
			nullText, hasNull := "", len(in) > 2 && in[2].IsValid(i)
			if hasNull {
				nullText = in[2].(*array.String).Value(i)
			}
			start, end := list.ValueOffsets(i)
			var parts []string
			for k := int(start); k < int(end); k++ {
				if child.IsNull(k) || text == nil {
					if hasNull {
						parts = append(parts, nullText)
					}
					continue
				}
				tmp = text(tmp[:0], k)
				parts = append(parts, string(tmp))
			}
			out.append(strings.Join(parts, sep))
		}
		return out.finish(arrowType(x.T)), nil
	})
}

// arrayToArrayCast converts an array's elements to another element type;
// the offsets and validity stay.
func arrayToArrayCast(from, to catalog.Type, try, implicit bool) (castFn, error) {
	elem, err := castFunc(from.ElemType(), to.ElemType(), try, implicit)
	if err != nil {
		return nil, err
	}
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		list := a.(*array.List)
		child, err := elem(b, list.ListValues())
		if err != nil {
			return nil, err
		}
		defer child.Release()
		d := array.NewData(arrowType(to), a.Len(), a.Data().Buffers(), []arrow.ArrayData{child.Data()}, a.NullN(), a.Data().Offset())
		defer d.Release()
		return array.MakeFromData(d), nil
	}, nil
}

// textToArrayCast reads PostgreSQL's array text ({1,2,NULL}, {"a b",c}),
// converting each element as a cast from text to the element type would.
func textToArrayCast(to catalog.Type, try bool) castFn {
	et := to.ElemType()
	return func(b *batch, a arrow.Array) (arrow.Array, error) {
		x := a.(*array.String)
		out := make([]any, a.Len())
		for i := range out {
			if x.IsNull(i) {
				continue
			}
			v, err := parseArrayText(x.Value(i), et)
			if err != nil {
				if try {
					continue
				}
				return nil, err
			}
			out[i] = v
		}
		return valuesArray(b.alloc, to, out)
	}
}

// parseArrayText reads one array literal.
func parseArrayText(s string, et catalog.Type) ([]any, error) {
	elems, err := catalog.SplitArrayText(s)
	if err != nil {
		return nil, errorf(CodeInvalidText, "malformed array literal: \"%s\" (%v)", s, err)
	}
	out := make([]any, len(elems))
	for i, e := range elems {
		if e.Null {
			continue
		}
		if out[i], err = castScalar(e.Text, catalog.String, et); err != nil {
			return nil, err
		}
	}
	return out, nil
}
