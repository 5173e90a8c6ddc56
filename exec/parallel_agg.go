package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/planner"
)

// mergeState is an aggregate state that can absorb another state of the
// same aggregate: group g of other is folded into group into[g] of s.
type mergeState interface {
	aggState
	merge(other aggState, into []uint32) error
}

// mergeable reports whether the aggregation splits into partial
// aggregations that merge: no group window, and every aggregate a count,
// sum, avg, min or max without DISTINCT or ORDER BY.
func mergeable(n *planner.Aggregate) bool {
	if n.Window != nil {
		return false
	}
	for _, a := range n.Aggs {
		if a.Distinct || len(a.OrderBy) > 0 || (a.Filter != nil && hasSubquery(a.Filter)) {
			return false
		}
		switch a.Fn.Name {
		case "count", "sum", "avg", "min", "max":
		default:
			return false
		}
		for _, x := range a.Args {
			if hasSubquery(x) {
				return false
			}
		}
	}
	for _, g := range n.GroupBy {
		if hasSubquery(g) {
			return false
		}
	}
	return true
}

// ParallelAggregate runs one HashAggregate per worker pipeline, each over
// its share of the input, then merges the workers' groups into the first
// one's and yields its result. The result is the one a single aggregation
// over all the input gives: counts, integer and decimal sums are exact
// whatever the split (float sums may differ in the last bits, as the
// order of additions does).
type ParallelAggregate struct {
	parts []*HashAggregate
	done  bool
}

// NewParallelAggregate returns the aggregation of the parts' inputs; the
// parts must compute the same aggregates (of kinds whose state merges)
// with the same output schema.
func NewParallelAggregate(parts []*HashAggregate) *ParallelAggregate {
	return &ParallelAggregate{parts: parts}
}

// Schema implements Operator.
func (p *ParallelAggregate) Schema() *arrow.Schema { return p.parts[0].schema }

// Open implements Operator.
func (p *ParallelAggregate) Open(ctx context.Context) error {
	for _, a := range p.parts {
		if err := a.Open(ctx); err != nil {
			return err
		}
		for _, r := range a.runs {
			if _, ok := r.state.(mergeState); !ok || r.distinct != nil || r.ordered != nil {
				return fmt.Errorf("exec: %s does not merge across parallel workers", r.spec.Kind)
			}
		}
	}
	return nil
}

// Next implements Operator.
func (p *ParallelAggregate) Next(ctx context.Context) (Batch, bool, error) {
	first := p.parts[0]
	if !p.done {
		p.done = true
		first.done = true
		if err := runAll(len(p.parts), func(i int) error { return p.parts[i].accumulate(ctx) }); err != nil {
			return Batch{}, false, err
		}
		for _, o := range p.parts[1:] {
			if err := first.merge(o); err != nil {
				return Batch{}, false, err
			}
		}
		if err := first.finish(); err != nil {
			return Batch{}, false, err
		}
	}
	return first.Next(ctx)
}

// Close implements Operator.
func (p *ParallelAggregate) Close() error {
	var err error
	for _, a := range p.parts {
		if e := a.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// merge folds the groups of o (an aggregation of the same aggregates over
// other rows) into a.
func (a *HashAggregate) merge(o *HashAggregate) error {
	into := []uint32{0}
	ng := 1
	if !a.scalar() {
		n := o.table.len()
		if n == 0 {
			return nil
		}
		keys, err := o.table.keys(a.mem.Alloc, 0, n)
		if err != nil {
			return err
		}
		into = a.table.insert(keys, n, nil)
		releaseArrays(keys)
		ng = a.table.len()
	} else {
		for _, r := range o.runs {
			r.state.resize(1)
		}
	}
	var held int64
	if a.table != nil {
		held = a.table.bytes()
	}
	for i, r := range a.runs {
		r.state.resize(ng)
		if err := r.state.(mergeState).merge(o.runs[i].state, into); err != nil {
			return err
		}
		held += r.state.bytes()
	}
	return a.acct.set(held)
}

func (s *countState) merge(other aggState, into []uint32) error {
	o := other.(*countState)
	for g, c := range o.counts[:len(into)] {
		s.counts[into[g]] += c
	}
	return nil
}

func (s *nullState) merge(aggState, []uint32) error { return nil }

func (s *sumInt[T]) merge(other aggState, into []uint32) error {
	o := other.(*sumInt[T])
	for g, has := range o.has[:len(into)] {
		if !has {
			continue
		}
		d := into[g]
		a, x := s.sums[d], o.sums[g]
		r := a + x
		if (a^r)&(x^r) < 0 {
			return fmt.Errorf("sum: %w", errBigintRange)
		}
		s.sums[d], s.has[d] = r, true
	}
	return nil
}

func (s *sumFloat[T]) merge(other aggState, into []uint32) error {
	o := other.(*sumFloat[T])
	for g, has := range o.has[:len(into)] {
		if has {
			d := into[g]
			s.sums[d] += o.sums[g]
			s.has[d] = true
		}
	}
	return nil
}

func (s *sumDecimal) merge(other aggState, into []uint32) error {
	o := other.(*sumDecimal)
	for g, has := range o.has[:len(into)] {
		if !has {
			continue
		}
		d := into[g]
		r, ok := addDecimal(s.sums[d], o.sums[g])
		if !ok || !r.FitsInPrecision(38) {
			return fmt.Errorf("sum: numeric value out of range for %s", s.out)
		}
		s.sums[d], s.has[d] = r, true
	}
	return nil
}

func (s *sumInterval) merge(other aggState, into []uint32) error {
	o := other.(*sumInterval)
	for g, has := range o.has[:len(into)] {
		if !has {
			continue
		}
		d := into[g]
		r, ok := addInterval(s.sums[d], o.sums[g])
		if !ok {
			return fmt.Errorf("sum: %w", errIntervalRange)
		}
		s.sums[d], s.has[d] = r, true
	}
	return nil
}

// add128 adds b to a.
func (a *int128) add128(b int128) {
	lo := a.lo + b.lo
	carry := int64(0)
	if lo < a.lo {
		carry = 1
	}
	a.lo = lo
	a.hi += b.hi + carry
}

func (s *avgInt[T]) merge(other aggState, into []uint32) error {
	o := other.(*avgInt[T])
	for g, c := range o.counts[:len(into)] {
		if c > 0 {
			d := into[g]
			s.sums[d].add128(o.sums[g])
			s.counts[d] += c
		}
	}
	return nil
}

func (s *avgFloat[T]) merge(other aggState, into []uint32) error {
	o := other.(*avgFloat[T])
	for g, c := range o.counts[:len(into)] {
		if c > 0 {
			d := into[g]
			s.sums[d] += o.sums[g]
			s.counts[d] += c
		}
	}
	return nil
}

func (s *avgDecimal) merge(other aggState, into []uint32) error {
	o := other.(*avgDecimal)
	for g, c := range o.counts[:len(into)] {
		if c == 0 {
			continue
		}
		d := into[g]
		r, ok := addDecimal(s.sums[d], o.sums[g])
		if !ok {
			return fmt.Errorf("avg: sum of %s values out of range", s.in)
		}
		s.sums[d] = r
		s.counts[d] += c
	}
	return nil
}

func (s *avgInterval) merge(other aggState, into []uint32) error {
	o := other.(*avgInterval)
	for g, c := range o.counts[:len(into)] {
		if c == 0 {
			continue
		}
		d := into[g]
		r, ok := addInterval(s.sums[d], o.sums[g])
		if !ok {
			return fmt.Errorf("avg: %w", errIntervalRange)
		}
		s.sums[d] = r
		s.counts[d] += c
	}
	return nil
}

// mergeHold reports an error for the modes whose result depends on the
// order of the rows (first, last).
func mergeHold(m holdMode) error {
	if m == holdFirst || m == holdLast {
		return fmt.Errorf("exec: first and last do not merge across parallel workers")
	}
	return nil
}

func (s *holdFixed[T]) merge(other aggState, into []uint32) error {
	if err := mergeHold(s.mode); err != nil {
		return err
	}
	o := other.(*holdFixed[T])
	for g, has := range o.has[:len(into)] {
		if !has {
			continue
		}
		d := into[g]
		if !s.has[d] || s.mode.replaces(s.cmp(o.vals[g], s.vals[d])) {
			s.vals[d], s.has[d] = o.vals[g], true
		}
	}
	return nil
}

func (s *holdBool) merge(other aggState, into []uint32) error {
	if err := mergeHold(s.mode); err != nil {
		return err
	}
	o := other.(*holdBool)
	for g, has := range o.has[:len(into)] {
		if !has {
			continue
		}
		d, x := into[g], o.vals[g]
		switch {
		case !s.has[d]:
			s.vals[d], s.has[d] = x, true
		case s.mode == holdMin:
			s.vals[d] = s.vals[d] && x
		default:
			s.vals[d] = s.vals[d] || x
		}
	}
	return nil
}

func (s *holdBytes) merge(other aggState, into []uint32) error {
	if err := mergeHold(s.mode); err != nil {
		return err
	}
	o := other.(*holdBytes)
	for g, has := range o.has[:len(into)] {
		if !has {
			continue
		}
		d, x := into[g], o.vals[g]
		if !s.has[d] || s.mode.replaces(compareBytes(x, s.vals[d])) {
			before := cap(s.vals[d])
			s.vals[d] = append(s.vals[d][:0], x...)
			s.held += int64(cap(s.vals[d]) - before)
			s.has[d] = true
		}
	}
	return nil
}
