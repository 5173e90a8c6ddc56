package connector

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/etlc/etlc/catalog"
)

// parquetReader reads one Parquet file with projection pushdown: only the
// column chunks of the requested columns are read, a batch at a time.
// Columns are matched by name (exactly, else ignoring case). A column whose
// Arrow type is the declared type's passes through without a copy; other
// types are converted value by value (numbers to numbers with range and
// scale checks, anything to and from text, DATE to TIMESTAMP, timestamp
// units to microseconds; nanoseconds are truncated).
type parquetReader struct {
	fc   *fileContext
	f    File
	pf   *file.Reader
	rr   pqarrow.RecordReader
	src  []int  // per output column: its index in the record reader's schema
	pass []bool // per output column: the source type is the output type
	// widen, per output column: the DECIMAL type of a column stored as
	// INT32/INT64, which is read as integers and widened here (nil: none).
	widen  []*arrow.Decimal128Type
	cols   []*column
	cur    arrow.Record
	curOff int64
	// direct, when not nil, reads the columns in place of rr (every
	// requested column has a direct plan); dsrc maps each output column to
	// its array in direct's batches, and schema is the output schema.
	direct *directReader
	dsrc   []int
	dtypes []arrow.DataType
	schema *arrow.Schema
	row    int64 // rows of the file consumed
	count  int64 // rows left when no column is requested
	noCols bool
}

func openParquet(ctx context.Context, fc *fileContext) (fileReader, error) {
	f, err := fc.fs.Open(ctx, fc.name)
	if err != nil {
		return nil, err
	}
	r := &parquetReader{fc: fc, f: f}
	if err := r.open(ctx); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *parquetReader) fileErr(format string, args ...any) error {
	return &RowError{File: r.fc.uri, Reason: fmt.Sprintf(format, args...)}
}

func (r *parquetReader) open(ctx context.Context) error {
	// Pages are read through a buffer as they are decoded: without this,
	// the reader copies each whole column chunk twice into fresh memory.
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = 64 << 10
	ropts := []file.ReadOption{file.WithReadProps(props)}
	if r.fc.meta != nil {
		ropts = append(ropts, file.WithMetadata(r.fc.meta))
	}
	pf, err := file.NewParquetReader(io.NewSectionReader(r.f, 0, r.f.Size()), ropts...)
	if err != nil {
		return r.fileErr("invalid parquet file: %v", err)
	}
	r.pf = pf
	var rowGroups []int
	rows := pf.NumRows()
	if rg := r.fc.oneRowGroup - 1; rg >= 0 {
		if rg >= pf.NumRowGroups() {
			return r.fileErr("row group %d of %d does not exist", rg, pf.NumRowGroups())
		}
		rowGroups = []int{rg}
		rows = pf.MetaData().RowGroup(rg).NumRows()
	}
	if len(r.fc.outputs) == 0 {
		r.noCols = true
		r.count = rows
		return nil
	}
	// A batch never holds more rows than the file: the reader sizes its
	// buffers by the batch size, which is waste on small files.
	batch := min(int64(r.fc.opts.BatchSize), max(rows, 1))
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batch}, r.fc.mem)
	if err != nil {
		return r.fileErr("invalid parquet file: %v", err)
	}
	names := make([]string, len(fr.Manifest.Fields))
	for i, sf := range fr.Manifest.Fields {
		names[i] = sf.Field.Name
	}
	var leaves []int
	seen := map[int]bool{}
	intDecimals := map[string]*arrow.Decimal128Type{}
	srcName := make([]string, len(r.fc.outputs))
	for k, out := range r.fc.outputs {
		j := -1
		for i, n := range names {
			if n == out.Name {
				j = i
				break
			}
		}
		if j < 0 {
			for i, n := range names {
				if strings.EqualFold(n, out.Name) {
					j = i
					break
				}
			}
		}
		if j < 0 {
			hint := ""
			if c := closest(out.Name, names); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			return r.fileErr("no column %q in the file%s", out.Name, hint)
		}
		sf := fr.Manifest.Fields[j]
		if !sf.IsLeaf() {
			return r.fileErr("column %q is nested (%s), which the file connector does not read", sf.Field.Name, sf.Field.Type)
		}
		srcName[k] = sf.Field.Name
		if !seen[sf.ColIndex] {
			seen[sf.ColIndex] = true
			leaves = append(leaves, sf.ColIndex)
			if dt, ok := sf.Field.Type.(*arrow.Decimal128Type); ok {
				// pqarrow widens integer decimals value by value through
				// reflection; read the integers as they are (no copy) and
				// widen them in one loop in next.
				var it arrow.DataType
				switch pf.MetaData().Schema.Column(sf.ColIndex).PhysicalType() {
				case parquet.Types.Int32:
					it = arrow.PrimitiveTypes.Int32
				case parquet.Types.Int64:
					it = arrow.PrimitiveTypes.Int64
				}
				if it != nil {
					f := *sf.Field
					f.Type = it
					fr.Manifest.Fields[j].Field = &f
					intDecimals[sf.Field.Name] = dt
				}
			}
		}
	}
	groups := keepRowGroups(pf, r.fc.opts.Ranges)
	if rowGroups != nil {
		// A parallel scan's piece: one row group, unless pruned.
		if groups != nil && !slices.Contains(groups, rowGroups[0]) {
			groups = []int{}
		} else {
			groups = rowGroups
		}
	}
	if groups != nil && len(groups) == 0 {
		// No row group can hold a wanted row.
		r.noCols, r.count = true, 0
		return nil
	}
	if r.openDirect(pf, fr, leaves, groups, srcName, intDecimals) {
		return nil
	}
	rr, err := fr.GetRecordReader(ctx, leaves, groups)
	if err != nil {
		return r.fileErr("invalid parquet file: %v", err)
	}
	r.rr = rr
	sc := rr.Schema()
	for k, out := range r.fc.outputs {
		idx := sc.FieldIndices(srcName[k])
		if len(idx) == 0 {
			return r.fileErr("column %q: not in the columns read", srcName[k])
		}
		st := sc.Field(idx[0]).Type
		dt := intDecimals[srcName[k]]
		if dt != nil {
			st = dt
		}
		r.widen = append(r.widen, dt)
		if !convertible(st, out.Type) {
			return r.fileErr("column %q: parquet type %s cannot be read as %s", srcName[k], st, out.Type)
		}
		r.src = append(r.src, idx[0])
		r.pass = append(r.pass, arrow.TypeEqual(st, out.Type.Arrow()))
		r.cols = append(r.cols, newColumn(r.fc.mem, out))
	}
	return nil
}

func (r *parquetReader) close() error {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.rr != nil {
		r.rr.Release()
		r.rr = nil
	}
	for _, c := range r.cols {
		c.builder.Release()
	}
	r.cols = nil
	if r.pf != nil {
		r.pf.Close()
		r.pf = nil
	}
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}

func (r *parquetReader) next(ctx context.Context, n int) (arrow.Record, error) {
	if r.noCols {
		if r.count == 0 {
			return nil, io.EOF
		}
		m := min(int64(n), r.count)
		r.count -= m
		return array.NewRecord(arrow.NewSchema(nil, nil), nil, m), nil
	}
	if r.direct != nil {
		return r.nextDirect(n)
	}
	if r.cur == nil || r.curOff >= r.cur.NumRows() {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		rec, err := r.rr.Read()
		if err == io.EOF || (err == nil && rec == nil) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, r.fileErr("reading row %d: %v", r.row+1, err)
		}
		rec.Retain()
		r.cur, r.curOff = rec, 0
	}
	m := min(int64(n), r.cur.NumRows()-r.curOff)
	lo, hi := r.curOff, r.curOff+m
	r.curOff = hi
	base := r.row
	r.row += m
	cols := make([]arrow.Array, len(r.src))
	for k, s := range r.src {
		cols[k] = array.NewSlice(r.cur.Column(s), lo, hi)
		if dt := r.widen[k]; dt != nil {
			w := widenDecimal(r.fc.mem, cols[k], dt)
			cols[k].Release()
			cols[k] = w
		}
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if r.fast(cols) {
		return array.NewRecord(ArrowSchema(r.fc.outputs), cols, m), nil
	}
	return r.slow(cols, int(m), base)
}

// openDirect sets up the direct reader when every requested column has a
// direct plan (see directPlan) and reports whether it did.
func (r *parquetReader) openDirect(pf *file.Reader, fr *pqarrow.FileReader, leaves, groups []int, srcName []string, intDecimals map[string]*arrow.Decimal128Type) bool {
	sc := pf.MetaData().Schema
	kinds := make([]directKind, len(leaves))
	types := make([]arrow.DataType, len(leaves))
	dsrc := make([]int, len(r.fc.outputs))
	for k, out := range r.fc.outputs {
		j := -1
		for i, f := range fr.Manifest.Fields {
			if f.Field.Name == srcName[k] {
				j = i
				break
			}
		}
		if j < 0 {
			return false
		}
		sf := fr.Manifest.Fields[j]
		li := slices.Index(leaves, sf.ColIndex)
		st := sf.Field.Type
		if dt := intDecimals[srcName[k]]; dt != nil {
			st = dt
		}
		col := sc.Column(sf.ColIndex)
		kind := directPlan(col.PhysicalType(), st, out.Type.Arrow(), col.MaxDefinitionLevel(), col.MaxRepetitionLevel())
		if li < 0 || kind == directNone {
			return false
		}
		kinds[li], types[li], dsrc[k] = kind, st, li
	}
	r.direct = newDirectReader(pf, r.fc.mem, groups, leaves, kinds)
	r.dsrc, r.dtypes = dsrc, types
	r.schema = ArrowSchema(r.fc.outputs)
	for _, out := range r.fc.outputs {
		// Every type is the output type (directPlan asks it); NOT NULL
		// and text checks still send a batch to slow.
		r.pass = append(r.pass, true)
		r.cols = append(r.cols, newColumn(r.fc.mem, out))
	}
	return true
}

// nextDirect returns the next batch of at most n rows from the direct
// reader.
func (r *parquetReader) nextDirect(n int) (arrow.Record, error) {
	arrs, m, err := r.direct.read(n, r.dtypes)
	if err != nil {
		return nil, r.fileErr("reading row %d: %v", r.row+1, err)
	}
	if m == 0 {
		return nil, io.EOF
	}
	base := r.row
	r.row += int64(m)
	cols := make([]arrow.Array, len(r.dsrc))
	for k, s := range r.dsrc {
		cols[k] = arrs[s]
		cols[k].Retain()
	}
	for _, a := range arrs {
		a.Release()
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	if r.fast(cols) {
		return array.NewRecord(r.schema, cols, int64(m)), nil
	}
	return r.slow(cols, m, base)
}

// widenDecimal returns the integers of a (Int32 or Int64, the unscaled
// values of a DECIMAL column) as a Decimal128 array of type dt.
func widenDecimal(mem memory.Allocator, a arrow.Array, dt *arrow.Decimal128Type) arrow.Array {
	n := a.Len()
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(n * arrow.Decimal128SizeBytes)
	out := arrow.Decimal128Traits.CastFromBytes(vals.Bytes())[:n]
	switch a := a.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			out[i] = decimal128.New(v>>63, uint64(v))
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			out[i] = decimal128.FromI64(int64(v))
		}
	}
	var valid *memory.Buffer
	nulls := a.NullN()
	if nulls > 0 {
		valid = memory.NewResizableBuffer(mem)
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), n, valid.Bytes(), 0)
	}
	d := array.NewData(dt, n, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	vals.Release()
	if valid != nil {
		valid.Release()
	}
	defer d.Release()
	return array.MakeFromData(d)
}

// fast reports whether the slices can pass through as they are: every
// type is the output type, NOT NULL columns have no NULL, strings are
// valid UTF-8 within their length.
func (r *parquetReader) fast(cols []arrow.Array) bool {
	for k, a := range cols {
		if !r.pass[k] {
			return false
		}
		f := r.fc.outputs[k]
		if f.NotNull && a.NullN() > 0 {
			return false
		}
		if s, ok := a.(*array.String); ok && f.Type.Kind == catalog.KindString {
			if f.Type.Length == 0 {
				if !validUTF8Values(s) {
					return false
				}
				continue
			}
			for i := 0; i < s.Len(); i++ {
				v := s.Value(i)
				if !utf8.ValidString(v) || (f.Type.Length > 0 && utf8.RuneCountInString(v) > f.Type.Length) {
					return false
				}
			}
		}
	}
	return true
}

// validUTF8Values reports whether every value of s is valid UTF-8: the
// values' bytes together are valid UTF-8 and each value starts a character
// (so none ends inside one), checked over the whole buffer at once.
func validUTF8Values(s *array.String) bool {
	n := s.Len()
	if n == 0 {
		return true
	}
	offs := s.ValueOffsets()
	var data []byte
	if b := s.Data().Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	if !utf8.Valid(data[offs[0]:offs[n]]) {
		return false
	}
	for i := 0; i < n; i++ {
		if offs[i] < offs[i+1] && !utf8.RuneStart(data[offs[i]]) {
			return false
		}
	}
	return true
}

// slow converts the slices value by value, reporting bad rows.
func (r *parquetReader) slow(cols []arrow.Array, m int, base int64) (arrow.Record, error) {
	rows := 0
	for i := 0; i < m; i++ {
		var bad error
		var badCol string
		for k, c := range r.cols {
			if err := stageArrow(c, cols[k], i); err != nil {
				bad, badCol = err, c.field.Name
				break
			}
		}
		if bad != nil {
			e := &RowError{File: r.fc.uri, Line: base + int64(i) + 1, RowNumber: true, Column: badCol,
				Reason: bad.Error(), Raw: renderRow(r.fc.outputs, cols, i)}
			if err := r.fc.bad(e); err != nil {
				return nil, err
			}
			continue
		}
		for _, c := range r.cols {
			c.appendStaged()
		}
		rows++
	}
	return buildRecord(r.fc.outputs, r.cols, rows), nil
}

// renderRow renders row i of the columns as a JSON object of texts.
func renderRow(fields []Field, cols []arrow.Array, i int) string {
	b := []byte{'{'}
	for k, a := range cols {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, fields[k].Name)
		b = append(b, ':')
		if a.IsNull(i) {
			b = append(b, "null"...)
			continue
		}
		b = appendJSONString(b, strings.ToValidUTF8(string(arrowText(nil, a, i)), "\uFFFD"))
	}
	return string(append(b, '}'))
}

// typeClass groups Arrow types by what they can be converted to.
func typeClass(dt arrow.DataType) string {
	switch dt := dt.(type) {
	case *arrow.DictionaryType:
		return typeClass(dt.ValueType)
	case *arrow.NullType:
		return "null"
	case *arrow.BooleanType:
		return "bool"
	case *arrow.StringType, *arrow.LargeStringType:
		return "string"
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.FixedSizeBinaryType:
		return "binary"
	case *arrow.Date32Type, *arrow.Date64Type:
		return "date"
	case *arrow.Time32Type, *arrow.Time64Type:
		return "time"
	case *arrow.TimestampType:
		return "timestamp"
	case *arrow.MonthDayNanoIntervalType:
		return "interval"
	}
	if arrow.IsInteger(dt.ID()) || arrow.IsFloating(dt.ID()) || arrow.IsDecimal(dt.ID()) {
		return "number"
	}
	return "other"
}

// convertible reports whether values of the Arrow type src can be read as
// the SQL type t (value by value, possibly failing for some values).
func convertible(src arrow.DataType, t catalog.Type) bool {
	sc, tc := typeClass(src), typeClass(t.Arrow())
	switch {
	case sc == "other" || tc == "other":
		return false
	case sc == tc, sc == "null", sc == "string", tc == "string":
		return true
	case sc == "binary" && tc == "string", sc == "date" && tc == "timestamp":
		return true
	}
	return false
}

// stageArrow stages element i of arr as a value of c's type: directly when
// the types agree, through text otherwise.
func stageArrow(c *column, arr arrow.Array, i int) error {
	if arr.IsNull(i) {
		return c.setNull()
	}
	t := c.field.Type
	v := &c.v
	v.null = false
	switch a := arr.(type) {
	case *array.Int64:
		if t.Kind == catalog.KindInt64 {
			v.i = a.Value(i)
			return nil
		}
	case *array.Int32:
		if t.Kind == catalog.KindInt32 || t.Kind == catalog.KindInt64 {
			v.i = int64(a.Value(i))
			return nil
		}
	case *array.Float64:
		if t.Kind == catalog.KindFloat64 {
			v.f = a.Value(i)
			return nil
		}
	case *array.Float32:
		if t.IsFloat() {
			v.f = float64(a.Value(i))
			return nil
		}
	case *array.Boolean:
		if t.Kind == catalog.KindBool {
			v.b = a.Value(i)
			return nil
		}
	case *array.String:
		return c.setText([]byte(a.Value(i)))
	case *array.Binary:
		if t.Kind == catalog.KindBinary {
			v.s = a.Value(i)
			return nil
		}
	case *array.Date32:
		if t.Kind == catalog.KindDate {
			v.i = int64(a.Value(i))
			return nil
		}
	case *array.Decimal128:
		if dt := a.DataType().(*arrow.Decimal128Type); t.Kind == catalog.KindDecimal && int(dt.Scale) == t.Scale && int(dt.Precision) <= t.Precision {
			v.d = a.Value(i)
			return nil
		}
	case *array.Timestamp:
		if t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ {
			v.i = toMicros(int64(a.Value(i)), a.DataType().(*arrow.TimestampType).Unit)
			return nil
		}
	}
	return c.setText(arrowText(nil, arr, i))
}

// toMicros converts a count of unit to microseconds (nanoseconds are
// truncated toward negative infinity).
func toMicros(v int64, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		return v * 1e6
	case arrow.Millisecond:
		return v * 1e3
	case arrow.Nanosecond:
		if v < 0 && v%1000 != 0 {
			return v/1000 - 1
		}
		return v / 1000
	}
	return v
}

// arrowText appends element i of arr (not NULL) as text in the form
// parseText reads.
func arrowText(b []byte, arr arrow.Array, i int) []byte {
	switch a := arr.(type) {
	case *array.Int8:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(b, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(b, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(b, a.Value(i), 10)
	case *array.Float16:
		return appendFloat(b, float64(a.Value(i).Float32()), 32)
	case *array.Float32:
		return appendFloat(b, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(b, a.Value(i), 64)
	case *array.Decimal128:
		return appendDecimal(b, a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.Boolean:
		return strconv.AppendBool(b, a.Value(i))
	case *array.String:
		return append(b, a.Value(i)...)
	case *array.LargeString:
		return append(b, a.Value(i)...)
	case *array.Binary:
		return append(b, a.Value(i)...)
	case *array.LargeBinary:
		return append(b, a.Value(i)...)
	case *array.FixedSizeBinary:
		return append(b, a.Value(i)...)
	case *array.Date32:
		return appendDate(b, int64(a.Value(i)))
	case *array.Date64:
		ms := int64(a.Value(i))
		days := ms / 86400000
		if ms < 0 && ms%86400000 != 0 {
			days--
		}
		return appendDate(b, days)
	case *array.Time32:
		return appendClock(b, toMicros(int64(a.Value(i)), a.DataType().(*arrow.Time32Type).Unit))
	case *array.Time64:
		return appendClock(b, toMicros(int64(a.Value(i)), a.DataType().(*arrow.Time64Type).Unit))
	case *array.Timestamp:
		tt := a.DataType().(*arrow.TimestampType)
		return appendTimestamp(b, toMicros(int64(a.Value(i)), tt.Unit), tt.TimeZone != "")
	case *array.MonthDayNanoInterval:
		return appendInterval(b, a.Value(i))
	case *array.Dictionary:
		return arrowText(b, a.Dictionary(), a.GetValueIndex(i))
	}
	return append(b, arr.ValueStr(i)...)
}
