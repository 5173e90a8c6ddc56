package connector

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// hiveNull is the directory value Hive, Spark and Trino use for a NULL
// partition value.
const hiveNull = "__HIVE_DEFAULT_PARTITION__"

// escapePartition escapes a partition column name or value for a
// directory name, the Hive way: %XX for / = % \ : # ? * [ ] ^ { and both
// quote characters, control characters and DEL. A
// leading '_' or '.' is escaped too, so that readers, which skip names
// starting with them, do not take a partition for a hidden directory.
func escapePartition(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) || (i == 0 && (c == '_' || c == '.')) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(c byte) bool {
	if c < 0x20 || c == 0x7f {
		return true
	}
	switch c {
	case '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', '[', ']', '^', '{':
		return true
	}
	return false
}

// unescapePartition undoes escapePartition (and any %XX escape).
func unescapePartition(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b.WriteByte(h<<4 | l)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// PartitionDir splits the path of a sink's file relative to the sink
// (state=CA/part-0.parquet) into its partition directory ("state=CA/", as
// written, escapes and all) and the values of the partition columns it
// encodes, unescaped, in order. A NULL value is Hive's
// __HIVE_DEFAULT_PARTITION__, as in the directory. A file outside any
// partition directory gives "" and nil.
func PartitionDir(rel string) (dir string, values []string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", nil
	}
	dir = rel[:i+1]
	for _, part := range strings.Split(rel[:i], "/") {
		_, v, ok := strings.Cut(part, "=")
		if !ok {
			return "", nil
		}
		values = append(values, unescapePartition(v))
	}
	return dir, values
}

// PartitionRecord returns a one-row record of the given columns of a
// source's fields (indexes into fields, in output order; nil: all) holding
// the values a file's partition directories give them, converted to the
// columns' types as a scan converts them, and NULL where the file's path
// has no directory for a column. present[k] reports whether output column
// k has a directory. A value that does not convert is an error (reading
// the file would fail the same way). The caller releases the record.
func PartitionRecord(mem memory.Allocator, fields []Field, columns []int, parts []PartitionValue) (rec arrow.Record, present []bool, err error) {
	if columns == nil {
		columns = make([]int, len(fields))
		for i := range columns {
			columns[i] = i
		}
	}
	out := make([]Field, len(columns))
	cols := make([]arrow.Array, len(columns))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	present = make([]bool, len(columns))
	for k, i := range columns {
		if i < 0 || i >= len(fields) {
			return nil, nil, fmt.Errorf("column index %d out of range (%d columns)", i, len(fields))
		}
		f := fields[i]
		out[k] = f
		var p *PartitionValue
		for j := range parts {
			if findField(fields, parts[j].Column) == i {
				p = &parts[j]
			}
		}
		if p == nil {
			b := array.NewBuilder(mem, f.Type.Arrow())
			b.AppendNull()
			cols[k] = b.NewArray()
			b.Release()
			continue
		}
		c, err := partitionColumn(mem, f, p)
		if err != nil {
			return nil, nil, fmt.Errorf("partition directory %s=%s: column %q: %w", p.Column, p.Value, f.Name, err)
		}
		c.appendStaged()
		cols[k] = c.builder.NewArray()
		c.builder.Release()
		present[k] = true
	}
	return array.NewRecord(ArrowSchema(out), cols, 1), present, nil
}
