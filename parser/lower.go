package parser

import (
	"sort"
	"strconv"
	"strings"
)

// The lowering rewrites the PostgreSQL (and Flink/Spark) spellings of a
// token range into text the TiDB grammar accepts, recording edits on the
// script's byte ranges; build then copies the script text between edits so
// that every byte of the result maps back to the script (see Fragment.Orig).
//
// Lowered forms (the contract with the planner):
//
//	x::T, CAST(x AS T)        __etl_cast(x, 'T')        (T canonical, see TypeName.String)
//	TRY_CAST(x AS T)          __etl_try_cast(x, 'T')
//	TIMESTAMPTZ 'v' (etc.)    __etl_cast('v', 'TIMESTAMPTZ')
//	INTERVAL '5 minutes'      __etl_interval('5 minutes')
//	INTERVAL '90' DAY, INTERVAL 3 MONTH   __etl_interval('90 day'), __etl_interval('3 month')
//	$1                        __etl_param(1)
//	e [ASC|DESC] NULLS FIRST  __etl_nulls_first(e) [ASC|DESC]   (and NULLS LAST)
//	FROM STREAM s, JOIN STREAM s   STREAM removed, s recorded
//	E'a\nb', $$..$$           'a<newline>b' (a standard literal)
//	a ~ b, a !~ b             a REGEXP b, a NOT REGEXP b
//	a ~* b, a !~* b           __etl_regexp_i(a, b), NOT __etl_regexp_i(a, b)
//	OPERATOR(pg_catalog.op)   op
//	COLLATE pg_catalog.default, COLLATE "C"   removed
//	VALUES (..), (..)         VALUES ROW(..), ROW(..)   (where a query is expected)
//	${p}                      '<value>' or __etl_cast('<value>', 'T') for DECLARE p T
//	comments                  a blank
//
// String literals are re-rendered whenever they contain a backslash or a
// parameter: PostgreSQL's standard strings treat a backslash as an ordinary
// character, so the TiDB text doubles it.

type editClass int

const (
	edCloser  editClass = iota // zero-width text closing a wrapped expression
	edOpener                   // zero-width text opening a wrapped expression
	edReplace                  // replaces a script range
)

type edit struct {
	start, end int
	text       string
	class      editClass
	seq        int
	// orig is the script offset the inserted text maps back to (start
	// unless set otherwise).
	orig int
}

// nonFuncWords are keywords that may precede '(' without being a function
// name, so "(...)" after them is a primary of its own.
var nonFuncWords = map[string]bool{
	"SELECT": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "ON": true,
	"BY": true, "WHEN": true, "THEN": true, "ELSE": true, "CASE": true, "IN": true,
	"IS": true, "LIKE": true, "ILIKE": true, "BETWEEN": true, "FROM": true, "JOIN": true,
	"HAVING": true, "AS": true, "EXISTS": true, "ANY": true, "ALL": true, "SOME": true,
	"DISTINCT": true, "VALUES": true, "SET": true, "UNION": true, "INTERSECT": true,
	"EXCEPT": true, "WITH": true, "LIMIT": true, "OFFSET": true, "USING": true,
	"RECURSIVE": true, "LATERAL": true, "REGEXP": true, "RLIKE": true, "ESCAPE": true,
	"DIV": true, "MOD": true, "XOR": true, "ORDER": true, "GROUP": true,
	"PARTITION": true, "RETURN": true, "INTO": true, "EXPECT": true, "ASSERT": true,
}

// operandWords are keywords that end an operand although they are words.
var operandWords = map[string]bool{"NULL": true, "TRUE": true, "FALSE": true, "END": true}

// typedLiteralWords are type names whose "T 'text'" literals are lowered
// to __etl_cast('text', 'T'); DATE, TIME and TIMESTAMP literals are native
// TiDB syntax and stay.
var typedLiteralWords = map[string]bool{
	"TIMESTAMPTZ": true, "BOOLEAN": true, "BOOL": true, "JSON": true, "JSONB": true,
	"BYTEA": true, "NUMERIC": true, "DECIMAL": true, "INTEGER": true, "INT": true,
	"INT2": true, "INT4": true, "INT8": true, "BIGINT": true, "SMALLINT": true,
	"TEXT": true, "VARCHAR": true, "REAL": true, "FLOAT4": true, "FLOAT8": true,
}

var intervalUnits = map[string]bool{
	"YEAR": true, "YEARS": true, "QUARTER": true, "QUARTERS": true, "MONTH": true,
	"MONTHS": true, "WEEK": true, "WEEKS": true, "DAY": true, "DAYS": true,
	"HOUR": true, "HOURS": true, "MINUTE": true, "MINUTES": true, "SECOND": true,
	"SECONDS": true, "MILLISECOND": true, "MILLISECONDS": true, "MICROSECOND": true,
	"MICROSECONDS": true,
}

// dateArithFuncs take MySQL's "INTERVAL n unit" argument in their own
// grammar rule; an INTERVAL there is left for TiDB.
var dateArithFuncs = map[string]bool{"DATE_ADD": true, "DATE_SUB": true, "ADDDATE": true, "SUBDATE": true}

// streamStop are words that cannot be a relation name after FROM STREAM.
var streamStop = map[string]bool{
	"WHERE": true, "AS": true, "JOIN": true, "ON": true, "GROUP": true, "ORDER": true,
	"LIMIT": true, "UNION": true, "LEFT": true, "RIGHT": true, "INNER": true,
	"CROSS": true, "FULL": true, "HAVING": true, "WINDOW": true, "USING": true,
	"NATURAL": true, "STRAIGHT_JOIN": true, "EXCEPT": true, "INTERSECT": true,
}

// lowerer holds the state of lowering one token range.
type lowerer struct {
	sp     *scriptParser
	toks   []token
	lo, hi int
	edits  []edit
	seq    int
	// match[i-lo] is the index of the bracket matching toks[i], or -1.
	match []int
	// caseEnd[i-lo] links CASE and END both ways, or -1.
	caseLink []int
	// prim[i-lo] is the index of the first token of the postfix
	// expression (primary plus ::casts) that ends at toks[i].
	prim []int
	// override applies prim values decided before their token is reached.
	override map[int]int
	// skip[i] = j: on reaching token i, continue at token j.
	skip    map[int]int
	streams []Ident
}

func (sp *scriptParser) newLowerer(toks []token, lo, hi int) *lowerer {
	lw := &lowerer{sp: sp, toks: toks, lo: lo, hi: hi,
		match: make([]int, hi-lo), caseLink: make([]int, hi-lo), prim: make([]int, hi-lo),
		override: map[int]int{}, skip: map[int]int{}}
	var stack, cases []int
	for i := lo; i < hi; i++ {
		lw.match[i-lo], lw.caseLink[i-lo], lw.prim[i-lo] = -1, -1, i
		t := toks[i]
		switch {
		case t.isOp("(") || t.isOp("["):
			stack = append(stack, i)
		case t.isOp(")") || t.isOp("]"):
			want := "("
			if t.text == "]" {
				want = "["
			}
			if n := len(stack); n > 0 && toks[stack[n-1]].text == want {
				o := stack[n-1]
				stack = stack[:n-1]
				lw.match[i-lo], lw.match[o-lo] = o, i
			}
		case t.is("CASE"):
			cases = append(cases, i)
		case t.is("END"):
			if n := len(cases); n > 0 {
				c := cases[n-1]
				cases = cases[:n-1]
				lw.caseLink[i-lo], lw.caseLink[c-lo] = c, i
			}
		}
	}
	return lw
}

func (lw *lowerer) tok(i int) token {
	if i < lw.lo || i >= lw.hi {
		return token{kind: tkEOF, start: -1, end: -1}
	}
	return lw.toks[i]
}

func (lw *lowerer) matchOf(i int) int {
	if i < lw.lo || i >= lw.hi {
		return -1
	}
	return lw.match[i-lw.lo]
}

func (lw *lowerer) add(start, end int, text string, class editClass) {
	lw.seq++
	lw.edits = append(lw.edits, edit{start: start, end: end, text: text, class: class, seq: lw.seq, orig: start})
}

// replaceAt replaces the script range [a, b) by text that maps back to orig.
func (lw *lowerer) replaceAt(a, b int, text string, orig int) {
	lw.add(a, b, text, edReplace)
	lw.edits[len(lw.edits)-1].orig = orig
}

func (lw *lowerer) replace(a, b int, text string) { lw.add(a, b, text, edReplace) }
func (lw *lowerer) open(at int, text string)      { lw.add(at, at, text, edOpener) }
func (lw *lowerer) close(at int, text string)     { lw.add(at, at, text, edCloser) }

// endsOperand reports whether toks[i] can end an operand, which tells a
// binary operator from a prefix one.
func (lw *lowerer) endsOperand(i int) bool {
	t := lw.tok(i)
	switch t.kind {
	case tkQIdent, tkBIdent, tkString, tkEString, tkDollarString, tkBytes, tkNumber, tkParam, tkPlaceholder:
		return true
	case tkIdent:
		up := strings.ToUpper(t.text)
		return operandWords[up] || !nonFuncWords[up] && !isClauseWord(up)
	case tkOp:
		return t.text == ")" || t.text == "]" || t.text == "?"
	}
	return false
}

func isClauseWord(up string) bool {
	switch up {
	case "ASC", "DESC", "OVER", "FILTER", "INTERVAL", "ROWS", "RANGE", "PRECEDING", "FOLLOWING":
		return true
	}
	return false
}

// primStart returns the index of the first token of the postfix
// expression ending at toks[i], or -1 when toks[i] does not end one.
func (lw *lowerer) primStart(i int) int {
	if i < lw.lo || !lw.endsOperand(i) {
		return -1
	}
	return lw.prim[i-lw.lo]
}

// primEnd returns the index of the last token of the primary (with its
// :: casts and subscripts) that starts at toks[i], or -1.
func (lw *lowerer) primEnd(i int) int {
	t := lw.tok(i)
	end := -1
	switch {
	case t.isOp("-") || t.isOp("+"):
		end = lw.primEnd(i + 1)
	case t.isOp("("):
		end = lw.matchOf(i)
	case t.is("CASE"):
		end = lw.caseLink[i-lw.lo]
	case t.kind == tkIdent && typedLiteralWords[strings.ToUpper(t.text)] && lw.tok(i+1).isString():
		end = i + 1
	case t.is("DATE") || t.is("TIME") || t.is("TIMESTAMP"):
		if lw.tok(i + 1).isString() {
			end = i + 1
		} else {
			end = i
		}
	case t.isIdent():
		end = i
		for lw.tok(end+1).isOp(".") && lw.tok(end+2).isIdent() {
			end += 2
		}
		if lw.tok(end + 1).isOp("(") {
			end = lw.matchOf(end + 1)
			for end >= 0 && (lw.tok(end+1).is("OVER") || lw.tok(end+1).is("FILTER")) && lw.tok(end+2).isOp("(") {
				end = lw.matchOf(end + 2)
			}
		}
	case t.kind == tkString || t.kind == tkEString || t.kind == tkDollarString || t.kind == tkBytes ||
		t.kind == tkNumber || t.kind == tkParam || t.kind == tkPlaceholder:
		end = i
	}
	for end >= 0 {
		switch {
		case lw.tok(end + 1).isOp("::"):
			_, next, ok := parseType(lw.sp.src.Text, lw.toks, end+2, lw.hi)
			if !ok {
				return end
			}
			end = next - 1
		case lw.tok(end + 1).isOp("["):
			m := lw.matchOf(end + 1)
			if m < 0 {
				return end
			}
			end = m
		default:
			return end
		}
	}
	return end
}

// run lowers toks[lo:hi].
func (lw *lowerer) run() {
	for i := lw.lo; i < lw.hi; {
		if j, ok := lw.skip[i]; ok {
			delete(lw.skip, i)
			i = j
			continue
		}
		next := lw.step(i)
		// Record where the postfix expression ending here starts.
		if p, ok := lw.override[next-1]; ok && next-1 >= lw.lo {
			lw.prim[next-1-lw.lo] = p
		}
		i = next
	}
}

// step lowers the construct starting at toks[i] and returns the index of
// the next token to look at.
func (lw *lowerer) step(i int) int {
	t := lw.toks[i]
	lo := lw.lo
	switch t.kind {
	case tkIdent:
		if n := lw.stepWord(i); n > i {
			return n
		}
		if t.is("END") && lw.caseLink[i-lo] >= 0 {
			lw.prim[i-lo] = lw.caseLink[i-lo]
			return i + 1
		}
		// identifier chains a.b.c
		if i-2 >= lo && lw.toks[i-1].isOp(".") && lw.toks[i-2].isIdent() {
			lw.prim[i-lo] = lw.prim[i-2-lo]
		}
		return i + 1
	case tkQIdent, tkBIdent:
		if i-2 >= lo && lw.toks[i-1].isOp(".") && lw.toks[i-2].isIdent() {
			lw.prim[i-lo] = lw.prim[i-2-lo]
		}
		return i + 1
	case tkString, tkEString, tkDollarString:
		lw.lowerString(i)
		return i + 1
	case tkParam:
		lw.replace(t.start, t.end, lw.sp.paramLiteral(t))
		return i + 1
	case tkPlaceholder:
		lw.replace(t.start, t.end, "__etl_param("+t.text[1:]+")")
		return i + 1
	case tkOp:
		return lw.stepOp(i)
	}
	return i + 1
}

func (lw *lowerer) stepOp(i int) int {
	t := lw.toks[i]
	lo := lw.lo
	merged := t.end-t.start != len(t.text)
	switch t.text {
	case ")":
		if m := lw.matchOf(i); m >= 0 {
			lw.prim[i-lo] = m
			b := lw.tok(m - 1)
			switch {
			case (b.is("OVER") || b.is("FILTER")) && lw.tok(m-2).isOp(")") && lw.primStart(m-2) >= 0:
				lw.prim[i-lo] = lw.primStart(m - 2)
			case b.kind == tkIdent && !nonFuncWords[strings.ToUpper(b.text)] && !isClauseWord(strings.ToUpper(b.text)),
				b.kind == tkQIdent, b.kind == tkBIdent:
				lw.prim[i-lo] = lw.prim[m-1-lo]
			}
		}
	case "]":
		if m := lw.matchOf(i); m > lo && lw.primStart(m-1) >= 0 {
			lw.prim[i-lo] = lw.primStart(m - 1)
		}
	case "::":
		return lw.lowerColonCast(i)
	case "~", "!~":
		if lw.endsOperand(i - 1) {
			if t.text == "~" {
				lw.replace(t.start, t.end, " REGEXP ")
			} else {
				lw.replace(t.start, t.end, " NOT REGEXP ")
			}
			return i + 1
		}
	case "~*", "!~*":
		left := lw.primStart(i - 1)
		right := lw.primEnd(i + 1)
		if left >= 0 && right >= 0 {
			fn := "__etl_regexp_i("
			if t.text == "!~*" {
				fn = "NOT __etl_regexp_i("
			}
			lw.open(lw.toks[left].start, fn)
			lw.replace(t.start, t.end, ",")
			lw.close(lw.toks[right].end, ")")
			lw.override[right] = left
			return i + 1
		}
	}
	if merged {
		lw.replace(t.start, t.end, t.text)
	}
	return i + 1
}

// lowerColonCast lowers x::T at the '::' token i.
func (lw *lowerer) lowerColonCast(i int) int {
	t := lw.toks[i]
	left := lw.primStart(i - 1)
	if left < 0 {
		lw.sp.errorf(t.start, t.end, CodeSyntax, "", "syntax error at or near \"::\": no operand before the cast")
		return i + 1
	}
	typ, next, ok := parseType(lw.sp.src.Text, lw.toks, i+1, lw.hi)
	if !ok {
		at := lw.tok(next)
		if next >= lw.hi {
			lw.sp.errorf(t.start, t.end, CodeSyntax, "", "expected a type name after \"::\"")
		} else {
			lw.sp.errorf(at.start, at.end, CodeSyntax, "", "expected a type name after \"::\", found %s", quoteTok(lw.sp.src.Text, at))
		}
		return i + 1
	}
	lw.open(lw.toks[left].start, "__etl_cast(")
	lw.replace(t.start, lw.toks[i+1].start, ", ")
	lw.replace(lw.toks[i+1].start, lw.toks[next-1].end, quoteSQL(typ.String())+")")
	lw.prim[next-1-lw.lo] = left
	return next
}

// stepWord handles the keyword-led constructs; it returns i when toks[i]
// starts none of them.
func (lw *lowerer) stepWord(i int) int {
	t := lw.toks[i]
	up := strings.ToUpper(t.text)
	switch up {
	case "CAST", "TRY_CAST":
		if lw.tok(i + 1).isOp("(") {
			lw.lowerCastCall(i, up)
		}
	case "INTERVAL":
		if n := lw.lowerInterval(i); n > i {
			return n
		}
	case "NULLS":
		if n := lw.tok(i + 1); n.is("FIRST") || n.is("LAST") {
			lw.lowerNulls(i)
			return i + 2
		}
	case "STREAM":
		if p := lw.tok(i - 1); (p.is("FROM") || p.is("JOIN")) && lw.tok(i+1).isIdent() &&
			!(lw.tok(i+1).kind == tkIdent && streamStop[strings.ToUpper(lw.tok(i+1).text)]) {
			lw.replace(t.start, t.end, "")
			name, last := lw.qualifiedName(i + 1)
			lw.streams = append(lw.streams, name)
			return last + 1
		}
	case "COLLATE":
		n := lw.tok(i + 1)
		if n.isIdent() {
			last := i + 1
			qualified := false
			for lw.tok(last+1).isOp(".") && lw.tok(last+2).isIdent() {
				last += 2
				qualified = true
			}
			name := strings.ToUpper(lw.toks[last].text)
			if qualified || n.kind == tkQIdent || name == "DEFAULT" || name == "C" || name == "POSIX" {
				lw.replace(t.start, lw.toks[last].end, "")
				return last + 1
			}
		}
	case "VALUES":
		if lw.tok(i+1).isOp("(") && lw.valuesIsQuery(i) {
			for j := i + 1; lw.tok(j).isOp("("); {
				lw.open(lw.toks[j].start, "ROW")
				m := lw.matchOf(j)
				if m < 0 || !lw.tok(m+1).isOp(",") {
					break
				}
				j = m + 2
			}
		}
	default:
		if typedLiteralWords[up] && lw.tok(i+1).isString() && !lw.endsOperand(i-1) {
			name, _ := canonicalType([]string{up}, nil)
			lw.lowerTypedLiteral(i, i+1, name)
			return i + 2
		}
		if up == "TIMESTAMP" && lw.tok(i+1).is("WITH") && lw.tok(i+2).is("TIME") && lw.tok(i+3).is("ZONE") &&
			lw.tok(i+4).isString() && !lw.endsOperand(i-1) {
			lw.lowerTypedLiteral(i, i+4, "TIMESTAMPTZ")
			return i + 5
		}
		if (up == "DATE" || up == "TIME" || up == "TIMESTAMP") && lw.tok(i+1).isString() {
			lw.lowerString(i + 1)
			lw.prim[i+1-lw.lo] = i
			return i + 2
		}
	}
	return i
}

// lowerTypedLiteral lowers "T 'text'" (type words toks[i:str], the string
// at toks[str]) to __etl_cast('text', 'T'); the type text maps back to the
// type's first word.
func (lw *lowerer) lowerTypedLiteral(i, str int, name string) {
	t, s := lw.toks[i], lw.toks[str]
	lw.replace(t.start, s.start, "__etl_cast(")
	lw.replace(s.start, s.end, quoteSQL(lw.sp.stringValue(s))+", ")
	lw.replaceAt(s.end, s.end, quoteSQL(name)+")", t.start)
	lw.prim[str-lw.lo] = i
}

// valuesIsQuery reports whether VALUES at toks[i] starts a query (rather
// than being, say, the VALUES() function of MySQL upserts).
func (lw *lowerer) valuesIsQuery(i int) bool {
	if i == lw.lo {
		return true
	}
	p := lw.toks[i-1]
	return p.isOp("(") || p.isOp(")") || p.is("UNION") || p.is("INTERSECT") || p.is("EXCEPT") ||
		p.is("ALL") || p.is("DISTINCT") || p.is("AS")
}

// qualifiedName reads name or schema.name at toks[i]; it returns the name
// as an Ident (dotted when qualified) and the index of its last token.
func (lw *lowerer) qualifiedName(i int) (Ident, int) {
	name, quoted := identName(lw.toks[i])
	id := Ident{Name: name, Quoted: quoted, Pos: lw.toks[i].start}
	last := i
	for lw.tok(last+1).isOp(".") && lw.tok(last+2).isIdent() {
		n, q := identName(lw.toks[last+2])
		id.Name += "." + n
		id.Quoted = id.Quoted || q
		last += 2
	}
	return id, last
}

// lowerCastCall lowers CAST(x AS T) / TRY_CAST(x AS T) at toks[i].
func (lw *lowerer) lowerCastCall(i int, word string) {
	open := i + 1
	m := lw.matchOf(open)
	if m < 0 {
		return
	}
	as := -1
	for j := open + 1; j < m; j++ {
		if k := lw.matchOf(j); k > j {
			j = k
			continue
		}
		if lw.toks[j].is("AS") {
			as = j
		}
	}
	if as < 0 {
		return
	}
	typ, next, ok := parseType(lw.sp.src.Text, lw.toks, as+1, m)
	if !ok || next != m {
		at := lw.tok(next)
		lw.sp.errorf(at.start, at.end, CodeSyntax, "", "expected a type name in %s, found %s", word, quoteTok(lw.sp.src.Text, at))
		return
	}
	fn := "__etl_cast("
	if word == "TRY_CAST" {
		fn = "__etl_try_cast("
	}
	lw.replace(lw.toks[i].start, lw.toks[open].end, fn)
	lw.replace(lw.toks[as].start, lw.toks[as+1].start, ", ")
	lw.replace(lw.toks[as+1].start, lw.toks[m-1].end, quoteSQL(typ.String()))
	lw.skip[as] = m
}

// lowerInterval lowers INTERVAL literals at toks[i]; it returns the next
// token index, or i when the form is left alone.
func (lw *lowerer) lowerInterval(i int) int {
	// DATE_ADD(d, INTERVAL n unit) keeps TiDB's own form.
	if p := lw.tok(i - 1); p.isOp(",") {
		depth := 0
		for j := i - 2; j >= lw.lo; j-- {
			if lw.toks[j].isOp(")") {
				depth++
			} else if lw.toks[j].isOp("(") {
				if depth == 0 {
					if f := lw.tok(j - 1); f.kind == tkIdent && dateArithFuncs[strings.ToUpper(f.text)] {
						return i
					}
					break
				}
				depth--
			}
		}
	}
	v := lw.tok(i + 1)
	var text string
	last := i + 1
	switch {
	case v.isString():
		text = lw.sp.stringValue(v)
	case v.kind == tkNumber:
		text = v.text
	case (v.isOp("-") || v.isOp("+")) && lw.tok(i+2).kind == tkNumber:
		text = v.text + lw.tok(i+2).text
		last = i + 2
	case v.kind == tkParam:
		p, ok := lw.sp.resolveParam(v)
		if !ok {
			return i
		}
		text = p.Value
	default:
		return i
	}
	if u := lw.tok(last + 1); u.kind == tkIdent && intervalUnits[strings.ToUpper(u.text)] {
		text += " " + strings.ToLower(u.text)
		last++
	} else if v.kind != tkString && v.kind != tkEString && v.kind != tkDollarString && v.kind != tkParam {
		// INTERVAL 3 without a unit: leave it for TiDB to report.
		return i
	}
	lw.replace(lw.toks[i].start, lw.toks[last].end, "__etl_interval("+quoteSQL(text)+")")
	lw.prim[last-lw.lo] = i
	return last + 1
}

// lowerNulls lowers "e [ASC|DESC] NULLS FIRST|LAST" with NULLS at toks[i].
func (lw *lowerer) lowerNulls(i int) {
	e := i - 1
	if p := lw.tok(e); p.is("ASC") || p.is("DESC") {
		e--
	}
	if e < lw.lo {
		return
	}
	s := e
	for j := e; j >= lw.lo; j-- {
		t := lw.toks[j]
		if t.isOp(")") || t.isOp("]") {
			if m := lw.matchOf(j); m >= 0 {
				s = m
				j = m
				continue
			}
		}
		if t.is("END") && lw.caseLink[j-lw.lo] >= 0 {
			s = lw.caseLink[j-lw.lo]
			j = s
			continue
		}
		if t.isOp(",") || t.isOp("(") || t.isOp("[") || t.is("BY") {
			break
		}
		s = j
	}
	fn := "__etl_nulls_first("
	if lw.toks[i+1].is("LAST") {
		fn = "__etl_nulls_last("
	}
	lw.open(lw.toks[s].start, fn)
	lw.close(lw.toks[e].end, ")")
	lw.replace(lw.toks[i].start, lw.toks[i+1].end, "")
}

// lowerString re-renders a string literal when it is not already a
// standard literal TiDB reads the same way.
func (lw *lowerer) lowerString(i int) {
	t := lw.toks[i]
	if t.kind == tkString && !strings.Contains(t.text, "\\") && !strings.Contains(t.text, "${") {
		return
	}
	lw.replace(t.start, t.end, quoteSQL(lw.sp.stringValue(t)))
}

// quoteSQL renders s as a single-quoted literal for the TiDB lexer (which
// reads backslash escapes).
func quoteSQL(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString("\\\\")
		case 0:
			b.WriteString("\\0")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteTok returns a token's script text quoted for a message, or "end of
// input" for a missing token.
func quoteTok(src string, t token) string {
	if t.kind == tkEOF || t.start < 0 {
		return "end of input"
	}
	s := src[t.start:t.end]
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return strconv.Quote(s)
}

// build assembles the lowered Fragment: prefix, the lowered range, suffix.
// Comments between tokens become blanks.
func (lw *lowerer) build(prefix, suffix string) *Fragment {
	src := lw.sp.src
	fb := &fragBuilder{src: src}
	if lw.lo >= lw.hi {
		fb.insert(prefix+suffix, 0)
		return fb.fragment()
	}
	start, end := lw.toks[lw.lo].start, lw.toks[lw.hi-1].end
	edits := lw.edits
	for _, c := range lw.sp.commentsIn(start, end) {
		lw.seq++
		edits = append(edits, edit{start: c.start, end: c.end, text: " ", class: edReplace, seq: lw.seq})
	}
	sort.SliceStable(edits, func(a, b int) bool {
		x, y := edits[a], edits[b]
		if x.start != y.start {
			return x.start < y.start
		}
		if x.class != y.class {
			return x.class < y.class
		}
		if x.class == edOpener {
			return x.seq > y.seq // later wrappers enclose earlier ones
		}
		return x.seq < y.seq
	})
	fb.insert(prefix, start)
	cur := start
	for _, e := range edits {
		if e.start < cur {
			continue // overlapping edit: cannot happen for well-formed ranges
		}
		fb.copy(cur, e.start)
		fb.insert(e.text, e.orig)
		cur = e.end
	}
	fb.copy(cur, end)
	fb.insert(suffix, end)
	return fb.fragment()
}
