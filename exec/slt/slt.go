package slt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Kind is the kind of a record.
type Kind int

// The kinds of records.
const (
	// Statement is "statement ok" or "statement error".
	Statement Kind = iota
	// Query is "query <types> ...".
	Query
	// HashThreshold is "hash-threshold N".
	HashThreshold
	// Halt is "halt": the rest of the file is not run.
	Halt
)

// String returns the record keyword of k.
func (k Kind) String() string {
	switch k {
	case Statement:
		return "statement"
	case Query:
		return "query"
	case HashThreshold:
		return "hash-threshold"
	case Halt:
		return "halt"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// SortMode says how a query's result is ordered before it is compared.
type SortMode int

// The sort modes.
const (
	// NoSort compares values in the order the engine returned them.
	NoSort SortMode = iota
	// RowSort sorts rows, comparing their formatted values left to right.
	RowSort
	// ValueSort sorts all formatted values individually, ignoring rows.
	ValueSort
)

// String returns the keyword of m.
func (m SortMode) String() string {
	switch m {
	case RowSort:
		return "rowsort"
	case ValueSort:
		return "valuesort"
	}
	return "nosort"
}

// Condition is one "skipif <engine>" or "onlyif <engine>" line.
type Condition struct {
	// Only is true for onlyif, false for skipif.
	Only bool
	// Engine is the engine name, lower case (e.g. "postgresql", "etlc").
	Engine string
}

// Hash is an expected result written as "N values hashing to MD5".
type Hash struct {
	// Values is the number of values.
	Values int
	// MD5 is the lower-case hex md5 of the values, each followed by "\n".
	MD5 string
}

// Record is one record of a file.
type Record struct {
	// Kind is the kind of record.
	Kind Kind
	// Line is the 1-based line of the record's first line (its first
	// condition, or its keyword line).
	Line int
	// Conditions are the skipif/onlyif lines before the record.
	Conditions []Condition
	// Comment holds the '#' comment lines directly above the record (no
	// blank line between), without the '#', joined with "\n".
	Comment string
	// SQL is the statement or query text, lines joined with "\n".
	SQL string

	// ExpectError is set for "statement error".
	ExpectError bool
	// ErrorPattern is the regexp after "statement error", empty if none.
	ErrorPattern string
	// ErrorRegexp is ErrorPattern compiled, nil if there is none.
	ErrorRegexp *regexp.Regexp

	// Types holds one column type letter (I, R, T) per column.
	Types string
	// Sort is the query's sort mode.
	Sort SortMode
	// Label is the query's optional label.
	Label string
	// Expected are the expected value lines of a query (nil with Hash).
	Expected []string
	// Hash is the expected hash of a query, when written as a hash line.
	Hash *Hash
	// HasSeparator reports whether the query had a "----" line.
	HasSeparator bool
	// ResultLine is the 1-based line after "----" (where the expected
	// values start); ResultEnd is the line after the last value. Both are 0
	// when the query has no "----" line.
	ResultLine, ResultEnd int

	// Threshold is the value of a hash-threshold record.
	Threshold int
}

// Applies reports whether the record runs on engine: no "skipif engine"
// line, and if there are "onlyif" lines, one of them names engine.
func (r *Record) Applies(engine string) bool {
	engine = strings.ToLower(engine)
	hasOnly, onlyMatch := false, false
	for _, c := range r.Conditions {
		if c.Only {
			hasOnly = true
			if c.Engine == engine {
				onlyMatch = true
			}
		} else if c.Engine == engine {
			return false
		}
	}
	return !hasOnly || onlyMatch
}

// File is a parsed file.
type File struct {
	// Name is the name given to Parse, used in positions.
	Name string
	// Records are the records in file order, up to and including a halt.
	Records []Record
}

// Pos returns "name:line" for a record line, for messages.
func (f *File) Pos(line int) string { return fmt.Sprintf("%s:%d", f.Name, line) }

// ParseFile reads and parses the file at path.
func ParseFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("slt: %w", err)
	}
	defer fh.Close()
	return Parse(path, fh)
}

// hashLine matches an expected result written as a hash.
var hashLine = regexp.MustCompile(`^([0-9]+) values hashing to ([0-9a-f]{32})$`)

// Parse reads a file from r; name is used in error messages.
func Parse(name string, r io.Reader) (*File, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("slt: read %s: %w", name, err)
	}
	p := parser{f: &File{Name: name}, lines: lines}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.f, nil
}

type parser struct {
	f     *File
	lines []string
	i     int // index of the next line
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.f.Name, line, fmt.Sprintf(format, args...))
}

// blank reports whether a line ends a record.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

func (p *parser) parse() error {
	var comment []string
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		if blank(line) {
			comment = nil
			p.i++
			continue
		}
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			comment = append(comment, strings.TrimSpace(strings.TrimPrefix(t, "#")))
			p.i++
			continue
		}
		rec := Record{Line: p.i + 1, Comment: strings.Join(comment, "\n")}
		comment = nil
		// Conditions.
		for p.i < len(p.lines) {
			fields := strings.Fields(p.lines[p.i])
			if len(fields) == 0 || (fields[0] != "skipif" && fields[0] != "onlyif") {
				break
			}
			// A '#' after the engine name starts a comment, as in
			// SQLite's files ("skipif mysql # empty RHS").
			if len(fields) > 2 && strings.HasPrefix(fields[2], "#") {
				fields = fields[:2]
			}
			if len(fields) != 2 {
				return p.errorf(p.i+1, "%s needs exactly one engine name, got %q", fields[0], p.lines[p.i])
			}
			rec.Conditions = append(rec.Conditions, Condition{Only: fields[0] == "onlyif", Engine: strings.ToLower(fields[1])})
			p.i++
		}
		if p.i >= len(p.lines) || blank(p.lines[p.i]) {
			return p.errorf(rec.Line, "skipif/onlyif is not followed by a record")
		}
		head := p.lines[p.i]
		fields := strings.Fields(head)
		keyLine := p.i + 1
		p.i++
		switch fields[0] {
		case "statement":
			if err := p.statement(&rec, head, fields, keyLine); err != nil {
				return err
			}
		case "query":
			if err := p.query(&rec, fields, keyLine); err != nil {
				return err
			}
		case "hash-threshold":
			if len(fields) != 2 {
				return p.errorf(keyLine, "hash-threshold needs one number, got %q", head)
			}
			n, err := strconv.Atoi(fields[1])
			if err != nil || n < 0 {
				return p.errorf(keyLine, "hash-threshold %q: not a number >= 0", fields[1])
			}
			rec.Kind, rec.Threshold = HashThreshold, n
		case "halt":
			if len(fields) != 1 {
				return p.errorf(keyLine, "halt takes no arguments, got %q", head)
			}
			rec.Kind = Halt
		default:
			return p.errorf(keyLine, "unknown record %q (want statement, query, hash-threshold, halt, skipif or onlyif)", fields[0])
		}
		p.f.Records = append(p.f.Records, rec)
		if rec.Kind == Halt && len(rec.Conditions) == 0 {
			return nil
		}
	}
	return nil
}

// sqlLines reads SQL lines up to a blank line, EOF, or (for queries) "----".
func (p *parser) sqlLines(query bool) []string {
	var sql []string
	for p.i < len(p.lines) && !blank(p.lines[p.i]) {
		if query && strings.TrimSpace(p.lines[p.i]) == "----" {
			break
		}
		sql = append(sql, p.lines[p.i])
		p.i++
	}
	return sql
}

func (p *parser) statement(rec *Record, head string, fields []string, keyLine int) error {
	rec.Kind = Statement
	if len(fields) < 2 {
		return p.errorf(keyLine, "statement needs ok or error, got %q", head)
	}
	switch fields[1] {
	case "ok":
		if len(fields) > 2 {
			return p.errorf(keyLine, "unexpected %q after statement ok", strings.Join(fields[2:], " "))
		}
	case "error":
		rec.ExpectError = true
		// The pattern is the rest of the line after "error", spaces kept.
		rest := strings.TrimSpace(head)
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "statement"))
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "error"))
		if rest != "" {
			re, err := regexp.Compile(rest)
			if err != nil {
				return p.errorf(keyLine, "statement error: bad regexp %q: %v", rest, err)
			}
			rec.ErrorPattern, rec.ErrorRegexp = rest, re
		}
	default:
		return p.errorf(keyLine, "statement %q: want ok or error", fields[1])
	}
	sql := p.sqlLines(false)
	if len(sql) == 0 {
		return p.errorf(keyLine, "statement without SQL")
	}
	rec.SQL = strings.Join(sql, "\n")
	return nil
}

func (p *parser) query(rec *Record, fields []string, keyLine int) error {
	rec.Kind = Query
	if len(fields) < 2 {
		return p.errorf(keyLine, "query needs column types (e.g. query IT rowsort)")
	}
	types := fields[1]
	for _, c := range types {
		if c != 'I' && c != 'R' && c != 'T' {
			return p.errorf(keyLine, "query types %q: %q is not I, R or T", types, c)
		}
	}
	rec.Types = types
	if len(fields) > 2 {
		switch fields[2] {
		case "nosort":
			rec.Sort = NoSort
		case "rowsort":
			rec.Sort = RowSort
		case "valuesort":
			rec.Sort = ValueSort
		default:
			return p.errorf(keyLine, "query sort mode %q: want nosort, rowsort or valuesort", fields[2])
		}
	}
	if len(fields) > 3 {
		rec.Label = fields[3]
	}
	if len(fields) > 4 {
		return p.errorf(keyLine, "unexpected %q after the query label", strings.Join(fields[4:], " "))
	}
	sql := p.sqlLines(true)
	if len(sql) == 0 {
		return p.errorf(keyLine, "query without SQL")
	}
	rec.SQL = strings.Join(sql, "\n")
	if p.i < len(p.lines) && strings.TrimSpace(p.lines[p.i]) == "----" {
		rec.HasSeparator = true
		p.i++
		rec.ResultLine = p.i + 1
		var vals []string
		for p.i < len(p.lines) && !blank(p.lines[p.i]) {
			vals = append(vals, p.lines[p.i])
			p.i++
		}
		rec.ResultEnd = p.i + 1
		if len(vals) == 1 {
			if m := hashLine.FindStringSubmatch(vals[0]); m != nil {
				n, err := strconv.Atoi(m[1])
				if err != nil {
					return p.errorf(rec.ResultLine, "bad hash line %q", vals[0])
				}
				rec.Hash = &Hash{Values: n, MD5: m[2]}
				return nil
			}
		}
		rec.Expected = vals
		if len(vals) > 0 && len(vals)%len(types) != 0 {
			return p.errorf(rec.ResultLine, "%d expected values is not a multiple of the %d columns of %q",
				len(vals), len(types), types)
		}
	}
	return nil
}
