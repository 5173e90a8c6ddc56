package stream

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/cockroachdb/pebble"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// This file holds what the stateful operators other than the windowed
// aggregation share: deduplication (dedup.go), DISTINCT (dedup.go) and the
// interval join of two streams (join.go). Each keeps its state in the
// pipeline's Pebble database; what it writes between two checkpoints goes
// to an indexed batch (Pipeline.batch) that it also reads through, and
// that commits with the next checkpoint, so that a crash loses exactly the
// state changes whose output was never published either.

// input is one stream a pipeline reads.
type input struct {
	obj    *catalog.Object
	opts   connector.Options
	fields []connector.Field
	wm     expr.Evaluator
	// tag prefixes the keys of its files and the names of its partitions
	// in the checkpoint: "" for the first stream, "@name:" for the second.
	tag string
	// kafka reads a Kafka stream of a join of two streams (see
	// openKafkaInput); nil for a file stream.
	kafka *kafkaSource
}

// noData names the placeholder partition of a stream that has had no data
// yet (in a pipeline that joins two streams).
const noData = "(no data yet)"

// hasData reports whether a stream with partition tag tag has a partition
// with data in the checkpoint.
func (m *meta) hasData(tag string) bool {
	for k := range m.Partitions {
		if k == tag+noData {
			continue
		}
		if tag == "" && !strings.HasPrefix(k, "@") || tag != "" && strings.HasPrefix(k, tag) {
			return true
		}
	}
	return false
}

// openInput prepares the second stream of a join of two streams.
func (p *Pipeline) openInput(j *JoinedStream) (*input, error) {
	in := &input{obj: j.Stream, tag: "@" + j.Stream.Name + ":"}
	opts := maps.Clone(j.Stream.Options)
	for _, k := range streamOnly {
		delete(opts, k)
	}
	if j.Stream.Options["connector"] == "kafka" {
		opts = kafkaFileOptions(j.Stream.Options, filepath.Join(p.spec.Dir, "kafka-batch-joined"))
	}
	var err error
	if in.opts, err = connector.ParseOptions(opts, connector.RoleSource); err != nil {
		return nil, fmt.Errorf("stream %q: %w", j.Stream.Name, err)
	}
	if len(j.Stream.Columns) == 0 {
		return nil, fmt.Errorf("stream %q has no columns: declare them", j.Stream.Name)
	}
	for _, c := range j.Stream.Columns {
		in.fields = append(in.fields, connector.Field{Name: c.Name, Type: c.Type})
	}
	if j.Watermark != nil {
		if in.wm, err = p.spec.Compile(j.Watermark, connector.ArrowSchema(in.fields)); err != nil {
			return nil, fmt.Errorf("watermark of %q: %w", j.Stream.Name, err)
		}
	}
	return in, nil
}

// stateOp is a stateful operator of a pipeline other than the windowed
// aggregation.
type stateOp interface {
	// sides are the plans below the operator, run over each file of the
	// stream they read.
	sides() []side
	// add takes the rows side i made of a file (rec is not kept).
	add(ctx context.Context, i int, rec arrow.Record) error
	// checkpoint writes what the watermark made final and forgets the
	// state that expired; it runs before each checkpoint commits.
	checkpoint(ctx context.Context) error
}

// side is a plan below a stateful operator and the stream it reads.
type side struct {
	plan planner.Node
	in   *input
}

// newStateOp makes the operator of plan node n.
func (p *Pipeline) newStateOp(n planner.Node) (stateOp, error) {
	switch x := n.(type) {
	case *planner.Window:
		return p.newDedup(x)
	case *planner.Distinct:
		return &distinct{p: p, node: x, ttl: p.spec.StateTTL.Microseconds()}, nil
	case *planner.Join:
		return p.newJoin(x)
	}
	return nil, fmt.Errorf("pipeline %q: %s over a stream is not supported", p.spec.Name, nodeName(n))
}

// runSides runs the plans of the stateful operator that read the stream
// in over one of its files, and returns the largest watermark value of the
// file's rows. In a join of a stream with itself both sides read the file;
// the second read does not count its rows again.
func (p *Pipeline) runSides(ctx context.Context, in *input, f connector.SourceFile) (int64, error) {
	fileWM := int64(math.MinInt64)
	read := false
	for i, sd := range p.op.sides() {
		if sd.in != in {
			continue
		}
		quiet := read
		read = true
		r := &router{fallback: p.spec.Scans, own: map[*catalog.Object]func([]int) (exec.Operator, error){
			in.obj: func(cols []int) (exec.Operator, error) {
				return &fileScan{p: p, in: in, file: f, cols: cols, wm: &fileWM, quiet: quiet}, nil
			},
		}}
		op, err := p.spec.Build(ctx, sd.plan, r, p.quarantineFunc())
		if err != nil {
			return 0, err
		}
		if err := exec.Drive(ctx, op, func(rec arrow.Record) error { return p.op.add(ctx, i, rec) }); err != nil {
			return 0, fmt.Errorf("reading %s: %w", f.Rel, err)
		}
	}
	return fileWM, nil
}

// runUpper runs the part of the plan above the stateful operator over
// recs (rows with columns cols; runUpper owns them) and stages its rows
// for the sink.
func (p *Pipeline) runUpper(ctx context.Context, cols []planner.Column, recs []arrow.Record) error {
	obj := &catalog.Object{Kind: catalog.ObjectTable, Name: "__pipeline_rows", Columns: catalogColumns(cols)}
	return p.runPlan(ctx, p.replace(&planner.Scan{Object: obj, Columns: cols}), map[*catalog.Object]opener{
		obj: recordsOpener(cols, recs),
	})
}

// opener opens a scan of some columns of a relation the runtime provides.
type opener = func(cols []int) (exec.Operator, error)

// recordsOpener opens a scan of recs (it owns them until opened).
func recordsOpener(cols []planner.Column, recs []arrow.Record) opener {
	return func(c []int) (exec.Operator, error) {
		o := &recordsOp{schema: exec.SchemaOf(cols), recs: recs, cols: c}
		recs = nil
		return o, nil
	}
}

// runPlan runs plan, with the relations of own provided by the runtime,
// and stages its rows for the sink. The records of openers never opened
// are released.
func (p *Pipeline) runPlan(ctx context.Context, plan planner.Node, own map[*catalog.Object]opener) error {
	return p.drivePlan(ctx, plan, own, func(rec arrow.Record) error { return p.write(ctx, rec) })
}

// drivePlan runs plan as runPlan does, handing its records to fn (which
// retains one to keep it).
func (p *Pipeline) drivePlan(ctx context.Context, plan planner.Node, own map[*catalog.Object]opener, fn func(rec arrow.Record) error) error {
	opened := map[*catalog.Object]bool{}
	wrapped := make(map[*catalog.Object]func([]int) (exec.Operator, error), len(own))
	for o, open := range own {
		wrapped[o] = func(cols []int) (exec.Operator, error) { opened[o] = true; return open(cols) }
	}
	r := &router{fallback: p.spec.Scans, own: wrapped}
	op, err := p.spec.Build(ctx, plan, r, p.quarantineFunc())
	defer func() {
		for o, open := range own {
			if !opened[o] {
				if x, err := open(nil); err == nil {
					x.Close()
				}
			}
		}
	}()
	if err != nil {
		return err
	}
	return exec.Drive(ctx, op, fn)
}

// epochBatch is the batch of the state changes since the last checkpoint.
func (p *Pipeline) epochBatch() *pebble.Batch {
	if p.batch == nil {
		p.batch = p.st.db.NewIndexedBatch()
	}
	return p.batch
}

// timeKey appends the order-preserving encoding of t.
func timeKey(k []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(k, uint64(t)^(1<<63))
}

func decodeTime(k []byte) int64 { return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)) }

// chunkKey is the key of a chunk of rows of a time bucket starting at t.
func chunkKey(prefix string, t int64, seq uint64) []byte {
	k := timeKey([]byte(prefix), t)
	return binary.BigEndian.AppendUint64(k, seq)
}

// chunkBound is the first key of the chunks of buckets starting at t.
func chunkBound(prefix string, t int64) []byte { return timeKey([]byte(prefix), t) }

// prefixEnd is the key just after every key with the prefix.
func prefixEnd(prefix string) []byte {
	k := []byte(prefix)
	k[len(k)-1]++
	return k
}

// chunksBefore iterates, in the epoch's batch, over the chunks of prefix
// whose time is before limit (all of them when limit is math.MaxInt64).
func (p *Pipeline) chunksBefore(prefix string, limit int64) (*pebble.Iterator, error) {
	upper := prefixEnd(prefix)
	if limit != math.MaxInt64 {
		upper = chunkBound(prefix, limit)
	}
	return p.epochBatch().NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: upper})
}

// encodeRecord encodes rec as Arrow IPC.
func encodeRecord(rec arrow.Record) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// putChunks stores the rows of rec with times ts (one per row) under
// prefix, one chunk per time bucket of width width (it releases nothing).
func (p *Pipeline) putChunks(ctx context.Context, prefix string, rec arrow.Record, ts []int64, width int64) error {
	type kv struct {
		bucket int64
		row    int32
	}
	rows := make([]kv, len(ts))
	for i, t := range ts {
		rows[i] = kv{floorDiv(t, width) * width, int32(i)}
	}
	// Rows of one bucket keep their order.
	slices.SortStableFunc(rows, func(a, b kv) int { return cmp.Compare(a.bucket, b.bucket) })
	b := p.epochBatch()
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].bucket == rows[i].bucket {
			j++
		}
		idx := make([]int32, 0, j-i)
		for _, r := range rows[i:j] {
			idx = append(idx, r.row)
		}
		part, err := p.take(ctx, rec, idx)
		if err != nil {
			return err
		}
		data, err := encodeRecord(part)
		part.Release()
		if err != nil {
			return err
		}
		p.m.Seq++
		if err := b.Set(chunkKey(prefix, rows[i].bucket, p.m.Seq), data, nil); err != nil {
			return fmt.Errorf("writing pipeline state: %w", err)
		}
		i = j
	}
	return nil
}

// take returns the rows idx of rec (a new record; rec itself, retained,
// when idx is every row in order).
func (p *Pipeline) take(ctx context.Context, rec arrow.Record, idx []int32) (arrow.Record, error) {
	if len(idx) == int(rec.NumRows()) {
		all := true
		for i, r := range idx {
			if int(r) != i {
				all = false
				break
			}
		}
		if all {
			rec.Retain()
			return rec, nil
		}
	}
	b := array.NewInt32Builder(p.spec.Mem.Alloc)
	b.AppendValues(idx, nil)
	ia := b.NewArray()
	b.Release()
	defer ia.Release()
	d, err := compute.Take(ctx, *compute.DefaultTakeOptions(), compute.NewDatum(rec), compute.NewDatum(ia))
	if err != nil {
		return nil, err
	}
	return d.(*compute.RecordDatum).Value, nil
}

// storedRows is what chunkScan and stateScan share: an operator over the
// Arrow records kept as the values of a Pebble iterator's range (their
// Open makes it), projected to cols.
type storedRows struct {
	p      *Pipeline
	schema *arrow.Schema
	cols   []int
	// check compares each record's columns with schema (sameColumns).
	check bool
	it    *pebble.Iterator
}

func (s *storedRows) Schema() *arrow.Schema { return projectSchema(s.schema, s.cols) }

func (s *storedRows) Next(ctx context.Context) (exec.Batch, bool, error) {
	if !s.it.Valid() {
		return exec.Batch{}, false, s.it.Error()
	}
	rec, err := decodeRecord(bytes.Clone(s.it.Value()), s.p.spec.Mem.Alloc)
	s.it.Next()
	if err != nil {
		return exec.Batch{}, false, fmt.Errorf("reading pipeline state: %w", err)
	}
	defer rec.Release()
	if s.check {
		if err := sameColumns(rec.Schema(), s.schema); err != nil {
			return exec.Batch{}, false, err
		}
	}
	return exec.Batch{Kind: exec.BatchData, Rec: project(rec, s.cols)}, true, nil
}

func (s *storedRows) Close() error {
	if s.it != nil {
		return s.it.Close()
	}
	return nil
}

// chunkScan reads the chunks of rows stored under prefix whose buckets
// start in [from, to], through the epoch's batch, checking their columns.
type chunkScan struct {
	storedRows
	prefix   string
	from, to int64
}

func (s *chunkScan) Open(ctx context.Context) error {
	upper := prefixEnd(s.prefix)
	if s.to != math.MaxInt64 {
		upper = chunkBound(s.prefix, s.to+1)
	}
	it, err := s.p.epochBatch().NewIter(&pebble.IterOptions{LowerBound: chunkBound(s.prefix, s.from), UpperBound: upper})
	if err != nil {
		return err
	}
	s.it = it
	it.First()
	return nil
}

// sameColumns checks that rows kept in the state (with schema got) are
// what the pipeline now keeps (want): a changed pipeline may keep other
// columns, and cannot resume from the old state.
func sameColumns(got, want *arrow.Schema) error {
	ok := got.NumFields() == want.NumFields()
	for i := 0; ok && i < got.NumFields(); i++ {
		ok = arrow.TypeEqual(got.Field(i).Type, want.Field(i).Type)
	}
	if !ok {
		return fmt.Errorf("the pipeline's state holds rows of columns %s, but the pipeline now keeps %s: it changed, and cannot resume from this state (drop the pipeline's state directory to start afresh)", fieldList(got), fieldList(want))
	}
	return nil
}

func fieldList(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// timesOf evaluates a TIMESTAMP expression over rec: the values (µs) and
// whether each is valid.
func timesOf(ctx context.Context, ev expr.Evaluator, rec arrow.Record) (*array.Timestamp, error) {
	a, err := ev.Eval(ctx, rec)
	if err != nil {
		return nil, err
	}
	ts, ok := a.(*array.Timestamp)
	if !ok {
		a.Release()
		return nil, fmt.Errorf("event time is %s, not a TIMESTAMP", a.DataType())
	}
	return ts, nil
}

// appendKey appends an encoding of row i of the arrays to k: equal values
// (NULL equal to NULL, as DISTINCT and PARTITION BY see them) encode
// equally, different values differently.
func appendKey(k []byte, arrs []arrow.Array, i int) []byte {
	for _, a := range arrs {
		if a.IsNull(i) {
			k = append(k, 0)
			continue
		}
		k = append(k, 1)
		switch x := a.(type) {
		case *array.Int64:
			k = binary.BigEndian.AppendUint64(k, uint64(x.Value(i)))
		case *array.Int32:
			k = binary.BigEndian.AppendUint32(k, uint32(x.Value(i)))
		case *array.Int16:
			k = binary.BigEndian.AppendUint16(k, uint16(x.Value(i)))
		case *array.Int8:
			k = append(k, byte(x.Value(i)))
		case *array.Float64:
			k = binary.BigEndian.AppendUint64(k, math.Float64bits(x.Value(i)+0)) // +0: -0 as 0
		case *array.Float32:
			k = binary.BigEndian.AppendUint32(k, math.Float32bits(x.Value(i)+0))
		case *array.Boolean:
			if x.Value(i) {
				k = append(k, 1)
			} else {
				k = append(k, 0)
			}
		case *array.String:
			k = binary.AppendUvarint(k, uint64(len(x.Value(i))))
			k = append(k, x.Value(i)...)
		case *array.LargeString:
			k = binary.AppendUvarint(k, uint64(len(x.Value(i))))
			k = append(k, x.Value(i)...)
		case *array.Binary:
			k = binary.AppendUvarint(k, uint64(len(x.Value(i))))
			k = append(k, x.Value(i)...)
		case *array.Timestamp:
			k = binary.BigEndian.AppendUint64(k, uint64(x.Value(i)))
		case *array.Date32:
			k = binary.BigEndian.AppendUint32(k, uint32(x.Value(i)))
		case *array.Decimal128:
			v := x.Value(i)
			k = binary.BigEndian.AppendUint64(k, uint64(v.HighBits()))
			k = binary.BigEndian.AppendUint64(k, v.LowBits())
		default:
			s := a.ValueStr(i)
			k = binary.AppendUvarint(k, uint64(len(s)))
			k = append(k, s...)
		}
	}
	return k
}

// addSat is a + b, saturated at the ends of int64.
func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

// stateKinds are the key prefixes of operator state, by operator.
func stateKinds() []struct{ prefix, name string } {
	return []struct{ prefix, name string }{
		{rowPrefix, "window rows"},
		{partialPrefix, "window partials"},
		{dedupKeys, "dedup keys"},
		{dedupRows, "dedup candidates"},
		{distinctKeys, "distinct rows"},
		{joinLeft, "join left chunks"},
		{joinRight, "join right chunks"},
		{joinMatched, "join matched left rows"},
	}
}

// StateEntries returns the number of entries of operator state in the
// last committed checkpoint, by kind ("dedup keys", "join left chunks",
// ...; kinds without entries are left out): how much state the watermark
// and state_ttl have let the pipeline keep.
func (p *Pipeline) StateEntries() (map[string]int, error) {
	out := map[string]int{}
	for _, k := range stateKinds() {
		it, err := p.st.db.NewIter(&pebble.IterOptions{LowerBound: []byte(k.prefix), UpperBound: prefixEnd(k.prefix)})
		if err != nil {
			return nil, err
		}
		n := 0
		for it.First(); it.Valid(); it.Next() {
			n++
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
		if n > 0 {
			out[k.name] = n
		}
	}
	return out, nil
}
