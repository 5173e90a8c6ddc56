package parser

import (
	"strings"
)

// tokKind classifies the front-end lexer's tokens.
type tokKind int

const (
	tkIdent        tokKind = iota // unquoted identifier or keyword
	tkQIdent                      // "double quoted" identifier
	tkBIdent                      // `backquoted` identifier
	tkString                      // 'standard' string (also N'...')
	tkEString                     // E'escaped' string
	tkDollarString                // $tag$...$tag$
	tkBytes                       // X'..' or B'..' literal, passed through
	tkNumber                      // 12, 1.5, 1e3, 0x1F
	tkParam                       // ${name}
	tkPlaceholder                 // $1
	tkOp                          // punctuation and operators
	tkEOF                         // past the end of a statement
)

// token is one lexical token of the script. Start and End are byte offsets
// in the script (or in whatever text was lexed).
type token struct {
	kind       tokKind
	start, end int
	// text is the token's text; for an op merged from OPERATOR(schema.op)
	// it is the bare operator, otherwise src[start:end].
	text string
	// bad marks an unterminated or malformed token (already diagnosed).
	bad bool
}

// is reports whether t is the unquoted keyword kw (compared case-insensitively).
func (t token) is(kw string) bool {
	return t.kind == tkIdent && strings.EqualFold(t.text, kw)
}

// isOp reports whether t is the operator or punctuation op.
func (t token) isOp(op string) bool {
	return t.kind == tkOp && t.text == op
}

// isIdent reports whether t is any kind of identifier.
func (t token) isIdent() bool {
	return t.kind == tkIdent || t.kind == tkQIdent || t.kind == tkBIdent
}

// isString reports whether t is a character string literal.
func (t token) isString() bool {
	return t.kind == tkString || t.kind == tkEString || t.kind == tkDollarString
}

// gapComment records a comment's extent; the lowering replaces comments by
// blanks so the TiDB lexer never sees PostgreSQL-only comment forms.
type gapComment struct{ start, end int }

// lexer turns text into tokens. It never fails: problems become
// diagnostics and the offending token is marked bad.
type lexer struct {
	src      string
	pos      int
	toks     []token
	comments []gapComment
	diags    []lexError
}

// lexError is a problem found while lexing.
type lexError struct {
	start, end int
	msg        string
}

// lex splits text into tokens and comments.
func lex(text string) *lexer {
	l := &lexer{src: text}
	l.run()
	return l
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// multi-character operators, longest first.
var multiOps = [...]string{"!~*", "<=>", "->>", "::", "!~", "~*", "<>", "!=", "<=", ">=", "||", "&&", ":=", "->", "<<", ">>"}

func (l *lexer) errorf(start, end int, msg string) {
	l.diags = append(l.diags, lexError{start, end, msg})
}

func (l *lexer) emit(kind tokKind, start int, bad bool) {
	l.toks = append(l.toks, token{kind: kind, start: start, end: l.pos, text: l.src[start:l.pos], bad: bad})
}

func (l *lexer) run() {
	s := l.src
	for l.pos < len(s) {
		c := s[l.pos]
		start := l.pos
		switch {
		case isSpace(c):
			l.pos++
		case c == '-' && l.peekAt(1) == '-', c == '#':
			for l.pos < len(s) && s[l.pos] != '\n' {
				l.pos++
			}
			l.comments = append(l.comments, gapComment{start, l.pos})
		case c == '/' && l.peekAt(1) == '*':
			l.blockComment()
		case (c == 'e' || c == 'E') && l.peekAt(1) == '\'':
			l.pos++
			bad := l.quoted('\'', true)
			l.emit(tkEString, start, bad)
		case (c == 'n' || c == 'N') && l.peekAt(1) == '\'':
			l.pos++
			bad := l.quoted('\'', false)
			l.emit(tkString, start, bad)
		case (c == 'x' || c == 'X' || c == 'b' || c == 'B') && l.peekAt(1) == '\'':
			l.pos++
			bad := l.quoted('\'', false)
			l.emit(tkBytes, start, bad)
		case isIdentStart(c):
			for l.pos < len(s) && isIdentChar(s[l.pos]) {
				l.pos++
			}
			l.emit(tkIdent, start, false)
		case isDigit(c) || (c == '.' && isDigit(l.peekAt(1))):
			l.number()
			l.emit(tkNumber, start, false)
		case c == '\'':
			bad := l.quoted('\'', false)
			l.emit(tkString, start, bad)
		case c == '"':
			bad := l.quoted('"', false)
			l.emit(tkQIdent, start, bad)
		case c == '`':
			bad := l.quoted('`', false)
			l.emit(tkBIdent, start, bad)
		case c == '$':
			l.dollar()
		default:
			l.op()
		}
	}
}

func (l *lexer) peekAt(n int) byte {
	if l.pos+n < len(l.src) {
		return l.src[l.pos+n]
	}
	return 0
}

// blockComment skips a /* */ comment; comments nest as in PostgreSQL.
func (l *lexer) blockComment() {
	start := l.pos
	depth := 0
	for l.pos < len(l.src) {
		if l.src[l.pos] == '/' && l.peekAt(1) == '*' {
			depth++
			l.pos += 2
			continue
		}
		if l.src[l.pos] == '*' && l.peekAt(1) == '/' {
			depth--
			l.pos += 2
			if depth == 0 {
				l.comments = append(l.comments, gapComment{start, l.pos})
				return
			}
			continue
		}
		l.pos++
	}
	l.comments = append(l.comments, gapComment{start, l.pos})
	l.errorf(start, start+2, "unterminated /* comment")
}

// quoted consumes a literal delimited by q starting at l.pos (the opening
// quote); a doubled delimiter stands for itself, and with backslash a
// backslash escapes the next byte. It reports whether the literal was left
// unterminated.
func (l *lexer) quoted(q byte, backslash bool) bool {
	start := l.pos
	l.pos++
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case backslash && c == '\\':
			l.pos += 2
		case c == q && l.peekAt(1) == q:
			l.pos += 2
		case c == q:
			l.pos++
			return false
		default:
			l.pos++
		}
	}
	l.pos = len(l.src)
	what := "unterminated quoted string"
	switch q {
	case '"':
		what = "unterminated quoted identifier"
	case '`':
		what = "unterminated backquoted identifier"
	}
	l.errorf(start, start+1, what)
	return true
}

func (l *lexer) number() {
	s := l.src
	if s[l.pos] == '0' && (l.peekAt(1) == 'x' || l.peekAt(1) == 'X') && isHex(l.peekAt(2)) {
		l.pos += 2
		for l.pos < len(s) && isHex(s[l.pos]) {
			l.pos++
		}
		return
	}
	for l.pos < len(s) && isDigit(s[l.pos]) {
		l.pos++
	}
	if l.pos < len(s) && s[l.pos] == '.' && l.peekAt(1) != '.' {
		l.pos++
		for l.pos < len(s) && isDigit(s[l.pos]) {
			l.pos++
		}
	}
	if l.pos < len(s) && (s[l.pos] == 'e' || s[l.pos] == 'E') {
		n := 1
		if c := l.peekAt(1); c == '+' || c == '-' {
			n = 2
		}
		if isDigit(l.peekAt(n)) {
			l.pos += n
			for l.pos < len(s) && isDigit(s[l.pos]) {
				l.pos++
			}
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// dollar lexes what starts with '$': ${name}, $1, or a dollar-quoted string.
func (l *lexer) dollar() {
	s := l.src
	start := l.pos
	switch next := l.peekAt(1); {
	case next == '{':
		end := strings.IndexByte(s[l.pos:], '}')
		if end < 0 {
			l.pos = len(s)
			l.errorf(start, start+2, "unterminated parameter reference: expected '}'")
			l.emit(tkParam, start, true)
			return
		}
		name := s[start+2 : start+end]
		l.pos = start + end + 1
		if !validParamName(name) {
			l.errorf(start, l.pos, "malformed parameter reference \""+s[start:l.pos]+"\": a name is letters, digits and '_'")
			l.emit(tkParam, start, true)
			return
		}
		l.emit(tkParam, start, false)
	case isDigit(next):
		l.pos++
		for l.pos < len(s) && isDigit(s[l.pos]) {
			l.pos++
		}
		l.emit(tkPlaceholder, start, false)
	case next == '$' || (isIdentStart(next) && next < 0x80):
		// $tag$: the tag is an identifier without '$'.
		j := l.pos + 1
		for j < len(s) && isIdentChar(s[j]) && s[j] != '$' {
			j++
		}
		if j >= len(s) || s[j] != '$' {
			l.pos++
			l.emit(tkOp, start, false)
			return
		}
		delim := s[start : j+1]
		body := j + 1
		end := strings.Index(s[body:], delim)
		if end < 0 {
			l.pos = len(s)
			l.errorf(start, j+1, "unterminated dollar-quoted string")
			l.emit(tkDollarString, start, true)
			return
		}
		l.pos = body + end + len(delim)
		l.emit(tkDollarString, start, false)
	default:
		l.pos++
		l.emit(tkOp, start, false)
	}
}

func validParamName(name string) bool {
	if name == "" || !(isIdentStart(name[0]) && name[0] < 0x80) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func (l *lexer) op() {
	start := l.pos
	rest := l.src[l.pos:]
	for _, op := range multiOps {
		if strings.HasPrefix(rest, op) {
			l.pos += len(op)
			l.emit(tkOp, start, false)
			return
		}
	}
	l.pos++
	l.emit(tkOp, start, false)
}

// identName returns an identifier token's name: unquoted names fold to
// lower case, quoted ones keep their case with doubled quotes undone.
func identName(t token) (name string, quoted bool) {
	switch t.kind {
	case tkQIdent:
		return unquote(t.text, '"'), true
	case tkBIdent:
		return unquote(t.text, '`'), true
	}
	return foldIdent(t.text), false
}

// foldIdent folds an unquoted identifier to lower case the way PostgreSQL
// does for multi-byte encodings: ASCII letters only, so the byte length
// never changes.
func foldIdent(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// unquote strips the delimiters q of a quoted token and undoubles them.
// An unterminated token has no closing delimiter.
func unquote(text string, q byte) string {
	if len(text) > 0 && text[0] == q {
		text = text[1:]
	}
	if len(text) > 0 && text[len(text)-1] == q {
		text = text[:len(text)-1]
	}
	d := string([]byte{q, q})
	return strings.ReplaceAll(text, d, string(q))
}
