package exec

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// PartialAgg is one column of a partial aggregation: Kind over the
// aggregate call's arguments (as AggSplit.Args gives them), of type Type.
type PartialAgg struct {
	Kind AggKind
	Type catalog.Type
}

// AggSplit is how an aggregate call splits into partial aggregates, each
// computed over a piece of the input, and one merge aggregate over the
// partial columns of all pieces that gives the call's result: count(*)
// and count(x) are summed, sum(x) summed, min(x) and max(x) taken again,
// avg(x) kept as (sum(x), count(x)) and divided at the end (AggAvgMerge).
// The stream runtime keeps windowed aggregation state this way.
type AggSplit struct {
	// Args are the arguments of the partial aggregates (the call's, as
	// the operators take them).
	Args []planner.Expr
	// Partials are the partial columns, in order.
	Partials []PartialAgg
	// Merge aggregates the partial columns (all of them, in order) into
	// the call's result.
	Merge AggKind
}

// SplitAggCall returns the split of an aggregate call, and false when the
// call needs all of its input rows at once (DISTINCT, ORDER BY, and the
// aggregates other than count, sum, avg, min and max).
func SplitAggCall(a *planner.AggCall) (AggSplit, bool) {
	if !planner.PartialAggCall(a) {
		return AggSplit{}, false
	}
	kind, args, err := aggArgs(a.Fn.Name, a.Args)
	if err != nil {
		return AggSplit{}, false
	}
	s := AggSplit{Args: args}
	switch kind {
	case AggCountStar, AggCount:
		s.Partials = []PartialAgg{{Kind: kind, Type: catalog.Int64}}
		s.Merge = AggSum
	case AggSum, AggMin, AggMax:
		s.Partials = []PartialAgg{{Kind: kind, Type: a.T}}
		s.Merge = kind
	case AggAvg:
		if len(args) != 1 {
			return AggSplit{}, false
		}
		t := args[0].Type()
		var sum catalog.Type
		switch t.Kind {
		case catalog.KindInt8, catalog.KindInt16, catalog.KindInt32, catalog.KindInt64:
			sum = catalog.Int64
		case catalog.KindFloat32, catalog.KindFloat64:
			sum = catalog.Float64
		case catalog.KindDecimal:
			sum = catalog.Decimal(catalog.MaxDecimalPrecision, t.Scale)
		default:
			return AggSplit{}, false
		}
		s.Partials = []PartialAgg{{Kind: AggSum, Type: sum}, {Kind: AggCount, Type: catalog.Int64}}
		s.Merge = AggAvgMerge
	default:
		return AggSplit{}, false
	}
	return s, true
}

// avgMerge is AggAvgMerge: the average from partial sums (BIGINT, DOUBLE or
// DECIMAL(38, s)) and counts, computed as avg computes it over the rows.
type avgMerge struct {
	phys   phys
	in     *arrow.Decimal128Type
	res    arrow.DataType
	ints   []int128
	floats []float64
	decs   []decimal128.Num
	counts []int64
}

func newAvgMerge(args []arrow.DataType, res arrow.DataType) (aggState, error) {
	if args[1].ID() != arrow.INT64 {
		return nil, fmt.Errorf("exec: avg(sum, count) takes a BIGINT count, got %s", args[1])
	}
	s := &avgMerge{phys: physOf(args[0]), res: res}
	switch s.phys {
	case physInt64, physFloat64:
		if res.ID() != arrow.FLOAT64 {
			return nil, fmt.Errorf("exec: avg(sum, count) of %s gives DOUBLE, not %s", args[0], res)
		}
	case physDecimal:
		if res.ID() != arrow.DECIMAL128 {
			return nil, fmt.Errorf("exec: avg(sum, count) of %s gives a DECIMAL, not %s", args[0], res)
		}
		s.in = args[0].(*arrow.Decimal128Type)
	default:
		return nil, fmt.Errorf("exec: avg(sum, count) of %s is not supported", args[0])
	}
	return s, nil
}

func (s *avgMerge) resize(n int) {
	switch s.phys {
	case physInt64:
		s.ints = grow(s.ints, n)
	case physFloat64:
		s.floats = grow(s.floats, n)
	default:
		s.decs = grow(s.decs, n)
	}
	s.counts = grow(s.counts, n)
}

func (s *avgMerge) update(groups []uint32, args []arrow.Array) error {
	counts := fixedVals[int64](args[1])
	cv := validityOf(args[1])
	sv := validityOf(args[0])
	switch s.phys {
	case physInt64:
		vals := fixedVals[int64](args[0])
		for i, g := range groups {
			if g != notFound && sv.valid(i) && cv.valid(i) {
				s.ints[g].add(vals[i])
				s.counts[g] += counts[i]
			}
		}
	case physFloat64:
		vals := fixedVals[float64](args[0])
		for i, g := range groups {
			if g != notFound && sv.valid(i) && cv.valid(i) {
				s.floats[g] += vals[i]
				s.counts[g] += counts[i]
			}
		}
	default:
		vals := fixedVals[decimal128.Num](args[0])
		for i, g := range groups {
			if g == notFound || !sv.valid(i) || !cv.valid(i) {
				continue
			}
			r, ok := addDecimal(s.decs[g], vals[i])
			if !ok {
				return fmt.Errorf("avg: sum of %s values out of range", s.in)
			}
			s.decs[g] = r
			s.counts[g] += counts[i]
		}
	}
	return nil
}

func (s *avgMerge) finish(mem memory.Allocator, n int) (arrow.Array, error) {
	valid := make([]bool, n)
	if s.phys == physDecimal {
		out := make([]decimal128.Num, n)
		for g := range out {
			if s.counts[g] == 0 {
				continue
			}
			v, err := decimalAvg(s.decs[g], s.counts[g], s.in, s.res.(*arrow.Decimal128Type))
			if err != nil {
				return nil, fmt.Errorf("avg: %w", err)
			}
			out[g], valid[g] = v, true
		}
		return makeFixed(mem, s.res, out, valid), nil
	}
	out := make([]float64, n)
	for g := range out {
		if s.counts[g] == 0 {
			continue
		}
		if s.phys == physInt64 {
			out[g] = s.ints[g].float64() / float64(s.counts[g])
		} else {
			out[g] = s.floats[g] / float64(s.counts[g])
		}
		valid[g] = true
	}
	return makeFixed(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}

func (s *avgMerge) bytes() int64 {
	return sizeOf(s.ints) + sizeOf(s.floats) + sizeOf(s.decs) + sizeOf(s.counts)
}

// FinishPartial computes merge aggregate kind over partial columns args
// in which every row is a group of its own (the partial rows of one piece
// of input): the result has a row for each row of args, of type res.
func FinishPartial(kind AggKind, args []arrow.Array, res arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.DataType()
	}
	if (kind == AggSum || kind == AggMin || kind == AggMax) && len(args) == 1 && arrow.TypeEqual(types[0], res) {
		args[0].Retain()
		return args[0], nil
	}
	st, err := newAggState(kind, types, res, newHasher())
	if err != nil {
		return nil, err
	}
	n := args[0].Len()
	st.resize(n)
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = uint32(i)
	}
	if err := st.update(groups, args); err != nil {
		return nil, err
	}
	return st.finish(mem, n)
}
