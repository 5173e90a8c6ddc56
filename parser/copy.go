package parser

import (
	"fmt"
	"strings"
)

// Copy is PostgreSQL's COPY statement as the gateway serves it:
//
//	COPY name [(col, ...)] FROM STDIN [[WITH] (option, ...) | legacy options]
//	COPY {name [(col, ...)] | (query)} TO STDOUT [[WITH] (option, ...) | legacy options]
//
// The options are PostgreSQL's: FORMAT text|csv|binary, DELIMITER, NULL,
// HEADER, QUOTE, ESCAPE, FORCE_QUOTE, FORCE_NOT_NULL, FORCE_NULL, ENCODING,
// and the older spellings (WITH CSV HEADER, DELIMITER AS ',', BINARY, ...).
type Copy struct {
	Span Span
	// Table and Columns name the table side; Query is set instead for
	// COPY (query) TO STDOUT.
	Table   ObjectName
	Columns []Ident
	Query   *CopyQuery
	// From is true for COPY ... FROM STDIN, false for TO STDOUT.
	From bool
	// Format is "text", "csv" or "binary".
	Format string
	// Delimiter, Null, Quote and Escape are as given (Set tells whether
	// each was given); Options.Resolve fills the format's defaults.
	Delimiter, Null, Quote, Escape string
	Set                            map[string]bool
	Header                         bool
	// ForceQuoteAll is FORCE_QUOTE *; ForceQuote, ForceNotNull and
	// ForceNull list columns.
	ForceQuoteAll                       bool
	ForceQuote, ForceNotNull, ForceNull []Ident
}

// CopyQuery is the query of COPY (query) TO STDOUT: its text in the
// script, and its extent.
type CopyQuery struct {
	Text string
	Span Span
}

// StmtSpan implements Stmt.
func (s *Copy) StmtSpan() Span { return s.Span }

// IsCopy reports whether text's first statement is a COPY statement.
func IsCopy(text string) bool {
	toks := lex(text).toks
	return len(toks) > 0 && toks[0].is("COPY")
}

// ParseCopy parses a script that is one COPY statement. It returns the
// statement, or diagnostics with positions: a syntax error, a COPY with
// other statements beside it (the protocol's COPY sub-protocol serves one
// at a time), or a server-side file (which the gateway does not read).
func ParseCopy(src *Source) (c *Copy, diags Diagnostics) {
	sp := &scriptParser{src: src}
	defer func() {
		if r := recover(); r != nil {
			c = nil
			if _, ok := r.(bailout); !ok {
				sp.errorf(0, 0, CodeSyntax, "", "internal error while parsing COPY: %v", r)
			}
		}
		diags = sp.diags
	}()
	lx := lex(src.Text)
	for _, e := range lx.diags {
		sp.errorf(e.start, e.end, CodeSyntax, "", "%s", e.msg)
	}
	if len(sp.diags) > 0 {
		return nil, sp.diags
	}
	sp.toks = lx.toks
	ranges := splitTokens(sp.toks)
	if len(ranges) == 0 {
		sp.errorf(0, 0, CodeSyntax, "", "expected a COPY statement")
		return nil, sp.diags
	}
	if len(ranges) > 1 {
		t := sp.toks[ranges[1][0]]
		sp.errorf(t.start, t.end, CodeFeature, "send COPY in a query of its own",
			"COPY cannot be combined with other statements in one query")
		return nil, sp.diags
	}
	p := &stmtParser{sp: sp, toks: sp.toks, lo: ranges[0][0], hi: ranges[0][1], i: ranges[0][0]}
	c = p.copyStmt()
	return c, sp.diags
}

// copyStmt parses COPY at p.i.
func (p *stmtParser) copyStmt() *Copy {
	lo := p.i
	p.expect("COPY", "")
	c := &Copy{Set: map[string]bool{}, Format: "text"}
	if p.peek().isOp("(") {
		open := p.i
		end := p.closing(open, " of the COPY query")
		if !p.startsQuery(open + 1) {
			p.fail(open+1, "expected a query (SELECT, WITH or VALUES), found %s", p.quote(open+1))
		}
		sp := p.span(open+1, end)
		c.Query = &CopyQuery{Text: p.sp.src.Text[sp.Start:sp.End], Span: sp}
		p.i = end + 1
	} else {
		c.Table = p.objectName("a table name or a (query)")
		if p.acceptOp("(") {
			for {
				c.Columns = append(c.Columns, p.ident("a column name"))
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")", " after the column list")
		}
	}
	switch {
	case p.accept("FROM"):
		c.From = true
		if c.Query != nil {
			p.fail(p.i-1, "COPY FROM does not take a query: name a table")
		}
		p.copyEndpoint("STDIN", "FROM")
	case p.accept("TO"):
		p.copyEndpoint("STDOUT", "TO")
	default:
		p.fail(p.i, "expected FROM STDIN or TO STDOUT, found %s", p.quote(p.i))
	}
	if p.accept("WITH") && !p.peek().isOp("(") {
		p.copyLegacyOptions(c)
	} else if p.peek().isOp("(") {
		p.copyOptions(c)
	} else {
		p.copyLegacyOptions(c)
	}
	if p.i < p.hi {
		p.fail(p.i, "syntax error at or near %s", p.quote(p.i))
	}
	c.Span = p.span(lo, p.hi)
	p.checkCopy(c, lo)
	return c
}

// copyEndpoint reads STDIN / STDOUT, explaining what the gateway does not
// do: read or write files on the server, run programs.
func (p *stmtParser) copyEndpoint(want, dir string) {
	t := p.peek()
	switch {
	case t.is(want):
		p.i++
	case t.isString() || t.is("PROGRAM"):
		p.failHint(p.i, fmt.Sprintf(`use psql's \copy, which sends the file's rows as COPY ... %s %s`, dir, want),
			"COPY %s a file or program on the server is not supported", strings.ToLower(dir))
	default:
		p.fail(p.i, "expected %s, found %s", want, p.quote(p.i))
	}
}

// copyOptions reads the parenthesized option list of newer PostgreSQL.
func (p *stmtParser) copyOptions(c *Copy) {
	p.expectOp("(", "")
	for {
		at := p.i
		t := p.peek()
		if !t.isIdent() {
			p.fail(p.i, "expected a COPY option, found %s", p.quote(p.i))
		}
		p.i++
		name := strings.ToLower(t.text)
		switch name {
		case "format":
			c.Format = strings.ToLower(p.copyWord(name))
			c.Set[name] = true
		case "delimiter", "null", "quote", "escape", "encoding":
			p.copySetString(c, name, at)
		case "header":
			c.Header = true
			if v := p.peek(); !v.isOp(",") && !v.isOp(")") {
				w := strings.ToLower(p.copyWord(name))
				switch w {
				case "true", "on", "1":
				case "false", "off", "0":
					c.Header = false
				case "match":
				default:
					p.fail(p.i-1, "header requires a Boolean value or \"match\"")
				}
			}
			c.Set[name] = true
		case "freeze":
			if v := p.peek(); !v.isOp(",") && !v.isOp(")") {
				p.copyWord(name)
			}
		case "force_quote":
			if p.acceptOp("*") {
				c.ForceQuoteAll = true
			} else {
				c.ForceQuote = p.copyColumns()
			}
			c.Set[name] = true
		case "force_not_null":
			c.ForceNotNull = p.copyColumns()
			c.Set[name] = true
		case "force_null":
			c.ForceNull = p.copyColumns()
			c.Set[name] = true
		default:
			p.fail(at, "option %q not recognized", name)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")", " after the COPY options")
}

// copyLegacyOptions reads the options of PostgreSQL before 9.0, which psql's
// \copy passes through: BINARY, DELIMITER [AS] 'c', NULL [AS] 's', CSV,
// HEADER, QUOTE [AS] 'c', ESCAPE [AS] 'c', FORCE QUOTE cols | *,
// FORCE NOT NULL cols.
func (p *stmtParser) copyLegacyOptions(c *Copy) {
	for p.i < p.hi {
		at := p.i
		switch t := p.peek(); {
		case t.is("BINARY"):
			p.i++
			c.Format, c.Set["format"] = "binary", true
		case t.is("CSV"):
			p.i++
			c.Format, c.Set["format"] = "csv", true
		case t.is("HEADER"):
			p.i++
			c.Header, c.Set["header"] = true, true
		case t.is("DELIMITER"), t.is("NULL"), t.is("QUOTE"), t.is("ESCAPE"), t.is("ENCODING"):
			p.i++
			p.accept("AS")
			p.copySetString(c, strings.ToLower(t.text), at)
		case t.is("FORCE"):
			p.i++
			switch {
			case p.accept("QUOTE"):
				if p.acceptOp("*") {
					c.ForceQuoteAll = true
				} else {
					c.ForceQuote = p.copyBareColumns()
				}
				c.Set["force_quote"] = true
			case p.accept("NOT"):
				p.expect("NULL", " after FORCE NOT")
				c.ForceNotNull = p.copyBareColumns()
				c.Set["force_not_null"] = true
			default:
				p.fail(p.i, "expected QUOTE or NOT NULL after FORCE, found %s", p.quote(p.i))
			}
		default:
			p.fail(p.i, "syntax error at or near %s", p.quote(p.i))
		}
	}
}

// copySetString reads a string-valued option.
func (p *stmtParser) copySetString(c *Copy, name string, at int) {
	if c.Set[name] {
		p.fail(at, "conflicting or redundant options: %s given twice", name)
	}
	t := p.peek()
	if !t.isString() {
		p.fail(p.i, "expected a string for %s, found %s", name, p.quote(p.i))
	}
	p.i++
	v := p.sp.stringValue(t)
	switch name {
	case "delimiter":
		c.Delimiter = v
	case "null":
		c.Null = v
	case "quote":
		c.Quote = v
	case "escape":
		c.Escape = v
	case "encoding":
		if u := strings.ToUpper(strings.ReplaceAll(v, "-", "")); u != "UTF8" && u != "SQLASCII" {
			p.failCode(p.i-1, CodeFeature, "COPY encoding %q is not supported: etlc reads and writes UTF8", v)
		}
	}
	c.Set[name] = true
}

// copyWord reads an option's word or string value.
func (p *stmtParser) copyWord(name string) string {
	t := p.peek()
	switch {
	case t.isString():
		p.i++
		return p.sp.stringValue(t)
	case t.isIdent(), t.kind == tkNumber:
		p.i++
		return t.text
	}
	p.fail(p.i, "expected a value for %s, found %s", name, p.quote(p.i))
	return ""
}

// copyColumns reads (col, ...) or * for a FORCE_* option.
func (p *stmtParser) copyColumns() []Ident {
	p.expectOp("(", " before the column list")
	cols := p.copyBareColumns()
	p.expectOp(")", " after the column list")
	return cols
}

func (p *stmtParser) copyBareColumns() []Ident {
	var cols []Ident
	for {
		cols = append(cols, p.ident("a column name"))
		if !p.acceptOp(",") {
			return cols
		}
	}
}

// checkCopy checks the options against each other as PostgreSQL does and
// fills the defaults of the format.
func (p *stmtParser) checkCopy(c *Copy, lo int) {
	bad := func(format string, args ...any) {
		p.sp.errorf(p.toks[lo].start, p.toks[lo].end, CodeFeature, "", format, args...)
		panic(bailout{})
	}
	switch c.Format {
	case "text", "csv", "binary":
	default:
		bad("COPY format %q not recognized", c.Format)
	}
	csv := c.Format == "csv"
	if c.Format == "binary" {
		for _, o := range []string{"delimiter", "null", "header", "quote", "escape"} {
			if c.Set[o] {
				bad("cannot specify %s in BINARY mode", strings.ToUpper(o))
			}
		}
	}
	if !csv {
		for _, o := range []string{"quote", "escape", "force_quote", "force_not_null", "force_null"} {
			if c.Set[o] {
				bad("COPY %s requires CSV mode", strings.ReplaceAll(o, "_", " "))
			}
		}
	}
	if c.From && (c.Set["force_quote"]) {
		bad("COPY force quote only available using COPY TO")
	}
	if !c.From && (c.Set["force_not_null"] || c.Set["force_null"]) {
		bad("COPY force not null and force null only available using COPY FROM")
	}
	if !c.Set["delimiter"] {
		c.Delimiter = "\t"
		if csv {
			c.Delimiter = ","
		}
	}
	if !c.Set["null"] && !csv {
		c.Null = `\N`
	}
	if !c.Set["quote"] {
		c.Quote = `"`
	}
	if !c.Set["escape"] {
		c.Escape = c.Quote
	}
	if c.Format == "binary" {
		return
	}
	if len(c.Delimiter) != 1 {
		bad("COPY delimiter must be a single one-byte character")
	}
	if c.Delimiter == "\n" || c.Delimiter == "\r" {
		bad("COPY delimiter cannot be newline or carriage return")
	}
	if strings.ContainsAny(c.Null, "\r\n") {
		bad("COPY null representation cannot use newline or carriage return")
	}
	if csv {
		if len(c.Quote) != 1 {
			bad("COPY quote must be a single one-byte character")
		}
		if len(c.Escape) != 1 {
			bad("COPY escape must be a single one-byte character")
		}
		if c.Delimiter == c.Quote {
			bad("COPY delimiter and quote must be different")
		}
		if strings.Contains(c.Null, c.Delimiter) {
			bad("COPY delimiter must not appear in the NULL specification")
		}
	} else if strings.Contains(`\.abcdefghijklmnopqrstuvwxyz0123456789`, c.Delimiter) {
		bad("COPY delimiter cannot be %q", c.Delimiter)
	}
}
