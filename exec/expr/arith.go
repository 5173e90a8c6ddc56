package expr

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the arithmetic operators on numbers: + - * / % DIV and
// unary minus over integers (overflow is an error), floats, and exact
// DECIMAL (operands rescaled to the result scale the planner computed,
// rounding half away from zero, overflow past the result precision an
// error). Date, time and interval arithmetic is in temporal_arith.go.

// opSymbol is the SQL spelling of an arithmetic operator, for messages.
func opSymbol(op string) string {
	switch op {
	case "add":
		return "+"
	case "sub":
		return "-"
	case "mul":
		return "*"
	case "div":
		return "/"
	case "mod":
		return "%"
	case "intdiv":
		return "DIV"
	}
	return op
}

// failure kinds a loop reports.
const (
	failNone = iota
	failOverflow
	failDivZero
)

// outOfRange is the PostgreSQL message for an integer overflow of type t.
func outOfRange(t catalog.Type) string {
	switch t.Kind {
	case catalog.KindInt8:
		return "tinyint out of range"
	case catalog.KindInt16:
		return "smallint out of range"
	case catalog.KindInt32:
		return "integer out of range"
	case catalog.KindInt64:
		return "bigint out of range"
	}
	return "value out of range"
}

// arith compiles add, sub, mul, div, mod and intdiv.
func (c *compiler) arith(call *planner.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%s takes 2 arguments, got %d", call.Name, len(args))
	}
	a, b := args[0], args[1]
	ta, tb, t := a.typ(), b.typ(), call.T
	if isNullConst(a) || isNullConst(b) || ta.Kind == catalog.KindNull || tb.Kind == catalog.KindNull {
		return c.constant(nil, t)
	}
	if isTemporalish(ta) || isTemporalish(tb) {
		return c.temporalArith(call.Name, a, b, t)
	}
	if !ta.IsNumeric() || !tb.IsNumeric() {
		return nil, fmt.Errorf("operator %s is not defined for %s and %s", opSymbol(call.Name), ta, tb)
	}
	if call.Name == "intdiv" {
		return c.intDiv(a, b, t)
	}
	switch {
	case t.IsInteger():
		a, b = c.implicit(a, t), c.implicit(b, t)
		switch t.Kind {
		case catalog.KindInt8:
			return intArith[int8](call.Name, t, a, b), nil
		case catalog.KindInt16:
			return intArith[int16](call.Name, t, a, b), nil
		case catalog.KindInt32:
			return intArith[int32](call.Name, t, a, b), nil
		}
		return intArith[int64](call.Name, t, a, b), nil
	case t.IsFloat():
		a, b = c.implicit(a, t), c.implicit(b, t)
		if t.Kind == catalog.KindFloat32 {
			return floatArith[float32](call.Name, t, a, b), nil
		}
		return floatArith[float64](call.Name, t, a, b), nil
	case t.Kind == catalog.KindDecimal:
		da, okA := catalog.DecimalOf(ta)
		db, okB := catalog.DecimalOf(tb)
		if !okA || !okB {
			return nil, fmt.Errorf("operator %s: DECIMAL result from %s and %s", opSymbol(call.Name), ta, tb)
		}
		a, b = c.implicit(a, da), c.implicit(b, db)
		return decimalArith(call.Name, t, a, b), nil
	}
	return nil, fmt.Errorf("operator %s: unsupported result type %s for %s and %s", opSymbol(call.Name), t, ta, tb)
}

// implicit converts n to type t with a cast node when it has another type
// (widening conversions the planner leaves to exec).
func (c *compiler) implicit(n node, t catalog.Type) node {
	if n.typ() == t {
		return n
	}
	m, err := c.fold(c.cast(n, t, false, true))
	if err != nil {
		panic(fmt.Sprintf("implicit cast %s -> %s: %v", n.typ(), t, err))
	}
	return m
}

// intConst returns a constant integer argument as T.
func intConst[T signed](n node) (*T, bool) {
	k, ok := asConst(n)
	if !ok {
		return nil, false
	}
	v := T(k.val.(int64))
	return &v, true
}

func viewOf[T any](a arrow.Array, c *T) view[T] {
	if a == nil {
		return scalarView(*c)
	}
	return colView[T](a)
}

// binaryKernel builds a kernel of two arguments whose constant arguments
// are consumed as scalars.
func binaryKernel(name string, t catalog.Type, a, b node, fails bool, fn func(bt *batch, x, y arrow.Array) (arrow.Array, error)) *kernel {
	k := newKernel(name, t, []node{a, b}, fails, func(bt *batch, args []arrow.Array) (arrow.Array, error) {
		return fn(bt, args[0], args[1])
	})
	var skip []int
	if _, ok := asConst(a); ok {
		skip = append(skip, 0)
	}
	if _, ok := asConst(b); ok {
		skip = append(skip, 1)
	}
	if len(skip) > 0 {
		k.scalarArgs(skip...)
	}
	return k
}

// argText renders argument row i (x nil: the constant c) for messages.
func argText(x arrow.Array, c node, i int, t catalog.Type) string {
	if x == nil {
		k := c.(*constNode)
		return sqlText(k.val, t)
	}
	return sqlAt(x, i, t)
}

func intArith[T signed](op string, t catalog.Type, a, b node) node {
	ca, _ := intConst[T](a)
	cb, _ := intConst[T](b)
	dt := arrowType(t)
	var loop func(x, y view[T], out []T, start int) (int, int)
	switch op {
	case "add":
		loop = addInts[T]
	case "sub":
		loop = subInts[T]
	case "mul":
		loop = mulInts[T]
	case "mod":
		loop = modInts[T]
	case "div", "intdiv":
		// Truncating division: DIV, or / when the planner typed it integer.
		loop = divInts[T]
	}
	return binaryKernel(op, t, a, b, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		n := bt.n
		x, y := viewOf(xa, ca), viewOf(ya, cb)
		buf, out := newValues[T](bt.alloc, n)
		valid := validAnd(bt.alloc, n, xa, ya)
		for start := 0; start < n; {
			k, why := loop(x, y, out, start)
			if k < 0 {
				break
			}
			if rowValid(k, xa, ya) {
				buf.Release()
				if valid != nil {
					valid.Release()
				}
				where := argText(xa, a, k, t) + " " + opSymbol(op) + " " + argText(ya, b, k, t)
				if why == failDivZero {
					return nil, &Error{Code: CodeDivisionByZero, Msg: "division by zero", Where: where, Row: k}
				}
				return nil, &Error{Code: CodeNumericOutOfRange, Msg: outOfRange(t), Where: where, Row: k}
			}
			out[k] = 0
			start = k + 1
		}
		return finish(dt, n, valid, buf), nil
	})
}

func addInts[T signed](x, y view[T], out []T, start int) (int, int) {
	if x.m == -1 && y.m == -1 {
		a, b := x.v[:len(out)], y.v[:len(out)]
		for i := start; i < len(out); i++ {
			r := a[i] + b[i]
			out[i] = r
			if (r^a[i])&(r^b[i]) < 0 {
				return i, failOverflow
			}
		}
		return -1, failNone
	}
	if x.m == -1 && y.m == 0 {
		a, c := x.v[:len(out)], y.v[0]
		for i := start; i < len(out); i++ {
			r := a[i] + c
			out[i] = r
			if (r^a[i])&(r^c) < 0 {
				return i, failOverflow
			}
		}
		return -1, failNone
	}
	for i := start; i < len(out); i++ {
		p, q := x.at(i), y.at(i)
		r := p + q
		out[i] = r
		if (r^p)&(r^q) < 0 {
			return i, failOverflow
		}
	}
	return -1, failNone
}

func subInts[T signed](x, y view[T], out []T, start int) (int, int) {
	if x.m == -1 && y.m == 0 {
		a, c := x.v[:len(out)], y.v[0]
		for i := start; i < len(out); i++ {
			r := a[i] - c
			out[i] = r
			if (a[i]^c)&(a[i]^r) < 0 {
				return i, failOverflow
			}
		}
		return -1, failNone
	}
	for i := start; i < len(out); i++ {
		p, q := x.at(i), y.at(i)
		r := p - q
		out[i] = r
		if (p^q)&(p^r) < 0 {
			return i, failOverflow
		}
	}
	return -1, failNone
}

// mul64 returns x*y and whether the product overflowed int64.
func mul64(x, y int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(x), uint64(y))
	if x < 0 {
		hi -= uint64(y)
	}
	if y < 0 {
		hi -= uint64(x)
	}
	return int64(lo), int64(hi) != int64(lo)>>63
}

func mulInts[T signed](x, y view[T], out []T, start int) (int, int) {
	var z T
	if unsafe.Sizeof(z) == 8 {
		for i := start; i < len(out); i++ {
			r, of := mul64(int64(x.at(i)), int64(y.at(i)))
			out[i] = T(r)
			if of {
				return i, failOverflow
			}
		}
		return -1, failNone
	}
	for i := start; i < len(out); i++ {
		r := int64(x.at(i)) * int64(y.at(i))
		out[i] = T(r)
		if int64(T(r)) != r {
			return i, failOverflow
		}
	}
	return -1, failNone
}

func modInts[T signed](x, y view[T], out []T, start int) (int, int) {
	for i := start; i < len(out); i++ {
		q := y.at(i)
		if q == 0 {
			return i, failDivZero
		}
		if q == -1 {
			out[i] = 0 // also for the minimum value, where Go's % is 0 too
			continue
		}
		out[i] = x.at(i) % q
	}
	return -1, failNone
}

func divInts[T signed](x, y view[T], out []T, start int) (int, int) {
	for i := start; i < len(out); i++ {
		p, q := x.at(i), y.at(i)
		if q == 0 {
			return i, failDivZero
		}
		if q == -1 {
			r := -p
			if r == p && p != 0 {
				return i, failOverflow
			}
			out[i] = r
			continue
		}
		out[i] = p / q
	}
	return -1, failNone
}

func floatConst[T float](n node) *T {
	k, ok := asConst(n)
	if !ok {
		return nil
	}
	v := T(k.val.(float64))
	return &v
}

func floatArith[T float](op string, t catalog.Type, a, b node) node {
	ca, cb := floatConst[T](a), floatConst[T](b)
	dt := arrowType(t)
	fails := op == "div" || op == "mod" || op == "intdiv"
	return binaryKernel(op, t, a, b, fails, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		n := bt.n
		x, y := viewOf(xa, ca), viewOf(ya, cb)
		buf, out := newValues[T](bt.alloc, n)
		valid := validAnd(bt.alloc, n, xa, ya)
		bad := -1
		switch op {
		case "add":
			if x.m == -1 && y.m == -1 {
				p, q := x.v[:n], y.v[:n]
				for i := range out {
					out[i] = p[i] + q[i]
				}
			} else {
				for i := range out {
					out[i] = x.at(i) + y.at(i)
				}
			}
		case "sub":
			for i := range out {
				out[i] = x.at(i) - y.at(i)
			}
		case "mul":
			for i := range out {
				out[i] = x.at(i) * y.at(i)
			}
		case "div", "mod", "intdiv":
			for i := range out {
				q := y.at(i)
				if q == 0 {
					if rowValid(i, xa, ya) {
						bad = i
						break
					}
					out[i] = 0
					continue
				}
				if op != "mod" {
					out[i] = x.at(i) / q
				} else {
					out[i] = T(math.Mod(float64(x.at(i)), float64(q)))
				}
			}
		}
		if bad >= 0 {
			buf.Release()
			if valid != nil {
				valid.Release()
			}
			where := argText(xa, a, bad, t) + " " + opSymbol(op) + " " + argText(ya, b, bad, t)
			return nil, &Error{Code: CodeDivisionByZero, Msg: "division by zero", Where: where, Row: bad}
		}
		return finish(dt, n, valid, buf), nil
	})
}

// decConst returns a constant DECIMAL argument.
func decConst(n node) *i128 {
	k, ok := asConst(n)
	if !ok {
		return nil
	}
	v := toI128(k.val)
	return &v
}

// toI128 converts a canonical DECIMAL value.
func toI128(v any) i128 {
	switch x := v.(type) {
	case i128:
		return x
	case int64:
		return i128From64(x)
	case decimal128.Num:
		return i128FromNum(x)
	}
	panic(fmt.Sprintf("toI128: %T", v))
}

// decOp computes one DECIMAL operation at fixed scales.
type decOp struct {
	op       string
	s1, s2   int  // operand scales
	s, p     int  // result scale and precision
	w        int  // working scale of add/sub/mod: max(s1, s2)
	mulShift int  // digits a product at scale s1+s2 drops to reach s
	trunc    bool // div truncates toward zero instead of rounding
}

// apply returns x op y and a failure kind.
func (d *decOp) apply(x, y i128) (i128, int) {
	var r i128
	switch d.op {
	case "add", "sub":
		xs, of1 := x.mulPow10(d.w - d.s1)
		ys, of2 := y.mulPow10(d.w - d.s2)
		if of1 || of2 {
			return d.big(x, y)
		}
		var of bool
		if d.op == "add" {
			r, of = xs.add(ys)
		} else {
			r, of = xs.sub(ys)
		}
		if of {
			return d.big(x, y)
		}
		if d.w > d.s {
			r = r.divPow10Round(d.w - d.s)
		}
	case "mul":
		mx, my := x.abs(), y.abs()
		if mx.hi != 0 || my.hi != 0 {
			return d.big(x, y)
		}
		hi, lo := bits.Mul64(mx.lo, my.lo)
		m := u128{hi: hi, lo: lo}
		if d.mulShift > 0 {
			q, half, _ := m.divPow10(d.mulShift)
			if half >= 0 {
				q, _ = q.add(u128{lo: 1})
			}
			m = q
		} else if d.mulShift < 0 {
			var of bool
			if m, of = m.mulPow10(-d.mulShift); of {
				return r, failOverflow
			}
		}
		var of bool
		if r, of = m.signed(x.isNeg() != y.isNeg()); of {
			return r, failOverflow
		}
	case "div":
		if y.isZero() {
			return r, failDivZero
		}
		// x/10^s1 / (y/10^s2) * 10^s = x * 10^(s+s2-s1) / y.
		e := d.s + d.s2 - d.s1
		my := y.abs()
		if e >= 0 && my.hi == 0 {
			mx, of := x.abs().mulPow10(e)
			if !of {
				q, rem := mx.divmod64(my.lo)
				if !d.trunc && rem >= my.lo-rem {
					q, _ = q.add(u128{lo: 1})
				}
				if r, of = q.signed(x.isNeg() != y.isNeg()); of {
					return r, failOverflow
				}
				break
			}
		}
		return d.big(x, y)
	case "mod":
		if y.isZero() {
			return r, failDivZero
		}
		xs, of1 := x.mulPow10(d.w - d.s1)
		ys, of2 := y.mulPow10(d.w - d.s2)
		if of1 || of2 {
			return d.big(x, y)
		}
		xv, okx := xs.int64()
		yv, oky := ys.int64()
		if okx && oky {
			if yv == -1 {
				r = i128{}
			} else {
				r = i128From64(xv % yv)
			}
		} else {
			return d.big(x, y)
		}
		if d.w > d.s {
			r = r.divPow10Round(d.w - d.s)
		}
	}
	if !r.fits(d.p) {
		return r, failOverflow
	}
	return r, failNone
}

// narrow computes out = x op y in 64-bit arithmetic when the operation is
// add, sub or mul without rounding and every operand of the batch fits in
// an int64; it reports false (out untouched) when it does not apply. A
// row whose operands or result leave the int64 range or the precision goes
// through apply, so the results are apply's; the first valid row (per
// valid) that apply fails is returned with its failure kind.
func (d *decOp) narrow(out []i128, x, y view[i128], valid func(int) bool) (ok bool, failRow, why int) {
	var fx, fy int64 = 1, 1
	switch d.op {
	case "add", "sub":
		if d.w != d.s || d.s-d.s1 > 18 || d.s-d.s2 > 18 {
			return false, 0, failNone
		}
		fx, fy = int64(pow10[d.s-d.s1].lo), int64(pow10[d.s-d.s2].lo)
	case "mul":
		if d.mulShift != 0 {
			return false, 0, failNone
		}
	default:
		return false, 0, failNone
	}
	if !fitsInt64(x.v) || !fitsInt64(y.v) {
		return false, 0, failNone
	}
	// lim bounds |result| by the precision; past 18 digits the int64
	// range is the tighter bound.
	lim := int64(math.MaxInt64)
	if d.p <= 18 {
		lim = int64(pow10[d.p].lo) - 1
	}
	slow := func(i int) bool {
		r, w := d.apply(x.at(i), y.at(i))
		if w != failNone {
			if valid(i) {
				failRow, why = i, w
				return false
			}
			r = i128{}
		}
		out[i] = r
		return true
	}
	switch d.op {
	case "add", "sub":
		// |x|*fx and |y|*fy stay below 2^62, so their sum cannot overflow.
		mx, my := int64(1)<<62/fx, int64(1)<<62/fy
		neg := d.op == "sub"
		for i := range out {
			a, b := int64(x.at(i).lo), int64(y.at(i).lo)
			if a >= mx || a <= -mx || b >= my || b <= -my {
				if !slow(i) {
					return true, failRow, why
				}
				continue
			}
			a, b = a*fx, b*fy
			if neg {
				b = -b
			}
			r := a + b
			if r > lim || r < -lim {
				if !slow(i) {
					return true, failRow, why
				}
				continue
			}
			out[i] = i128{lo: uint64(r), hi: r >> 63}
		}
	case "mul":
		for i := range out {
			a, b := int64(x.at(i).lo), int64(y.at(i).lo)
			ua, ub := uint64(a), uint64(b)
			if a < 0 {
				ua = -ua
			}
			if b < 0 {
				ub = -ub
			}
			hi, lo := bits.Mul64(ua, ub)
			if hi != 0 || lo > uint64(lim) {
				if !slow(i) {
					return true, failRow, why
				}
				continue
			}
			r := int64(lo)
			if (a < 0) != (b < 0) {
				r = -r
			}
			out[i] = i128{lo: uint64(r), hi: r >> 63}
		}
	}
	return true, 0, failNone
}

// fitsInt64 reports whether every value is within the int64 range.
func fitsInt64(v []i128) bool {
	var bad int64
	for _, a := range v {
		bad |= a.hi ^ int64(a.lo)>>63
	}
	return bad == 0
}

// big computes the operation with math/big, for operands the fast paths
// do not cover.
func (d *decOp) big(x, y i128) (i128, int) {
	bx, by := x.big(), y.big()
	var res *big.Int
	switch d.op {
	case "add", "sub":
		bx.Mul(bx, bigPow10(d.w-d.s1))
		by.Mul(by, bigPow10(d.w-d.s2))
		if d.op == "add" {
			res = bx.Add(bx, by)
		} else {
			res = bx.Sub(bx, by)
		}
		if d.w > d.s {
			res = bigDivRound(res, bigPow10(d.w-d.s))
		}
	case "mul":
		res = bx.Mul(bx, by)
		if d.mulShift > 0 {
			res = bigDivRound(res, bigPow10(d.mulShift))
		} else if d.mulShift < 0 {
			res.Mul(res, bigPow10(-d.mulShift))
		}
	case "div":
		if by.Sign() == 0 {
			return i128{}, failDivZero
		}
		e := d.s + d.s2 - d.s1
		if e >= 0 {
			bx.Mul(bx, bigPow10(e))
		} else {
			by.Mul(by, bigPow10(-e))
		}
		if d.trunc {
			res = bx.Quo(bx, by)
		} else {
			res = bigDivRound(bx, by)
		}
	case "mod":
		if by.Sign() == 0 {
			return i128{}, failDivZero
		}
		bx.Mul(bx, bigPow10(d.w-d.s1))
		by.Mul(by, bigPow10(d.w-d.s2))
		res = new(big.Int).Rem(bx, by)
		if d.w > d.s {
			res = bigDivRound(res, bigPow10(d.w-d.s))
		}
	}
	r, of := i128FromBig(res)
	if of || !r.fits(d.p) {
		return r, failOverflow
	}
	return r, failNone
}

// truncDiv makes a decimal division kernel truncate instead of round.
func (k *kernel) truncDiv() { k.dec.trunc = true }

func decimalArith(op string, t catalog.Type, a, b node) node {
	ta, tb := a.typ(), b.typ()
	dop := op
	if op == "intdiv" {
		dop = "div"
	}
	d := &decOp{op: dop, s1: ta.Scale, s2: tb.Scale, s: t.Scale, p: t.Precision}
	d.w = max(d.s1, d.s2)
	d.mulShift = d.s1 + d.s2 - d.s
	ca, cb := decConst(a), decConst(b)
	dt := arrowType(t)
	k := binaryKernel(op, t, a, b, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		n := bt.n
		x, y := viewOf(xa, ca), viewOf(ya, cb)
		buf, out := newValues[i128](bt.alloc, n)
		valid := validAnd(bt.alloc, n, xa, ya)
		fail := func(i, why int) (arrow.Array, error) {
			buf.Release()
			if valid != nil {
				valid.Release()
			}
			where := argText(xa, a, i, ta) + " " + opSymbol(op) + " " + argText(ya, b, i, tb)
			if why == failDivZero {
				return nil, &Error{Code: CodeDivisionByZero, Msg: "division by zero", Where: where, Row: i}
			}
			return nil, &Error{Code: CodeNumericOutOfRange, Msg: "numeric field overflow", Where: where, Row: i}
		}
		if ok, i, why := d.narrow(out, x, y, func(i int) bool { return rowValid(i, xa, ya) }); ok {
			if why != failNone {
				return fail(i, why)
			}
			return finish(dt, n, valid, buf), nil
		}
		if (op == "add" || op == "sub") && d.s1 == d.s && d.s2 == d.s {
			// Same scale: plain 128-bit addition with a precision check.
			lim := pow10[min(d.p, maxDecimalDigits)]
			for i := range out {
				p, q := x.at(i), y.at(i)
				var r i128
				var of bool
				if op == "add" {
					r, of = p.add(q)
				} else {
					r, of = p.sub(q)
				}
				out[i] = r
				if of || r.abs().cmp(lim) >= 0 {
					if rowValid(i, xa, ya) {
						return fail(i, failOverflow)
					}
				}
			}
			return finish(dt, n, valid, buf), nil
		}
		for i := range out {
			r, why := d.apply(x.at(i), y.at(i))
			if why != failNone {
				if rowValid(i, xa, ya) {
					return fail(i, why)
				}
				r = i128{}
			}
			out[i] = r
		}
		return finish(dt, n, valid, buf), nil
	})
	k.dec = d
	return k
}

// intDiv compiles DIV: the quotient truncated toward zero, as BIGINT (or
// the integer type the planner chose).
func (c *compiler) intDiv(a, b node, t catalog.Type) (node, error) {
	ta, tb := a.typ(), b.typ()
	switch {
	case ta.IsInteger() && tb.IsInteger():
		a, b = c.implicit(a, catalog.Int64), c.implicit(b, catalog.Int64)
		n := intArith[int64]("intdiv", catalog.Int64, a, b)
		return c.implicitNode(n, t), nil
	case ta.IsFloat() || tb.IsFloat():
		a, b = c.implicit(a, catalog.Float64), c.implicit(b, catalog.Float64)
		q := floatArith[float64]("intdiv", catalog.Float64, a, b)
		tr := newKernel("trunc", catalog.Float64, []node{q}, false, func(bt *batch, args []arrow.Array) (arrow.Array, error) {
			return mapFloat(bt, args[0], math.Trunc), nil
		})
		return c.cast(tr, t, false, false)
	}
	da, _ := catalog.DecimalOf(ta)
	db, _ := catalog.DecimalOf(tb)
	a, b = c.implicit(a, da), c.implicit(b, db)
	// The exact quotient truncated toward zero, at scale 0.
	q := decimalArith("intdiv", catalog.Decimal(maxDecimalDigits, 0), a, b)
	q.(*kernel).truncDiv()
	return c.cast(q, t, false, false)
}

// implicitNode converts a node's result to t (panics on an impossible
// conversion, which is a compiler bug).
func (c *compiler) implicitNode(n node, t catalog.Type) node {
	if n.typ() == t {
		return n
	}
	m, err := c.cast(n, t, false, false)
	if err != nil {
		panic(err)
	}
	return m
}

// mapFloat applies f to every value of a DOUBLE array.
func mapFloat(bt *batch, a arrow.Array, f func(float64) float64) arrow.Array {
	in := values[float64](a)
	buf, out := newValues[float64](bt.alloc, bt.n)
	for i := range out {
		out[i] = f(in[i])
	}
	return finish(arrow.PrimitiveTypes.Float64, bt.n, validAnd(bt.alloc, bt.n, a), buf)
}

// neg compiles unary minus.
func (c *compiler) neg(call *planner.Call, args []node) (node, error) {
	a := args[0]
	t := call.T
	if isNullConst(a) || a.typ().Kind == catalog.KindNull {
		return c.constant(nil, t)
	}
	a = c.implicit(a, t)
	dt := arrowType(t)
	switch {
	case t.IsInteger():
		return negInts(t, a), nil
	case t.IsFloat():
		return newKernel("neg", t, []node{a}, false, func(bt *batch, args []arrow.Array) (arrow.Array, error) {
			if t.Kind == catalog.KindFloat32 {
				in := values[float32](args[0])
				buf, out := newValues[float32](bt.alloc, bt.n)
				for i := range out {
					out[i] = -in[i]
				}
				return finish(dt, bt.n, validAnd(bt.alloc, bt.n, args[0]), buf), nil
			}
			in := values[float64](args[0])
			buf, out := newValues[float64](bt.alloc, bt.n)
			for i := range out {
				out[i] = -in[i]
			}
			return finish(dt, bt.n, validAnd(bt.alloc, bt.n, args[0]), buf), nil
		}), nil
	case t.Kind == catalog.KindDecimal:
		return newKernel("neg", t, []node{a}, false, func(bt *batch, args []arrow.Array) (arrow.Array, error) {
			in := values[i128](args[0])
			buf, out := newValues[i128](bt.alloc, bt.n)
			for i := range out {
				out[i] = in[i].negate()
			}
			return finish(dt, bt.n, validAnd(bt.alloc, bt.n, args[0]), buf), nil
		}), nil
	case t.Kind == catalog.KindInterval:
		return newKernel("neg", t, []node{a}, true, func(bt *batch, args []arrow.Array) (arrow.Array, error) {
			in := values[arrow.MonthDayNanoInterval](args[0])
			buf, out := newValues[arrow.MonthDayNanoInterval](bt.alloc, bt.n)
			for i := range out {
				v := in[i]
				if (v.Months == math.MinInt32 || v.Days == math.MinInt32 || v.Nanoseconds == math.MinInt64) && args[0].IsValid(i) {
					buf.Release()
					return nil, &Error{Code: CodeDatetimeOverflow, Msg: "interval out of range", Where: "- " + sqlAt(args[0], i, t), Row: i}
				}
				out[i] = arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}
			}
			return finish(dt, bt.n, validAnd(bt.alloc, bt.n, args[0]), buf), nil
		}), nil
	}
	return nil, fmt.Errorf("operator - is not defined for %s", t)
}

func negInts(t catalog.Type, a node) node {
	switch t.Kind {
	case catalog.KindInt8:
		return negIntsT[int8](t, a)
	case catalog.KindInt16:
		return negIntsT[int16](t, a)
	case catalog.KindInt32:
		return negIntsT[int32](t, a)
	}
	return negIntsT[int64](t, a)
}

func negIntsT[T signed](t catalog.Type, a node) node {
	dt := arrowType(t)
	return newKernel("neg", t, []node{a}, true, func(bt *batch, args []arrow.Array) (arrow.Array, error) {
		in := values[T](args[0])
		buf, out := newValues[T](bt.alloc, bt.n)
		for i := range out {
			v := in[i]
			r := -v
			if r == v && v != 0 && args[0].IsValid(i) {
				buf.Release()
				return nil, &Error{Code: CodeNumericOutOfRange, Msg: outOfRange(t), Where: "- " + sqlAt(args[0], i, t), Row: i}
			}
			out[i] = r
		}
		return finish(dt, bt.n, validAnd(bt.alloc, bt.n, args[0]), buf), nil
	})
}
