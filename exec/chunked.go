package exec

import (
	"fmt"
	"math"
	"sort"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// chunked is a column held as the arrays of several batches, read by
// global row number without concatenating them first.
type chunked struct {
	dt     arrow.DataType
	arrs   []arrow.Array
	starts []int // global row of each array's first row, then the total

	// Per array, read once by prepare so that a take does not redo it for
	// every array: the validity (nulls: some array has NULLs), the values
	// (a [][]T of fixed-width ones) or the offsets and data of text.
	vs    []validity
	nulls bool
	vals  any
	offs  [][]int32
	data  [][]byte
}

// prepare reads the arrays' buffers for takes. The column must not change
// after it (joins probing in parallel share it).
func (c *chunked) prepare() {
	c.vs = make([]validity, len(c.arrs))
	for i, a := range c.arrs {
		c.vs[i] = validityOf(a)
		c.nulls = c.nulls || c.vs[i].bm != nil
	}
	switch physOf(c.dt) {
	case physInt8:
		c.vals = chunkVals[int8](c.arrs)
	case physInt16:
		c.vals = chunkVals[int16](c.arrs)
	case physInt32:
		c.vals = chunkVals[int32](c.arrs)
	case physInt64:
		c.vals = chunkVals[int64](c.arrs)
	case physFloat32:
		c.vals = chunkVals[float32](c.arrs)
	case physFloat64:
		c.vals = chunkVals[float64](c.arrs)
	case physDecimal:
		c.vals = chunkVals[decimal128.Num](c.arrs)
	case physInterval:
		c.vals = chunkVals[arrow.MonthDayNanoInterval](c.arrs)
	case physBytes:
		c.offs = make([][]int32, len(c.arrs))
		c.data = make([][]byte, len(c.arrs))
		for i, a := range c.arrs {
			c.offs[i], c.data[i] = bytesVals(a)
		}
	}
}

func chunkVals[T any](arrs []arrow.Array) [][]T {
	out := make([][]T, len(arrs))
	for i, a := range arrs {
		out[i] = fixedVals[T](a)
	}
	return out
}

// rowRef is a row of a chunked column: the array and the row in it; a
// negative chunk stands for NULL.
type rowRef struct {
	chunk, row int32
}

// chunkStarts returns the global first row of each of n batches of the
// given sizes, then the total.
func chunkStarts(sizes []int) []int {
	starts := make([]int, len(sizes)+1)
	for i, s := range sizes {
		starts[i+1] = starts[i] + s
	}
	return starts
}

// locate maps global rows (negative: NULL) to chunk references.
func locate(starts []int, rows []int32, out []rowRef) []rowRef {
	out = out[:0]
	c := 0 // the chunk of the previous row: rows often follow each other
	for _, r := range rows {
		if r < 0 {
			out = append(out, rowRef{-1, 0})
			continue
		}
		if c+1 >= len(starts) || int(r) < starts[c] || int(r) >= starts[c+1] {
			c = sort.SearchInts(starts, int(r)+1) - 1
		}
		out = append(out, rowRef{int32(c), r - int32(starts[c])})
	}
	return out
}

// take gathers the referenced rows into one array.
func (c *chunked) take(mem memory.Allocator, refs []rowRef) (arrow.Array, error) {
	if len(c.arrs) == 1 {
		idx := make([]int32, len(refs))
		for i, r := range refs {
			idx[i] = r.row
			if r.chunk < 0 {
				idx[i] = -1
			}
		}
		return takeArray(mem, c.arrs[0], idx)
	}
	switch physOf(c.dt) {
	case physNull:
		return nullArray(mem, c.dt, len(refs))
	case physBool:
		return takeChunkedBool(mem, c, refs), nil
	case physInt8:
		return takeChunkedFixed[int8](mem, c, refs), nil
	case physInt16:
		return takeChunkedFixed[int16](mem, c, refs), nil
	case physInt32:
		return takeChunkedFixed[int32](mem, c, refs), nil
	case physInt64:
		return takeChunkedFixed[int64](mem, c, refs), nil
	case physFloat32:
		return takeChunkedFixed[float32](mem, c, refs), nil
	case physFloat64:
		return takeChunkedFixed[float64](mem, c, refs), nil
	case physDecimal:
		return takeChunkedFixed[decimal128.Num](mem, c, refs), nil
	case physInterval:
		return takeChunkedFixed[arrow.MonthDayNanoInterval](mem, c, refs), nil
	case physBytes:
		return takeChunkedBytes(mem, c, refs)
	case physList:
		// Lists are rare and short: one concatenation, then a take.
		all, err := concatArrays(mem, c.dt, c.arrs)
		if err != nil {
			return nil, err
		}
		defer all.Release()
		idx := make([]int32, len(refs))
		for i, r := range refs {
			idx[i] = -1
			if r.chunk >= 0 {
				idx[i] = int32(c.starts[r.chunk]) + r.row
			}
		}
		return takeArray(mem, all, idx)
	}
	return nil, checkSupported(c.dt)
}

// chunkedValidity builds the validity bitmap of a gather from chunks.
func chunkedValidity(mem memory.Allocator, c *chunked, refs []rowRef) (*memory.Buffer, int) {
	vs, need := c.vs, c.nulls
	if vs == nil {
		vs = make([]validity, len(c.arrs))
		for i, a := range c.arrs {
			vs[i] = validityOf(a)
			need = need || vs[i].bm != nil
		}
	}
	if !need {
		for _, r := range refs {
			if r.chunk < 0 {
				need = true
				break
			}
		}
	}
	if !need {
		return nil, 0
	}
	bm := newBuffer(mem, int(bitutil.BytesForBits(int64(len(refs)))))
	b := bm.Bytes()
	nulls := 0
	for i, r := range refs {
		if r.chunk >= 0 && vs[r.chunk].valid(int(r.row)) {
			bitutil.SetBit(b, i)
		} else {
			nulls++
		}
	}
	return bm, nulls
}

func takeChunkedFixed[T any](mem memory.Allocator, c *chunked, refs []rowRef) arrow.Array {
	src, ok := c.vals.([][]T)
	if !ok {
		src = chunkVals[T](c.arrs)
	}
	var zero T
	vb := rawBuffer(mem, len(refs)*int(unsafe.Sizeof(zero)))
	dst := reinterpret[T](vb.Bytes())
	for i, r := range refs {
		if r.chunk >= 0 {
			dst[i] = src[r.chunk][r.row]
		} else {
			dst[i] = zero
		}
	}
	bm, nulls := chunkedValidity(mem, c, refs)
	return makeArray(c.dt, len(refs), []*memory.Buffer{bm, vb}, nulls)
}

func takeChunkedBool(mem memory.Allocator, c *chunked, refs []rowRef) arrow.Array {
	src := make([]boolVals, len(c.arrs))
	for i, a := range c.arrs {
		src[i] = boolValsOf(a)
	}
	vb := newBuffer(mem, int(bitutil.BytesForBits(int64(len(refs)))))
	dst := vb.Bytes()
	for i, r := range refs {
		if r.chunk >= 0 && src[r.chunk].get(int(r.row)) {
			bitutil.SetBit(dst, i)
		}
	}
	bm, nulls := chunkedValidity(mem, c, refs)
	return makeArray(c.dt, len(refs), []*memory.Buffer{bm, vb}, nulls)
}

func takeChunkedBytes(mem memory.Allocator, c *chunked, refs []rowRef) (arrow.Array, error) {
	offs, data := c.offs, c.data
	if offs == nil {
		offs = make([][]int32, len(c.arrs))
		data = make([][]byte, len(c.arrs))
		for i, a := range c.arrs {
			offs[i], data[i] = bytesVals(a)
		}
	}
	total := 0
	for _, r := range refs {
		if r.chunk >= 0 {
			o := offs[r.chunk]
			total += int(o[r.row+1] - o[r.row])
		}
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("exec: a batch of %d rows holds %d bytes of text, more than an Arrow string array can (2 GiB)", len(refs), total)
	}
	ob := rawBuffer(mem, (len(refs)+1)*4)
	dstOffs := reinterpret[int32](ob.Bytes())
	db := rawBuffer(mem, total)
	dst := db.Bytes()
	pos := int32(0)
	for i, r := range refs {
		dstOffs[i] = pos
		if r.chunk >= 0 {
			o := offs[r.chunk]
			pos += int32(copy(dst[pos:], data[r.chunk][o[r.row]:o[r.row+1]]))
		}
	}
	dstOffs[len(refs)] = pos
	bm, nulls := chunkedValidity(mem, c, refs)
	return makeArray(c.dt, len(refs), []*memory.Buffer{bm, ob, db}, nulls), nil
}

// chunkedRecords holds batches of one schema as chunked columns.
type chunkedRecords struct {
	schema *arrow.Schema
	recs   []arrow.Record
	cols   []*chunked
	starts []int
	refs   []rowRef
}

func newChunkedRecords(schema *arrow.Schema, recs []arrow.Record) *chunkedRecords {
	sizes := make([]int, len(recs))
	for i, r := range recs {
		sizes[i] = int(r.NumRows())
	}
	c := &chunkedRecords{schema: schema, recs: recs, starts: chunkStarts(sizes)}
	for k := 0; k < schema.NumFields(); k++ {
		col := &chunked{dt: schema.Field(k).Type, starts: c.starts}
		for _, r := range recs {
			col.arrs = append(col.arrs, r.Column(k))
		}
		col.prepare()
		c.cols = append(c.cols, col)
	}
	return c
}

// rows returns the number of rows.
func (c *chunkedRecords) rows() int { return c.starts[len(c.starts)-1] }

// gather returns the global rows (negative: NULL) as one record of schema
// (c's when nil).
func (c *chunkedRecords) gather(mem memory.Allocator, schema *arrow.Schema, rows []int32) (arrow.Record, error) {
	if schema == nil {
		schema = c.schema
	}
	c.refs = locate(c.starts, rows, c.refs)
	cols := make([]arrow.Array, len(c.cols))
	for k, col := range c.cols {
		a, err := col.take(mem, c.refs)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols[k] = a
	}
	return newRecord(schema, cols, len(rows)), nil
}

// release releases the batches.
func (c *chunkedRecords) release() {
	ReleaseRecords(c.recs)
	c.recs, c.cols = nil, nil
}
