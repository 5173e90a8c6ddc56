package exec

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/exec/expr"
)

// SortKey is one ORDER BY key of a running plan: an expression over the
// input, the direction, and where NULLs go (NullsFirst: before every value,
// whatever the direction).
type SortKey struct {
	Expr       expr.Evaluator
	Desc       bool
	NullsFirst bool
}

// bufferedInput accumulates the batches of an input together with the
// values of key expressions over them, accounting both.
type bufferedInput struct {
	recs []arrow.Record
	keys [][]arrow.Array // per batch, per key
	rows int
}

func (b *bufferedInput) add(rec arrow.Record, keys []arrow.Array) int64 {
	b.recs = append(b.recs, rec)
	b.keys = append(b.keys, keys)
	b.rows += int(rec.NumRows())
	n := recordBytes(rec)
	for _, k := range keys {
		n += arrayBytes(k)
	}
	return n
}

// concat returns the buffered batches as one record and one array per key,
// releasing the parts.
func (b *bufferedInput) concat(m *Memory, schema *arrow.Schema, keyTypes []arrow.DataType) (arrow.Record, []arrow.Array, error) {
	defer b.release()
	rec, err := concatRecords(m.Alloc, schema, b.recs)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]arrow.Array, len(keyTypes))
	parts := make([]arrow.Array, len(b.keys))
	for k, dt := range keyTypes {
		for i := range b.keys {
			parts[i] = b.keys[i][k]
		}
		a, err := concatArrays(m.Alloc, dt, parts)
		if err != nil {
			rec.Release()
			releaseArrays(keys)
			return nil, nil, err
		}
		keys[k] = a
	}
	return rec, keys, nil
}

// concatKeys returns one array per key over all buffered batches (the
// batches stay as they are).
func (b *bufferedInput) concatKeys(m *Memory, keyTypes []arrow.DataType) ([]arrow.Array, error) {
	keys := make([]arrow.Array, len(keyTypes))
	parts := make([]arrow.Array, len(b.keys))
	for k, dt := range keyTypes {
		for i := range b.keys {
			parts[i] = b.keys[i][k]
		}
		a, err := concatArrays(m.Alloc, dt, parts)
		if err != nil {
			releaseArrays(keys)
			return nil, err
		}
		keys[k] = a
	}
	return keys, nil
}

// takeRecords hands over the buffered batches, releasing the rest.
func (b *bufferedInput) takeRecords() []arrow.Record {
	recs := b.recs
	b.recs = nil
	b.release()
	return recs
}

func (b *bufferedInput) release() {
	ReleaseRecords(b.recs)
	for _, ks := range b.keys {
		releaseArrays(ks)
	}
	b.recs, b.keys, b.rows = nil, nil, 0
}

// chunker hands out a record in slices of at most size rows.
type chunker struct {
	rec  arrow.Record
	pos  int
	size int
}

func (c *chunker) next() (arrow.Record, bool) {
	if c.rec == nil || c.pos >= int(c.rec.NumRows()) {
		return nil, false
	}
	end := min(c.pos+c.size, int(c.rec.NumRows()))
	r := sliceRecord(c.rec, c.pos, end)
	c.pos = end
	return r, true
}

func (c *chunker) release() {
	if c.rec != nil {
		c.rec.Release()
		c.rec = nil
	}
}

// sortPerm returns the row order of keys under the sort keys: a stable
// sort (ties keep input order).
//
// The first key is normalised to a uint64 that orders like it (integers
// and floats exactly, text by its first 8 bytes), and (normalised key,
// row) pairs are sorted, so that most comparisons read one inline word
// rather than chase the rows' values; ties fall back to comparing the
// rows. NULLs of the first key are set apart and placed before or after.
func sortPerm(keys []arrow.Array, spec []SortKey, n int) ([]int32, error) {
	if len(keys) == 0 {
		perm := make([]int32, n)
		for i := range perm {
			perm[i] = int32(i)
		}
		return perm, nil
	}
	norm, exact := normalizer(keys[0])
	if norm == nil {
		return sortPermGeneric(keys, spec, n)
	}
	full, err := keysCmp(keys, keys, spec)
	if err != nil {
		return nil, err
	}
	rest := full
	if exact {
		if rest, err = keysCmp(keys[1:], keys[1:], spec[1:]); err != nil {
			return nil, err
		}
	}
	v := validityOf(keys[0])
	ents := make([]sortEntry, 0, n)
	var nulls []int32
	flip := uint64(0)
	if spec[0].Desc {
		flip = ^uint64(0)
	}
	for i := 0; i < n; i++ {
		if !v.valid(i) {
			nulls = append(nulls, int32(i))
			continue
		}
		ents = append(ents, sortEntry{norm(i) ^ flip, int32(i)})
	}
	// A stable radix sort on the normalised key keeps rows in input
	// order among equal keys; runs of equal keys are then ordered by the
	// other keys (or, for a key that is not exact, by the full rows).
	radixSort(ents)
	if !exact || len(keys) > 1 {
		for lo := 0; lo < len(ents); {
			hi := lo + 1
			for hi < len(ents) && ents[hi].k == ents[lo].k {
				hi++
			}
			if hi-lo > 1 {
				slices.SortFunc(ents[lo:hi], func(a, b sortEntry) int {
					if c := rest(int(a.row), int(b.row)); c != 0 {
						return c
					}
					return int(a.row - b.row)
				})
			}
			lo = hi
		}
	}
	if len(nulls) > 1 && len(keys) > 1 {
		slices.SortFunc(nulls, func(a, b int32) int {
			if c := full(int(a), int(b)); c != 0 {
				return c
			}
			return int(a - b)
		})
	}
	perm := make([]int32, 0, n)
	if spec[0].NullsFirst {
		perm = append(perm, nulls...)
	}
	for _, e := range ents {
		perm = append(perm, e.row)
	}
	if !spec[0].NullsFirst {
		perm = append(perm, nulls...)
	}
	return perm, nil
}

// sortEntry is a row with its normalised first sort key.
type sortEntry struct {
	k   uint64
	row int32
}

// radixSort sorts entries by k, stably (least significant byte first,
// skipping bytes that are the same in every entry).
func radixSort(ents []sortEntry) {
	if len(ents) < 256 {
		slices.SortStableFunc(ents, func(a, b sortEntry) int {
			switch {
			case a.k < b.k:
				return -1
			case a.k > b.k:
				return 1
			}
			return 0
		})
		return
	}
	var counts [8][256]int
	for _, e := range ents {
		k := e.k
		for b := 0; b < 8; b++ {
			counts[b][byte(k>>(8*b))]++
		}
	}
	src, dst := ents, make([]sortEntry, len(ents))
	for b := 0; b < 8; b++ {
		c := &counts[b]
		if c[byte(src[0].k>>(8*b))] == len(src) {
			continue
		}
		var pos [256]int
		sum := 0
		for d := range pos {
			pos[d] = sum
			sum += c[d]
		}
		shift := uint(8 * b)
		for _, e := range src {
			d := byte(e.k >> shift)
			dst[pos[d]] = e
			pos[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &ents[0] {
		copy(ents, src)
	}
}

// normalizer returns a function mapping row i of a (not NULL) to a uint64
// that orders like the value, and whether equal uint64s mean equal values;
// nil for types without one.
func normalizer(a arrow.Array) (func(i int) uint64, bool) {
	const sign = uint64(1) << 63
	switch physOf(a.DataType()) {
	case physBool:
		b := boolValsOf(a)
		return func(i int) uint64 {
			if b.get(i) {
				return 1
			}
			return 0
		}, true
	case physInt8:
		x := fixedVals[int8](a)
		return func(i int) uint64 { return uint64(int64(x[i])) ^ sign }, true
	case physInt16:
		x := fixedVals[int16](a)
		return func(i int) uint64 { return uint64(int64(x[i])) ^ sign }, true
	case physInt32:
		x := fixedVals[int32](a)
		return func(i int) uint64 { return uint64(int64(x[i])) ^ sign }, true
	case physInt64:
		x := fixedVals[int64](a)
		return func(i int) uint64 { return uint64(x[i]) ^ sign }, true
	case physFloat32:
		x := fixedVals[float32](a)
		return func(i int) uint64 { return floatKey(float64(x[i])) }, true
	case physFloat64:
		x := fixedVals[float64](a)
		return func(i int) uint64 { return floatKey(x[i]) }, true
	case physBytes:
		p := bytePrefixes(bytesVals(a))
		return func(i int) uint64 { return p[i] }, false
	}
	return nil, false
}

// floatKey maps a float to a uint64 of the same order, with -0 equal to 0
// and every NaN equal and above +Inf.
func floatKey(f float64) uint64 {
	b := floatBits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

// sortPermGeneric sorts row indices with the keys' comparators.
func sortPermGeneric(keys []arrow.Array, spec []SortKey, n int) ([]int32, error) {
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	c, err := keysCmp(keys, keys, spec)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(perm, func(a, b int32) int {
		if r := c(int(a), int(b)); r != 0 {
			return r
		}
		return int(a - b)
	})
	return perm, nil
}

// Sort orders all rows of its input by keys (stable: rows with equal keys
// keep their input order). It is a pipeline breaker: it buffers its input
// and accounts the bytes. In a stream it would have no meaning over an
// unbounded input; the planner rejects ORDER BY over streams, so a Sort
// never sees watermarks or barriers, and it reports one as an error.
type Sort struct {
	input     Operator
	keys      []SortKey
	mem       *Memory
	acct      memAccount
	batchSize int
	data      *chunkedRecords
	perm      []int32
	pos       int
	done      bool
}

// NewSort returns the sort of input by keys.
func NewSort(input Operator, keys []SortKey, mem *Memory) *Sort {
	return &Sort{input: input, keys: keys, mem: mem, acct: memAccount{mem: mem, owner: "ORDER BY"}, batchSize: DefaultBatchSize}
}

// Schema implements Operator.
func (s *Sort) Schema() *arrow.Schema { return s.input.Schema() }

// Open implements Operator.
func (s *Sort) Open(ctx context.Context) error { return s.input.Open(ctx) }

func keyTypes(keys []SortKey) []arrow.DataType {
	ts := make([]arrow.DataType, len(keys))
	for i, k := range keys {
		ts[i] = k.Expr.Type()
	}
	return ts
}

func keyExprs(keys []SortKey) []expr.Evaluator {
	es := make([]expr.Evaluator, len(keys))
	for i, k := range keys {
		es[i] = k.Expr
	}
	return es
}

// controlError is the error of a pipeline breaker that receives a stream
// control batch in a plan the stream runtime did not prepare for it.
func controlError(op string, b Batch) error {
	if b.Rec != nil {
		b.Rec.Release()
	}
	what := "watermark"
	if b.Kind == BatchBarrier {
		what = "checkpoint barrier"
	}
	return fmt.Errorf("exec: %s received a %s; it runs over bounded inputs only", op, what)
}

// nextKeyed returns the next data batch of in that has rows, with its sort
// keys exprs evaluated; ok is false at the end of in. op names the
// operator in the error a control batch (of a stream) causes.
func nextKeyed(ctx context.Context, in Operator, exprs []expr.Evaluator, op string) (rec arrow.Record, keys []arrow.Array, ok bool, err error) {
	for {
		b, ok, err := in.Next(ctx)
		if err != nil || !ok {
			return nil, nil, false, err
		}
		if b.Kind != BatchData {
			return nil, nil, false, controlError(op, b)
		}
		if b.Rec.NumRows() == 0 {
			b.Rec.Release()
			continue
		}
		keys, err := evalAll(ctx, exprs, b.Rec)
		if err != nil {
			b.Rec.Release()
			return nil, nil, false, err
		}
		return b.Rec, keys, true, nil
	}
}

func (s *Sort) consume(ctx context.Context) error {
	var buf bufferedInput
	defer buf.release()
	exprs := keyExprs(s.keys)
	for {
		rec, keys, ok, err := nextKeyed(ctx, s.input, exprs, "ORDER BY")
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := s.acct.add(buf.add(rec, keys)); err != nil {
			return err
		}
	}
	if buf.rows == 0 {
		return nil
	}
	// The rows stay in their batches; only the keys are concatenated, and
	// the output is gathered from the batches in sorted order.
	keys, err := buf.concatKeys(s.mem, keyTypes(s.keys))
	if err != nil {
		return err
	}
	defer releaseArrays(keys)
	var kb int64
	for _, k := range keys {
		kb += arrayBytes(k)
	}
	if err := s.acct.add(kb); err != nil {
		return err
	}
	perm, err := sortPerm(keys, s.keys, buf.rows)
	if err != nil {
		return err
	}
	s.perm = perm
	s.data = newChunkedRecords(s.input.Schema(), buf.takeRecords())
	return s.acct.add(int64(4 * len(perm)))
}

// Next implements Operator.
func (s *Sort) Next(ctx context.Context) (Batch, bool, error) {
	if !s.done {
		s.done = true
		if err := s.consume(ctx); err != nil {
			return Batch{}, false, err
		}
	}
	if s.data == nil || s.pos >= len(s.perm) {
		return Batch{}, false, nil
	}
	end := min(s.pos+s.batchSize, len(s.perm))
	r, err := s.data.gather(s.mem.Alloc, nil, s.perm[s.pos:end])
	if err != nil {
		return Batch{}, false, err
	}
	s.pos = end
	return Batch{Kind: BatchData, Rec: r}, true, nil
}

// Close implements Operator.
func (s *Sort) Close() error {
	if s.data != nil {
		s.data.release()
		s.data = nil
	}
	s.acct.close()
	return s.input.Close()
}

// TopN returns the first Count rows after Offset of its input in key
// order, holding only about Offset+Count rows (plus a buffer of candidates)
// rather than the whole input: ORDER BY ... LIMIT. Ties keep input order,
// as in Sort followed by Limit. Like Sort it runs over bounded inputs; a
// streaming top-N would keep its rows as checkpointed state and emit on
// watermarks, so a control batch here is an error.
type TopN struct {
	input         Operator
	keys          []SortKey
	offset, count int64
	mem           *Memory
	acct          memAccount
	batchSize     int

	top     arrow.Record // sorted, at most k rows
	topKeys []arrow.Array
	pending bufferedInput
	out     chunker
	done    bool
}

// NewTopN returns the rows offset..offset+count-1 of input sorted by keys.
func NewTopN(input Operator, keys []SortKey, offset, count int64, mem *Memory) *TopN {
	return &TopN{input: input, keys: keys, offset: offset, count: count, mem: mem,
		acct: memAccount{mem: mem, owner: "ORDER BY ... LIMIT"}, batchSize: DefaultBatchSize}
}

// Schema implements Operator.
func (t *TopN) Schema() *arrow.Schema { return t.input.Schema() }

// Open implements Operator.
func (t *TopN) Open(ctx context.Context) error {
	if t.offset < 0 || t.count < 0 {
		return fmt.Errorf("exec: top-N with offset %d and count %d", t.offset, t.count)
	}
	return t.input.Open(ctx)
}

func (t *TopN) k() int { return int(t.offset + t.count) }

// candidates returns the rows of a batch that may enter the top: all while
// the top is not full, else those strictly before its last row.
func (t *TopN) candidates(keys []arrow.Array, n int) ([]int32, error) {
	if t.top == nil || int(t.top.NumRows()) < t.k() {
		return nil, nil // all
	}
	c, err := keysCmp(keys, t.topKeys, t.keys)
	if err != nil {
		return nil, err
	}
	last := int(t.top.NumRows()) - 1
	sel := make([]int32, 0, 16)
	for i := 0; i < n; i++ {
		if c(i, last) < 0 {
			sel = append(sel, int32(i))
		}
	}
	return sel, nil
}

func (t *TopN) consume(ctx context.Context) error {
	exprs := keyExprs(t.keys)
	for {
		rec, keys, ok, err := nextKeyed(ctx, t.input, exprs, "ORDER BY ... LIMIT")
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		sel, err := t.candidates(keys, int(rec.NumRows()))
		if err != nil {
			rec.Release()
			releaseArrays(keys)
			return err
		}
		if sel != nil {
			if len(sel) == 0 {
				rec.Release()
				releaseArrays(keys)
				continue
			}
			r2, err := takeRecord(t.mem.Alloc, nil, rec, sel)
			rec.Release()
			if err != nil {
				releaseArrays(keys)
				return err
			}
			k2 := make([]arrow.Array, len(keys))
			for i, k := range keys {
				if k2[i], err = takeArray(t.mem.Alloc, k, sel); err != nil {
					r2.Release()
					releaseArrays(keys)
					releaseArrays(k2)
					return err
				}
			}
			releaseArrays(keys)
			rec, keys = r2, k2
		}
		if err := t.acct.add(t.pending.add(rec, keys)); err != nil {
			return err
		}
		if t.pending.rows >= max(t.k(), t.batchSize) {
			if err := t.merge(); err != nil {
				return err
			}
		}
	}
	if t.pending.rows > 0 {
		if err := t.merge(); err != nil {
			return err
		}
	}
	if t.top != nil {
		lo := min(int(t.offset), int(t.top.NumRows()))
		t.out = chunker{rec: sliceRecord(t.top, lo, int(t.top.NumRows())), size: t.batchSize}
	}
	return nil
}

// merge sorts the top together with the pending candidates and keeps the
// first k rows.
func (t *TopN) merge() error {
	if t.top != nil {
		// The top's rows come first: they precede the candidates in input order.
		t.pending.recs = append([]arrow.Record{t.top}, t.pending.recs...)
		t.pending.keys = append([][]arrow.Array{t.topKeys}, t.pending.keys...)
		t.top, t.topKeys = nil, nil
	}
	rec, keys, err := t.pending.concat(t.mem, t.input.Schema(), keyTypes(t.keys))
	if err != nil {
		return err
	}
	defer rec.Release()
	defer releaseArrays(keys)
	perm, err := sortPerm(keys, t.keys, int(rec.NumRows()))
	if err != nil {
		return err
	}
	if len(perm) > t.k() {
		perm = perm[:t.k()]
	}
	if t.top, err = takeRecord(t.mem.Alloc, nil, rec, perm); err != nil {
		return err
	}
	t.topKeys = make([]arrow.Array, len(keys))
	for i, k := range keys {
		if t.topKeys[i], err = takeArray(t.mem.Alloc, k, perm); err != nil {
			return err
		}
	}
	n := recordBytes(t.top)
	for _, k := range t.topKeys {
		n += arrayBytes(k)
	}
	return t.acct.set(n)
}

// Next implements Operator.
func (t *TopN) Next(ctx context.Context) (Batch, bool, error) {
	if !t.done {
		t.done = true
		if t.count > 0 {
			if err := t.consume(ctx); err != nil {
				return Batch{}, false, err
			}
		}
	}
	r, ok := t.out.next()
	if !ok {
		return Batch{}, false, nil
	}
	return Batch{Kind: BatchData, Rec: r}, true, nil
}

// Close implements Operator.
func (t *TopN) Close() error {
	t.out.release()
	if t.top != nil {
		t.top.Release()
		t.top = nil
	}
	releaseArrays(t.topKeys)
	t.topKeys = nil
	t.pending.release()
	t.acct.close()
	return t.input.Close()
}
