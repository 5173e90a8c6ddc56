package stream

import (
	"bytes"
	"context"
	"math"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"
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
// its panes (panes are the ends of the panes with partial rows), one
// key-hash partition at a time, and passes the window's rows to fn.
// changed keeps only the groups with partial rows of the checkpoint being
// built.
func (p *Pipeline) mergeWindows(ctx context.Context, panes, ends []int64, changed bool, fn func(arrow.Record) error) error {
	if len(ends) == 0 {
		return nil
	}
	it, err := p.st.db.NewIter(&pebble.IterOptions{LowerBound: []byte(partialPrefix), UpperBound: partialEnd()})
	if err != nil {
		return err
	}
	defer it.Close()
	m := &merger{p: p, changed: changed, fn: fn}
	size := p.win.size
	for _, e := range ends {
		win := &[2]int64{e - size, e}
		// The window's panes end in (e - size, e].
		first, _ := slices.BinarySearch(panes, e-size+1)
		last, _ := slices.BinarySearch(panes, e+1)
		in := panes[first:last]
		for part := 0; part < 1<<partBits; part++ {
			for _, pe := range in {
				from := partialKey(pe, byte(part), 0, 0)
				to := from[:len(from)-16]
				for valid := it.SeekGE(from); valid && bytes.HasPrefix(it.Key(), to); valid = it.Next() {
					_, _, epoch := decodePartialKey(it.Key())
					m.add(it.Value(), epoch, win)
				}
				if err := it.Error(); err != nil {
					return err
				}
			}
			if err := m.endGroup(ctx); err != nil {
				return err
			}
		}
	}
	return m.flush(ctx)
}
