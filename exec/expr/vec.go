package expr

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
)

// This file holds the buffer-level helpers every kernel uses: typed views of
// Arrow value buffers, output allocation, validity bitmaps, and gathering
// rows from one or more arrays (take and the merge of CASE branches).

// signed lists the Go types of Arrow's signed integer, date and time values.
type signed interface {
	~int8 | ~int16 | ~int32 | ~int64
}

// float lists the Go types of Arrow's floating values.
type float interface {
	~float32 | ~float64
}

// arrowType is the Arrow type of SQL type t (the null type for NULL).
func arrowType(t catalog.Type) arrow.DataType { return t.Arrow() }

// values returns the value buffer of a fixed-width array as a []T of
// a.Len() elements (offset applied). T must have the Arrow value's size.
func values[T any](a arrow.Array) []T {
	d := a.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil || d.Len() == 0 {
		return nil
	}
	all := castSlice[T](bufs[1].Bytes())
	return all[d.Offset() : d.Offset()+d.Len()]
}

// castSlice reinterprets a byte slice as a slice of T.
func castSlice[T any](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// newValues allocates a value buffer for n values of T.
func newValues[T any](alloc memory.Allocator, n int) (*memory.Buffer, []T) {
	var z T
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(n * int(unsafe.Sizeof(z)))
	if n == 0 {
		return buf, nil
	}
	return buf, castSlice[T](buf.Bytes())[:n]
}

// newBitmap allocates a zeroed bitmap of n bits.
func newBitmap(alloc memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(alloc)
	nb := int(bitutil.BytesForBits(int64(n)))
	buf.Resize(nb)
	b := buf.Bytes()
	for i := range b {
		b[i] = 0
	}
	return buf, b
}

// newFullBitmap allocates a bitmap of n set bits.
func newFullBitmap(alloc memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf, b := newBitmap(alloc, n)
	for i := range b {
		b[i] = 0xff
	}
	return buf, b
}

// finish wraps buffers into an array of type dt with n rows, counting the
// nulls of valid (nil: no nulls), and releases the caller's references.
func finish(dt arrow.DataType, n int, valid *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	nulls := 0
	if valid != nil {
		nulls = n - bitutil.CountSetBits(valid.Bytes(), 0, n)
		if nulls == 0 {
			valid.Release()
			valid = nil
		}
	}
	all := append([]*memory.Buffer{valid}, bufs...)
	d := array.NewData(dt, n, all, nil, nulls, 0)
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// hasNulls reports whether a has null values.
func hasNulls(a arrow.Array) bool { return a.NullN() > 0 }

// validBits returns a's validity bitmap rebased to bit 0 (nil when a has no
// nulls). It copies only when a is sliced at a non-zero offset.
func validBits(alloc memory.Allocator, a arrow.Array) []byte {
	if a.NullN() == 0 {
		return nil
	}
	if a.DataType().ID() == arrow.NULL {
		_, b := newBitmap(alloc, a.Len())
		return b
	}
	bm := a.NullBitmapBytes()
	off := a.Data().Offset()
	if off == 0 {
		return bm
	}
	out := make([]byte, bitutil.BytesForBits(int64(a.Len())))
	bitutil.CopyBitmap(bm, off, a.Len(), out, 0)
	return out
}

// validAnd returns the validity of a row-wise operation over args: a row is
// valid when it is valid in every arg. It returns nil when no arg has nulls.
func validAnd(alloc memory.Allocator, n int, args ...arrow.Array) *memory.Buffer {
	var out *memory.Buffer
	var ob []byte
	for _, a := range args {
		if a == nil || a.NullN() == 0 {
			continue
		}
		if a.DataType().ID() == arrow.NULL {
			if out == nil {
				out, ob = newBitmap(alloc, n)
			} else {
				for i := range ob {
					ob[i] = 0
				}
			}
			continue
		}
		bm := a.NullBitmapBytes()
		off := a.Data().Offset()
		if out == nil {
			out, ob = newBitmap(alloc, n)
			bitutil.CopyBitmap(bm, off, n, ob, 0)
			continue
		}
		bitutil.BitmapAnd(ob, bm, 0, int64(off), ob, 0, int64(n))
	}
	return out
}

// boolBits returns the value bitmap of a Boolean array rebased to bit 0.
func boolBits(a arrow.Array) []byte {
	d := a.Data()
	if d.Len() == 0 {
		return nil
	}
	bm := d.Buffers()[1].Bytes()
	off := d.Offset()
	if off == 0 {
		return bm
	}
	out := make([]byte, bitutil.BytesForBits(int64(d.Len())))
	bitutil.CopyBitmap(bm, off, d.Len(), out, 0)
	return out
}

// trueBits returns the bitmap of rows of a Boolean array that are TRUE
// (valid and set), rebased to bit 0, as a fresh slice.
func trueBits(a arrow.Array) []byte {
	n := a.Len()
	out := make([]byte, bitutil.BytesForBits(int64(n)))
	if n == 0 || a.DataType().ID() == arrow.NULL {
		return out
	}
	copy(out, boolBits(a))
	if a.NullN() > 0 {
		bitutil.BitmapAnd(out, a.NullBitmapBytes(), 0, int64(a.Data().Offset()), out, 0, int64(n))
	}
	return out
}

// falseBits returns the bitmap of rows of a Boolean array that are FALSE.
func falseBits(a arrow.Array) []byte {
	n := a.Len()
	out := make([]byte, bitutil.BytesForBits(int64(n)))
	if n == 0 || a.DataType().ID() == arrow.NULL {
		return out
	}
	copy(out, boolBits(a))
	for i := range out {
		out[i] = ^out[i]
	}
	if a.NullN() > 0 {
		bitutil.BitmapAnd(out, a.NullBitmapBytes(), 0, int64(a.Data().Offset()), out, 0, int64(n))
	}
	clearTail(out, n)
	return out
}

// clearTail zeroes the bits of bm past n.
func clearTail(bm []byte, n int) {
	if n%8 != 0 && len(bm) > 0 {
		bm[n/8] &= byte(1)<<(n%8) - 1
	}
}

// selection lists the set bits of bm among the first n as row indexes.
func selection(bm []byte, n int) []int32 {
	cnt := bitutil.CountSetBits(bm, 0, n)
	out := make([]int32, 0, cnt)
	for w := 0; w*8 < n; w++ {
		b := bm[w]
		for b != 0 {
			k := bits.TrailingZeros8(b)
			i := w*8 + k
			if i >= n {
				break
			}
			out = append(out, int32(i))
			b &= b - 1
		}
	}
	return out
}

// newBoolArray wraps a value bitmap and a validity bitmap (nil: no nulls)
// as a Boolean array of n rows.
func newBoolArray(n int, vals []byte, valid []byte) arrow.Array {
	var vb *memory.Buffer
	if valid != nil {
		vb = memory.NewBufferBytes(valid)
	}
	return finishNoRelease(arrow.FixedWidthTypes.Boolean, n, vb, memory.NewBufferBytes(vals))
}

// finishNoRelease is finish for Go-owned buffers (memory.NewBufferBytes).
func finishNoRelease(dt arrow.DataType, n int, valid *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	nulls := 0
	if valid != nil {
		nulls = n - bitutil.CountSetBits(valid.Bytes(), 0, n)
		if nulls == 0 {
			valid = nil
		}
	}
	d := array.NewData(dt, n, append([]*memory.Buffer{valid}, bufs...), nil, nulls, 0)
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// nullArray returns an array of n NULLs of type dt.
func nullArray(alloc memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	if dt.ID() == arrow.NULL {
		return array.NewNull(n)
	}
	idx := make([]int32, n)
	which := make([]int32, n)
	for i := range which {
		which[i] = -1
	}
	return gather(alloc, dt, nil, which, idx)
}

// gather builds an array of type dt whose row i is row rows[i] of
// srcs[which[i]], NULL when which[i] < 0. A nil which takes every row from
// srcs[0] (a take).
func gather(alloc memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which []int32, rows []int32) arrow.Array {
	n := len(rows)
	src := func(i int) (arrow.Array, int) {
		if which == nil {
			return srcs[0], int(rows[i])
		}
		w := which[i]
		if w < 0 {
			return nil, 0
		}
		return srcs[w], int(rows[i])
	}
	if dt.ID() == arrow.LIST {
		return gatherList(alloc, dt, n, src)
	}
	// Validity.
	needValid := false
	if which != nil {
		for _, w := range which {
			if w < 0 {
				needValid = true
				break
			}
		}
	}
	for _, s := range srcs {
		if s != nil && s.NullN() > 0 {
			needValid = true
		}
	}
	var validBuf *memory.Buffer
	if needValid {
		var vb []byte
		validBuf, vb = newBitmap(alloc, n)
		for i := 0; i < n; i++ {
			if a, r := src(i); a != nil && (a.NullN() == 0 || a.IsValid(r)) {
				bitutil.SetBit(vb, i)
			}
		}
	}
	switch dt.ID() {
	case arrow.NULL:
		if validBuf != nil {
			validBuf.Release()
		}
		return array.NewNull(n)
	case arrow.BOOL:
		vbuf, vb := newBitmap(alloc, n)
		for i := 0; i < n; i++ {
			if a, r := src(i); a != nil && a.(*array.Boolean).Value(r) {
				bitutil.SetBit(vb, i)
			}
		}
		return finish(dt, n, validBuf, vbuf)
	case arrow.STRING, arrow.BINARY:
		offs := make([]int32, n+1)
		total := 0
		for i := 0; i < n; i++ {
			if a, r := src(i); a != nil {
				total += int(varLen(a, r))
			}
		}
		data := make([]byte, 0, total)
		for i := 0; i < n; i++ {
			if a, r := src(i); a != nil && a.IsValid(r) {
				data = append(data, varBytes(a, r)...)
			}
			offs[i+1] = int32(len(data))
		}
		if validBuf != nil {
			vb := validBuf.Bytes()
			validBuf.Release()
			return finishNoRelease(dt, n, memory.NewBufferBytes(append([]byte(nil), vb...)), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(data))
		}
		return finishNoRelease(dt, n, nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(data))
	}
	fw, ok := dt.(arrow.FixedWidthDataType)
	if !ok {
		panic("gather: unsupported type " + dt.String())
	}
	switch fw.BitWidth() {
	case 8:
		return gatherFixed[int8](alloc, dt, srcs, which, rows, validBuf)
	case 16:
		return gatherFixed[int16](alloc, dt, srcs, which, rows, validBuf)
	case 32:
		return gatherFixed[int32](alloc, dt, srcs, which, rows, validBuf)
	case 64:
		return gatherFixed[int64](alloc, dt, srcs, which, rows, validBuf)
	case 128:
		return gatherFixed[i128](alloc, dt, srcs, which, rows, validBuf)
	}
	panic("gather: unsupported width of " + dt.String())
}

// gatherFixed is gather's value copy for fixed-width values of type T.
func gatherFixed[T any](alloc memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which, rows []int32, valid *memory.Buffer) arrow.Array {
	n := len(rows)
	buf, out := newValues[T](alloc, n)
	vals := make([][]T, len(srcs))
	for i, s := range srcs {
		if s != nil {
			vals[i] = values[T](s)
		}
	}
	if which == nil {
		src := vals[0]
		for i, r := range rows {
			out[i] = src[r]
		}
		return finish(dt, n, valid, buf)
	}
	for i, r := range rows {
		if w := which[i]; w >= 0 {
			out[i] = vals[w][r]
		}
	}
	return finish(dt, n, valid, buf)
}

// varLen is the byte length of row r of a string or binary array.
func varLen(a arrow.Array, r int) int32 {
	switch x := a.(type) {
	case *array.String:
		return int32(x.ValueLen(r))
	case *array.Binary:
		return int32(x.ValueLen(r))
	}
	return 0
}

// varBytes is row r of a string or binary array.
func varBytes(a arrow.Array, r int) []byte {
	switch x := a.(type) {
	case *array.String:
		return []byte(x.Value(r))
	case *array.Binary:
		return x.Value(r)
	}
	return nil
}

// take returns the rows sel of a.
func take(alloc memory.Allocator, a arrow.Array, sel []int32) arrow.Array {
	return gather(alloc, a.DataType(), []arrow.Array{a}, nil, sel)
}

// strOut builds a string (or binary) array row by row into Go memory.
type strOut struct {
	offs  []int32
	data  []byte
	valid []byte // nil until the first NULL
	n     int
}

func newStrOut(n, dataHint int) *strOut {
	return &strOut{offs: make([]int32, 1, n+1), data: make([]byte, 0, dataHint)}
}

func (o *strOut) next() {
	if o.valid != nil {
		o.grow()
		bitutil.SetBit(o.valid, o.n)
	}
	o.offs = append(o.offs, int32(len(o.data)))
	o.n++
}

func (o *strOut) grow() {
	for len(o.valid)*8 <= o.n {
		o.valid = append(o.valid, 0)
	}
}

func (o *strOut) append(s string) {
	o.data = append(o.data, s...)
	o.next()
}

func (o *strOut) appendBytes(s []byte) {
	o.data = append(o.data, s...)
	o.next()
}

func (o *strOut) appendNull() {
	if o.valid == nil {
		o.valid = make([]byte, bitutil.BytesForBits(int64(o.n+1)))
		bitutil.SetBitsTo(o.valid, 0, int64(o.n), true)
	}
	o.grow()
	o.offs = append(o.offs, int32(len(o.data)))
	o.n++
}

// finish returns the array; dt is arrow.BinaryTypes.String or .Binary.
func (o *strOut) finish(dt arrow.DataType) arrow.Array {
	var vb *memory.Buffer
	if o.valid != nil {
		vb = memory.NewBufferBytes(o.valid)
	}
	return finishNoRelease(dt, o.n, vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(o.offs)), memory.NewBufferBytes(o.data))
}

// unsafeBytes views a slice of fixed-size values as bytes.
func unsafeBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// view is an operand of a row-wise kernel: a column's values, or a scalar
// broadcast to every row (m = 0 makes every index read element 0).
type view[T any] struct {
	v []T
	m int
}

func (v view[T]) at(i int) T { return v.v[i&v.m] }

// colView views an array's values.
func colView[T any](a arrow.Array) view[T] { return view[T]{v: values[T](a), m: -1} }

// scalarView broadcasts one value.
func scalarView[T any](x T) view[T] { return view[T]{v: []T{x}, m: 0} }

// packBools packs res (one bool a row) into a bitmap.
func packBools(res []bool, out []byte) {
	n := len(res)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := *(*uint64)(unsafe.Pointer(&res[i]))
		out[i>>3] = byte((x * 0x0102040810204080) >> 56)
	}
	if i < n {
		var b byte
		for k := 0; i+k < n; k++ {
			if res[i+k] {
				b |= 1 << k
			}
		}
		out[i>>3] = b
	}
}

// boolArray makes a Boolean array from one bool a row and a validity
// buffer (nil: no nulls; the buffer is released).
func boolArray(alloc memory.Allocator, res []bool, valid *memory.Buffer) arrow.Array {
	n := len(res)
	buf, bm := newBitmap(alloc, n)
	packBools(res, bm)
	return finish(arrow.FixedWidthTypes.Boolean, n, valid, buf)
}

// rowValid reports whether row i is valid in every array (nil entries are
// scalars, always valid).
func rowValid(i int, arrs ...arrow.Array) bool {
	for _, a := range arrs {
		if a != nil && a.IsNull(i) {
			return false
		}
	}
	return true
}

// bytesBuffer wraps Go memory as a buffer (finish may release it).
func bytesBuffer(b []byte) *memory.Buffer { return memory.NewBufferBytes(b) }

// gatherList is gather for arrays (lists), row by row over their values.
func gatherList(alloc memory.Allocator, dt arrow.DataType, n int, src func(i int) (arrow.Array, int)) arrow.Array {
	t, err := catalog.FromArrow(dt)
	if err != nil {
		panic(fmt.Sprintf("gather: %v", err))
	}
	vals := make([]any, n)
	for i := range vals {
		if a, r := src(i); a != nil {
			vals[i] = scalarAt(a, r, t)
		}
	}
	out, err := valuesArray(alloc, t, vals)
	if err != nil {
		panic(fmt.Sprintf("gather: %v", err))
	}
	return out
}
