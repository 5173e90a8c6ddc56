package exec

import (
	"context"
	"fmt"
	"slices"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/exec/expr"
)

// AggSpec is one aggregate of a HashAggregate: Kind over Args, over
// distinct argument tuples when Distinct, over the rows where Filter is
// TRUE when Filter is set, fed in OrderBy order when OrderBy is set (it
// matters for string_agg, first and last). Type is the result type.
type AggSpec struct {
	Kind     AggKind
	Args     []expr.Evaluator
	Distinct bool
	Filter   expr.Evaluator
	OrderBy  []SortKey
	Type     arrow.DataType
}

// GroupWindowKind is the kind of a group window.
type GroupWindowKind int

// The group windows of GROUP BY TUMBLE/HOP/SESSION.
const (
	WindowTumble GroupWindowKind = iota
	WindowHop
	WindowSession
)

// GroupWindow is the time window of a windowed aggregation: Time is a
// TIMESTAMP expression; Size, Slide and Gap are in microseconds. A window
// is [start, end); rows whose time is NULL belong to no window.
type GroupWindow struct {
	Kind  GroupWindowKind
	Time  expr.Evaluator
	Size  int64
	Slide int64
	Gap   int64
}

// HashAggregate groups its input by key expressions and computes
// aggregates per group, batch at a time: keys are hashed column-wise,
// group ids assigned by a keyTable, and each aggregate folds whole
// columns into column-wise state. Without GROUP BY it yields exactly one
// row, also over no input (count 0, other aggregates NULL).
//
// Output columns: the group keys, window_start and window_end when a group
// window is set, then one column per aggregate.
//
// It is a pipeline breaker over a bounded input. In a stream, the stream
// runtime keeps windowed state in Pebble: a watermark would emit and drop
// the windows that end at or before it, and a barrier would snapshot the
// groups; this operator reports either as an error rather than buffer them
// unnoticed.
type HashAggregate struct {
	input   Operator
	groupBy []expr.Evaluator
	window  *GroupWindow
	aggs    []AggSpec
	schema  *arrow.Schema
	mem     *Memory
	acct    memAccount
	hs      *hasher

	table   *keyTable
	runs    []*aggRun
	groups  []uint32
	rows    int64
	ends    []int64 // per group: SESSION window end
	out     chunker
	done    bool
	session bufferedInput
}

type aggRun struct {
	spec     AggSpec
	state    aggState
	distinct *keyTable
	ordered  *bufferedInput
	gbuf     []uint32
	dbuf     []uint32
	held     int64
}

// NewHashAggregate returns the aggregation of input; schema names the
// output columns (keys, window bounds, aggregates) and must have their
// types.
func NewHashAggregate(input Operator, groupBy []expr.Evaluator, window *GroupWindow, aggs []AggSpec, schema *arrow.Schema, mem *Memory) *HashAggregate {
	return &HashAggregate{input: input, groupBy: groupBy, window: window, aggs: aggs, schema: schema,
		mem: mem, acct: memAccount{mem: mem, owner: "GROUP BY"}, hs: newHasher()}
}

// Schema implements Operator.
func (a *HashAggregate) Schema() *arrow.Schema { return a.schema }

func (a *HashAggregate) scalar() bool { return len(a.groupBy) == 0 && a.window == nil }

// Open implements Operator.
func (a *HashAggregate) Open(ctx context.Context) error {
	nk := len(a.groupBy)
	if a.window != nil {
		nk += 2
	}
	if a.schema.NumFields() != nk+len(a.aggs) {
		return fmt.Errorf("exec: aggregation output has %d columns, want %d", a.schema.NumFields(), nk+len(a.aggs))
	}
	var types []arrow.DataType
	for i, g := range a.groupBy {
		if !arrow.TypeEqual(g.Type(), a.schema.Field(i).Type) {
			return fmt.Errorf("exec: group key %d is %s, the output column %s", i+1, g.Type(), a.schema.Field(i).Type)
		}
		types = append(types, g.Type())
	}
	if w := a.window; w != nil {
		if w.Time.Type().ID() != arrow.TIMESTAMP {
			return fmt.Errorf("exec: window time is %s, not a TIMESTAMP", w.Time.Type())
		}
		if (w.Kind != WindowSession && w.Size <= 0) || (w.Kind == WindowHop && w.Slide <= 0) || (w.Kind == WindowSession && w.Gap <= 0) {
			return fmt.Errorf("exec: window size, slide and gap must be positive")
		}
		types = append(types, w.Time.Type())
	}
	if !a.scalar() {
		t, err := newKeyTable(a.hs, types)
		if err != nil {
			return err
		}
		a.table = t
	}
	for i, s := range a.aggs {
		argTypes := make([]arrow.DataType, len(s.Args))
		for j, e := range s.Args {
			argTypes[j] = e.Type()
		}
		st, err := newAggState(s.Kind, argTypes, s.Type, a.hs)
		if err != nil {
			return err
		}
		if f := a.schema.Field(nk + i); !arrow.TypeEqual(f.Type, s.Type) {
			return fmt.Errorf("exec: aggregate %s gives %s, the output column %q is %s", s.Kind, s.Type, f.Name, f.Type)
		}
		r := &aggRun{spec: s, state: st}
		if s.Distinct && s.Kind != AggCountStar {
			if r.distinct, err = newKeyTable(a.hs, append([]arrow.DataType{arrow.PrimitiveTypes.Int32}, argTypes...)); err != nil {
				return err
			}
		}
		if len(s.OrderBy) > 0 && s.Kind.orderSensitive() {
			r.ordered = &bufferedInput{}
		}
		a.runs = append(a.runs, r)
	}
	return a.input.Open(ctx)
}

// groupArray wraps group ids as an INT32 array (notFound reads as -1)
// without copying; it must not outlive groups.
func groupArray(groups []uint32) arrow.Array {
	var b []byte
	if len(groups) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&groups[0])), len(groups)*4)
	}
	d := array.NewData(arrow.PrimitiveTypes.Int32, len(groups), []*memory.Buffer{nil, memory.NewBufferBytes(b)}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// withSkips returns groups with notFound for the rows where cond is not
// TRUE (a FILTER clause), in buf.
func withSkips(groups []uint32, cond arrow.Array, buf []uint32) []uint32 {
	buf = append(buf[:0], groups...)
	vals := boolValsOf(cond)
	v := validityOf(cond)
	isNull := physOf(cond.DataType()) == physNull
	for i := range buf {
		if isNull || !v.valid(i) || !vals.get(i) {
			buf[i] = notFound
		}
	}
	return buf
}

// distinctRows keeps, of each (group, argument tuple), only its first row.
func (r *aggRun) distinctRows(groups []uint32, args []arrow.Array) []uint32 {
	g := groupArray(groups)
	defer g.Release()
	cols := append([]arrow.Array{g}, args...)
	h := r.distinct.hs.hashRows(cols, len(groups), nil)
	skip := make([]bool, len(groups))
	for i, x := range groups {
		skip[i] = x == notFound
	}
	next := uint32(r.distinct.len())
	ids := r.distinct.insertHashed(cols, h, r.dbuf, skip)
	r.dbuf = ids
	out := make([]uint32, len(groups))
	for i, id := range ids {
		out[i] = notFound
		if id != notFound && id == next {
			out[i] = groups[i]
			next++
		}
	}
	return out
}

// feed folds one batch of rows with their group ids into an aggregate.
func (a *HashAggregate) feed(ctx context.Context, r *aggRun, rec arrow.Record, groups []uint32) error {
	g := groups
	if f := r.spec.Filter; f != nil {
		c, err := f.Eval(ctx, rec)
		if err != nil {
			return err
		}
		r.gbuf = withSkips(groups, c, r.gbuf)
		c.Release()
		g = r.gbuf
	}
	args, err := evalAll(ctx, r.spec.Args, rec)
	if err != nil {
		return err
	}
	defer releaseArrays(args)
	if r.distinct != nil {
		g = r.distinctRows(g, args)
	}
	if r.ordered == nil {
		if r.spec.Kind == AggCountStar {
			return r.state.update(g, nil)
		}
		return r.state.update(g, args)
	}
	return a.bufferOrdered(ctx, r, rec, g, args)
}

// bufferOrdered keeps the rows of an ORDER BY aggregate (group id,
// arguments, order keys) until the end of the input.
func (a *HashAggregate) bufferOrdered(ctx context.Context, r *aggRun, rec arrow.Record, g []uint32, args []arrow.Array) error {
	keys, err := evalAll(ctx, keyExprs(r.spec.OrderBy), rec)
	if err != nil {
		return err
	}
	sel := make([]int32, 0, len(g))
	for i, x := range g {
		if x != notFound {
			sel = append(sel, int32(i))
		}
	}
	gs := make([]int32, len(sel))
	for i, j := range sel {
		gs[i] = int32(g[j])
	}
	cols := []arrow.Array{makeFixed(a.mem.Alloc, arrow.PrimitiveTypes.Int32, gs, nil)}
	for _, x := range append(args, keys...) {
		t, err := takeArray(a.mem.Alloc, x, sel)
		if err != nil {
			releaseArrays(cols)
			releaseArrays(keys)
			return err
		}
		cols = append(cols, t)
	}
	releaseArrays(keys)
	// The buffered "record" is the group column followed by the arguments;
	// the order keys are its keys.
	na := 1 + len(args)
	fields := make([]arrow.Field, na)
	for i := range fields {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: cols[i].DataType(), Nullable: true}
	}
	buf := newRecord(arrow.NewSchema(fields, nil), cols[:na], len(sel))
	keyCols := append([]arrow.Array(nil), cols[na:]...)
	n := r.ordered.add(buf, keyCols)
	r.held += n
	return nil
}

// flushOrdered sorts the buffered rows of an ORDER BY aggregate by group
// and order keys and folds them in that order.
func (a *HashAggregate) flushOrdered(r *aggRun) error {
	if r.ordered.rows == 0 {
		r.ordered.release()
		return nil
	}
	schema := r.ordered.recs[0].Schema()
	types := make([]arrow.DataType, len(r.spec.OrderBy))
	for i, k := range r.spec.OrderBy {
		types[i] = k.Expr.Type()
	}
	rec, keys, err := r.ordered.concat(a.mem, schema, types)
	if err != nil {
		return err
	}
	defer rec.Release()
	defer releaseArrays(keys)
	spec := append([]SortKey{{}}, r.spec.OrderBy...)
	perm, err := sortPerm(append([]arrow.Array{rec.Column(0)}, keys...), spec, int(rec.NumRows()))
	if err != nil {
		return err
	}
	sorted, err := takeRecord(a.mem.Alloc, nil, rec, perm)
	if err != nil {
		return err
	}
	defer sorted.Release()
	gs := fixedVals[int32](sorted.Column(0))
	groups := make([]uint32, len(gs))
	for i, g := range gs {
		groups[i] = uint32(g)
	}
	return r.state.update(groups, sorted.Columns()[1:])
}

// windowed applies the group window to a batch: it returns the rows (HOP
// repeats a row once per window it falls in; rows with a NULL time are
// dropped) and each row's window start.
func (a *HashAggregate) windowed(ctx context.Context, rec arrow.Record) (arrow.Record, arrow.Array, error) {
	w := a.window
	t, err := w.Time.Eval(ctx, rec)
	if err != nil {
		return nil, nil, err
	}
	defer t.Release()
	ts := fixedVals[int64](t)
	v := validityOf(t)
	n := int(rec.NumRows())
	var idx []int32
	var starts []int64
	for i := 0; i < n; i++ {
		if !v.valid(i) {
			continue
		}
		switch w.Kind {
		case WindowTumble:
			idx = append(idx, int32(i))
			starts = append(starts, floorDiv(ts[i], w.Size)*w.Size)
		case WindowHop:
			for s := floorDiv(ts[i], w.Slide) * w.Slide; s > ts[i]-w.Size; s -= w.Slide {
				idx = append(idx, int32(i))
				starts = append(starts, s)
			}
		}
	}
	out, err := takeRecord(a.mem.Alloc, nil, rec, idx)
	if err != nil {
		return nil, nil, err
	}
	return out, makeFixed(a.mem.Alloc, t.DataType(), starts, nil), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// addBatch groups one batch: starts, when not nil, is the window start of
// each row (an extra key), ends its SESSION window end.
func (a *HashAggregate) addBatch(ctx context.Context, rec arrow.Record, starts arrow.Array, ends []int64) error {
	n := int(rec.NumRows())
	a.rows += int64(n)
	ngroups := 1
	if a.scalar() {
		a.groups = grow(a.groups[:0], n)
		clear(a.groups)
	} else {
		keys, err := evalAll(ctx, a.groupBy, rec)
		if err != nil {
			return err
		}
		if starts != nil {
			keys = append(keys, starts)
			starts.Retain()
		}
		a.groups = a.table.insert(keys, n, a.groups)
		releaseArrays(keys)
		ngroups = a.table.len()
		if ends != nil {
			a.ends = grow(a.ends, ngroups)
			for i, g := range a.groups {
				a.ends[g] = max(a.ends[g], ends[i])
			}
		}
	}
	var held int64
	if a.table != nil {
		held = a.table.bytes()
	}
	for _, r := range a.runs {
		r.state.resize(ngroups)
		if err := a.feed(ctx, r, rec, a.groups); err != nil {
			return err
		}
		held += r.state.bytes() + r.held
		if r.distinct != nil {
			held += r.distinct.bytes()
		}
	}
	return a.acct.set(held)
}

func (a *HashAggregate) consume(ctx context.Context) error {
	if err := a.accumulate(ctx); err != nil {
		return err
	}
	return a.finish()
}

// accumulate reads the whole input into the groups' state.
func (a *HashAggregate) accumulate(ctx context.Context) error {
	var sessionBytes int64
	for {
		b, ok, err := a.input.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if b.Kind != BatchData {
			return controlError("GROUP BY", b)
		}
		rec := b.Rec
		if a.window != nil && a.window.Kind == WindowSession {
			sessionBytes += a.session.add(rec, nil)
			if err := a.acct.set(sessionBytes); err != nil {
				return err
			}
			continue
		}
		var starts arrow.Array
		if a.window != nil {
			r2, s, err := a.windowed(ctx, rec)
			rec.Release()
			if err != nil {
				return err
			}
			rec, starts = r2, s
		}
		err = a.addBatch(ctx, rec, starts, nil)
		rec.Release()
		if starts != nil {
			starts.Release()
		}
		if err != nil {
			return err
		}
	}
	if a.window != nil && a.window.Kind == WindowSession {
		return a.sessions(ctx)
	}
	return nil
}

// sessions assigns the buffered rows to SESSION windows, per group key: in
// time order, a row within Gap of the previous one extends its session.
// Then the rows are aggregated by key and session start.
func (a *HashAggregate) sessions(ctx context.Context) error {
	if a.session.rows == 0 {
		a.session.release()
		return nil
	}
	rec, _, err := a.session.concat(a.mem, a.input.Schema(), nil)
	if err != nil {
		return err
	}
	defer rec.Release()
	keys, err := evalAll(ctx, append(append([]expr.Evaluator(nil), a.groupBy...), a.window.Time), rec)
	if err != nil {
		return err
	}
	defer releaseArrays(keys)
	spec := make([]SortKey, len(keys))
	perm, err := sortPerm(keys, spec, int(rec.NumRows()))
	if err != nil {
		return err
	}
	same, err := eqCmp(keys[:len(keys)-1], keys[:len(keys)-1])
	if err != nil {
		return err
	}
	t := keys[len(keys)-1]
	ts := fixedVals[int64](t)
	tv := validityOf(t)
	n := int(rec.NumRows())
	starts := make([]int64, n)
	ends := make([]int64, n)
	keep := make([]int32, 0, n)
	gap := a.window.Gap
	for k := 0; k < len(perm); {
		i := int(perm[k])
		if !tv.valid(i) {
			k++
			continue
		}
		// One session: rows perm[k..e) of the same key, each within gap of
		// the previous.
		e := k + 1
		for e < len(perm) {
			j, p := int(perm[e]), int(perm[e-1])
			if !tv.valid(j) || same(j, i) != 0 || ts[j]-ts[p] >= gap {
				break
			}
			e++
		}
		start, end := ts[i], ts[int(perm[e-1])]+gap
		for _, j := range perm[k:e] {
			starts[j], ends[j] = start, end
			keep = append(keep, j)
		}
		k = e
	}
	slices.Sort(keep)
	kept, err := takeRecord(a.mem.Alloc, nil, rec, keep)
	if err != nil {
		return err
	}
	defer kept.Release()
	ks := make([]int64, len(keep))
	ke := make([]int64, len(keep))
	for i, j := range keep {
		ks[i], ke[i] = starts[j], ends[j]
	}
	sa := makeFixed(a.mem.Alloc, t.DataType(), ks, nil)
	defer sa.Release()
	return a.addBatch(ctx, kept, sa, ke)
}

// finish computes the output record.
func (a *HashAggregate) finish() error {
	for _, r := range a.runs {
		if r.ordered != nil {
			if err := a.flushOrdered(r); err != nil {
				return err
			}
		}
	}
	n := 1
	var cols []arrow.Array
	if a.scalar() {
		for _, r := range a.runs {
			r.state.resize(1)
		}
	} else {
		n = a.table.len()
		keys, err := a.table.keys(a.mem.Alloc, 0, n)
		if err != nil {
			return err
		}
		cols = keys
		if w := a.window; w != nil {
			starts := fixedVals[int64](keys[len(keys)-1])
			ends := make([]int64, n)
			for g := range ends {
				switch w.Kind {
				case WindowSession:
					ends[g] = a.ends[g]
				default:
					ends[g] = starts[g] + w.Size
				}
			}
			cols = append(cols, makeFixed(a.mem.Alloc, keys[len(keys)-1].DataType(), ends, nil))
		}
	}
	for _, r := range a.runs {
		res, err := r.state.finish(a.mem.Alloc, n)
		if err != nil {
			releaseArrays(cols)
			return err
		}
		cols = append(cols, res)
	}
	out := newRecord(a.schema, cols, n)
	a.out = chunker{rec: out, size: DefaultBatchSize}
	return nil
}

// Next implements Operator.
func (a *HashAggregate) Next(ctx context.Context) (Batch, bool, error) {
	if !a.done {
		a.done = true
		if err := a.consume(ctx); err != nil {
			return Batch{}, false, err
		}
	}
	r, ok := a.out.next()
	if !ok {
		return Batch{}, false, nil
	}
	return Batch{Kind: BatchData, Rec: r}, true, nil
}

// Close implements Operator.
func (a *HashAggregate) Close() error {
	a.out.release()
	a.session.release()
	for _, r := range a.runs {
		if r.ordered != nil {
			r.ordered.release()
		}
	}
	a.runs = nil
	a.table = nil
	a.acct.close()
	return a.input.Close()
}
