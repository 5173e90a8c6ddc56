package catalog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/etlc/etlc/parser"
)

// valueKind is the kind of value an option takes.
type valueKind int

const (
	valText      valueKind = iota // any non-empty text (topic, group_id)
	valEnum                       // one of spec.values, case-insensitive
	valBool                       // true | false
	valChar                       // one character; '\t' is a tab
	valCharOrNot                  // one character, or empty for none
	valList                       // '|'-separated list, kept as written
	valIdentList                  // comma-separated column names
	valIdent                      // a lower-case name: letters, digits, _
	valPath                       // a local path or an s3:// / file:// URL
	valHosts                      // comma-separated host:port list
	valDuration                   // a duration > 0 (ParseDuration)
	valDuration0                  // a duration >= 0
	valCount                      // a whole number in 1..spec.max
)

// optionSpec describes one WITH option.
type optionSpec struct {
	name     string
	kind     valueKind
	values   []string // valEnum
	max      int      // valCount
	required bool
	// formats lists the formats the option applies to; nil: all.
	formats []string
}

// The option specs shared by several kinds; each call builds new values.

// csvTextOptions are the options of CSV text (files and Kafka messages).
func csvTextOptions() []optionSpec {
	return []optionSpec{
		{name: "delimiter", kind: valChar, formats: []string{"csv"}},
		{name: "quote", kind: valCharOrNot, formats: []string{"csv"}},
		{name: "escape", kind: valCharOrNot, formats: []string{"csv"}},
		{name: "null_values", kind: valList, formats: []string{"csv"}},
	}
}

// fileOptions are the options of a file source or sink up to its CSV
// options, then more.
func fileOptions(more ...optionSpec) []optionSpec {
	specs := []optionSpec{
		{name: "connector", kind: valEnum},
		{name: "path", kind: valPath, required: true},
		{name: "format", kind: valEnum, values: []string{"csv", "json", "parquet"}, required: true},
		{name: "header", kind: valBool, formats: []string{"csv"}},
	}
	return append(append(specs, csvTextOptions()...), more...)
}

func onErrorOption() optionSpec {
	return optionSpec{name: "on_error", kind: valEnum, values: []string{"fail", "drop", "quarantine"}}
}

func compressionOption() optionSpec {
	return optionSpec{name: "compression", kind: valEnum, values: []string{"none", "snappy", "gzip", "zstd"}}
}

func batchSizeOption() optionSpec {
	return optionSpec{name: "batch_size", kind: valCount, max: 1 << 20}
}

func fileReadOptions() []optionSpec {
	return fileOptions(
		onErrorOption(),
		optionSpec{name: "errors_path", kind: valPath},
		compressionOption(),
		optionSpec{name: "sample_rows", kind: valCount, max: 1_000_000_000},
		batchSizeOption(),
	)
}

// optionTable returns the options of an object kind with a given connector
// ("" for the kinds that have none), and the connectors the kind accepts.
func optionTable(kind parser.ObjectKind, connector string) (specs []optionSpec, connectors []string) {
	switch kind {
	case parser.KindSource:
		return fileReadOptions(), []string{"file"}
	case parser.KindStream:
		if connector == "kafka" {
			specs := []optionSpec{
				{name: "connector", kind: valEnum, required: true},
				{name: "bootstrap_servers", kind: valHosts, required: true},
				{name: "topic", kind: valText, required: true},
				{name: "group_id", kind: valText},
				{name: "start_offset", kind: valEnum, values: []string{"earliest", "latest"}},
				{name: "key", kind: valIdent},
				{name: "format", kind: valEnum, values: []string{"csv", "json"}, required: true},
			}
			return append(append(specs, csvTextOptions()...),
				onErrorOption(),
				optionSpec{name: "errors_path", kind: valPath},
				batchSizeOption(),
				optionSpec{name: "idle_timeout", kind: valDuration},
			), []string{"file", "kafka"}
		}
		return append(fileReadOptions(),
			optionSpec{name: "idle_timeout", kind: valDuration},
			optionSpec{name: "quiet_period", kind: valDuration0},
		), []string{"file", "kafka"}
	case parser.KindSink:
		return fileOptions(
			compressionOption(),
			optionSpec{name: "mode", kind: valEnum, values: []string{"overwrite", "append", "error_if_exists"}},
			optionSpec{name: "partition_by", kind: valIdentList},
			optionSpec{name: "catalog", kind: valEnum, values: []string{"glue"}},
			optionSpec{name: "database", kind: valIdent},
			optionSpec{name: "table", kind: valIdent},
			batchSizeOption(),
		), []string{"file"}
	case parser.KindTable:
		return []optionSpec{
			{name: "format", kind: valEnum, values: []string{"parquet", "csv", "json"}},
			compressionOption(),
			{name: "partition_by", kind: valIdentList},
		}, nil
	case parser.KindPipeline:
		return []optionSpec{
			{name: "checkpoint_interval", kind: valDuration},
			{name: "emit", kind: valEnum, values: []string{"final", "update"}},
			{name: "state_ttl", kind: valDuration},
			{name: "parallelism", kind: valCount, max: 1024},
			{name: "quarantine", kind: valIdent},
		}, nil
	}
	return nil, nil
}

// optionsChecker accumulates the diagnostics of one WITH clause.
type optionsChecker struct {
	src   *parser.Source
	kind  parser.ObjectKind
	diags parser.Diagnostics
	// suggested holds the names offered for misspelt options; a missing
	// required option that was offered is not reported again.
	suggested map[string]bool
}

func (c *optionsChecker) errorf(span parser.Span, hint, format string, args ...any) {
	c.diags = append(c.diags, &parser.Diagnostic{
		Source:   c.src,
		Span:     span,
		Severity: parser.SevError,
		Code:     parser.CodeInvalidParam,
		Message:  fmt.Sprintf(format, args...),
		Hint:     hint,
	})
}

// ValidateOptions checks the WITH options of a CREATE statement of the
// given kind against the options that kind (and its connector) knows, and
// returns them normalized: keys in lower case; enumerations and booleans in
// lower case; delimiter, quote and escape as the character itself ('\t'
// becomes a tab); durations in Go's form ("1 minute" becomes "1m0s"), counts
// as plain decimals; partition_by as a comma list without spaces. Two
// options are filled in when absent: connector ('file', for sources, streams
// and sinks) and format, when the path ends in .csv, .json, .jsonl, .ndjson
// or .parquet (optionally followed by .gz, .zst or .snappy).
//
// Problems are diagnostics (SQLSTATE 22023) positioned in src: an unknown
// or repeated option at its key, with the nearest valid name and the list of
// valid options in the hint; a bad value at the value, with the valid
// values; a missing required option at name, the statement's object name
// (unless a misspelt option was already taken for it).
// The result holds the options that passed.
//
// The option tables:
//
//	SOURCE (file)    connector path* format* header delimiter quote escape
//	                 null_values on_error errors_path compression
//	                 sample_rows batch_size
//	STREAM (file)    the SOURCE options, idle_timeout, quiet_period
//	STREAM (kafka)   connector* bootstrap_servers* topic* group_id
//	                 start_offset key format*(csv|json) delimiter quote escape
//	                 null_values on_error errors_path batch_size idle_timeout
//	SINK (file)      connector path* format* header delimiter quote escape
//	                 null_values compression mode partition_by catalog
//	                 database table batch_size
//	TABLE            format compression partition_by
//	VIEW             none
//	PIPELINE         checkpoint_interval emit state_ttl parallelism
//	                 quarantine
//
// (* required.) header, delimiter, quote, escape and null_values apply to
// csv only; compression 'snappy' to parquet only; catalog = 'glue' needs
// database and table, which need catalog.
func ValidateOptions(kind parser.ObjectKind, name parser.ObjectName, opts []parser.Option, src *parser.Source) (map[string]string, parser.Diagnostics) {
	c := &optionsChecker{src: src, kind: kind, suggested: map[string]bool{}}
	out := make(map[string]string, len(opts)+2)

	// The connector decides the option table.
	_, connectors := optionTable(kind, "")
	connector := ""
	if len(connectors) > 0 {
		connector = connectors[0]
		if i := findOption(opts, "connector"); i >= 0 {
			o := opts[i]
			v := strings.ToLower(strings.TrimSpace(o.Value))
			if !slices.Contains(connectors, v) {
				reason := ""
				if v == "kafka" {
					reason = "kafka is a connector for STREAM only"
				}
				c.badValue(o, connectors, reason)
				c.diags.Sort()
				return nil, c.diags
			}
			connector = v
		}
	}
	specs, _ := optionTable(kind, connector)

	seen := make(map[string]bool, len(opts))
	for _, o := range opts {
		key := strings.ToLower(o.Key.Name)
		if seen[key] {
			c.errorf(identSpan(o.Key), "", "option %q given more than once", key)
			continue
		}
		seen[key] = true
		i := slices.IndexFunc(specs, func(s optionSpec) bool { return s.name == key })
		if i < 0 {
			c.unknownOption(o, key, specs, connector, connectors)
			continue
		}
		spec := specs[i]
		if key == "connector" {
			spec.values = connectors
		}
		if v, ok := c.checkValue(spec, o); ok {
			out[key] = v
		}
	}

	// Defaults that follow from other options.
	if connector != "" {
		out["connector"] = connector
	}
	if _, ok := out["format"]; !ok && !seen["format"] {
		if f := formatFromPath(out["path"]); f != "" && slices.ContainsFunc(specs, func(s optionSpec) bool {
			return s.name == "format" && slices.Contains(s.values, f)
		}) {
			out["format"] = f
		}
	}

	// Missing required options, at the object's name.
	for _, s := range specs {
		if !s.required || seen[s.name] || out[s.name] != "" || c.suggested[s.name] {
			continue
		}
		hint := fmt.Sprintf("add %s = '...' to the WITH clause", s.name)
		if s.name == "format" {
			switch {
			case seen["path"] && out["path"] == "":
				// The path is wrong and reported; it may have told the format.
				continue
			case out["path"] != "":
				hint = fmt.Sprintf("the path does not end in .csv, .json or .parquet: add format = %s", quotedList(s.values, " or "))
			default:
				hint = fmt.Sprintf("add format = %s to the WITH clause", quotedList(s.values, " or "))
			}
		}
		c.errorf(nameSpan(name), hint, "missing option %q for %s %s", s.name, kind, name)
	}

	c.crossCheck(opts, out, name)
	c.diags.Sort()
	return out, c.diags
}

// unknownOption reports an option the table does not have, saying when it
// belongs to another connector.
func (c *optionsChecker) unknownOption(o parser.Option, key string, specs []optionSpec, connector string, connectors []string) {
	for _, other := range connectors {
		if other == connector {
			continue
		}
		ospecs, _ := optionTable(c.kind, other)
		if slices.ContainsFunc(ospecs, func(s optionSpec) bool { return s.name == key }) {
			c.errorf(identSpan(o.Key), fmt.Sprintf("%s is an option of connector %s", key, other),
				"option %q is not valid for connector %s", key, connector)
			return
		}
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	hint := ""
	if len(names) == 0 {
		hint = fmt.Sprintf("%s takes no WITH options", c.kind)
	} else {
		if best := closestName(key, names); best != "" {
			hint = "did you mean " + best + "? "
			c.suggested[best] = true
		}
		hint += "valid options: " + strings.Join(names, ", ")
	}
	c.errorf(identSpan(o.Key), hint, "unknown option %q for %s", key, c.kind)
}

// badValue reports a value outside valid; reason, when set, follows the
// message.
func (c *optionsChecker) badValue(o parser.Option, valid []string, reason string) {
	key := strings.ToLower(o.Key.Name)
	msg := fmt.Sprintf("invalid value %q for option %s", o.Value, key)
	if reason != "" {
		msg += ": " + reason
	}
	hint := ""
	if len(valid) > 0 {
		if best := closestName(strings.TrimSpace(o.Value), valid); best != "" {
			hint = "did you mean " + best + "? "
		}
		hint += "valid values: " + strings.Join(valid, ", ")
	}
	c.errorf(valueSpan(c.src, o.ValuePos), hint, "%s", msg)
}

// valueError reports a value that breaks a rule other than a list of values.
func (c *optionsChecker) valueError(o parser.Option, hint, reason string) {
	key := strings.ToLower(o.Key.Name)
	c.errorf(valueSpan(c.src, o.ValuePos), hint, "invalid value %q for option %s: %s", o.Value, key, reason)
}

// checkValue validates and normalizes one option's value.
func (c *optionsChecker) checkValue(spec optionSpec, o parser.Option) (string, bool) {
	raw := o.Value
	v := strings.TrimSpace(raw)
	switch spec.kind {
	case valEnum:
		lv := strings.ToLower(v)
		if !slices.Contains(spec.values, lv) {
			c.badValue(o, spec.values, "")
			return "", false
		}
		return lv, true
	case valBool:
		lv := strings.ToLower(v)
		if lv != "true" && lv != "false" {
			c.badValue(o, []string{"true", "false"}, "")
			return "", false
		}
		return lv, true
	case valChar, valCharOrNot:
		if raw == "" && spec.kind == valCharOrNot {
			return "", true
		}
		ch, ok := oneChar(raw)
		if !ok {
			c.valueError(o, `write '\t' for a tab`, "must be one character")
			return "", false
		}
		return ch, true
	case valList:
		return raw, true
	case valText:
		if v == "" {
			c.valueError(o, "", "must not be empty")
			return "", false
		}
		return v, true
	case valIdent:
		lv := strings.ToLower(v)
		if !isPlainName(lv) {
			c.valueError(o, "", "must be a name of letters, digits and _")
			return "", false
		}
		return lv, true
	case valIdentList:
		var cols []string
		for _, part := range strings.Split(v, ",") {
			col := strings.TrimSpace(part)
			if len(col) >= 2 && col[0] == '"' && col[len(col)-1] == '"' {
				col = strings.ReplaceAll(col[1:len(col)-1], `""`, `"`)
			} else {
				col = strings.ToLower(col)
				if !isPlainName(col) {
					c.valueError(o, "write column names separated by commas: 'state, year'", fmt.Sprintf("%q is not a column name", strings.TrimSpace(part)))
					return "", false
				}
			}
			if slices.Contains(cols, col) {
				c.valueError(o, "", fmt.Sprintf("column %s is listed twice", col))
				return "", false
			}
			cols = append(cols, col)
		}
		return strings.Join(cols, ","), true
	case valPath:
		if v == "" {
			c.valueError(o, "", "must not be empty")
			return "", false
		}
		if scheme, _, ok := strings.Cut(v, "://"); ok {
			switch strings.ToLower(scheme) {
			case "s3", "s3a", "file":
			default:
				c.valueError(o, "use a local path, file:// or s3://", fmt.Sprintf("unsupported scheme %s://", scheme))
				return "", false
			}
		}
		return v, true
	case valHosts:
		var hosts []string
		for _, part := range strings.Split(v, ",") {
			h := strings.TrimSpace(part)
			host, port, ok := strings.Cut(h, ":")
			if n, err := strconv.Atoi(port); !ok || host == "" || err != nil || n < 1 || n > 65535 {
				c.valueError(o, "write host:port[,host:port...]", fmt.Sprintf("%q is not host:port", h))
				return "", false
			}
			hosts = append(hosts, h)
		}
		return strings.Join(hosts, ","), true
	case valDuration, valDuration0:
		d, reason := parseDuration(v)
		if reason == "" && d == 0 && spec.kind == valDuration {
			reason = "must be longer than zero"
		}
		if reason != "" {
			c.valueError(o, "write a duration such as '10s', '500ms' or '1 minute'", reason)
			return "", false
		}
		return d.String(), true
	case valCount:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > spec.max {
			c.valueError(o, "", fmt.Sprintf("must be a whole number from 1 to %d", spec.max))
			return "", false
		}
		return strconv.Itoa(n), true
	}
	return v, true
}

// crossCheck applies the rules between options: format-specific options,
// compression per format, distinct CSV characters, the Glue catalog.
func (c *optionsChecker) crossCheck(opts []parser.Option, out map[string]string, name parser.ObjectName) {
	specs, _ := optionTable(c.kind, out["connector"])
	format := out["format"]
	if format != "" {
		for _, o := range opts {
			key := strings.ToLower(o.Key.Name)
			i := slices.IndexFunc(specs, func(s optionSpec) bool { return s.name == key })
			if i < 0 || specs[i].formats == nil || slices.Contains(specs[i].formats, format) {
				continue
			}
			c.errorf(identSpan(o.Key), "", "option %s applies to format %s only, not %s",
				key, strings.Join(specs[i].formats, ", "), format)
			delete(out, key)
		}
		if out["compression"] == "snappy" && format != "parquet" {
			if i := findOption(opts, "compression"); i >= 0 {
				c.badValue(opts[i], []string{"none", "gzip", "zstd"}, "snappy is for parquet only")
				delete(out, "compression")
			}
		}
	}
	// delimiter, quote and escape must differ.
	chars := []string{"delimiter", "quote", "escape"}
	for i, a := range chars {
		for _, b := range chars[i+1:] {
			va, okA := out[a]
			vb, okB := out[b]
			if okA && okB && va != "" && va == vb {
				if j := findOption(opts, b); j >= 0 {
					c.valueError(opts[j], "", fmt.Sprintf("same character as %s", a))
				}
			}
		}
	}
	// The Glue catalog needs a database and a table, and they need it.
	if _, ok := out["catalog"]; ok {
		for _, need := range []string{"database", "table"} {
			if _, ok := out[need]; !ok && findOption(opts, need) < 0 {
				c.errorf(nameSpan(name), fmt.Sprintf("add %s = '...' to the WITH clause", need),
					"missing option %q for %s %s: catalog = '%s' needs it", need, c.kind, name, out["catalog"])
			}
		}
	} else if findOption(opts, "catalog") < 0 {
		for _, key := range []string{"database", "table"} {
			if i := findOption(opts, key); i >= 0 && slices.ContainsFunc(specs, func(s optionSpec) bool { return s.name == key }) {
				c.errorf(identSpan(opts[i].Key), "add catalog = 'glue' to register the sink in the AWS Glue Data Catalog",
					"option %s needs option catalog", key)
				delete(out, key)
			}
		}
	}
}

// findOption returns the index of the first option named key, or -1.
func findOption(opts []parser.Option, key string) int {
	return slices.IndexFunc(opts, func(o parser.Option) bool { return strings.ToLower(o.Key.Name) == key })
}

// oneChar reads a single-character option value; the two characters \t
// stand for a tab.
func oneChar(s string) (string, bool) {
	if s == `\t` {
		return "\t", true
	}
	if utf8.RuneCountInString(s) == 1 {
		return s, true
	}
	return "", false
}

// isPlainName reports whether s is a non-empty name of lower-case letters,
// digits and underscores, not starting with a digit.
func isPlainName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// formatFromPath infers a file format from a path's extension, or "".
func formatFromPath(path string) string {
	p := strings.ToLower(strings.TrimRight(path, "/"))
	for _, ext := range []string{".gz", ".zst", ".zstd", ".snappy"} {
		p = strings.TrimSuffix(p, ext)
	}
	switch {
	case strings.HasSuffix(p, ".csv"):
		return "csv"
	case strings.HasSuffix(p, ".json"), strings.HasSuffix(p, ".jsonl"), strings.HasSuffix(p, ".ndjson"):
		return "json"
	case strings.HasSuffix(p, ".parquet"):
		return "parquet"
	}
	return ""
}

// quotedList formats values as 'a', 'b' or 'c'.
func quotedList(values []string, last string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "'" + v + "'"
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + last + q[len(q)-1]
}

// nameSpan is the extent of an object name as written.
func nameSpan(n parser.ObjectName) parser.Span {
	end := identSpan(n.Name).End
	return parser.Span{Start: n.Pos(), End: end}
}

// valueSpan is the extent of the option value that starts at off: a
// quoted string (an E'...' string with backslash escapes, or a dollar
// quote), or a bare word.
func valueSpan(src *parser.Source, off int) parser.Span {
	if src == nil || off < 0 || off >= len(src.Text) {
		return parser.Span{Start: off, End: off}
	}
	t := src.Text
	i := off
	backslash := false
	if (t[i] == 'E' || t[i] == 'e') && i+1 < len(t) && t[i+1] == '\'' {
		backslash = true
		i++
	}
	switch t[i] {
	case '\'':
		for j := i + 1; j < len(t); j++ {
			switch {
			case backslash && t[j] == '\\':
				j++
			case t[j] == '\'' && j+1 < len(t) && t[j+1] == '\'':
				j++
			case t[j] == '\'':
				return parser.Span{Start: off, End: j + 1}
			}
		}
		return parser.Span{Start: off, End: len(t)}
	case '$':
		if end := strings.IndexByte(t[i+1:], '$'); end >= 0 {
			tag := t[i : i+end+2]
			if close := strings.Index(t[i+len(tag):], tag); close >= 0 {
				return parser.Span{Start: off, End: i + len(tag) + close + len(tag)}
			}
		}
	}
	j := i
	for j < len(t) && !strings.ContainsRune(" \t\r\n,)", rune(t[j])) {
		j++
	}
	return parser.Span{Start: off, End: j}
}
