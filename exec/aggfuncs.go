package exec

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// AggKind is an aggregate function the operators compute.
type AggKind int

// The aggregate functions. Sample statistics of fewer than two values and
// every aggregate but the counts over no value are NULL.
const (
	AggCountStar           AggKind = iota // count(*): rows
	AggCount                              // count(x): non-NULL values
	AggSum                                // integers: BIGINT, overflow is an error; DECIMAL exact; DOUBLE; INTERVAL
	AggAvg                                // integers and floats: DOUBLE; DECIMAL: exact, rounded half away from zero; INTERVAL
	AggMin                                // any ordered type
	AggMax                                // any ordered type
	AggStddevSamp                         // DOUBLE
	AggStddevPop                          // DOUBLE
	AggVarSamp                            // DOUBLE
	AggVarPop                             // DOUBLE
	AggBoolAnd                            // BOOLEAN
	AggBoolOr                             // BOOLEAN
	AggStringAgg                          // string_agg(value, separator): VARCHAR, NULL values skipped
	AggApproxCountDistinct                // HyperLogLog (precision 14, about 0.8% standard error)
	AggFirst                              // first non-NULL value in input (or ORDER BY) order
	AggLast                               // last non-NULL value in input (or ORDER BY) order
	AggArrayAgg                           // array_agg(x): every value, NULLs included, in input (or ORDER BY) order
	AggAvgMerge                           // avg from partial (sum, count) columns: see SplitAggCall
)

var aggNames = [...]string{"count(*)", "count", "sum", "avg", "min", "max", "stddev_samp",
	"stddev_pop", "var_samp", "var_pop", "bool_and", "bool_or", "string_agg",
	"approx_count_distinct", "first", "last", "array_agg", "avg(sum, count)"}

// String returns the function's SQL name.
func (k AggKind) String() string {
	if int(k) < len(aggNames) {
		return aggNames[k]
	}
	return fmt.Sprintf("AggKind(%d)", int(k))
}

// orderSensitive reports whether the result depends on the input order.
func (k AggKind) orderSensitive() bool {
	return k == AggStringAgg || k == AggFirst || k == AggLast || k == AggArrayAgg
}

// aggState is the per-group state of one aggregate, column-wise over group
// ids 0..n-1.
type aggState interface {
	// resize makes room for n groups (new groups start empty).
	resize(n int)
	// update folds row i of args into group groups[i]; notFound skips it.
	update(groups []uint32, args []arrow.Array) error
	// finish returns the results of groups [0, n) of type the state's
	// result type.
	finish(mem memory.Allocator, n int) (arrow.Array, error)
	// bytes is the memory the state holds.
	bytes() int64
}

// errBigintRange is the overflow of an integer sum.
var errBigintRange = errors.New("BIGINT out of range")

// newAggState returns the state of aggregate k over arguments of the given
// types, producing result type res.
func newAggState(k AggKind, args []arrow.DataType, res arrow.DataType, hs *hasher) (aggState, error) {
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("exec: %s takes %d arguments, got %d", k, n, len(args))
		}
		return nil
	}
	wantRes := func(id arrow.Type) error {
		if res.ID() != id {
			return fmt.Errorf("exec: %s(%s) gives %s, not %s", k, args[0], id, res)
		}
		return nil
	}
	if k != AggCountStar {
		n := 1
		if k == AggStringAgg || k == AggAvgMerge {
			n = 2
		}
		if err := need(n); err != nil {
			return nil, err
		}
		if err := checkSupported(args[0]); err != nil {
			return nil, err
		}
	}
	switch k {
	case AggCountStar:
		return &countState{star: true}, wantRes(arrow.INT64)
	case AggCount:
		return &countState{}, wantRes(arrow.INT64)
	case AggSum:
		switch p := physOf(args[0]); p {
		case physInt8:
			return &sumInt[int8]{}, wantRes(arrow.INT64)
		case physInt16:
			return &sumInt[int16]{}, wantRes(arrow.INT64)
		case physInt32:
			return &sumInt[int32]{}, wantRes(arrow.INT64)
		case physInt64:
			return &sumInt[int64]{}, wantRes(arrow.INT64)
		case physFloat32:
			return &sumFloat[float32]{}, wantRes(arrow.FLOAT64)
		case physFloat64:
			return &sumFloat[float64]{}, wantRes(arrow.FLOAT64)
		case physDecimal:
			if err := wantRes(arrow.DECIMAL128); err != nil {
				return nil, err
			}
			return &sumDecimal{in: args[0].(*arrow.Decimal128Type), out: res.(*arrow.Decimal128Type)}, nil
		case physInterval:
			return &sumInterval{}, wantRes(arrow.INTERVAL_MONTH_DAY_NANO)
		case physNull:
			return &nullState{dt: res}, nil
		}
	case AggAvg:
		switch p := physOf(args[0]); p {
		case physInt8:
			return &avgInt[int8]{}, wantRes(arrow.FLOAT64)
		case physInt16:
			return &avgInt[int16]{}, wantRes(arrow.FLOAT64)
		case physInt32:
			return &avgInt[int32]{}, wantRes(arrow.FLOAT64)
		case physInt64:
			return &avgInt[int64]{}, wantRes(arrow.FLOAT64)
		case physFloat32:
			return &avgFloat[float32]{}, wantRes(arrow.FLOAT64)
		case physFloat64:
			return &avgFloat[float64]{}, wantRes(arrow.FLOAT64)
		case physDecimal:
			if err := wantRes(arrow.DECIMAL128); err != nil {
				return nil, err
			}
			return &avgDecimal{in: args[0].(*arrow.Decimal128Type), out: res.(*arrow.Decimal128Type)}, nil
		case physInterval:
			return &avgInterval{}, wantRes(arrow.INTERVAL_MONTH_DAY_NANO)
		case physNull:
			return &nullState{dt: res}, nil
		}
	case AggMin, AggMax, AggFirst, AggLast:
		if !arrow.TypeEqual(args[0], res) {
			return nil, fmt.Errorf("exec: %s(%s) gives %s, not %s", k, args[0], args[0], res)
		}
		mode := map[AggKind]holdMode{AggMin: holdMin, AggMax: holdMax, AggFirst: holdFirst, AggLast: holdLast}[k]
		return newHoldState(mode, res)
	case AggBoolAnd, AggBoolOr:
		if args[0].ID() != arrow.BOOL {
			return nil, fmt.Errorf("exec: %s takes BOOLEAN, got %s", k, args[0])
		}
		mode := holdMin
		if k == AggBoolOr {
			mode = holdMax
		}
		return &holdBool{mode: mode}, wantRes(arrow.BOOL)
	case AggStddevSamp, AggStddevPop, AggVarSamp, AggVarPop:
		switch physOf(args[0]) {
		case physFloat64:
			return &varianceState[float64]{kind: k}, wantRes(arrow.FLOAT64)
		case physFloat32:
			return &varianceState[float32]{kind: k}, wantRes(arrow.FLOAT64)
		}
	case AggStringAgg:
		if physOf(args[0]) != physBytes || (physOf(args[1]) != physBytes && physOf(args[1]) != physNull) {
			return nil, fmt.Errorf("exec: string_agg takes text arguments, got %s, %s", args[0], args[1])
		}
		return &stringAgg{dt: res}, wantRes(res.ID())
	case AggApproxCountDistinct:
		return &hllState{hs: hs}, wantRes(arrow.INT64)
	case AggArrayAgg:
		if l, ok := res.(*arrow.ListType); !ok || !arrow.TypeEqual(l.Elem(), args[0]) {
			return nil, fmt.Errorf("exec: array_agg(%s) gives %s", args[0], res)
		}
		return &arrayAgg{dt: res, elem: args[0]}, nil
	case AggAvgMerge:
		return newAvgMerge(args, res)
	}
	return nil, fmt.Errorf("exec: %s of %s is not supported", k, args[0])
}

// grow extends s to length n with zero values, at least doubling the
// capacity when it must reallocate. Elements between len and cap of the
// slices it is used on are never written, so they are zero.
func grow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		return s[:n]
	}
	t := make([]T, n, max(n, 2*cap(s), 64))
	copy(t, s)
	return t
}

func sizeOf[T any](s []T) int64 {
	var zero T
	return int64(cap(s)) * int64(unsafe.Sizeof(zero))
}

type countState struct {
	star   bool
	counts []int64
}

func (s *countState) resize(n int) { s.counts = grow(s.counts, n) }
func (s *countState) update(groups []uint32, args []arrow.Array) error {
	if s.star {
		for _, g := range groups {
			if g != notFound {
				s.counts[g]++
			}
		}
		return nil
	}
	v := validityOf(args[0])
	for i, g := range groups {
		if g != notFound && v.valid(i) {
			s.counts[g]++
		}
	}
	return nil
}
func (s *countState) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeFixed(mem, arrow.PrimitiveTypes.Int64, s.counts[:n], nil), nil
}
func (s *countState) bytes() int64 { return sizeOf(s.counts) }

// nullState is an aggregate over an argument of the NULL type: NULL.
type nullState struct{ dt arrow.DataType }

func (s *nullState) resize(int)                           {}
func (s *nullState) update([]uint32, []arrow.Array) error { return nil }
func (s *nullState) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return nullArray(mem, s.dt, n)
}
func (s *nullState) bytes() int64 { return 0 }

type sumInt[T int8 | int16 | int32 | int64] struct {
	sums []int64
	has  []bool
}

func (s *sumInt[T]) resize(n int) { s.sums, s.has = grow(s.sums, n), grow(s.has, n) }
func (s *sumInt[T]) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[T](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		x := int64(vals[i])
		a := s.sums[g]
		r := a + x
		if (a^r)&(x^r) < 0 {
			return fmt.Errorf("sum: %w", errBigintRange)
		}
		s.sums[g] = r
		s.has[g] = true
	}
	return nil
}
func (s *sumInt[T]) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeFixed(mem, arrow.PrimitiveTypes.Int64, s.sums[:n], s.has[:n]), nil
}
func (s *sumInt[T]) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.has) }

type sumFloat[T float32 | float64] struct {
	sums []float64
	has  []bool
}

func (s *sumFloat[T]) resize(n int) { s.sums, s.has = grow(s.sums, n), grow(s.has, n) }
func (s *sumFloat[T]) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[T](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g != notFound && v.valid(i) {
			s.sums[g] += float64(vals[i])
			s.has[g] = true
		}
	}
	return nil
}
func (s *sumFloat[T]) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeFixed(mem, arrow.PrimitiveTypes.Float64, s.sums[:n], s.has[:n]), nil
}
func (s *sumFloat[T]) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.has) }

// addDecimal adds two 128-bit integers, reporting a wrap-around.
func addDecimal(a, b decimal128.Num) (decimal128.Num, bool) {
	ah, bh := a.HighBits(), b.HighBits()
	lo, carry := bits.Add64(a.LowBits(), b.LowBits(), 0)
	hi := ah + bh + int64(carry)
	// Signed overflow: both addends differ in sign from the sum.
	return decimal128.New(hi, lo), (ah^hi)&(bh^hi) >= 0
}

// rescaleDecimal converts an unscaled value from scale from to scale to,
// rounding half away from zero, and checks it fits precision prec.
func rescaleDecimal(v *big.Int, from, to, prec int32) (decimal128.Num, error) {
	r := new(big.Int).Set(v)
	if to > from {
		r.Mul(r, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(to-from)), nil))
	} else if to < from {
		r = divRound(r, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(from-to)), nil))
	}
	n := decimal128.FromBigInt(r)
	if r.BitLen() > 127 || !n.FitsInPrecision(prec) {
		return decimal128.Num{}, fmt.Errorf("numeric value out of range for DECIMAL(%d,%d)", prec, to)
	}
	return n, nil
}

// divRound divides a by b (b > 0), rounding half away from zero.
func divRound(a, b *big.Int) *big.Int {
	q, m := new(big.Int).QuoRem(a, b, new(big.Int))
	m.Abs(m).Mul(m, big.NewInt(2))
	if m.Cmp(b) >= 0 {
		if a.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

type sumDecimal struct {
	in, out *arrow.Decimal128Type
	sums    []decimal128.Num
	has     []bool
}

func (s *sumDecimal) resize(n int) { s.sums, s.has = grow(s.sums, n), grow(s.has, n) }
func (s *sumDecimal) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[decimal128.Num](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		// Whether the sum fits its precision is checked once, in finish:
		// only the 128 bits must not wrap on the way.
		r, ok := addDecimal(s.sums[g], vals[i])
		if !ok {
			return fmt.Errorf("sum: numeric value out of range for %s", s.out)
		}
		s.sums[g] = r
		s.has[g] = true
	}
	return nil
}
func (s *sumDecimal) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := s.sums[:n]
	if s.in.Scale != s.out.Scale {
		out = make([]decimal128.Num, n)
		for g := range out {
			if !s.has[g] {
				continue
			}
			v, err := rescaleDecimal(s.sums[g].BigInt(), s.in.Scale, s.out.Scale, s.out.Precision)
			if err != nil {
				return nil, fmt.Errorf("sum: %w", err)
			}
			out[g] = v
		}
	} else {
		for g := range out {
			if s.has[g] && !out[g].FitsInPrecision(s.out.Precision) {
				return nil, fmt.Errorf("sum: numeric value out of range for %s", s.out)
			}
		}
	}
	return makeFixed(mem, s.out, out, s.has[:n]), nil
}
func (s *sumDecimal) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.has) }

// addInterval adds intervals field by field, reporting overflow.
func addInterval(a, b arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, bool) {
	m := int64(a.Months) + int64(b.Months)
	d := int64(a.Days) + int64(b.Days)
	ns := a.Nanoseconds + b.Nanoseconds
	if m != int64(int32(m)) || d != int64(int32(d)) || (a.Nanoseconds^ns)&(b.Nanoseconds^ns) < 0 {
		return arrow.MonthDayNanoInterval{}, false
	}
	return arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}, true
}

// subInterval subtracts intervals field by field, reporting overflow.
func subInterval(a, b arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, bool) {
	if b.Nanoseconds == math.MinInt64 {
		return arrow.MonthDayNanoInterval{}, false
	}
	return addInterval(a, arrow.MonthDayNanoInterval{Months: -b.Months, Days: -b.Days, Nanoseconds: -b.Nanoseconds})
}

var errIntervalRange = errors.New("interval out of range")

type sumInterval struct {
	sums []arrow.MonthDayNanoInterval
	has  []bool
}

func (s *sumInterval) resize(n int) { s.sums, s.has = grow(s.sums, n), grow(s.has, n) }
func (s *sumInterval) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[arrow.MonthDayNanoInterval](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		r, ok := addInterval(s.sums[g], vals[i])
		if !ok {
			return fmt.Errorf("sum: %w", errIntervalRange)
		}
		s.sums[g] = r
		s.has[g] = true
	}
	return nil
}
func (s *sumInterval) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeFixed(mem, arrow.FixedWidthTypes.MonthDayNanoInterval, s.sums[:n], s.has[:n]), nil
}
func (s *sumInterval) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.has) }

// int128 is a signed 128-bit accumulator for integer averages, which must
// not overflow where the average itself fits.
type int128 struct {
	hi int64
	lo uint64
}

func (a *int128) add(x int64) {
	lo := a.lo + uint64(x)
	carry := int64(0)
	if lo < a.lo {
		carry = 1
	}
	a.lo = lo
	a.hi += carry
	if x < 0 {
		a.hi--
	}
}

func (a *int128) sub(x int64) {
	if x == math.MinInt64 {
		a.add(math.MaxInt64)
		a.add(1)
		return
	}
	a.add(-x)
}

func (a int128) float64() float64 { return float64(a.hi)*18446744073709551616.0 + float64(a.lo) }

// int64 returns the value when it fits 64 bits.
func (a int128) int64() (int64, bool) {
	v := int64(a.lo)
	return v, (a.hi == 0 && v >= 0) || (a.hi == -1 && v < 0)
}

type avgInt[T int8 | int16 | int32 | int64] struct {
	sums   []int128
	counts []int64
}

func (s *avgInt[T]) resize(n int) { s.sums, s.counts = grow(s.sums, n), grow(s.counts, n) }
func (s *avgInt[T]) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[T](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g != notFound && v.valid(i) {
			s.sums[g].add(int64(vals[i]))
			s.counts[g]++
		}
	}
	return nil
}
func (s *avgInt[T]) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := make([]float64, n)
	valid := make([]bool, n)
	for g := range out {
		if s.counts[g] > 0 {
			out[g] = s.sums[g].float64() / float64(s.counts[g])
			valid[g] = true
		}
	}
	return makeFixed(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}
func (s *avgInt[T]) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.counts) }

type avgFloat[T float32 | float64] struct {
	sums   []float64
	counts []int64
}

func (s *avgFloat[T]) resize(n int) { s.sums, s.counts = grow(s.sums, n), grow(s.counts, n) }
func (s *avgFloat[T]) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[T](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g != notFound && v.valid(i) {
			s.sums[g] += float64(vals[i])
			s.counts[g]++
		}
	}
	return nil
}
func (s *avgFloat[T]) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := make([]float64, n)
	valid := make([]bool, n)
	for g := range out {
		if s.counts[g] > 0 {
			out[g] = s.sums[g] / float64(s.counts[g])
			valid[g] = true
		}
	}
	return makeFixed(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}
func (s *avgFloat[T]) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.counts) }

type avgDecimal struct {
	in, out *arrow.Decimal128Type
	sums    []decimal128.Num
	counts  []int64
}

func (s *avgDecimal) resize(n int) { s.sums, s.counts = grow(s.sums, n), grow(s.counts, n) }
func (s *avgDecimal) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[decimal128.Num](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		r, ok := addDecimal(s.sums[g], vals[i])
		if !ok {
			return fmt.Errorf("avg: sum of %s values out of range", s.in)
		}
		s.sums[g] = r
		s.counts[g]++
	}
	return nil
}

// decimalAvg divides sum (at scale in) by count into scale out, rounding
// half away from zero.
func decimalAvg(sum decimal128.Num, count int64, in, out *arrow.Decimal128Type) (decimal128.Num, error) {
	num := sum.BigInt()
	den := big.NewInt(count)
	if out.Scale >= in.Scale {
		num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(out.Scale-in.Scale)), nil))
	} else {
		den.Mul(den, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(in.Scale-out.Scale)), nil))
	}
	return rescaleDecimal(divRound(num, den), out.Scale, out.Scale, out.Precision)
}

func (s *avgDecimal) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := make([]decimal128.Num, n)
	valid := make([]bool, n)
	for g := range out {
		if s.counts[g] == 0 {
			continue
		}
		v, err := decimalAvg(s.sums[g], s.counts[g], s.in, s.out)
		if err != nil {
			return nil, fmt.Errorf("avg: %w", err)
		}
		out[g], valid[g] = v, true
	}
	return makeFixed(mem, s.out, out, valid), nil
}
func (s *avgDecimal) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.counts) }

// intervalAvg divides a sum of intervals by count the way PostgreSQL does:
// whole months, then the remainder of months as 30-day days, then the
// remainder of days as 24-hour time.
func intervalAvg(sum arrow.MonthDayNanoInterval, count int64) arrow.MonthDayNanoInterval {
	m := int64(sum.Months) / count
	remDays := (int64(sum.Months)%count)*30 + int64(sum.Days)
	d := remDays / count
	remNanos := float64(remDays%count)*86400e9/float64(count) + float64(sum.Nanoseconds)/float64(count)
	return arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: int64(math.Round(remNanos))}
}

type avgInterval struct {
	sums   []arrow.MonthDayNanoInterval
	counts []int64
}

func (s *avgInterval) resize(n int) { s.sums, s.counts = grow(s.sums, n), grow(s.counts, n) }
func (s *avgInterval) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[arrow.MonthDayNanoInterval](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		r, ok := addInterval(s.sums[g], vals[i])
		if !ok {
			return fmt.Errorf("avg: %w", errIntervalRange)
		}
		s.sums[g] = r
		s.counts[g]++
	}
	return nil
}
func (s *avgInterval) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := make([]arrow.MonthDayNanoInterval, n)
	valid := make([]bool, n)
	for g := range out {
		if s.counts[g] > 0 {
			out[g], valid[g] = intervalAvg(s.sums[g], s.counts[g]), true
		}
	}
	return makeFixed(mem, arrow.FixedWidthTypes.MonthDayNanoInterval, out, valid), nil
}
func (s *avgInterval) bytes() int64 { return sizeOf(s.sums) + sizeOf(s.counts) }

// holdMode says which value a holding aggregate keeps.
type holdMode uint8

const (
	holdMin holdMode = iota
	holdMax
	holdFirst
	holdLast
)

// replaces reports whether a new value x replaces the held value cur, given
// their comparison c = compare(x, cur).
func (m holdMode) replaces(c int) bool {
	switch m {
	case holdMin:
		return c < 0
	case holdMax:
		return c > 0
	case holdLast:
		return true
	}
	return false
}

func newHoldState(mode holdMode, dt arrow.DataType) (aggState, error) {
	switch physOf(dt) {
	case physNull:
		return &nullState{dt: dt}, nil
	case physBool:
		return &holdBool{mode: mode}, nil
	case physInt8:
		return &holdFixed[int8]{mode: mode, dt: dt, cmp: cmpOrdered[int8]}, nil
	case physInt16:
		return &holdFixed[int16]{mode: mode, dt: dt, cmp: cmpOrdered[int16]}, nil
	case physInt32:
		return &holdFixed[int32]{mode: mode, dt: dt, cmp: cmpOrdered[int32]}, nil
	case physInt64:
		return &holdFixed[int64]{mode: mode, dt: dt, cmp: cmpOrdered[int64]}, nil
	case physFloat32:
		return &holdFixed[float32]{mode: mode, dt: dt, cmp: compareFloat[float32]}, nil
	case physFloat64:
		return &holdFixed[float64]{mode: mode, dt: dt, cmp: compareFloat[float64]}, nil
	case physDecimal:
		return &holdFixed[decimal128.Num]{mode: mode, dt: dt, cmp: compareDecimal}, nil
	case physInterval:
		return &holdFixed[arrow.MonthDayNanoInterval]{mode: mode, dt: dt, cmp: compareInterval}, nil
	case physBytes:
		return &holdBytes{mode: mode, dt: dt}, nil
	}
	return nil, checkSupported(dt)
}

func cmpOrdered[T int8 | int16 | int32 | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// holdFixed keeps one value per group: the least, the greatest, the first
// or the last non-NULL one.
type holdFixed[T any] struct {
	mode holdMode
	dt   arrow.DataType
	cmp  func(a, b T) int
	vals []T
	has  []bool
}

func (s *holdFixed[T]) resize(n int) { s.vals, s.has = grow(s.vals, n), grow(s.has, n) }
func (s *holdFixed[T]) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[T](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		if !s.has[g] || s.mode.replaces(s.cmp(vals[i], s.vals[g])) {
			s.vals[g] = vals[i]
			s.has[g] = true
		}
	}
	return nil
}
func (s *holdFixed[T]) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeFixed(mem, s.dt, s.vals[:n], s.has[:n]), nil
}
func (s *holdFixed[T]) bytes() int64 { return sizeOf(s.vals) + sizeOf(s.has) }

// holdBool is min/max/first/last of BOOLEAN; min is bool_and, max bool_or.
type holdBool struct {
	mode holdMode
	vals []bool
	has  []bool
}

func (s *holdBool) resize(n int) { s.vals, s.has = grow(s.vals, n), grow(s.has, n) }
func (s *holdBool) update(groups []uint32, args []arrow.Array) error {
	vals := boolValsOf(args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		x := vals.get(i)
		if !s.has[g] {
			s.vals[g], s.has[g] = x, true
			continue
		}
		switch s.mode {
		case holdMin:
			s.vals[g] = s.vals[g] && x
		case holdMax:
			s.vals[g] = s.vals[g] || x
		case holdLast:
			s.vals[g] = x
		}
	}
	return nil
}
func (s *holdBool) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeBool(mem, s.vals[:n], s.has[:n]), nil
}
func (s *holdBool) bytes() int64 { return sizeOf(s.vals) + sizeOf(s.has) }

// holdBytes is min/max/first/last of text and binary values.
type holdBytes struct {
	mode holdMode
	dt   arrow.DataType
	vals [][]byte
	has  []bool
	held int64
}

func (s *holdBytes) resize(n int) { s.vals, s.has = grow(s.vals, n), grow(s.has, n) }
func (s *holdBytes) update(groups []uint32, args []arrow.Array) error {
	offs, data := bytesVals(args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		x := data[offs[i]:offs[i+1]]
		if !s.has[g] || s.mode.replaces(compareBytes(x, s.vals[g])) {
			before := cap(s.vals[g])
			s.vals[g] = append(s.vals[g][:0], x...)
			s.held += int64(cap(s.vals[g]) - before)
			s.has[g] = true
		}
	}
	return nil
}
func (s *holdBytes) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeBytes(mem, s.dt, s.vals[:n], s.has[:n])
}
func (s *holdBytes) bytes() int64 { return sizeOf(s.vals) + sizeOf(s.has) + s.held }

func compareBytes(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// varianceState computes variances and standard deviations with Welford's
// online algorithm (numerically stable in one pass).
type varianceState[T float32 | float64] struct {
	kind   AggKind
	counts []int64
	means  []float64
	m2     []float64
}

func (s *varianceState[T]) resize(n int) {
	s.counts, s.means, s.m2 = grow(s.counts, n), grow(s.means, n), grow(s.m2, n)
}
func (s *varianceState[T]) update(groups []uint32, args []arrow.Array) error {
	vals := fixedVals[T](args[0])
	v := validityOf(args[0])
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		x := float64(vals[i])
		s.counts[g]++
		d := x - s.means[g]
		s.means[g] += d / float64(s.counts[g])
		s.m2[g] += d * (x - s.means[g])
	}
	return nil
}
func (s *varianceState[T]) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	out := make([]float64, n)
	valid := make([]bool, n)
	for g := range out {
		out[g], valid[g] = varianceResult(s.kind, s.counts[g], s.m2[g])
	}
	return makeFixed(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}
func (s *varianceState[T]) bytes() int64 {
	return sizeOf(s.counts) + sizeOf(s.means) + sizeOf(s.m2)
}

// varianceResult turns a count and a sum of squared deviations into the
// statistic k; ok is false (NULL) when there are too few values.
func varianceResult(k AggKind, n int64, m2 float64) (float64, bool) {
	var v float64
	switch k {
	case AggVarSamp, AggStddevSamp:
		if n < 2 {
			return 0, false
		}
		v = m2 / float64(n-1)
	default:
		if n < 1 {
			return 0, false
		}
		v = m2 / float64(n)
	}
	if v < 0 {
		v = 0
	}
	if k == AggStddevSamp || k == AggStddevPop {
		v = math.Sqrt(v)
	}
	return v, true
}

// stringAgg concatenates the non-NULL values of a group, each after the
// first preceded by its row's separator (a NULL separator is empty).
type stringAgg struct {
	dt   arrow.DataType
	bufs [][]byte
	has  []bool
	held int64
}

func (s *stringAgg) resize(n int) { s.bufs, s.has = grow(s.bufs, n), grow(s.has, n) }
func (s *stringAgg) update(groups []uint32, args []arrow.Array) error {
	offs, data := bytesVals(args[0])
	v := validityOf(args[0])
	var soffs []int32
	var sdata []byte
	sv := validity{bm: []byte{}}
	if physOf(args[1].DataType()) == physBytes {
		soffs, sdata = bytesVals(args[1])
		sv = validityOf(args[1])
	}
	for i, g := range groups {
		if g == notFound || !v.valid(i) {
			continue
		}
		before := cap(s.bufs[g])
		if s.has[g] && sv.valid(i) {
			s.bufs[g] = append(s.bufs[g], sdata[soffs[i]:soffs[i+1]]...)
		}
		s.bufs[g] = append(s.bufs[g], data[offs[i]:offs[i+1]]...)
		s.has[g] = true
		s.held += int64(cap(s.bufs[g]) - before)
	}
	return nil
}
func (s *stringAgg) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	return makeBytes(mem, s.dt, s.bufs[:n], s.has[:n])
}
func (s *stringAgg) bytes() int64 { return sizeOf(s.bufs) + sizeOf(s.has) + s.held }

// arrayAgg collects the values of each group: it keeps the input arrays
// and, per group, the positions of its rows in them.
type arrayAgg struct {
	dt, elem arrow.DataType
	arrs     []arrow.Array
	rows     [][]int64 // per group: array<<32 | row
	held     int64
}

func (s *arrayAgg) resize(n int) { s.rows = grow(s.rows, n) }
func (s *arrayAgg) update(groups []uint32, args []arrow.Array) error {
	args[0].Retain()
	s.arrs = append(s.arrs, args[0])
	s.held += int64(args[0].Len()) * 16
	chunk := int64(len(s.arrs)-1) << 32
	for i, g := range groups {
		if g == notFound {
			continue
		}
		s.rows[g] = append(s.rows[g], chunk|int64(i))
		s.held += 8
	}
	return nil
}
func (s *arrayAgg) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	all, err := concatArrays(mem, s.elem, s.arrs)
	if err != nil {
		return nil, err
	}
	defer all.Release()
	starts := make([]int64, len(s.arrs))
	for i := 1; i < len(s.arrs); i++ {
		starts[i] = starts[i-1] + int64(s.arrs[i-1].Len())
	}
	offs := make([]int32, n+1)
	valid := make([]bool, n)
	var idx []int32
	for g := 0; g < n; g++ {
		for _, r := range s.rows[g] {
			idx = append(idx, int32(starts[r>>32]+r&0xffffffff))
		}
		offs[g+1] = int32(len(idx))
		valid[g] = len(s.rows[g]) > 0
	}
	values, err := takeArray(mem, all, idx)
	if err != nil {
		return nil, err
	}
	defer values.Release()
	bm, nulls := makeValidity(mem, valid, n)
	ob := newBuffer(mem, 4*len(offs))
	copy(ob.Bytes(), arrow.Int32Traits.CastToBytes(offs))
	d := array.NewData(s.dt, n, []*memory.Buffer{bm, ob}, []arrow.ArrayData{values.Data()}, nulls, 0)
	defer d.Release()
	if bm != nil {
		bm.Release()
	}
	ob.Release()
	for _, a := range s.arrs {
		a.Release()
	}
	s.arrs = nil
	return array.MakeFromData(d), nil
}
func (s *arrayAgg) bytes() int64 { return sizeOf(s.rows) + s.held }
