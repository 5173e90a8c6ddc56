package connector

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
)

// maxRecordBytes bounds one CSV record or JSON line, so that an
// unterminated quote cannot swallow a whole file into memory.
const maxRecordBytes = 64 << 20

// csvTokenizer splits CSV text into records and fields. Fields are
// delimited by delim; a field that starts with quote is quoted: inside it
// delimiters and line breaks are data, and escape followed by quote (or by
// escape) stands for that character (with escape == quote: a doubled
// quote). A quote inside an unquoted field is data. A line break (\n or
// \r\n) ends a record; blank lines are skipped.
type csvTokenizer struct {
	lineReader
	delim, quote, escape byte
	buf                  []byte // field bytes
	ends                 []int  // end offset in buf of each field
	quoted               []bool
}

// lineReader reads physical lines, counting them.
type lineReader struct {
	r    *bufio.Reader
	line int64  // lines read so far
	raw  []byte // the current record's text
	eof  bool
}

// readLine appends the next physical line (without its line break) to
// raw; ok is false at the end of the input.
func (t *lineReader) readLine() (ok bool, err error) {
	if t.eof {
		return false, nil
	}
	start := len(t.raw)
	for {
		chunk, err := t.r.ReadSlice('\n')
		t.raw = append(t.raw, chunk...)
		if len(t.raw) > maxRecordBytes {
			return false, fmt.Errorf("line %d: record longer than %d MiB (an unterminated quote?)", t.line+1, maxRecordBytes>>20)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			t.eof = true
			if len(t.raw) == start {
				return false, nil
			}
			t.line++
			return true, nil
		}
		if err != nil {
			return false, err
		}
		t.line++
		t.raw = t.raw[:len(t.raw)-1]
		if n := len(t.raw); n > start && t.raw[n-1] == '\r' {
			t.raw = t.raw[:n-1]
		}
		return true, nil
	}
}

// field returns the i-th field of the current record.
func (t *csvTokenizer) field(i int) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.buf[start:t.ends[i]]
}

// next reads one record. It returns its first line and, for a malformed
// record (unterminated quote, text after a closing quote), the reason; the
// record is consumed either way. err is io.EOF after the last record.
func (t *csvTokenizer) next() (line int64, bad string, err error) {
	t.buf, t.ends, t.quoted = t.buf[:0], t.ends[:0], t.quoted[:0]
	for {
		t.raw = t.raw[:0]
		ok, err := t.readLine()
		if err != nil {
			return 0, "", err
		}
		if !ok {
			return 0, "", io.EOF
		}
		if len(t.raw) > 0 {
			break
		}
	}
	line = t.line
	pos := 0
	for {
		// At the start of a field.
		if t.quote != 0 && pos < len(t.raw) && t.raw[pos] == t.quote {
			pos++
			closed := false
			for !closed {
				if pos >= len(t.raw) {
					// The quoted field goes on past the line break.
					t.raw = append(t.raw, '\n')
					pos = len(t.raw)
					ok, err := t.readLine()
					if err != nil {
						return 0, "", err
					}
					if !ok {
						t.raw = t.raw[:len(t.raw)-1]
						t.endField(true)
						return line, "unterminated quoted field", nil
					}
					t.buf = append(t.buf, '\n')
					continue
				}
				c := t.raw[pos]
				switch {
				case c == t.escape && t.escape != t.quote && pos+1 < len(t.raw) &&
					(t.raw[pos+1] == t.quote || t.raw[pos+1] == t.escape):
					t.buf = append(t.buf, t.raw[pos+1])
					pos += 2
				case c == t.quote && t.escape == t.quote && pos+1 < len(t.raw) && t.raw[pos+1] == t.quote:
					t.buf = append(t.buf, t.quote)
					pos += 2
				case c == t.quote:
					pos++
					closed = true
				default:
					t.buf = append(t.buf, c)
					pos++
				}
			}
			t.endField(true)
			if pos >= len(t.raw) {
				return line, bad, nil
			}
			if t.raw[pos] != t.delim {
				bad = fmt.Sprintf("unexpected %q after closing quote of field %d", t.raw[pos], len(t.ends))
				// Read on to the end of the field, as data of no use.
				for pos < len(t.raw) && t.raw[pos] != t.delim {
					pos++
				}
				if pos >= len(t.raw) {
					return line, bad, nil
				}
			}
			pos++ // the delimiter
			continue
		}
		end := pos
		for end < len(t.raw) && t.raw[end] != t.delim {
			end++
		}
		t.buf = append(t.buf, t.raw[pos:end]...)
		t.endField(false)
		if end >= len(t.raw) {
			return line, bad, nil
		}
		pos = end + 1
		if pos == len(t.raw) {
			// A trailing delimiter: one more, empty field.
			t.endField(false)
			return line, bad, nil
		}
	}
}

func (t *csvTokenizer) endField(quoted bool) {
	t.ends = append(t.ends, len(t.buf))
	t.quoted = append(t.quoted, quoted)
}

// openStream opens a file for sequential reading, decompressing gzip when
// the compression option says so (or, with "auto", the name ends in .gz).
func openStream(ctx context.Context, fc *fileContext) (io.Reader, io.Closer, error) {
	f, err := fc.fs.Open(ctx, fc.name)
	if err != nil {
		return nil, nil, err
	}
	comp := fc.opts.Compression
	if comp == "" || comp == "auto" {
		comp = "none"
		if strings.HasSuffix(strings.ToLower(fc.name), ".gz") {
			comp = "gzip"
		}
	}
	if comp == "gzip" {
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, f, nil
	}
	return f, f, nil
}

// csvReader reads one CSV file.
type csvReader struct {
	fc      *fileContext
	closer  io.Closer
	tok     csvTokenizer
	cols    []*column // per output column of the file
	src     []int     // per output column: its index among the record's fields
	nulls   map[string]bool
	started bool
}

func openCSV(ctx context.Context, fc *fileContext) (fileReader, error) {
	rd, closer, err := openStream(ctx, fc)
	if err != nil {
		return nil, err
	}
	o := fc.opts
	r := &csvReader{
		fc: fc, closer: closer,
		tok:   csvTokenizer{lineReader: lineReader{r: bufio.NewReaderSize(rd, 1<<16)}, delim: o.Delimiter, quote: o.Quote, escape: o.Escape},
		nulls: map[string]bool{},
	}
	for _, nv := range o.NullValues {
		r.nulls[nv] = true
	}
	r.src = fc.fileColumns()
	for _, f := range fc.outputs {
		r.cols = append(r.cols, newColumn(fc.mem, f))
	}
	return r, nil
}

func (r *csvReader) close() error {
	for _, c := range r.cols {
		c.builder.Release()
	}
	r.cols = nil
	return r.closer.Close()
}

func (r *csvReader) next(ctx context.Context, n int) (arrow.Record, error) {
	want := len(r.fc.inFile)
	for _, c := range r.cols {
		c.builder.Reserve(n)
	}
	rows := 0
	for rows < n {
		if rows%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, bad, err := r.tok.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &RowError{File: r.fc.uri, Reason: err.Error()}
		}
		if !r.started {
			r.started = true
			if r.fc.opts.Header {
				if bad != "" {
					return nil, &RowError{File: r.fc.uri, Line: line, Reason: "header: " + bad, Raw: string(r.tok.raw)}
				}
				if got := len(r.tok.ends); got != want {
					return nil, &RowError{File: r.fc.uri, Line: line,
						Reason: fmt.Sprintf("header has %d columns, expected %d", got, want), Raw: string(r.tok.raw)}
				}
				continue
			}
		}
		if bad == "" && len(r.tok.ends) != want {
			bad = fmt.Sprintf("expected %d columns, found %d", want, len(r.tok.ends))
		}
		col := ""
		if bad == "" {
			col, bad = r.stage()
		}
		if bad != "" {
			e := &RowError{File: r.fc.uri, Line: line, Column: col, Reason: bad, Raw: string(r.tok.raw)}
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
	if rows == 0 {
		return nil, io.EOF
	}
	return r.record(rows), nil
}

// stage converts the requested fields of the current record; on a bad
// value it returns the column and the reason.
func (r *csvReader) stage() (string, string) {
	for k, c := range r.cols {
		i := r.src[k]
		raw := r.tok.field(i)
		var err error
		switch {
		case !r.tok.quoted[i] && (len(raw) == 0 || r.nulls[string(raw)]):
			err = c.setNull()
		case len(raw) == 0 && !c.field.Type.IsString() && c.field.Type.Kind != catalog.KindBinary:
			err = c.setNull()
		default:
			err = c.setText(raw)
		}
		if err != nil {
			return c.field.Name, err.Error()
		}
	}
	return "", ""
}

// record makes a batch of the builders' rows.
func (r *csvReader) record(rows int) arrow.Record {
	return buildRecord(r.fc.outputs, r.cols, rows)
}

// buildRecord makes a record from column builders holding rows rows.
func buildRecord(fields []Field, cols []*column, rows int) arrow.Record {
	arrs := make([]arrow.Array, len(cols))
	for k, c := range cols {
		arrs[k] = c.builder.NewArray()
	}
	rec := array.NewRecord(ArrowSchema(fields), arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}
