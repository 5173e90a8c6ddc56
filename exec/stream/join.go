package stream

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// An interval join of two streams:
//
//	FROM STREAM a JOIN STREAM b
//	  ON a.id = b.id AND b.ts BETWEEN a.ts - INTERVAL '1' HOUR AND a.ts + INTERVAL '1' HOUR
//
// The time bound, read from the join condition, says that a row of the
// right side joins only left rows with tr - tl in [lo, hi]. Each side's
// rows are kept in Pebble in chunks by time bucket. A file's rows of one
// side (those at or after the watermark: earlier rows are late, dropped
// and counted) are joined, by the batch engine's join and the full
// condition, with the other side's kept rows whose time the bound allows,
// and are then kept themselves; so each matching pair is written once,
// when the second of its rows arrives. Rows that no future row can match
// — left rows with tl < watermark - hi, right rows with tr < watermark +
// lo — are dropped at each checkpoint. The watermark is the least over
// both streams' partitions.
//
//	j/0/<bucket start><seq>    left rows (Arrow IPC)
//	j/1/<bucket start><seq>    right rows
var joinPrefix = [2]string{"j/0/", "j/1/"}

type streamJoin struct {
	p      *Pipeline
	node   *planner.Join
	side   []side
	times  [2]expr.Evaluator
	lo, hi int64
	width  int64
}

// newJoin makes the interval join of a Join node whose inputs each read
// one stream.
func (p *Pipeline) newJoin(j *planner.Join) (*streamJoin, error) {
	if j.Kind != planner.InnerJoin {
		return nil, fmt.Errorf("pipeline %q: a %s JOIN of two streams is not supported yet; only an inner join", p.spec.Name, j.Kind)
	}
	sj := &streamJoin{p: p, node: j}
	for _, n := range []planner.Node{j.Left, j.Right} {
		var in *input
		for _, s := range streamObjects(n) {
			for _, x := range p.inputs {
				if x.obj == s || x.obj.Name == s.Name {
					if in != nil && in != x {
						return nil, fmt.Errorf("pipeline %q: a side of a join of two streams reads both streams", p.spec.Name)
					}
					in = x
				}
			}
		}
		if in == nil {
			return nil, fmt.Errorf("pipeline %q: a side of the join reads no stream the pipeline knows", p.spec.Name)
		}
		if in.wm == nil {
			return nil, fmt.Errorf("pipeline %q: a join of two streams needs the watermark of stream %q (WATERMARK FOR ts AS ...)", p.spec.Name, in.obj.Name)
		}
		sj.side = append(sj.side, side{plan: n, in: in})
	}
	nLeft := len(j.Left.Schema())
	b, err := p.joinBound(j.Cond, nLeft)
	if err != nil {
		return nil, err
	}
	sj.lo, sj.hi = b.lo, b.hi
	if sj.times[0], err = p.spec.Compile(b.left, arrowSchemaOf(j.Left)); err != nil {
		return nil, err
	}
	right := planner.RewriteExpr(b.right, func(e planner.Expr) planner.Expr {
		if r, ok := e.(*planner.ColRef); ok {
			c := *r
			c.Index -= nLeft
			return &c
		}
		return e
	})
	if sj.times[1], err = p.spec.Compile(right, arrowSchemaOf(j.Right)); err != nil {
		return nil, err
	}
	for _, ev := range sj.times {
		if ev.Type().ID() != arrow.TIMESTAMP {
			return nil, fmt.Errorf("pipeline %q: the time bound of a join of two streams must compare TIMESTAMP event times", p.spec.Name)
		}
	}
	sj.width = min(max(sj.hi-sj.lo, 1e6), 86400e6)
	return sj, nil
}

// streamObjects are the streams a plan reads.
func streamObjects(n planner.Node) []*catalog.Object {
	if s, ok := n.(*planner.Scan); ok && s.Stream {
		return []*catalog.Object{s.Object}
	}
	var out []*catalog.Object
	for _, c := range n.Children() {
		out = append(out, streamObjects(c)...)
	}
	return out
}

// bound is the time bound of a join: right - left in [lo, hi] (µs).
type bound struct {
	left, right planner.Expr
	lo, hi      int64
}

// joinBound reads the time bound of a join condition: conjuncts that
// compare a time over one input, plus or minus a constant interval, with a
// time over the other (b.ts >= a.ts - INTERVAL '1' HOUR, b.ts BETWEEN ...).
func (p *Pipeline) joinBound(cond planner.Expr, nLeft int) (bound, error) {
	b := bound{lo: math.MinInt64, hi: math.MaxInt64}
	side := func(e planner.Expr) int {
		s := 0
		planner.WalkExpr(e, func(x planner.Expr) bool {
			if r, ok := x.(*planner.ColRef); ok {
				if r.Index < nLeft {
					s |= 1
				} else {
					s |= 2
				}
			}
			return true
		})
		return s
	}
	var conj []planner.Expr
	var flat func(planner.Expr)
	flat = func(e planner.Expr) {
		if c, ok := e.(*planner.Call); ok && c.Name == "and" {
			for _, a := range c.Args {
				flat(a)
			}
			return
		}
		conj = append(conj, e)
	}
	flat(cond)
	for _, e := range conj {
		c, ok := e.(*planner.Call)
		if !ok || len(c.Args) != 2 {
			continue
		}
		greater := c.Name == "ge" || c.Name == "gt"
		if !greater && c.Name != "le" && c.Name != "lt" {
			continue
		}
		bx, ox, ok1 := p.linear(c.Args[0], side)
		by, oy, ok2 := p.linear(c.Args[1], side)
		if !ok1 || !ok2 {
			continue
		}
		sx, sy := side(bx), side(by)
		var l, r planner.Expr
		var off int64
		switch {
		case sx == 2 && sy == 1: // r + ox CMP l + oy: r - l CMP oy - ox
			l, r, off = by, bx, oy-ox
		case sx == 1 && sy == 2: // l + ox CMP r + oy: r - l (flipped) ox - oy
			l, r, off, greater = bx, by, ox-oy, !greater
		default:
			continue
		}
		if b.left == nil {
			b.left, b.right = l, r
		} else if !planner.EqualExpr(b.left, l) || !planner.EqualExpr(b.right, r) {
			continue
		}
		if greater {
			b.lo = max(b.lo, off)
		} else {
			b.hi = min(b.hi, off)
		}
	}
	if b.left == nil || b.lo == math.MinInt64 || b.hi == math.MaxInt64 {
		return b, fmt.Errorf("pipeline %q: the join of two streams needs a time bound with constant intervals, e.g. AND b.ts BETWEEN a.ts - INTERVAL '1' HOUR AND a.ts + INTERVAL '1' HOUR", p.spec.Name)
	}
	if b.lo > b.hi {
		return b, fmt.Errorf("pipeline %q: the time bound of the join of two streams is empty: no row can match", p.spec.Name)
	}
	return b, nil
}

// linear splits a temporal expression into a time over one input and a
// constant interval added to it (µs).
func (p *Pipeline) linear(e planner.Expr, side func(planner.Expr) int) (planner.Expr, int64, bool) {
	if !isTime(e.Type()) {
		return nil, 0, false
	}
	if c, ok := e.(*planner.Call); ok && (c.Name == "add" || c.Name == "sub") && len(c.Args) == 2 {
		x, k := c.Args[0], c.Args[1]
		if c.Name == "add" && side(x) == 0 {
			x, k = k, x
		}
		if side(k) == 0 && side(x) != 0 {
			if v, ok := p.constMicros(k); ok {
				if c.Name == "sub" {
					v = -v
				}
				b, o, ok := p.linear(x, side)
				return b, o + v, ok
			}
		}
	}
	if s := side(e); s == 1 || s == 2 {
		return e, 0, true
	}
	return nil, 0, false
}

func isTime(t catalog.Type) bool {
	return t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ
}

// constMicros evaluates a constant INTERVAL without months (µs).
func (p *Pipeline) constMicros(e planner.Expr) (int64, bool) {
	ev, err := p.spec.Compile(e, arrow.NewSchema(nil, nil))
	if err != nil {
		return 0, false
	}
	rec := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	a, err := ev.Eval(context.Background(), rec)
	if err != nil {
		return 0, false
	}
	defer a.Release()
	iv, ok := a.(*array.MonthDayNanoInterval)
	if !ok || iv.IsNull(0) || iv.Value(0).Months != 0 {
		return 0, false
	}
	v := iv.Value(0)
	return int64(v.Days)*86400e6 + v.Nanoseconds/1000, true
}

func (j *streamJoin) sides() []side { return j.side }

// add joins a file's rows of side s with the other side's kept rows and
// keeps them.
func (j *streamJoin) add(ctx context.Context, s int, rec arrow.Record) error {
	p := j.p
	ts, err := timesOf(ctx, j.times[s], rec)
	if err != nil {
		return err
	}
	defer ts.Release()
	wm := p.m.Watermark
	var rows []int32
	var times []int64
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := 0; i < ts.Len(); i++ {
		if ts.IsNull(i) {
			continue // a NULL time matches nothing
		}
		t := int64(ts.Value(i))
		if t < wm {
			p.m.Late++
			continue
		}
		rows = append(rows, int32(i))
		times = append(times, t)
		lo, hi = min(lo, t), max(hi, t)
	}
	if len(rows) == 0 {
		return nil
	}
	in, err := p.take(ctx, rec, rows)
	if err != nil {
		return err
	}
	defer in.Release()
	// The other side's times that can match: tr - tl in [j.lo, j.hi].
	var from, to int64
	if s == 0 {
		from, to = addSat(lo, j.lo), addSat(hi, j.hi)
	} else {
		from, to = addSat(lo, -j.hi), addSat(hi, -j.lo)
	}
	from = floorDiv(from, j.width) * j.width
	o := 1 - s
	cols := [2][]planner.Column{j.node.Left.Schema(), j.node.Right.Schema()}
	objs := [2]*catalog.Object{
		{Kind: catalog.ObjectTable, Name: "__join_left", Columns: catalogColumns(cols[0])},
		{Kind: catalog.ObjectTable, Name: "__join_right", Columns: catalogColumns(cols[1])},
	}
	join := *j.node
	join.Left = &planner.Scan{Object: objs[0], Columns: cols[0]}
	join.Right = &planner.Scan{Object: objs[1], Columns: cols[1]}
	in.Retain()
	own := map[*catalog.Object]opener{
		objs[s]: recordsOpener(cols[s], []arrow.Record{in}),
		objs[o]: func(c []int) (exec.Operator, error) {
			return &chunkScan{p: p, schema: exec.SchemaOf(cols[o]), cols: c, prefix: joinPrefix[o], from: from, to: to}, nil
		},
	}
	if err := p.runPlan(ctx, p.replace(&join), own); err != nil {
		return err
	}
	return p.putChunks(ctx, joinPrefix[s], in, times, j.width)
}

// checkpoint drops the rows no future row can match.
func (j *streamJoin) checkpoint(ctx context.Context) error {
	wm := j.p.m.Watermark
	if wm == math.MinInt64 {
		return nil
	}
	b := j.p.epochBatch()
	// Left rows with tl < wm - hi, right rows with tr < wm + lo.
	for s, limit := range [2]int64{addSat(wm, -j.hi), addSat(wm, j.lo)} {
		prefix := joinPrefix[s]
		end := prefixEnd(prefix)
		if limit != math.MaxInt64 {
			// Buckets that end at or before limit: start <= limit - width.
			first := addSat(limit, -j.width)
			if first == math.MinInt64 {
				continue
			}
			end = chunkBound(prefix, first+1)
		}
		if err := b.DeleteRange([]byte(prefix), end, nil); err != nil {
			return err
		}
	}
	return nil
}
