package connector

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
)

// directKind is how a flat Parquet column is decoded straight into the
// buffers of its Arrow output array, without pqarrow's builders.
type directKind int8

const (
	directNone    directKind = iota
	directInt32              // INT32 as Int32 or Date32
	directInt64              // INT64 as Int64
	directFloat64            // DOUBLE as Float64
	directDec32              // INT32 unscaled values as Decimal128
	directDec64              // INT64 unscaled values as Decimal128
	directString             // BYTE_ARRAY as String
)

// directPlan returns how a leaf column of physical type pt, whose Arrow
// type (as the reader would produce it) src equals the output type out,
// is decoded directly; directNone when it is not (the pqarrow reader
// handles it). Only flat columns qualify: maxRep 0, maxDef at most 1.
func directPlan(pt parquet.Type, src, out arrow.DataType, maxDef, maxRep int16) directKind {
	if maxRep != 0 || maxDef > 1 || !arrow.TypeEqual(src, out) {
		return directNone
	}
	switch out.ID() {
	case arrow.INT32, arrow.DATE32:
		if pt == parquet.Types.Int32 {
			return directInt32
		}
	case arrow.INT64:
		if pt == parquet.Types.Int64 {
			return directInt64
		}
	case arrow.FLOAT64:
		if pt == parquet.Types.Double {
			return directFloat64
		}
	case arrow.DECIMAL128:
		switch pt {
		case parquet.Types.Int32:
			return directDec32
		case parquet.Types.Int64:
			return directDec64
		}
	case arrow.STRING:
		if pt == parquet.Types.ByteArray {
			return directString
		}
	}
	return directNone
}

// directReader reads the row groups of a Parquet file whose requested
// columns all have a direct plan. A batch may span row groups, as
// pqarrow's batches do. The page buffers come from Go's allocator (see
// parquetReader.open), so values that point into them (BYTE_ARRAY) stay
// valid until copied out, whatever page is decoded next.
type directReader struct {
	pf     *file.Reader
	mem    memory.Allocator
	groups []int // row groups to read, in order
	next   int   // index into groups of the next row group to open
	rgLeft int64 // rows of the open row group not read yet
	left   int64 // rows of the file not read yet
	cols   []*directColumn
}

// newDirectReader returns a reader of the given row groups (nil: all) of
// pf's leaf columns, one per plan.
func newDirectReader(pf *file.Reader, mem memory.Allocator, groups []int, leaves []int, kinds []directKind) *directReader {
	if groups == nil {
		groups = make([]int, pf.NumRowGroups())
		for i := range groups {
			groups[i] = i
		}
	}
	d := &directReader{pf: pf, mem: mem, groups: groups}
	for _, g := range groups {
		d.left += pf.MetaData().RowGroup(g).NumRows()
	}
	sc := pf.MetaData().Schema
	for i, leaf := range leaves {
		d.cols = append(d.cols, &directColumn{kind: kinds[i], leaf: leaf, maxDef: sc.Column(leaf).MaxDefinitionLevel()})
	}
	return d
}

// read returns the next batch of at most n rows, one array per column (of
// the given types), or 0 rows at the end of the file.
func (d *directReader) read(n int, types []arrow.DataType) (out []arrow.Array, m int, err error) {
	m = int(min(int64(n), d.left))
	if m == 0 {
		return nil, 0, nil
	}
	for i, c := range d.cols {
		c.start(d.mem, m, types[i])
	}
	ok := false
	defer func() {
		// On an error or a panic (a corrupt page), free the batch.
		if !ok {
			for _, c := range d.cols {
				c.abandon()
			}
			for _, a := range out {
				if a != nil {
					a.Release()
				}
			}
		}
	}()
	for off := 0; off < m; {
		for d.rgLeft == 0 {
			if d.next >= len(d.groups) {
				return nil, 0, fmt.Errorf("the row groups end %d rows early", m-off)
			}
			rg := d.pf.RowGroup(d.groups[d.next])
			d.next++
			d.rgLeft = rg.NumRows()
			for _, c := range d.cols {
				if c.rdr, err = rg.Column(c.leaf); err != nil {
					return nil, 0, err
				}
			}
		}
		k := int(min(int64(m-off), d.rgLeft))
		for _, c := range d.cols {
			if err = c.readPart(off, k); err != nil {
				return nil, 0, err
			}
		}
		off += k
		d.rgLeft -= int64(k)
	}
	d.left -= int64(m)
	out = make([]arrow.Array, len(d.cols))
	for i, c := range d.cols {
		if out[i], err = c.finish(d.mem); err != nil {
			return nil, 0, err
		}
	}
	ok = true
	return out, m, nil
}

// directColumn decodes one leaf column a batch at a time: start allocates
// the batch's buffers, readPart decodes a run of values of one row group
// into them, finish makes the array. The scratch slices are reused from
// batch to batch; the output buffers are new for each batch (the arrays
// leave the reader).
type directColumn struct {
	kind   directKind
	leaf   int // the column's index in the file schema
	maxDef int16
	rdr    file.ColumnChunkReader
	defs   []int16 // definition levels of the batch (nullable columns)
	i32    []int32 // scratch for DECIMAL stored as INT32
	i64    []int64 // scratch for DECIMAL stored as INT64
	ba     []parquet.ByteArray
	// the batch being read
	typ    arrow.DataType
	m      int
	values int // non-NULL values so far
	vb     *memory.Buffer
}

// start allocates the buffers of a batch of m values of type typ.
func (c *directColumn) start(mem memory.Allocator, m int, typ arrow.DataType) {
	c.typ, c.m, c.values = typ, m, 0
	if c.maxDef > 0 {
		if cap(c.defs) < m {
			c.defs = make([]int16, m)
		}
		c.defs = c.defs[:m]
	}
	width := 0
	switch c.kind {
	case directInt32:
		width = arrow.Int32SizeBytes
	case directInt64:
		width = arrow.Int64SizeBytes
	case directFloat64:
		width = arrow.Float64SizeBytes
	case directDec32:
		width = arrow.Decimal128SizeBytes
		if cap(c.i32) < m {
			c.i32 = make([]int32, m)
		}
	case directDec64:
		width = arrow.Decimal128SizeBytes
		if cap(c.i64) < m {
			c.i64 = make([]int64, m)
		}
	case directString:
		if cap(c.ba) < m {
			c.ba = make([]parquet.ByteArray, m)
		}
		c.ba = c.ba[:m]
	}
	if width > 0 {
		c.vb = memory.NewResizableBuffer(mem)
		c.vb.Resize(m * width)
	}
}

// abandon releases the buffers of a batch that failed.
func (c *directColumn) abandon() {
	if c.vb != nil {
		c.vb.Release()
		c.vb = nil
	}
	if c.ba != nil {
		clear(c.ba)
	}
}

// spread moves the dense values vals[:values] to the positions of the
// non-NULL levels of defs (from the end, so in place), zeroing NULL slots.
// len(vals) must be len(defs).
func spread[T any](vals []T, defs []int16, maxDef int16, values int) {
	j := values - 1
	var zero T
	for i := len(defs) - 1; i >= 0; i-- {
		if defs[i] == maxDef {
			vals[i] = vals[j]
			j--
		} else {
			vals[i] = zero
		}
	}
}

// readPart decodes the next k values of the open row group into rows
// [off, off+k) of the batch.
func (c *directColumn) readPart(off, k int) error {
	var defs []int16
	if c.maxDef > 0 {
		defs = c.defs[off : off+k]
	}
	var (
		total int64
		v     int
		err   error
	)
	switch c.kind {
	case directInt32:
		vals := arrow.Int32Traits.CastFromBytes(c.vb.Bytes())[off : off+k]
		if total, v, err = c.rdr.(*file.Int32ColumnChunkReader).ReadBatch(int64(k), vals, defs, nil); err == nil && v < k {
			spread(vals, defs, c.maxDef, v)
		}
	case directInt64:
		vals := arrow.Int64Traits.CastFromBytes(c.vb.Bytes())[off : off+k]
		if total, v, err = c.rdr.(*file.Int64ColumnChunkReader).ReadBatch(int64(k), vals, defs, nil); err == nil && v < k {
			spread(vals, defs, c.maxDef, v)
		}
	case directFloat64:
		vals := arrow.Float64Traits.CastFromBytes(c.vb.Bytes())[off : off+k]
		if total, v, err = c.rdr.(*file.Float64ColumnChunkReader).ReadBatch(int64(k), vals, defs, nil); err == nil && v < k {
			spread(vals, defs, c.maxDef, v)
		}
	case directDec32:
		out := arrow.Decimal128Traits.CastFromBytes(c.vb.Bytes())[off : off+k]
		if total, v, err = c.rdr.(*file.Int32ColumnChunkReader).ReadBatch(int64(k), c.i32[:k], defs, nil); err == nil {
			for i, x := range c.i32[:v] {
				out[i] = decimal128.FromI64(int64(x))
			}
			if v < k {
				spread(out, defs, c.maxDef, v)
			}
		}
	case directDec64:
		out := arrow.Decimal128Traits.CastFromBytes(c.vb.Bytes())[off : off+k]
		if total, v, err = c.rdr.(*file.Int64ColumnChunkReader).ReadBatch(int64(k), c.i64[:k], defs, nil); err == nil {
			for i, x := range c.i64[:v] {
				out[i] = decimal128.New(x>>63, uint64(x))
			}
			if v < k {
				spread(out, defs, c.maxDef, v)
			}
		}
	case directString:
		vals := c.ba[off : off+k]
		if total, v, err = c.rdr.(*file.ByteArrayColumnChunkReader).ReadBatch(int64(k), vals, defs, nil); err == nil && v < k {
			spread(vals, defs, c.maxDef, v)
		}
	default:
		return fmt.Errorf("column %s: no direct decoding", c.rdr.Descriptor().Name())
	}
	if err != nil {
		return fmt.Errorf("column %s: %w", c.rdr.Descriptor().Name(), err)
	}
	if total != int64(k) {
		return fmt.Errorf("column %s: %d values where the row group promises %d", c.rdr.Descriptor().Name(), total, k)
	}
	c.values += v
	return nil
}

// finish returns the batch's array.
func (c *directColumn) finish(mem memory.Allocator) (arrow.Array, error) {
	m := c.m
	bufs := []*memory.Buffer{nil, c.vb}
	c.vb = nil
	if c.kind == directString {
		size := 0
		for _, b := range c.ba {
			size += len(b)
		}
		if size > math.MaxInt32 {
			clear(c.ba)
			return nil, fmt.Errorf("column %s: %d bytes of text in one batch, more than a String array holds", c.rdr.Descriptor().Name(), size)
		}
		ob := memory.NewResizableBuffer(mem)
		ob.Resize((m + 1) * arrow.Int32SizeBytes)
		offs := arrow.Int32Traits.CastFromBytes(ob.Bytes())[:m+1]
		db := memory.NewResizableBuffer(mem)
		db.Resize(size)
		data := db.Bytes()[:size]
		pos := 0
		for i, b := range c.ba {
			offs[i] = int32(pos)
			pos += copy(data[pos:], b)
		}
		offs[m] = int32(pos)
		clear(c.ba) // drop the references into the page buffers
		bufs = []*memory.Buffer{nil, ob, db}
	}
	nulls := m - c.values
	if nulls > 0 {
		valid := memory.NewResizableBuffer(mem)
		valid.Resize(int(bitutil.BytesForBits(int64(m))))
		bits := valid.Bytes()
		clear(bits)
		for i, l := range c.defs[:m] {
			if l == c.maxDef {
				bitutil.SetBit(bits, i)
			}
		}
		bufs[0] = valid
	}
	d := array.NewData(c.typ, m, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}
