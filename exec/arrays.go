package exec

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// phys is the physical layout of an Arrow type as the kernels of this
// package see it: several logical types share one layout (DATE is int32,
// TIMESTAMP and TIME are int64, VARCHAR and VARBINARY are offsets+bytes).
type phys uint8

const (
	physUnsupported phys = iota
	physNull
	physBool
	physInt8
	physInt16
	physInt32
	physInt64
	physFloat32
	physFloat64
	physDecimal
	physInterval
	physBytes
	physList
)

// physOf returns the layout of dt, physUnsupported for types etlc never
// produces (unsigned integers, nested types, large offsets).
func physOf(dt arrow.DataType) phys {
	switch dt.ID() {
	case arrow.NULL:
		return physNull
	case arrow.BOOL:
		return physBool
	case arrow.INT8:
		return physInt8
	case arrow.INT16:
		return physInt16
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		return physInt32
	case arrow.INT64, arrow.TIME64, arrow.TIMESTAMP, arrow.DATE64, arrow.DURATION:
		return physInt64
	case arrow.FLOAT32:
		return physFloat32
	case arrow.FLOAT64:
		return physFloat64
	case arrow.DECIMAL128:
		return physDecimal
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return physInterval
	case arrow.STRING, arrow.BINARY:
		return physBytes
	case arrow.LIST:
		if physOf(dt.(*arrow.ListType).Elem()) != physUnsupported {
			return physList
		}
	}
	return physUnsupported
}

// checkSupported returns an error naming dt when no kernel handles it.
func checkSupported(dt arrow.DataType) error {
	if physOf(dt) == physUnsupported {
		return fmt.Errorf("exec: Arrow type %s is not supported by the operators", dt)
	}
	return nil
}

// fixedVals returns the values of a fixed-width array as a []T of
// arr.Len() elements, honouring the array's offset.
func fixedVals[T any](arr arrow.Array) []T {
	d := arr.Data()
	buf := d.Buffers()[1]
	if buf == nil || buf.Len() == 0 || d.Len() == 0 {
		return nil
	}
	b := buf.Bytes()
	var zero T
	size := int(unsafe.Sizeof(zero))
	all := unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
	return all[d.Offset() : d.Offset()+d.Len()]
}

// bytesVals returns the offsets (arr.Len()+1 of them, absolute into data)
// and the data buffer of a STRING or BINARY array.
func bytesVals(arr arrow.Array) (offs []int32, data []byte) {
	d := arr.Data()
	if d.Len() == 0 {
		return []int32{0}, nil
	}
	b := d.Buffers()[1].Bytes()
	all := unsafe.Slice((*int32)(unsafe.Pointer(&b[0])), len(b)/4)
	offs = all[d.Offset() : d.Offset()+d.Len()+1]
	if db := d.Buffers()[2]; db != nil {
		data = db.Bytes()
	}
	return offs, data
}

// validity is the null bitmap of an array: valid(i) tells whether row i
// holds a value. It is cheap to copy.
type validity struct {
	bm  []byte
	off int
}

// validityOf returns the validity of arr; a nil bitmap means no nulls.
func validityOf(arr arrow.Array) validity {
	if arr.DataType().ID() == arrow.NULL {
		return validity{bm: []byte{}, off: 0}
	}
	if arr.NullN() == 0 {
		return validity{}
	}
	return validity{bm: arr.NullBitmapBytes(), off: arr.Data().Offset()}
}

// valid tells whether row i is not NULL.
func (v validity) valid(i int) bool {
	if v.bm == nil {
		return true
	}
	if len(v.bm) == 0 { // the Null type
		return false
	}
	return bitutil.BitIsSet(v.bm, v.off+i)
}

// boolVals gives access to the values of a BOOLEAN array.
type boolVals struct {
	bm  []byte
	off int
}

func boolValsOf(arr arrow.Array) boolVals {
	d := arr.Data()
	if d.Len() == 0 {
		return boolVals{}
	}
	return boolVals{bm: d.Buffers()[1].Bytes(), off: d.Offset()}
}

func (b boolVals) get(i int) bool { return bitutil.BitIsSet(b.bm, b.off+i) }

// newBuffer returns a buffer of n zeroed bytes from mem.
func newBuffer(mem memory.Allocator, n int) *memory.Buffer {
	b := rawBuffer(mem, n)
	clear(b.Bytes())
	return b
}

// rawBuffer returns a buffer of n bytes from mem that the caller writes in
// full (allocators need not zero memory).
func rawBuffer(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// reinterpret views the bytes of a buffer as a []T.
func reinterpret[T any](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(zero)))
}

// makeArray wraps buffers into an array, taking over the caller's
// references to them.
func makeArray(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	if nulls == 0 && bufs[0] != nil {
		bufs[0].Release()
		bufs[0] = nil
	}
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// makeFixed builds an array of type dt from vals; valid may be nil (no
// nulls).
func makeFixed[T any](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	n := len(vals)
	var zero T
	vb := rawBuffer(mem, n*int(unsafe.Sizeof(zero)))
	copy(reinterpret[T](vb.Bytes()), vals)
	bm, nulls := makeValidity(mem, valid, n)
	return makeArray(dt, n, []*memory.Buffer{bm, vb}, nulls)
}

// makeValidity builds a validity bitmap from valid (nil: all valid).
func makeValidity(mem memory.Allocator, valid []bool, n int) (*memory.Buffer, int) {
	if valid == nil {
		return nil, 0
	}
	bm := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	b := bm.Bytes()
	nulls := 0
	for i, ok := range valid[:n] {
		if ok {
			bitutil.SetBit(b, i)
		} else {
			nulls++
		}
	}
	return bm, nulls
}

// makeBool builds a BOOLEAN array.
func makeBool(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	n := len(vals)
	vb := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	b := vb.Bytes()
	for i, v := range vals {
		if v {
			bitutil.SetBit(b, i)
		}
	}
	bm, nulls := makeValidity(mem, valid, n)
	return makeArray(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{bm, vb}, nulls)
}

// makeBytes builds a STRING or BINARY array from per-row values.
func makeBytes(mem memory.Allocator, dt arrow.DataType, vals [][]byte, valid []bool) (arrow.Array, error) {
	n := len(vals)
	total := 0
	for _, v := range vals {
		total += len(v)
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("exec: a batch of %d rows holds %d bytes of text, more than an Arrow string array can (2 GiB)", n, total)
	}
	ob := rawBuffer(mem, (n+1)*4)
	offs := reinterpret[int32](ob.Bytes())
	db := rawBuffer(mem, total)
	data := db.Bytes()
	pos := 0
	for i, v := range vals {
		offs[i] = int32(pos)
		pos += copy(data[pos:], v)
	}
	offs[n] = int32(pos)
	bm, nulls := makeValidity(mem, valid, n)
	return makeArray(dt, n, []*memory.Buffer{bm, ob, db}, nulls), nil
}

// makeStrings builds a STRING array from Go strings.
func makeStrings(mem memory.Allocator, vals []string, valid []bool) (arrow.Array, error) {
	bs := make([][]byte, len(vals))
	for i, s := range vals {
		bs[i] = unsafe.Slice(unsafe.StringData(s), len(s))
	}
	return makeBytes(mem, arrow.BinaryTypes.String, bs, valid)
}

// takeArray gathers arr[idx[0]], arr[idx[1]], ... into a new array; a
// negative index gives NULL.
func takeArray(mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	switch physOf(arr.DataType()) {
	case physNull:
		return array.NewNull(len(idx)), nil
	case physBool:
		return takeBool(mem, arr, idx), nil
	case physInt8:
		return takeFixed[int8](mem, arr, idx), nil
	case physInt16:
		return takeFixed[int16](mem, arr, idx), nil
	case physInt32:
		return takeFixed[int32](mem, arr, idx), nil
	case physInt64:
		return takeFixed[int64](mem, arr, idx), nil
	case physFloat32:
		return takeFixed[float32](mem, arr, idx), nil
	case physFloat64:
		return takeFixed[float64](mem, arr, idx), nil
	case physDecimal:
		return takeFixed[decimal128.Num](mem, arr, idx), nil
	case physInterval:
		return takeFixed[arrow.MonthDayNanoInterval](mem, arr, idx), nil
	case physBytes:
		return takeBytes(mem, arr, idx)
	case physList:
		return takeList(mem, arr.(*array.List), idx)
	}
	return nil, checkSupported(arr.DataType())
}

// takeList gathers rows of a list array: the elements of the chosen rows
// are taken from the child array, and the offsets rebuilt.
func takeList(mem memory.Allocator, arr *array.List, idx []int32) (arrow.Array, error) {
	offs := make([]int32, len(idx)+1)
	var child []int32
	for i, r := range idx {
		if r >= 0 && arr.IsValid(int(r)) {
			start, end := arr.ValueOffsets(int(r))
			for k := start; k < end; k++ {
				child = append(child, int32(k))
			}
		}
		offs[i+1] = int32(len(child))
	}
	values, err := takeArray(mem, arr.ListValues(), child)
	if err != nil {
		return nil, err
	}
	defer values.Release()
	valid, nulls := takeValidity(mem, arr, idx)
	ob := newBuffer(mem, 4*len(offs))
	copy(ob.Bytes(), arrow.Int32Traits.CastToBytes(offs))
	data := array.NewData(arr.DataType(), len(idx), []*memory.Buffer{valid, ob}, []arrow.ArrayData{values.Data()}, nulls, 0)
	defer data.Release()
	if valid != nil {
		valid.Release()
	}
	ob.Release()
	return array.MakeFromData(data), nil
}

// takeValidity builds the validity bitmap of a take, nil when no row of
// the result is NULL.
func takeValidity(mem memory.Allocator, arr arrow.Array, idx []int32) (*memory.Buffer, int) {
	v := validityOf(arr)
	need := v.bm != nil
	if !need {
		for _, j := range idx {
			if j < 0 {
				need = true
				break
			}
		}
	}
	if !need {
		return nil, 0
	}
	bm := newBuffer(mem, int(bitutil.BytesForBits(int64(len(idx)))))
	b := bm.Bytes()
	nulls := 0
	for i, j := range idx {
		if j >= 0 && v.valid(int(j)) {
			bitutil.SetBit(b, i)
		} else {
			nulls++
		}
	}
	return bm, nulls
}

func takeFixed[T any](mem memory.Allocator, arr arrow.Array, idx []int32) arrow.Array {
	src := fixedVals[T](arr)
	var zero T
	vb := rawBuffer(mem, len(idx)*int(unsafe.Sizeof(zero)))
	dst := reinterpret[T](vb.Bytes())
	for i, j := range idx {
		if j >= 0 {
			dst[i] = src[j]
		} else {
			dst[i] = zero
		}
	}
	bm, nulls := takeValidity(mem, arr, idx)
	return makeArray(arr.DataType(), len(idx), []*memory.Buffer{bm, vb}, nulls)
}

func takeBool(mem memory.Allocator, arr arrow.Array, idx []int32) arrow.Array {
	src := boolValsOf(arr)
	vb := newBuffer(mem, int(bitutil.BytesForBits(int64(len(idx)))))
	dst := vb.Bytes()
	for i, j := range idx {
		if j >= 0 && src.get(int(j)) {
			bitutil.SetBit(dst, i)
		}
	}
	bm, nulls := takeValidity(mem, arr, idx)
	return makeArray(arr.DataType(), len(idx), []*memory.Buffer{bm, vb}, nulls)
}

func takeBytes(mem memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	offs, data := bytesVals(arr)
	total := 0
	for _, j := range idx {
		if j >= 0 {
			total += int(offs[j+1] - offs[j])
		}
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("exec: a batch of %d rows holds %d bytes of text, more than an Arrow string array can (2 GiB)", len(idx), total)
	}
	ob := rawBuffer(mem, (len(idx)+1)*4)
	dstOffs := reinterpret[int32](ob.Bytes())
	db := rawBuffer(mem, total)
	dst := db.Bytes()
	pos := int32(0)
	for i, j := range idx {
		dstOffs[i] = pos
		if j >= 0 {
			pos += int32(copy(dst[pos:], data[offs[j]:offs[j+1]]))
		}
	}
	dstOffs[len(idx)] = pos
	bm, nulls := takeValidity(mem, arr, idx)
	return makeArray(arr.DataType(), len(idx), []*memory.Buffer{bm, ob, db}, nulls), nil
}

// takeRecord gathers the rows idx of every column of rec into a record of
// the given schema (rec's when nil).
func takeRecord(mem memory.Allocator, schema *arrow.Schema, rec arrow.Record, idx []int32) (arrow.Record, error) {
	if schema == nil {
		schema = rec.Schema()
	}
	cols := make([]arrow.Array, rec.NumCols())
	for i, c := range rec.Columns() {
		a, err := takeArray(mem, c, idx)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols[i] = a
	}
	return newRecord(schema, cols, len(idx)), nil
}

// newRecord makes a record of cols, taking over the caller's references
// to them.
func newRecord(schema *arrow.Schema, cols []arrow.Array, n int) arrow.Record {
	rec := array.NewRecord(schema, cols, int64(n))
	releaseArrays(cols)
	return rec
}

// releaseArrays releases every non-nil array of as.
func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}

// ReleaseRecords releases every non-nil record of rs.
func ReleaseRecords(rs []arrow.Record) {
	for _, r := range rs {
		if r != nil {
			r.Release()
		}
	}
}

// concatArrays concatenates arrays of one type; it returns an empty array
// of type dt for none.
func concatArrays(mem memory.Allocator, dt arrow.DataType, as []arrow.Array) (arrow.Array, error) {
	switch len(as) {
	case 0:
		return emptyArray(mem, dt)
	case 1:
		as[0].Retain()
		return as[0], nil
	}
	if physOf(dt) == physNull {
		n := 0
		for _, a := range as {
			n += a.Len()
		}
		return array.NewNull(n), nil
	}
	a, err := array.Concatenate(as, mem)
	if err != nil {
		return nil, fmt.Errorf("exec: concatenating %d batches: %w", len(as), err)
	}
	return a, nil
}

// emptyArray returns an array of type dt with no rows.
func emptyArray(mem memory.Allocator, dt arrow.DataType) (arrow.Array, error) {
	return takeArrayOfType(mem, dt, nil)
}

// takeArrayOfType returns an all-NULL array of type dt with len(idx) rows
// (the take of idx, all negative, from an empty array).
func takeArrayOfType(mem memory.Allocator, dt arrow.DataType, idx []int32) (arrow.Array, error) {
	if err := checkSupported(dt); err != nil {
		return nil, err
	}
	b := array.MakeArrayOfNull(mem, dt, 0)
	defer b.Release()
	return takeArray(mem, b, idx)
}

// nullArray returns an array of n NULLs of type dt.
func nullArray(mem memory.Allocator, dt arrow.DataType, n int) (arrow.Array, error) {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = -1
	}
	return takeArrayOfType(mem, dt, idx)
}

// concatRecords concatenates records of one schema into one record.
func concatRecords(mem memory.Allocator, schema *arrow.Schema, recs []arrow.Record) (arrow.Record, error) {
	if len(recs) == 1 && recs[0].Schema().Equal(schema) {
		recs[0].Retain()
		return recs[0], nil
	}
	n := 0
	for _, r := range recs {
		n += int(r.NumRows())
	}
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(recs))
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		a, err := concatArrays(mem, schema.Field(c).Type, parts)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols[c] = a
	}
	return newRecord(schema, cols, n), nil
}

// arrayBytes estimates the memory an array holds (its buffers' lengths,
// not shared-buffer aware: slices count their whole buffers).
func arrayBytes(a arrow.Array) int64 {
	var n int64
	for _, b := range a.Data().Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	return n
}

// recordBytes estimates the memory a record holds.
func recordBytes(r arrow.Record) int64 {
	var n int64
	for _, c := range r.Columns() {
		n += arrayBytes(c)
	}
	return n
}

// selectTrue appends to sel the rows of a BOOLEAN array that are TRUE (not
// FALSE, not NULL) and returns it.
func selectTrue(cond arrow.Array, sel []int32) []int32 {
	n := cond.Len()
	if physOf(cond.DataType()) == physNull {
		return sel
	}
	vals := boolValsOf(cond)
	v := validityOf(cond)
	if v.bm == nil {
		for i := 0; i < n; i++ {
			if vals.get(i) {
				sel = append(sel, int32(i))
			}
		}
		return sel
	}
	for i := 0; i < n; i++ {
		if vals.get(i) && v.valid(i) {
			sel = append(sel, int32(i))
		}
	}
	return sel
}

// sliceRecord returns rows [i, j) of rec (sharing its buffers).
func sliceRecord(rec arrow.Record, i, j int) arrow.Record {
	return rec.NewSlice(int64(i), int64(j))
}

// relabel returns rec's columns under schema (same types, other names),
// taking over the caller's reference to rec.
func relabel(schema *arrow.Schema, rec arrow.Record) arrow.Record {
	if rec.Schema() == schema {
		return rec
	}
	out := array.NewRecord(schema, rec.Columns(), rec.NumRows())
	rec.Release()
	return out
}
