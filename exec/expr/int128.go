package expr

import (
	"math/big"
	"math/bits"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/decimal128"
)

// This file is the 128-bit integer arithmetic under DECIMAL: i128 has the
// memory layout of Arrow's decimal128 values (two's complement, low word
// first), so kernels read decimal buffers as []i128 without conversion;
// u128 is a magnitude. The common cases (operands of up to 19 digits,
// scaling by powers of ten) stay in machine words; the rare wide products
// and quotients go through math/big.

// i128 is a signed 128-bit integer laid out like decimal128.Num.
type i128 struct {
	lo uint64
	hi int64
}

// u128 is an unsigned 128-bit integer.
type u128 struct {
	hi, lo uint64
}

// maxDecimalDigits is the precision limit of DECIMAL.
const maxDecimalDigits = 38

// pow10 holds 10^0 .. 10^38 as u128 (computed once, never written after).
var pow10 = func() [maxDecimalDigits + 1]u128 {
	var t [maxDecimalDigits + 1]u128
	t[0] = u128{lo: 1}
	for i := 1; i <= maxDecimalDigits; i++ {
		t[i], _ = t[i-1].mul64(10)
	}
	return t
}()

func i128From64(v int64) i128 { return i128{lo: uint64(v), hi: v >> 63} }

func i128FromNum(n decimal128.Num) i128 { return i128{lo: n.LowBits(), hi: n.HighBits()} }

func (a i128) num() decimal128.Num { return decimal128.New(a.hi, a.lo) }

func (a i128) isNeg() bool  { return a.hi < 0 }
func (a i128) isZero() bool { return a.hi == 0 && a.lo == 0 }

func (a i128) sign() int {
	switch {
	case a.hi < 0:
		return -1
	case a.isZero():
		return 0
	}
	return 1
}

// add returns a+b and whether it overflowed 128 bits.
func (a i128) add(b i128) (i128, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	uh, _ := bits.Add64(uint64(a.hi), uint64(b.hi), c)
	hi := int64(uh)
	return i128{lo: lo, hi: hi}, ((a.hi ^ hi) & (b.hi ^ hi)) < 0
}

// sub returns a-b and whether it overflowed 128 bits.
func (a i128) sub(b i128) (i128, bool) {
	lo, br := bits.Sub64(a.lo, b.lo, 0)
	uh, _ := bits.Sub64(uint64(a.hi), uint64(b.hi), br)
	hi := int64(uh)
	return i128{lo: lo, hi: hi}, ((a.hi ^ b.hi) & (a.hi ^ hi)) < 0
}

// negate returns -a (wrapping for the minimum value).
func (a i128) negate() i128 {
	lo := ^a.lo + 1
	hi := ^a.hi
	if lo == 0 {
		hi++
	}
	return i128{lo: lo, hi: hi}
}

func (a i128) cmp(b i128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// abs returns |a| as a magnitude (exact also for the minimum value).
func (a i128) abs() u128 {
	if a.hi < 0 {
		n := a.negate()
		return u128{hi: uint64(n.hi), lo: n.lo}
	}
	return u128{hi: uint64(a.hi), lo: a.lo}
}

// int64 returns a as an int64 and whether it fits.
func (a i128) int64() (int64, bool) {
	v := int64(a.lo)
	return v, a.hi == v>>63
}

// signed gives magnitude m the sign neg, reporting overflow of 128 bits.
func (m u128) signed(neg bool) (i128, bool) {
	if m.hi>>63 != 0 {
		// Only -2^127 is representable.
		if neg && m.hi == 1<<63 && m.lo == 0 {
			return i128{hi: -1 << 63}, false
		}
		return i128{}, true
	}
	r := i128{lo: m.lo, hi: int64(m.hi)}
	if neg {
		r = r.negate()
	}
	return r, false
}

func (m u128) isZero() bool { return m.hi == 0 && m.lo == 0 }

func (m u128) cmp(o u128) int {
	switch {
	case m.hi < o.hi:
		return -1
	case m.hi > o.hi:
		return 1
	case m.lo < o.lo:
		return -1
	case m.lo > o.lo:
		return 1
	}
	return 0
}

func (m u128) add(o u128) (u128, bool) {
	lo, c := bits.Add64(m.lo, o.lo, 0)
	hi, c2 := bits.Add64(m.hi, o.hi, c)
	return u128{hi: hi, lo: lo}, c2 != 0
}

func (m u128) sub(o u128) u128 {
	lo, b := bits.Sub64(m.lo, o.lo, 0)
	hi, _ := bits.Sub64(m.hi, o.hi, b)
	return u128{hi: hi, lo: lo}
}

// mul64 returns m*k and whether it overflowed.
func (m u128) mul64(k uint64) (u128, bool) {
	h1, l1 := bits.Mul64(m.lo, k)
	h2, l2 := bits.Mul64(m.hi, k)
	hi, c := bits.Add64(h1, l2, 0)
	return u128{hi: hi, lo: l1}, h2 != 0 || c != 0
}

// mul returns m*o and whether it overflowed.
func (m u128) mul(o u128) (u128, bool) {
	switch {
	case m.hi != 0 && o.hi != 0:
		return u128{}, true
	case m.hi == 0:
		return o.mul64(m.lo)
	}
	return m.mul64(o.lo)
}

// divmod64 returns m / d and m % d.
func (m u128) divmod64(d uint64) (u128, uint64) {
	qhi := m.hi / d
	r := m.hi % d
	qlo, r2 := bits.Div64(r, m.lo, d)
	return u128{hi: qhi, lo: qlo}, r2
}

// mulPow10 returns m * 10^k and whether it overflowed.
func (m u128) mulPow10(k int) (u128, bool) {
	for k > 19 {
		var of bool
		if m, of = m.mul64(pow10[19].lo); of {
			return m, true
		}
		k -= 19
	}
	return m.mul64(pow10[k].lo)
}

// divPow10 returns m / 10^k truncated, and the remainder compared with half
// of 10^k: -1 below half, 0 exactly half, 1 above half; rem reports a
// non-zero remainder.
func (m u128) divPow10(k int) (q u128, half int, rem bool) {
	if k == 0 {
		return m, -1, false
	}
	if k <= 19 {
		d := pow10[k].lo
		q, r := m.divmod64(d)
		h := d / 2
		switch {
		case r < h:
			half = -1
		case r == h:
			half = 0
		default:
			half = 1
		}
		return q, half, r != 0
	}
	q1, r1 := m.divmod64(pow10[19].lo)
	q, r2 := q1.divmod64(pow10[k-19].lo)
	R, _ := u128{lo: r2}.mul64(pow10[19].lo)
	R, _ = R.add(u128{lo: r1})
	h, _ := pow10[k-1].mul64(5)
	return q, R.cmp(h), !R.isZero()
}

// fitsDigits reports whether m < 10^p.
func (m u128) fitsDigits(p int) bool {
	if p > maxDecimalDigits {
		return true
	}
	return m.cmp(pow10[p]) < 0
}

// fits reports whether |a| < 10^p.
func (a i128) fits(p int) bool { return a.abs().fitsDigits(p) }

// mulPow10 returns a * 10^k and whether it overflowed 128 bits.
func (a i128) mulPow10(k int) (i128, bool) {
	if k == 0 {
		return a, false
	}
	m, of := a.abs().mulPow10(k)
	if of {
		return i128{}, true
	}
	return m.signed(a.isNeg())
}

// divPow10Round returns a / 10^k rounded half away from zero.
func (a i128) divPow10Round(k int) i128 {
	if k == 0 {
		return a
	}
	q, half, _ := a.abs().divPow10(k)
	if half >= 0 {
		q, _ = q.add(u128{lo: 1})
	}
	r, _ := q.signed(a.isNeg())
	return r
}

// divPow10Trunc returns a / 10^k truncated toward zero and whether a
// remainder was dropped.
func (a i128) divPow10Trunc(k int) (i128, bool) {
	if k == 0 {
		return a, false
	}
	q, _, rem := a.abs().divPow10(k)
	r, _ := q.signed(a.isNeg())
	return r, rem
}

// rescale converts a from scale from to scale to, rounding half away from
// zero when the scale shrinks; it reports overflow of 128 bits.
func (a i128) rescale(from, to int) (i128, bool) {
	switch {
	case to > from:
		return a.mulPow10(to - from)
	case to < from:
		return a.divPow10Round(from - to), false
	}
	return a, false
}

func (a i128) big() *big.Int {
	b := new(big.Int).SetUint64(uint64(a.hi))
	b.Lsh(b, 64)
	b.Or(b, new(big.Int).SetUint64(a.lo))
	if a.hi < 0 {
		b.Sub(b, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return b
}

var (
	bigOne   = big.NewInt(1)
	bigLimit = new(big.Int).Lsh(big.NewInt(1), 127)
)

// i128FromBig converts b, reporting whether it does not fit.
func i128FromBig(b *big.Int) (i128, bool) {
	if b.Cmp(bigLimit) >= 0 || b.Cmp(new(big.Int).Neg(bigLimit)) < 0 {
		return i128{}, true
	}
	neg := b.Sign() < 0
	m := new(big.Int).Abs(b)
	words := m.Bits()
	var u u128
	switch bits.UintSize {
	case 64:
		if len(words) > 0 {
			u.lo = uint64(words[0])
		}
		if len(words) > 1 {
			u.hi = uint64(words[1])
		}
	default:
		lo := new(big.Int).And(m, new(big.Int).SetUint64(^uint64(0)))
		hi := new(big.Int).Rsh(m, 64)
		u = u128{hi: hi.Uint64(), lo: lo.Uint64()}
	}
	return u.signed(neg)
}

// bigPow10 returns 10^k as a big.Int.
func bigPow10(k int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
}

// bigDivRound returns n / d rounded half away from zero.
func bigDivRound(n, d *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	if r.Sign() != 0 {
		r2 := new(big.Int).Abs(r)
		r2.Lsh(r2, 1)
		if r2.Cmp(new(big.Int).Abs(d)) >= 0 {
			if (n.Sign() < 0) != (d.Sign() < 0) {
				q.Sub(q, bigOne)
			} else {
				q.Add(q, bigOne)
			}
		}
	}
	return q
}

// String formats the magnitude in decimal.
func (m u128) String() string {
	if m.hi == 0 {
		return strconv.FormatUint(m.lo, 10)
	}
	q, r := m.divmod64(pow10[19].lo)
	s := strconv.FormatUint(r, 10)
	return q.String() + strings.Repeat("0", 19-len(s)) + s
}

// formatDecimal renders an unscaled value with scale digits after the point.
func formatDecimal(a i128, scale int) string {
	return string(appendDecimal(nil, a, scale))
}

// appendDecimal appends the text of an unscaled value at scale to dst.
func appendDecimal(dst []byte, a i128, scale int) []byte {
	if a.isNeg() {
		dst = append(dst, '-')
	}
	m := a.abs()
	var digits string
	if m.hi == 0 {
		var buf [20]byte
		digits = string(strconv.AppendUint(buf[:0], m.lo, 10))
	} else {
		digits = m.String()
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		for i := 0; i < -scale; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for i := len(digits); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// parseDecimal reads a decimal numeral (optional sign, digits with an
// optional point, an optional exponent, surrounding spaces) as an unscaled
// value at scale, rounding half away from zero. ok is false when s is not a
// number; overflow when the value does not fit precision digits.
func parseDecimal(s string, precision, scale int) (v i128, ok, overflow bool) {
	return parseDecimalMode(s, precision, scale, false)
}

// parseDecimalMode is parseDecimal that truncates instead of rounding when
// trunc is set.
func parseDecimalMode(s string, precision, scale int, trunc bool) (v i128, ok, overflow bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return v, false, false
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	mant := s
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return v, false, false
		}
		exp = e
		mant = s[:i]
	}
	intPart, frac, hasPoint := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || hasPoint && strings.Contains(frac, ".") {
		return v, false, false
	}
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if c := part[i]; c < '0' || c > '9' {
				return v, false, false
			}
		}
	}
	var m u128
	// Target: value * 10^scale. Each digit position p (0 = first digit of
	// intPart) has weight 10^(len(intPart)+exp-1-p); it contributes to the
	// scaled integer when len(intPart)+exp-1-p+scale >= 0.
	keep := len(intPart) + exp + scale // number of leading digits that land at or above 10^0 of the scaled value
	pos := 0
	roundUp := false
	for _, part := range [2]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			d := part[i] - '0'
			if pos < keep {
				if m.isZero() && d == 0 {
					pos++
					continue
				}
				var of bool
				if m, of = m.mul64(10); of {
					return v, true, true
				}
				if m, of = m.add(u128{lo: uint64(d)}); of {
					return v, true, true
				}
			} else if pos == keep {
				roundUp = d >= 5 && !trunc
			}
			pos++
		}
	}
	// Digits missing up to keep are zeros.
	if pos < keep {
		var of bool
		if m, of = m.mulPow10(keep - pos); of {
			return v, true, true
		}
	}
	if roundUp {
		var of bool
		if m, of = m.add(u128{lo: 1}); of {
			return v, true, true
		}
	}
	if !m.fitsDigits(precision) {
		return v, true, true
	}
	r, of := m.signed(neg)
	if of {
		return v, true, true
	}
	return r, true, false
}
