package exec

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// newSlider returns the sliding-frame form of count(*), count, sum and avg.
// n is the number of rows.
func newSlider(k AggKind, args []arrow.Array, res arrow.DataType, n int) (slider, error) {
	if k == AggCountStar || k == AggCount {
		if res.ID() != arrow.INT64 {
			return nil, fmt.Errorf("exec: %s gives BIGINT, not %s", k, res)
		}
	}
	if k == AggCountStar {
		return &countSlider{star: true, out: make([]int64, n)}, nil
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("exec: %s takes one argument", k)
	}
	a := args[0]
	if k == AggCount {
		return &countSlider{v: validityOf(a), out: make([]int64, n)}, nil
	}
	s := &sumSlider{avg: k == AggAvg, res: res, v: validityOf(a), valid: make([]bool, n)}
	switch physOf(a.DataType()) {
	case physInt8, physInt16, physInt32, physInt64:
		s.mode = slideInt
		s.ints = make([]int64, n)
		for i := range s.ints {
			s.ints[i], _ = intAt(a, i)
		}
	case physFloat32, physFloat64:
		s.mode = slideFloat
		s.floats = make([]float64, n)
		for i := range s.floats {
			s.floats[i] = floatAt(a, i)
		}
	case physDecimal:
		s.mode = slideDecimal
		s.in = a.DataType().(*arrow.Decimal128Type)
		s.decs = fixedVals[decimal128.Num](a)
	case physInterval:
		s.mode = slideInterval
		s.ivs = fixedVals[arrow.MonthDayNanoInterval](a)
	default:
		return nil, fmt.Errorf("exec: %s of %s is not supported", k, a.DataType())
	}
	want := physFloat64
	switch {
	case s.mode == slideDecimal:
		want = physDecimal
		s.outDecs = make([]decimal128.Num, n)
	case s.mode == slideInterval:
		want = physInterval
		s.outIvs = make([]arrow.MonthDayNanoInterval, n)
	case s.mode == slideInt && !s.avg:
		want = physInt64
		s.outInts = make([]int64, n)
	default:
		s.outFloats = make([]float64, n)
	}
	if physOf(res) != want {
		return nil, fmt.Errorf("exec: %s(%s) cannot give %s", k, a.DataType(), res)
	}
	return s, nil
}

type countSlider struct {
	star bool
	v    validity
	cnt  int64
	out  []int64
}

func (s *countSlider) add(row int) error {
	if s.star || s.v.valid(row) {
		s.cnt++
	}
	return nil
}
func (s *countSlider) remove(row int) {
	if s.star || s.v.valid(row) {
		s.cnt--
	}
}
func (s *countSlider) emit(row int) error { s.out[row] = s.cnt; return nil }
func (s *countSlider) array(mem memory.Allocator) (arrow.Array, error) {
	return makeFixed(mem, arrow.PrimitiveTypes.Int64, s.out, nil), nil
}

type slideMode uint8

const (
	slideInt slideMode = iota
	slideFloat
	slideDecimal
	slideInterval
)

// sumSlider is sum and avg over a sliding frame. Integers accumulate in
// 128 bits (exact, an out-of-range sum is an error only when emitted);
// floats keep a compensated sum and count infinities and NaNs apart, so
// that removing a row undoes adding it; decimals and intervals are exact.
type sumSlider struct {
	mode  slideMode
	avg   bool
	res   arrow.DataType
	in    *arrow.Decimal128Type
	v     validity
	nn    int64 // non-NULL values in the frame
	valid []bool

	ints   []int64
	floats []float64
	decs   []decimal128.Num
	ivs    []arrow.MonthDayNanoInterval

	i128             int128
	fsum, fcomp      float64
	pinf, ninf, nans int64
	dsum             decimal128.Num
	isum             arrow.MonthDayNanoInterval

	outInts   []int64
	outFloats []float64
	outDecs   []decimal128.Num
	outIvs    []arrow.MonthDayNanoInterval
}

// neumaier adds x to a compensated sum.
func neumaier(sum, comp *float64, x float64) {
	t := *sum + x
	if math.Abs(*sum) >= math.Abs(x) {
		*comp += (*sum - t) + x
	} else {
		*comp += (x - t) + *sum
	}
	*sum = t
}

func (s *sumSlider) addFloat(x float64, sign int64) {
	switch {
	case math.IsNaN(x):
		s.nans += sign
	case math.IsInf(x, 1):
		s.pinf += sign
	case math.IsInf(x, -1):
		s.ninf += sign
	default:
		neumaier(&s.fsum, &s.fcomp, float64(sign)*x)
	}
}

func (s *sumSlider) add(row int) error {
	if !s.v.valid(row) {
		return nil
	}
	s.nn++
	switch s.mode {
	case slideInt:
		s.i128.add(s.ints[row])
	case slideFloat:
		s.addFloat(s.floats[row], 1)
	case slideDecimal:
		r, ok := addDecimal(s.dsum, s.decs[row])
		if !ok {
			return fmt.Errorf("sum: numeric value out of range for %s", s.res)
		}
		s.dsum = r
	case slideInterval:
		r, ok := addInterval(s.isum, s.ivs[row])
		if !ok {
			return fmt.Errorf("sum: %w", errIntervalRange)
		}
		s.isum = r
	}
	return nil
}

func (s *sumSlider) remove(row int) {
	if !s.v.valid(row) {
		return
	}
	s.nn--
	switch s.mode {
	case slideInt:
		s.i128.sub(s.ints[row])
	case slideFloat:
		s.addFloat(s.floats[row], -1)
	case slideDecimal:
		s.dsum = s.dsum.Sub(s.decs[row])
	case slideInterval:
		s.isum, _ = subInterval(s.isum, s.ivs[row])
	}
	if s.nn == 0 {
		// Start the next frame from exact zero.
		s.i128, s.fsum, s.fcomp, s.pinf, s.ninf, s.nans = int128{}, 0, 0, 0, 0, 0
		s.dsum, s.isum = decimal128.Num{}, arrow.MonthDayNanoInterval{}
	}
}

func (s *sumSlider) floatSum() float64 {
	switch {
	case s.nans > 0 || (s.pinf > 0 && s.ninf > 0):
		return math.NaN()
	case s.pinf > 0:
		return math.Inf(1)
	case s.ninf > 0:
		return math.Inf(-1)
	}
	return s.fsum + s.fcomp
}

func (s *sumSlider) emit(row int) error {
	if s.nn == 0 {
		return nil
	}
	s.valid[row] = true
	switch s.mode {
	case slideInt:
		if s.avg {
			s.outFloats[row] = s.i128.float64() / float64(s.nn)
			return nil
		}
		v, ok := s.i128.int64()
		if !ok {
			return fmt.Errorf("sum: %w", errBigintRange)
		}
		s.outInts[row] = v
	case slideFloat:
		f := s.floatSum()
		if s.avg {
			f /= float64(s.nn)
		}
		s.outFloats[row] = f
	case slideDecimal:
		out := s.res.(*arrow.Decimal128Type)
		if s.avg {
			v, err := decimalAvg(s.dsum, s.nn, s.in, out)
			if err != nil {
				return fmt.Errorf("avg: %w", err)
			}
			s.outDecs[row] = v
			return nil
		}
		v, err := rescaleDecimal(s.dsum.BigInt(), s.in.Scale, out.Scale, out.Precision)
		if err != nil {
			return fmt.Errorf("sum: %w", err)
		}
		s.outDecs[row] = v
	case slideInterval:
		if s.avg {
			s.outIvs[row] = intervalAvg(s.isum, s.nn)
		} else {
			s.outIvs[row] = s.isum
		}
	}
	return nil
}

func (s *sumSlider) array(mem memory.Allocator) (arrow.Array, error) {
	switch {
	case s.outInts != nil:
		return makeFixed(mem, s.res, s.outInts, s.valid), nil
	case s.outDecs != nil:
		return makeFixed(mem, s.res, s.outDecs, s.valid), nil
	case s.outIvs != nil:
		return makeFixed(mem, s.res, s.outIvs, s.valid), nil
	}
	return makeFixed(mem, s.res, s.outFloats, s.valid), nil
}
