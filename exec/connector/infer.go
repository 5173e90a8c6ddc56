package connector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/etlc/etlc/catalog"
)

// Candidate types of inference, as bits: the types every sampled value of
// a column parses as.
const (
	candInt uint16 = 1 << iota
	candFloat
	candBool
	candDate
	candTimestamp
	candTimestampTZ
	candJSON
	candAll = candInt | candFloat | candBool | candDate | candTimestamp | candTimestampTZ | candJSON
)

// typeOf returns the most specific type of a candidate set: BIGINT, DOUBLE,
// BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ, JSON in that order; VARCHAR when
// the set is empty or no value was seen.
func typeOf(c uint16, seen bool) catalog.Type {
	switch {
	case !seen:
		return catalog.String
	case c&candInt != 0:
		return catalog.Int64
	case c&candFloat != 0:
		return catalog.Float64
	case c&candBool != 0:
		return catalog.Bool
	case c&candDate != 0:
		return catalog.Date
	case c&candTimestamp != 0:
		return catalog.Timestamp
	case c&candTimestampTZ != 0:
		return catalog.TimestampTZ
	case c&candJSON != 0:
		return catalog.JSON
	}
	return catalog.String
}

// textCandidates returns the types a text value parses as.
func textCandidates(s []byte) uint16 {
	s = bytes.TrimSpace(s)
	var c uint16
	if _, err := parseInt(s, 64); err == nil {
		c |= candInt
	}
	if bytes.ContainsAny(s, "0123456789") {
		if _, err := strconv.ParseFloat(string(s), 64); err == nil {
			c |= candFloat
		}
	}
	if _, ok := parseBool(s); ok {
		c |= candBool
	}
	return c | temporalCandidates(s)
}

// temporalCandidates returns the date and time types a text value parses as.
func temporalCandidates(s []byte) uint16 {
	var c uint16
	if _, ok := parseDate(s); ok {
		c |= candDate
	}
	if _, ok := parseTimestamp(s); ok {
		if hasZone(s) {
			c |= candTimestampTZ
		} else {
			c |= candTimestamp
		}
	}
	return c
}

// hasZone reports whether a timestamp text (that parses) ends in a zone.
func hasZone(s []byte) bool {
	if len(s) <= 10 {
		return false
	}
	t := s[11:] // after the date and its separator
	return bytes.ContainsAny(t, "Zz+-") || bytes.HasSuffix(t, []byte("UTC"))
}

// colGuess accumulates what a column's sampled values parse as.
type colGuess struct {
	name string
	cand uint16
	seen bool
}

func (g *colGuess) add(c uint16) {
	if !g.seen {
		g.cand, g.seen = candAll, true
	}
	g.cand &= c
}

// InferSchema returns the columns of a source declared without them:
// Parquet from the first file's metadata; CSV from the header (or column1,
// column2, ... without one) and the types every value of a sample of
// sample_rows rows parses as (BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP,
// TIMESTAMPTZ, else VARCHAR; fractional numbers are DOUBLE: declare
// DECIMAL(p,s) for exact money); JSON from the keys of a sample of lines in
// first-seen order, typed by their JSON values (strings that are dates or
// timestamps as such, objects and arrays as JSON). Hive partition
// directories (col=value) add their columns at the end.
func (c *FileConnector) InferSchema(ctx context.Context, opts Options) (fields []Field, err error) {
	defer recoverErr(&err, opts.Path)
	fs, name, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return nil, err
	}
	files, err := listSource(ctx, fs, name)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("cannot infer the columns of %s: no files match; declare the columns", opts.Path)
	}
	switch opts.Format {
	case FormatParquet:
		fields, err = inferParquet(ctx, fs, files[0])
	case FormatCSV:
		fields, err = inferCSV(ctx, fs, &opts, files)
	case FormatJSON:
		fields, err = inferJSON(ctx, fs, &opts, files)
	default:
		err = fmt.Errorf("unknown format %q", opts.Format)
	}
	if err != nil {
		return nil, err
	}
	return addPartitionFields(fields, files), nil
}

// addPartitionFields appends the partition columns of the files' paths
// that are not columns of the files already.
func addPartitionFields(fields []Field, files []SourceFile) []Field {
	var guesses []*colGuess
	byName := map[string]*colGuess{}
	for _, f := range files {
		for _, p := range f.Partitions {
			if findField(fields, p.Column) >= 0 {
				continue
			}
			g := byName[strings.ToLower(p.Column)]
			if g == nil {
				g = &colGuess{name: p.Column}
				byName[strings.ToLower(p.Column)] = g
				guesses = append(guesses, g)
			}
			if !p.Null {
				g.add(textCandidates([]byte(p.Value)) &^ candJSON)
			}
		}
	}
	for _, g := range guesses {
		fields = append(fields, Field{Name: g.name, Type: typeOf(g.cand, g.seen)})
	}
	return fields
}

func inferParquet(ctx context.Context, fs FS, sf SourceFile) (fields []Field, err error) {
	uri := fs.URI(sf.Name)
	defer recoverErr(&err, uri)
	f, err := fs.Open(ctx, sf.Name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return nil, &RowError{File: uri, Reason: fmt.Sprintf("invalid parquet file: %v", err)}
	}
	defer pf.Close()
	sc, err := pqarrow.FromParquet(pf.MetaData().Schema, nil, pf.MetaData().KeyValueMetadata())
	if err != nil {
		return nil, &RowError{File: uri, Reason: fmt.Sprintf("invalid parquet schema: %v", err)}
	}
	fields, err = FieldsFromArrow(sc)
	if err != nil {
		return nil, &RowError{File: uri, Reason: err.Error()}
	}
	return fields, nil
}

func inferCSV(ctx context.Context, fs FS, o *Options, files []SourceFile) ([]Field, error) {
	nulls := map[string]bool{}
	for _, nv := range o.NullValues {
		nulls[nv] = true
	}
	var guesses []*colGuess
	rows := 0
	for _, sf := range files {
		if rows >= o.SampleRows {
			break
		}
		fc := &fileContext{uri: fs.URI(sf.Name), name: sf.Name, fs: fs, opts: o}
		rd, closer, err := openStream(ctx, fc)
		if err != nil {
			return nil, err
		}
		tok := csvTokenizer{lineReader: lineReader{r: bufio.NewReaderSize(rd, 1<<16)}, delim: o.Delimiter, quote: o.Quote, escape: o.Escape}
		firstOfFile := true
		for rows < o.SampleRows {
			line, bad, err := tok.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				closer.Close()
				return nil, &RowError{File: fc.uri, Reason: err.Error()}
			}
			header := firstOfFile && o.Header
			firstOfFile = false
			if header && bad != "" {
				closer.Close()
				return nil, &RowError{File: fc.uri, Line: line, Reason: "header: " + bad}
			}
			if guesses == nil {
				for i := range tok.ends {
					name := ""
					if header {
						name = strings.TrimSpace(string(tok.field(i)))
					}
					if name == "" {
						name = fmt.Sprintf("column%d", i+1)
					}
					guesses = append(guesses, &colGuess{name: name})
				}
			}
			if header {
				continue
			}
			if bad != "" || len(tok.ends) != len(guesses) {
				continue
			}
			for i, g := range guesses {
				v := tok.field(i)
				if (!tok.quoted[i] && (len(v) == 0 || nulls[string(v)])) || len(v) == 0 {
					continue
				}
				g.add(textCandidates(v) &^ candJSON)
			}
			rows++
		}
		closer.Close()
	}
	if guesses == nil {
		return nil, fmt.Errorf("cannot infer the columns of %s: the files are empty; declare the columns", o.Path)
	}
	return guessFields(guesses), nil
}

// guessFields returns the fields of guesses, making duplicate names unique.
func guessFields(guesses []*colGuess) []Field {
	out := make([]Field, len(guesses))
	used := map[string]int{}
	for i, g := range guesses {
		name := g.name
		if n := used[strings.ToLower(name)]; n > 0 {
			name = fmt.Sprintf("%s_%d", name, n+1)
		}
		used[strings.ToLower(g.name)]++
		out[i] = Field{Name: name, Type: typeOf(g.cand, g.seen)}
	}
	return out
}

func inferJSON(ctx context.Context, fs FS, o *Options, files []SourceFile) ([]Field, error) {
	var guesses []*colGuess
	byName := map[string]*colGuess{}
	rows := 0
	for _, sf := range files {
		if rows >= o.SampleRows {
			break
		}
		fc := &fileContext{uri: fs.URI(sf.Name), name: sf.Name, fs: fs, opts: o}
		rd, closer, err := openStream(ctx, fc)
		if err != nil {
			return nil, err
		}
		lr := lineReader{r: bufio.NewReaderSize(rd, 1<<16)}
		for rows < o.SampleRows {
			lr.raw = lr.raw[:0]
			ok, err := lr.readLine()
			if err != nil {
				closer.Close()
				return nil, &RowError{File: fc.uri, Reason: err.Error()}
			}
			if !ok {
				break
			}
			line := bytes.TrimSpace(lr.raw)
			if len(line) == 0 || line[0] != '{' || !json.Valid(line) {
				continue
			}
			i := skipSpace(line, 1)
			for i < len(line) && line[i] != '}' {
				kend := skipString(line, i)
				var key string
				json.Unmarshal(line[i:kend], &key)
				i = skipSpace(line, skipSpace(line, kend)+1)
				vend := skipValue(line, i)
				tok := line[i:vend]
				g := byName[key]
				if g == nil {
					g = &colGuess{name: key}
					byName[key] = g
					guesses = append(guesses, g)
				}
				if c, ok := jsonCandidates(tok); ok {
					g.add(c)
				}
				i = skipSpace(line, vend)
				if i < len(line) && line[i] == ',' {
					i = skipSpace(line, i+1)
				}
			}
			rows++
		}
		closer.Close()
	}
	if guesses == nil {
		return nil, fmt.Errorf("cannot infer the columns of %s: no JSON objects found; declare the columns", o.Path)
	}
	return guessFields(guesses), nil
}

// jsonCandidates returns the types a JSON value can be read as; ok is false
// for null.
func jsonCandidates(tok []byte) (uint16, bool) {
	switch tok[0] {
	case 'n':
		return 0, false
	case 't', 'f':
		return candBool, true
	case '{', '[':
		return candJSON, true
	case '"':
		var s string
		json.Unmarshal(tok, &s)
		return temporalCandidates([]byte(s)), true
	}
	if _, err := parseInt(tok, 64); err == nil {
		return candInt | candFloat, true
	}
	return candFloat, true
}
