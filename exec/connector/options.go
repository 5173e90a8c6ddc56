package connector

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format is a file format: csv, json (newline-delimited) or parquet.
type Format string

// The file formats.
const (
	FormatCSV     Format = "csv"
	FormatJSON    Format = "json"
	FormatParquet Format = "parquet"
)

// OnError says what a reader does with a bad row.
type OnError int

// The bad-row policies.
const (
	// OnErrorFail stops the read with a *RowError naming file, line, column
	// and reason. It is the default.
	OnErrorFail OnError = iota
	// OnErrorDrop skips the row and counts it in ScanStats.BadRows.
	OnErrorDrop
	// OnErrorQuarantine skips and counts the row and emits it as a row of
	// the quarantine stream (see QuarantineSchema).
	OnErrorQuarantine
)

// String returns the option spelling of e.
func (e OnError) String() string {
	switch e {
	case OnErrorDrop:
		return "drop"
	case OnErrorQuarantine:
		return "quarantine"
	}
	return "fail"
}

// Mode says what a sink does with output already at its path.
type Mode int

// The sink modes.
const (
	// ModeAppend adds the new files to those already there. It is the
	// default: it is what INSERT INTO means.
	ModeAppend Mode = iota
	// ModeOverwrite replaces all previous output at commit (INSERT OVERWRITE).
	ModeOverwrite
	// ModeErrorIfExists fails when the path already holds output.
	ModeErrorIfExists
)

// String returns the option spelling of m.
func (m Mode) String() string {
	switch m {
	case ModeOverwrite:
		return "overwrite"
	case ModeErrorIfExists:
		return "error_if_exists"
	}
	return "append"
}

// Role says whether options describe a source (read) or a sink (write).
type Role int

// The roles.
const (
	RoleSource Role = iota
	RoleSink
)

// DefaultBatchSize is the number of rows in a record batch when the
// batch_size option is not given.
const DefaultBatchSize = 8192

// DefaultSampleRows is the number of rows schema inference reads when the
// sample_rows option is not given.
const DefaultSampleRows = 1000

// Options are the validated WITH options of a file source or sink.
type Options struct {
	// Ranges are conditions every row a reader returns must meet for the
	// query that reads it; the Parquet reader skips the row groups whose
	// statistics show that none of their rows does. Not an option of SQL:
	// the engine sets it from the plan.
	Ranges []ColumnRange
	// Path is a local path or an s3://bucket/prefix URL: one file, a
	// directory/prefix (every file under it whose name does not start with
	// '_' or '.'), or a glob (*, ?, [...] within a name, ** across
	// directories). Sinks take a directory/prefix.
	Path string
	// Format is the file format. When the option is absent it comes from
	// the path's extension.
	Format Format
	// Header: CSV files start with a header line (default false). Readers
	// skip it (columns are matched by position); writers write it.
	Header bool
	// Delimiter, Quote and Escape are the CSV field delimiter (default ',',
	// or tab for a path ending in .tsv),
	// quote (default '"', 0: no quoting) and the escape character inside
	// quoted fields (default: the quote, so "" stands for one quote).
	Delimiter, Quote, Escape byte
	// NullValues are the CSV texts read as NULL besides the empty field
	// (option null_values, '|'-separated). Writers write NULL as the first
	// of them, or as an empty field when there are none.
	NullValues []string
	// OnError is the bad-row policy of a source.
	OnError OnError
	// ErrorsPath is where the engine may also write quarantined rows (only
	// with on_error = 'quarantine'); the connector itself does not use it.
	ErrorsPath string
	// Compression: for csv and json "none" or "gzip" (readers also take
	// "auto", the default: gzip when the name ends in .gz); for parquet
	// sinks "snappy" (default), "gzip", "zstd", "brotli" or "none".
	Compression string
	// Mode is the sink mode (default append).
	Mode Mode
	// PartitionBy are the sink's Hive partition columns.
	PartitionBy []string
	// SampleRows is how many rows schema inference reads.
	SampleRows int
	// BatchSize is the number of rows in a record batch.
	BatchSize int
}

// knownOptions are the option keys the file connector takes, with the role
// they belong to (-1: both).
var knownOptions = map[string]int{
	"connector":    -1,
	"path":         -1,
	"format":       -1,
	"header":       -1,
	"delimiter":    -1,
	"quote":        -1,
	"escape":       -1,
	"null_values":  -1,
	"compression":  -1,
	"batch_size":   -1,
	"on_error":     int(RoleSource),
	"errors_path":  int(RoleSource),
	"sample_rows":  int(RoleSource),
	"mode":         int(RoleSink),
	"partition_by": int(RoleSink),
	// The Glue Data Catalog registration of a sink: the engine's, after
	// the connector committed (see package glue).
	"catalog":  int(RoleSink),
	"database": int(RoleSink),
	"table":    int(RoleSink),
}

// OptionError is an invalid WITH option. Key is the option's name.
type OptionError struct {
	Key     string
	Message string
	Hint    string
}

// Error returns the message with its hint.
func (e *OptionError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("option %s: %s (%s)", e.Key, e.Message, e.Hint)
	}
	return fmt.Sprintf("option %s: %s", e.Key, e.Message)
}

func optErr(key, hint, format string, args ...any) *OptionError {
	return &OptionError{Key: key, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// ParseOptions validates the WITH options of a file source or sink. Keys
// are lower case. Unknown keys and options of the other role are errors,
// with a hint naming the closest known key.
func ParseOptions(m map[string]string, role Role) (Options, error) {
	o := Options{
		Delimiter:  ',',
		Quote:      '"',
		SampleRows: DefaultSampleRows,
		BatchSize:  DefaultBatchSize,
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r, ok := knownOptions[k]
		if !ok {
			hint := ""
			if s := closest(k, optionNames()); s != "" {
				hint = fmt.Sprintf("did you mean %s?", s)
			}
			return o, optErr(k, hint, "unknown option of the file connector")
		}
		if r >= 0 && Role(r) != role {
			what := "sources"
			if role == RoleSource {
				what = "sinks"
			}
			return o, optErr(k, "", "applies only to %s", what)
		}
	}
	if c, ok := m["connector"]; ok && c != "file" {
		return o, optErr("connector", "", "%q is not the file connector", c)
	}
	o.Path = m["path"]
	if o.Path == "" {
		return o, optErr("path", "a local path or s3://bucket/prefix", "is required")
	}
	if f, ok := m["format"]; ok {
		switch Format(strings.ToLower(f)) {
		case FormatCSV, FormatJSON, FormatParquet:
			o.Format = Format(strings.ToLower(f))
		case "ndjson", "jsonl":
			o.Format = FormatJSON
		default:
			return o, optErr("format", "csv, json or parquet", "unknown format %q", f)
		}
	} else if o.Format = formatFromName(o.Path); o.Format == "" {
		return o, optErr("format", "csv, json or parquet", "is required: the path %q has no known extension", o.Path)
	}
	var err error
	if v, ok := m["header"]; ok {
		if o.Header, err = parseBoolOption("header", v); err != nil {
			return o, err
		}
	}
	if strings.HasSuffix(strings.TrimSuffix(strings.ToLower(o.Path), ".gz"), ".tsv") {
		o.Delimiter = '\t'
	}
	if v, ok := m["delimiter"]; ok {
		if o.Delimiter, err = parseCharOption("delimiter", v, false); err != nil {
			return o, err
		}
	}
	if v, ok := m["quote"]; ok {
		if o.Quote, err = parseCharOption("quote", v, true); err != nil {
			return o, err
		}
	}
	o.Escape = o.Quote
	if v, ok := m["escape"]; ok {
		if o.Escape, err = parseCharOption("escape", v, false); err != nil {
			return o, err
		}
	}
	if o.Format == FormatCSV {
		if o.Delimiter == '\n' || o.Delimiter == '\r' || o.Delimiter == o.Quote {
			return o, optErr("delimiter", "", "%q cannot be a delimiter with quote %q", o.Delimiter, o.Quote)
		}
		if o.Quote == '\n' || o.Quote == '\r' {
			return o, optErr("quote", "", "a line break cannot be the quote character")
		}
	}
	if v, ok := m["null_values"]; ok && v != "" {
		o.NullValues = strings.Split(v, "|")
	}
	if v, ok := m["on_error"]; ok {
		switch strings.ToLower(v) {
		case "fail":
			o.OnError = OnErrorFail
		case "drop":
			o.OnError = OnErrorDrop
		case "quarantine":
			o.OnError = OnErrorQuarantine
		default:
			return o, optErr("on_error", "fail, drop or quarantine", "unknown policy %q", v)
		}
	}
	if v, ok := m["errors_path"]; ok {
		if o.OnError != OnErrorQuarantine {
			return o, optErr("errors_path", "", "needs on_error = 'quarantine'")
		}
		o.ErrorsPath = v
	}
	if v, ok := m["compression"]; ok {
		o.Compression = strings.ToLower(v)
		var allowed []string
		switch {
		case o.Format == FormatParquet && role == RoleSink:
			allowed = []string{"snappy", "gzip", "zstd", "brotli", "none", "uncompressed"}
		case o.Format == FormatParquet:
			return o, optErr("compression", "parquet files name their own codec", "applies only to parquet sinks")
		case role == RoleSource:
			allowed = []string{"auto", "none", "gzip"}
		default:
			allowed = []string{"none", "gzip"}
		}
		if !contains(allowed, o.Compression) {
			return o, optErr("compression", strings.Join(allowed, ", "), "unknown codec %q for %s", v, o.Format)
		}
		if o.Compression == "uncompressed" {
			o.Compression = "none"
		}
	}
	if v, ok := m["mode"]; ok {
		switch strings.ToLower(v) {
		case "append":
			o.Mode = ModeAppend
		case "overwrite":
			o.Mode = ModeOverwrite
		case "error_if_exists", "errorifexists":
			o.Mode = ModeErrorIfExists
		default:
			return o, optErr("mode", "overwrite, append or error_if_exists", "unknown mode %q", v)
		}
	}
	if v, ok := m["partition_by"]; ok {
		for _, c := range strings.Split(v, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				return o, optErr("partition_by", "a comma-separated list of column names", "has an empty column name")
			}
			o.PartitionBy = append(o.PartitionBy, c)
		}
	}
	if v, ok := m["sample_rows"]; ok {
		if o.SampleRows, err = parsePositiveOption("sample_rows", v); err != nil {
			return o, err
		}
	}
	if v, ok := m["batch_size"]; ok {
		if o.BatchSize, err = parsePositiveOption("batch_size", v); err != nil {
			return o, err
		}
	}
	return o, nil
}

func optionNames() []string {
	names := make([]string, 0, len(knownOptions))
	for k := range knownOptions {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatFromName returns the format a file name's extension names, or "".
func formatFromName(name string) Format {
	name = strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	switch path.Ext(name) {
	case ".csv", ".tsv":
		return FormatCSV
	case ".json", ".jsonl", ".ndjson":
		return FormatJSON
	case ".parquet", ".pq":
		return FormatParquet
	}
	return ""
}

func parseBoolOption(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "t", "yes", "1":
		return true, nil
	case "false", "f", "no", "0":
		return false, nil
	}
	return false, optErr(key, "true or false", "%q is not a boolean", v)
}

func parsePositiveOption(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, optErr(key, "", "%q is not a positive integer", v)
	}
	return n, nil
}

// parseCharOption parses a one-character option. It takes the character
// itself, the escapes \t and \\ and the word "tab"; allowEmpty lets an
// empty value stand for none (0).
func parseCharOption(key, v string, allowEmpty bool) (byte, error) {
	switch v {
	case "":
		if allowEmpty {
			return 0, nil
		}
		return 0, optErr(key, "one character", "is empty")
	case `\t`, "tab", "TAB":
		return '\t', nil
	case `\\`:
		return '\\', nil
	}
	if len(v) != 1 || v[0] >= utf8.RuneSelf {
		return 0, optErr(key, "one ASCII character, or \\t for tab", "%q is not a single ASCII character", v)
	}
	return v[0], nil
}

// closest returns the candidate within edit distance 2 of s, or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
