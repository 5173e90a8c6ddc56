package exec

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
)

// MergeSort is the parallel ORDER BY: each part (a Sort over one worker
// pipeline) sorts its share of the input, all at once, and MergeSort
// merges the sorted runs. Rows with equal keys come out in the order of
// their parts, and within a part in input order.
type MergeSort struct {
	parts []*Sort
	keys  []SortKey // over the parts' common schema
	mem   *Memory

	started bool
	runs    []*sortedRun
	cmps    [][]rowCmp // cmps[a][b] compares the head batch of run a with run b's
	out     []int32    // global rows (over the runs' head batches) of the batch being made
}

// sortedRun is the output of one part, a batch at a time.
type sortedRun struct {
	part *Sort
	rec  arrow.Record // nil when the run is done
	keys []arrow.Array
	pos  int
	base int // global row of the head batch's first row, in the batch being made
}

// NewMergeSort returns the merge of the sorted parts; keys are the sort
// keys compiled over the parts' schema, for the merge's comparisons.
func NewMergeSort(parts []*Sort, keys []SortKey, mem *Memory) *MergeSort {
	return &MergeSort{parts: parts, keys: keys, mem: mem}
}

// Schema implements Operator.
func (m *MergeSort) Schema() *arrow.Schema { return m.parts[0].Schema() }

// Open implements Operator.
func (m *MergeSort) Open(ctx context.Context) error {
	for _, p := range m.parts {
		if err := p.Open(ctx); err != nil {
			return err
		}
	}
	return nil
}

// advance makes the next batch of run i its head, or marks it done.
func (m *MergeSort) advance(ctx context.Context, i int) error {
	r := m.runs[i]
	if r.rec != nil {
		r.rec.Release()
		releaseArrays(r.keys)
		r.rec, r.keys = nil, nil
	}
	for {
		b, ok, err := r.part.Next(ctx)
		if err != nil || !ok {
			return err
		}
		if b.Rec.NumRows() == 0 {
			b.Rec.Release()
			continue
		}
		keys, err := evalAll(ctx, keyExprs(m.keys), b.Rec)
		if err != nil {
			b.Rec.Release()
			return err
		}
		r.rec, r.keys, r.pos = b.Rec, keys, 0
		break
	}
	for j, o := range m.runs {
		m.cmps[i][j], m.cmps[j][i] = nil, nil
		if o.rec == nil || r.rec == nil {
			continue
		}
		var err error
		if m.cmps[i][j], err = keysCmp(r.keys, o.keys, m.keys); err != nil {
			return err
		}
		if m.cmps[j][i], err = keysCmp(o.keys, r.keys, m.keys); err != nil {
			return err
		}
	}
	return nil
}

// Next implements Operator.
func (m *MergeSort) Next(ctx context.Context) (Batch, bool, error) {
	if !m.started {
		m.started = true
		if err := runAll(len(m.parts), func(i int) error {
			p := m.parts[i]
			p.done = true
			return p.consume(ctx)
		}); err != nil {
			return Batch{}, false, err
		}
		m.runs = make([]*sortedRun, len(m.parts))
		m.cmps = make([][]rowCmp, len(m.parts))
		for i, p := range m.parts {
			m.runs[i] = &sortedRun{part: p}
			m.cmps[i] = make([]rowCmp, len(m.parts))
		}
		for i := range m.runs {
			if err := m.advance(ctx, i); err != nil {
				return Batch{}, false, err
			}
		}
	}
	// The output batch holds rows of the runs' head batches; it ends at
	// DefaultBatchSize rows or when a head batch runs out.
	base := 0
	for _, r := range m.runs {
		r.base = base
		if r.rec != nil {
			base += int(r.rec.NumRows())
		}
	}
	m.out = m.out[:0]
	exhausted := -1
	for len(m.out) < DefaultBatchSize && exhausted < 0 {
		best := -1
		for i, r := range m.runs {
			if r.rec == nil {
				continue
			}
			if best < 0 || m.cmps[i][best](r.pos, m.runs[best].pos) < 0 {
				best = i
			}
		}
		if best < 0 {
			break
		}
		r := m.runs[best]
		m.out = append(m.out, int32(r.base+r.pos))
		r.pos++
		if r.pos == int(r.rec.NumRows()) {
			exhausted = best
		}
	}
	if len(m.out) == 0 {
		return Batch{}, false, nil
	}
	var recs []arrow.Record
	for _, r := range m.runs {
		if r.rec != nil {
			r.rec.Retain()
			recs = append(recs, r.rec)
		}
	}
	data := newChunkedRecords(m.Schema(), recs)
	rec, err := data.gather(m.mem.Alloc, nil, m.out)
	data.release()
	if err != nil {
		return Batch{}, false, err
	}
	if exhausted >= 0 {
		if err := m.advance(ctx, exhausted); err != nil {
			rec.Release()
			return Batch{}, false, err
		}
	}
	return Batch{Kind: BatchData, Rec: rec}, true, nil
}

// Close implements Operator.
func (m *MergeSort) Close() error {
	for _, r := range m.runs {
		if r.rec != nil {
			r.rec.Release()
			releaseArrays(r.keys)
			r.rec, r.keys = nil, nil
		}
	}
	var err error
	for _, p := range m.parts {
		if e := p.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
