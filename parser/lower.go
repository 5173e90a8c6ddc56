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
//	a ~ b, a !~ b             ((a) REGEXP (b)), ((a) NOT REGEXP (b))
//	a ~* b, a !~* b           __etl_regexp_i(a, b), NOT __etl_regexp_i(a, b)
//	                          (operands found with PostgreSQL's precedence)
//	a IS DISTINCT FROM b      (NOT ((a) <=> (b)))
//	a IS NOT DISTINCT FROM b  ((a) <=> (b))
//	x = ANY (ARRAY[..])       x IN (..)     (and <> ALL (ARRAY[..]): NOT IN)
//	ARRAY[a, b]               __etl_array(a, b)
//	a[i], (expr)[i]           __etl_array_elem(a, i)
//	(expr).f                  __etl_field(expr, 'f')
//	ARRAY(SELECT x FROM ..)   (SELECT coalesce(array_agg(__etl_e), __etl_array()) FROM (SELECT x AS __etl_e FROM ..) AS __etl_arr)
//	x = ANY (expr)            __etl_any_eq(x, (expr))   (expr not ARRAY[..] nor a query)
//	FROM unnest(e) [WITH ORDINALITY] a(x, n)
//	                          FROM (SELECT unnest(e) AS x, __etl_ordinality() AS n) AS a
//	                          (also generate_subscripts, pg_catalog.unnest)
//	OPERATOR(pg_catalog.op)   op
//	EXTRACT(epoch FROM x)     __etl_extract('epoch', x) for the fields MySQL lacks
//	                          (EPOCH, DOW, DOY, ISODOW, ISOYEAR, CENTURY, ...)
//	LIMIT ALL                 removed
//	OFFSET n [ROWS]           LIMIT 18446744073709551615 OFFSET n when no LIMIT
//	SESSION(ts, gap)          "session"(ts, gap)  (SESSION is a TiDB keyword)
//	STDDEV(x), VARIANCE(x)    stddev_samp(x), var_samp(x) (PostgreSQL's meaning)
//	FULL [OUTER] JOIN         STRAIGHT_JOIN (TiDB has no FULL JOIN; the
//	                          planner reads a straight join as FULL OUTER)
//	DATE_ADD(d, INTERVAL n u) unchanged (TiDB's own form)
//	COLLATE pg_catalog.default, COLLATE "C"   removed
//	VALUES (..), (..)         VALUES ROW(..), ROW(..)   (where a query is expected)
//	${p}                      '<value>' or __etl_cast('<value>', 'T') for DECLARE p T
//	comments                  a blank
//	Foo (unquoted)            foo: identifiers fold to lower case (ASCII
//	                          letters, as PostgreSQL does), so TiDB's
//	                          CIStr.O is the name with PostgreSQL semantics;
//	                          "Foo" and `Foo` keep their case
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

// tidbReservedLabels are words TiDB's grammar reserves that clients use as
// column labels after AS (PostgreSQL takes any word there).
var tidbReservedLabels = map[string]bool{
	"SCHEMA": true, "SCHEMAS": true, "GENERATED": true, "DEFAULT": true, "INT1": true, "INT2": true,
	"INT3": true, "INT4": true, "INT8": true, "FLOAT4": true, "FLOAT8": true, "KEY": true, "KEYS": true,
	"INDEX": true, "TABLE": true, "COLUMN": true, "CHECK": true, "DATABASE": true, "RANGE": true,
	"RANK": true, "ROW_NUMBER": true, "DENSE_RANK": true, "CONDITION": true, "PRIMARY": true,
	"REFERENCES": true, "USAGE": true, "VIRTUAL": true, "STORED": true, "READ": true, "WRITE": true,
	"PRECISION": true, "REAL": true, "NUMERIC": true, "DECIMAL": true, "DOUBLE": true, "CHAR": true,
	"VARCHAR": true, "BINARY": true, "OPTION": true, "RELEASE": true, "REQUIRE": true, "SQL": true,
	"OF": true, "TO": true, "TRIGGER": true, "CONSTRAINT": true, "FOREIGN": true, "ACCESSIBLE": true,
	"CURRENT_USER": true, "CURRENT_ROLE": true, "MATCH": true, "ROWS": true, "GROUPS": true,
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

// PostgreSQL's binary operator precedence levels, loosest first.
const (
	precAnd   = iota // AND OR XOR
	precNot          // NOT
	precIs           // IS, ISNULL, NOTNULL
	precCmp          // = < > <= >= <> !=
	precLike         // BETWEEN IN LIKE ILIKE SIMILAR REGEXP
	precOther        // || ~ ~* and the other operators
	precAdd          // + -
	precMul          // * / %
	precExp          // ^
)

// opLevel returns the precedence of toks[i] as a binary operator.
func opLevel(t token) (int, bool) {
	switch t.kind {
	case tkOp:
		switch t.text {
		case "*", "/", "%":
			return precMul, true
		case "+", "-":
			return precAdd, true
		case "^":
			return precExp, true
		case "=", "<", ">", "<=", ">=", "<>", "!=", "<=>":
			return precCmp, true
		case "||", "~", "!~", "~*", "!~*", "&", "|", "<<", ">>", "->", "->>", "&&", "@", "@>", "<@":
			return precOther, true
		}
	case tkIdent:
		switch strings.ToUpper(t.text) {
		case "AND", "OR", "XOR":
			return precAnd, true
		case "NOT":
			return precNot, true
		case "IS", "ISNULL", "NOTNULL":
			return precIs, true
		case "BETWEEN", "IN", "LIKE", "ILIKE", "SIMILAR", "REGEXP", "RLIKE", "ESCAPE":
			return precLike, true
		case "DIV", "MOD":
			return precMul, true
		}
	}
	return 0, false
}

// isOperandWord reports whether toks[i], a word, belongs to an operand
// (a name, a literal keyword) rather than ending the expression.
func isOperandWord(t token) bool {
	if t.kind != tkIdent {
		return t.isIdent()
	}
	up := strings.ToUpper(t.text)
	switch up {
	case "NULL", "TRUE", "FALSE", "INTERVAL", "DATE", "TIME", "TIMESTAMP", "OVER", "FILTER":
		return true
	}
	if typedLiteralWords[up] {
		return true
	}
	return !nonFuncWords[up] && !isClauseWord(up)
}

// isOperandToken reports whether t is a literal or name.
func isOperandToken(t token) bool {
	switch t.kind {
	case tkString, tkEString, tkDollarString, tkBytes, tkNumber, tkParam, tkPlaceholder, tkQIdent, tkBIdent:
		return true
	case tkIdent:
		return isOperandWord(t)
	case tkOp:
		return t.text == "?"
	}
	return false
}

// leftExtent returns the index of the first token of the left operand of
// the binary operator at toks[op] with precedence level, or -1.
func (lw *lowerer) leftExtent(op, level int) int {
	start := -1
	for j := op - 1; j >= lw.lo; j-- {
		t := lw.toks[j]
		switch {
		case t.isOp(")") || t.isOp("]"):
			m := lw.matchOf(j)
			if m < 0 {
				return start
			}
			start, j = m, m
			continue
		case t.is("END") && lw.caseLink[j-lw.lo] >= 0:
			start = lw.caseLink[j-lw.lo]
			j = start
			continue
		case t.isOp(".") || t.isOp("::"):
			continue
		}
		if l, ok := opLevel(t); ok {
			if l < level {
				return start
			}
			continue
		}
		if !isOperandToken(t) {
			return start
		}
		start = j
	}
	return start
}

// rightExtent returns the index of the last token of the right operand of
// the binary operator at toks[op] with precedence level, or -1.
func (lw *lowerer) rightExtent(op, level int) int {
	end := -1
	want := true // an operand is expected next
	for j := op + 1; j < lw.hi; j++ {
		t := lw.toks[j]
		if want {
			switch {
			case t.isOp("-") || t.isOp("+") || t.isOp("~") || t.is("NOT") && level < precNot:
				continue // prefix operators
			case t.isOp("("):
				m := lw.matchOf(j)
				if m < 0 {
					return end
				}
				end, j = m, m
			case t.is("CASE"):
				m := lw.caseLink[j-lw.lo]
				if m < 0 {
					return end
				}
				end, j = m, m
			case t.is("INTERVAL"):
				end = j
				for k := j + 1; k < lw.hi && k <= j+3; k++ {
					n := lw.toks[k]
					if n.isString() || n.kind == tkNumber || n.kind == tkParam || n.isOp("-") ||
						n.kind == tkIdent && intervalUnits[strings.ToUpper(n.text)] {
						end = k
						continue
					}
					break
				}
				j = end
			case isOperandToken(t):
				end = j
				if t.kind == tkIdent && lw.tok(j+1).isString() {
					end = j + 1 // DATE '...', TIMESTAMPTZ '...'
					j++
				}
			default:
				return end
			}
			want = false
			continue
		}
		switch {
		case t.isOp("(") || t.isOp("["):
			m := lw.matchOf(j)
			if m < 0 {
				return end
			}
			end, j = m, m
			continue
		case t.isOp("."):
			want = true
			continue
		case t.isOp("::"):
			_, next, ok := parseType(lw.sp.src.Text, lw.toks, j+1, lw.hi)
			if !ok {
				return end
			}
			end, j = next-1, next-1
			continue
		case t.is("OVER") || t.is("FILTER"):
			end = j
			continue
		}
		if l, ok := opLevel(t); ok && l > level {
			want = true
			continue
		}
		return end
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
	case "[":
		// a[i], (expr)[i]: an element of an array, __etl_array_elem(a, i).
		// The subscript may be any expression; a slice a[i:j] is left
		// alone, and so is an empty [] (a type's).
		if m := lw.matchOf(i); m > i+1 && lw.endsOperand(i-1) && !lw.hasSliceColon(i, m) {
			if left := lw.primStart(i - 1); left >= 0 {
				lw.open(lw.toks[left].start, "__etl_array_elem(")
				lw.replace(t.start, t.end, ", ")
				lw.replace(lw.toks[m].start, lw.toks[m].end, ")")
				lw.override[m] = left
				return i + 1
			}
		}
	case ".":
		// (expr).field: a field of a record, __etl_field(expr, 'field').
		if lw.tok(i-1).isOp(")") && lw.tok(i+1).kind == tkIdent {
			if m := lw.matchOf(i - 1); m >= lo && !lw.endsOperand(m-1) {
				if left := lw.primStart(i - 1); left >= 0 {
					f := lw.toks[i+1]
					lw.open(lw.toks[left].start, "__etl_field(")
					lw.replace(t.start, f.end, ", "+quoteSQL(strings.ToLower(f.text))+")")
					lw.override[i+1] = left
					return i + 2
				}
			}
		}
	case "]":
		if m := lw.matchOf(i); m > lo && lw.primStart(m-1) >= 0 {
			lw.prim[i-lo] = lw.primStart(m - 1)
		}
	case "::":
		return lw.lowerColonCast(i)
	case "~", "!~", "~*", "!~*":
		if !lw.endsOperand(i - 1) {
			break // prefix ~ is bitwise NOT
		}
		left, right := lw.leftExtent(i, precOther), lw.rightExtent(i, precOther)
		if left < 0 || right < 0 {
			break // leave it for TiDB to report
		}
		switch t.text {
		case "~", "!~":
			op := ") REGEXP ("
			if t.text == "!~" {
				op = ") NOT REGEXP ("
			}
			lw.open(lw.toks[left].start, "((")
			lw.replace(t.start, t.end, op)
			lw.close(lw.toks[right].end, "))")
		default:
			fn := "__etl_regexp_i("
			if t.text == "!~*" {
				fn = "NOT __etl_regexp_i("
			}
			lw.open(lw.toks[left].start, fn)
			lw.replace(t.start, t.end, ",")
			lw.close(lw.toks[right].end, ")")
		}
		lw.override[right] = left
		return i + 1
	case "=", "<>", "!=":
		if n := lw.lowerAnyArray(i); n > i {
			return n
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
	case "IS":
		if n := lw.lowerDistinct(i); n > i {
			return n
		}
	case "ARRAY":
		if n := lw.lowerArraySubquery(i); n > i {
			return n
		}
		if lw.tok(i + 1).isOp("[") {
			// ARRAY[a, b]: __etl_array(a, b).
			if m := lw.matchOf(i + 1); m > i {
				lw.replace(t.start, lw.toks[i+1].end, "__etl_array(")
				lw.replace(lw.toks[m].start, lw.toks[m].end, ")")
				lw.override[m] = i
				return i + 2
			}
		}
	case "UNNEST", "GENERATE_SUBSCRIPTS", "PG_CATALOG":
		if n := lw.lowerFromFunc(i); n > i {
			return n
		}
	case "AS":
		// A column label PostgreSQL accepts and TiDB reserves (AS schema,
		// AS generated, AS int4): quoted, which names it the same.
		n, after := lw.tok(i+1), lw.tok(i+2)
		if n.kind == tkIdent && tidbReservedLabels[strings.ToUpper(n.text)] &&
			(i+2 >= len(lw.toks) || after.isOp(",") || after.isOp(";") || after.is("FROM")) {
			lw.replace(n.start, n.end, `"`+strings.ToLower(n.text)+`"`)
			return i + 2
		}
	case "LIMIT":
		if lw.tok(i + 1).is("ALL") {
			lw.replace(t.start, lw.toks[i+1].end, "")
			return i + 2
		}
	case "OFFSET":
		n := lw.tok(i + 1)
		if !lw.endsOperand(i-1) || !(n.kind == tkNumber || n.kind == tkParam || n.kind == tkPlaceholder || n.isOp("?")) {
			break // a column named offset
		}
		if !lw.hasLimit(i) {
			lw.open(t.start, "LIMIT 18446744073709551615 ")
		}
		if n := lw.tok(i + 2); lw.tok(i+1).kind == tkNumber && (n.is("ROW") || n.is("ROWS")) {
			lw.replace(n.start, n.end, "")
			return i + 3
		}
	case "EXTRACT":
		f := lw.tok(i + 2)
		if lw.tok(i+1).isOp("(") && f.kind == tkIdent && pgExtractFields[strings.ToUpper(f.text)] && lw.tok(i+3).is("FROM") {
			lw.replace(t.start, lw.toks[i+3].end, "__etl_extract("+quoteSQL(strings.ToLower(f.text))+",")
			return i + 4
		}
	case "STDDEV", "VARIANCE":
		// PostgreSQL's and Spark's STDDEV and VARIANCE are the sample
		// versions; MySQL's (and so TiDB's) the population ones.
		if lw.tok(i + 1).isOp("(") {
			lw.replace(t.start, t.end, map[string]string{"STDDEV": "stddev_samp", "VARIANCE": "var_samp"}[up])
		}
	case "FULL":
		// TiDB has no FULL JOIN (it would read "a FULL JOIN b" as "a AS full
		// JOIN b"); STRAIGHT_JOIN, which etlc does not otherwise accept, marks it.
		j := i + 1
		if lw.tok(j).is("OUTER") {
			j++
		}
		if lw.tok(j).is("JOIN") {
			lw.replace(t.start, lw.toks[j].end, "STRAIGHT_JOIN")
			return j + 1
		}
	case "STRAIGHT_JOIN":
		lw.sp.errorf(t.start, t.end, CodeFeature, "write JOIN: etlc chooses the join order itself",
			"STRAIGHT_JOIN is not supported")
		return i + 1
	case "SESSION", "CARDINALITY":
		// TiDB keywords: the session window function and PostgreSQL's
		// cardinality(array) are quoted.
		if lw.tok(i + 1).isOp("(") {
			lw.replace(t.start, t.end, `"`+strings.ToLower(t.text)+`"`)
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

// pgExtractFields are EXTRACT fields of PostgreSQL that MySQL's grammar
// lacks; EXTRACT(f FROM x) with one of them becomes __etl_extract('f', x).
var pgExtractFields = map[string]bool{
	"EPOCH": true, "DOW": true, "ISODOW": true, "DOY": true, "ISOYEAR": true,
	"CENTURY": true, "DECADE": true, "MILLENNIUM": true, "JULIAN": true,
	"MILLISECONDS": true, "MICROSECONDS": true, "TIMEZONE": true,
	"TIMEZONE_HOUR": true, "TIMEZONE_MINUTE": true,
}

// lowerDistinct lowers a IS [NOT] DISTINCT FROM b at toks[i] (IS) to
// (NOT ((a) <=> (b))) or ((a) <=> (b)); it returns i when the form is not there.
func (lw *lowerer) lowerDistinct(i int) int {
	j := i + 1
	not := lw.tok(j).is("NOT")
	if not {
		j++
	}
	if !lw.tok(j).is("DISTINCT") || !lw.tok(j+1).is("FROM") {
		return i
	}
	from := j + 1
	left, right := lw.leftExtent(i, precIs), lw.rightExtent(from, precIs)
	if left < 0 || right < 0 {
		return i
	}
	open, close := "(NOT ((", ")))"
	if not {
		open, close = "((", "))"
	}
	lw.open(lw.toks[left].start, open)
	lw.replace(lw.toks[i].start, lw.toks[from].end, ") <=> (")
	lw.close(lw.toks[right].end, close)
	lw.override[right] = left
	return from + 1
}

// lowerArraySubquery lowers ARRAY(SELECT item FROM ...) at the ARRAY
// token i to a scalar subquery that aggregates the items into an array.
// Only a subquery of one column without DISTINCT is lowered.
func (lw *lowerer) lowerArraySubquery(i int) int {
	if !lw.tok(i+1).isOp("(") || !lw.tok(i+2).is("SELECT") || lw.tok(i+3).is("DISTINCT") {
		return i
	}
	closeP := lw.matchOf(i + 1)
	if closeP < 0 {
		return i
	}
	end := -1
	for j := i + 3; j < closeP; j++ {
		t := lw.toks[j]
		if t.isOp("(") || t.isOp("[") {
			if m := lw.matchOf(j); m > j {
				j = m
				continue
			}
			return i
		}
		if t.isOp(",") {
			return i
		}
		if t.is("FROM") {
			end = j
			break
		}
	}
	if end <= i+3 {
		return i
	}
	// ARRAY(SELECT x FROM ...) is (SELECT coalesce(array_agg(__etl_e),
	// __etl_array()) FROM (SELECT x AS __etl_e FROM ...) AS __etl_arr):
	// the subquery keeps its ORDER BY and LIMIT, and no rows give {}.
	lw.replace(lw.toks[i].start, lw.toks[i].end, "(SELECT coalesce(array_agg(__etl_e), __etl_array()) FROM ")
	if lw.tok(end-2).is("AS") && end-2 > i+3 {
		lw.replace(lw.toks[end-2].start, lw.toks[end-1].end, "AS __etl_e")
		lw.skip[end-2] = end
	} else {
		lw.close(lw.toks[end-1].end, " AS __etl_e")
	}
	lw.close(lw.toks[closeP].end, " AS __etl_arr)")
	return i + 1
}

// hasSliceColon reports whether the brackets toks[i]..toks[m] hold a
// slice's colon at their own level.
func (lw *lowerer) hasSliceColon(i, m int) bool {
	for j := i + 1; j < m; j++ {
		if t := lw.toks[j]; t.isOp("(") || t.isOp("[") {
			if k := lw.matchOf(j); k > j {
				j = k
			}
			continue
		}
		if lw.toks[j].isOp(":") {
			return true
		}
	}
	return false
}

// lowerFromFunc lowers a set-returning function in FROM at toks[i]:
//
//	unnest(e) [WITH ORDINALITY] [AS] a [(x [, n])]
//
// becomes the subquery (SELECT unnest(e) AS x [, __etl_ordinality() AS n])
// AS a, whose select list the binder evaluates with a ProjectSet. The
// column is named after the alias, as PostgreSQL names the column of a
// function returning a scalar; ordinality's is "ordinality". It returns i
// when toks[i] starts no such item.
func (lw *lowerer) lowerFromFunc(i int) int {
	fn := i
	if lw.toks[i].is("PG_CATALOG") {
		if !lw.tok(i+1).isOp(".") || !(lw.tok(i+2).is("UNNEST") || lw.tok(i+2).is("GENERATE_SUBSCRIPTS")) {
			return i
		}
		fn = i + 2
	}
	open := fn + 1
	if !lw.tok(open).isOp("(") || !lw.inFromList(i) {
		return i
	}
	closeP := lw.matchOf(open)
	if closeP < 0 {
		return i
	}
	j := closeP + 1
	ord := false
	if lw.tok(j).is("WITH") && lw.tok(j+1).is("ORDINALITY") {
		ord = true
		j += 2
	}
	if lw.tok(j).is("AS") {
		j++
	}
	name := strings.ToLower(lw.toks[fn].text)
	alias, col, ordCol := name, name, "ordinality"
	last := closeP
	if a := lw.tok(j); a.isIdent() && !(a.kind == tkIdent && (isClauseWord(strings.ToUpper(a.text)) || nonFuncWords[strings.ToUpper(a.text)])) {
		alias, _ = identName(a)
		col = alias
		last = j
		if lw.tok(j + 1).isOp("(") {
			if m := lw.matchOf(j + 1); m > j+1 {
				var cols []string
				for k := j + 2; k < m; k++ {
					if lw.toks[k].isIdent() {
						c, _ := identName(lw.toks[k])
						cols = append(cols, c)
					}
				}
				if len(cols) > 0 {
					col = cols[0]
				}
				if len(cols) > 1 {
					ordCol = cols[1]
				}
				last = m
			}
		}
	}
	lw.replace(lw.toks[i].start, lw.toks[fn].end, "(SELECT "+name)
	tail := ") AS " + quoteIdentSQL(col)
	if ord {
		tail += ", __etl_ordinality() AS " + quoteIdentSQL(ordCol)
	}
	tail += ") AS " + quoteIdentSQL(alias)
	lw.close(lw.toks[closeP].end, tail[1:])
	if last > closeP {
		lw.replace(lw.toks[closeP+1].start, lw.toks[last].end, "")
		lw.skip[closeP+1] = last + 1
	}
	return open
}

// quoteIdentSQL double-quotes a name for the lowered text.
func quoteIdentSQL(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// inFromList reports whether toks[i] starts an item of a FROM list: it
// follows FROM, JOIN or a comma of a FROM clause.
func (lw *lowerer) inFromList(i int) bool {
	p := lw.tok(i - 1)
	if p.is("FROM") || p.is("JOIN") {
		return true
	}
	if !p.isOp(",") {
		return false
	}
	for j := i - 2; j >= lw.lo; j-- {
		t := lw.toks[j]
		switch {
		case t.isOp(")") || t.isOp("]"):
			if m := lw.matchOf(j); m >= 0 && m < j {
				j = m
				continue
			}
			return false
		case t.isOp("("):
			return false
		case t.is("FROM"):
			return true
		case t.is("SELECT") || t.is("WHERE") || t.is("ON") || t.is("SET") || t.is("VALUES") || t.is("BY"):
			return false
		}
	}
	return false
}

// lowerAnyArray lowers "= ANY (ARRAY[..])" to "IN (..)" and "<> ALL
// (ARRAY[..])" to "NOT IN (..)" at the comparison toks[i]; it returns i
// when the form is not there.
func (lw *lowerer) lowerAnyArray(i int) int {
	op, q := lw.toks[i], lw.tok(i+1)
	in := ""
	switch {
	case op.text == "=" && (q.is("ANY") || q.is("SOME")):
		in = " IN ("
	case op.text != "=" && q.is("ALL"):
		in = " NOT IN ("
	default:
		return i
	}
	if op.text == "=" && lw.tok(i+2).isOp("(") && !lw.tok(i+3).is("ARRAY") && !lw.tok(i+3).is("SELECT") &&
		!lw.tok(i+3).is("WITH") && !lw.tok(i+3).is("VALUES") && !lw.tok(i+3).isOp("(") {
		// x = ANY (array expression): __etl_any_eq(x, (array expression)).
		closeP := lw.matchOf(i + 2)
		left := lw.leftExtent(i, precCmp)
		if closeP < 0 || closeP == i+3 || left < 0 {
			return i
		}
		lw.open(lw.toks[left].start, "__etl_any_eq(")
		lw.replace(op.start, q.end, ",")
		lw.close(lw.toks[closeP].end, ")")
		lw.override[closeP] = left
		return i + 2
	}
	if !lw.tok(i+2).isOp("(") || !lw.tok(i+3).is("ARRAY") || !lw.tok(i+4).isOp("[") {
		return i
	}
	closeB := lw.matchOf(i + 4)
	if closeB < 0 || closeB == i+5 || lw.matchOf(i+2) != closeB+1 {
		return i
	}
	lw.replace(op.start, lw.toks[i+4].end, in)
	lw.replace(lw.toks[closeB].start, lw.toks[closeB+1].end, ")")
	return i + 5
}

// hasLimit reports whether a LIMIT precedes the OFFSET at toks[i] in the
// same query level.
func (lw *lowerer) hasLimit(i int) bool {
	for j := i - 1; j >= lw.lo; j-- {
		t := lw.toks[j]
		switch {
		case t.isOp(")"):
			if m := lw.matchOf(j); m >= 0 {
				j = m
				continue
			}
		case t.isOp("("):
			return false
		case t.is("LIMIT"):
			return !lw.tok(j + 1).is("ALL")
		}
	}
	return false
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

// copyFolded copies the script range [a, b) with the unquoted identifiers
// in it folded to lower case, so that TiDB's names (CIStr.O) carry
// PostgreSQL's identifier semantics: "Foo" stays Foo, Foo becomes foo.
func (lw *lowerer) copyFolded(fb *fragBuilder, a, b int) {
	if b <= a {
		return
	}
	text := lw.sp.src.Text[a:b]
	i := sort.Search(lw.hi-lw.lo, func(k int) bool { return lw.toks[lw.lo+k].end > a }) + lw.lo
	var folded []byte
	for ; i < lw.hi && lw.toks[i].start < b; i++ {
		t := lw.toks[i]
		if t.kind != tkIdent || t.end-t.start != len(t.text) {
			continue
		}
		for k := max(t.start, a); k < min(t.end, b); k++ {
			if c := text[k-a]; c >= 'A' && c <= 'Z' {
				if folded == nil {
					folded = []byte(text)
				}
				folded[k-a] = c + 'a' - 'A'
			}
		}
	}
	if folded != nil {
		text = string(folded)
	}
	fb.copyText(a, b, text)
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
		edits = append(edits, edit{start: c.start, end: c.end, text: " ", class: edReplace, seq: lw.seq, orig: c.start})
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
		lw.copyFolded(fb, cur, e.start)
		fb.insert(e.text, e.orig)
		cur = e.end
	}
	lw.copyFolded(fb, cur, end)
	fb.insert(suffix, end)
	return fb.fragment()
}
