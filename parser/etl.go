package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// CodeDuplicateColumn is the SQLSTATE for a column defined twice.
const CodeDuplicateColumn = "42701"

// createKinds are the words CREATE accepts, for "did you mean" hints.
var createKinds = []string{"SOURCE", "STREAM", "SINK", "TABLE", "VIEW", "PIPELINE", "INDEX"}

func kindOf(word string) (ObjectKind, bool) {
	switch strings.ToUpper(word) {
	case "SOURCE":
		return KindSource, true
	case "STREAM":
		return KindStream, true
	case "SINK":
		return KindSink, true
	case "TABLE":
		return KindTable, true
	case "VIEW":
		return KindView, true
	case "PIPELINE":
		return KindPipeline, true
	}
	return 0, false
}

// kindHint suggests an object kind for a misspelt one.
func kindHint(word string) string {
	if c := ClosestName(strings.ToUpper(word), createKinds); c != "" {
		return "did you mean " + c + "?"
	}
	return ""
}

// create parses CREATE ... at p.i.
func (p *stmtParser) create() Stmt {
	start := p.i
	p.i++
	orReplace := false
	if p.accept("OR") {
		p.expect("REPLACE", " after CREATE OR")
		orReplace = true
	}
	temp := -1
	if p.peek().is("TEMPORARY") || p.peek().is("TEMP") {
		temp = p.i
		p.i++
	}
	if p.peek().is("INDEX") || p.peek().is("UNIQUE") && p.at(p.i+1).is("INDEX") {
		if orReplace || temp >= 0 {
			p.fail(start+1, "CREATE INDEX takes neither OR REPLACE nor TEMPORARY")
		}
		return p.createIndex(start)
	}
	kw := p.peek()
	kind, ok := kindOf(kw.text)
	if kw.kind != tkIdent || !ok {
		p.failHint(p.i, kindHint(kw.text), "expected SOURCE, STREAM, SINK, TABLE, VIEW, PIPELINE or INDEX after CREATE, found %s", p.quote(p.i))
	}
	if temp >= 0 && kind != KindView {
		p.failCode(temp, CodeFeature, "TEMPORARY is only supported for views")
	}
	p.i++
	switch kind {
	case KindView:
		return p.createView(start, orReplace, temp >= 0)
	case KindPipeline:
		return p.createPipeline(start, orReplace)
	}
	return p.createRelation(start, kind, orReplace)
}

// ifNotExists parses an optional IF NOT EXISTS.
func (p *stmtParser) ifNotExists() bool {
	if !p.accept("IF") {
		return false
	}
	p.expect("NOT", " after IF")
	p.expect("EXISTS", " after IF NOT")
	return true
}

// createRelation parses the rest of CREATE SOURCE | STREAM | SINK | TABLE.
func (p *stmtParser) createRelation(start int, kind ObjectKind, orReplace bool) Stmt {
	what := strings.ToLower(kind.String())
	ifNot := p.ifNotExists()
	name := p.objectName(what + " name")
	var (
		cols    []ColumnDef
		wm      *Watermark
		pk      []Ident
		pkName  Ident
		pkAt    = -1
		cons    []Constraint
		hasCols bool
	)
	if p.peek().isOp("(") {
		hasCols = true
		p.i++
		cols = []ColumnDef{}
		for {
			t := p.peek()
			switch {
			case t.is("WATERMARK"):
				if kind != KindSource && kind != KindStream {
					p.failCode(p.i, CodeFeature, "WATERMARK is only allowed in CREATE SOURCE and CREATE STREAM")
				}
				if wm != nil {
					p.fail(p.i, "only one WATERMARK is allowed")
				}
				wm = p.watermark()
			case t.is("PRIMARY") || t.is("CONSTRAINT") && p.at(p.i+2).is("PRIMARY"):
				if pk != nil {
					p.fail(p.i, "multiple primary keys are not allowed")
				}
				pkAt = p.i
				if p.accept("CONSTRAINT") {
					pkName = p.ident("constraint name")
				}
				p.i++
				p.expect("KEY", " after PRIMARY")
				for _, kp := range p.keyParts(" after PRIMARY KEY") {
					if kp.Prefix > 0 {
						p.sp.errorf(kp.Column.Pos, kp.Column.Pos+len(kp.Column.Name), CodeFeature, "",
							"a key prefix length is not supported in PRIMARY KEY")
						panic(bailout{})
					}
					pk = append(pk, kp.Column)
				}
			case p.tableConstraintAt(p.i):
				if kind != KindTable {
					p.failCode(p.i, CodeFeature, "UNIQUE and CHECK are only supported in CREATE TABLE")
				}
				cons = append(cons, p.tableConstraint())
			default:
				c, inline := p.columnDef(kind)
				inlinePK := inline.pk
				if kind != KindTable && len(inline.cons) > 0 {
					p.failCode(inline.consAt, CodeFeature, "UNIQUE and CHECK are only supported in CREATE TABLE")
				}
				cons = append(cons, inline.cons...)
				if inline.pkName.Name != "" {
					pkName = inline.pkName
				}
				for _, prev := range cols {
					if prev.Name.Name == c.Name.Name {
						p.sp.errorf(c.Name.Pos, c.Name.Pos+len(c.Name.Name), CodeDuplicateColumn, "",
							"column %q is defined twice", c.Name.Name)
						panic(bailout{})
					}
				}
				cols = append(cols, c)
				if inlinePK >= 0 {
					if pk != nil {
						p.fail(inlinePK, "multiple primary keys are not allowed")
					}
					pkAt = inlinePK
					pk = []Ident{c.Name}
				}
			}
			if p.acceptOp(",") {
				continue
			}
			p.expectOp(")", " after column list")
			break
		}
	}
	if pk != nil && kind != KindTable {
		p.failCode(pkAt, CodeFeature, "PRIMARY KEY is only supported in CREATE TABLE")
	}
	if wm != nil {
		p.checkColumn(wm.Column, cols, "WATERMARK")
	}
	for _, c := range pk {
		p.checkColumn(c, cols, "PRIMARY KEY")
	}
	for _, c := range cons {
		for _, kp := range c.Columns {
			p.checkColumn(kp.Column, cols, "UNIQUE")
		}
	}
	opts := p.options()
	var as *Query
	if p.peek().is("AS") {
		if kind != KindTable {
			p.failCode(p.i, CodeFeature, "AS query is only supported in CREATE TABLE (use INSERT INTO to fill a %s)", what)
		}
		p.i++
		as = p.query(p.i, p.hi)
		p.i = p.hi
	}
	span := p.span(start, p.i)
	switch kind {
	case KindSource, KindStream:
		if !hasCols {
			cols = nil
		}
		return &CreateSource{Span: span, Kind: kind, OrReplace: orReplace, IfNotExists: ifNot, Name: name,
			Columns: cols, Watermark: wm, Options: opts}
	case KindSink:
		return &CreateSink{Span: span, OrReplace: orReplace, IfNotExists: ifNot, Name: name, Columns: cols, Options: opts}
	}
	if !hasCols && as == nil {
		p.fail(p.i, "expected a column list or AS query in CREATE TABLE, found %s", p.quote(p.i))
	}
	return &CreateTable{Span: span, OrReplace: orReplace, IfNotExists: ifNot, Name: name, Columns: cols,
		PrimaryKey: pk, PrimaryKeyName: pkName, Constraints: cons, Options: opts, As: as}
}

// checkColumn reports a column name that is not among cols.
func (p *stmtParser) checkColumn(c Ident, cols []ColumnDef, where string) {
	names := make([]string, len(cols))
	for i, col := range cols {
		if col.Name.Name == c.Name {
			return
		}
		names[i] = col.Name.Name
	}
	hint := ""
	if m := ClosestName(c.Name, names); m != "" {
		hint = "did you mean " + m + "?"
	}
	p.sp.errorf(c.Pos, c.Pos+len(c.Name), CodeUndefinedColumn, hint, "column %q in %s is not defined", c.Name, where)
	panic(bailout{})
}

// inlineConstraints are the constraints a column definition declares
// besides NOT NULL and DEFAULT: pk is the token of an inline PRIMARY KEY
// (or -1) and pkName its CONSTRAINT name; cons are its UNIQUE and CHECK
// constraints, the first at token consAt.
type inlineConstraints struct {
	pk     int
	pkName Ident
	cons   []Constraint
	consAt int
}

// columnDef parses name TYPE followed by column constraints:
// [CONSTRAINT name] NOT NULL | NULL | DEFAULT e | PRIMARY KEY | UNIQUE [KEY]
// | CHECK (e), in any order.
func (p *stmtParser) columnDef(kind ObjectKind) (ColumnDef, inlineConstraints) {
	c := ColumnDef{Name: p.ident("column name")}
	typ, next, ok := parseType(p.sp.src.Text, p.toks, p.i, p.hi)
	if !ok {
		p.fail(next, "expected a type for column %s, found %s", c.Name.Name, p.quote(next))
	}
	c.Type = typ
	p.i = next
	in := inlineConstraints{pk: -1, consAt: -1}
	for {
		at := p.i
		var name Ident
		if p.accept("CONSTRAINT") {
			name = p.ident("constraint name")
			if t := p.peek(); !(t.is("NOT") || t.is("NULL") || t.is("DEFAULT") || t.is("PRIMARY") ||
				t.is("UNIQUE") || t.is("CHECK") || t.is("REFERENCES")) {
				p.fail(p.i, "expected NOT NULL, NULL, DEFAULT, PRIMARY KEY, UNIQUE or CHECK after CONSTRAINT %s, found %s", name.Name, p.quote(p.i))
			}
		}
		switch {
		case p.peek().is("NOT"):
			p.i++
			p.expect("NULL", " after NOT")
			c.NotNull = true
		case p.peek().is("NULL"):
			p.i++
		case p.peek().is("PRIMARY"):
			if in.pk >= 0 {
				p.fail(p.i, "multiple primary keys are not allowed")
			}
			in.pk = p.i
			in.pkName = name
			p.i++
			p.expect("KEY", " after PRIMARY")
			c.NotNull = true
		case p.peek().is("UNIQUE"):
			p.i++
			p.accept("KEY")
			in.add(Constraint{Pos: p.toks[at].start, Kind: ConstraintUnique, Name: name,
				Columns: []KeyPart{{Column: c.Name}}, Column: c.Name}, at)
		case p.peek().is("CHECK"):
			p.i++
			in.add(Constraint{Pos: p.toks[at].start, Kind: ConstraintCheck, Name: name, Check: p.checkExpr(), Column: c.Name}, at)
		case p.peek().is("REFERENCES"):
			p.failCode(p.i, CodeFeature, "foreign keys (REFERENCES) are not supported")
		case p.peek().is("DEFAULT"):
			p.i++
			lo := p.i
			end := p.scan(lo, func(i int) bool {
				t := p.toks[i]
				prev := p.at(i - 1)
				switch {
				case t.isOp(",") || t.isOp(")"):
					return true
				case t.is("NOT") && p.at(i+1).is("NULL") && !prev.is("IS"):
					return true
				case t.is("NULL") && i > lo && !prev.is("IS") && !prev.is("NOT"):
					return true
				case t.is("PRIMARY") && p.at(i+1).is("KEY"):
					return true
				case t.is("UNIQUE") || t.is("CHECK") || t.is("CONSTRAINT") || t.is("REFERENCES"):
					return true
				}
				return false
			})
			e := p.expr(lo, end)
			c.Default = &e
			p.i = end
		default:
			return c, in
		}
	}
}

// add appends an inline UNIQUE or CHECK constraint that starts at token at.
func (in *inlineConstraints) add(c Constraint, at int) {
	if len(in.cons) == 0 {
		in.consAt = at
	}
	in.cons = append(in.cons, c)
}

// checkExpr parses the parenthesised condition of CHECK (the CHECK
// keyword is consumed).
func (p *stmtParser) checkExpr() *Expr {
	if !p.peek().isOp("(") {
		p.fail(p.i, "expected '(' after CHECK, found %s", p.quote(p.i))
	}
	closeAt := p.closing(p.i, " after CHECK (")
	e := p.expr(p.i+1, closeAt)
	p.i = closeAt + 1
	return &e
}

// tableConstraintAt reports whether token i starts a table constraint
// other than PRIMARY KEY: [CONSTRAINT name] UNIQUE | CHECK | FOREIGN KEY.
// A column may be called unique or check: UNIQUE starts a constraint
// only before '(' or KEY / INDEX, CHECK only before '('.
func (p *stmtParser) tableConstraintAt(i int) bool {
	if p.at(i).is("CONSTRAINT") {
		return true
	}
	t, next := p.at(i), p.at(i+1)
	switch {
	case t.is("UNIQUE"):
		return next.isOp("(") || next.is("KEY") || next.is("INDEX")
	case t.is("CHECK"):
		return next.isOp("(")
	case t.is("FOREIGN"):
		return next.is("KEY")
	}
	return false
}

// tableConstraint parses [CONSTRAINT name] UNIQUE [KEY | INDEX] [name]
// (key parts) or [CONSTRAINT name] CHECK (condition).
func (p *stmtParser) tableConstraint() Constraint {
	c := Constraint{Pos: p.peek().start}
	if p.accept("CONSTRAINT") {
		c.Name = p.ident("constraint name")
	}
	switch {
	case p.accept("UNIQUE"):
		c.Kind = ConstraintUnique
		if !p.accept("KEY") {
			p.accept("INDEX")
		}
		if !p.peek().isOp("(") && c.Name.Name == "" {
			c.Name = p.ident("index name or '('")
		}
		c.Columns = p.keyParts(" after UNIQUE")
	case p.accept("CHECK"):
		c.Kind = ConstraintCheck
		c.Check = p.checkExpr()
	case p.peek().is("FOREIGN"):
		p.failCode(p.i, CodeFeature, "foreign keys are not supported")
	default:
		p.fail(p.i, "expected PRIMARY KEY, UNIQUE or CHECK after CONSTRAINT %s, found %s", c.Name.Name, p.quote(p.i))
	}
	return c
}

// keyParts parses ( column [(prefix)] [ASC | DESC], ... ).
func (p *stmtParser) keyParts(context string) []KeyPart {
	p.expectOp("(", context)
	var parts []KeyPart
	for {
		kp := KeyPart{Column: p.ident("column name")}
		if p.acceptOp("(") {
			t := p.peek()
			n, err := strconv.Atoi(t.text)
			if t.kind != tkNumber || err != nil || n <= 0 {
				p.fail(p.i, "expected a prefix length (a positive integer), found %s", p.quote(p.i))
			}
			p.i++
			kp.Prefix = n
			p.expectOp(")", " after the prefix length")
		}
		if p.accept("DESC") {
			kp.Desc = true
		} else {
			p.accept("ASC")
		}
		for _, prev := range parts {
			if prev.Column.Name == kp.Column.Name {
				p.sp.errorf(kp.Column.Pos, kp.Column.Pos+len(kp.Column.Name), CodeDuplicateColumn, "",
					"column %q appears twice in the key", kp.Column.Name)
				panic(bailout{})
			}
		}
		parts = append(parts, kp)
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")", " after the key's columns")
	return parts
}

// watermark parses WATERMARK FOR column AS expression.
func (p *stmtParser) watermark() *Watermark {
	w := &Watermark{Pos: p.peek().start}
	p.i++
	p.expect("FOR", " after WATERMARK")
	w.Column = p.ident("column name after WATERMARK FOR")
	p.expect("AS", " after WATERMARK FOR "+w.Column.Name)
	end := p.scan(p.i, func(i int) bool { return p.toks[i].isOp(",") || p.toks[i].isOp(")") })
	w.Expr = p.expr(p.i, end)
	p.i = end
	return w
}

// identList parses '(' name, ... ')'.
func (p *stmtParser) identList(what, context string) []Ident {
	p.expectOp("(", context)
	var out []Ident
	for {
		out = append(out, p.ident(what))
		if p.acceptOp(",") {
			continue
		}
		p.expectOp(")", " after "+what+" list")
		return out
	}
}

// options parses an optional WITH (key = value, ...).
func (p *stmtParser) options() []Option {
	if !p.accept("WITH") {
		return nil
	}
	p.expectOp("(", " after WITH")
	var opts []Option
	for {
		key := p.optionKey()
		for _, o := range opts {
			if strings.EqualFold(o.Key.Name, key.Name) {
				pos := p.sp.src.Position(o.Key.Pos)
				p.sp.errorf(key.Pos, key.Pos+len(key.Name), CodeDuplicateObject,
					fmt.Sprintf("it is first given at line %d, column %d", pos.Line, pos.Col),
					"option %q is given twice", key.Name)
				panic(bailout{})
			}
		}
		p.expectOp("=", " after option "+key.Name)
		val, pos := p.optionValue(key.Name)
		opts = append(opts, Option{Key: key, Value: val, ValuePos: pos})
		if p.acceptOp(",") {
			continue
		}
		p.expectOp(")", " after options")
		return opts
	}
}

// optionKey reads an option name: an identifier, a dotted name
// (s3.endpoint) or a quoted string ('connector', as Flink writes them).
func (p *stmtParser) optionKey() Ident {
	t := p.peek()
	if t.isString() {
		p.i++
		return Ident{Name: p.sp.stringValue(t), Quoted: true, Pos: t.start}
	}
	if !t.isIdent() {
		p.fail(p.i, "expected an option name, found %s", p.quote(p.i))
	}
	p.i++
	name, quoted := identName(t)
	for p.peek().isOp(".") && p.at(p.i+1).isIdent() {
		n, q := identName(p.at(p.i + 1))
		name += "." + n
		quoted = quoted || q
		p.i += 2
	}
	return Ident{Name: name, Quoted: quoted, Pos: t.start}
}

// optionValue reads an option value: a string (parameters substituted), a
// number, an identifier or TRUE/FALSE (stored as text), or ${param}.
func (p *stmtParser) optionValue(key string) (string, int) {
	t := p.peek()
	switch {
	case t.isString():
		p.i++
		return p.sp.stringValue(t), t.start
	case t.kind == tkNumber:
		p.i++
		return t.text, t.start
	case (t.isOp("-") || t.isOp("+")) && p.at(p.i+1).kind == tkNumber:
		p.i += 2
		return t.text + p.at(p.i-1).text, t.start
	case t.kind == tkIdent || t.kind == tkQIdent || t.kind == tkBIdent:
		p.i++
		name, _ := identName(t)
		return name, t.start
	case t.kind == tkParam:
		p.i++
		if v, ok := p.sp.resolveParam(t); ok {
			return v.Value, t.start
		}
		return "", t.start
	}
	p.failHint(p.i, "option values are quoted strings: "+key+" = '...'",
		"expected a value for option %s, found %s", key, p.quote(p.i))
	return "", 0
}

// createView parses the rest of CREATE [TEMPORARY] VIEW.
func (p *stmtParser) createView(start int, orReplace, temp bool) Stmt {
	v := &CreateView{OrReplace: orReplace, Temporary: temp}
	v.Name = p.objectName("view name")
	if p.peek().isOp("(") {
		v.Columns = p.identList("column name", "")
	}
	p.expect("AS", " before the view's query")
	v.Query = p.query(p.i, p.hi)
	p.i = p.hi
	v.Span = p.span(start, p.i)
	return v
}

// createPipeline parses the rest of CREATE PIPELINE.
func (p *stmtParser) createPipeline(start int, orReplace bool) Stmt {
	cp := &CreatePipeline{OrReplace: orReplace}
	cp.IfNotExists = p.ifNotExists()
	cp.Name = p.objectName("pipeline name")
	if p.acceptOp("(") {
		for {
			e := p.expectation()
			for _, prev := range cp.Expectations {
				if prev.Name.Name == e.Name.Name {
					p.sp.errorf(e.Name.Pos, e.Name.Pos+len(e.Name.Name), CodeDuplicateObject, "",
						"constraint %q is defined twice", e.Name.Name)
					panic(bailout{})
				}
			}
			cp.Expectations = append(cp.Expectations, e)
			if p.acceptOp(",") {
				continue
			}
			p.expectOp(")", " after the pipeline's constraints")
			break
		}
	}
	cp.Options = p.options()
	p.expect("AS", " before the pipeline's INSERT")
	if !p.peek().is("INSERT") {
		p.fail(p.i, "expected INSERT after AS in CREATE PIPELINE, found %s", p.quote(p.i))
	}
	cp.Insert = p.insert(p.hi).(*Insert)
	cp.Span = p.span(start, p.i)
	return cp
}

// expectation parses CONSTRAINT name EXPECT (expr) [ON VIOLATION action].
func (p *stmtParser) expectation() Expectation {
	e := Expectation{Pos: p.peek().start}
	p.expect("CONSTRAINT", " (a pipeline expectation is CONSTRAINT name EXPECT (condition))")
	e.Name = p.ident("constraint name")
	p.expect("EXPECT", " after CONSTRAINT "+e.Name.Name)
	if !p.peek().isOp("(") {
		p.fail(p.i, "expected '(' after EXPECT, found %s", p.quote(p.i))
	}
	c := p.closing(p.i, " after the EXPECT condition")
	e.Expr = p.expr(p.i+1, c)
	p.i = c + 1
	if p.accept("ON") {
		p.expect("VIOLATION", " after ON")
		switch {
		case p.accept("DROP"):
			p.expect("ROW", " after DROP")
			e.Action = ActionDropRow
		case p.accept("FAIL"):
			e.Action = ActionFail
		case p.accept("QUARANTINE"):
			e.Action = ActionQuarantine
		default:
			p.failHint(p.i, "the actions are DROP ROW, FAIL and QUARANTINE",
				"expected DROP ROW, FAIL or QUARANTINE after ON VIOLATION, found %s", p.quote(p.i))
		}
	}
	return e
}

// createIndex parses the rest of CREATE [UNIQUE] INDEX [IF NOT EXISTS]
// [name] [USING method] ON table [USING method] (key parts); p.i is at
// UNIQUE or INDEX.
func (p *stmtParser) createIndex(start int) Stmt {
	ci := &CreateIndex{}
	ci.Unique = p.accept("UNIQUE")
	p.expect("INDEX", "")
	if p.peek().is("CONCURRENTLY") {
		p.i++
	}
	ci.IfNotExists = p.ifNotExists()
	if !p.peek().is("ON") && !p.peek().is("USING") {
		ci.Name = p.ident("index name")
	} else if ci.IfNotExists {
		p.fail(p.i, "expected index name after IF NOT EXISTS, found %s", p.quote(p.i))
	}
	p.indexMethod()
	p.expect("ON", " after the index name")
	ci.Table = p.objectName("table name")
	p.indexMethod()
	ci.Columns = p.keyParts(" after the table name")
	if p.peek().is("WHERE") {
		p.failCode(p.i, CodeFeature, "partial indexes (WHERE) are not supported")
	}
	if p.peek().is("INCLUDE") {
		p.failCode(p.i, CodeFeature, "INCLUDE columns are not supported")
	}
	ci.Span = p.span(start, p.i)
	return ci
}

// indexMethod accepts USING method (btree, hash, ...): every index of etlc
// is a record of a key in the catalog, so the method changes nothing.
func (p *stmtParser) indexMethod() {
	if p.accept("USING") {
		p.ident("index method")
	}
}

// dropIndex parses the rest of DROP INDEX [CONCURRENTLY] [IF EXISTS]
// name, ... [ON table] [CASCADE | RESTRICT]; p.i is after INDEX.
func (p *stmtParser) dropIndex(start int) Stmt {
	d := &DropIndex{}
	if p.peek().is("CONCURRENTLY") {
		p.i++
	}
	if p.accept("IF") {
		p.expect("EXISTS", " after IF")
		d.IfExists = true
	}
	for {
		id := p.ident("index name")
		if p.peek().isOp(".") {
			// public.name: indexes live in the one schema.
			p.i++
			id = p.ident("index name")
		}
		d.Names = append(d.Names, id)
		if !p.acceptOp(",") {
			break
		}
	}
	if p.accept("ON") {
		t := p.objectName("table name")
		d.Table = &t
	}
	if !p.accept("CASCADE") {
		p.accept("RESTRICT")
	}
	d.Span = p.span(start, p.i)
	return d
}

// drop parses DROP kind [IF EXISTS] name, ...
func (p *stmtParser) drop() Stmt {
	start := p.i
	p.i++
	if p.accept("INDEX") {
		return p.dropIndex(start)
	}
	kw := p.peek()
	kind, ok := kindOf(kw.text)
	if kw.kind != tkIdent || !ok {
		p.failHint(p.i, kindHint(kw.text), "expected SOURCE, STREAM, SINK, TABLE, VIEW, PIPELINE or INDEX after DROP, found %s", p.quote(p.i))
	}
	p.i++
	d := &Drop{Kind: kind}
	if p.accept("IF") {
		p.expect("EXISTS", " after IF")
		d.IfExists = true
	}
	for {
		d.Names = append(d.Names, p.objectName(strings.ToLower(kind.String())+" name"))
		if !p.acceptOp(",") {
			break
		}
	}
	d.Span = p.span(start, p.i)
	return d
}

// pipelineCmd parses START PIPELINE name / STOP PIPELINE name.
func (p *stmtParser) pipelineCmd(a PipelineAction) Stmt {
	start := p.i
	verb := strings.ToUpper(p.peek().text)
	p.i++
	if !p.accept("PIPELINE") {
		hint := ""
		if a == PipelineStart {
			hint = "START PIPELINE name starts a pipeline; START TRANSACTION begins a transaction"
		}
		p.failHint(p.i, hint, "expected PIPELINE after %s, found %s", verb, p.quote(p.i))
	}
	name := p.objectName("pipeline name")
	return &PipelineCmd{Span: p.span(start, p.i), Action: a, Name: name}
}

// show parses SHOW what.
func (p *stmtParser) show() Stmt {
	start := p.i
	p.i++
	t := p.peek()
	s := &Show{Pos: t.start}
	switch {
	case t.is("TRANSACTION") && p.at(p.i+1).is("ISOLATION") && p.at(p.i+2).is("LEVEL"):
		s.What = "transaction_isolation"
		p.i += 3
	case t.is("TIME") && p.at(p.i+1).is("ZONE"):
		s.What = "timezone"
		p.i += 2
	case t.isIdent():
		s.What = p.dottedName()
	default:
		p.fail(p.i, "expected what to show (PIPELINES, SOURCES, a setting, ALL), found %s", p.quote(p.i))
	}
	s.Span = p.span(start, p.i)
	return s
}

// dottedName reads ident(.ident)* as one lower-cased dotted name.
func (p *stmtParser) dottedName() string {
	name, _ := identName(p.peek())
	p.i++
	for p.peek().isOp(".") && p.at(p.i+1).isIdent() {
		n, _ := identName(p.at(p.i + 1))
		name += "." + n
		p.i += 2
	}
	return name
}

// set parses SET [SESSION|LOCAL] name {=|TO} value[, ...] and its
// PostgreSQL special forms (TIME ZONE, NAMES, TRANSACTION).
func (p *stmtParser) set() Stmt {
	start := p.i
	p.i++
	if p.peek().is("SESSION") && !p.at(p.i+1).is("CHARACTERISTICS") || p.peek().is("LOCAL") {
		p.i++
	}
	s := &Set{}
	t := p.peek()
	switch {
	case t.is("TIME") && p.at(p.i+1).is("ZONE"):
		s.Name = Ident{Name: "timezone", Pos: t.start}
		p.i += 2
		s.Value = p.setValues()
	case t.is("NAMES"):
		s.Name = Ident{Name: "client_encoding", Pos: t.start}
		p.i++
		s.Value = p.setValues()
	case t.is("TRANSACTION") || t.is("SESSION") && p.at(p.i+1).is("CHARACTERISTICS"):
		if t.is("SESSION") {
			p.i += 2
			p.expect("AS", " after SESSION CHARACTERISTICS")
			if !p.peek().is("TRANSACTION") {
				p.fail(p.i, "expected TRANSACTION, found %s", p.quote(p.i))
			}
			s.Name = Ident{Name: "session_characteristics", Pos: t.start}
		} else {
			s.Name = Ident{Name: "transaction", Pos: t.start}
		}
		p.i++
		var words []string
		for ; p.i < p.hi; p.i++ {
			words = append(words, strings.ToLower(p.toks[p.i].text))
		}
		if len(words) == 0 {
			p.fail(p.i, "expected transaction modes, found end of input")
		}
		s.Value = strings.Join(words, " ")
	default:
		if !t.isIdent() {
			p.fail(p.i, "expected a setting name after SET, found %s", p.quote(p.i))
		}
		s.Name = Ident{Pos: t.start, Quoted: t.kind != tkIdent}
		s.Name.Name = p.dottedName()
		if !p.acceptOp("=") && !p.accept("TO") {
			p.fail(p.i, "expected '=' or TO after SET %s, found %s", s.Name.Name, p.quote(p.i))
		}
		if p.peek().is("DEFAULT") && p.i+1 == p.hi {
			p.i++
			s.Reset = true
		} else {
			s.Value = p.setValues()
		}
	}
	s.Span = p.span(start, p.i)
	return s
}

// setValues reads value[, value...] of SET as text: strings unquoted,
// unquoted words lower-cased, numbers as written.
func (p *stmtParser) setValues() string {
	var vals []string
	for {
		t := p.peek()
		switch {
		case t.isString():
			vals = append(vals, p.sp.stringValue(t))
		case t.kind == tkNumber:
			vals = append(vals, t.text)
		case (t.isOp("-") || t.isOp("+")) && p.at(p.i+1).kind == tkNumber:
			p.i++
			vals = append(vals, t.text+p.peek().text)
		case t.isIdent():
			n, _ := identName(t)
			vals = append(vals, n)
		case t.kind == tkParam:
			v, _ := p.sp.resolveParam(t)
			vals = append(vals, v.Value)
		default:
			p.fail(p.i, "expected a value, found %s", p.quote(p.i))
		}
		p.i++
		if !p.acceptOp(",") {
			return strings.Join(vals, ", ")
		}
	}
}

// reset parses RESET name | RESET ALL.
func (p *stmtParser) reset() Stmt {
	start := p.i
	p.i++
	t := p.peek()
	if !t.isIdent() {
		p.fail(p.i, "expected a setting name or ALL after RESET, found %s", p.quote(p.i))
	}
	s := &Set{Reset: true, Name: Ident{Pos: t.start, Quoted: t.kind != tkIdent}}
	s.Name.Name = p.dottedName()
	s.Span = p.span(start, p.i)
	return s
}

// insert parses INSERT INTO|OVERWRITE [TABLE] target [(cols)] query-or-VALUES
// ending at token end.
func (p *stmtParser) insert(end int) Stmt {
	start := p.i
	p.i++
	ins := &Insert{}
	switch {
	case p.accept("INTO"):
	case p.accept("OVERWRITE"):
		ins.Overwrite = true
	default:
		p.fail(p.i, "expected INTO or OVERWRITE after INSERT, found %s", p.quote(p.i))
	}
	p.accept("TABLE")
	ins.Target = p.objectName("target name")
	if p.peek().isOp("(") && !p.startsQuery(p.i+1) {
		ins.Columns = p.identList("column name", "")
	}
	if p.accept("VALUES") {
		for {
			if !p.peek().isOp("(") {
				p.fail(p.i, "expected '(' to start a VALUES row, found %s", p.quote(p.i))
			}
			c := p.closing(p.i, " after VALUES row")
			ranges := p.splitCommas(p.i+1, c)
			row := p.exprListWith(ranges, func(lw *lowerer) {
				// A lone DEFAULT item: the target column's default.
				for _, r := range ranges {
					if t := p.toks[r[0]]; r[1]-r[0] == 1 && t.is("DEFAULT") {
						lw.replace(t.start, t.end, DefaultMarker+"()")
					}
				}
			})
			if len(ins.Values) > 0 && len(row) != len(ins.Values[0]) {
				p.fail(p.i, "VALUES rows must all have the same length (this row: %d, the first: %d)",
					len(row), len(ins.Values[0]))
			}
			ins.Values = append(ins.Values, row)
			p.i = c + 1
			if !p.acceptOp(",") {
				break
			}
		}
	} else {
		if !p.startsQuery(p.i) {
			p.fail(p.i, "expected a query or VALUES, found %s", p.quote(p.i))
		}
		ins.Query = p.query(p.i, end)
		p.i = end
	}
	ins.Span = p.span(start, p.i)
	return ins
}

// splitCommas splits toks[lo:hi] at commas outside brackets.
func (p *stmtParser) splitCommas(lo, hi int) [][2]int {
	if lo >= hi {
		p.fail(lo, "expected an expression, found %s", p.quote(lo))
	}
	var out [][2]int
	saved := p.hi
	p.hi = hi
	defer func() { p.hi = saved }()
	s := lo
	for {
		e := p.scan(s, func(i int) bool { return p.toks[i].isOp(",") })
		out = append(out, [2]int{s, e})
		if e >= hi {
			return out
		}
		s = e + 1
	}
}

// validate parses VALIDATE name AS query.
func (p *stmtParser) validate() Stmt {
	start := p.i
	p.i++
	v := &Validate{Name: p.ident("a name after VALIDATE")}
	p.expect("AS", " after VALIDATE "+v.Name.Name)
	v.Query = p.query(p.i, p.hi)
	p.i = p.hi
	v.Span = p.span(start, p.i)
	return v
}

// assert parses ASSERT condition [, 'message'].
func (p *stmtParser) assert() Stmt {
	start := p.i
	p.i++
	end := p.scan(p.i, func(i int) bool { return p.toks[i].isOp(",") })
	a := &Assert{Cond: p.expr(p.i, end)}
	p.i = end
	if p.acceptOp(",") {
		t := p.peek()
		if !t.isString() {
			p.fail(p.i, "expected a message string after ',', found %s", p.quote(p.i))
		}
		a.Message = p.sp.stringValue(t)
		p.i++
	}
	a.Span = p.span(start, p.i)
	return a
}

// alias reads an optional [AS] alias before the keyword stop.
func (p *stmtParser) alias(stop string) Ident {
	if p.accept("AS") {
		return p.ident("an alias after AS")
	}
	t := p.peek()
	if t.isIdent() && !t.is(stop) && !(t.kind == tkIdent && reservedNames[strings.ToUpper(t.text)]) {
		return p.ident("alias")
	}
	return Ident{}
}

// merge parses MERGE INTO target [AS] a USING source [AS] b ON cond WHEN ...
func (p *stmtParser) merge() Stmt {
	start := p.i
	p.i++
	m := &Merge{}
	p.expect("INTO", " after MERGE")
	m.Target = p.objectName("target table name")
	m.Alias = p.alias("USING")
	p.expect("USING", " after the MERGE target")
	if p.peek().isOp("(") {
		c := p.closing(p.i, " after the USING subquery")
		m.Source.Query = p.query(p.i+1, c)
		p.i = c + 1
	} else {
		n := p.objectName("a source relation after USING")
		m.Source.Name = &n
	}
	m.Source.Alias = p.alias("ON")
	p.expect("ON", " after the MERGE source")
	end := p.scan(p.i, func(i int) bool { return p.toks[i].is("WHEN") })
	m.On = p.expr(p.i, end)
	p.i = end
	for p.peek().is("WHEN") {
		m.Clauses = append(m.Clauses, p.mergeClause())
	}
	if len(m.Clauses) == 0 {
		p.fail(p.i, "expected WHEN [NOT] MATCHED after the MERGE condition, found %s", p.quote(p.i))
	}
	m.Span = p.span(start, p.i)
	return m
}

// mergeClause parses WHEN [NOT] MATCHED [AND cond] THEN action.
func (p *stmtParser) mergeClause() MergeClause {
	c := MergeClause{Pos: p.peek().start, Matched: true}
	p.i++
	if p.accept("NOT") {
		c.Matched = false
	}
	p.expect("MATCHED", " after WHEN")
	if p.accept("AND") {
		end := p.scan(p.i, func(i int) bool { return p.toks[i].is("THEN") })
		e := p.expr(p.i, end)
		c.Cond = &e
		p.i = end
	}
	p.expect("THEN", " in MERGE clause")
	at := p.i
	switch {
	case p.accept("UPDATE"):
		c.Action = MergeUpdate
		p.expect("SET", " after UPDATE")
		for {
			col := p.ident("column name")
			p.expectOp("=", " after SET "+col.Name)
			end := p.scan(p.i, func(i int) bool { return p.toks[i].isOp(",") || p.toks[i].is("WHEN") })
			c.Sets = append(c.Sets, Assignment{Column: col, Value: p.expr(p.i, end)})
			p.i = end
			if !p.acceptOp(",") {
				break
			}
		}
	case p.accept("DELETE"):
		c.Action = MergeDelete
	case p.accept("INSERT"):
		c.Action = MergeInsert
		if p.peek().isOp("(") {
			c.Columns = p.identList("column name", "")
		}
		p.expect("VALUES", " in MERGE INSERT")
		if !p.peek().isOp("(") {
			p.fail(p.i, "expected '(' after VALUES, found %s", p.quote(p.i))
		}
		cl := p.closing(p.i, " after VALUES")
		c.Values = p.exprList(p.splitCommas(p.i+1, cl))
		p.i = cl + 1
		switch {
		case c.Columns != nil && len(c.Columns) > len(c.Values):
			p.fail(at, "INSERT has more target columns (%d) than expressions (%d)", len(c.Columns), len(c.Values))
		case c.Columns != nil && len(c.Columns) < len(c.Values):
			p.fail(at, "INSERT has more expressions (%d) than target columns (%d)", len(c.Values), len(c.Columns))
		}
	default:
		p.fail(p.i, "expected UPDATE, DELETE or INSERT after THEN, found %s", p.quote(p.i))
	}
	if c.Matched && c.Action == MergeInsert {
		p.fail(at, "INSERT is not allowed in WHEN MATCHED (use WHEN NOT MATCHED)")
	}
	if !c.Matched && c.Action != MergeInsert {
		p.fail(at, "%s is not allowed in WHEN NOT MATCHED (only INSERT is)", strings.ToUpper(p.toks[at].text))
	}
	return c
}

// declare parses DECLARE name TYPE [DEFAULT value].
func (p *stmtParser) declare() Stmt {
	start := p.i
	p.i++
	d := &Declare{Name: p.ident("a parameter name after DECLARE")}
	if d.Name.Quoted || !validParamName(d.Name.Name) {
		p.fail(p.i-1, "parameter name %s must be letters, digits and '_'", p.quote(p.i-1))
	}
	typ, next, ok := parseType(p.sp.src.Text, p.toks, p.i, p.hi)
	if !ok {
		p.fail(next, "expected a type for parameter %s, found %s", d.Name.Name, p.quote(next))
	}
	d.Type = typ
	p.i = next
	if p.accept("DEFAULT") {
		v := p.peek()
		switch {
		case v.isString():
			d.Default = p.sp.literalValue(v)
		case v.kind == tkNumber, v.is("TRUE"), v.is("FALSE"):
			d.Default = strings.ToLower(v.text)
		case (v.isOp("-") || v.isOp("+")) && p.at(p.i+1).kind == tkNumber:
			p.i++
			d.Default = v.text + p.peek().text
		default:
			p.fail(p.i, "expected a literal default (a string, number or boolean), found %s", p.quote(p.i))
		}
		p.i++
		d.HasDefault = true
	}
	d.Span = p.span(start, p.i)
	return d
}

// explain parses EXPLAIN [ANALYZE] statement.
func (p *stmtParser) explain() Stmt {
	start := p.i
	p.i++
	e := &Explain{Analyze: p.accept("ANALYZE")}
	if p.i >= p.hi {
		p.fail(p.i, "expected a statement after EXPLAIN, found end of input")
	}
	e.Stmt = p.statement()
	e.Span = p.span(start, p.i)
	return e
}
