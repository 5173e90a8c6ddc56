package parser

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Options controls parameter substitution.
type Options struct {
	// Params are the values given with --param name=value. Names match
	// case-insensitively.
	Params map[string]string
	// LookupEnv looks up the environment variable ETL_PARAM_<NAME> (the
	// parameter's name in upper case); os.LookupEnv in the CLI. Nil means
	// no environment.
	LookupEnv func(key string) (string, bool)
}

// paramTable resolves ${name} references: --param values first, then the
// environment, then DECLARE defaults.
type paramTable struct {
	flags     map[string]string
	lookupEnv func(string) (string, bool)
	decls     map[string]*Declare
	resolved  map[string]Param
}

func newParamTable(opts Options) *paramTable {
	pt := &paramTable{flags: map[string]string{}, lookupEnv: opts.LookupEnv,
		decls: map[string]*Declare{}, resolved: map[string]Param{}}
	keys := make([]string, 0, len(opts.Params))
	for k := range opts.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic when two keys differ only in case
	for _, k := range keys {
		lk := strings.ToLower(k)
		if _, dup := pt.flags[lk]; !dup || k == lk {
			pt.flags[lk] = opts.Params[k]
		}
	}
	return pt
}

// EnvName returns the environment variable that supplies parameter name.
func EnvName(name string) string { return "ETL_PARAM_" + strings.ToUpper(name) }

// resolve returns the value of parameter name (lower case).
func (pt *paramTable) resolve(name string) (Param, bool) {
	if p, ok := pt.resolved[name]; ok {
		return p, true
	}
	var typ *TypeName
	d := pt.decls[name]
	if d != nil {
		t := d.Type
		typ = &t
	}
	p := Param{Name: name, Type: typ}
	if v, ok := pt.flags[name]; ok {
		p.Value, p.From = v, "flag"
	} else if v, ok := pt.env(name); ok {
		p.Value, p.From = v, "env"
	} else if d != nil && d.HasDefault {
		p.Value, p.From = d.Default, "declare"
	} else {
		return Param{}, false
	}
	pt.resolved[name] = p
	return p, true
}

func (pt *paramTable) env(name string) (string, bool) {
	if pt.lookupEnv == nil {
		return "", false
	}
	return pt.lookupEnv(EnvName(name))
}

// known lists every parameter name the script or the flags define.
func (pt *paramTable) known() []string {
	var names []string
	for k := range pt.flags {
		names = append(names, k)
	}
	for k := range pt.decls {
		if _, ok := pt.flags[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// paramName returns the lower-cased name of a ${name} token.
func paramName(text string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(text, "${"), "}"))
}

// resolveParam resolves a ${name} whose text spans [start, end) in the
// script, reporting an undefined parameter there.
func (sp *scriptParser) resolveParamAt(name string, start, end int) (Param, bool) {
	if p, ok := sp.params.resolve(name); ok {
		return p, true
	}
	if d := sp.params.decls[name]; d != nil {
		pos := sp.src.Position(d.Span.Start)
		sp.errorf(start, end, CodeUndefinedParam,
			fmt.Sprintf("DECLARE %s at line %d has no DEFAULT: pass --param %s=VALUE or set %s", name, pos.Line, name, EnvName(name)),
			"parameter ${%s} has no value", name)
		return Param{}, false
	}
	hint := fmt.Sprintf("define it with --param %s=VALUE, the environment variable %s, or DECLARE %s VARCHAR DEFAULT '...';",
		name, EnvName(name), name)
	if c := ClosestName(name, sp.params.known()); c != "" {
		hint = fmt.Sprintf("did you mean ${%s}? Otherwise %s", c, hint)
	}
	sp.errorf(start, end, CodeUndefinedParam, hint, "parameter ${%s} is not defined", name)
	return Param{}, false
}

// resolveParam resolves a ${name} token.
func (sp *scriptParser) resolveParam(t token) (Param, bool) {
	if t.bad {
		return Param{}, false
	}
	return sp.resolveParamAt(paramName(t.text), t.start, t.end)
}

// paramLiteral returns the SQL text a ${name} token outside a string
// stands for: a quoted literal, cast to the DECLAREd type if there is one.
// An undefined parameter is reported and stands for NULL.
func (sp *scriptParser) paramLiteral(t token) string {
	p, ok := sp.resolveParam(t)
	if !ok {
		return "NULL"
	}
	if p.Type != nil {
		return "__etl_cast(" + quoteSQL(p.Value) + ", " + quoteSQL(p.Type.String()) + ")"
	}
	return quoteSQL(p.Value)
}

// stringValue returns the value of a string literal token with its
// escapes resolved and the ${name} parameters in it substituted as text.
func (sp *scriptParser) stringValue(t token) string { return sp.decodeString(t, true) }

// literalValue returns the value of a string literal token with its escapes
// resolved and no parameter substitution (DECLARE defaults are literal).
func (sp *scriptParser) literalValue(t token) string { return sp.decodeString(t, false) }

func (sp *scriptParser) decodeString(t token, subst bool) string {
	text := t.text
	body, bodyStart := text, t.start
	kind := t.kind
	switch kind {
	case tkDollarString:
		tag := strings.IndexByte(text[1:], '$') + 2
		body, bodyStart = text[tag:], t.start+tag
		if !t.bad {
			body = body[:len(body)-tag]
		}
	case tkString, tkEString:
		q := strings.IndexByte(text, '\'')
		body, bodyStart = text[q+1:], t.start+q+1
		if !t.bad && len(body) > 0 {
			body = body[:len(body)-1]
		}
	}
	var b strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		if subst && c == '$' && i+1 < len(body) && body[i+1] == '{' {
			if end := strings.IndexByte(body[i:], '}'); end > 0 && validParamName(body[i+2:i+end]) {
				if p, ok := sp.resolveParamAt(strings.ToLower(body[i+2:i+end]), bodyStart+i, bodyStart+i+end+1); ok {
					b.WriteString(p.Value)
				}
				i += end + 1
				continue
			}
		}
		switch {
		case kind != tkDollarString && c == '\'' && i+1 < len(body) && body[i+1] == '\'':
			b.WriteByte('\'')
			i += 2
		case kind == tkEString && c == '\\' && i+1 < len(body):
			i = sp.escape(body, i, bodyStart, &b)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// escape decodes the E” backslash escape at body[i] into b and returns the
// index after it.
func (sp *scriptParser) escape(body string, i, bodyStart int, b *strings.Builder) int {
	c := body[i+1]
	switch c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'x':
		j, v := i+2, 0
		for j < len(body) && j < i+4 && isHex(body[j]) {
			v = v*16 + hexVal(body[j])
			j++
		}
		if j == i+2 {
			b.WriteByte('x')
			return i + 2
		}
		b.WriteByte(byte(v))
		return j
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		v, j := 0, i+2
		for ; j < i+2+n; j++ {
			if j >= len(body) || !isHex(body[j]) {
				sp.errorf(bodyStart+i, bodyStart+j, CodeSyntax, "", "invalid Unicode escape: \\%c needs %d hexadecimal digits", c, n)
				return j
			}
			v = v*16 + hexVal(body[j])
		}
		if !utf8.ValidRune(rune(v)) {
			sp.errorf(bodyStart+i, bodyStart+j, CodeSyntax, "", "invalid Unicode escape value %q", body[i:j])
			return j
		}
		b.WriteRune(rune(v))
		return j
	default:
		if c >= '0' && c <= '7' {
			j, v := i+1, 0
			for j < len(body) && j < i+4 && body[j] >= '0' && body[j] <= '7' {
				v = v*8 + int(body[j]-'0')
				j++
			}
			b.WriteByte(byte(v))
			return j
		}
		b.WriteByte(c)
	}
	return i + 2
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
