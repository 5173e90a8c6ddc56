package stream

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/cockroachdb/pebble"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// Incremental window state. A TUMBLE or HOP aggregation whose aggregates
// all split into partial aggregates (count, sum, avg, min, max; see
// exec.SplitAggCall) keeps partial aggregates per (window, group key)
// (a HOP window per (pane, group key), see panes.go) instead of rows: each piece of input (a file, a Kafka fetch) is
// aggregated in memory into partial rows (group keys, window bounds,
// partial columns), and those are written to Pebble as Arrow records keyed
// by window end, key-hash partition, checkpoint and sequence. When the
// watermark passes a window's end, its partial rows are merged (the merge
// aggregates of exec.SplitAggCall), a few partitions at a time, so that
// memory holds at most mergeBudget partial rows whatever the number of
// live keys; the window's state is then deleted at the checkpoint.
const (
	partialPrefix = "w/"
	// partBits is the number of key-hash bits of a partial row's key: the
	// merge of one window reads 1<<partBits partitions, in order.
	partBits = 5
	// mergeBudget is the default size of the encoded partial records
	// merged at once (Options.MergeBytes; at least one whole partition of
	// one window is).
	mergeBudget = 32 << 20
)

// partialKey is the key of a partial record: the window end (order-
// preserving encoding of a signed int64), the key-hash partition, the
// checkpoint and a sequence.
func partialKey(end int64, part byte, epoch, seq uint64) []byte {
	k := make([]byte, 0, len(partialPrefix)+25)
	k = append(k, partialPrefix...)
	k = binary.BigEndian.AppendUint64(k, uint64(end)^(1<<63))
	k = append(k, part)
	k = binary.BigEndian.AppendUint64(k, epoch)
	return binary.BigEndian.AppendUint64(k, seq)
}

// partialBound is the first key of the partial records of windows ending
// at end.
func partialBound(end int64) []byte {
	k := append([]byte(partialPrefix), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(k[len(partialPrefix):], uint64(end)^(1<<63))
	return k
}

// partialEnd is the key just after every partial record.
func partialEnd() []byte { return []byte("w0") }

func decodePartialKey(k []byte) (end int64, part byte, epoch uint64) {
	k = k[len(partialPrefix):]
	return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)), k[8], binary.BigEndian.Uint64(k[9:])
}

// partialAgg is the two-phase form of a pipeline's window aggregation.
type partialAgg struct {
	// nGroup is the number of GROUP BY keys; the partial and merged rows
	// have them first, then window_start and window_end.
	nGroup int
	// keys are the group keys over the aggregation's input.
	keys []expr.Evaluator
	// partial are the partial aggregates over the aggregation's input,
	// producing partialSchema.
	partial       []exec.AggSpec
	partialSchema *arrow.Schema
	// mergeSchema is partialSchema with the checkpoint column at the end;
	// mergeKeys and merge group and merge it into outSchema (the
	// aggregation's columns, then the greatest checkpoint of the group).
	mergeSchema *arrow.Schema
	mergeKeys   []expr.Evaluator
	merge       []exec.AggSpec
	outSchema   *arrow.Schema
	nOut        int
	// pane is the pane width (µs) of a HOP window: gcd(size, slide). Each
	// row updates the partial rows of the one pane that holds it, and a
	// window's rows are the merge of its panes' (panes.go); 0 for TUMBLE,
	// whose partial rows are per window.
	pane int64
	// layout is the meta Layout of the state: layoutPartial, or
	// layoutPanes for a HOP window.
	layout string
}

// newPartialAgg returns the two-phase form of agg, or nil when one of its
// aggregates needs all rows or its window is a SESSION window (those keep
// rows).
func (p *Pipeline) newPartialAgg(agg *planner.Aggregate) (*partialAgg, error) {
	if !planner.PartialWindow(agg) {
		return nil, nil
	}
	splits := make([]exec.AggSplit, len(agg.Aggs))
	for i, a := range agg.Aggs {
		s, ok := exec.SplitAggCall(a)
		if !ok {
			return nil, nil
		}
		splits[i] = s
	}
	in := exec.SchemaOf(agg.Input.Schema())
	pa := &partialAgg{nGroup: len(agg.GroupBy)}
	var err error
	for _, g := range agg.GroupBy {
		ev, err := p.spec.Compile(g, in)
		if err != nil {
			return nil, err
		}
		pa.keys = append(pa.keys, ev)
	}
	nk := len(agg.GroupBy) + 2
	pcols := slices.Clone(agg.Columns[:nk])
	for i, s := range splits {
		a := agg.Aggs[i]
		args := make([]expr.Evaluator, len(s.Args))
		for j, e := range s.Args {
			if args[j], err = p.spec.Compile(e, in); err != nil {
				return nil, err
			}
		}
		var filter expr.Evaluator
		if a.Filter != nil {
			if filter, err = p.spec.Compile(a.Filter, in); err != nil {
				return nil, err
			}
		}
		var margs []expr.Evaluator
		for _, part := range s.Partials {
			pa.partial = append(pa.partial, exec.AggSpec{Kind: part.Kind, Args: args, Filter: filter, Type: part.Type.Arrow()})
			col := planner.Column{Name: fmt.Sprintf("__partial%d", len(pcols)), Type: part.Type, Nullable: true}
			margs = append(margs, &columnRef{i: len(pcols), t: part.Type.Arrow()})
			pcols = append(pcols, col)
		}
		pa.merge = append(pa.merge, exec.AggSpec{Kind: s.Merge, Args: margs, Type: a.T.Arrow()})
	}
	pa.partialSchema = exec.SchemaOf(pcols)
	epochCol := planner.Column{Name: "__checkpoint", Type: catalog.Int64}
	pa.mergeSchema = exec.SchemaOf(append(slices.Clone(pcols), epochCol))
	for i := 0; i < nk; i++ {
		pa.mergeKeys = append(pa.mergeKeys, &columnRef{i: i, t: pcols[i].Type.Arrow()})
	}
	pa.merge = append(pa.merge, exec.AggSpec{Kind: exec.AggMax, Args: []expr.Evaluator{&columnRef{i: len(pcols), t: arrow.PrimitiveTypes.Int64}},
		Type: arrow.PrimitiveTypes.Int64})
	pa.nOut = len(agg.Columns)
	pa.outSchema = exec.SchemaOf(append(slices.Clone(agg.Columns), epochCol))
	pa.layout = layoutPartial
	if w := p.win; w != nil && w.kind == planner.Hop {
		pa.pane, pa.layout = gcd(w.size, w.slide), layoutPanes
	}
	return pa, nil
}

// columnRef evaluates to a column of the batch.
type columnRef struct {
	i int
	t arrow.DataType
}

// Type implements expr.Evaluator.
func (c *columnRef) Type() arrow.DataType { return c.t }

// Eval implements expr.Evaluator.
func (c *columnRef) Eval(ctx context.Context, rec arrow.Record) (arrow.Array, error) {
	a := rec.Column(c.i)
	a.Retain()
	return a, nil
}

// lateFilter drops the rows of its input whose window time is NULL or
// behind the watermark (late rows, counted).
type lateFilter struct {
	exec.Operator
	p *Pipeline
}

// Next implements exec.Operator.
func (f *lateFilter) Next(ctx context.Context) (exec.Batch, bool, error) {
	b, ok, err := f.Operator.Next(ctx)
	if err != nil || !ok || b.Kind != exec.BatchData || b.Rec == nil {
		return b, ok, err
	}
	t, err := f.p.win.time.Eval(ctx, b.Rec)
	if err != nil {
		b.Rec.Release()
		return exec.Batch{}, false, err
	}
	defer t.Release()
	ts := t.(*array.Timestamp)
	wm := f.p.m.Watermark
	n := ts.Len()
	keep := 0
	vals := ts.TimestampValues()
	for i := 0; i < n; i++ {
		if ts.IsNull(i) {
			continue
		}
		if int64(vals[i]) < wm {
			f.p.m.Late++
			continue
		}
		keep++
	}
	if keep == n {
		return b, true, nil
	}
	mb := array.NewBooleanBuilder(f.p.spec.Mem.Alloc)
	defer mb.Release()
	mb.Reserve(n)
	for i := 0; i < n; i++ {
		mb.UnsafeAppend(ts.IsValid(i) && int64(vals[i]) >= wm)
	}
	mask := mb.NewArray()
	defer mask.Release()
	out, err := compute.FilterRecordBatch(ctx, b.Rec, mask, compute.DefaultFilterOptions())
	b.Rec.Release()
	if err != nil {
		return exec.Batch{}, false, err
	}
	b.Rec = out
	return b, true, nil
}

// aggregatePartial wraps the operators of the plan below the aggregation
// in the partial aggregation.
func (p *Pipeline) aggregatePartial(in exec.Operator) exec.Operator {
	w := p.win
	pa := p.partial
	gw := &exec.GroupWindow{Kind: exec.WindowTumble, Time: w.time, Size: w.size, Slide: w.slide}
	if pa.pane > 0 {
		// A HOP window: each row updates its pane only.
		gw.Size, gw.Slide = pa.pane, pa.pane
	}
	return exec.NewHashAggregate(&lateFilter{Operator: in, p: p}, pa.keys, gw, pa.partial, pa.partialSchema, p.spec.Mem)
}

// putPartials writes the partial rows of one piece of input (the
// records of one partial aggregation), as one record per (window end,
// key-hash partition).
func (p *Pipeline) putPartials(ctx context.Context, recs []arrow.Record) error {
	if len(recs) == 1 {
		return p.putPartial(ctx, recs[0])
	}
	cols := make([]arrow.Array, recs[0].NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, p.spec.Mem.Alloc)
		if err != nil {
			return err
		}
		cols[i] = c
	}
	rec := array.NewRecord(recs[0].Schema(), cols, n)
	defer rec.Release()
	return p.putPartial(ctx, rec)
}

// putPartial writes the partial rows of rec to the state, one record per
// (window end, key-hash partition), in one batch.
func (p *Pipeline) putPartial(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	pa := p.partial
	keys := make([]arrow.Array, pa.nGroup)
	for i := range keys {
		keys[i] = rec.Column(i)
	}
	p.hashes = exec.StableHash(keys, n, p.hashes)
	ends := rec.Column(pa.nGroup + 1).(*array.Timestamp).TimestampValues()
	// Order the rows by (window end, partition) with one Take, then write
	// each run of equal slots as a slice of the ordered record.
	type slotRow struct {
		end  int64
		part byte
		row  int32
	}
	order := make([]slotRow, n)
	for i := range order {
		order[i] = slotRow{int64(ends[i]), byte(p.hashes[i] >> (64 - partBits)), int32(i)}
	}
	slices.SortFunc(order, func(a, b slotRow) int {
		if a.end != b.end {
			return compareInt(a.end, b.end)
		}
		if a.part != b.part {
			return int(a.part) - int(b.part)
		}
		return int(a.row - b.row)
	})
	sorted := rec
	sorted.Retain()
	if order[0].row != 0 || !slices.IsSortedFunc(order, func(a, b slotRow) int { return int(a.row - b.row) }) {
		ib := array.NewInt32Builder(p.spec.Mem.Alloc)
		ib.Reserve(n)
		for _, o := range order {
			ib.UnsafeAppend(o.row)
		}
		ia := ib.NewArray()
		ib.Release()
		d, err := compute.Take(ctx, *compute.DefaultTakeOptions(), compute.NewDatum(rec), compute.NewDatum(ia))
		ia.Release()
		sorted.Release()
		if err != nil {
			return err
		}
		sorted = d.(*compute.RecordDatum).Value
	}
	defer sorted.Release()
	b := p.st.db.NewBatch()
	defer b.Close()
	var buf bytes.Buffer
	for i := 0; i < n; {
		j := i + 1
		for j < n && order[j].end == order[i].end && order[j].part == order[i].part {
			j++
		}
		part := sorted.NewSlice(int64(i), int64(j))
		buf.Reset()
		err := encodePartial(&buf, part)
		part.Release()
		if err != nil {
			return err
		}
		p.m.Seq++
		if err := b.Set(partialKey(order[i].end, order[i].part, p.epoch, p.m.Seq), buf.Bytes(), nil); err != nil {
			return err
		}
		i = j
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("writing pipeline state: %w", err)
	}
	p.buffered = true
	return nil
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// emitPartial emits the windows the watermark passed (and, with
// EmitUpdate, the changed groups of the windows still open) from the
// partial state, and deletes the emitted windows' state at the checkpoint.
func (p *Pipeline) emitPartial(ctx context.Context) error {
	if p.partial.pane > 0 {
		return p.emitPanes(ctx)
	}
	lo, hi := p.m.Emitted, p.m.Watermark
	out := &upperWriter{p: p, stream: !needsAllRows(p.spec.Plan, p.agg)}
	defer out.release()
	closedTo := partialEnd()
	if hi != math.MaxInt64 {
		closedTo = partialBound(hi + 1)
	}
	if hi > lo {
		if err := p.mergeRange(ctx, []byte(partialPrefix), closedTo, false, func(rec arrow.Record) error {
			return out.add(ctx, rec)
		}); err != nil {
			return err
		}
	}
	if p.opts.EmitUpdate && hi != math.MaxInt64 {
		if err := p.mergeRange(ctx, closedTo, partialEnd(), true, func(rec arrow.Record) error {
			return out.add(ctx, rec)
		}); err != nil {
			return err
		}
	}
	if err := out.flush(ctx); err != nil {
		return err
	}
	if hi > math.MinInt64 {
		p.deletes = append(p.deletes, [2][]byte{[]byte(partialPrefix), closedTo})
	}
	p.m.Emitted = hi
	return nil
}

// mergeRange merges the partial records with keys in [from, to), a few
// (window end, partition) groups at a time, and passes the merged rows to
// fn (columns of the aggregation). changed keeps only the groups with
// partial rows of the checkpoint being built and skips the partitions
// without.
func (p *Pipeline) mergeRange(ctx context.Context, from, to []byte, changed bool, fn func(arrow.Record) error) error {
	it, err := p.st.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: to})
	if err != nil {
		return err
	}
	defer it.Close()
	type raw struct {
		v     []byte
		epoch uint64
	}
	var (
		batch    []raw
		group    []raw
		rows     int
		curEnd   int64
		curPart  = -1
		groupNew bool
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recs := make([]arrow.Record, 0, len(batch))
		for _, r := range batch {
			rec, err := p.decodePartial(r.v, r.epoch)
			if err != nil {
				for _, x := range recs {
					x.Release()
				}
				return fmt.Errorf("reading pipeline state: %w", err)
			}
			recs = append(recs, rec)
		}
		batch, rows = batch[:0], 0
		return p.mergeRecords(ctx, recs, changed, fn)
	}
	endGroup := func() error {
		if len(group) == 1 && (!changed || groupNew) {
			// The rows of one partial record are distinct groups: no merge.
			rec, err := decodeRecord(group[0].v, p.spec.Mem.Alloc)
			if err != nil {
				return fmt.Errorf("reading pipeline state: %w", err)
			}
			out, err := p.finishPartial(rec)
			rec.Release()
			if err != nil {
				return err
			}
			defer out.Release()
			group, groupNew = group[:0], false
			return fn(out)
		}
		if len(group) > 0 && (!changed || groupNew) {
			batch = append(batch, group...)
			if rows >= p.opts.MergeBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		group, groupNew = group[:0], false
		return nil
	}
	for it.First(); it.Valid(); it.Next() {
		end, part, epoch := decodePartialKey(it.Key())
		if end != curEnd || int(part) != curPart {
			if err := endGroup(); err != nil {
				return err
			}
			curEnd, curPart = end, int(part)
		}
		v := bytes.Clone(it.Value())
		group = append(group, raw{v: v, epoch: epoch})
		rows += len(v)
		if epoch == p.epoch {
			groupNew = true
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if err := endGroup(); err != nil {
		return err
	}
	return flush()
}

// finishPartial computes the aggregation's rows from a partial record
// whose rows are distinct groups.
func (p *Pipeline) finishPartial(rec arrow.Record) (arrow.Record, error) {
	pa := p.partial
	nk := pa.nGroup + 2
	cols := make([]arrow.Array, 0, pa.nOut)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i := 0; i < nk; i++ {
		c := rec.Column(i)
		c.Retain()
		cols = append(cols, c)
	}
	for _, m := range pa.merge[:pa.nOut-nk] {
		args := make([]arrow.Array, len(m.Args))
		for j, a := range m.Args {
			args[j] = rec.Column(a.(*columnRef).i)
		}
		c, err := exec.FinishPartial(m.Kind, args, m.Type, p.spec.Mem.Alloc)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return array.NewRecord(exec.SchemaOf(p.agg.Columns), cols, rec.NumRows()), nil
}

// decodePartial decodes a partial record and appends its checkpoint
// column.
func (p *Pipeline) decodePartial(v []byte, epoch uint64) (arrow.Record, error) {
	rec, err := decodeRecord(v, p.spec.Mem.Alloc)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	n := int(rec.NumRows())
	b := array.NewInt64Builder(p.spec.Mem.Alloc)
	b.Reserve(n)
	for i := 0; i < n; i++ {
		b.UnsafeAppend(int64(epoch))
	}
	ep := b.NewArray()
	b.Release()
	defer ep.Release()
	cols := append(slices.Clone(rec.Columns()), ep)
	return array.NewRecord(p.partial.mergeSchema, cols, int64(n)), nil
}

// mergeRecords merges partial records (it owns them) into the
// aggregation's rows.
func (p *Pipeline) mergeRecords(ctx context.Context, recs []arrow.Record, changed bool, fn func(arrow.Record) error) error {
	pa := p.partial
	in := &recordsOp{schema: pa.mergeSchema, recs: recs}
	op := exec.NewHashAggregate(in, pa.mergeKeys, nil, pa.merge, pa.outSchema, p.spec.Mem)
	return exec.Drive(ctx, op, func(rec arrow.Record) error {
		cols := rec.Columns()[:pa.nOut]
		if !changed {
			r := array.NewRecord(exec.SchemaOf(p.agg.Columns), cols, rec.NumRows())
			defer r.Release()
			return fn(r)
		}
		eps := rec.Column(pa.nOut).(*array.Int64).Int64Values()
		mb := array.NewBooleanBuilder(p.spec.Mem.Alloc)
		defer mb.Release()
		keep := 0
		for _, e := range eps {
			ok := uint64(e) == p.epoch
			if ok {
				keep++
			}
			mb.Append(ok)
		}
		if keep == 0 {
			return nil
		}
		mask := mb.NewArray()
		defer mask.Release()
		r := array.NewRecord(exec.SchemaOf(p.agg.Columns), cols, rec.NumRows())
		defer r.Release()
		f, err := compute.FilterRecordBatch(ctx, r, mask, compute.DefaultFilterOptions())
		if err != nil {
			return err
		}
		defer f.Release()
		return fn(f)
	})
}

// needsAllRows reports whether the plan above the aggregation must see
// all of a checkpoint's window rows at once (a Sort or a Limit).
func needsAllRows(n planner.Node, agg *planner.Aggregate) bool {
	if n == planner.Node(agg) {
		return false
	}
	switch n.(type) {
	case *planner.Sort, *planner.Limit:
		return true
	}
	for _, c := range n.Children() {
		if needsAllRows(c, agg) {
			return true
		}
	}
	return false
}

// upperWriter runs the plan above the aggregation over window rows and
// writes its output: per batch of rows (stream), or over all of them at
// flush.
type upperWriter struct {
	p      *Pipeline
	stream bool
	recs   []arrow.Record
	rows   int64
}

func (u *upperWriter) add(ctx context.Context, rec arrow.Record) error {
	rec.Retain()
	u.recs = append(u.recs, rec)
	u.rows += rec.NumRows()
	if u.stream && u.rows >= upperBatch {
		return u.flush(ctx)
	}
	return nil
}

// upperBatch is the number of window rows the plan above the aggregation
// runs over at once when it need not see them all.
const upperBatch = 1 << 16

func (u *upperWriter) flush(ctx context.Context) error {
	if len(u.recs) == 0 {
		return nil
	}
	recs := u.recs
	u.recs, u.rows = nil, 0
	return u.p.writeUpper(ctx, recs)
}

func (u *upperWriter) release() {
	for _, r := range u.recs {
		r.Release()
	}
	u.recs = nil
}

// writeUpper runs the plan above the aggregation over window rows (it
// owns them) and writes its output to the sink.
func (p *Pipeline) writeUpper(ctx context.Context, recs []arrow.Record) error {
	aggObj := &catalog.Object{Kind: catalog.ObjectTable, Name: "__pipeline_windows", Columns: catalogColumns(p.agg.Columns)}
	upper := p.replace(&planner.Scan{Object: aggObj, Columns: p.agg.Columns})
	r := &router{fallback: p.spec.Scans, own: map[*catalog.Object]func([]int) (exec.Operator, error){
		aggObj: func(cols []int) (exec.Operator, error) {
			o := &recordsOp{schema: exec.SchemaOf(p.agg.Columns), recs: recs, cols: cols}
			recs = nil
			return o, nil
		},
	}}
	op, err := p.spec.Build(ctx, upper, r, p.quarantineFunc())
	if err != nil {
		for _, r := range recs {
			r.Release()
		}
		return err
	}
	return exec.Drive(ctx, op, func(rec arrow.Record) error { return p.write(ctx, rec) })
}

// encodePartial writes rec as an Arrow IPC stream into buf.
func encodePartial(buf *bytes.Buffer, rec arrow.Record) error {
	w := ipc.NewWriter(buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return err
	}
	return w.Close()
}
