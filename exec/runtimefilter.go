package exec

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/planner"
)

// Runtime filters (semi-join reduction). A hash join that drops the probe
// rows without a match (inner, semi and right joins) knows, once its build
// side is read, every key a probe row can match. When a probe key column
// comes unchanged from a scan below operators that cost per row (another
// join, an aggregation grouped by that column, a DISTINCT or a sort), the
// builder puts a runtime filter above that scan: as soon as the join has
// built its table, the filter drops the scanned rows whose key is not in
// it, so the operators in between never see them. TPC-H Q17 and Q20 join
// an aggregation over all of lineitem with a few hundred (Q17) or a few
// thousand (Q20) parts: the filter cuts the aggregation's input to those
// parts' rows.
//
// The filter is exact (it looks the keys up in the join's own table) and
// only ever drops rows the join would drop: until the table is built, and
// once the filter has seen that it keeps most rows, it passes every row.

// runtimeFilter is the key set one join publishes for its filters.
type runtimeFilter struct {
	set atomic.Pointer[filterSet]
}

// filterSet is a built join table and how to look probe keys up in it.
type filterSet struct {
	table    *keyTable
	nullSafe []bool
}

// publish makes the join's built table the filter's key set.
func (f *runtimeFilter) publish(t *keyTable, nullSafe []bool) {
	f.set.Store(&filterSet{table: t, nullSafe: nullSafe})
}

// Thresholds of a filter that keeps most rows: after filterProbeRows rows,
// one that kept more than filterKeepRatio of them stops filtering.
const (
	filterProbeRows = 1 << 16
	filterKeepRatio = 0.75
)

// filterOp applies a runtime filter to the key columns cols of its input.
type filterOp struct {
	in    Operator
	f     *runtimeFilter
	cols  []int
	mem   *Memory
	table *keyTable // this operator's view of the set's table
	set   *filterSet

	seen, kept int64
	off        bool
	keys       []arrow.Array
	skip       []bool
	groups     []uint32
	sel        []int32
}

func newFilterOp(in Operator, f *runtimeFilter, cols []int, mem *Memory) *filterOp {
	return &filterOp{in: in, f: f, cols: cols, mem: mem}
}

// Schema implements Operator.
func (o *filterOp) Schema() *arrow.Schema { return o.in.Schema() }

// Open implements Operator.
func (o *filterOp) Open(ctx context.Context) error { return o.in.Open(ctx) }

// Close implements Operator.
func (o *filterOp) Close() error { return o.in.Close() }

// Next implements Operator.
func (o *filterOp) Next(ctx context.Context) (Batch, bool, error) {
	for {
		b, ok, err := o.in.Next(ctx)
		if err != nil || !ok || b.Kind != BatchData || o.off {
			return b, ok, err
		}
		if o.set == nil {
			if o.set = o.f.set.Load(); o.set == nil {
				return b, true, nil
			}
			o.table = o.set.table.clone()
		}
		n := int(b.Rec.NumRows())
		o.keys = o.keys[:0]
		for _, c := range o.cols {
			o.keys = append(o.keys, b.Rec.Column(c))
		}
		o.skip = grow(o.skip[:0], n)
		clear(o.skip)
		for k, a := range o.keys {
			if o.set.nullSafe[k] || a.NullN() == 0 {
				continue
			}
			v := validityOf(a)
			for i := 0; i < n; i++ {
				if !v.valid(i) {
					o.skip[i] = true
				}
			}
		}
		o.groups = o.table.lookupRows(o.keys, n, o.groups, o.skip)
		o.sel = o.sel[:0]
		for i, g := range o.groups {
			if g != notFound {
				o.sel = append(o.sel, int32(i))
			}
		}
		o.seen += int64(n)
		o.kept += int64(len(o.sel))
		if o.seen >= filterProbeRows && float64(o.kept) > filterKeepRatio*float64(o.seen) {
			o.off = true
		}
		switch len(o.sel) {
		case n:
			return b, true, nil
		case 0:
			b.Rec.Release()
			continue
		}
		out, err := takeRecord(o.mem.Alloc, b.Rec.Schema(), b.Rec, o.sel)
		b.Rec.Release()
		if err != nil {
			return Batch{}, false, err
		}
		b.Rec = out
		return b, true, nil
	}
}

// scanFilter is a runtime filter waiting for its scan to be built.
type scanFilter struct {
	f    *runtimeFilter
	cols []int
}

// planFilters finds the scans under the probe side of join n (its left
// input) whose rows a runtime filter of n can reduce, and registers a
// filter for them with the builder; it returns the filter for the join to
// publish (nil when there is none).
func (b *builder) planFilters(n *planner.Join, keys []equiKey) *runtimeFilter {
	switch n.Kind {
	case planner.InnerJoin, planner.SemiJoin, planner.RightJoin:
	default:
		return nil
	}
	if len(keys) == 0 || buildsLeft(n) {
		return nil
	}
	var scan *planner.Scan
	cols := make([]int, len(keys))
	costly := false
	for i, k := range keys {
		c, ok := k.left.(*planner.ColRef)
		if !ok {
			return nil
		}
		s, col, pass, ok := traceColumn(n.Left, c.Index)
		if !ok || (scan != nil && s != scan) {
			return nil
		}
		scan, cols[i] = s, col
		costly = costly || pass
	}
	if !costly {
		// The scan feeds the join directly (through filters and
		// projections): the join's own lookup is as cheap.
		return nil
	}
	f := &runtimeFilter{}
	if b.filters == nil {
		b.filters = map[*planner.Scan][]scanFilter{}
	}
	b.filters[scan] = append(b.filters[scan], scanFilter{f: f, cols: cols})
	return f
}

// traceColumn follows output column col of n down to the scan it is read
// from unchanged, through operators that pass or drop whole rows by it;
// costly reports whether an operator that costs per row (a join, an
// aggregation, a DISTINCT, a sort) lies on the way.
func traceColumn(n planner.Node, col int) (scan *planner.Scan, scol int, costly, ok bool) {
	for {
		switch x := n.(type) {
		case *planner.Scan:
			return x, col, costly, true
		case *planner.Filter:
			if hasSubquery(x.Cond) {
				return nil, 0, false, false
			}
			n = x.Input
		case *planner.Project:
			c, isCol := x.Exprs[col].(*planner.ColRef)
			if !isCol {
				return nil, 0, false, false
			}
			n, col = x.Input, c.Index
		case *planner.Aggregate:
			if x.Window != nil || col >= len(x.GroupBy) {
				return nil, 0, false, false
			}
			c, isCol := x.GroupBy[col].(*planner.ColRef)
			if !isCol {
				return nil, 0, false, false
			}
			n, col, costly = x.Input, c.Index, true
		case *planner.Distinct:
			n, costly = x.Input, true
		case *planner.Sort:
			n, costly = x.Input, true
		case *planner.Join:
			nl := len(x.Left.Schema())
			left := col < nl
			switch {
			case x.Kind == planner.InnerJoin || x.Kind == planner.CrossJoin:
			case (x.Kind == planner.LeftJoin || x.Kind == planner.SemiJoin || x.Kind == planner.AntiJoin) && left:
			case x.Kind == planner.RightJoin && !left:
			default:
				return nil, 0, false, false
			}
			if x.Cond != nil && hasSubquery(x.Cond) {
				return nil, 0, false, false
			}
			costly = true
			if left {
				n = x.Left
			} else {
				n, col = x.Right, col-nl
			}
		default:
			return nil, 0, false, false
		}
	}
}

// withFilters puts the runtime filters registered for scan n over op.
func (b *builder) withFilters(n *planner.Scan, op Operator) Operator {
	for _, sf := range b.filters[n] {
		op = newFilterOp(op, sf.f, sf.cols, b.env.Mem)
	}
	return op
}

// dropFilter unregisters f (from a plan the builder gave up on).
func (b *builder) dropFilter(f *runtimeFilter) {
	if f == nil {
		return
	}
	for scan, fs := range b.filters {
		kept := fs[:0]
		for _, sf := range fs {
			if sf.f != f {
				kept = append(kept, sf)
			}
		}
		b.filters[scan] = kept
	}
}
