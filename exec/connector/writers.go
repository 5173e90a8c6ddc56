package connector

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/etlc/etlc/catalog"
)

// formatWriter writes record batches (of the data columns) into one file.
type formatWriter interface {
	write(rec arrow.Record) error
	// close finishes the file (footer, flush) and closes the Writer.
	close() error
	// abort gives the file up.
	abort()
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w       Writer
	n       int64
	discard bool // the file is given up: swallow what is still written
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.discard {
		return len(p), nil
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileExtension returns the extension of the files a sink writes.
func fileExtension(o *Options) string {
	ext := "." + string(o.Format)
	if o.Format != FormatParquet && o.Compression == "gzip" {
		ext += ".gz"
	}
	return ext
}

// newFormatWriter returns the writer of the sink's format over w.
func newFormatWriter(mem memory.Allocator, o *Options, fields []Field, w *countingWriter) (formatWriter, error) {
	switch o.Format {
	case FormatCSV, FormatJSON:
		tw := &textWriter{opts: o, fields: fields, w: w}
		var out io.Writer = w
		if o.Compression == "gzip" {
			tw.gz = gzip.NewWriter(w)
			out = tw.gz
		}
		tw.bw = bufio.NewWriterSize(out, 1<<16)
		if o.Format == FormatCSV && o.Header {
			for k, f := range fields {
				if k > 0 {
					tw.line = append(tw.line, o.Delimiter)
				}
				var err error
				if tw.line, err = tw.appendCSVField(tw.line, []byte(f.Name), false); err != nil {
					return nil, err
				}
			}
			tw.line = append(tw.line, '\n')
			if _, err := tw.bw.Write(tw.line); err != nil {
				return nil, err
			}
		}
		return tw, nil
	case FormatParquet:
		codec, err := parquetCodec(o.Compression)
		if err != nil {
			return nil, err
		}
		popts := []parquet.WriterProperty{
			parquet.WithCompression(codec),
			parquet.WithAllocator(mem),
			parquet.WithMaxRowGroupLength(1 << 20),
			parquet.WithCreatedBy("etlc"),
		}
		// Dictionary encoding pays for text (few distinct names, codes);
		// for numbers, dates and times it costs a hash lookup per value
		// (most of the time of writing a wide numeric file) and the
		// compression codec gets most of what it would save.
		for _, f := range fields {
			if k := f.Type.Kind; k != catalog.KindString && k != catalog.KindBinary && k != catalog.KindJSON {
				popts = append(popts, parquet.WithDictionaryFor(f.Name, false))
			}
		}
		props := parquet.NewWriterProperties(popts...)
		fw, err := pqarrow.NewFileWriter(ArrowSchema(fields), w, props,
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
		if err != nil {
			return nil, err
		}
		return &parquetWriter{fw: fw, w: w, mem: mem}, nil
	}
	return nil, fmt.Errorf("unknown format %q", o.Format)
}

func parquetCodec(name string) (compress.Compression, error) {
	switch name {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "brotli":
		return compress.Codecs.Brotli, nil
	case "none":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown parquet compression %q", name)
}

// checkWritable reports a column type the format cannot store.
func checkWritable(o *Options, fields []Field) error {
	for _, f := range fields {
		if o.Format == FormatParquet && f.Type.Kind == catalog.KindInterval {
			return fmt.Errorf("column %q: Parquet files cannot hold INTERVAL values; cast the column to VARCHAR", f.Name)
		}
		if f.Type.Kind == catalog.KindNull && o.Format == FormatParquet {
			return fmt.Errorf("column %q has no type (a bare NULL); cast it", f.Name)
		}
	}
	return nil
}

// Row groups are cut at rowGroupRows rows or rowGroupBytes bytes of
// Arrow data, whichever comes first.
const (
	rowGroupRows  = 1 << 17
	rowGroupBytes = 64 << 20
)

// parquetWriter writes a Parquet file, collecting batches into row groups.
// (pqarrow's own buffered row groups leak buffers in this Arrow version,
// so the batches of a row group are concatenated and written at once.)
type parquetWriter struct {
	fw      *pqarrow.FileWriter
	w       *countingWriter
	mem     memory.Allocator
	pending []arrow.Record
	rows    int64
	bytes   int64
}

func (p *parquetWriter) write(rec arrow.Record) error {
	rec.Retain()
	p.pending = append(p.pending, rec)
	p.rows += rec.NumRows()
	for _, col := range rec.Columns() {
		for _, b := range col.Data().Buffers() {
			if b != nil {
				p.bytes += int64(b.Len())
			}
		}
	}
	if p.rows >= rowGroupRows || p.bytes >= rowGroupBytes {
		return p.flush()
	}
	return nil
}

// flush writes the pending batches as one row group.
func (p *parquetWriter) flush() error {
	if len(p.pending) == 0 {
		return nil
	}
	defer p.release()
	if len(p.pending) == 1 {
		return p.fw.Write(p.pending[0])
	}
	sc := p.pending[0].Schema()
	cols := make([]arrow.Array, sc.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(p.pending))
	for k := range cols {
		for i, r := range p.pending {
			parts[i] = r.Column(k)
		}
		c, err := array.Concatenate(parts, p.mem)
		if err != nil {
			return err
		}
		cols[k] = c
	}
	rec := array.NewRecord(sc, cols, p.rows)
	defer rec.Release()
	return p.fw.Write(rec)
}

func (p *parquetWriter) release() {
	for _, r := range p.pending {
		r.Release()
	}
	p.pending, p.rows, p.bytes = nil, 0, 0
}

func (p *parquetWriter) close() error {
	err := p.flush()
	if cerr := p.fw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.w.discard = true
		p.w.w.Abort()
		return err
	}
	return p.w.w.Close()
}

func (p *parquetWriter) abort() {
	p.release()
	p.w.discard = true
	p.w.w.Abort()
	p.fw.Close() // frees the writer's buffers; its output is discarded
}

// textWriter writes CSV or JSON lines.
type textWriter struct {
	opts   *Options
	fields []Field
	w      *countingWriter
	gz     *gzip.Writer
	bw     *bufio.Writer
	line   []byte
	val    []byte
}

func (t *textWriter) write(rec arrow.Record) error {
	n := int(rec.NumRows())
	cols := rec.Columns()
	for i := 0; i < n; i++ {
		var err error
		if t.line, err = t.appendRow(t.line[:0], cols, i); err != nil {
			return err
		}
		t.line = append(t.line, '\n')
		if _, err := t.bw.Write(t.line); err != nil {
			return err
		}
	}
	return nil
}

// appendRow appends row i of the columns cols (the writer's fields) to b
// as one CSV or JSON line, without the line break.
func (t *textWriter) appendRow(b []byte, cols []arrow.Array, i int) ([]byte, error) {
	if t.opts.Format == FormatJSON {
		b = append(b, '{')
		for k, f := range t.fields {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			b = appendJSONValue(b, f.Type, cols[k], i)
		}
		return append(b, '}'), nil
	}
	for k, f := range t.fields {
		if k > 0 {
			b = append(b, t.opts.Delimiter)
		}
		if cols[k].IsNull(i) {
			if len(t.opts.NullValues) > 0 {
				b = append(b, t.opts.NullValues[0]...)
			}
			continue
		}
		t.val = appendValue(t.val[:0], f.Type, cols[k], i)
		var err error
		if b, err = t.appendCSVField(b, t.val, f.Type.IsString() || f.Type.Kind == catalog.KindBinary); err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
	}
	return b, nil
}

// appendCSVField appends a field, quoted when it holds the delimiter, the
// quote or escape character, a line break or surrounding spaces, when it
// is an empty string (an unquoted empty field reads as NULL), or when it
// equals one of the null_values.
func (t *textWriter) appendCSVField(b, v []byte, isString bool) ([]byte, error) {
	o := t.opts
	need := (len(v) == 0 && isString) ||
		strings.ContainsAny(string(v), string([]byte{o.Delimiter, '\n', '\r'})) ||
		(o.Quote != 0 && strings.IndexByte(string(v), o.Quote) >= 0) ||
		(len(v) > 0 && v[0] == o.Quote && o.Quote != 0)
	if !need && len(v) > 0 && (v[0] == ' ' || v[len(v)-1] == ' ') && isString {
		need = true
	}
	if !need {
		for _, nv := range o.NullValues {
			if nv == string(v) {
				need = true
				break
			}
		}
	}
	if !need {
		return append(b, v...), nil
	}
	if o.Quote == 0 {
		return nil, fmt.Errorf("value %s needs quoting but the quote option is empty", quoteRaw(v))
	}
	b = append(b, o.Quote)
	for _, c := range v {
		switch {
		case c == o.Quote:
			b = append(b, o.Escape, c)
		case c == o.Escape && o.Escape != o.Quote:
			b = append(b, o.Escape, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, o.Quote), nil
}

func (t *textWriter) close() error {
	err := t.bw.Flush()
	if t.gz != nil && err == nil {
		err = t.gz.Close()
	}
	if err != nil {
		t.w.w.Abort()
		return err
	}
	return t.w.w.Close()
}

func (t *textWriter) abort() { t.w.w.Abort() }
