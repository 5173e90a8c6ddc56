package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// rowGroupRows is the number of rows in one record batch, and so in one
// Parquet row group.
const rowGroupRows = 122880

// convertOptions controls the .tbl to Parquet conversion of one table.
type convertOptions struct {
	// rowsPerFile is the most rows one Parquet file holds; a table with more
	// rows is split into part-00000.parquet, part-00001.parquet, ...
	rowsPerFile int64
}

// convertTable reads the '|'-delimited file src, which holds rows of spec,
// and writes them as Parquet files part-NNNNN.parquet into dstDir, which must
// exist. It returns the number of rows converted.
func convertTable(ctx context.Context, spec tableSpec, src, dstDir string, opts convertOptions) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", src, err)
	}
	defer f.Close()
	if opts.rowsPerFile <= 0 {
		opts.rowsPerFile = 1 << 62
	}

	schema := spec.schema()
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithCreatedBy("etlc tpchgen"),
		// DECIMAL(15,2) as INT64, not FIXED_LEN_BYTE_ARRAY (see parquetLayout).
		parquet.WithStoreDecimalAsInteger(true),
	)

	var (
		fw        *pqarrow.FileWriter
		out       *os.File
		fileIndex int
		fileRows  int64
		total     int64
		batchRows int
	)
	closeFile := func() error {
		if fw == nil {
			return nil
		}
		err := fw.Close() // also closes out
		fw, out, fileRows = nil, nil, 0
		if err != nil {
			return fmt.Errorf("close parquet file: %w", err)
		}
		return nil
	}
	flushBatch := func() error {
		if batchRows == 0 {
			return nil
		}
		rec := bld.NewRecord()
		defer rec.Release()
		batchRows = 0
		if fw == nil {
			path := filepath.Join(dstDir, fmt.Sprintf("part-%05d.parquet", fileIndex))
			fileIndex++
			fileRows = 0
			if out, err = os.Create(path); err != nil {
				return fmt.Errorf("create %s: %w", path, err)
			}
			if fw, err = pqarrow.NewFileWriter(schema, out, props, pqarrow.DefaultWriterProps()); err != nil {
				out.Close()
				fw = nil
				return fmt.Errorf("parquet writer for %s: %w", path, err)
			}
		}
		if err := fw.Write(rec); err != nil {
			return fmt.Errorf("write %s: %w", out.Name(), err)
		}
		fileRows += rec.NumRows()
		if fileRows >= opts.rowsPerFile {
			return closeFile()
		}
		return nil
	}

	r := bufio.NewReaderSize(f, 1<<20)
	fields := make([][]byte, len(spec.cols))
	var lineNo int64
	for {
		line, rerr := r.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			closeFile()
			return total, fmt.Errorf("%s:%d: line longer than %d bytes", src, lineNo+1, r.Size())
		}
		if len(line) > 0 {
			lineNo++
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
			if err := splitFields(line, fields); err != nil {
				closeFile()
				return total, fmt.Errorf("%s:%d: %w", src, lineNo, err)
			}
			for i, c := range spec.cols {
				if err := appendField(bld.Field(i), c.kind, fields[i]); err != nil {
					closeFile()
					return total, fmt.Errorf("%s:%d: column %s: %w", src, lineNo, c.name, err)
				}
			}
			batchRows++
			total++
			if int64(batchRows) == rowGroupRows || fileRows+int64(batchRows) >= opts.rowsPerFile {
				if err := flushBatch(); err != nil {
					closeFile()
					return total, err
				}
				if err := ctx.Err(); err != nil {
					closeFile()
					return total, err
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			closeFile()
			return total, fmt.Errorf("read %s: %w", src, rerr)
		}
	}
	if err := flushBatch(); err != nil {
		closeFile()
		return total, err
	}
	return total, closeFile()
}

// splitFields splits line on '|' into exactly len(fields) fields.
func splitFields(line []byte, fields [][]byte) error {
	n := 0
	for {
		i := bytes.IndexByte(line, '|')
		if n == len(fields) {
			return fmt.Errorf("more than %d fields", len(fields))
		}
		if i < 0 {
			fields[n] = line
			n++
			break
		}
		fields[n] = line[:i]
		n++
		line = line[i+1:]
	}
	if n != len(fields) {
		return fmt.Errorf("%d fields, want %d", n, len(fields))
	}
	return nil
}

// appendField parses text as a value of kind k and appends it to b.
func appendField(b array.Builder, k colKind, text []byte) error {
	switch k {
	case kindBigint:
		v, err := strconv.ParseInt(string(text), 10, 64)
		if err != nil {
			return fmt.Errorf("bad BIGINT %q", text)
		}
		b.(*array.Int64Builder).Append(v)
	case kindInt:
		v, err := strconv.ParseInt(string(text), 10, 32)
		if err != nil {
			return fmt.Errorf("bad INT %q", text)
		}
		b.(*array.Int32Builder).Append(int32(v))
	case kindDecimal:
		v, err := parseCents(text)
		if err != nil {
			return err
		}
		b.(*array.Decimal128Builder).Append(decimal128.FromI64(v))
	case kindDate:
		d, err := parseDate(text)
		if err != nil {
			return err
		}
		b.(*array.Date32Builder).Append(d)
	default:
		b.(*array.StringBuilder).BinaryBuilder.Append(text)
	}
	return nil
}

// maxDecimal15 is the largest unscaled value of a DECIMAL(15,2).
const maxDecimal15 = 999_999_999_999_999

// parseCents parses a decimal number with at most two fraction digits
// ("-12.5", "17", "0.04") into hundredths.
func parseCents(text []byte) (int64, error) {
	s := text
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v int64
	digits, frac := 0, -1
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if frac >= 0 {
				if frac == 2 {
					return 0, fmt.Errorf("bad DECIMAL(15,2) %q: more than 2 fraction digits", text)
				}
				frac++
			}
			v = v*10 + int64(c-'0')
			digits++
			if v > maxDecimal15 {
				return 0, fmt.Errorf("bad DECIMAL(15,2) %q: out of range", text)
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, fmt.Errorf("bad DECIMAL(15,2) %q", text)
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("bad DECIMAL(15,2) %q", text)
	}
	if frac < 0 {
		frac = 0
	}
	for ; frac < 2; frac++ {
		v *= 10
	}
	if v > maxDecimal15 {
		return 0, fmt.Errorf("bad DECIMAL(15,2) %q: out of range", text)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// errBadDate is wrapped by parseDate's errors.
var errBadDate = errors.New("bad DATE, want YYYY-MM-DD")

// parseDate parses YYYY-MM-DD into days since 1970-01-01.
func parseDate(text []byte) (arrow.Date32, error) {
	if len(text) != 10 || text[4] != '-' || text[7] != '-' {
		return 0, fmt.Errorf("%w: %q", errBadDate, text)
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(text[0:4])
	m, ok2 := num(text[5:7])
	d, ok3 := num(text[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, fmt.Errorf("%w: %q", errBadDate, text)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return 0, fmt.Errorf("%w: %q is not a calendar date", errBadDate, text)
	}
	return arrow.Date32FromTime(t), nil
}
