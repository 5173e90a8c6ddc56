package expr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the numeric functions. round rounds half away from zero
// (also for floats, going through the shortest decimal text so that
// round(1.005, 2) is 1.01 as written); DECIMAL results are exact. As in
// PostgreSQL, log(x) is the base-10 logarithm and log(b, x) the logarithm
// of x to base b, and out-of-domain arguments (sqrt(-1), ln(0)) are errors.

func (c *compiler) mathFunc(x *planner.Call, args []node) (node, bool, error) {
	name := x.Name
	t := x.T
	switch name {
	case "abs":
		n, err := c.absFunc(t, args[0])
		return n, true, err
	case "round", "trunc":
		if name == "trunc" && len(args) == 1 {
			n, err := c.floorCeil("trunc", t, args[0])
			return n, true, err
		}
		var d node
		if len(args) > 1 {
			d = c.implicit(args[1], catalog.Int64)
		}
		n, err := c.roundFunc(name, t, args[0], d)
		return n, true, err
	case "floor", "ceil":
		n, err := c.floorCeil(name, t, args[0])
		return n, true, err
	case "sign":
		a := args[0]
		at := a.typ()
		return newKernel(name, t, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			var sgn func(i int) int64
			switch {
			case at.IsInteger():
				v := intsAsInt64(in[0], at)
				sgn = func(i int) int64 { return int64(cmpSign(v[i])) }
			case at.IsFloat():
				v := floatsAsFloat64(in[0], at)
				sgn = func(i int) int64 { return int64(cmpSign(v[i])) }
			default:
				v := values[i128](in[0])
				sgn = func(i int) int64 { return int64(v[i].sign()) }
			}
			return intRows(bt, in, t, func(i int) (int64, bool, error) { return sgn(i), false, nil })
		}), true, nil
	case "pi":
		n, err := c.constant(math.Pi, catalog.Float64)
		return n, true, err
	case "random":
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15))
		return newKernel(name, catalog.Float64, nil, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			buf, out := newValues[float64](bt.alloc, bt.n)
			for i := range out {
				out[i] = rng.Float64()
			}
			return finish(arrow.PrimitiveTypes.Float64, bt.n, nil, buf), nil
		}), true, nil
	case "power", "sqrt", "cbrt", "ln", "log", "log10", "log2", "exp":
		for i := range args {
			args[i] = c.implicit(args[i], catalog.Float64)
		}
		return newKernel(name, catalog.Float64, args, name != "cbrt", func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			a := values[float64](in[0])
			var b []float64
			if len(in) > 1 {
				b = values[float64](in[1])
			}
			return floatRows(bt, in, func(i int) (float64, bool, error) {
				if b != nil {
					return math2(name, a[i], b[i])
				}
				return math1(name, a[i])
			})
		}), true, nil
	}
	return nil, false, nil
}

func cmpSign[T int64 | float64](v T) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func mathErr(code, msg, where string) error {
	return &Error{Code: code, Msg: msg, Where: where, Row: -1}
}

func overflowIf(r float64, where string, inputs ...float64) (float64, bool, error) {
	if math.IsInf(r, 0) {
		for _, x := range inputs {
			if math.IsInf(x, 0) {
				return r, false, nil
			}
		}
		return 0, false, mathErr(CodeNumericOutOfRange, "value out of range: overflow", where)
	}
	return r, false, nil
}

func math1(name string, x float64) (float64, bool, error) {
	where := fmt.Sprintf("%s(%s)", name, formatFloat(x, false))
	switch name {
	case "sqrt":
		if x < 0 {
			return 0, false, mathErr(CodeInvalidPowerArg, "cannot take square root of a negative number", where)
		}
		return math.Sqrt(x), false, nil
	case "cbrt":
		return math.Cbrt(x), false, nil
	case "ln", "log", "log10", "log2":
		switch {
		case x == 0:
			return 0, false, mathErr(CodeInvalidLogArg, "cannot take logarithm of zero", where)
		case x < 0:
			return 0, false, mathErr(CodeInvalidLogArg, "cannot take logarithm of a negative number", where)
		}
		switch name {
		case "ln":
			return math.Log(x), false, nil
		case "log2":
			return math.Log2(x), false, nil
		}
		return math.Log10(x), false, nil
	case "exp":
		return overflowIf(math.Exp(x), where, x)
	}
	return 0, false, fmt.Errorf("unknown function %s", name)
}

func math2(name string, x, y float64) (float64, bool, error) {
	where := fmt.Sprintf("%s(%s, %s)", name, formatFloat(x, false), formatFloat(y, false))
	switch name {
	case "power":
		switch {
		case x == 0 && y < 0:
			return 0, false, mathErr(CodeInvalidPowerArg, "zero raised to a negative power is undefined", where)
		case x < 0 && y != math.Trunc(y) && !math.IsInf(y, 0):
			return 0, false, mathErr(CodeInvalidPowerArg, "a negative number raised to a non-integer power yields a complex result", where)
		}
		return overflowIf(math.Pow(x, y), where, x, y)
	case "log":
		// log(b, x): logarithm of x to base b.
		switch {
		case x == 0 || y == 0:
			return 0, false, mathErr(CodeInvalidLogArg, "cannot take logarithm of zero", where)
		case x < 0 || y < 0:
			return 0, false, mathErr(CodeInvalidLogArg, "cannot take logarithm of a negative number", where)
		case x == 1:
			return 0, false, mathErr(CodeDivisionByZero, "division by zero", where)
		}
		return math.Log(y) / math.Log(x), false, nil
	}
	return 0, false, fmt.Errorf("unknown function %s", name)
}

// absFunc compiles abs.
func (c *compiler) absFunc(t catalog.Type, a node) (node, error) {
	a = c.implicit(a, t)
	dt := arrowType(t)
	switch {
	case t.IsInteger():
		return newKernel("abs", t, []node{a}, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := intsAsInt64(in[0], t)
			out := make([]int64, bt.n)
			bitsz := intBits(t.Kind)
			lo := int64(-1) << (bitsz - 1)
			for i, x := range v {
				if x < 0 {
					if x == lo && in[0].IsValid(i) {
						return nil, &Error{Code: CodeNumericOutOfRange, Msg: outOfRange(t), Where: "abs(" + sqlAt(in[0], i, t) + ")", Row: i}
					}
					x = -x
				}
				out[i] = x
			}
			return finish(dt, bt.n, validAnd(bt.alloc, bt.n, in[0]), narrowInts(bt, out, t)), nil
		}), nil
	case t.IsFloat():
		return newKernel("abs", t, []node{a}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			return floatMap(bt, in[0], t, math.Abs), nil
		}), nil
	case t.Kind == catalog.KindDecimal:
		return newKernel("abs", t, []node{a}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := values[i128](in[0])
			buf, out := newValues[i128](bt.alloc, bt.n)
			for i, x := range v {
				if x.isNeg() {
					x = x.negate()
				}
				out[i] = x
			}
			return finish(dt, bt.n, validAnd(bt.alloc, bt.n, in[0]), buf), nil
		}), nil
	}
	return nil, fmt.Errorf("abs is not defined for %s", t)
}

// floatMap applies f to a REAL or DOUBLE array.
func floatMap(bt *batch, a arrow.Array, t catalog.Type, f func(float64) float64) arrow.Array {
	if t.Kind == catalog.KindFloat32 {
		v := values[float32](a)
		buf, out := newValues[float32](bt.alloc, bt.n)
		for i, x := range v {
			out[i] = float32(f(float64(x)))
		}
		return finish(arrowType(t), bt.n, validAnd(bt.alloc, bt.n, a), buf)
	}
	v := values[float64](a)
	buf, out := newValues[float64](bt.alloc, bt.n)
	for i, x := range v {
		out[i] = f(x)
	}
	return finish(arrowType(t), bt.n, validAnd(bt.alloc, bt.n, a), buf)
}

// floorCeil compiles floor, ceil and one-argument trunc. A DECIMAL(p,s)
// result has scale 0 (the planner's type); integers are unchanged.
func (c *compiler) floorCeil(name string, t catalog.Type, a node) (node, error) {
	at := a.typ()
	switch {
	case at.IsInteger():
		return c.cast(a, t, false, false)
	case at.IsFloat():
		f := math.Floor
		switch name {
		case "ceil":
			f = math.Ceil
		case "trunc":
			f = math.Trunc
		}
		n := newKernel(name, at, []node{a}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			return floatMap(bt, in[0], at, f), nil
		})
		return c.cast(n, t, false, false)
	case at.Kind == catalog.KindDecimal:
		s := at.Scale
		n := newKernel(name, catalog.Decimal(maxDecimalDigits, 0), []node{a}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := values[i128](in[0])
			buf, out := newValues[i128](bt.alloc, bt.n)
			for i, x := range v {
				q, rem := x.divPow10Trunc(s)
				if rem {
					if name == "floor" && x.isNeg() {
						q, _ = q.sub(i128From64(1))
					} else if name == "ceil" && !x.isNeg() {
						q, _ = q.add(i128From64(1))
					}
				}
				out[i] = q
			}
			return finish(arrowType(catalog.Decimal(maxDecimalDigits, 0)), bt.n, validAnd(bt.alloc, bt.n, in[0]), buf), nil
		})
		return c.cast(n, t, false, false)
	}
	return nil, fmt.Errorf("%s is not defined for %s", name, at)
}

// roundFunc compiles round(x [, d]) and trunc(x, d): the result keeps x's
// scale (the planner's type) with the digits past d rounded half away from
// zero (or dropped, for trunc).
func (c *compiler) roundFunc(name string, t catalog.Type, a, d node) (node, error) {
	at := a.typ()
	args := []node{a}
	if d != nil {
		args = append(args, d)
	}
	trunc := name == "trunc"
	digits := func(in []arrow.Array, i int) int64 {
		if len(in) < 2 {
			return 0
		}
		return int64sOf(in[1])[i]
	}
	switch {
	case at.Kind == catalog.KindDecimal:
		s := at.Scale
		n := newKernel(name, t, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := values[i128](in[0])
			buf, out := newValues[i128](bt.alloc, bt.n)
			for i, x := range v {
				if anyNullAt(in, i) {
					continue
				}
				drop := int64(s) - digits(in, i)
				if drop > 0 {
					var q i128
					if drop > maxDecimalDigits {
						q = i128{}
					} else if trunc {
						q, _ = x.divPow10Trunc(int(drop))
					} else {
						q = x.divPow10Round(int(drop))
					}
					if drop <= maxDecimalDigits {
						var of bool
						q, of = q.mulPow10(int(drop))
						if of {
							buf.Release()
							return nil, &Error{Code: CodeNumericOutOfRange, Msg: "numeric field overflow", Where: name + "(" + sqlAt(in[0], i, at) + ")", Row: i}
						}
					}
					x = q
				}
				if s != t.Scale {
					x, _ = x.rescale(s, t.Scale)
				}
				if !x.fits(t.Precision) {
					buf.Release()
					return nil, &Error{Code: CodeNumericOutOfRange, Msg: "numeric field overflow", Where: name + "(" + sqlAt(in[0], i, at) + ")", Row: i}
				}
				out[i] = x
			}
			return finish(arrowType(t), bt.n, validAnd(bt.alloc, bt.n, in...), buf), nil
		})
		return n, nil
	case at.IsInteger():
		n := newKernel(name, catalog.Int64, append([]node{c.implicit(a, catalog.Int64)}, args[1:]...), true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := int64sOf(in[0])
			return intRows(bt, in, catalog.Int64, func(i int) (int64, bool, error) {
				d := digits(in, i)
				if d >= 0 {
					return v[i], false, nil
				}
				if d < -18 {
					return 0, false, nil
				}
				p := int64(math.Pow10(int(-d)))
				q := v[i] / p
				r := v[i] % p
				if !trunc && 2*abs64(r) >= p {
					if v[i] < 0 {
						q--
					} else {
						q++
					}
				}
				res, of := mul64(q, p)
				if of {
					return 0, false, &Error{Code: CodeNumericOutOfRange, Msg: outOfRange(catalog.Int64), Where: fmt.Sprintf("%s(%d, %d)", name, v[i], d), Row: -1}
				}
				return res, false, nil
			})
		})
		return c.cast(n, t, false, false)
	case at.IsFloat():
		n := newKernel(name, catalog.Float64, append([]node{c.implicit(a, catalog.Float64)}, args[1:]...), false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := values[float64](in[0])
			return floatRows(bt, in, func(i int) (float64, bool, error) {
				return roundFloat(v[i], digits(in, i), trunc), false, nil
			})
		})
		return c.cast(n, t, false, false)
	}
	return nil, fmt.Errorf("%s is not defined for %s", name, at)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// roundFloat rounds (or truncates) x to d decimal places, half away from
// zero, on x's shortest decimal text.
func roundFloat(x float64, d int64, trunc bool) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	if d == 0 {
		if trunc {
			return math.Trunc(x)
		}
		return math.Round(x)
	}
	if d > 330 {
		return x
	}
	if d < -330 {
		return math.Copysign(0, x)
	}
	s := strconv.FormatFloat(x, 'e', -1, 64)
	mant, exp := s, 0
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		mant = s[:i]
		exp, _ = strconv.Atoi(s[i+1:])
	}
	// The value in units of 10^-d, as an integer.
	v, ok, of := parseDecimalMode(mant+"e"+strconv.Itoa(exp+int(d)), maxDecimalDigits, 0, trunc)
	if !ok || of {
		return x // too many digits for d to matter
	}
	r, _ := strconv.ParseFloat(formatDecimal(v, 0)+"e"+strconv.Itoa(int(-d)), 64)
	if r == 0 {
		return math.Copysign(0, x)
	}
	return r
}
