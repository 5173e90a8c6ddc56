package parser

import (
	"fmt"
	"sort"
	"strings"

	tidb "github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// scriptParser holds the state of parsing one script.
type scriptParser struct {
	src      *Source
	toks     []token
	comments []gapComment
	diags    Diagnostics
	tidb     *tidb.Parser
	params   *paramTable
	nerrs    int
	// nsoft counts the errors that leave a statement usable (an undefined
	// parameter stands for NULL or ''), so it is still checked further and
	// the rest of its errors are found in the same run.
	nsoft int
}

// errorf reports an error at the script range [start, end).
func (sp *scriptParser) errorf(start, end int, code, hint, format string, args ...any) {
	sp.diags = append(sp.diags, &Diagnostic{
		Source: sp.src, Span: Span{Start: start, End: end}, Severity: SevError,
		Code: code, Message: fmt.Sprintf(format, args...), Hint: hint,
	})
	sp.nerrs++
}

// commentsIn returns the comments inside the script range [start, end).
func (sp *scriptParser) commentsIn(start, end int) []gapComment {
	i := sort.Search(len(sp.comments), func(i int) bool { return sp.comments[i].start >= start })
	j := i
	for j < len(sp.comments) && sp.comments[j].start < end {
		j++
	}
	return sp.comments[i:j]
}

// Parse parses a script. It always returns a Script holding the statements
// that parsed without error, and the diagnostics for the rest: one bad
// statement does not stop the others. Parse never panics.
func Parse(src *Source, opts Options) (script *Script, diags Diagnostics) {
	script = &Script{Source: src, Params: map[string]Param{}}
	sp := &scriptParser{src: src, params: newParamTable(opts)}
	defer func() {
		if r := recover(); r != nil {
			sp.errorf(0, 0, CodeSyntax, "", "internal error in the parser: %v", r)
			script.Stmts = nil
		}
		sp.diags.Sort()
		diags = sp.diags
	}()
	sp.lexSource()
	sp.tidb = newTiDBParser()
	ranges := splitTokens(sp.toks)

	// First pass: DECLAREs, so that a parameter may be used before the
	// statement that declares it.
	declared := map[int]Stmt{}
	failed := map[int]bool{}
	for k, r := range ranges {
		if !sp.toks[r[0]].is("DECLARE") {
			continue
		}
		before := sp.nerrs
		st := sp.parseStatement(r[0], r[1])
		declared[k] = st
		failed[k] = sp.nerrs > before
		if d, ok := st.(*Declare); ok && !failed[k] {
			if prev := sp.params.decls[d.Name.Name]; prev != nil {
				pos := src.Position(prev.Span.Start)
				sp.errorf(d.Name.Pos, d.Name.Pos+len(d.Name.Name), CodeDuplicateObject,
					fmt.Sprintf("it was declared at line %d", pos.Line), "parameter %s is declared twice", d.Name.Name)
				failed[k] = true
				continue
			}
			sp.params.decls[d.Name.Name] = d
		}
	}
	for k, r := range ranges {
		var st Stmt
		before, softBefore := sp.nerrs, sp.nsoft
		if d, ok := declared[k]; ok {
			st = d
			if failed[k] {
				continue
			}
		} else {
			st = sp.parseStatement(r[0], r[1])
		}
		if st != nil && sp.nerrs-before == sp.nsoft-softBefore {
			script.Stmts = append(script.Stmts, st)
		}
	}
	// Record declared parameters that have a value even if unused.
	for name := range sp.params.decls {
		sp.params.resolve(name)
	}
	for name, p := range sp.params.resolved {
		script.Params[name] = p
	}
	return script, nil
}

// Split returns the extents of the statements of a script: the text
// between semicolons that are outside quotes, comments and dollar quotes,
// without surrounding blanks and comments. Empty statements are skipped.
func Split(text string) []Span {
	toks := lex(text).toks
	var spans []Span
	for _, r := range splitTokens(toks) {
		spans = append(spans, Span{Start: toks[r[0]].start, End: toks[r[1]-1].end})
	}
	return spans
}

// splitTokens returns the [lo, hi) token ranges of the statements.
func splitTokens(toks []token) [][2]int {
	var out [][2]int
	lo := 0
	for i := 0; i <= len(toks); i++ {
		if i == len(toks) || toks[i].isOp(";") {
			if i > lo {
				out = append(out, [2]int{lo, i})
			}
			lo = i + 1
		}
	}
	return out
}

// mergeOperators replaces OPERATOR(schema.op) by one operator token that
// spans the whole construct and whose text is op.
func mergeOperators(toks []token) []token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.is("OPERATOR") && i+2 < len(toks) && toks[i+1].isOp("(") {
			j := i + 2
			for j+1 < len(toks) && toks[j].isIdent() && toks[j+1].isOp(".") {
				j += 2
			}
			if j+1 < len(toks) && toks[j].kind == tkOp && toks[j+1].isOp(")") && toks[j].text != "(" && toks[j].text != ")" {
				out = append(out, token{kind: tkOp, start: t.start, end: toks[j+1].end, text: toks[j].text})
				i = j + 1
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// bailout is panicked by stmtParser.fail and recovered by parseStatement:
// a statement stops at its first syntax error, the script goes on.
type bailout struct{}

// stmtParser parses one statement, sp.toks[lo:hi].
type stmtParser struct {
	sp     *scriptParser
	toks   []token
	lo, hi int
	i      int
}

// parseStatement parses the statement in sp.toks[lo:hi]; it returns nil
// after reporting an error.
func (sp *scriptParser) parseStatement(lo, hi int) (st Stmt) {
	p := &stmtParser{sp: sp, toks: sp.toks, lo: lo, hi: hi, i: lo}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				t := sp.toks[lo]
				sp.errorf(t.start, t.end, CodeSyntax, "", "internal error while parsing this statement: %v", r)
			}
			st = nil
		}
	}()
	for i := lo; i < hi; i++ {
		if sp.toks[i].bad {
			// The lexer has reported it; parsing on would only cascade.
			return nil
		}
	}
	st = p.statement()
	if p.i < p.hi {
		p.fail(p.i, "syntax error at or near %s", p.quote(p.i))
	}
	return st
}

// at returns token i of the statement, or an end-of-statement token.
func (p *stmtParser) at(i int) token {
	if i >= p.lo && i < p.hi {
		return p.toks[i]
	}
	end := p.toks[p.hi-1].end
	return token{kind: tkEOF, start: end, end: end}
}

func (p *stmtParser) peek() token { return p.at(p.i) }

// quote names token i for a message.
func (p *stmtParser) quote(i int) string { return quoteTok(p.sp.src.Text, p.at(i)) }

// span returns the script range of tokens [lo, hi).
func (p *stmtParser) span(lo, hi int) Span {
	if hi <= lo {
		t := p.at(lo)
		return Span{t.start, t.start}
	}
	return Span{Start: p.toks[lo].start, End: p.toks[hi-1].end}
}

// fail reports a syntax error at token i and abandons the statement.
func (p *stmtParser) fail(i int, format string, args ...any) {
	p.failHint(i, "", format, args...)
}

func (p *stmtParser) failHint(i int, hint, format string, args ...any) {
	t := p.at(i)
	p.sp.errorf(t.start, t.end, CodeSyntax, hint, format, args...)
	panic(bailout{})
}

// failCode reports an error with a code other than syntax and abandons the statement.
func (p *stmtParser) failCode(i int, code, format string, args ...any) {
	t := p.at(i)
	p.sp.errorf(t.start, t.end, code, "", format, args...)
	panic(bailout{})
}

// txModes reads the transaction modes after BEGIN or START TRANSACTION:
// ISOLATION LEVEL SERIALIZABLE | REPEATABLE READ | READ COMMITTED | READ
// UNCOMMITTED, READ WRITE, READ ONLY and [NOT] DEFERRABLE, separated by
// commas or not.
func (p *stmtParser) txModes(tx *Transaction) {
	for p.peek().kind != tkEOF {
		switch {
		case p.accept("ISOLATION"):
			p.expect("LEVEL", " after ISOLATION")
			switch {
			case p.accept("SERIALIZABLE"):
				tx.Isolation = "SERIALIZABLE"
			case p.accept("REPEATABLE"):
				p.expect("READ", " after REPEATABLE")
				tx.Isolation = "REPEATABLE READ"
			case p.accept("READ"):
				if p.accept("COMMITTED") {
					tx.Isolation = "READ COMMITTED"
				} else {
					p.expect("UNCOMMITTED", " or COMMITTED after ISOLATION LEVEL READ")
					tx.Isolation = "READ UNCOMMITTED"
				}
			default:
				p.fail(p.i, "expected SERIALIZABLE, REPEATABLE READ, READ COMMITTED or READ UNCOMMITTED, found %s", p.quote(p.i))
			}
		case p.accept("READ"):
			if p.accept("ONLY") {
				tx.ReadOnly = true
			} else {
				p.expect("WRITE", " or ONLY after READ")
				tx.ReadOnly = false
			}
		case p.accept("NOT"):
			p.expect("DEFERRABLE", " after NOT")
		case p.accept("DEFERRABLE"):
		default:
			p.fail(p.i, "expected a transaction mode (ISOLATION LEVEL, READ WRITE, READ ONLY, DEFERRABLE), found %s", p.quote(p.i))
		}
		p.acceptOp(",")
	}
}

// accept consumes the keyword kw if it is next.
func (p *stmtParser) accept(kw string) bool {
	if p.peek().is(kw) {
		p.i++
		return true
	}
	return false
}

// acceptOp consumes the operator op if it is next.
func (p *stmtParser) acceptOp(op string) bool {
	if p.peek().isOp(op) {
		p.i++
		return true
	}
	return false
}

// expect consumes the keyword kw or fails with "expected KW context".
func (p *stmtParser) expect(kw, context string) {
	if !p.accept(kw) {
		p.fail(p.i, "expected %s%s, found %s", kw, context, p.quote(p.i))
	}
}

// expectOp consumes op or fails with "expected 'op' context".
func (p *stmtParser) expectOp(op, context string) {
	if !p.acceptOp(op) {
		p.fail(p.i, "expected '%s'%s, found %s", op, context, p.quote(p.i))
	}
}

// reservedNames cannot be unquoted object or column names: they would hide
// a missing name.
var reservedNames = map[string]bool{
	"WITH": true, "AS": true, "SELECT": true, "FROM": true, "WHERE": true, "ON": true,
	"USING": true, "WHEN": true, "THEN": true, "VALUES": true, "SET": true, "INTO": true,
	"IF": true, "NOT": true, "NULL": true, "AND": true, "OR": true, "DEFAULT": true,
	"PRIMARY": true, "WATERMARK": true, "CONSTRAINT": true, "TABLE": true, "OVERWRITE": true,
}

// ident reads an identifier; what names it in the error.
func (p *stmtParser) ident(what string) Ident {
	t := p.peek()
	if !t.isIdent() || t.kind == tkIdent && reservedNames[strings.ToUpper(t.text)] {
		p.fail(p.i, "expected %s, found %s", what, p.quote(p.i))
	}
	p.i++
	name, quoted := identName(t)
	return Ident{Name: name, Quoted: quoted, Pos: t.start}
}

// objectName reads name or schema.name.
func (p *stmtParser) objectName(what string) ObjectName {
	first := p.ident(what)
	if p.peek().isOp(".") {
		p.i++
		return ObjectName{Schema: first, Name: p.ident(what)}
	}
	return ObjectName{Name: first}
}

// scan returns the index of the first token in [from, hi) at bracket and
// CASE depth 0 for which stop is true, or hi.
func (p *stmtParser) scan(from int, stop func(i int) bool) int {
	depth, cases := 0, 0
	for i := from; i < p.hi; i++ {
		t := p.toks[i]
		if depth == 0 && cases == 0 && stop(i) {
			return i
		}
		switch {
		case t.isOp("(") || t.isOp("["):
			depth++
		case t.isOp(")") || t.isOp("]"):
			if depth == 0 {
				// An unbalanced ')' ends the range; let the caller report it.
				if stop(i) {
					return i
				}
			}
			depth--
		case t.is("CASE"):
			cases++
		case t.is("END"):
			if cases > 0 {
				cases--
			}
		}
	}
	return p.hi
}

// closing returns the index of the ')' that closes the '(' at open, or fails.
func (p *stmtParser) closing(open int, context string) int {
	depth := 0
	for i := open; i < p.hi; i++ {
		switch {
		case p.toks[i].isOp("("):
			depth++
		case p.toks[i].isOp(")"):
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	p.fail(p.hi, "expected ')'%s, found end of input", context)
	return -1
}

// expr parses toks[lo:hi] as one expression.
func (p *stmtParser) expr(lo, hi int) Expr {
	if lo >= hi {
		p.fail(lo, "expected an expression, found %s", p.quote(lo))
	}
	exprs := p.exprList([][2]int{{lo, hi}})
	return exprs[0]
}

// exprList parses each range as an expression; all share one Fragment
// ("SELECT (e1), (e2), ..."). Parenthesising every element keeps an
// expression from swallowing what follows it (an alias, a FROM).
func (p *stmtParser) exprList(ranges [][2]int) []Expr {
	return p.exprListWith(ranges, nil)
}

// exprListWith is exprList with more lowering: edit, when not nil, adds
// its edits to the lowerer after the usual ones.
func (p *stmtParser) exprListWith(ranges [][2]int, edit func(lw *lowerer)) []Expr {
	lo, hi := ranges[0][0], ranges[len(ranges)-1][1]
	lw := p.sp.newLowerer(p.toks, lo, hi)
	before := p.sp.nerrs
	lw.run()
	if p.sp.nerrs > before {
		panic(bailout{}) // the lowering reported the problem
	}
	if edit != nil {
		edit(lw)
	}
	for _, r := range ranges {
		if r[0] >= r[1] {
			p.fail(r[0], "expected an expression, found %s", p.quote(r[0]))
		}
		lw.open(p.toks[r[0]].start, "(")
		lw.close(p.toks[r[1]-1].end, ")")
	}
	frag := lw.build("SELECT ", "")
	node := p.sp.parseFragment(frag, lo, hi, p.toks)
	if node == nil || p.sp.nerrs > before {
		panic(bailout{})
	}
	sel, ok := node.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || len(sel.Fields.Fields) != len(ranges) || sel.From != nil ||
		sel.Where != nil || sel.GroupBy != nil || sel.Having != nil || sel.OrderBy != nil || sel.Limit != nil {
		p.fail(lo, "expected an expression, found %s", p.quote(lo))
	}
	out := make([]Expr, len(ranges))
	for k, f := range sel.Fields.Fields {
		if _, isRow := f.Expr.(*ast.RowExpr); isRow {
			// "(a, b)": a list where one expression belongs.
			saved := p.hi
			p.hi = ranges[k][1]
			comma := p.scan(ranges[k][0], func(i int) bool { return p.toks[i].isOp(",") })
			p.hi = saved
			p.fail(comma, "syntax error at or near %s", p.quote(comma))
		}
		par, ok := f.Expr.(*ast.ParenthesesExpr)
		if !ok || f.AsName.L != "" {
			p.fail(ranges[k][0], "expected an expression, found %s", p.quote(ranges[k][0]))
		}
		out[k] = Expr{Frag: frag, Node: par.Expr}
	}
	return out
}

// query parses toks[lo:hi] as a query (SELECT, set operation, WITH, VALUES).
func (p *stmtParser) query(lo, hi int) *Query {
	if lo >= hi {
		p.fail(lo, "expected a query, found %s", p.quote(lo))
	}
	lw := p.sp.newLowerer(p.toks, lo, hi)
	before := p.sp.nerrs
	lw.run()
	if p.sp.nerrs > before {
		panic(bailout{}) // the lowering reported the problem
	}
	frag := lw.build("", "")
	node := p.sp.parseFragment(frag, lo, hi, p.toks)
	if node == nil || p.sp.nerrs > before {
		panic(bailout{})
	}
	switch node.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
	default:
		p.fail(lo, "expected a query (SELECT, WITH or VALUES), found %s", p.quote(lo))
	}
	return &Query{Span: p.span(lo, hi), Frag: frag, Node: node, Streams: lw.streams}
}

// startsQuery reports whether token i begins a query.
func (p *stmtParser) startsQuery(i int) bool {
	t := p.at(i)
	return t.is("SELECT") || t.is("WITH") || t.is("VALUES") || t.isOp("(") || t.is("TABLE")
}

// statementWords are the words a statement can start with, for "did you
// mean" hints.
var statementWords = []string{
	"ABORT", "ANALYZE", "ASSERT", "BEGIN", "COMMIT", "CREATE", "DECLARE", "DROP", "END", "EXPLAIN",
	"INSERT", "MERGE", "RELEASE", "RESET", "ROLLBACK", "SAVEPOINT", "SELECT", "SET", "SHOW", "START", "STOP",
	"VALIDATE", "VALUES", "WITH",
}

// unsupportedStatements are statements of other SQL dialects with a hint.
var unsupportedStatements = map[string]string{
	"UPDATE":   "use MERGE INTO ... WHEN MATCHED THEN UPDATE",
	"DELETE":   "use MERGE INTO ... WHEN MATCHED THEN DELETE",
	"ALTER":    "drop and create the object again (CREATE OR REPLACE)",
	"TRUNCATE": "use INSERT OVERWRITE",
	"UPSERT":   "use MERGE INTO",
	"REPLACE":  "use MERGE INTO",
	"COPY":     "COPY ... FROM STDIN and TO STDOUT work over the wire (etlc serve); in a script use INSERT INTO ... SELECT",
	"GRANT":    "",
	"REVOKE":   "",
	"USE":      "",
	"DESCRIBE": "use SHOW or query information_schema",
	"DESC":     "use SHOW or query information_schema",
	"CALL":     "",
	"DO":       "",
	"LOCK":     "",
	"VACUUM":   "",
	"PREPARE":  "",
	"EXECUTE":  "",
	"LISTEN":   "",
	"NOTIFY":   "",
}

// statement parses the statement at p.i.
func (p *stmtParser) statement() Stmt {
	t := p.peek()
	start := p.i
	if p.startsQuery(p.i) {
		lo := p.i
		p.i = p.hi
		return &Select{Span: p.span(lo, p.hi), Query: p.query(lo, p.hi)}
	}
	if t.kind != tkIdent {
		p.fail(p.i, "syntax error at or near %s", p.quote(p.i))
	}
	word := strings.ToUpper(t.text)
	switch word {
	case "CREATE":
		return p.create()
	case "DROP":
		return p.drop()
	case "START":
		if p.at(p.i + 1).is("TRANSACTION") {
			p.i += 2
			tx := &Transaction{Word: "BEGIN"}
			p.txModes(tx)
			tx.Span = p.span(start, p.i)
			return tx
		}
		return p.pipelineCmd(PipelineStart)
	case "STOP":
		return p.pipelineCmd(PipelineStop)
	case "SHOW":
		return p.show()
	case "SET":
		return p.set()
	case "RESET":
		return p.reset()
	case "INSERT":
		return p.insert(p.hi)
	case "VALIDATE":
		return p.validate()
	case "ASSERT":
		return p.assert()
	case "MERGE":
		return p.merge()
	case "DECLARE":
		return p.declare()
	case "EXPLAIN":
		return p.explain()
	case "ANALYZE":
		p.i++
		p.accept("TABLE")
		name := p.objectName("a source or table name after ANALYZE")
		return &Analyze{Span: p.span(start, p.i), Name: name}
	case "BEGIN", "COMMIT", "ROLLBACK", "END", "ABORT":
		p.i++
		if !p.accept("WORK") {
			p.accept("TRANSACTION")
		}
		w := word
		switch word {
		case "END":
			w = "COMMIT"
		case "ABORT":
			w = "ROLLBACK"
		}
		tx := &Transaction{Word: w}
		if w == "BEGIN" {
			p.txModes(tx)
		}
		if w == "ROLLBACK" && p.accept("TO") {
			p.accept("SAVEPOINT")
			tx.Word = "ROLLBACK TO"
			tx.Savepoint = p.ident("a savepoint name")
		}
		tx.Span = p.span(start, p.i)
		return tx
	case "SAVEPOINT", "RELEASE":
		p.i++
		if word == "RELEASE" {
			p.accept("SAVEPOINT")
		}
		tx := &Transaction{Word: word, Savepoint: p.ident("a savepoint name")}
		tx.Span = p.span(start, p.i)
		return tx
	}
	if hint, ok := unsupportedStatements[word]; ok {
		p.sp.errorf(t.start, t.end, CodeFeature, hint, "%s statements are not supported", word)
		panic(bailout{})
	}
	hint := ""
	if c := ClosestName(word, statementWords); c != "" {
		hint = "did you mean " + c + "?"
	}
	p.failHint(p.i, hint, "unknown statement %s", p.quote(p.i))
	return nil
}

// lexSource lexes the text of sp.src into sp's tokens (operators merged)
// and comments, and reports the lexer's diagnostics.
func (sp *scriptParser) lexSource() {
	lx := lex(sp.src.Text)
	sp.toks = mergeOperators(lx.toks)
	sp.comments = lx.comments
	for _, e := range lx.diags {
		sp.errorf(e.start, e.end, CodeSyntax, "", "%s", e.msg)
	}
}

// ParseExpr parses the whole text of src as one expression, with the same
// lowering and parameter substitution as Parse. It returns nil and the
// diagnostics when the text is not a single valid expression.
func ParseExpr(src *Source, opts Options) (expr *Expr, diags Diagnostics) {
	sp := &scriptParser{src: src, params: newParamTable(opts)}
	defer func() {
		if r := recover(); r != nil {
			expr = nil
			if _, ok := r.(bailout); !ok {
				sp.errorf(0, 0, CodeSyntax, "", "internal error in the parser: %v", r)
			}
		}
		sp.diags.Sort()
		diags = sp.diags
	}()
	sp.lexSource()
	if len(sp.toks) == 0 {
		sp.errorf(0, 0, CodeSyntax, "", "expected an expression, found end of input")
		return nil, nil
	}
	sp.tidb = newTiDBParser()
	p := &stmtParser{sp: sp, toks: sp.toks, lo: 0, hi: len(sp.toks)}
	e := p.expr(0, len(sp.toks))
	if sp.nerrs > 0 {
		return nil, nil
	}
	return &e, nil
}
