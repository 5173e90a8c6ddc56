package stream

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cockroachdb/pebble"
)

// Pane-based HOP windows. A HOP window of size S sliding by D overlaps
// S/D others, so keeping partial rows per window would make every row
// update each of the windows that hold it. Instead the time axis is cut
// into panes of width gcd(S, D), aligned as the windows are (window starts
// are multiples of D, so every window is a whole number of panes): each
// row updates the partial rows of its one pane (the partial aggregation of
// a file is a TUMBLE over the pane width), written like a TUMBLE window's,
// keyed by pane end, key-hash partition, checkpoint and sequence. When the
// watermark passes a window's end, the window's rows are the merge of the
// partial rows of its S/gcd panes, one key-hash partition at a time (the
// pane rows' bounds replaced by the window's). A pane is deleted, at the
// checkpoint, once every window holding it was emitted.

// layoutPanes is the meta Layout of pane-based HOP window state: its
// partial rows are per pane, not per window (layoutPartial), so neither
// can resume from the other.
const layoutPanes = "partial-panes-v1"

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// emitPanes emits the HOP windows the watermark passed (and, with
// EmitUpdate, the changed groups of the windows still open) from the pane
// state, and deletes, at the checkpoint, the panes no open window holds.
func (p *Pipeline) emitPanes(ctx context.Context) error {
	lo, hi := p.m.Emitted, p.m.Watermark
	out := &upperWriter{p: p, stream: !needsAllRows(p.spec.Plan, p.agg)}
	defer out.release()
	panes, err := p.paneEnds()
	if err != nil {
		return err
	}
	add := func(rec arrow.Record) error { return out.add(ctx, rec) }
	if hi > lo {
		if err := p.mergeWindows(ctx, panes, p.windowEnds(panes, lo, hi), false, add); err != nil {
			return err
		}
	}
	if p.opts.EmitUpdate && hi != math.MaxInt64 {
		if err := p.mergeWindows(ctx, panes, p.windowEnds(panes, hi, math.MaxInt64), true, add); err != nil {
			return err
		}
	}
	if err := out.flush(ctx); err != nil {
		return err
	}
	if to := p.deadPanes(hi); to != nil {
		p.deletes = append(p.deletes, [2][]byte{[]byte(partialPrefix), to})
	}
	p.m.Emitted = hi
	return nil
}

// deadPanes is the key before which every pane is in windows ending at or
// before the watermark hi only (all emitted), nil for none.
func (p *Pipeline) deadPanes(hi int64) []byte {
	w := p.win
	switch {
	case hi == math.MaxInt64:
		return partialEnd()
	case hi < math.MinInt64+w.size:
		return nil
	}
	// The first window still open starts at s1 (a multiple of the slide,
	// so of the pane): a pane starting before s1, that is ending at or
	// before it, is in no open window.
	s1 := (floorDiv(hi-w.size, w.slide) + 1) * w.slide
	return partialBound(s1 + 1)
}

// paneEnds returns the ends of the panes with partial rows, in order.
func (p *Pipeline) paneEnds() ([]int64, error) {
	it, err := p.st.db.NewIter(&pebble.IterOptions{LowerBound: []byte(partialPrefix), UpperBound: partialEnd()})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var ends []int64
	for valid := it.First(); valid; {
		end, _, _ := decodePartialKey(it.Key())
		ends = append(ends, end)
		if end == math.MaxInt64 {
			break
		}
		valid = it.SeekGE(partialBound(end + 1))
	}
	return ends, it.Error()
}

// windowEnds returns the ends, in (lo, hi] and in order, of the windows
// that hold at least one of the panes ending at panes.
func (p *Pipeline) windowEnds(panes []int64, lo, hi int64) []int64 {
	w, pane := p.win, p.partial.pane
	var ends []int64
	for _, pe := range panes {
		// The windows holding the pane [ps, pe) start at the multiples of
		// the slide in (ps - size, ps].
		ps := pe - pane
		for s := floorDiv(ps, w.slide) * w.slide; s > ps-w.size; s -= w.slide {
			if e := s + w.size; e > lo && e <= hi {
				ends = append(ends, e)
			}
		}
	}
	slices.Sort(ends)
	return slices.Compact(ends)
}

// mergeWindows merges, for each window ending at ends, the partial rows of
// its panes (panes are the ends of the panes with partial rows) and passes
// the window's rows to fn. It goes one key-hash partition at a time, and
// within it window by window, so that a pane's partial rows are read and
// decoded once for all the windows that hold it, and memory holds the
// panes of one window's partition (and at most about Options.MergeBytes of
// rows waiting to be merged). changed keeps only the groups with partial
// rows of the checkpoint being built.
func (p *Pipeline) mergeWindows(ctx context.Context, panes, ends []int64, changed bool, fn func(arrow.Record) error) error {
	if len(ends) == 0 {
		return nil
	}
	it, err := p.st.db.NewIter(&pebble.IterOptions{LowerBound: []byte(partialPrefix), UpperBound: partialEnd()})
	if err != nil {
		return err
	}
	defer it.Close()
	m := &paneMerger{p: p, changed: changed, fn: fn}
	defer m.release()
	size := p.win.size
	for part := 0; part < 1<<partBits; part++ {
		for _, e := range ends {
			// The window's panes end in (e - size, e]; those before are
			// needed by no later window.
			first, _ := slices.BinarySearch(panes, e-size+1)
			last, _ := slices.BinarySearch(panes, e+1)
			m.evict(e - size)
			for _, pe := range panes[first:last] {
				if err := m.load(it, pe, byte(part)); err != nil {
					return err
				}
			}
			if err := m.window(ctx, e-size, e, panes[first:last]); err != nil {
				return err
			}
		}
		m.evict(math.MaxInt64)
		if err := m.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// paneMerger merges the panes of windows, one key-hash partition at a
// time: it holds the decoded partial records of the partition's panes the
// windows being merged need, and the window rows waiting to be merged.
type paneMerger struct {
	p       *Pipeline
	changed bool
	fn      func(arrow.Record) error
	// panes are the loaded panes of the partition, by pane end.
	panes map[int64][]paneRecord
	// batch are window rows (mergeSchema) to merge, of about bytes.
	batch []arrow.Record
	bytes int
}

// paneRecord is one decoded partial record of a pane, of checkpoint epoch.
type paneRecord struct {
	rec   arrow.Record
	epoch uint64
}

// load reads the partial records of pane end pe, partition part, unless
// they are loaded.
func (m *paneMerger) load(it *pebble.Iterator, pe int64, part byte) error {
	if m.panes == nil {
		m.panes = map[int64][]paneRecord{}
	}
	if _, ok := m.panes[pe]; ok {
		return nil
	}
	from := partialKey(pe, part, 0, 0)
	prefix := from[:len(from)-16]
	var recs []paneRecord
	for valid := it.SeekGE(from); valid && bytes.HasPrefix(it.Key(), prefix); valid = it.Next() {
		_, _, epoch := decodePartialKey(it.Key())
		rec, err := decodeRecord(it.Value(), m.p.spec.Mem.Alloc)
		if err != nil {
			m.panes[pe] = recs
			return fmt.Errorf("reading pipeline state: %w", err)
		}
		recs = append(recs, paneRecord{rec, epoch})
	}
	m.panes[pe] = recs
	return it.Error()
}

// evict releases the loaded panes ending at or before end.
func (m *paneMerger) evict(end int64) {
	for pe, recs := range m.panes {
		if pe <= end {
			for _, r := range recs {
				r.rec.Release()
			}
			delete(m.panes, pe)
		}
	}
}

// window merges (or queues for merging) the rows of window [start, end)
// of the partition from its loaded panes, ending at panes.
func (m *paneMerger) window(ctx context.Context, start, end int64, panes []int64) error {
	var (
		recs  []paneRecord
		isNew bool
	)
	for _, pe := range panes {
		for _, r := range m.panes[pe] {
			recs = append(recs, r)
			isNew = isNew || r.epoch == m.p.epoch
		}
	}
	switch {
	case len(recs) == 0 || (m.changed && !isNew):
		return nil
	case len(recs) == 1:
		// The rows of one partial record are distinct groups: no merge.
		rec := m.windowRecord(recs[0], start, end, false)
		out, err := m.p.finishPartial(rec)
		rec.Release()
		if err != nil {
			return err
		}
		defer out.Release()
		return m.fn(out)
	}
	for _, r := range recs {
		rec := m.windowRecord(r, start, end, true)
		m.batch = append(m.batch, rec)
		m.bytes += recordBytes(rec)
	}
	if m.bytes >= m.p.opts.MergeBytes {
		return m.flush(ctx)
	}
	return nil
}

// windowRecord is a pane's partial record as rows of window [start, end):
// its window bounds replaced, and with its checkpoint column when merge
// (mergeSchema).
func (m *paneMerger) windowRecord(r paneRecord, start, end int64, merge bool) arrow.Record {
	pa, mem := m.p.partial, m.p.spec.Mem.Alloc
	n := int(r.rec.NumRows())
	cols := slices.Clone(r.rec.Columns())
	var made []arrow.Array
	for i, v := range [2]int64{start, end} {
		c := constTimestamp(mem, cols[pa.nGroup+i].DataType().(*arrow.TimestampType), v, n)
		made = append(made, c)
		cols[pa.nGroup+i] = c
	}
	schema := pa.partialSchema
	if merge {
		b := array.NewInt64Builder(mem)
		b.Reserve(n)
		for i := 0; i < n; i++ {
			b.UnsafeAppend(int64(r.epoch))
		}
		ep := b.NewArray()
		b.Release()
		made = append(made, ep)
		cols = append(cols, ep)
		schema = pa.mergeSchema
	}
	out := array.NewRecord(schema, cols, int64(n))
	for _, c := range made {
		c.Release()
	}
	return out
}

// flush merges the queued window rows.
func (m *paneMerger) flush(ctx context.Context) error {
	recs := m.batch
	m.batch, m.bytes = nil, 0
	if len(recs) == 0 {
		return nil
	}
	return m.p.mergeRecords(ctx, recs, m.changed, m.fn)
}

// release releases what the merger holds.
func (m *paneMerger) release() {
	m.evict(math.MaxInt64)
	for _, r := range m.batch {
		r.Release()
	}
	m.batch = nil
}

// recordBytes is the size of the buffers of rec.
func recordBytes(rec arrow.Record) int {
	n := 0
	for _, c := range rec.Columns() {
		n += arrayBytes(c.Data())
	}
	return n
}

func arrayBytes(d arrow.ArrayData) int {
	n := 0
	for _, b := range d.Buffers() {
		if b != nil {
			n += b.Len()
		}
	}
	for _, c := range d.Children() {
		n += arrayBytes(c)
	}
	return n
}

// constTimestamp is an array of n times v.
func constTimestamp(mem memory.Allocator, t *arrow.TimestampType, v int64, n int) arrow.Array {
	b := array.NewTimestampBuilder(mem, t)
	defer b.Release()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		b.UnsafeAppend(arrow.Timestamp(v))
	}
	return b.NewArray()
}
