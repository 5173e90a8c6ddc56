package expr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds pattern matching: LIKE and ILIKE (% and _, an escape
// character, backslash by default, an empty ESCAPE for none), compiled
// once when the pattern is constant with fast paths for exact, prefix,
// suffix and substring patterns; and the regular expression functions
// (Go's RE2 syntax; as in PostgreSQL, '.' also matches a newline unless
// the 'n' flag is given, and regexp_replace replaces the first match
// unless the 'g' flag is given).

// likeKind is the shape of a LIKE pattern.
type likeKind int

const (
	likeExact    likeKind = iota // no wildcards
	likePrefix                   // abc%
	likeSuffix                   // %abc
	likeContains                 // %abc%
	likeAny                      // % (any string)
	likeGeneral
)

// likeItem is one element of a pattern segment: literal text or '_'.
type likeItem struct {
	lit string // "" for '_'
}

// likePattern is a compiled LIKE pattern: segments separated by '%'.
type likePattern struct {
	kind     likeKind
	lit      string
	segs     [][]likeItem
	anchorL  bool // the pattern does not start with %
	anchorR  bool // the pattern does not end with %
	fold     bool // ILIKE
	hasUnder bool
}

// compileLike parses a LIKE pattern with escape character esc (-1: none).
func compileLike(p string, esc rune, fold bool) (*likePattern, error) {
	if fold {
		p = strings.ToLower(p)
	}
	lp := &likePattern{fold: fold, anchorL: true, anchorR: true}
	var segs [][]likeItem
	var cur []likeItem
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			cur = append(cur, likeItem{lit: lit.String()})
			lit.Reset()
		}
	}
	first := true
	lastPercent := false
	for i := 0; i < len(p); {
		r, sz := utf8.DecodeRuneInString(p[i:])
		i += sz
		switch {
		case esc >= 0 && r == esc:
			if i >= len(p) {
				return nil, &Error{Code: CodeInvalidEscape, Msg: "LIKE pattern must not end with escape character", Where: quoteSQL(p), Row: -1}
			}
			r2, sz2 := utf8.DecodeRuneInString(p[i:])
			i += sz2
			lit.WriteRune(r2)
			lastPercent = false
		case r == '%':
			if first {
				lp.anchorL = false
			}
			flush()
			if !lastPercent {
				segs = append(segs, cur)
				cur = nil
			}
			lastPercent = true
		case r == '_':
			flush()
			cur = append(cur, likeItem{})
			lp.hasUnder = true
			lastPercent = false
		default:
			lit.WriteRune(r)
			lastPercent = false
		}
		first = false
	}
	flush()
	segs = append(segs, cur)
	if lastPercent {
		lp.anchorR = false
	}
	lp.segs = segs
	// Classify. segs has one more entry than there are runs of %.
	single := func(s []likeItem) (string, bool) {
		switch len(s) {
		case 0:
			return "", true
		case 1:
			if s[0].lit != "" {
				return s[0].lit, true
			}
		}
		return "", false
	}
	switch {
	case len(segs) == 1:
		if l, ok := single(segs[0]); ok {
			lp.kind, lp.lit = likeExact, l
			return lp, nil
		}
	case len(segs) == 2:
		l0, ok0 := single(segs[0])
		l1, ok1 := single(segs[1])
		switch {
		case ok0 && ok1 && l0 == "" && l1 == "":
			lp.kind = likeAny
			return lp, nil
		case ok0 && ok1 && l1 == "":
			lp.kind, lp.lit = likePrefix, l0
			return lp, nil
		case ok0 && ok1 && l0 == "":
			lp.kind, lp.lit = likeSuffix, l1
			return lp, nil
		}
	case len(segs) == 3:
		l0, ok0 := single(segs[0])
		l1, ok1 := single(segs[1])
		l2, ok2 := single(segs[2])
		if ok0 && ok1 && ok2 && l0 == "" && l2 == "" {
			lp.kind, lp.lit = likeContains, l1
			return lp, nil
		}
	}
	lp.kind = likeGeneral
	return lp, nil
}

// match reports whether s matches the pattern.
func (lp *likePattern) match(s string) bool {
	if lp.fold {
		s = strings.ToLower(s)
	}
	switch lp.kind {
	case likeExact:
		return s == lp.lit
	case likePrefix:
		return strings.HasPrefix(s, lp.lit)
	case likeSuffix:
		return strings.HasSuffix(s, lp.lit)
	case likeContains:
		return strings.Contains(s, lp.lit)
	case likeAny:
		return true
	}
	segs := lp.segs
	pos := 0
	// First segment anchored at the start.
	end, ok := matchSegAt(s, 0, segs[0])
	if !ok {
		return false
	}
	pos = end
	if len(segs) == 1 {
		return pos == len(s)
	}
	// Middle segments: leftmost match in order.
	for _, seg := range segs[1 : len(segs)-1] {
		found := false
		for start := pos; start <= len(s); {
			if e, ok := matchSegAt(s, start, seg); ok {
				pos, found = e, true
				break
			}
			if start == len(s) {
				break
			}
			_, sz := utf8.DecodeRuneInString(s[start:])
			start += sz
		}
		if !found {
			return false
		}
	}
	// Last segment anchored at the end.
	last := segs[len(segs)-1]
	n := segRunes(last)
	start := len(s)
	for k := 0; k < n; k++ {
		if start <= pos {
			return false
		}
		_, sz := utf8.DecodeLastRuneInString(s[:start])
		start -= sz
	}
	if start < pos {
		return false
	}
	e, ok := matchSegAt(s, start, last)
	return ok && e == len(s)
}

// segRunes is the number of characters a segment matches.
func segRunes(seg []likeItem) int {
	n := 0
	for _, it := range seg {
		if it.lit == "" {
			n++
		} else {
			n += utf8.RuneCountInString(it.lit)
		}
	}
	return n
}

// matchSegAt matches seg at s[start:], returning the end offset.
func matchSegAt(s string, start int, seg []likeItem) (int, bool) {
	pos := start
	for _, it := range seg {
		if it.lit == "" {
			if pos >= len(s) {
				return 0, false
			}
			_, sz := utf8.DecodeRuneInString(s[pos:])
			pos += sz
			continue
		}
		if !strings.HasPrefix(s[pos:], it.lit) {
			return 0, false
		}
		pos += len(it.lit)
	}
	return pos, true
}

// escapeRune reads an ESCAPE argument: one character, or none for ”.
func escapeRune(e string) (rune, error) {
	switch utf8.RuneCountInString(e) {
	case 0:
		return -1, nil
	case 1:
		r, _ := utf8.DecodeRuneInString(e)
		return r, nil
	}
	return 0, &Error{Code: CodeInvalidEscape, Msg: "invalid escape string", Where: quoteSQL(e), Row: -1}
}

// like compiles like, not_like, ilike and not_ilike.
func (c *compiler) like(x *planner.Call, args []node) (node, error) {
	fold := strings.Contains(x.Name, "ilike")
	neg := strings.HasPrefix(x.Name, "not_")
	pat, patConst := constString(args[1])
	esc := '\\'
	escConst := true
	if len(args) > 2 {
		e, ok := constString(args[2])
		escConst = ok
		if ok {
			r, err := escapeRune(e)
			if err != nil {
				escConst = false // fails per row
			}
			esc = r
		}
	}
	var lp *likePattern
	if patConst && escConst {
		// An invalid constant pattern fails when a row is evaluated (below).
		lp, _ = compileLike(pat, esc, fold)
	}
	if lp != nil {
		var scratch []bool
		k := newKernel(x.Name, catalog.Bool, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s := strsOf(in[0])
			if cap(scratch) < bt.n {
				scratch = make([]bool, bt.n)
			}
			res := scratch[:bt.n]
			switch {
			case lp.kind == likePrefix && !lp.fold:
				for i := range res {
					res[i] = strings.HasPrefix(s.Value(i), lp.lit) != neg
				}
			case lp.kind == likeContains && !lp.fold:
				for i := range res {
					res[i] = strings.Contains(s.Value(i), lp.lit) != neg
				}
			default:
				for i := range res {
					res[i] = lp.match(s.Value(i)) != neg
				}
			}
			return boolArray(bt.alloc, res, validAnd(bt.alloc, bt.n, in[0])), nil
		})
		skip := []int{1}
		if len(args) > 2 {
			skip = append(skip, 2)
		}
		return k.scalarArgs(skip...), nil
	}
	// A pattern computed per row: compile on change.
	var lastPat, lastEsc string
	var last *likePattern
	return newKernel(x.Name, catalog.Bool, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		s, p := strsOf(in[0]), strsOf(in[1])
		return boolRows(bt, in, func(i int) (bool, bool, error) {
			e := "\\"
			if len(in) > 2 {
				e = strsOf(in[2]).Value(i)
			}
			if last == nil || p.Value(i) != lastPat || e != lastEsc {
				r, err := escapeRune(e)
				if err != nil {
					return false, false, err
				}
				lp, err := compileLike(p.Value(i), r, fold)
				if err != nil {
					return false, false, err
				}
				last, lastPat, lastEsc = lp, strings.Clone(p.Value(i)), strings.Clone(e)
			}
			return last.match(s.Value(i)) != neg, false, nil
		})
	}), nil
}

// regexFlags turns PostgreSQL's flag letters into a Go prefix; global
// reports 'g'.
func regexFlags(flags string) (prefix string, global bool, err error) {
	ci, newline := false, false
	for _, f := range flags {
		switch f {
		case 'i':
			ci = true
		case 'c':
			ci = false
		case 'n', 'm':
			newline = true
		case 's':
			newline = false
		case 'g':
			global = true
		default:
			return "", false, &Error{Code: CodeInvalidParameter, Msg: fmt.Sprintf("invalid regular expression option: %q", string(f)), Row: -1}
		}
	}
	p := "(?"
	if ci {
		p += "i"
	}
	if newline {
		p += "m"
	} else {
		p += "s"
	}
	return p + ")", global, nil
}

func compileRegexp(p, flags string) (*regexp.Regexp, bool, error) {
	prefix, global, err := regexFlags(flags)
	if err != nil {
		return nil, false, err
	}
	re, err := regexp.Compile(prefix + p)
	if err != nil {
		return nil, false, &Error{Code: CodeInvalidRegexp, Msg: fmt.Sprintf("invalid regular expression: %v", err), Row: -1, Err: err}
	}
	return re, global, nil
}

// regexCache compiles patterns that vary per row, keeping the last one.
type regexCache struct {
	pat, flags string
	re         *regexp.Regexp
	global     bool
}

func (rc *regexCache) get(p, flags string) (*regexp.Regexp, bool, error) {
	if rc.re != nil && p == rc.pat && flags == rc.flags {
		return rc.re, rc.global, nil
	}
	re, g, err := compileRegexp(p, flags)
	if err != nil {
		return nil, false, err
	}
	rc.re, rc.global, rc.pat, rc.flags = re, g, strings.Clone(p), strings.Clone(flags)
	return re, g, nil
}

// regexpMatch compiles regexp, not_regexp, regexp_i and regexp_like.
func (c *compiler) regexpMatch(x *planner.Call, args []node) (node, error) {
	neg := x.Name == "not_regexp"
	fixedFlags := ""
	if x.Name == "regexp_i" {
		fixedFlags = "i"
	}
	rc := &regexCache{}
	if p, ok := constString(args[1]); ok && len(args) == 2 {
		rc.get(p, fixedFlags) // warm the cache; an error shows per row
	}
	return newKernel(x.Name, catalog.Bool, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		s, p := strsOf(in[0]), strsOf(in[1])
		return boolRows(bt, in, func(i int) (bool, bool, error) {
			flags := fixedFlags
			if len(in) > 2 {
				flags = strsOf(in[2]).Value(i)
			}
			re, _, err := rc.get(p.Value(i), flags)
			if err != nil {
				return false, false, err
			}
			return re.MatchString(s.Value(i)) != neg, false, nil
		})
	}), nil
}

// replTemplate is a parsed replacement: literal text and group references.
type replPart struct {
	lit   string
	group int // -1 for literal
}

// parseReplacement reads \1..\9 and \& (PostgreSQL) and $1, ${1} (Spark)
// group references; \\ is a backslash.
func parseReplacement(r string) []replPart {
	var parts []replPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(r); i++ {
		ch := r[i]
		switch {
		case ch == '\\' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			flush()
			parts = append(parts, replPart{group: int(r[i+1] - '0')})
			i++
		case ch == '\\' && i+1 < len(r) && r[i+1] == '&':
			flush()
			parts = append(parts, replPart{group: 0})
			i++
		case ch == '\\' && i+1 < len(r) && r[i+1] == '\\':
			lit.WriteByte('\\')
			i++
		case ch == '$' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			g, _ := strconv.Atoi(r[i+1 : j])
			flush()
			parts = append(parts, replPart{group: g})
			i = j - 1
		case ch == '$' && i+1 < len(r) && r[i+1] == '{':
			j := strings.IndexByte(r[i:], '}')
			if g, err := strconv.Atoi(r[i+2 : i+max(j, 2)]); j > 0 && err == nil {
				flush()
				parts = append(parts, replPart{group: g})
				i += j
				continue
			}
			lit.WriteByte(ch)
		default:
			lit.WriteByte(ch)
		}
	}
	flush()
	return parts
}

func expandReplacement(dst []byte, s string, m []int, parts []replPart) []byte {
	for _, p := range parts {
		if p.group < 0 {
			dst = append(dst, p.lit...)
			continue
		}
		if 2*p.group+1 < len(m) && m[2*p.group] >= 0 {
			dst = append(dst, s[m[2*p.group]:m[2*p.group+1]]...)
		}
	}
	return dst
}

// regexpReplace compiles regexp_replace(s, pattern, replacement [, flags]).
func (c *compiler) regexpReplace(x *planner.Call, args []node) (node, error) {
	rc := &regexCache{}
	if p, ok := constString(args[1]); ok {
		flags := ""
		if len(args) > 3 {
			flags, ok = constString(args[3])
		}
		if ok {
			rc.get(p, flags)
		}
	}
	var lastRepl string
	var parts []replPart
	return newKernel(x.Name, catalog.String, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		s, p, r := strsOf(in[0]), strsOf(in[1]), strsOf(in[2])
		return strRows(bt, in, arrow.BinaryTypes.String, func(dst []byte, i int) ([]byte, bool, error) {
			flags := ""
			if len(in) > 3 {
				flags = strsOf(in[3]).Value(i)
			}
			re, global, err := rc.get(p.Value(i), flags)
			if err != nil {
				return dst, false, err
			}
			if parts == nil || r.Value(i) != lastRepl {
				lastRepl = strings.Clone(r.Value(i))
				parts = parseReplacement(lastRepl)
			}
			v := s.Value(i)
			last := 0
			for _, m := range re.FindAllStringSubmatchIndex(v, limitMatches(global)) {
				dst = append(dst, v[last:m[0]]...)
				dst = expandReplacement(dst, v, m, parts)
				last = m[1]
			}
			return append(dst, v[last:]...), false, nil
		})
	}), nil
}

func limitMatches(global bool) int {
	if global {
		return -1
	}
	return 1
}

// regexpExtract compiles regexp_extract(s, pattern [, group]): the group
// (by default 1 when the pattern has groups, else the whole match) of the
// first match, ” when nothing matches.
func (c *compiler) regexpExtract(x *planner.Call, args []node) (node, error) {
	rc := &regexCache{}
	if p, ok := constString(args[1]); ok {
		rc.get(p, "")
	}
	return newKernel(x.Name, catalog.String, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		s, p := strsOf(in[0]), strsOf(in[1])
		var grp []int64
		if len(in) > 2 {
			grp = int64sOf(in[2])
		}
		return strRows(bt, in, arrow.BinaryTypes.String, func(dst []byte, i int) ([]byte, bool, error) {
			re, _, err := rc.get(p.Value(i), "")
			if err != nil {
				return dst, false, err
			}
			g := int64(0)
			if re.NumSubexp() > 0 {
				g = 1
			}
			if grp != nil {
				g = grp[i]
			}
			if g < 0 || g > int64(re.NumSubexp()) {
				return dst, false, &Error{Code: CodeInvalidParameter,
					Msg: fmt.Sprintf("regexp_extract: the pattern has %d groups, group %d requested", re.NumSubexp(), g), Row: -1}
			}
			v := s.Value(i)
			m := re.FindStringSubmatchIndex(v)
			if m == nil || m[2*g] < 0 {
				return dst, false, nil
			}
			return append(dst, v[m[2*g]:m[2*g+1]]...), false, nil
		})
	}), nil
}
