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

	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// Deduplication keeps the first row of each key by event time:
//
//	SELECT ... FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn
//	                 FROM STREAM s) WHERE rn = 1
//
// The Window node of that plan is the operator: the plan below it runs per
// file, the part above it (which keeps rn = 1) over the rows it emits,
// each with row_number 1. A key's first row is final once the watermark
// passes its time (a row of the key that comes later is either later in
// event time or late), so rows are held until then: the state is, per key,
// the time and id of its best row so far, whether that row was emitted,
// and the latest event time of its rows (for state_ttl); the candidate
// rows wait in time buckets. A key is forgotten once the watermark is
// state_ttl past its latest row; a row of it after that is a first row
// again.
//
// Keys:
//
//	d/k/<key>                    state (dedupState)
//	d/t/<latest time><key>       index of the keys by latest time, for expiry
//	d/r/<bucket start><seq>      candidate rows (Arrow IPC) with a trailing row id
const (
	dedupKeys   = "d/k/"
	dedupTimes  = "d/t/"
	dedupRows   = "d/r/"
	dedupBucket = int64(60e6) // a minute of event time per chunk of candidates
)

type dedup struct {
	p     *Pipeline
	node  *planner.Window
	side  []side
	keys  []expr.Evaluator
	time  expr.Evaluator
	ttl   int64
	width int
	// chunkSchema is the schema of the candidate rows kept.
	chunkSchema *arrow.Schema
	// cache holds the key states in memory in front of the store.
	cache *keyCache
}

// dedupState is the state of one key.
type dedupState struct {
	best, latest int64
	ref          uint64
	emitted      bool
}

func (s dedupState) encode() []byte {
	v := make([]byte, 0, 25)
	v = binary.BigEndian.AppendUint64(v, uint64(s.best))
	v = binary.BigEndian.AppendUint64(v, uint64(s.latest))
	v = binary.BigEndian.AppendUint64(v, s.ref)
	if s.emitted {
		return append(v, 1)
	}
	return append(v, 0)
}

func decodeDedupState(v []byte) (dedupState, error) {
	if len(v) != 25 {
		return dedupState{}, errors.New("pipeline state: bad deduplication entry")
	}
	return dedupState{best: int64(binary.BigEndian.Uint64(v)), latest: int64(binary.BigEndian.Uint64(v[8:])),
		ref: binary.BigEndian.Uint64(v[16:]), emitted: v[24] == 1}, nil
}

// newDedup makes the deduplication of a Window node: one ROW_NUMBER()
// partitioned by the key and ordered by the stream's event time, ascending.
func (p *Pipeline) newDedup(w *planner.Window) (*dedup, error) {
	if len(w.Funcs) != 1 || w.Funcs[0].Fn.Name != "row_number" {
		return nil, fmt.Errorf("pipeline %q: the only window function over a stream is ROW_NUMBER() for deduplication (... WHERE rn = 1)", p.spec.Name)
	}
	f := w.Funcs[0]
	if len(f.OrderBy) != 1 || f.OrderBy[0].Desc {
		return nil, fmt.Errorf("pipeline %q: deduplication over a stream keeps the first row by event time: ORDER BY the event time, ascending", p.spec.Name)
	}
	if p.wm == nil {
		return nil, fmt.Errorf("pipeline %q: deduplication over stream %q needs its watermark (WATERMARK FOR ts AS ...)", p.spec.Name, p.spec.Stream.Name)
	}
	d := &dedup{p: p, node: w, side: []side{{plan: w.Input, in: p.inputs[0]}}, ttl: p.spec.StateTTL.Microseconds(),
		width: len(w.Input.Schema()), cache: newKeyCache(func() *pebble.DB { return p.st.db }, dedupKeys, dedupTimes)}
	in := arrowSchemaOf(w.Input)
	d.chunkSchema = arrow.NewSchema(append(append([]arrow.Field(nil), in.Fields()...), arrow.Field{Name: "__row_id", Type: arrow.PrimitiveTypes.Uint64, Nullable: true}), nil)
	var err error
	for _, e := range f.PartitionBy {
		ev, err := p.spec.Compile(e, in)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, ev)
	}
	if d.time, err = p.spec.Compile(f.OrderBy[0].Expr, in); err != nil {
		return nil, err
	}
	if d.time.Type().ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("pipeline %q: deduplication orders by %s, which is not a TIMESTAMP event time", p.spec.Name, f.OrderBy[0].Expr)
	}
	return d, nil
}

func (d *dedup) sides() []side { return d.side }

// evalKeys evaluates the key expressions over rec.
func evalKeys(ctx context.Context, evs []expr.Evaluator, rec arrow.Record) ([]arrow.Array, error) {
	out := make([]arrow.Array, 0, len(evs))
	for _, ev := range evs {
		a, err := ev.Eval(ctx, rec)
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// add records the rows of a file: a row better than its key's best so far
// becomes the key's candidate; the others only move the key's latest time.
// Late rows (before the watermark) are dropped and counted, and so are
// rows without an event time.
func (d *dedup) add(ctx context.Context, _ int, rec arrow.Record) error {
	keys, err := evalKeys(ctx, d.keys, rec)
	if err != nil {
		return err
	}
	defer releaseAll(keys)
	ts, err := timesOf(ctx, d.time, rec)
	if err != nil {
		return err
	}
	defer ts.Release()
	b := d.p.epochBatch()
	wm := d.p.m.Watermark
	var rows []int32
	var times []int64
	ids := array.NewUint64Builder(d.p.spec.Mem.Alloc)
	defer ids.Release()
	// The keys of the rows, read from the store at once.
	var arena []byte
	ends := make([]int, ts.Len())
	for i := range ends {
		arena = appendKey(arena, keys, i)
		ends[i] = len(arena)
	}
	batchKeys := make([][]byte, 0, len(ends))
	for i := range ends {
		if ts.IsValid(i) && int64(ts.Value(i)) >= wm {
			batchKeys = append(batchKeys, arena[keyStart(ends, i):ends[i]])
		}
	}
	if err := d.cache.prefetch(b, batchKeys); err != nil {
		return err
	}
	for i := 0; i < ts.Len(); i++ {
		if ts.IsNull(i) {
			continue
		}
		t := int64(ts.Value(i))
		if t < wm {
			d.p.m.Late++
			continue
		}
		key := arena[keyStart(ends, i):ends[i]]
		e, err := d.cache.get(b, key)
		if err != nil {
			return err
		}
		var s dedupState
		ok := e != nil
		if ok {
			s = e.s
		}
		candidate := true
		switch {
		case !ok:
			d.p.m.Seq++
			s = dedupState{best: t, latest: t, ref: d.p.m.Seq}
		case s.emitted || s.best <= t:
			if t <= s.latest {
				continue
			}
			s.latest, candidate = t, false
		default:
			d.p.m.Seq++
			s.best, s.ref, s.latest = t, d.p.m.Seq, max(s.latest, t)
		}
		if err := d.cache.put(b, key, e, s); err != nil {
			return err
		}
		if candidate {
			rows = append(rows, int32(i))
			times = append(times, t)
			ids.Append(s.ref)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	cand, err := d.p.take(ctx, rec, rows)
	if err != nil {
		return err
	}
	defer cand.Release()
	idArr := ids.NewArray()
	defer idArr.Release()
	withID := appendColumn(cand, "__row_id", idArr)
	defer withID.Release()
	return d.p.putChunks(ctx, dedupRows, withID, times, dedupBucket)
}

// keyStart is where key i starts in an arena of keys ending at ends.
func keyStart(ends []int, i int) int {
	if i == 0 {
		return 0
	}
	return ends[i-1]
}

// sideBatcher is a stateful operator that writes part of its state into
// a plain batch of its own (see keyCache), committed with the checkpoint.
type sideBatcher interface {
	// takeSide returns that batch (nil for none) to be committed with the
	// rest of the checkpoint; its keys are the operator's alone, none of
	// which the rest of the checkpoint writes.
	takeSide() *pebble.Batch
	// committed tells that the checkpoint was committed.
	committed()
}

func (d *dedup) takeSide() *pebble.Batch { return d.cache.takeSide() }
func (d *dedup) committed()              { d.cache.committed() }

// appendColumn returns rec with one more column.
func appendColumn(rec arrow.Record, name string, a arrow.Array) arrow.Record {
	fields := append(append([]arrow.Field(nil), rec.Schema().Fields()...), arrow.Field{Name: name, Type: a.DataType(), Nullable: true})
	cols := append(append([]arrow.Array(nil), rec.Columns()...), a)
	return array.NewRecord(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

// checkpoint emits the candidates the watermark made final, drops the
// buckets it passed and forgets the keys whose latest row is state_ttl
// behind it.
func (d *dedup) checkpoint(ctx context.Context) error {
	p := d.p
	wm := p.m.Watermark
	b := p.epochBatch()
	if wm == math.MinInt64 {
		// Nothing is final yet; the states changed in memory go into the
		// checkpoint.
		return d.cache.flush(b)
	}
	it, err := p.chunksBefore(dedupRows, wm)
	if err != nil {
		return err
	}
	var out []arrow.Record
	defer func() { exec.ReleaseRecords(out) }()
	for it.First(); it.Valid(); it.Next() {
		rec, err := decodeRecord(bytes.Clone(it.Value()), p.spec.Mem.Alloc)
		if err != nil {
			it.Close()
			return fmt.Errorf("reading pipeline state: %w", err)
		}
		if err := sameColumns(rec.Schema(), d.chunkSchema); err != nil {
			rec.Release()
			it.Close()
			return err
		}
		sel, err := d.final(ctx, b, rec, wm)
		if err == nil && len(sel) > 0 {
			var o arrow.Record
			if o, err = d.output(ctx, rec, sel); err == nil {
				out = append(out, o)
			}
		}
		rec.Release()
		if err != nil {
			it.Close()
			return err
		}
		if start := decodeTime(it.Key()[len(dedupRows):]); addSat(start, dedupBucket) <= wm {
			if err := b.Delete(bytes.Clone(it.Key()), nil); err != nil {
				it.Close()
				return err
			}
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if len(out) > 0 {
		recs := out
		out = nil
		if err := p.runUpper(ctx, d.node.Columns, recs); err != nil {
			return err
		}
	}
	if wm == math.MaxInt64 {
		// The end of input: every key is forgotten.
		return d.cache.reset(b)
	}
	// The states changed in memory go into the checkpoint (and the time
	// index, which expiry reads).
	if err := d.cache.flush(b); err != nil {
		return err
	}
	defer d.cache.evict()
	if d.ttl <= 0 {
		return nil
	}
	return d.cache.expire(b, addSat(wm, -d.ttl))
}

// final returns the rows of a candidate chunk that are their key's first
// row and final (before the watermark), and marks them emitted.
func (d *dedup) final(ctx context.Context, b *pebble.Batch, rec arrow.Record, wm int64) ([]int32, error) {
	keys, err := evalKeys(ctx, d.keys, rec)
	if err != nil {
		return nil, err
	}
	defer releaseAll(keys)
	ts, err := timesOf(ctx, d.time, rec)
	if err != nil {
		return nil, err
	}
	defer ts.Release()
	ids := rec.Column(d.width).(*array.Uint64)
	var sel []int32
	var key []byte
	for i := 0; i < ts.Len(); i++ {
		if int64(ts.Value(i)) >= wm {
			continue
		}
		key = appendKey(key[:0], keys, i)
		e, err := d.cache.get(b, key)
		if err != nil {
			return nil, err
		}
		if e == nil || e.s.emitted || e.s.ref != ids.Value(i) {
			continue
		}
		if wm != math.MaxInt64 { // at the end of input every key is forgotten
			s := e.s
			s.emitted = true
			if err := d.cache.put(b, key, e, s); err != nil {
				return nil, err
			}
		}
		sel = append(sel, int32(i))
	}
	return sel, nil
}

// output makes the Window's rows of the rows sel of a candidate chunk:
// the input's columns and row_number 1.
func (d *dedup) output(ctx context.Context, rec arrow.Record, sel []int32) (arrow.Record, error) {
	rows, err := d.p.take(ctx, rec, sel)
	if err != nil {
		return nil, err
	}
	defer rows.Release()
	ones := array.NewInt64Builder(d.p.spec.Mem.Alloc)
	defer ones.Release()
	for range sel {
		ones.Append(1)
	}
	one := ones.NewArray()
	defer one.Release()
	schema := arrowSchemaOf(d.node)
	cols := append(append([]arrow.Array(nil), rows.Columns()[:d.width]...), one)
	return array.NewRecord(schema, cols, int64(len(sel))), nil
}

// expireKeys forgets the keys whose time in the index under times is
// before limit: their index entries and their state under keys; forget,
// when set, is told each key.
func expireKeys(b *pebble.Batch, times, keys string, limit int64, forget func(key []byte)) error {
	if limit == math.MaxInt64 {
		if err := b.DeleteRange([]byte(keys), prefixEnd(keys), nil); err != nil {
			return err
		}
		return b.DeleteRange([]byte(times), prefixEnd(times), nil)
	}
	upper := timeKey([]byte(times), limit)
	it, err := b.NewIter(&pebble.IterOptions{LowerBound: []byte(times), UpperBound: upper})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if forget != nil {
			forget(k[len(times)+8:])
		}
		if err := b.Delete(append([]byte(keys), k[len(times)+8:]...), nil); err != nil {
			it.Close()
			return err
		}
		if err := b.Delete(bytes.Clone(k), nil); err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// distinct is SELECT DISTINCT over a stream: a row is written the first
// time it is seen; the rows seen are kept, each with the wall time it was
// last seen, and forgotten state_ttl after that.
//
//	x/k/<row>              the wall time (µs) the row was last seen
//	x/t/<time><row>        index by that time, for expiry
const (
	distinctKeys  = "x/k/"
	distinctTimes = "x/t/"
)

type distinct struct {
	p    *Pipeline
	node *planner.Distinct
	ttl  int64
}

func (d *distinct) sides() []side {
	return []side{{plan: d.node.Input, in: d.p.inputs[0]}}
}

func (d *distinct) add(ctx context.Context, _ int, rec arrow.Record) error {
	b := d.p.epochBatch()
	now := d.p.opts.Now().UnixMicro()
	var rows []int32
	var key []byte
	cols := rec.Columns()
	for i := 0; i < int(rec.NumRows()); i++ {
		key = appendKey(key[:0], cols, i)
		k := append([]byte(distinctKeys), key...)
		v, closer, err := b.Get(k)
		switch {
		case errors.Is(err, pebble.ErrNotFound):
			rows = append(rows, int32(i))
		case err != nil:
			return err
		default:
			seen := int64(binary.BigEndian.Uint64(v))
			closer.Close()
			if d.ttl <= 0 || seen == now {
				continue
			}
			if err := b.Delete(append(timeKey([]byte(distinctTimes), seen), key...), nil); err != nil {
				return err
			}
		}
		if err := b.Set(k, binary.BigEndian.AppendUint64(nil, uint64(now)), nil); err != nil {
			return err
		}
		if d.ttl > 0 {
			if err := b.Set(append(timeKey([]byte(distinctTimes), now), key...), nil, nil); err != nil {
				return err
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	out, err := d.p.take(ctx, rec, rows)
	if err != nil {
		return err
	}
	return d.p.runUpper(ctx, d.node.Schema(), []arrow.Record{out})
}

func (d *distinct) checkpoint(ctx context.Context) error {
	if d.ttl <= 0 {
		return nil
	}
	return expireKeys(d.p.epochBatch(), distinctTimes, distinctKeys, addSat(d.p.opts.Now().UnixMicro(), -d.ttl), nil)
}

// arrowSchemaOf is the Arrow schema of a plan node's rows.
func arrowSchemaOf(n planner.Node) *arrow.Schema { return exec.SchemaOf(n.Schema()) }
