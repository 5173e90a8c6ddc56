package expr

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds json_extract(doc, path), the JSON text at path, and
// json_value(doc, path), the scalar at path as text (a string unquoted;
// NULL for JSON null; an object or array as JSON text). Paths are
// $.key.key[0]."quoted key"['key']; a missing key or index gives NULL; a
// document that is not JSON is an error. The document is scanned, not
// decoded: only the values on the path are looked at.

// jsonStep is one step of a path: a key, or an array index.
type jsonStep struct {
	key   string
	index int
	isIdx bool
}

// parseJSONPath parses $.a.b[0]; a path without the leading $ is taken
// as relative to the root.
func parseJSONPath(p string) ([]jsonStep, error) {
	bad := func() ([]jsonStep, error) {
		return nil, &Error{Code: CodeInvalidParameter, Msg: fmt.Sprintf("invalid JSON path %q", p), Row: -1}
	}
	s := strings.TrimSpace(p)
	if strings.HasPrefix(s, "$") {
		s = s[1:]
	} else if s != "" && s[0] != '.' && s[0] != '[' {
		s = "." + s
	}
	var steps []jsonStep
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			if strings.HasPrefix(s, `"`) {
				j := strings.IndexByte(s[1:], '"')
				if j < 0 {
					return bad()
				}
				steps = append(steps, jsonStep{key: s[1 : 1+j]})
				s = s[j+2:]
				continue
			}
			j := strings.IndexAny(s, ".[")
			if j < 0 {
				j = len(s)
			}
			if j == 0 {
				return bad()
			}
			steps = append(steps, jsonStep{key: s[:j]})
			s = s[j:]
		case '[':
			j := strings.IndexByte(s, ']')
			if j < 0 {
				return bad()
			}
			inner := strings.TrimSpace(s[1:j])
			s = s[j+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				steps = append(steps, jsonStep{key: inner[1 : len(inner)-1]})
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 {
				return bad()
			}
			steps = append(steps, jsonStep{index: n, isIdx: true})
		default:
			return bad()
		}
	}
	return steps, nil
}

// jsonScanner walks JSON text without decoding it.
type jsonScanner struct {
	s   string
	pos int
}

var errJSON = fmt.Errorf("invalid JSON")

func (sc *jsonScanner) ws() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// skipString skips a string starting at pos (at the quote) and returns
// its raw text including quotes.
func (sc *jsonScanner) skipString() (string, error) {
	start := sc.pos
	sc.pos++
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case '\\':
			sc.pos += 2
		case '"':
			sc.pos++
			return sc.s[start:sc.pos], nil
		default:
			sc.pos++
		}
	}
	return "", errJSON
}

// skipValue skips one value and returns its text.
func (sc *jsonScanner) skipValue() (string, error) {
	sc.ws()
	if sc.pos >= len(sc.s) {
		return "", errJSON
	}
	start := sc.pos
	switch c := sc.s[sc.pos]; {
	case c == '"':
		return sc.skipString()
	case c == '{' || c == '[':
		depth := 0
		for sc.pos < len(sc.s) {
			switch sc.s[sc.pos] {
			case '"':
				if _, err := sc.skipString(); err != nil {
					return "", err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					sc.pos++
					return sc.s[start:sc.pos], nil
				}
			}
			sc.pos++
		}
		return "", errJSON
	default:
		for sc.pos < len(sc.s) {
			switch sc.s[sc.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return sc.s[start:sc.pos], nil
			}
			sc.pos++
		}
		return sc.s[start:sc.pos], nil
	}
}

// find returns the raw text of the value at path, ok false when absent.
func jsonFind(doc string, path []jsonStep) (string, bool, error) {
	sc := &jsonScanner{s: doc}
	for _, st := range path {
		sc.ws()
		if sc.pos >= len(sc.s) {
			return "", false, errJSON
		}
		c := sc.s[sc.pos]
		switch {
		case !st.isIdx && c == '{':
			sc.pos++
			found := false
			for {
				sc.ws()
				if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
					return "", false, nil
				}
				if sc.pos >= len(sc.s) || sc.s[sc.pos] != '"' {
					return "", false, errJSON
				}
				rawKey, err := sc.skipString()
				if err != nil {
					return "", false, err
				}
				key := rawKey[1 : len(rawKey)-1]
				if strings.IndexByte(key, '\\') >= 0 {
					var k string
					if err := json.Unmarshal([]byte(rawKey), &k); err != nil {
						return "", false, errJSON
					}
					key = k
				}
				sc.ws()
				if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
					return "", false, errJSON
				}
				sc.pos++
				if key == st.key {
					found = true
					break
				}
				if _, err := sc.skipValue(); err != nil {
					return "", false, err
				}
				sc.ws()
				if sc.pos < len(sc.s) && sc.s[sc.pos] == ',' {
					sc.pos++
				}
			}
			if !found {
				return "", false, nil
			}
		case st.isIdx && c == '[':
			sc.pos++
			for k := 0; ; k++ {
				sc.ws()
				if sc.pos < len(sc.s) && sc.s[sc.pos] == ']' {
					return "", false, nil
				}
				if k == st.index {
					break
				}
				if _, err := sc.skipValue(); err != nil {
					return "", false, err
				}
				sc.ws()
				if sc.pos < len(sc.s) && sc.s[sc.pos] == ',' {
					sc.pos++
				}
			}
		default:
			// The path goes into a scalar or the wrong kind of container.
			if _, err := sc.skipValue(); err != nil {
				return "", false, err
			}
			return "", false, nil
		}
	}
	v, err := sc.skipValue()
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (c *compiler) jsonFunc(x *planner.Call, args []node) (node, error) {
	value := x.Name == "json_value"
	var constPath []jsonStep
	if p, ok := constString(args[1]); ok {
		constPath, _ = parseJSONPath(p) // a bad path fails per row
	}
	return newKernel(x.Name, x.T, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		docs, paths := strsOf(in[0]), strsOf(in[1])
		return strRows(bt, in, arrow.BinaryTypes.String, func(dst []byte, i int) ([]byte, bool, error) {
			path := constPath
			if path == nil {
				p, err := parseJSONPath(paths.Value(i))
				if err != nil {
					return dst, false, err
				}
				path = p
			}
			doc := docs.Value(i)
			raw, ok, err := jsonFind(doc, path)
			if err != nil || (ok && !json.Valid([]byte(raw))) {
				return dst, false, &Error{Code: CodeInvalidText, Msg: "invalid input syntax for type json",
					Where: fmt.Sprintf("%s(%s, %s)", x.Name, quoteSQL(truncateText(doc, 60)), quoteSQL(paths.Value(i))), Row: -1}
			}
			if !ok {
				return dst, true, nil
			}
			if !value {
				return append(dst, raw...), false, nil
			}
			switch raw[0] {
			case '"':
				var s string
				if err := json.Unmarshal([]byte(raw), &s); err != nil {
					return dst, false, err
				}
				return append(dst, s...), false, nil
			case 'n':
				return dst, true, nil
			}
			return append(dst, raw...), false, nil
		})
	}).withType(x.T), nil
}

// withType sets a kernel's result type (JSON and VARCHAR share a layout).
func (k *kernel) withType(t catalog.Type) *kernel {
	k.t = t
	return k
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:runeOffset(s, n)] + "..."
}
