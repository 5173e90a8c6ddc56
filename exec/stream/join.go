package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cockroachdb/pebble"

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
// A LEFT JOIN also writes each left row that matched nothing, with NULLs
// for the right side's columns, once the watermark makes it unmatchable
// (when it is dropped); a left row whose time is NULL at once. Its left
// rows carry an id, and the ids of the rows that matched (or were written
// unmatched) are kept in j/m/ until their bucket is dropped.
//
//	j/0/<bucket start><seq>    left rows (Arrow IPC; with a trailing id column for a LEFT JOIN)
//	j/1/<bucket start><seq>    right rows
//	j/m/<bucket start><id>     left rows of a LEFT JOIN that matched
const (
	joinLeft    = "j/0/"
	joinRight   = "j/1/"
	joinMatched = "j/m/"
)

// joinPrefix is the key prefix of the rows of side s (0 left, 1 right).
func joinPrefix(s int) string {
	if s == 0 {
		return joinLeft
	}
	return joinRight
}

type streamJoin struct {
	p      *Pipeline
	node   *planner.Join
	side   []side
	times  [2]expr.Evaluator
	lo, hi int64
	width  int64
	// outer: a LEFT JOIN. Its probe is an inner join whose left input
	// has the id column after the left columns (probe, probeLeft).
	outer     bool
	nLeft     int
	probe     *planner.Join
	probeLeft []planner.Column
}

// newJoin makes the interval join of a Join node whose inputs each read
// one stream.
func (p *Pipeline) newJoin(j *planner.Join) (*streamJoin, error) {
	if j.Kind != planner.InnerJoin && j.Kind != planner.LeftJoin {
		return nil, fmt.Errorf("pipeline %q: a %s JOIN of two streams is not supported yet; only an inner or a left join", p.spec.Name, j.Kind)
	}
	sj := &streamJoin{p: p, node: j, outer: j.Kind == planner.LeftJoin, nLeft: len(j.Left.Schema())}
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
	if sj.outer {
		sj.probeLeft = append(append([]planner.Column(nil), j.Left.Schema()...), planner.Column{Name: "__row_id", Type: catalog.Int64})
		pr := *j
		pr.Kind = planner.InnerJoin
		pr.Cond = planner.RewriteExpr(j.Cond, func(e planner.Expr) planner.Expr {
			if r, ok := e.(*planner.ColRef); ok && r.Index >= nLeft {
				c := *r
				c.Index++
				return &c
			}
			return e
		})
		pr.Columns = append(append(append([]planner.Column(nil), j.Columns[:nLeft]...), sj.probeLeft[nLeft]), j.Columns[nLeft:]...)
		sj.probe = &pr
	}
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
	iv, ok, err := p.constInterval(e)
	if err != nil || !ok || iv.Months != 0 {
		return 0, false
	}
	return int64(iv.Days)*86400e6 + iv.Nanoseconds/1000, true
}

// constInterval evaluates a constant expression; ok is false when its
// value is not an INTERVAL or is NULL.
func (p *Pipeline) constInterval(e planner.Expr) (iv arrow.MonthDayNanoInterval, ok bool, err error) {
	ev, err := p.spec.Compile(e, arrow.NewSchema(nil, nil))
	if err != nil {
		return iv, false, err
	}
	rec := array.NewRecord(arrow.NewSchema(nil, nil), nil, 1)
	defer rec.Release()
	a, err := ev.Eval(context.Background(), rec)
	if err != nil {
		return iv, false, err
	}
	defer a.Release()
	ivs, ok := a.(*array.MonthDayNanoInterval)
	if !ok || ivs.IsNull(0) {
		return iv, false, nil
	}
	return ivs.Value(0), true, nil
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
	var rows, nulls []int32
	var times []int64
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := 0; i < ts.Len(); i++ {
		if ts.IsNull(i) {
			nulls = append(nulls, int32(i)) // a NULL time matches nothing
			continue
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
	if j.outer && s == 0 && len(nulls) > 0 {
		un, err := p.take(ctx, rec, nulls)
		if err != nil {
			return err
		}
		out, err := j.unmatched(un)
		un.Release()
		if err != nil {
			return err
		}
		if err := p.runUpper(ctx, j.node.Columns, []arrow.Record{out}); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return nil
	}
	in, err := p.take(ctx, rec, rows)
	if err != nil {
		return err
	}
	if j.outer && s == 0 {
		ids := array.NewInt64Builder(p.spec.Mem.Alloc)
		for range rows {
			p.m.Seq++
			ids.Append(int64(p.m.Seq))
		}
		idArr := ids.NewArray()
		ids.Release()
		withID := appendColumn(in, "__row_id", idArr)
		idArr.Release()
		in.Release()
		in = withID
	}
	defer in.Release()
	if j.outer {
		return j.addOuter(ctx, s, in, times, lo, hi)
	}
	join := *j.node
	var own map[*catalog.Object]opener
	join.Left, join.Right, own = j.probeInputs(s, in, lo, hi, j.node.Left.Schema())
	if err := p.runPlan(ctx, p.replace(&join), own); err != nil {
		return err
	}
	return p.putChunks(ctx, joinPrefix(s), in, times, j.width)
}

// probeInputs returns the two inputs of a join that probes side s's rows
// in (times in [lo, hi]; retained here for the probe) against the other
// side's kept rows whose time the bound allows, and the openers that feed
// them. leftCols are the left input's columns.
func (j *streamJoin) probeInputs(s int, in arrow.Record, lo, hi int64, leftCols []planner.Column) (left, right *planner.Scan, own map[*catalog.Object]opener) {
	// The other side's times that can match: tr - tl in [j.lo, j.hi].
	var from, to int64
	if s == 0 {
		from, to = addSat(lo, j.lo), addSat(hi, j.hi)
	} else {
		from, to = addSat(lo, -j.hi), addSat(hi, -j.lo)
	}
	from = floorDiv(from, j.width) * j.width
	o := 1 - s
	cols := [2][]planner.Column{leftCols, j.node.Right.Schema()}
	objs := [2]*catalog.Object{
		{Kind: catalog.ObjectTable, Name: "__join_left", Columns: catalogColumns(cols[0])},
		{Kind: catalog.ObjectTable, Name: "__join_right", Columns: catalogColumns(cols[1])},
	}
	in.Retain()
	own = map[*catalog.Object]opener{
		objs[s]: recordsOpener(cols[s], []arrow.Record{in}),
		objs[o]: func(c []int) (exec.Operator, error) {
			return &chunkScan{storedRows: storedRows{p: j.p, schema: exec.SchemaOf(cols[o]), cols: c, check: true}, prefix: joinPrefix(o), from: from, to: to}, nil
		},
	}
	return &planner.Scan{Object: objs[0], Columns: cols[0]}, &planner.Scan{Object: objs[1], Columns: cols[1]}, own
}

// checkpoint drops the rows no future row can match.
func (j *streamJoin) checkpoint(ctx context.Context) error {
	wm := j.p.m.Watermark
	if wm == math.MinInt64 {
		return nil
	}
	b := j.p.epochBatch()
	if j.outer {
		if err := j.emitUnmatched(ctx, addSat(wm, -j.hi)); err != nil {
			return err
		}
	}
	// Left rows with tl < wm - hi (and their marks), right rows with tr <
	// wm + lo.
	limits := [...]int64{addSat(wm, -j.hi), addSat(wm, j.lo), addSat(wm, -j.hi)}
	for s, prefix := range [...]string{joinLeft, joinRight, joinMatched} {
		limit := limits[s]
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

// addOuter is add for a LEFT JOIN: the probe is an inner join whose left
// rows carry their ids; the left rows that match are marked, and the
// pairs go through the plan above the join. in is the file's rows of
// side s (the left ones with their ids), not released.
func (j *streamJoin) addOuter(ctx context.Context, s int, in arrow.Record, times []int64, lo, hi int64) error {
	p := j.p
	probe := *j.probe
	var own map[*catalog.Object]opener
	probe.Left, probe.Right, own = j.probeInputs(s, in, lo, hi, j.probeLeft)
	var pairs []arrow.Record
	defer func() {
		for _, r := range pairs {
			r.Release()
		}
	}()
	err := p.drivePlan(ctx, &probe, own, func(rec arrow.Record) error {
		if err := j.mark(ctx, rec); err != nil {
			return err
		}
		pairs = append(pairs, dropColumn(rec, j.nLeft))
		return nil
	})
	if err != nil {
		return err
	}
	if len(pairs) > 0 {
		recs := pairs
		pairs = nil
		if err := p.runUpper(ctx, j.node.Columns, recs); err != nil {
			return err
		}
	}
	return p.putChunks(ctx, joinPrefix(s), in, times, j.width)
}

// mark records that the left rows of the probe's output rec matched.
func (j *streamJoin) mark(ctx context.Context, rec arrow.Record) error {
	ts, err := timesOf(ctx, j.times[0], rec)
	if err != nil {
		return err
	}
	defer ts.Release()
	ids := rec.Column(j.nLeft).(*array.Int64)
	b := j.p.epochBatch()
	for i := 0; i < ids.Len(); i++ {
		if err := b.Set(j.markKey(int64(ts.Value(i)), ids.Value(i)), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

func (j *streamJoin) markKey(t, id int64) []byte {
	return binary.BigEndian.AppendUint64(timeKey([]byte(joinMatched), floorDiv(t, j.width)*j.width), uint64(id))
}

// dropColumn returns rec without column c (a new reference).
func dropColumn(rec arrow.Record, c int) arrow.Record {
	fields := append(append([]arrow.Field(nil), rec.Schema().Fields()[:c]...), rec.Schema().Fields()[c+1:]...)
	cols := append(append([]arrow.Array(nil), rec.Columns()[:c]...), rec.Columns()[c+1:]...)
	return array.NewRecord(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

// unmatched makes the join's rows of left rows that matched nothing: the
// left columns (an id column after them is left out) and NULLs.
func (j *streamJoin) unmatched(left arrow.Record) (arrow.Record, error) {
	n := left.NumRows()
	cols := append([]arrow.Array(nil), left.Columns()[:j.nLeft]...)
	var nulls []arrow.Array
	defer func() { releaseAll(nulls) }()
	for _, c := range j.node.Columns[j.nLeft:] {
		a := array.MakeArrayOfNull(j.p.spec.Mem.Alloc, exec.SchemaOf([]planner.Column{c}).Field(0).Type, int(n))
		nulls = append(nulls, a)
		cols = append(cols, a)
	}
	return array.NewRecord(exec.SchemaOf(j.node.Columns), cols, n), nil
}

// emitUnmatched writes the left rows before limit that matched nothing,
// and marks them.
func (j *streamJoin) emitUnmatched(ctx context.Context, limit int64) error {
	p := j.p
	b := p.epochBatch()
	it, err := p.chunksBefore(joinLeft, limit)
	if err != nil {
		return err
	}
	var out []arrow.Record
	defer func() { exec.ReleaseRecords(out) }()
	want := exec.SchemaOf(j.probeLeft)
	for it.First(); it.Valid(); it.Next() {
		rec, err := decodeRecord(bytes.Clone(it.Value()), p.spec.Mem.Alloc)
		if err == nil {
			if err = sameColumns(rec.Schema(), want); err == nil {
				var o arrow.Record
				if o, err = j.unmatchedOf(ctx, b, rec, limit); err == nil && o != nil {
					out = append(out, o)
				}
			}
			rec.Release()
		}
		if err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	recs := out
	out = nil
	return p.runUpper(ctx, j.node.Columns, recs)
}

// unmatchedOf returns the join's rows of the left rows of a chunk before
// limit that are not marked (nil for none), and marks them.
func (j *streamJoin) unmatchedOf(ctx context.Context, b *pebble.Batch, rec arrow.Record, limit int64) (arrow.Record, error) {
	ts, err := timesOf(ctx, j.times[0], rec)
	if err != nil {
		return nil, err
	}
	defer ts.Release()
	ids := rec.Column(j.nLeft).(*array.Int64)
	var sel []int32
	for i := 0; i < ids.Len(); i++ {
		t := int64(ts.Value(i))
		if t >= limit {
			continue
		}
		k := j.markKey(t, ids.Value(i))
		_, closer, err := b.Get(k)
		if err == nil {
			closer.Close()
			continue
		}
		if !errors.Is(err, pebble.ErrNotFound) {
			return nil, err
		}
		if err := b.Set(k, nil, nil); err != nil {
			return nil, err
		}
		sel = append(sel, int32(i))
	}
	if len(sel) == 0 {
		return nil, nil
	}
	rows, err := j.p.take(ctx, rec, sel)
	if err != nil {
		return nil, err
	}
	defer rows.Release()
	return j.unmatched(rows)
}
