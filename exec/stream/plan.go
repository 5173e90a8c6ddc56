package stream

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/planner"
)

// splitPlan finds the stateful operator of a pipeline's plan: a windowed
// aggregation, a deduplication (ROW_NUMBER over a stream), a DISTINCT over
// a stream or a join of two streams. It returns nil when the plan has none
// (a stateless pipeline), and a function that rebuilds the plan with the
// operator replaced by another node. Only nodes with one input may stand
// between the root and the operator.
func splitPlan(n planner.Node) (planner.Node, func(planner.Node) planner.Node, error) {
	op, replace, err := split(n)
	if err != nil || op == nil {
		return op, replace, err
	}
	for _, c := range op.Children() {
		if x := statefulIn(c); x != nil {
			return nil, nil, fmt.Errorf("a pipeline has one stateful operator (window, deduplication, DISTINCT or join of two streams); this one has a %s under a %s", statefulName(x), statefulName(op))
		}
	}
	return op, replace, nil
}

// statefulIn returns a stateful operator of plan n, nil for none.
func statefulIn(n planner.Node) planner.Node {
	switch x := n.(type) {
	case *planner.Aggregate:
		if x.Window != nil {
			return x
		}
	case *planner.Window:
		if hasStream(x.Input) {
			return x
		}
	case *planner.Distinct:
		if hasStream(x.Input) {
			return x
		}
	case *planner.Join:
		if hasStream(x.Left) && hasStream(x.Right) {
			return x
		}
	}
	for _, c := range n.Children() {
		if x := statefulIn(c); x != nil {
			return x
		}
	}
	return nil
}

func statefulName(n planner.Node) string {
	switch n.(type) {
	case *planner.Aggregate:
		return "window aggregation"
	case *planner.Window:
		return "deduplication"
	case *planner.Distinct:
		return "DISTINCT"
	case *planner.Join:
		return "join of two streams"
	}
	return nodeName(n)
}

func split(n planner.Node) (planner.Node, func(planner.Node) planner.Node, error) {
	self := func(x planner.Node) planner.Node { return x }
	switch n := n.(type) {
	case *planner.Aggregate:
		if n.Window != nil {
			return n, self, nil
		}
		if hasStream(n.Input) {
			return nil, nil, fmt.Errorf("an aggregation over a stream needs a group window (GROUP BY TUMBLE, HOP or SESSION)")
		}
		return nil, nil, nil
	case *planner.Window:
		if hasStream(n.Input) {
			return n, self, nil
		}
		return nil, nil, nil
	case *planner.Distinct:
		if hasStream(n.Input) {
			return n, self, nil
		}
		return nil, nil, nil
	case *planner.Join:
		if hasStream(n.Left) && hasStream(n.Right) {
			return n, self, nil
		}
	case *planner.Filter:
		return splitOne(n.Input, func(x planner.Node) planner.Node { c := *n; c.Input = x; return &c })
	case *planner.Project:
		return splitOne(n.Input, func(x planner.Node) planner.Node { c := *n; c.Input = x; return &c })
	case *planner.Sort:
		return splitOne(n.Input, func(x planner.Node) planner.Node { c := *n; c.Input = x; return &c })
	case *planner.Limit:
		return splitOne(n.Input, func(x planner.Node) planner.Node { c := *n; c.Input = x; return &c })
	case *planner.Expect:
		return splitOne(n.Input, func(x planner.Node) planner.Node { c := *n; c.Input = x; return &c })
	}
	for _, c := range n.Children() {
		agg, _, err := split(c)
		if err != nil {
			return nil, nil, err
		}
		if agg != nil {
			return nil, nil, fmt.Errorf("a stateful operator (window, deduplication, DISTINCT or join of streams) under a %s is not supported in a stream yet", nodeName(n))
		}
	}
	return nil, nil, nil
}

// nodeName names a plan node's kind for messages.
func nodeName(n planner.Node) string {
	switch x := n.(type) {
	case *planner.Join:
		return "join"
	case *planner.Aggregate:
		return "aggregation"
	case *planner.SetOp:
		return "set operation"
	default:
		return strings.TrimPrefix(fmt.Sprintf("%T", x), "*planner.")
	}
}

func splitOne(in planner.Node, wrap func(planner.Node) planner.Node) (planner.Node, func(planner.Node) planner.Node, error) {
	agg, inner, err := split(in)
	if err != nil || agg == nil {
		return agg, nil, err
	}
	return agg, func(x planner.Node) planner.Node { return wrap(inner(x)) }, nil
}

// hasStream reports whether a plan reads a stream.
func hasStream(n planner.Node) bool {
	if s, ok := n.(*planner.Scan); ok && s.Stream {
		return true
	}
	for _, c := range n.Children() {
		if hasStream(c) {
			return true
		}
	}
	return false
}

// catalogColumns converts plan columns to catalog columns.
func catalogColumns(cols []planner.Column) catalog.Schema {
	out := make(catalog.Schema, len(cols))
	for i, c := range cols {
		out[i] = catalog.Column{Name: c.Name, Type: c.Type}
	}
	return out
}

// router is the ScanFactory of one plan run: the objects the runtime
// provides (the stream's file, the buffered state, window results), and
// the engine's factory for everything else (tables of lookup joins).
type router struct {
	own      map[*catalog.Object]func(cols []int) (exec.Operator, error)
	fallback exec.ScanFactory
}

// OpenScan implements exec.ScanFactory.
func (r *router) OpenScan(ctx context.Context, obj *catalog.Object, cols []int) (exec.Operator, error) {
	for o, open := range r.own {
		if o == obj || o.Name == obj.Name {
			return open(cols)
		}
	}
	if r.fallback == nil {
		return nil, fmt.Errorf("cannot read %s %q in a pipeline", obj.Kind, obj.Name)
	}
	return r.fallback.OpenScan(ctx, obj, cols)
}

// project keeps the columns cols of rec (a new reference; rec is not
// released).
func project(rec arrow.Record, cols []int) arrow.Record {
	if cols == nil {
		rec.Retain()
		return rec
	}
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		fields[i] = rec.Schema().Field(c)
		arrs[i] = rec.Column(c)
	}
	return array.NewRecord(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
}

func projectSchema(s *arrow.Schema, cols []int) *arrow.Schema {
	if cols == nil {
		return s
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = s.Field(c)
	}
	return arrow.NewSchema(fields, nil)
}

// recordsOp replays records (it owns them).
type recordsOp struct {
	schema *arrow.Schema
	recs   []arrow.Record
	cols   []int
	i      int
}

func (o *recordsOp) Schema() *arrow.Schema          { return projectSchema(o.schema, o.cols) }
func (o *recordsOp) Open(ctx context.Context) error { return nil }
func (o *recordsOp) Next(ctx context.Context) (exec.Batch, bool, error) {
	if o.i >= len(o.recs) {
		return exec.Batch{}, false, nil
	}
	r := o.recs[o.i]
	o.i++
	return exec.Batch{Kind: exec.BatchData, Rec: project(r, o.cols)}, true, nil
}
func (o *recordsOp) Close() error {
	for _, r := range o.recs[o.i:] {
		r.Release()
	}
	for _, r := range o.recs[:o.i] {
		r.Release()
	}
	o.recs = nil
	return nil
}
