package exec

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// WindowFuncKind is a window function.
type WindowFuncKind int

// The window functions. WinAggregate is an aggregate (WindowFunc.Agg) over
// the frame.
const (
	WinRowNumber WindowFuncKind = iota
	WinRank
	WinDenseRank
	WinPercentRank
	WinCumeDist
	WinNtile
	WinLag
	WinLead
	WinFirstValue
	WinLastValue
	WinNthValue
	WinAggregate
)

// FrameMode is ROWS, RANGE or GROUPS: the planner's.
type FrameMode = planner.FrameMode

// BoundKind is the kind of a frame bound: the planner's.
type BoundKind = planner.BoundKind

// The frame modes and bound kinds, as the planner names them.
const (
	FrameRows          = planner.FrameRows
	FrameRange         = planner.FrameRange
	FrameGroups        = planner.FrameGroups
	UnboundedPreceding = planner.UnboundedPreceding
	Preceding          = planner.Preceding
	CurrentRow         = planner.CurrentRow
	Following          = planner.Following
	UnboundedFollowing = planner.UnboundedFollowing
)

// FrameBound is one end of a frame. Offset (Preceding and Following) is a
// constant expression: a non-negative integer for ROWS and GROUPS; for
// RANGE a value of the ORDER BY key's type (an INTERVAL for temporal keys).
type FrameBound struct {
	Kind   BoundKind
	Offset expr.Evaluator
}

// Frame is a window frame. A nil *Frame is the default: RANGE BETWEEN
// UNBOUNDED PRECEDING AND CURRENT ROW with an ORDER BY (the current row's
// peers included), the whole partition without.
type Frame struct {
	Mode       FrameMode
	Start, End FrameBound
}

// WindowFunc is one window function: Kind (Agg when Kind is WinAggregate)
// over Args, Type its result type. Out is its output column among the
// functions of the Window operator (0 for the first function column).
type WindowFunc struct {
	Kind     WindowFuncKind
	Agg      AggKind
	Args     []expr.Evaluator
	Distinct bool
	Frame    *Frame
	Type     arrow.DataType
	Out      int
}

// WindowGroup is a set of window functions over one partitioning and
// ordering.
type WindowGroup struct {
	PartitionBy []expr.Evaluator
	OrderBy     []SortKey
	Funcs       []WindowFunc
}

// Window computes window functions: its output is its input's columns
// followed by one column per function, rows in input order. It buffers
// its input (accounted), and for each WindowGroup sorts row indices by
// partition and order keys, finds partitions and peer groups, and
// computes each function over sorted positions: ranks directly, count /
// sum / avg with a sliding accumulator over the frame, min / max with a
// monotonic deque, value functions by index, other aggregates per frame.
//
// It is a pipeline breaker over bounded input; a watermark or barrier is
// an error (a streaming OVER would need the stream runtime's state).
type Window struct {
	input  Operator
	groups []WindowGroup
	schema *arrow.Schema
	mem    *Memory
	acct   memAccount
	hs     *hasher
	out    chunker
	done   bool
	nfuncs int
}

// NewWindow returns the window operator; schema is input's columns and
// then the functions' columns.
func NewWindow(input Operator, groups []WindowGroup, schema *arrow.Schema, mem *Memory) *Window {
	return &Window{input: input, groups: groups, schema: schema, mem: mem,
		acct: memAccount{mem: mem, owner: "window functions"}, hs: newHasher()}
}

// Schema implements Operator.
func (w *Window) Schema() *arrow.Schema { return w.schema }

// Open implements Operator.
func (w *Window) Open(ctx context.Context) error {
	nin := w.input.Schema().NumFields()
	seen := map[int]bool{}
	for _, g := range w.groups {
		for _, f := range g.Funcs {
			if f.Out < 0 || nin+f.Out >= w.schema.NumFields() || seen[f.Out] {
				return fmt.Errorf("exec: window function output column %d is invalid", f.Out)
			}
			seen[f.Out] = true
			if !arrow.TypeEqual(w.schema.Field(nin+f.Out).Type, f.Type) {
				return fmt.Errorf("exec: window function %d gives %s, the output column is %s", f.Out+1, f.Type, w.schema.Field(nin+f.Out).Type)
			}
			if err := checkWindowType(f); err != nil {
				return err
			}
			w.nfuncs++
		}
	}
	if nin+w.nfuncs != w.schema.NumFields() {
		return fmt.Errorf("exec: window output has %d columns, want %d", w.schema.NumFields(), nin+w.nfuncs)
	}
	return w.input.Open(ctx)
}

// checkWindowType checks that a function's result type is the one its
// kernel produces.
func checkWindowType(f WindowFunc) error {
	want := arrow.Type(-1)
	switch f.Kind {
	case WinRowNumber, WinRank, WinDenseRank, WinNtile:
		want = arrow.INT64
	case WinPercentRank, WinCumeDist:
		want = arrow.FLOAT64
	case WinLag, WinLead, WinFirstValue, WinLastValue, WinNthValue:
		if len(f.Args) == 0 || !arrow.TypeEqual(f.Args[0].Type(), f.Type) {
			return fmt.Errorf("exec: window function %d gives %s, not its argument's type", f.Out+1, f.Type)
		}
		if f.Kind == WinLag || f.Kind == WinLead {
			if len(f.Args) == 3 && !arrow.TypeEqual(f.Args[2].Type(), f.Type) {
				return fmt.Errorf("exec: the default of lag/lead is %s, not %s", f.Args[2].Type(), f.Type)
			}
		}
	}
	if want >= 0 && f.Type.ID() != want {
		return fmt.Errorf("exec: window function %d gives %s, not %s", f.Out+1, want, f.Type)
	}
	return nil
}

// Next implements Operator.
func (w *Window) Next(ctx context.Context) (Batch, bool, error) {
	if !w.done {
		w.done = true
		if err := w.compute(ctx); err != nil {
			return Batch{}, false, err
		}
	}
	r, ok := w.out.next()
	if !ok {
		return Batch{}, false, nil
	}
	return Batch{Kind: BatchData, Rec: r}, true, nil
}

// Close implements Operator.
func (w *Window) Close() error {
	w.out.release()
	w.acct.close()
	return w.input.Close()
}

func (w *Window) compute(ctx context.Context) error {
	var buf bufferedInput
	defer buf.release()
	for {
		b, ok, err := w.input.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if b.Kind != BatchData {
			return controlError("window function", b)
		}
		if err := w.acct.add(buf.add(b.Rec, nil)); err != nil {
			return err
		}
	}
	if err := w.acct.add(w.acct.held); err != nil {
		return err
	}
	rec, _, err := buf.concat(w.mem, w.input.Schema(), nil)
	if err != nil {
		return err
	}
	defer rec.Release()
	n := int(rec.NumRows())
	cols := make([]arrow.Array, w.schema.NumFields())
	defer func() { releaseArrays(cols) }()
	for i, c := range rec.Columns() {
		c.Retain()
		cols[i] = c
	}
	nin := int(rec.NumCols())
	for _, g := range w.groups {
		if err := w.computeGroup(ctx, rec, g, cols[nin:]); err != nil {
			return err
		}
		var held int64
		for _, c := range cols {
			if c != nil {
				held += arrayBytes(c)
			}
		}
		if err := w.acct.set(recordBytes(rec) + held); err != nil {
			return err
		}
	}
	out := newRecord(w.schema, cols, n)
	cols = nil
	w.out = chunker{rec: out, size: DefaultBatchSize}
	return nil
}

// winCtx is one WindowGroup over the buffered rows, in sorted order.
type winCtx struct {
	n         int
	perm      []int32 // sorted position -> row
	partStart []int32 // per sorted position
	partEnd   []int32
	peerStart []int32
	peerEnd   []int32
	peerNo    []int32 // peer group number within the partition
	// Per partition, the start of each peer group (for GROUPS frames).
	groupStarts [][]int32
	partOf      []int32 // sorted position -> partition number
	orderKeys   []arrow.Array
	orderSpec   []SortKey
}

func (w *Window) computeGroup(ctx context.Context, rec arrow.Record, g WindowGroup, outs []arrow.Array) error {
	n := int(rec.NumRows())
	parts, err := evalAll(ctx, g.PartitionBy, rec)
	if err != nil {
		return err
	}
	defer releaseArrays(parts)
	orders, err := evalAll(ctx, keyExprs(g.OrderBy), rec)
	if err != nil {
		return err
	}
	defer releaseArrays(orders)
	spec := append(make([]SortKey, len(parts)), g.OrderBy...)
	perm, err := sortPerm(append(append([]arrow.Array(nil), parts...), orders...), spec, n)
	if err != nil {
		return err
	}
	wc := &winCtx{n: n, perm: perm, orderKeys: orders, orderSpec: g.OrderBy,
		partStart: make([]int32, n), partEnd: make([]int32, n),
		peerStart: make([]int32, n), peerEnd: make([]int32, n), peerNo: make([]int32, n), partOf: make([]int32, n)}
	samePart, err := eqCmp(parts, parts)
	if err != nil {
		return err
	}
	samePeer, err := eqCmp(orders, orders)
	if err != nil {
		return err
	}
	for ps := 0; ps < n; {
		pe := ps + 1
		for pe < n && samePart(int(perm[pe-1]), int(perm[pe])) == 0 {
			pe++
		}
		var starts []int32
		for qs := ps; qs < pe; {
			qe := qs + 1
			for qe < pe && samePeer(int(perm[qe-1]), int(perm[qe])) == 0 {
				qe++
			}
			for k := qs; k < qe; k++ {
				wc.peerStart[k], wc.peerEnd[k], wc.peerNo[k] = int32(qs), int32(qe), int32(len(starts))
			}
			starts = append(starts, int32(qs))
			qs = qe
		}
		for k := ps; k < pe; k++ {
			wc.partStart[k], wc.partEnd[k], wc.partOf[k] = int32(ps), int32(pe), int32(len(wc.groupStarts))
		}
		wc.groupStarts = append(wc.groupStarts, append(starts, int32(pe)))
		ps = pe
	}
	for _, f := range g.Funcs {
		a, err := w.computeFunc(ctx, rec, wc, f)
		if err != nil {
			return err
		}
		outs[f.Out] = a
	}
	return nil
}

// constValue evaluates a constant expression (a frame offset) to an
// array of one value.
func constValue(ctx context.Context, e expr.Evaluator) (arrow.Array, error) {
	in := oneRow()
	defer in.Release()
	return e.Eval(ctx, in)
}

// constInt evaluates a constant non-negative integer expression.
func constInt(ctx context.Context, e expr.Evaluator, what string) (int64, error) {
	a, err := constValue(ctx, e)
	if err != nil {
		return 0, err
	}
	defer a.Release()
	v, ok := intAt(a, 0)
	if !ok {
		return 0, fmt.Errorf("%s must not be NULL", what)
	}
	if v < 0 {
		return 0, fmt.Errorf("%s must not be negative", what)
	}
	return v, nil
}

// intAt reads row i of an integer array as int64; ok is false for NULL or
// a non-integer type.
func intAt(a arrow.Array, i int) (int64, bool) {
	if !validityOf(a).valid(i) {
		return 0, false
	}
	switch physOf(a.DataType()) {
	case physInt8:
		return int64(fixedVals[int8](a)[i]), true
	case physInt16:
		return int64(fixedVals[int16](a)[i]), true
	case physInt32:
		return int64(fixedVals[int32](a)[i]), true
	case physInt64:
		return fixedVals[int64](a)[i], true
	}
	return 0, false
}

func (w *Window) computeFunc(ctx context.Context, rec arrow.Record, wc *winCtx, f WindowFunc) (arrow.Array, error) {
	n := wc.n
	mem := w.mem.Alloc
	switch f.Kind {
	case WinRowNumber, WinRank, WinDenseRank:
		out := make([]int64, n)
		for k, r := range wc.perm {
			switch f.Kind {
			case WinRowNumber:
				out[r] = int64(k) - int64(wc.partStart[k]) + 1
			case WinRank:
				out[r] = int64(wc.peerStart[k]-wc.partStart[k]) + 1
			default:
				out[r] = int64(wc.peerNo[k]) + 1
			}
		}
		return makeFixed(mem, f.Type, out, nil), nil
	case WinPercentRank, WinCumeDist:
		out := make([]float64, n)
		for k, r := range wc.perm {
			size := float64(wc.partEnd[k] - wc.partStart[k])
			if f.Kind == WinCumeDist {
				out[r] = float64(wc.peerEnd[k]-wc.partStart[k]) / size
			} else if size > 1 {
				out[r] = float64(wc.peerStart[k]-wc.partStart[k]) / (size - 1)
			}
		}
		return makeFixed(mem, f.Type, out, nil), nil
	case WinNtile:
		return w.ntile(ctx, rec, wc, f)
	case WinLag, WinLead:
		return w.lagLead(ctx, rec, wc, f)
	}
	fr, err := w.frames(ctx, wc, f.Frame)
	if err != nil {
		return nil, err
	}
	args, err := evalAll(ctx, f.Args, rec)
	if err != nil {
		return nil, err
	}
	defer releaseArrays(args)
	switch f.Kind {
	case WinFirstValue, WinLastValue, WinNthValue:
		nth := int64(1)
		if f.Kind == WinNthValue {
			if len(args) != 2 {
				return nil, fmt.Errorf("exec: nth_value takes 2 arguments")
			}
		}
		idx := make([]int32, n)
		for k, r := range wc.perm {
			s, e := fr.start[k], fr.end[k]
			idx[r] = -1
			switch f.Kind {
			case WinFirstValue:
				if s < e {
					idx[r] = wc.perm[s]
				}
			case WinLastValue:
				if s < e {
					idx[r] = wc.perm[e-1]
				}
			default:
				v, ok := intAt(args[1], int(r))
				if !ok {
					continue
				}
				if v <= 0 {
					return nil, fmt.Errorf("argument of nth_value must be greater than zero")
				}
				nth = v
				if int64(s)+nth-1 < int64(e) {
					idx[r] = wc.perm[int64(s)+nth-1]
				}
			}
		}
		return takeArray(mem, args[0], idx)
	case WinAggregate:
		return w.frameAggregate(wc, fr, f, args)
	}
	return nil, fmt.Errorf("exec: window function kind %d is not supported", f.Kind)
}

func (w *Window) ntile(ctx context.Context, rec arrow.Record, wc *winCtx, f WindowFunc) (arrow.Array, error) {
	args, err := evalAll(ctx, f.Args, rec)
	if err != nil {
		return nil, err
	}
	defer releaseArrays(args)
	out := make([]int64, wc.n)
	valid := make([]bool, wc.n)
	for k, r := range wc.perm {
		first := wc.perm[wc.partStart[k]]
		buckets, ok := intAt(args[0], int(first))
		if !ok {
			continue
		}
		if buckets <= 0 {
			return nil, fmt.Errorf("argument of ntile must be greater than zero")
		}
		size := int64(wc.partEnd[k] - wc.partStart[k])
		pos := int64(k) - int64(wc.partStart[k])
		q, rem := size/buckets, size%buckets
		if pos < rem*(q+1) {
			out[r] = pos/(q+1) + 1
		} else {
			out[r] = (pos-rem*(q+1))/q + rem + 1
		}
		valid[r] = true
	}
	return makeFixed(w.mem.Alloc, f.Type, out, valid), nil
}

// lagLead is lag/lead(value [, offset [, default]]): the value offset rows
// before (lag) or after (lead) in the partition, default (NULL) past its
// ends.
func (w *Window) lagLead(ctx context.Context, rec arrow.Record, wc *winCtx, f WindowFunc) (arrow.Array, error) {
	args, err := evalAll(ctx, f.Args, rec)
	if err != nil {
		return nil, err
	}
	defer releaseArrays(args)
	n := wc.n
	src := args[0]
	if len(args) == 3 {
		// Index n+r reads the default of row r.
		c, err := concatArrays(w.mem.Alloc, src.DataType(), []arrow.Array{args[0], args[2]})
		if err != nil {
			return nil, err
		}
		defer c.Release()
		src = c
	}
	idx := make([]int32, n)
	for k, r := range wc.perm {
		off := int64(1)
		if len(args) >= 2 {
			v, ok := intAt(args[1], int(r))
			if !ok {
				idx[r] = -1
				continue
			}
			off = v
		}
		if f.Kind == WinLag {
			off = -off
		}
		t := int64(k) + off
		switch {
		case t >= int64(wc.partStart[k]) && t < int64(wc.partEnd[k]):
			idx[r] = wc.perm[t]
		case len(args) == 3:
			idx[r] = int32(n) + r
		default:
			idx[r] = -1
		}
	}
	return takeArray(w.mem.Alloc, src, idx)
}

// frames holds each sorted position's frame [start, end) in sorted
// positions.
type frames struct {
	start, end []int32
	whole      bool // every frame is the whole partition
}

func (w *Window) frames(ctx context.Context, wc *winCtx, f *Frame) (*frames, error) {
	if f == nil {
		if len(wc.orderSpec) == 0 {
			f = &Frame{Mode: FrameRows, Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
		} else {
			f = &Frame{Mode: FrameRange, Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: CurrentRow}}
		}
	}
	if f.Start.Kind == UnboundedFollowing || f.End.Kind == UnboundedPreceding {
		return nil, fmt.Errorf("frame start cannot be UNBOUNDED FOLLOWING and frame end cannot be UNBOUNDED PRECEDING")
	}
	fr := &frames{start: make([]int32, wc.n), end: make([]int32, wc.n),
		whole: f.Start.Kind == UnboundedPreceding && f.End.Kind == UnboundedFollowing}
	var startOff, endOff int64
	var rng *rangeOffsets
	for i, b := range []FrameBound{f.Start, f.End} {
		if b.Kind != Preceding && b.Kind != Following {
			continue
		}
		if b.Offset == nil {
			return nil, fmt.Errorf("exec: frame offset missing")
		}
		if f.Mode == FrameRange {
			if rng == nil {
				if len(wc.orderKeys) != 1 {
					return nil, fmt.Errorf("RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
				}
				rng = &rangeOffsets{key: wc.orderKeys[0], desc: wc.orderSpec[0].Desc}
			}
			a, err := constValue(ctx, b.Offset)
			if err != nil {
				return nil, err
			}
			err = rng.setOffset(i, a)
			a.Release()
			if err != nil {
				return nil, err
			}
			continue
		}
		v, err := constInt(ctx, b.Offset, "frame offset")
		if err != nil {
			return nil, err
		}
		if i == 0 {
			startOff = v
		} else {
			endOff = v
		}
	}
	for k := 0; k < wc.n; k++ {
		ps, pe := int64(wc.partStart[k]), int64(wc.partEnd[k])
		s := wc.bound(f.Mode, f.Start, startOff, rng, k, true)
		e := wc.bound(f.Mode, f.End, endOff, rng, k, false)
		s = min(max(s, ps), pe)
		e = min(max(e, s), pe)
		fr.start[k], fr.end[k] = int32(s), int32(e)
	}
	return fr, nil
}

// bound returns the sorted position where a frame bound puts the frame's
// start (isStart) or its exclusive end, for the row at sorted position k.
func (wc *winCtx) bound(mode FrameMode, b FrameBound, off int64, rng *rangeOffsets, k int, isStart bool) int64 {
	ps, pe := int64(wc.partStart[k]), int64(wc.partEnd[k])
	switch b.Kind {
	case UnboundedPreceding:
		return ps
	case UnboundedFollowing:
		return pe
	case CurrentRow:
		switch {
		case mode == FrameRows && isStart:
			return int64(k)
		case mode == FrameRows:
			return int64(k) + 1
		case isStart:
			return int64(wc.peerStart[k])
		}
		return int64(wc.peerEnd[k])
	}
	sign := int64(1)
	if b.Kind == Preceding {
		sign = -1
	}
	switch mode {
	case FrameRows:
		p := int64(k) + sign*off
		if !isStart {
			p++
		}
		return p
	case FrameGroups:
		starts := wc.groupStarts[wc.partOf[k]]
		g := int64(wc.peerNo[k]) + sign*off
		if !isStart {
			g++
		}
		switch {
		case g < 0:
			return ps
		case g >= int64(len(starts)):
			return pe
		}
		return int64(starts[g])
	}
	return rng.find(wc, k, b.Kind, isStart)
}

// rangeOffsets finds RANGE frame bounds: rows whose single ORDER BY key is
// within an offset of the current row's.
type rangeOffsets struct {
	key  arrow.Array
	desc bool
	offs [2]arrow.Array // start, end offset (length 1)
}

func (r *rangeOffsets) setOffset(i int, a arrow.Array) error {
	if !validityOf(a).valid(0) {
		return fmt.Errorf("frame offset must not be NULL")
	}
	r.offs[i] = a
	a.Retain()
	neg := false
	switch physOf(a.DataType()) {
	case physInt8, physInt16, physInt32, physInt64:
		v, _ := intAt(a, 0)
		neg = v < 0
	case physFloat32, physFloat64:
		neg = floatAt(a, 0) < 0
	case physDecimal:
		neg = fixedVals[decimal128.Num](a)[0].Sign() < 0
	case physInterval:
		iv := fixedVals[arrow.MonthDayNanoInterval](a)[0]
		neg = iv.Months < 0 || iv.Days < 0 || iv.Nanoseconds < 0
	default:
		return fmt.Errorf("RANGE offset of type %s is not supported", a.DataType())
	}
	if neg {
		return fmt.Errorf("invalid preceding or following size in window function")
	}
	return nil
}

func floatAt(a arrow.Array, i int) float64 {
	if physOf(a.DataType()) == physFloat32 {
		return float64(fixedVals[float32](a)[i])
	}
	return fixedVals[float64](a)[i]
}

// cmpShift compares the key of row p with the key of row k shifted by the
// offset (of bound which) in direction sign.
func (r *rangeOffsets) cmpShift(p, k int, which int, sign int64) int {
	off := r.offs[which]
	switch physOf(r.key.DataType()) {
	case physFloat32, physFloat64:
		o := 0.0
		switch physOf(off.DataType()) {
		case physFloat32, physFloat64:
			o = floatAt(off, 0)
		default:
			v, _ := intAt(off, 0)
			o = float64(v)
		}
		return compareFloat(floatAt(r.key, p), floatAt(r.key, k)+float64(sign)*o)
	case physDecimal:
		kt := r.key.DataType().(*arrow.Decimal128Type)
		o := fixedVals[decimal128.Num](off)[0]
		if ot, ok := off.DataType().(*arrow.Decimal128Type); ok && ot.Scale != kt.Scale {
			o, _ = o.Rescale(ot.Scale, kt.Scale)
		} else if !ok {
			v, _ := intAt(off, 0)
			o = decimal128.FromI64(v).IncreaseScaleBy(kt.Scale)
		}
		if sign < 0 {
			o = o.Negate()
		}
		keys := fixedVals[decimal128.Num](r.key)
		return keys[p].Cmp(keys[k].Add(o))
	}
	kp, kk := r.temporal(p), r.temporal(k)
	var b int64
	if physOf(off.DataType()) == physInterval {
		b = shiftMicros(kk, fixedVals[arrow.MonthDayNanoInterval](off)[0], sign)
	} else {
		v, _ := intAt(off, 0)
		b = satAdd(kk, sign*v)
	}
	switch {
	case kp < b:
		return -1
	case kp > b:
		return 1
	}
	return 0
}

// temporal reads an integer or temporal key as int64 (DATE as microseconds
// when offsets are intervals).
func (r *rangeOffsets) temporal(i int) int64 {
	if r.key.DataType().ID() == arrow.DATE32 {
		return int64(fixedVals[int32](r.key)[i]) * 86400 * 1e6
	}
	v, _ := intAt(r.key, i)
	return v
}

func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

// shiftMicros adds sign*iv to a timestamp in microseconds, months and days
// on the calendar (UTC).
func shiftMicros(t int64, iv arrow.MonthDayNanoInterval, sign int64) int64 {
	if iv.Months != 0 || iv.Days != 0 {
		tm := time.UnixMicro(t).UTC().AddDate(0, int(sign)*int(iv.Months), int(sign)*int(iv.Days))
		t = tm.UnixMicro()
	}
	return satAdd(t, sign*(iv.Nanoseconds/1000))
}

// find returns the bound of a RANGE offset frame for sorted position k.
func (r *rangeOffsets) find(wc *winCtx, k int, kind BoundKind, isStart bool) int64 {
	row := int(wc.perm[k])
	kv := validityOf(r.key)
	if !kv.valid(row) {
		// NULL keys are each other's peers and nobody else's neighbours.
		if isStart {
			return int64(wc.peerStart[k])
		}
		return int64(wc.peerEnd[k])
	}
	// The non-NULL keys of the partition are one run of sorted positions,
	// the NULLs before or after it.
	ps, pe := int(wc.partStart[k]), int(wc.partEnd[k])
	ns, ne := ps, pe
	if wc.orderSpec[0].NullsFirst {
		ns = ps + sort.Search(pe-ps, func(i int) bool { return kv.valid(int(wc.perm[ps+i])) })
	} else {
		ne = ps + sort.Search(pe-ps, func(i int) bool { return !kv.valid(int(wc.perm[ps+i])) })
	}
	which := 0
	if !isStart {
		which = 1
	}
	sign := int64(1)
	if kind == Preceding {
		sign = -1
	}
	if r.desc {
		sign = -sign
	}
	p := sort.Search(ne-ns, func(i int) bool {
		c := r.cmpShift(int(wc.perm[ns+i]), row, which, sign)
		if r.desc {
			c = -c
		}
		if isStart {
			return c >= 0
		}
		return c > 0
	})
	return int64(ns + p)
}

// frameAggregate computes an aggregate over every row's frame.
func (w *Window) frameAggregate(wc *winCtx, fr *frames, f WindowFunc, args []arrow.Array) (arrow.Array, error) {
	if !f.Distinct {
		switch f.Agg {
		case AggCountStar, AggCount, AggSum, AggAvg:
			s, err := newSlider(f.Agg, args, f.Type, wc.n)
			if err != nil {
				return nil, err
			}
			if err := slide(wc, fr, s); err != nil {
				return nil, err
			}
			return s.array(w.mem.Alloc)
		case AggMin, AggMax:
			return w.frameMinMax(wc, fr, f, args)
		}
	}
	return w.frameGeneric(wc, fr, f, args)
}

// slider is an aggregate that can add and remove rows of its frame.
type slider interface {
	add(row int) error
	remove(row int)
	emit(row int) error
	array(mem memory.Allocator) (arrow.Array, error)
}

// slide moves every row's frame over the partition: rows enter at the
// end, leave at the start (bounds never move backwards within a
// partition).
func slide(wc *winCtx, fr *frames, s slider) error {
	lo, hi := int32(0), int32(0)
	for k := 0; k < wc.n; k++ {
		if k == int(wc.partStart[k]) {
			for ; lo < hi; lo++ {
				s.remove(int(wc.perm[lo]))
			}
			lo, hi = int32(k), int32(k)
		}
		st, en := fr.start[k], fr.end[k]
		for ; lo < st && lo < hi; lo++ {
			s.remove(int(wc.perm[lo]))
		}
		if lo < st {
			lo, hi = st, st
		}
		for ; hi < en; hi++ {
			if err := s.add(int(wc.perm[hi])); err != nil {
				return err
			}
		}
		if err := s.emit(int(wc.perm[k])); err != nil {
			return err
		}
	}
	return nil
}

// frameMinMax keeps a monotonic deque of candidate positions: the front is
// the frame's extreme; a position is dropped once a later position is at
// least as good.
func (w *Window) frameMinMax(wc *winCtx, fr *frames, f WindowFunc, args []arrow.Array) (arrow.Array, error) {
	a := args[0]
	vc, err := valueCmp(a, a)
	if err != nil {
		return nil, err
	}
	sign := 1
	if f.Agg == AggMax {
		sign = -1
	}
	v := validityOf(a)
	idx := make([]int32, wc.n)
	var dq []int32 // sorted positions
	hi := int32(0)
	for k := 0; k < wc.n; k++ {
		if k == int(wc.partStart[k]) {
			dq = dq[:0]
			hi = int32(k)
		}
		st, en := fr.start[k], fr.end[k]
		if hi < st {
			hi = st
		}
		for ; hi < en; hi++ {
			r := wc.perm[hi]
			if !v.valid(int(r)) {
				continue
			}
			for len(dq) > 0 && sign*vc(int(wc.perm[dq[len(dq)-1]]), int(r)) > 0 {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, hi)
		}
		for len(dq) > 0 && dq[0] < st {
			dq = dq[1:]
		}
		row := wc.perm[k]
		idx[row] = -1
		if len(dq) > 0 && dq[0] < en {
			idx[row] = wc.perm[dq[0]]
		}
	}
	return takeArray(w.mem.Alloc, a, idx)
}

// frameGeneric computes any aggregate with the grouped-aggregate states:
// one group per partition when frames are whole partitions, else one
// group per row fed the rows of its frame (quadratic in the frame size).
func (w *Window) frameGeneric(wc *winCtx, fr *frames, f WindowFunc, args []arrow.Array) (arrow.Array, error) {
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.DataType()
	}
	st, err := newAggState(f.Agg, types, f.Type, w.hs)
	if err != nil {
		return nil, err
	}
	run := &aggRun{state: st}
	if f.Distinct && f.Agg != AggCountStar {
		if run.distinct, err = newKeyTable(w.hs, append([]arrow.DataType{arrow.PrimitiveTypes.Int32}, types...)); err != nil {
			return nil, err
		}
	}
	mem := w.mem.Alloc
	feed := func(rows []int32, groups []uint32) error {
		taken := make([]arrow.Array, len(args))
		defer releaseArrays(taken)
		for i, a := range args {
			t, err := takeArray(mem, a, rows)
			if err != nil {
				return err
			}
			taken[i] = t
		}
		if run.distinct != nil {
			groups = run.distinctRows(groups, taken)
		}
		return st.update(groups, taken)
	}
	const chunk = 1 << 16
	var rows []int32
	var groups []uint32
	if fr.whole {
		nparts := len(wc.groupStarts)
		st.resize(nparts)
		for k := 0; k < wc.n; k++ {
			rows = append(rows, wc.perm[k])
			groups = append(groups, uint32(wc.partOf[k]))
			if len(rows) >= chunk {
				if err := feed(rows, groups); err != nil {
					return nil, err
				}
				rows, groups = rows[:0], groups[:0]
			}
		}
		if len(rows) > 0 {
			if err := feed(rows, groups); err != nil {
				return nil, err
			}
		}
		res, err := st.finish(mem, nparts)
		if err != nil {
			return nil, err
		}
		defer res.Release()
		idx := make([]int32, wc.n)
		for k, r := range wc.perm {
			idx[r] = wc.partOf[k]
		}
		return takeArray(mem, res, idx)
	}
	st.resize(wc.n)
	for k := 0; k < wc.n; k++ {
		for p := fr.start[k]; p < fr.end[k]; p++ {
			rows = append(rows, wc.perm[p])
			groups = append(groups, uint32(wc.perm[k]))
		}
		if len(rows) >= chunk {
			if err := feed(rows, groups); err != nil {
				return nil, err
			}
			rows, groups = rows[:0], groups[:0]
		}
	}
	if len(rows) > 0 {
		if err := feed(rows, groups); err != nil {
			return nil, err
		}
	}
	return st.finish(mem, wc.n)
}
