package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/metadata"

	"github.com/etlc/etlc/catalog"
)

// RowError is a bad row (or, with Line 0, a bad file): what a source
// reports under on_error = 'fail', and what a quarantine row holds.
type RowError struct {
	// File is the file's URI (a local path or s3://bucket/key).
	File string
	// Line is the 1-based line of the record's start (CSV, JSON), or the
	// 1-based row number in the file (Parquet, where RowNumber is set).
	// It is 0 for an error about the whole file.
	Line      int64
	RowNumber bool
	// Column is the column the error is about, "" for the whole row.
	Column string
	// Reason says what is wrong, e.g. `invalid TIMESTAMP "2020-13-01"`.
	Reason string
	// Raw is the record's text (a CSV or JSON line; a Parquet row rendered
	// as JSON), "" for file errors.
	Raw string
}

// Error returns file:line: column "c": reason (Parquet: file: row n: ...).
func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	switch {
	case e.Line > 0 && e.RowNumber:
		fmt.Fprintf(&b, ": row %d", e.Line)
	case e.Line > 0:
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// QuarantineSchema is the schema of the quarantine stream: one row per bad
// row (or bad file, with line 0 and NULL column_name and raw).
func QuarantineSchema() *arrow.Schema {
	return ArrowSchema(QuarantineFields())
}

// QuarantineFields are the columns of QuarantineSchema.
func QuarantineFields() []Field {
	return []Field{
		{Name: "source_file", Type: catalog.String, NotNull: true},
		{Name: "line", Type: catalog.Int64, NotNull: true},
		{Name: "column_name", Type: catalog.String},
		{Name: "reason", Type: catalog.String, NotNull: true},
		{Name: "raw", Type: catalog.String},
	}
}

// ScanStats count what a scan has read so far.
type ScanStats struct {
	// Files is the number of files opened.
	Files int
	// Rows is the number of good rows returned.
	Rows int64
	// BadRows is the number of rows dropped or quarantined.
	BadRows int64
	// BadFiles is the number of files skipped as unreadable (drop and
	// quarantine only; fail stops).
	BadFiles int
}

// ScanSpec says what a scan reads.
type ScanSpec struct {
	// Fields are the source's columns, declared or inferred.
	Fields []Field
	// Columns are the indexes into Fields of the columns to produce, in
	// output order. nil means all; an empty non-nil slice means none (the
	// batches then only carry row counts, as for COUNT(*)).
	Columns []int
	// Files, when not nil, are read instead of listing the path (the
	// stream runtime passes the files that arrived).
	Files []SourceFile
	// Morsels, when set, makes the scan one of several that share the
	// read: it reads only the pieces (row groups, files) it takes from
	// Morsels. Every scan sharing it must have the same options and spec.
	Morsels *Morsels
}

// fileReader reads one file's rows. next returns a record of at most n
// rows with the file's requested columns (in output order, partition
// columns left out); nil, io.EOF at the end.
type fileReader interface {
	next(ctx context.Context, n int) (arrow.Record, error)
	close() error
}

// fileContext is what a file reader needs to know about its file.
type fileContext struct {
	uri     string
	name    string
	fs      FS
	opts    *Options
	mem     memory.Allocator
	inFile  []Field // the fields stored in the file (partition fields left out)
	proj    []int   // for each output column: index into inFile; -1 for a partition column
	outputs []Field // the output fields (of the file's columns, in output order)
	bad     func(*RowError) error
	// oneRowGroup, when not 0, is 1 + the only Parquet row group to read.
	oneRowGroup int
	// meta, when not nil, is the Parquet file's footer, already parsed.
	meta *metadata.FileMetaData
}

// Scan reads a file source as record batches. Call Next until it returns
// io.EOF, taking the quarantine rows with TakeQuarantine after each call
// when on_error = 'quarantine'; then Close.
type Scan struct {
	c        *FileConnector
	opts     Options
	fs       FS
	files    []SourceFile
	fields   []Field
	columns  []int
	schema   *arrow.Schema
	mem      memory.Allocator
	next     int
	cur      fileReader
	curFile  *SourceFile
	curParts []*column // per output column: the staged partition value of the current file, or nil
	stats    ScanStats
	quar     *array.RecordBuilder
	quarN    int
	err      error
	morsels  *Morsels
	rowGroup int                    // of the piece being opened (-1: whole file)
	meta     *metadata.FileMetaData // of the piece being opened (nil: not parsed yet)
}

// Schema is the schema of the batches Next returns.
func (s *Scan) Schema() *arrow.Schema { return s.schema }

// Stats returns the counts so far.
func (s *Scan) Stats() ScanStats { return s.stats }

// Files returns the files the scan reads.
func (s *Scan) Files() []SourceFile { return s.files }

// ListFiles returns the files a source's path names now, in the order a
// scan reads them (the stream runtime lists again to find new files and
// passes them in ScanSpec.Files).
func (c *FileConnector) ListFiles(ctx context.Context, opts Options) (files []SourceFile, err error) {
	defer recoverErr(&err, opts.Path)
	fs, name, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return nil, err
	}
	return listSource(ctx, fs, name)
}

// Scan opens a scan of a file source: it lists the path (or takes
// spec.Files) and reads the files one at a time, in listing order.
func (c *FileConnector) Scan(ctx context.Context, opts Options, spec ScanSpec) (s *Scan, err error) {
	defer recoverErr(&err, opts.Path)
	fs, name, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return nil, err
	}
	files := spec.Files
	if files == nil {
		if files, err = c.list(ctx, fs, name); err != nil {
			return nil, err
		}
	}
	cols := spec.Columns
	if cols == nil {
		cols = make([]int, len(spec.Fields))
		for i := range cols {
			cols[i] = i
		}
	}
	out := make([]Field, len(cols))
	for k, i := range cols {
		if i < 0 || i >= len(spec.Fields) {
			return nil, fmt.Errorf("column index %d out of range (%d columns)", i, len(spec.Fields))
		}
		out[k] = spec.Fields[i]
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	s = &Scan{
		c: c, opts: opts, fs: fs, files: files, fields: spec.Fields, columns: cols,
		schema: ArrowSchema(out), mem: c.mem(), morsels: spec.Morsels, rowGroup: -1,
	}
	if opts.OnError == OnErrorQuarantine {
		s.quar = array.NewRecordBuilder(s.mem, QuarantineSchema())
	}
	return s, nil
}

// recoverErr turns a panic (from a third-party decoder meeting a malformed
// file) into an error naming the file. It must be deferred directly.
func recoverErr(err *error, file string) {
	if r := recover(); r != nil {
		*err = &RowError{File: file, Reason: fmt.Sprintf("cannot read the file (the decoder failed: %v)", r)}
	}
}

// Next returns the next batch (the caller releases it), or nil, io.EOF
// after the last. Under on_error = 'fail' a bad row is a *RowError.
func (s *Scan) Next(ctx context.Context) (rec arrow.Record, err error) {
	if s.err != nil {
		return nil, s.err
	}
	defer func() {
		if err != nil && err != io.EOF {
			s.err = err
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.cur == nil {
			var f *SourceFile
			if s.morsels != nil {
				p, ok, err := s.morsels.take(ctx, s)
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, io.EOF
				}
				f, s.rowGroup, s.meta = &s.files[p.file], p.rowGroup, p.meta
			} else {
				if s.next >= len(s.files) {
					return nil, io.EOF
				}
				f = &s.files[s.next]
				s.next++
			}
			r, err := s.openFile(ctx, f)
			if err != nil {
				if ferr := s.fileError(f, err); ferr != nil {
					return nil, ferr
				}
				continue
			}
			s.cur, s.curFile = r, f
		}
		rec, err := s.readCur(ctx)
		if err == io.EOF {
			s.closeCur()
			continue
		}
		if err != nil {
			// Under fail, a bad row comes back from fileError as it is;
			// under drop and quarantine, bad rows never end a read, so
			// this is the file going bad: skip the rest of it.
			f := s.curFile
			s.closeCur()
			if ferr := s.fileError(f, err); ferr != nil {
				return nil, ferr
			}
			continue
		}
		if rec.NumRows() == 0 {
			rec.Release()
			continue
		}
		s.stats.Rows += rec.NumRows()
		return rec, nil
	}
}

// readCur reads a batch from the current file and adds its partition
// columns, recovering from a decoder's panic.
func (s *Scan) readCur(ctx context.Context) (rec arrow.Record, err error) {
	defer recoverErr(&err, s.fs.URI(s.curFile.Name))
	r, err := s.cur.next(ctx, s.opts.BatchSize)
	if err != nil {
		return nil, err
	}
	if len(s.curParts) == 0 {
		return r, nil
	}
	defer r.Release()
	n := int(r.NumRows())
	cols := make([]arrow.Array, len(s.columns))
	fi := 0
	for k := range s.columns {
		if c := s.curParts[k]; c != nil {
			c.builder.Reserve(n)
			for i := 0; i < n; i++ {
				c.appendStaged()
			}
			cols[k] = c.builder.NewArray()
			defer cols[k].Release()
			continue
		}
		cols[k] = r.Column(fi)
		fi++
	}
	return array.NewRecord(s.schema, cols, int64(n)), nil
}

func (s *Scan) closeCur() {
	if s.cur != nil {
		s.cur.close()
		s.cur = nil
	}
	for _, c := range s.curParts {
		if c != nil {
			c.builder.Release()
		}
	}
	s.curParts = nil
}

// fileError handles an unreadable file: an error under fail; skipped and
// counted (and quarantined) otherwise.
func (s *Scan) fileError(f *SourceFile, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	re := &RowError{File: s.fs.URI(f.Name), Reason: err.Error()}
	var inner *RowError
	if errors.As(err, &inner) {
		re = inner
	}
	if s.opts.OnError == OnErrorFail {
		return re
	}
	s.stats.BadFiles++
	if s.opts.OnError == OnErrorQuarantine {
		s.addQuarantine(re)
	}
	return nil
}

// badRow handles a bad row according to on_error.
func (s *Scan) badRow(e *RowError) error {
	if s.opts.OnError == OnErrorFail {
		return e
	}
	s.stats.BadRows++
	if s.opts.OnError == OnErrorQuarantine {
		s.addQuarantine(e)
	}
	return nil
}

func (s *Scan) addQuarantine(e *RowError) {
	b := s.quar
	b.Field(0).(*array.StringBuilder).Append(e.File)
	b.Field(1).(*array.Int64Builder).Append(e.Line)
	if e.Column == "" {
		b.Field(2).AppendNull()
	} else {
		b.Field(2).(*array.StringBuilder).Append(e.Column)
	}
	b.Field(3).(*array.StringBuilder).Append(strings.ToValidUTF8(e.Reason, "\uFFFD"))
	if e.Line == 0 {
		b.Field(4).AppendNull()
	} else {
		b.Field(4).(*array.StringBuilder).Append(strings.ToValidUTF8(e.Raw, "\uFFFD"))
	}
	s.quarN++
}

// TakeQuarantine returns the quarantine rows collected since the last call
// as one batch of QuarantineSchema (the caller releases it), or nil when
// there are none.
func (s *Scan) TakeQuarantine() arrow.Record {
	if s.quar == nil || s.quarN == 0 {
		return nil
	}
	s.quarN = 0
	return s.quar.NewRecord()
}

// Close releases the scan's resources.
func (s *Scan) Close() error {
	s.closeCur()
	if s.quar != nil {
		s.quar.Release()
		s.quar = nil
	}
	return nil
}

// openFile prepares a file's reader: which fields come from its path
// (Hive partitions) and which from its content.
func (s *Scan) openFile(ctx context.Context, f *SourceFile) (r fileReader, err error) {
	uri := s.fs.URI(f.Name)
	defer recoverErr(&err, uri)
	s.stats.Files++
	isPart := make([]bool, len(s.fields))
	partVal := make([]*PartitionValue, len(s.fields))
	for i := range f.Partitions {
		p := &f.Partitions[i]
		if j := findField(s.fields, p.Column); j >= 0 {
			isPart[j] = true
			partVal[j] = p
		}
	}
	fc := &fileContext{uri: uri, name: f.Name, fs: s.fs, opts: &s.opts, mem: s.mem, bad: s.badRow, oneRowGroup: s.rowGroup + 1, meta: s.meta}
	fileIdx := make([]int, len(s.fields))
	for i, fd := range s.fields {
		fileIdx[i] = -1
		if !isPart[i] {
			fileIdx[i] = len(fc.inFile)
			fc.inFile = append(fc.inFile, fd)
		}
	}
	parts := make([]*column, len(s.columns))
	hasParts := false
	for k, i := range s.columns {
		if isPart[i] {
			c, err := partitionColumn(s.mem, s.fields[i], partVal[i])
			if err != nil {
				for _, p := range parts {
					if p != nil {
						p.builder.Release()
					}
				}
				return nil, &RowError{File: uri, Column: s.fields[i].Name, Reason: fmt.Sprintf("partition directory: %v", err)}
			}
			parts[k], hasParts = c, true
			fc.proj = append(fc.proj, -1)
			continue
		}
		fc.proj = append(fc.proj, fileIdx[i])
		fc.outputs = append(fc.outputs, s.fields[i])
	}
	if hasParts {
		s.curParts = parts
	}
	switch s.opts.Format {
	case FormatCSV:
		r, err = openCSV(ctx, fc)
	case FormatJSON:
		r, err = openJSON(ctx, fc)
	case FormatParquet:
		mc := s.c.metaCache()
		if fc.meta == nil {
			fc.meta = mc.footer(uri, f.Size, f.ModTime)
		}
		r, err = openParquet(ctx, fc)
		if pr, ok := r.(*parquetReader); ok && err == nil && s.meta == nil && fc.meta == nil && pr.pf != nil {
			mc.putFooter(uri, f.Size, f.ModTime, pr.pf.MetaData())
		}
	default:
		err = fmt.Errorf("unknown format %q", s.opts.Format)
	}
	if err != nil {
		s.closeCur()
		return nil, err
	}
	return r, nil
}

// partitionColumn converts a partition directory's value to a staged
// value of the field's type.
func partitionColumn(mem memory.Allocator, f Field, p *PartitionValue) (*column, error) {
	c := newColumn(mem, f)
	var err error
	if p.Null {
		err = c.setNull()
	} else {
		// The staged value must outlive the path string's bytes: copy.
		err = c.setText([]byte(p.Value))
	}
	if err != nil {
		c.builder.Release()
		return nil, err
	}
	return c, nil
}

// fileColumns returns, for the file's output columns (partition columns
// left out), the index into inFile of each.
func (fc *fileContext) fileColumns() []int {
	out := make([]int, 0, len(fc.proj))
	for _, p := range fc.proj {
		if p >= 0 {
			out = append(out, p)
		}
	}
	return out
}
