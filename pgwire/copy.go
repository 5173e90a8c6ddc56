package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// copySignature opens a binary COPY stream.
var copySignature = []byte("PGCOPY\n\377\r\n\000")

// copyBatchRows is how many rows of a COPY FROM go to the table at a time.
const copyBatchRows = 4096

// copyStmt runs a COPY statement of the simple or extended protocol.
func (c *conn) copyStmt(ctx context.Context, q string) error {
	cp, diags := parser.ParseCopy(newSource(q))
	if diags.HasErrors() {
		return diags
	}
	if cp.From {
		return c.copyIn(ctx, cp)
	}
	return c.copyOut(ctx, cp, q)
}

// copyQuery is the query a COPY ... TO STDOUT runs: the given query, with
// the text before it blanked so that error positions stay where the
// client's caret expects them, or a SELECT of the table's columns.
func copyQuery(cp *parser.Copy, q string) string {
	if cp.Query != nil {
		var b strings.Builder
		for _, r := range q[:cp.Query.Span.Start] {
			if r == '\n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(cp.Query.Text)
		return b.String()
	}
	cols := "*"
	if len(cp.Columns) > 0 {
		names := make([]string, len(cp.Columns))
		for i, col := range cp.Columns {
			names[i] = quoteIdent(col.Name)
		}
		cols = strings.Join(names, ", ")
	}
	name := quoteIdent(cp.Table.Name.Name)
	if cp.Table.Schema.Name != "" {
		name = quoteIdent(cp.Table.Schema.Name) + "." + name
	}
	return "SELECT " + cols + " FROM " + name
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// copyOut runs COPY ... TO STDOUT: CopyOutResponse, a CopyData per row,
// CopyDone and the command tag "COPY n".
func (c *conn) copyOut(ctx context.Context, cp *parser.Copy, q string) error {
	enc := newCopyEncoder(cp)
	var n int64
	started := false
	_, err := c.exec(ctx, copyQuery(cp, q), session.ExecOptions{
		Results: func(ctx context.Context, _ *session.StmtInfo, rows array.RecordReader) error {
			schema := rows.Schema()
			format := int16(formatText)
			if cp.Format == "binary" {
				format = formatBinary
			}
			codes := make([]uint16, schema.NumFields())
			for i := range codes {
				codes[i] = uint16(format)
			}
			c.be.Send(&pgproto3.CopyOutResponse{OverallFormat: byte(format), ColumnFormatCodes: codes})
			started = true
			if head := enc.header(schema); head != nil {
				c.be.Send(&pgproto3.CopyData{Data: head})
			}
			for rows.Next() {
				rec := rows.Record()
				if err := enc.columns(rec); err != nil {
					return err
				}
				for i := 0; i < int(rec.NumRows()); i++ {
					row, err := enc.row(rec, i)
					if err != nil {
						return err
					}
					c.be.Send(&pgproto3.CopyData{Data: row})
				}
				n += rec.NumRows()
				if err := c.be.Flush(); err != nil {
					return err
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if tail := enc.trailer(); tail != nil {
				c.be.Send(&pgproto3.CopyData{Data: tail})
			}
			c.be.Send(&pgproto3.CopyDone{})
			return nil
		},
	})
	if err != nil {
		return err
	}
	if !started {
		return &codedError{code: "0A000", msg: "COPY TO STDOUT needs a query that returns rows"}
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(fmt.Sprintf("COPY %d", n))})
	return nil
}

// copyEncoder writes rows in a COPY format.
type copyEncoder struct {
	cp    *parser.Copy
	buf   []byte
	force []bool // CSV: columns always quoted
}

func newCopyEncoder(cp *parser.Copy) *copyEncoder { return &copyEncoder{cp: cp} }

// header returns the stream's first bytes: the binary signature or the
// CSV/text header line (nil: none).
func (e *copyEncoder) header(schema *arrow.Schema) []byte {
	switch {
	case e.cp.Format == "binary":
		out := append([]byte(nil), copySignature...)
		return append(out, 0, 0, 0, 0, 0, 0, 0, 0) // flags, extension length
	case e.cp.Header:
		var b []byte
		for i, f := range schema.Fields() {
			if i > 0 {
				b = append(b, e.cp.Delimiter...)
			}
			b = e.appendField(b, f.Name, false)
		}
		return append(b, '\n')
	}
	return nil
}

// trailer returns the stream's last bytes.
func (e *copyEncoder) trailer() []byte {
	if e.cp.Format == "binary" {
		return []byte{0xff, 0xff}
	}
	return nil
}

// columns prepares for a batch: which columns FORCE_QUOTE names.
func (e *copyEncoder) columns(rec arrow.Record) error {
	if e.force != nil || e.cp.Format != "csv" {
		return nil
	}
	e.force = make([]bool, rec.NumCols())
	for i := range e.force {
		e.force[i] = e.cp.ForceQuoteAll
	}
	for _, id := range e.cp.ForceQuote {
		found := false
		for i := 0; i < int(rec.NumCols()); i++ {
			if strings.EqualFold(rec.ColumnName(i), id.Name) {
				e.force[i], found = true, true
			}
		}
		if !found {
			return &codedError{code: "42703", msg: fmt.Sprintf("FORCE_QUOTE column %q is not in the COPY", id.Name)}
		}
	}
	return nil
}

// row encodes row i of rec; the slice is valid until the next call... and
// is copied, since pgproto3 keeps messages until Flush.
func (e *copyEncoder) row(rec arrow.Record, i int) ([]byte, error) {
	b := e.buf[:0]
	if e.cp.Format == "binary" {
		b = binary.BigEndian.AppendUint16(b, uint16(rec.NumCols()))
		for j, col := range rec.Columns() {
			at := len(b)
			b = append(b, 0, 0, 0, 0)
			var ok bool
			var err error
			b, ok, err = appendValue(b, col, i, formatBinary)
			if err != nil {
				return nil, &codedError{code: "0A000", msg: fmt.Sprintf("column %q: %v", rec.ColumnName(j), err)}
			}
			n := uint32(len(b) - at - 4)
			if !ok {
				n = math.MaxUint32 // -1: NULL
			}
			binary.BigEndian.PutUint32(b[at:], n)
		}
	} else {
		for j, col := range rec.Columns() {
			if j > 0 {
				b = append(b, e.cp.Delimiter...)
			}
			s, ok := session.FormatValue(col, i)
			if !ok {
				b = append(b, e.cp.Null...)
				continue
			}
			b = e.appendField(b, s, e.force != nil && e.force[j])
		}
		b = append(b, '\n')
	}
	e.buf = b
	return bytes.Clone(b), nil
}

// appendField appends a non-NULL value escaped for text or quoted for CSV.
func (e *copyEncoder) appendField(b []byte, s string, force bool) []byte {
	delim := e.cp.Delimiter[0]
	if e.cp.Format != "csv" {
		for k := 0; k < len(s); k++ {
			switch ch := s[k]; ch {
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				if ch == delim {
					b = append(b, '\\')
				}
				b = append(b, ch)
			}
		}
		return b
	}
	quote, esc := e.cp.Quote[0], e.cp.Escape[0]
	need := force || s == e.cp.Null || (s == "" && e.cp.Null == "") ||
		strings.IndexByte(s, delim) >= 0 || strings.IndexByte(s, quote) >= 0 ||
		strings.ContainsAny(s, "\r\n") || (len(s) > 0 && s == `\.`)
	if !need {
		return append(b, s...)
	}
	b = append(b, quote)
	for k := 0; k < len(s); k++ {
		ch := s[k]
		if ch == quote || ch == esc {
			b = append(b, esc)
		}
		b = append(b, ch)
	}
	return append(b, quote)
}

// copyIn runs COPY ... FROM STDIN: CopyInResponse, then the client's
// CopyData until CopyDone (commit, "COPY n") or CopyFail (nothing
// written). A row that does not fit fails the whole COPY with its line.
func (c *conn) copyIn(ctx context.Context, cp *parser.Copy) error {
	name := cp.Table.Name.Name
	if cp.Table.Schema.Name != "" && !strings.EqualFold(cp.Table.Schema.Name, "public") {
		name = cp.Table.Schema.Name + "." + name
	}
	var cols []string
	for _, col := range cp.Columns {
		cols = append(cols, col.Name)
	}
	ci, err := c.sess.BeginCopyIn(ctx, name, cols)
	if err != nil {
		return copyError(err, "")
	}
	committed := false
	defer func() {
		if !committed {
			ci.Abort(ctx)
		}
	}()
	listed := ci.Columns()
	format := int16(formatText)
	if cp.Format == "binary" {
		format = formatBinary
	}
	codes := make([]uint16, len(listed))
	for i := range codes {
		codes[i] = uint16(format)
	}
	c.be.Send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: codes})
	if err := c.be.Flush(); err != nil {
		return err
	}
	dec := newCopyDecoder(cp, listed, c.sess)
	where := func(line int64, col string) string {
		s := fmt.Sprintf("COPY %s, line %d", cp.Table.Name.Name, line)
		if col != "" {
			s += ", column " + col
		}
		return s
	}
	flush := func() error {
		rec, lines := dec.batch()
		if rec == nil {
			return nil
		}
		defer rec.Release()
		if err := ci.Write(ctx, rec); err != nil {
			var re *session.CopyRowError
			if errors.As(err, &re) && re.Row < len(lines) {
				return copyError(err, where(lines[re.Row], re.Column))
			}
			return copyError(err, "")
		}
		return nil
	}
	// Read the stream; after an error the rest of it is read and dropped
	// so that the connection stays in step (as PostgreSQL, which ignores
	// CopyData outside COPY, the loop drops what follows).
	for {
		msg, err := c.be.Receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if err := dec.feed(m.Data, false); err != nil {
				return copyError(err, where(dec.line, dec.column))
			}
			if dec.full() {
				if err := flush(); err != nil {
					return err
				}
			}
		case *pgproto3.CopyDone:
			if err := dec.feed(nil, true); err != nil {
				return copyError(err, where(dec.line, dec.column))
			}
			if err := flush(); err != nil {
				return err
			}
			n, err := ci.Commit(ctx)
			committed = true
			if err != nil {
				return copyError(err, "")
			}
			tag := fmt.Sprintf("COPY %d", n)
			c.noteTxStatement("COPY")
			c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
			return nil
		case *pgproto3.CopyFail:
			return &codedError{code: "57014", msg: "COPY from stdin failed: " + m.Message}
		case *pgproto3.Flush, *pgproto3.Sync:
			// Allowed during COPY; they mean nothing here.
		case *pgproto3.Terminate:
			return errClientGone
		default:
			return &codedError{code: "08P01", msg: fmt.Sprintf("unexpected message type %T during COPY from stdin", msg)}
		}
	}
}

// errClientGone is a Terminate in the middle of a COPY.
var errClientGone = errors.New("the client terminated the connection during COPY")

// copyErr is an error of a COPY with where it happened (the table, line
// and column, as PostgreSQL's CONTEXT says it).
type copyErr struct {
	code, msg, where string
}

func (e *copyErr) Error() string { return e.msg }

func copyError(err error, where string) error {
	var de *copyDataErr
	if errors.As(err, &de) {
		return &copyErr{code: de.code, msg: de.msg, where: where}
	}
	var ce *codedError
	if errors.As(err, &ce) && where == "" {
		return ce
	}
	code := session.CopyErrorCode(err)
	if errors.As(err, &ce) {
		code = ce.code
	}
	return &copyErr{code: code, msg: err.Error(), where: where}
}

// copyDecoder reads the rows of a COPY FROM stream into batches of text
// columns.
type copyDecoder struct {
	cp     *parser.Copy
	cols   []catalog.Column
	sess   *session.Session
	binary bool
	// pending is input not yet read into rows (an incomplete row).
	pending []byte
	started bool // header (line or binary signature) read
	ended   bool // \. or the binary trailer seen
	// line is the input line of the row being read (1-based), column its
	// column, for errors.
	line   int64
	column string
	// forceNotNull / forceNull per listed column (CSV).
	forceNotNull, forceNull []bool

	builders []*array.StringBuilder
	lines    []int64
	fields   [][]byte
	nulls    []bool
}

func newCopyDecoder(cp *parser.Copy, cols []catalog.Column, sess *session.Session) *copyDecoder {
	d := &copyDecoder{cp: cp, cols: cols, sess: sess, binary: cp.Format == "binary", line: 0,
		forceNotNull: make([]bool, len(cols)), forceNull: make([]bool, len(cols))}
	mark := func(ids []parser.Ident, into []bool) {
		for _, id := range ids {
			for i, c := range cols {
				if strings.EqualFold(c.Name, id.Name) {
					into[i] = true
				}
			}
		}
	}
	mark(cp.ForceNotNull, d.forceNotNull)
	mark(cp.ForceNull, d.forceNull)
	d.builders = make([]*array.StringBuilder, len(cols))
	for i := range d.builders {
		d.builders[i] = array.NewStringBuilder(memory.DefaultAllocator)
	}
	return d
}

// full reports whether a batch is ready.
func (d *copyDecoder) full() bool { return len(d.lines) >= copyBatchRows }

// batch returns the rows read so far as a record of string columns and
// the input line of each row (nil when there are none).
func (d *copyDecoder) batch() (arrow.Record, []int64) {
	if len(d.lines) == 0 {
		return nil, nil
	}
	fields := make([]arrow.Field, len(d.cols))
	arrs := make([]arrow.Array, len(d.cols))
	for i, c := range d.cols {
		fields[i] = arrow.Field{Name: c.Name, Type: arrow.BinaryTypes.String, Nullable: true}
		arrs[i] = d.builders[i].NewArray()
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), arrs, int64(len(d.lines)))
	for _, a := range arrs {
		a.Release()
	}
	lines := d.lines
	d.lines = nil
	return rec, lines
}

// copyDataErr is a malformed row of a COPY stream.
type copyDataErr struct{ code, msg string }

func (e *copyDataErr) Error() string { return e.msg }

func badCopy(format string, args ...any) error {
	return &copyDataErr{code: "22P04", msg: fmt.Sprintf(format, args...)}
}

// feed reads the rows in data (with what was pending before); final says
// the stream ended, so an incomplete last row is read as it is.
func (d *copyDecoder) feed(data []byte, final bool) error {
	d.pending = append(d.pending, data...)
	buf := d.pending
	var err error
	if d.binary {
		buf, err = d.feedBinary(buf, final)
	} else {
		buf, err = d.feedText(buf, final)
	}
	if err != nil {
		return err
	}
	d.pending = append(d.pending[:0], buf...)
	return nil
}

// feedText reads whole rows of the text and CSV formats from buf and
// returns what is left.
func (d *copyDecoder) feedText(buf []byte, final bool) ([]byte, error) {
	csv := d.cp.Format == "csv"
	for len(buf) > 0 && !d.ended {
		end := d.rowEnd(buf, csv)
		if end < 0 {
			if !final {
				return buf, nil
			}
			end = len(buf)
		}
		row := buf[:end]
		if end < len(buf) {
			buf = buf[end+1:]
		} else {
			buf = nil
		}
		d.line++
		d.column = ""
		row = bytes.TrimSuffix(row, []byte{'\r'})
		if string(row) == `\.` {
			d.ended = true
			break
		}
		if !d.started {
			d.started = true
			if d.cp.Header {
				continue
			}
		}
		var err error
		if csv {
			err = d.splitCSV(row)
		} else {
			err = d.splitText(row)
		}
		if err != nil {
			return nil, err
		}
		if err := d.addRow(); err != nil {
			return nil, err
		}
	}
	if d.ended {
		return nil, nil
	}
	return buf, nil
}

// rowEnd returns the index of the newline that ends the first row of buf
// (outside CSV quotes), or -1.
func (d *copyDecoder) rowEnd(buf []byte, csv bool) int {
	if !csv {
		return bytes.IndexByte(buf, '\n')
	}
	quote, esc := d.cp.Quote[0], d.cp.Escape[0]
	in := false
	for i := 0; i < len(buf); i++ {
		ch := buf[i]
		switch {
		case in && ch == esc && esc != quote && i+1 < len(buf) && (buf[i+1] == quote || buf[i+1] == esc):
			i++
		case ch == quote:
			in = !in
		case ch == '\n' && !in:
			return i
		}
	}
	return -1
}

// splitText splits a text-format row at the delimiter, resolving the
// backslash escapes; the NULL string is compared before unescaping.
func (d *copyDecoder) splitText(row []byte) error {
	d.fields, d.nulls = d.fields[:0], d.nulls[:0]
	delim := d.cp.Delimiter[0]
	start := 0
	for i := 0; i <= len(row); i++ {
		if i < len(row) && row[i] == '\\' {
			i++
			continue
		}
		if i < len(row) && row[i] != delim {
			continue
		}
		raw := row[start:i]
		start = i + 1
		if string(raw) == d.cp.Null {
			d.fields, d.nulls = append(d.fields, nil), append(d.nulls, true)
			continue
		}
		v, err := unescapeText(raw)
		if err != nil {
			return err
		}
		d.fields, d.nulls = append(d.fields, v), append(d.nulls, false)
	}
	return nil
}

// unescapeText resolves the text format's backslash escapes.
func unescapeText(raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		if ch != '\\' || i+1 >= len(raw) {
			out = append(out, ch)
			continue
		}
		i++
		switch c := raw[i]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			j := i + 1
			for j < len(raw) && j < i+3 && isHexDigit(raw[j]) {
				j++
			}
			if j == i+1 {
				out = append(out, 'x')
				continue
			}
			v, _ := strconv.ParseUint(string(raw[i+1:j]), 16, 8)
			out = append(out, byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(raw) && j < i+3 && raw[j] >= '0' && raw[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(string(raw[i:j]), 8, 16)
			out = append(out, byte(v))
			i = j - 1
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// splitCSV splits a CSV row: quoted fields may hold the delimiter, line
// breaks and doubled (or escaped) quotes; an unquoted field equal to the
// NULL string is NULL.
func (d *copyDecoder) splitCSV(row []byte) error {
	d.fields, d.nulls = d.fields[:0], d.nulls[:0]
	delim, quote, esc := d.cp.Delimiter[0], d.cp.Quote[0], d.cp.Escape[0]
	i := 0
	for {
		var v []byte
		quoted := false
		start := i
		for i < len(row) && row[i] != delim {
			if row[i] != quote {
				v = append(v, row[i])
				i++
				continue
			}
			quoted = true
			i++
			closed := false
			for i < len(row) {
				ch := row[i]
				if ch == esc && i+1 < len(row) && (row[i+1] == quote || (esc != quote && row[i+1] == esc)) {
					v = append(v, row[i+1])
					i += 2
					continue
				}
				if ch == quote {
					i++
					closed = true
					break
				}
				v = append(v, ch)
				i++
			}
			if !closed {
				return badCopy("unterminated CSV quoted field")
			}
		}
		k := len(d.fields)
		isNull := !quoted && string(row[start:i]) == d.cp.Null
		if k < len(d.cols) {
			if isNull && d.forceNotNull[k] {
				isNull = false
			}
			if quoted && d.forceNull[k] && string(v) == d.cp.Null {
				isNull = true
			}
		}
		if isNull {
			v = nil
		} else if v == nil {
			v = []byte{}
		}
		d.fields, d.nulls = append(d.fields, v), append(d.nulls, isNull)
		if i >= len(row) {
			return nil
		}
		i++ // the delimiter
	}
}

// addRow appends the split fields as a row.
func (d *copyDecoder) addRow() error {
	if len(d.fields) > len(d.cols) {
		return badCopy("extra data after last expected column")
	}
	if len(d.fields) < len(d.cols) {
		if len(d.cols) > 0 {
			d.column = d.cols[len(d.fields)].Name
		}
		return badCopy("missing data for column %q", d.cols[len(d.fields)].Name)
	}
	for i, b := range d.builders {
		if d.nulls[i] {
			b.AppendNull()
		} else {
			b.BinaryBuilder.Append(d.fields[i])
		}
	}
	d.lines = append(d.lines, d.line)
	return nil
}

// feedBinary reads whole tuples of the binary format from buf and returns
// what is left.
func (d *copyDecoder) feedBinary(buf []byte, final bool) ([]byte, error) {
	if !d.started {
		if len(buf) < len(copySignature)+8 {
			if final {
				return nil, badCopy("COPY file signature not recognized")
			}
			return buf, nil
		}
		if !bytes.Equal(buf[:len(copySignature)], copySignature) {
			return nil, badCopy("COPY file signature not recognized")
		}
		ext := binary.BigEndian.Uint32(buf[len(copySignature)+4:])
		if uint64(len(buf)) < uint64(len(copySignature)+8)+uint64(ext) {
			return buf, nil
		}
		buf = buf[len(copySignature)+8+int(ext):]
		d.started = true
	}
	for len(buf) >= 2 && !d.ended {
		n := int16(binary.BigEndian.Uint16(buf))
		if n == -1 {
			d.ended = true
			return nil, nil
		}
		// Find the tuple's end before reading it.
		at := 2
		complete := true
		for k := 0; k < int(n); k++ {
			if len(buf) < at+4 {
				complete = false
				break
			}
			l := int32(binary.BigEndian.Uint32(buf[at:]))
			at += 4
			if l > 0 {
				at += int(l)
			}
			if len(buf) < at {
				complete = false
				break
			}
		}
		if !complete {
			if final {
				return nil, badCopy("unexpected EOF in COPY data")
			}
			return buf, nil
		}
		d.line++
		if int(n) != len(d.cols) {
			return nil, badCopy("row field count is %d, expected %d", n, len(d.cols))
		}
		d.fields, d.nulls = d.fields[:0], d.nulls[:0]
		p := 2
		for k := 0; k < int(n); k++ {
			l := int32(binary.BigEndian.Uint32(buf[p:]))
			p += 4
			if l < 0 {
				d.fields, d.nulls = append(d.fields, nil), append(d.nulls, true)
				continue
			}
			d.column = d.cols[k].Name
			v, err := binaryToText(d.cols[k].Type, buf[p:p+int(l)])
			if err != nil {
				return nil, &copyDataErr{code: "22P03", msg: fmt.Sprintf("incorrect binary data format: %v", err)}
			}
			p += int(l)
			d.fields, d.nulls = append(d.fields, v), append(d.nulls, false)
		}
		d.column = ""
		if err := d.addRow(); err != nil {
			return nil, err
		}
		buf = buf[at:]
	}
	if final && len(buf) > 0 && !d.ended {
		return nil, badCopy("unexpected EOF in COPY data")
	}
	return buf, nil
}

// binaryToText reads a binary value of a column of type t as the text the
// column's cast from text reads back.
func binaryToText(t catalog.Type, b []byte) ([]byte, error) {
	oid := t.PGOID()
	v, err := decodeBinaryParam(oid, b)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case bool:
		if v {
			return []byte("true"), nil
		}
		return []byte("false"), nil
	case int64:
		switch oid {
		case catalog.PGOIDTime:
			return []byte(time.UnixMicro(v).UTC().Format("15:04:05.999999")), nil
		case catalog.PGOIDTimestamp:
			return []byte(time.UnixMicro(v).UTC().Format("2006-01-02 15:04:05.999999")), nil
		case catalog.PGOIDTimestampTZ:
			return []byte(time.UnixMicro(v).UTC().Format("2006-01-02 15:04:05.999999Z07:00")), nil
		}
		return strconv.AppendInt(nil, v, 10), nil
	case int32: // date: days since 1970
		return []byte(time.Unix(int64(v)*86400, 0).UTC().Format("2006-01-02")), nil
	case float64:
		bits := 64
		if oid == catalog.PGOIDFloat4 {
			bits = 32
		}
		return strconv.AppendFloat(nil, v, 'g', -1, bits), nil
	case string:
		return []byte(v), nil
	case []byte:
		return []byte(`\x` + hex.EncodeToString(v)), nil
	}
	return nil, fmt.Errorf("no binary COPY input for type %s", t)
}
