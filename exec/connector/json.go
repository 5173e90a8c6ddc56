package connector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
)

// jsonReader reads one newline-delimited JSON file: one object per line,
// keys matched to columns by name (exactly, else ignoring case), missing
// keys and null read as NULL, other keys ignored. Blank lines are skipped.
type jsonReader struct {
	fc      *fileContext
	closer  io.Closer
	lr      lineReader
	cols    []*column
	byName  map[string]int
	byLower map[string]int
	seen    []bool
	str     []byte
}

func openJSON(ctx context.Context, fc *fileContext) (fileReader, error) {
	rd, closer, err := openStream(ctx, fc)
	if err != nil {
		return nil, err
	}
	r := &jsonReader{
		fc: fc, closer: closer, lr: lineReader{r: bufio.NewReaderSize(rd, 1<<16)},
		byName: map[string]int{}, byLower: map[string]int{},
	}
	for k, f := range fc.outputs {
		r.cols = append(r.cols, newColumn(fc.mem, f))
		r.byName[f.Name] = k
		if _, dup := r.byLower[strings.ToLower(f.Name)]; !dup {
			r.byLower[strings.ToLower(f.Name)] = k
		}
	}
	r.seen = make([]bool, len(r.cols))
	return r, nil
}

func (r *jsonReader) close() error {
	for _, c := range r.cols {
		c.builder.Release()
	}
	r.cols = nil
	return r.closer.Close()
}

func (r *jsonReader) next(ctx context.Context, n int) (arrow.Record, error) {
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
		r.lr.raw = r.lr.raw[:0]
		ok, err := r.lr.readLine()
		if err != nil {
			return nil, &RowError{File: r.fc.uri, Reason: err.Error()}
		}
		if !ok {
			break
		}
		line := bytes.TrimSpace(r.lr.raw)
		if len(line) == 0 {
			continue
		}
		col, bad := r.stage(line)
		if bad != "" {
			e := &RowError{File: r.fc.uri, Line: r.lr.line, Column: col, Reason: bad, Raw: string(r.lr.raw)}
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
	return buildRecord(r.fc.outputs, r.cols, rows), nil
}

// stage converts the requested keys of one line; on a bad value it returns
// the column and the reason.
func (r *jsonReader) stage(line []byte) (string, string) {
	if !utf8.Valid(line) {
		return "", "invalid UTF-8"
	}
	if !json.Valid(line) {
		var x any
		err := json.Unmarshal(line, &x)
		msg := "malformed JSON"
		if err != nil {
			msg += ": " + err.Error()
		}
		return "", msg
	}
	if line[0] != '{' {
		return "", "expected a JSON object"
	}
	for k := range r.seen {
		r.seen[k] = false
	}
	i := skipSpace(line, 1)
	for i < len(line) && line[i] != '}' {
		kend := skipString(line, i)
		key := line[i+1 : kend-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			json.Unmarshal(line[i:kend], &s)
			key = []byte(s)
		}
		i = skipSpace(line, kend)
		i = skipSpace(line, i+1) // the colon
		vend := skipValue(line, i)
		tok := line[i:vend]
		k, ok := r.byName[string(key)]
		if !ok {
			k, ok = r.byLower[strings.ToLower(string(key))]
		}
		if ok {
			r.seen[k] = true
			if err := r.stageValue(r.cols[k], tok); err != nil {
				return r.cols[k].field.Name, err.Error()
			}
		}
		i = skipSpace(line, vend)
		if i < len(line) && line[i] == ',' {
			i = skipSpace(line, i+1)
		}
	}
	for k, c := range r.cols {
		if !r.seen[k] {
			if err := c.setNull(); err != nil {
				return c.field.Name, err.Error()
			}
		}
	}
	return "", ""
}

// stageValue converts one JSON value to the column's type.
func (r *jsonReader) stageValue(c *column, tok []byte) error {
	switch tok[0] {
	case 'n':
		return c.setNull()
	case '"':
		if c.field.Type.Kind == catalog.KindJSON {
			return c.setText(tok)
		}
		s := tok[1 : len(tok)-1]
		if bytes.IndexByte(s, '\\') >= 0 {
			var str string
			if err := json.Unmarshal(tok, &str); err != nil {
				return err
			}
			s = []byte(str)
		}
		if c.field.Type.Kind == catalog.KindBinary {
			buf := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
			n, err := base64.StdEncoding.Decode(buf, s)
			if err != nil {
				return invalid(c.field.Type, s)
			}
			c.v.null = false
			c.v.s = buf[:n]
			return nil
		}
		return c.setText(s)
	}
	return c.setText(tok)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i].
func skipString(b []byte, i int) int {
	i++
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
		case '"':
			return i + 1
		default:
			i++
		}
	}
	return i
}

// skipValue returns the index after the (valid) JSON value at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}
