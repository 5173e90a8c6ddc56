package parser

import (
	"regexp"
	"strconv"
	"strings"

	tidb "github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"

	// The literal value driver the TiDB parser needs to build ValueExpr nodes.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// sqlMode is the TiDB SQL mode queries are parsed with: "x" is an
// identifier and || concatenates, as in PostgreSQL.
const sqlMode = mysql.ModeANSIQuotes | mysql.ModePipesAsConcat

// newTiDBParser returns a TiDB parser configured for etlc.
func newTiDBParser() *tidb.Parser {
	p := tidb.New()
	p.SetSQLMode(sqlMode)
	return p
}

// tidbMessage matches the position part of a TiDB syntax error.
var tidbMessage = regexp.MustCompile(`line (\d+) column (\d+) near "`)

// nearLimit is how much of the remaining text TiDB quotes in an error.
const nearLimit = 2048

// parseFragment parses frag, lowered from toks[lo:hi] (the tokens of the
// enclosing statement), with the TiDB grammar. It returns the single
// statement, or reports a diagnostic and returns nil. A panic inside the
// TiDB parser becomes a diagnostic.
func (sp *scriptParser) parseFragment(frag *Fragment, lo, hi int, toks []token) (node ast.StmtNode) {
	defer func() {
		if r := recover(); r != nil {
			at := frag.Orig(0)
			sp.errorf(at, at, CodeSyntax, "", "internal error in the SQL parser: %v", r)
			node = nil
		}
	}()
	stmts, _, err := sp.tidb.ParseSQL(frag.Text)
	if err != nil {
		sp.tidbError(frag, err, lo, hi, toks)
		return nil
	}
	if len(stmts) != 1 {
		at := frag.Orig(0)
		sp.errorf(at, at, CodeSyntax, "", "expected one statement, found %d", len(stmts))
		return nil
	}
	return stmts[0]
}

// tidbError converts a TiDB error on frag into a diagnostic positioned in
// the script. TiDB reports `line L column C near "rest of text"`; the near
// text is the reliable anchor: it is the fragment from the offending token
// to the end (cut at nearLimit bytes).
func (sp *scriptParser) tidbError(frag *Fragment, err error, lo, hi int, toks []token) {
	msg := err.Error()
	loc := tidbMessage.FindStringSubmatchIndex(msg)
	if loc == nil {
		at := frag.Orig(0)
		sp.errorf(at, at, CodeSyntax, "", "%s", cleanTiDBMessage(msg))
		return
	}
	line, _ := strconv.Atoi(msg[loc[2]:loc[3]])
	col, _ := strconv.Atoi(msg[loc[4]:loc[5]])
	rest := msg[loc[1]:]
	text := frag.Text
	// The reader position (after the offending token) bounds the anchor.
	bound := len(text)
	if r := lineColOffset(text, line, col); r >= 0 && r+1 < bound {
		bound = r + 1
	}
	k := -1
	for c := bound; c >= 0; c-- {
		e := min(len(text), c+nearLimit)
		if strings.HasPrefix(rest, text[c:e]+`"`) {
			k = c
			break
		}
	}
	extra := ""
	if k < 0 {
		k = bound
	} else {
		e := min(len(text), k+nearLimit)
		extra = strings.TrimSpace(rest[e-k+1:])
		if i := strings.Index(extra, "(total length"); i >= 0 {
			extra = strings.TrimSpace(extra[:i])
		}
	}
	// Skip blanks so the anchor is the token TiDB stopped at.
	for k < len(text) && isSpace(text[k]) {
		k++
	}
	sp.syntaxErrorAt(frag.Orig(k), lo, hi, toks, extra)
}

// syntaxErrorAt reports a syntax error at script offset off, naming the
// token there; toks[lo:hi] is the range that was parsed.
func (sp *scriptParser) syntaxErrorAt(off int, lo, hi int, toks []token, detail string) {
	// The token at or after off in the statement.
	for i := lo; i < len(toks); i++ {
		t := toks[i]
		if t.end <= off {
			continue
		}
		hint := ""
		if t.kind == tkParam {
			hint = "a parameter stands for a literal value (a quoted string, or a typed value when DECLAREd), never for SQL text"
		}
		if detail != "" {
			sp.errorf(t.start, t.end, CodeSyntax, hint, "%s at or near %s", detail, quoteTok(sp.src.Text, t))
			return
		}
		sp.errorf(t.start, t.end, CodeSyntax, hint, "syntax error at or near %s", quoteTok(sp.src.Text, t))
		return
	}
	end := off
	if hi > lo {
		end = max(end, toks[hi-1].end)
	}
	if detail != "" {
		sp.errorf(end, end, CodeSyntax, "", "%s at end of input", detail)
		return
	}
	sp.errorf(end, end, CodeSyntax, "", "syntax error at end of input")
}

// lineColOffset converts TiDB's 1-based line and byte column to an offset.
func lineColOffset(text string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	off += col
	if off > len(text) {
		return len(text)
	}
	return off
}

// cleanTiDBMessage strips TiDB's MySQL error code prefixes.
func cleanTiDBMessage(msg string) string {
	if i := strings.Index(msg, "]"); strings.HasPrefix(msg, "[") && i > 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	return msg
}
