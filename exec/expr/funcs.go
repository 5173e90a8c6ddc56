package expr

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file dispatches a planner.Call to its implementation by the
// registry's canonical name, and holds the row-wise helpers the scalar
// functions share.

// nonStrict lists the functions whose result is not simply NULL when an
// argument is NULL.
func nonStrict(name string) bool {
	switch name {
	case "and", "or", "is_null", "is_not_null", "is_true", "is_not_true", "is_false", "is_not_false",
		"is_distinct_from", "is_not_distinct_from", "coalesce", "ifnull", "nullif", "greatest", "least",
		"if", "in_list", "concat", "concat_ws", "hash", "current_date", "current_timestamp", "pi", "random",
		"__etl_array", "array_cat", "array_append", "array_prepend", "array_to_string":
		return true
	}
	return false
}

// call compiles a function or operator call.
func (c *compiler) call(x *planner.Call, args []node) (node, error) {
	name := x.Name
	if name == "" && x.Fn != nil {
		name = x.Fn.Name
	}
	if x.Fn != nil && x.Fn.Kind != planner.FuncScalar {
		return nil, fmt.Errorf("%s is an %s function: the aggregate and window operators evaluate it", name, x.Fn.Kind)
	}
	if !nonStrict(name) {
		for _, a := range args {
			if isNullConst(a) {
				return c.constant(nil, x.T)
			}
		}
	}
	switch name {
	case "add", "sub", "mul", "div", "mod", "intdiv":
		return c.arith(x, args)
	case "neg":
		return c.neg(x, args)
	case "eq", "ne", "lt", "le", "gt", "ge":
		return c.compare(x, args)
	case "is_distinct_from", "is_not_distinct_from":
		return c.distinct(x, args)
	case "and", "or", "not", "is_null", "is_not_null", "is_true", "is_not_true", "is_false", "is_not_false":
		return c.logic(x, args)
	case "in_list":
		return c.inList(x, args)
	case "like", "not_like", "ilike", "not_ilike":
		return c.like(x, args)
	case "regexp", "not_regexp", "regexp_i", "regexp_like":
		return c.regexpMatch(x, args)
	case "regexp_replace":
		return c.regexpReplace(x, args)
	case "regexp_extract":
		return c.regexpExtract(x, args)
	case "coalesce", "ifnull":
		return c.coalesce(x, args)
	case "nullif":
		return c.nullif(x, args)
	case "greatest", "least":
		return c.greatestLeast(x, args)
	case "if":
		return c.ifFunc(x, args)
	case "json_extract", "json_value":
		return c.jsonFunc(x, args)
	case "md5", "sha1", "sha2", "sha256", "hash":
		return c.hashFunc(x, args)
	}
	if n, ok, err := c.arrayFunc(x, args); ok {
		return n, err
	}
	if n, ok, err := c.stringFunc(x, args); ok {
		return n, err
	}
	if n, ok, err := c.mathFunc(x, args); ok {
		return n, err
	}
	if n, ok, err := c.dateFunc(x, args); ok {
		return n, err
	}
	return nil, fmt.Errorf("function %s is not supported by the expression evaluator", name)
}

// anyNullAt reports whether row i is NULL in any of arrs.
func anyNullAt(arrs []arrow.Array, i int) bool {
	for _, a := range arrs {
		if a.IsNull(i) {
			return true
		}
	}
	return false
}

// anyNulls reports whether any of arrs has NULLs.
func anyNulls(arrs []arrow.Array) bool {
	for _, a := range arrs {
		if a.NullN() > 0 {
			return true
		}
	}
	return false
}

// rowFn computes row i of a function whose arguments are all non-NULL.
// null makes the row NULL.
type strRowFn func(dst []byte, i int) (out []byte, null bool, err error)

// strRows builds a VARCHAR (or binary) result row by row; a row with a NULL
// argument is NULL.
func strRows(bt *batch, in []arrow.Array, dt arrow.DataType, f strRowFn) (arrow.Array, error) {
	n := bt.n
	out := newStrOut(n, n*8)
	nulls := anyNulls(in)
	for i := 0; i < n; i++ {
		if nulls && anyNullAt(in, i) {
			out.appendNull()
			continue
		}
		start := len(out.data)
		d, null, err := f(out.data, i)
		if err != nil {
			return nil, rowError(err, i)
		}
		out.data = d
		if null {
			out.data = out.data[:start]
			out.appendNull()
			continue
		}
		out.next()
	}
	return out.finish(dt), nil
}

// intRows builds a BIGINT (or INT) result row by row.
func intRows(bt *batch, in []arrow.Array, t catalog.Type, f func(i int) (int64, bool, error)) (arrow.Array, error) {
	n := bt.n
	vals := make([]int64, n)
	valid := make([]bool, n)
	nulls := anyNulls(in)
	for i := 0; i < n; i++ {
		if nulls && anyNullAt(in, i) {
			continue
		}
		v, null, err := f(i)
		if err != nil {
			return nil, rowError(err, i)
		}
		vals[i], valid[i] = v, !null
	}
	return intsArray(bt, vals, valid, t), nil
}

// intsArray wraps int64 results as an integer array of type t.
func intsArray(bt *batch, vals []int64, valid []bool, t catalog.Type) arrow.Array {
	n := len(vals)
	vb := make([]byte, bitutil.BytesForBits(int64(n)))
	packBools(valid, vb)
	return finish(arrowType(t), n, bytesBuffer(vb), narrowInts(bt, vals, t))
}

// floatRows builds a DOUBLE result row by row.
func floatRows(bt *batch, in []arrow.Array, f func(i int) (float64, bool, error)) (arrow.Array, error) {
	n := bt.n
	buf, vals := newValues[float64](bt.alloc, n)
	valid := make([]bool, n)
	nulls := anyNulls(in)
	for i := 0; i < n; i++ {
		if nulls && anyNullAt(in, i) {
			continue
		}
		v, null, err := f(i)
		if err != nil {
			buf.Release()
			return nil, rowError(err, i)
		}
		vals[i], valid[i] = v, !null
	}
	vb := make([]byte, bitutil.BytesForBits(int64(n)))
	packBools(valid, vb)
	return finish(arrow.PrimitiveTypes.Float64, n, bytesBuffer(vb), buf), nil
}

// boolRows builds a BOOLEAN result row by row.
func boolRows(bt *batch, in []arrow.Array, f func(i int) (bool, bool, error)) (arrow.Array, error) {
	n := bt.n
	res := make([]bool, n)
	valid := make([]bool, n)
	nulls := anyNulls(in)
	for i := 0; i < n; i++ {
		if nulls && anyNullAt(in, i) {
			continue
		}
		v, null, err := f(i)
		if err != nil {
			return nil, rowError(err, i)
		}
		res[i], valid[i] = v, !null
	}
	vb := make([]byte, bitutil.BytesForBits(int64(n)))
	packBools(valid, vb)
	fb := make([]byte, len(vb))
	packBools(res, fb)
	return newBoolArray(n, fb, vb), nil
}

// strsOf returns an argument as a string array.
func strsOf(a arrow.Array) *array.String { return a.(*array.String) }

// int64sOf returns an integer argument's values as int64.
func int64sOf(a arrow.Array) []int64 {
	switch a.DataType().ID() {
	case arrow.INT8:
		return widen(values[int8](a), a.Len())
	case arrow.INT16:
		return widen(values[int16](a), a.Len())
	case arrow.INT32, arrow.DATE32:
		return widen(values[int32](a), a.Len())
	}
	v := values[int64](a)
	if v == nil {
		return make([]int64, a.Len())
	}
	return v
}

// constString returns a constant string argument.
func constString(n node) (string, bool) {
	k, ok := asConst(n)
	if !ok || k.val == nil {
		return "", false
	}
	s, ok := k.val.(string)
	return s, ok
}
