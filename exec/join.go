package exec

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/exec/expr"
)

// JoinKind is the kind of a join operator.
type JoinKind int

// The join kinds. Semi and Anti output only the left (probe) columns:
// the left rows that have a match, or that have none. RightSemi and
// RightAnti output only the right (build) columns: the right rows that
// some left row matches, or that none does; they run a SEMI or ANTI join
// whose outer side is the smaller input by building on it.
const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinFull
	JoinSemi
	JoinAnti
	JoinRightSemi
	JoinRightAnti
)

var joinKindNames = [...]string{"INNER", "LEFT", "RIGHT", "FULL", "SEMI", "ANTI", "RIGHT SEMI", "RIGHT ANTI"}

// leftOnly reports whether the kind outputs only the left columns.
func (k JoinKind) leftOnly() bool { return k == JoinSemi || k == JoinAnti }

// rightOnly reports whether the kind outputs only the right columns.
func (k JoinKind) rightOnly() bool { return k == JoinRightSemi || k == JoinRightAnti }

// tracksRight reports whether the kind records which right rows matched
// (and emits rows for them once the left input is done).
func (k JoinKind) tracksRight() bool {
	return k == JoinRight || k == JoinFull || k == JoinRightSemi || k == JoinRightAnti
}

// String returns the kind in upper case.
func (k JoinKind) String() string { return joinKindNames[k] }

// JoinSpec says how a join combines its inputs.
type JoinSpec struct {
	Kind JoinKind
	// LeftKeys and RightKeys are the equi-join keys, over the left and the
	// right input; key i of both sides has one type. No keys: a nested-loop
	// join.
	LeftKeys, RightKeys []expr.Evaluator
	// NullSafe marks keys compared with IS NOT DISTINCT FROM (NULL matches
	// NULL); other keys never match a NULL.
	NullSafe []bool
	// Residual is the rest of the ON condition, over the left columns
	// followed by the right columns (nil: none). A pair matches when the
	// keys are equal and Residual is TRUE.
	Residual expr.Evaluator
	// NullAware gives an Anti join the semantics of NOT IN over its single
	// key: a left row is dropped when its key equals a right key, and also
	// when either is NULL (the comparison is unknown), unless the right
	// side has no (matching-residual) rows at all.
	NullAware bool
}

// Join is the hash join and the nested-loop join. The right input is the
// build side: it is read whole into memory (accounted), its keys go into
// a keyTable whose groups chain their rows; then the left input streams
// through, each batch probed column-wise. Candidate pairs are gathered a
// batch at a time and filtered by the residual condition. Inner, left,
// right, full, semi and anti joins; NULL keys never match (except
// NullSafe ones).
//
// Without keys it is a nested-loop join: every right row is a candidate
// for every left row.
//
// In a stream the build side would be a table (stream-table join) read
// before the probe side starts, so control batches of the probe side pass
// through untouched; the build side must not carry any.
type Join struct {
	left, right Operator
	spec        JoinSpec
	schema      *arrow.Schema
	pairSchema  *arrow.Schema
	mem         *Memory
	acct        memAccount
	hs          *hasher
	batchSize   int

	built    bool
	build    *chunkedRecords
	table    *keyTable
	head     []int32 // per group: first build row
	next     []int32 // per build row: next row of its group
	nullRows []int32 // build rows with a NULL in a non-null-safe key
	// rMatched marks the right rows some left row matched (kinds that
	// track them); parallel probes share it, hence atomics. gMatched does
	// the same per key group for RightSemi and RightAnti joins without a
	// residual, whose probes mark groups; rowGroup is each build row's.
	rMatched  []atomic.Bool
	gMatched  []atomic.Bool
	rowGroup  []uint32
	rightRows int

	// The probe batch in progress.
	cur      arrow.Record
	groups   []uint32
	leftNull []bool // probe row has a NULL in a non-null-safe key
	lMatched []bool
	row      int   // candidate cursor: probe row
	stage    int   // 0: chain / all rows, 1: null rows (NullAware)
	pos      int32 // position in the chain or row list

	// filter, when set, is the runtime filter the join publishes its
	// table to once built (runtimefilter.go).
	filter *runtimeFilter

	// share, when set, is the build side this join shares with other
	// joins probing in parallel; only share.owner reads the right input.
	share *buildShare

	rightOut int  // cursor over the right rows emitted at the end
	tailing  bool // the left input is done: emitting right rows
	queue    []arrow.Record
	done     bool
	lidx     []int32
	ridx     []int32
	sel      []int32
}

// NewHashJoin returns a join of left and right; schema is the output
// (left columns then right columns, only left ones for Semi and Anti).
func NewHashJoin(left, right Operator, spec JoinSpec, schema *arrow.Schema, mem *Memory) *Join {
	return &Join{left: left, right: right, spec: spec, schema: schema, mem: mem,
		acct: memAccount{mem: mem, owner: spec.Kind.String() + " JOIN build side"}, hs: newHasher(), batchSize: DefaultBatchSize}
}

// NewNestedLoopJoin returns a join without equi-keys: cond (nil for a cross
// join) is evaluated over every pair of rows.
func NewNestedLoopJoin(left, right Operator, kind JoinKind, cond expr.Evaluator, schema *arrow.Schema, mem *Memory) *Join {
	return NewHashJoin(left, right, JoinSpec{Kind: kind, Residual: cond}, schema, mem)
}

// pairSchemaOf is the schema a join condition is evaluated over: the left
// columns followed by the right columns.
func pairSchemaOf(left, right *arrow.Schema) *arrow.Schema {
	fs := append(append([]arrow.Field(nil), left.Fields()...), right.Fields()...)
	for i := range fs {
		fs[i].Nullable = true
	}
	return arrow.NewSchema(fs, nil)
}

// Schema implements Operator.
func (j *Join) Schema() *arrow.Schema { return j.schema }

// Open implements Operator.
func (j *Join) Open(ctx context.Context) error {
	s := j.spec
	if len(s.LeftKeys) != len(s.RightKeys) || (s.NullSafe != nil && len(s.NullSafe) != len(s.LeftKeys)) {
		return fmt.Errorf("exec: join with %d left and %d right keys", len(s.LeftKeys), len(s.RightKeys))
	}
	if s.NullAware && (s.Kind != JoinAnti || len(s.LeftKeys) != 1) {
		return fmt.Errorf("exec: a NOT IN join is an anti join over one key")
	}
	types := make([]arrow.DataType, len(s.LeftKeys))
	for i := range s.LeftKeys {
		lt, rt := s.LeftKeys[i].Type(), s.RightKeys[i].Type()
		if !sameKeyType(lt, rt) {
			return fmt.Errorf("exec: join key %d compares %s with %s", i+1, lt, rt)
		}
		types[i] = rt
	}
	want := j.left.Schema().NumFields() + j.right.Schema().NumFields()
	switch {
	case s.Kind.leftOnly():
		want = j.left.Schema().NumFields()
	case s.Kind.rightOnly():
		want = j.right.Schema().NumFields()
	}
	if j.schema.NumFields() != want {
		return fmt.Errorf("exec: %s join output has %d columns, want %d", s.Kind, j.schema.NumFields(), want)
	}
	j.pairSchema = pairSchemaOf(j.left.Schema(), j.right.Schema())
	if len(types) > 0 {
		t, err := newKeyTable(j.hs, types)
		if err != nil {
			return err
		}
		j.table = t
	}
	if err := j.left.Open(ctx); err != nil {
		return err
	}
	if j.share != nil && j.share.owner != j {
		return nil
	}
	return j.right.Open(ctx)
}

// sameKeyType reports whether two key types compare value by value:
// equal types, or decimals of one scale.
func sameKeyType(a, b arrow.DataType) bool {
	if arrow.TypeEqual(a, b) {
		return true
	}
	da, ok1 := a.(*arrow.Decimal128Type)
	db, ok2 := b.(*arrow.Decimal128Type)
	return ok1 && ok2 && da.Scale == db.Scale
}

func (j *Join) nullSafe(k int) bool { return j.spec.NullSafe != nil && j.spec.NullSafe[k] }

// keyNulls marks the rows with a NULL in a key that is not null-safe.
func (j *Join) keyNulls(keys []arrow.Array, n int, out []bool) []bool {
	out = grow(out[:0], n)
	clear(out)
	for k, a := range keys {
		if j.nullSafe(k) || a.NullN() == 0 {
			continue
		}
		v := validityOf(a)
		for i := 0; i < n; i++ {
			if !v.valid(i) {
				out[i] = true
			}
		}
	}
	return out
}

// buildSide reads the right input and indexes it.
func (j *Join) buildSide(ctx context.Context) error {
	var buf bufferedInput
	defer buf.release()
	for {
		b, ok, err := j.right.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if b.Kind != BatchData {
			return controlError("JOIN build side", b)
		}
		keys, err := evalAll(ctx, j.spec.RightKeys, b.Rec)
		if err != nil {
			b.Rec.Release()
			return err
		}
		if err := j.acct.add(buf.add(b.Rec, keys)); err != nil {
			return err
		}
	}
	types := make([]arrow.DataType, len(j.spec.RightKeys))
	for i, k := range j.spec.RightKeys {
		types[i] = k.Type()
	}
	keys, err := buf.concatKeys(j.mem, types)
	if err != nil {
		return err
	}
	defer releaseArrays(keys)
	n := buf.rows
	held := j.acct.held
	j.build = newChunkedRecords(j.right.Schema(), buf.takeRecords())
	j.rightRows = n
	if j.spec.Kind.tracksRight() {
		j.rMatched = make([]atomic.Bool, n)
	}
	if j.table != nil {
		skip := j.keyNulls(keys, n, nil)
		for i, s := range skip {
			if s {
				j.nullRows = append(j.nullRows, int32(i))
			}
		}
		j.table.reserve(n)
		groups := j.table.insertRows(keys, n, nil, skip)
		ng := j.table.len()
		j.head = make([]int32, ng)
		for g := range j.head {
			j.head[g] = -1
		}
		j.next = make([]int32, n)
		if j.spec.Kind.rightOnly() && j.spec.Residual == nil {
			j.gMatched = make([]atomic.Bool, ng)
			j.rowGroup = groups
		}
		for i := n - 1; i >= 0; i-- {
			j.next[i] = -1
			g := groups[i]
			if g == notFound {
				continue
			}
			j.next[i] = j.head[g]
			j.head[g] = int32(i)
		}
	}
	if j.filter != nil && j.table != nil {
		ns := make([]bool, len(j.spec.LeftKeys))
		for k := range ns {
			ns[k] = j.nullSafe(k)
		}
		j.filter.publish(j.table, ns)
	}
	held += int64(len(j.head)+len(j.next)+len(j.nullRows)+len(j.rMatched)+len(j.gMatched)+len(j.rowGroup)) * 4
	if j.table != nil {
		held += j.table.bytes()
	}
	return j.acct.set(held)
}

// startProbe prepares a probe batch.
func (j *Join) startProbe(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	j.cur = rec
	j.row, j.stage, j.pos = 0, 0, -1
	j.lMatched = grow(j.lMatched[:0], n)
	clear(j.lMatched)
	if j.table == nil {
		return nil
	}
	keys, err := evalAll(ctx, j.spec.LeftKeys, rec)
	if err != nil {
		return err
	}
	defer releaseArrays(keys)
	j.leftNull = j.keyNulls(keys, n, j.leftNull)
	j.groups = j.table.lookupRows(keys, n, j.groups, j.leftNull)
	return nil
}

// candidates fills j.lidx/j.ridx with up to batchSize candidate pairs of
// the current probe batch, resuming where the last call stopped; it
// returns false when the batch has no more.
func (j *Join) candidates() bool {
	j.lidx, j.ridx = j.lidx[:0], j.ridx[:0]
	n := int(j.cur.NumRows())
	semi := j.spec.Kind.leftOnly()
	rsemi := j.spec.Kind.rightOnly()
	if !semi && !rsemi && j.table != nil && !j.spec.NullAware {
		// Inner, left, right and full joins: follow each probe row's
		// chain of build rows (pos -1: the chain is not started).
		groups, head, next := j.groups, j.head, j.next
		for j.row < n && len(j.lidx) < j.batchSize {
			i := j.row
			if j.pos < 0 {
				g := groups[i]
				if g == notFound {
					j.row++
					continue
				}
				j.pos = head[g]
			} else if j.pos = next[j.pos]; j.pos < 0 {
				j.advance()
				continue
			}
			j.lidx = append(j.lidx, int32(i))
			j.ridx = append(j.ridx, j.pos)
		}
		return len(j.lidx) > 0
	}
	for j.row < n && len(j.lidx) < j.batchSize {
		i := j.row
		if semi && j.lMatched[i] {
			j.advance()
			continue
		}
		r := j.nextCandidate(i)
		if r < 0 {
			j.advance()
			continue
		}
		if rsemi && j.rMatched[r].Load() {
			// Decided already: no need to look at the pair.
			continue
		}
		j.lidx = append(j.lidx, int32(i))
		j.ridx = append(j.ridx, r)
	}
	return len(j.lidx) > 0
}

func (j *Join) advance() { j.row, j.stage, j.pos = j.row+1, 0, -1 }

// nextCandidate returns the next build row to pair with probe row i, or -1.
func (j *Join) nextCandidate(i int) int32 {
	all := j.table == nil || (j.spec.NullAware && j.leftNull[i])
	for {
		switch {
		case j.stage == 0 && all:
			j.pos++
			if int(j.pos) < j.rightRows {
				return j.pos
			}
		case j.stage == 0:
			if j.pos < 0 {
				if g := j.groups[i]; g != notFound {
					j.pos = j.head[g]
				}
			} else {
				j.pos = j.next[j.pos]
			}
			if j.pos >= 0 {
				return j.pos
			}
			if j.spec.NullAware {
				j.stage, j.pos = 1, -1
				continue
			}
		case j.stage == 1:
			j.pos++
			if int(j.pos) < len(j.nullRows) {
				return j.nullRows[j.pos]
			}
		}
		return -1
	}
}

// gather builds the record of pairs (lidx[k], ridx[k]) under schema: left
// columns, then right columns unless leftOnly. A negative index gives
// NULLs on that side.
func (j *Join) gather(schema *arrow.Schema, lidx, ridx []int32, leftOnly bool) (arrow.Record, error) {
	cols := make([]arrow.Array, 0, schema.NumFields())
	if identity(lidx, int(j.cur.NumRows())) {
		// Every probe row once, in order (a foreign key whose rows all
		// match): the probe columns as they are.
		for _, c := range j.cur.Columns() {
			c.Retain()
			cols = append(cols, c)
		}
	}
	for _, c := range j.cur.Columns()[len(cols):] {
		a, err := takeArray(j.mem.Alloc, c, lidx)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, a)
	}
	if !leftOnly {
		j.build.refs = locate(j.build.starts, ridx, j.build.refs)
		for _, c := range j.build.cols {
			a, err := c.take(j.mem.Alloc, j.build.refs)
			if err != nil {
				releaseArrays(cols)
				return nil, err
			}
			cols = append(cols, a)
		}
	}
	return newRecord(schema, cols, len(lidx)), nil
}

// identity reports whether idx is 0, 1, ..., n-1.
func identity(idx []int32, n int) bool {
	if len(idx) != n {
		return false
	}
	for i, x := range idx {
		if int(x) != i {
			return false
		}
	}
	return true
}

// pairs turns the current candidates into output: it applies the
// residual, records matches, and returns the inner rows (nil when the join
// kind emits none here, or none matched).
func (j *Join) pairs(ctx context.Context) (arrow.Record, error) {
	lidx, ridx := j.lidx, j.ridx
	kind := j.spec.Kind
	emits := !kind.leftOnly() && !kind.rightOnly()
	var rec arrow.Record
	if j.spec.Residual != nil || emits {
		var err error
		if rec, err = j.gather(j.pairSchema, lidx, ridx, false); err != nil {
			return nil, err
		}
	}
	if j.spec.Residual != nil {
		c, err := j.spec.Residual.Eval(ctx, rec)
		if err != nil {
			rec.Release()
			return nil, err
		}
		j.sel = selectTrue(c, j.sel[:0])
		c.Release()
		if len(j.sel) < len(lidx) {
			l2 := make([]int32, len(j.sel))
			r2 := make([]int32, len(j.sel))
			for k, s := range j.sel {
				l2[k], r2[k] = lidx[s], ridx[s]
			}
			lidx, ridx = l2, r2
			if emits && len(j.sel) > 0 {
				out, err := takeRecord(j.mem.Alloc, j.schema, rec, j.sel)
				rec.Release()
				if err != nil {
					return nil, err
				}
				rec = out
			}
		}
	}
	for _, l := range lidx {
		j.lMatched[l] = true
	}
	if j.rMatched != nil {
		for _, r := range ridx {
			if !j.rMatched[r].Load() {
				j.rMatched[r].Store(true)
			}
		}
	}
	if !emits || len(lidx) == 0 {
		if rec != nil {
			rec.Release()
		}
		return nil, nil
	}
	return relabel(j.schema, rec), nil
}

// probeTail returns the rows a finished probe batch adds: unmatched left
// rows of LEFT and FULL joins, the matched (SEMI) or unmatched (ANTI) ones.
func (j *Join) probeTail() (arrow.Record, error) {
	var idx []int32
	switch j.spec.Kind {
	case JoinLeft, JoinFull, JoinAnti:
		for i, m := range j.lMatched {
			if !m {
				idx = append(idx, int32(i))
			}
		}
	case JoinSemi:
		for i, m := range j.lMatched {
			if m {
				idx = append(idx, int32(i))
			}
		}
	default:
		return nil, nil
	}
	if len(idx) == 0 {
		return nil, nil
	}
	if j.spec.Kind == JoinSemi || j.spec.Kind == JoinAnti {
		if len(idx) == int(j.cur.NumRows()) {
			j.cur.Retain()
			return relabel(j.schema, j.cur), nil
		}
		return j.gather(j.schema, idx, nil, true)
	}
	none := make([]int32, len(idx))
	for k := range none {
		none[k] = -1
	}
	return j.gather(j.schema, idx, none, false)
}

// semiFast decides SEMI and ANTI joins without residual from the lookup
// alone.
func (j *Join) semiFast() {
	for i := range j.lMatched {
		switch {
		case j.table == nil:
			j.lMatched[i] = j.rightRows > 0
		case j.groups[i] != notFound:
			j.lMatched[i] = true
		case j.spec.NullAware:
			j.lMatched[i] = len(j.nullRows) > 0 || (j.leftNull[i] && j.rightRows > 0)
		}
	}
	j.row = len(j.lMatched)
}

// markGroups decides RIGHT SEMI and RIGHT ANTI joins without residual
// from the lookup alone: every key group a probe row found is matched.
func (j *Join) markGroups() {
	if j.gMatched == nil {
		return
	}
	for _, g := range j.groups {
		if g != notFound && !j.gMatched[g].Load() {
			j.gMatched[g].Store(true)
		}
	}
	j.row = len(j.lMatched)
}

// rightMatched reports whether some left row matched right row r.
func (j *Join) rightMatched(r int) bool {
	if j.rMatched[r].Load() {
		return true
	}
	if j.gMatched == nil {
		return false
	}
	g := j.rowGroup[r]
	return g != notFound && j.gMatched[g].Load()
}

// rightTail returns the next chunk of the right rows a join emits once its
// left input is done: the unmatched ones of RIGHT, FULL and RIGHT ANTI
// joins, the matched ones of RIGHT SEMI joins; nil at the end.
func (j *Join) rightTail() (arrow.Record, error) {
	var ridx []int32
	want := j.spec.Kind == JoinRightSemi
	for j.rightOut < j.rightRows && len(ridx) < j.batchSize {
		if j.rightMatched(j.rightOut) == want {
			ridx = append(ridx, int32(j.rightOut))
		}
		j.rightOut++
	}
	if len(ridx) == 0 {
		return nil, nil
	}
	cols := make([]arrow.Array, 0, j.schema.NumFields())
	for i := 0; i < j.left.Schema().NumFields() && !j.spec.Kind.rightOnly(); i++ {
		a, err := nullArray(j.mem.Alloc, j.left.Schema().Field(i).Type, len(ridx))
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, a)
	}
	j.build.refs = locate(j.build.starts, ridx, j.build.refs)
	for _, c := range j.build.cols {
		a, err := c.take(j.mem.Alloc, j.build.refs)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, a)
	}
	return newRecord(j.schema, cols, len(ridx)), nil
}

// Next implements Operator.
func (j *Join) Next(ctx context.Context) (Batch, bool, error) {
	if !j.built {
		j.built = true
		if j.share != nil {
			if err := j.share.get(ctx, j); err != nil {
				return Batch{}, false, err
			}
		} else if err := j.buildSide(ctx); err != nil {
			return Batch{}, false, err
		}
	}
	for !j.done {
		if j.cur == nil {
			b, ok, err := j.left.Next(ctx)
			if err != nil {
				return Batch{}, false, err
			}
			if !ok {
				if !j.tailing && (j.rMatched == nil || !j.lastProbe()) {
					j.done = true
					continue
				}
				j.tailing = true
				out, err := j.rightTail()
				if err != nil {
					return Batch{}, false, err
				}
				if out == nil {
					j.done = true
					continue
				}
				return Batch{Kind: BatchData, Rec: out}, true, nil
			}
			if b.Kind != BatchData {
				return b, true, nil
			}
			if b.Rec.NumRows() == 0 {
				b.Rec.Release()
				continue
			}
			if err := j.startProbe(ctx, b.Rec); err != nil {
				return Batch{}, false, err
			}
			if j.spec.Residual == nil {
				switch {
				case j.spec.Kind.leftOnly():
					j.semiFast()
				case j.spec.Kind.rightOnly():
					j.markGroups()
				}
			}
		}
		if j.candidates() {
			out, err := j.pairs(ctx)
			if err != nil {
				return Batch{}, false, err
			}
			if out != nil {
				return Batch{Kind: BatchData, Rec: out}, true, nil
			}
			continue
		}
		out, err := j.probeTail()
		j.cur.Release()
		j.cur = nil
		if err != nil {
			return Batch{}, false, err
		}
		if out != nil {
			return Batch{Kind: BatchData, Rec: out}, true, nil
		}
	}
	return Batch{}, false, nil
}

// Close implements Operator.
func (j *Join) Close() error {
	if j.cur != nil {
		j.cur.Release()
		j.cur = nil
	}
	if j.share != nil && j.share.owner != j {
		// The owner releases the shared build side.
		j.build = nil
		return j.left.Close()
	}
	if j.build != nil {
		j.build.release()
		j.build = nil
	}
	j.acct.close()
	err := j.left.Close()
	if err2 := j.right.Close(); err == nil {
		err = err2
	}
	return err
}

// buildShare is the build side of joins that probe in parallel (each over
// its share of the left input): the first to need it builds it, in the
// owner (the join that reads the right input), and gives every other join
// a view of it (clones of the owner's lookup state), before any probe
// starts; nobody writes the build side after that, except the marks of
// matched right rows (atomics) of kinds that track them. Those kinds emit
// their right rows after the last probe ends: probing counts the joins
// still probing, and the one that brings it to zero emits them.
type buildShare struct {
	once    sync.Once
	owner   *Join
	joins   []*Join
	err     error
	probing atomic.Int32
}

// shareBuild makes joins (of one right input, the first join's, and one
// spec) share their build side.
func shareBuild(joins []*Join) {
	s := &buildShare{owner: joins[0], joins: joins}
	s.probing.Store(int32(len(joins)))
	for _, j := range joins {
		j.share = s
		j.hs = s.owner.hs
	}
}

// lastProbe reports, when j's left input is done, whether j emits the
// right rows: it is alone, or the last of the joins sharing its build side
// to finish probing.
func (j *Join) lastProbe() bool {
	return j.share == nil || j.share.probing.Add(-1) == 0
}

// get builds the shared side once, with the views of all joins.
func (s *buildShare) get(ctx context.Context, j *Join) error {
	s.once.Do(func() {
		o := s.owner
		if s.err = o.buildSide(ctx); s.err != nil {
			return
		}
		for _, x := range s.joins[1:] {
			b := *o.build
			b.refs = nil
			x.build = &b
			if o.table != nil {
				x.table = o.table.clone()
			}
			x.head, x.next, x.nullRows, x.rightRows = o.head, o.next, o.nullRows, o.rightRows
			x.rMatched, x.gMatched, x.rowGroup = o.rMatched, o.gMatched, o.rowGroup
		}
	})
	return s.err
}
