package planner

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// binder binds the statements of one script. It is not safe for
// concurrent use.
type binder struct {
	// pipelineOpts are the WITH options of the pipeline whose INSERT is
	// being bound (nil outside a pipeline).
	pipelineOpts map[string]string
	// streamWins are the window nodes over a stream bound so far, with
	// the position of their first function (streamcheck.go).
	streamWins map[*Window]int
	ctx        context.Context
	reg        *Registry
	cat        *scratchCatalog
	src        *parser.Source
	infer      InferFunc
	diags      parser.Diagnostics
	// pos remembers where each bound expression was written.
	pos map[Expr]int
	// views holds the plans of the views created by this script, so a
	// query over a view binds through its definition.
	views map[string]Node
	// per statement
	nextSub, nextParam int
	// nextRecursive numbers the recursive CTEs of a statement.
	nextRecursive int
	// params holds every parameter occurrence of the statement by number;
	// dollar and marker record which spellings were used.
	params         map[int][]*Param
	dollar, marker bool
	streams        map[string]bool
	tableSeen      map[*parser.Fragment]map[string]int
	// selectTypes are the target column types of an INSERT's SELECT: an
	// untyped parameter in its select list takes its column's type.
	selectTypes map[*ast.SelectStmt][]catalog.Type
	// capture, when set, records the FROM clause of one SELECT.
	capture *fromCapture
	// expanding holds the stored views being expanded (against cycles).
	expanding map[string]bool
	// unknownSchema holds the sources whose schema could not be inferred:
	// their columns are not reported as missing again.
	unknownSchema map[string]bool
	// session answers current_user, version() and the like; macros are
	// the PostgreSQL catalog functions (pgfuncs.go), built when first used.
	session SessionInfo
	macros  map[string]pgMacro
}

func (b *binder) errorf(pos int, code, hint, format string, args ...any) {
	b.diags = append(b.diags, &parser.Diagnostic{
		Source:   b.src,
		Span:     parser.Span{Start: pos, End: b.tokenEnd(pos)},
		Severity: parser.SevError,
		Code:     code,
		Message:  fmt.Sprintf(format, args...),
		Hint:     hint,
	})
}

// tokenEnd returns the end of the word at pos in the script (a possibly
// qualified name, a number or a quoted literal), so a diagnostic underlines
// what it is about; pos itself when there is no such word.
func (b *binder) tokenEnd(pos int) int {
	if b.src == nil || pos < 0 || pos >= len(b.src.Text) {
		return pos
	}
	t := b.src.Text
	if q := t[pos]; q == '\'' || q == '"' || q == '`' {
		if i := strings.IndexByte(t[pos+1:], q); i >= 0 {
			return pos + i + 2
		}
		return pos
	}
	end := pos
	for end < len(t) {
		c := t[end]
		if c == '_' || c == '.' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			end++
			continue
		}
		break
	}
	for end > pos && t[end-1] == '.' {
		end--
	}
	return end
}

// resetStmt clears the per-statement state.
func (b *binder) resetStmt() {
	b.nextSub, b.nextParam = 0, 0
	b.params = map[int][]*Param{}
	b.dollar, b.marker = false, false
	b.streams = map[string]bool{}
	b.tableSeen = map[*parser.Fragment]map[string]int{}
	b.selectTypes = map[*ast.SelectStmt][]catalog.Type{}
}

// param makes one occurrence of parameter n ($n when dollar, else the
// n-th ? marker).
func (b *binder) param(n int, dollar bool, p int) *Param {
	if dollar {
		b.dollar = true
	} else {
		b.marker = true
	}
	if b.dollar && b.marker {
		b.errorf(p, parser.CodeSyntax, "use either $1, $2, ... or ?, not both", "a statement cannot mix $n and ? parameters")
		b.dollar, b.marker = false, false // report once
	}
	if n < 1 {
		b.errorf(p, "42P02", "", "there is no parameter $%d", n)
	}
	// A later occurrence takes the type an earlier one was given.
	pr := &Param{Index: n, T: catalog.Null}
	for _, prev := range b.params[n] {
		if prev.T.Kind != catalog.KindNull {
			pr.T = prev.T
		}
	}
	b.params[n] = append(b.params[n], pr)
	b.pos[pr] = p
	return pr
}

// paramTypes settles the type of each parameter of the statement: every
// occurrence gets the common type of the types its contexts gave it (TEXT
// when none did, as PostgreSQL's unknown). Parameter n's type is at n-1;
// numbers never used are TEXT.
func (b *binder) paramTypes() []catalog.Type {
	maxN := 0
	for n := range b.params {
		maxN = max(maxN, n)
	}
	if maxN == 0 {
		return nil
	}
	out := make([]catalog.Type, maxN)
	for n := 1; n <= maxN; n++ {
		t := catalog.Null
		for _, pr := range b.params[n] {
			nt, ok := commonType(t, pr.T)
			if !ok {
				b.errorf(b.posOf(pr, 0), "42P08", "", "inconsistent types deduced for parameter $%d: %s and %s", n, t, pr.T)
				continue
			}
			t = nt
		}
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		for _, pr := range b.params[n] {
			pr.T = t
		}
		out[n-1] = t
	}
	return out
}

// bindFrom binds a FROM item and returns its plan and columns.
func (b *binder) bindFrom(frag *parser.Fragment, n ast.ResultSetNode, qs *scope) (Node, []scopeCol) {
	switch n := n.(type) {
	case *ast.Join:
		if n.Right == nil {
			return b.bindFrom(frag, n.Left, qs)
		}
		return b.bindJoin(frag, n, qs)
	case *ast.TableSource:
		alias := n.AsName.L
		switch src := n.Source.(type) {
		case *ast.TableName:
			return b.bindRelation(frag, src, alias, qs)
		case *ast.SelectStmt, *ast.SetOprStmt:
			plan := b.bindQuery(frag, src, qs.outer)
			if n.Lateral {
				b.errorf(frag.Orig(0), parser.CodeFeature, "", "LATERAL is not supported")
			}
			var cols []scopeCol
			for i, c := range plan.Schema() {
				name := c.Name
				if i < len(n.ColumnNames) {
					name = n.ColumnNames[i].O
				}
				cols = append(cols, scopeCol{name: name, qual: alias, t: c.Type, nullable: c.Nullable})
			}
			return plan, cols
		case *ast.Join:
			return b.bindFrom(frag, src, qs)
		}
		b.errorf(frag.Orig(0), parser.CodeFeature, "", "%T in FROM is not supported", n.Source)
	case *ast.TableName:
		return b.bindRelation(frag, n, "", qs)
	case *ast.SelectStmt, *ast.SetOprStmt:
		return b.bindFrom(frag, &ast.TableSource{Source: n}, qs)
	default:
		b.errorf(frag.Orig(0), parser.CodeFeature, "", "%T in FROM is not supported", n)
	}
	qs.broken = true
	return &Values{Rows: [][]Expr{{}}}, nil
}

func colsOf(sc []scopeCol) []Column {
	out := make([]Column, len(sc))
	for i, c := range sc {
		out[i] = Column{Name: c.name, Qualifier: c.qual, Type: c.t, Nullable: c.nullable}
	}
	return out
}

// bindRelation resolves a table name: a CTE, a view of this script, or a
// catalog object.
func (b *binder) bindRelation(frag *parser.Fragment, tn *ast.TableName, alias string, qs *scope) (Node, []scopeCol) {
	name := tn.Name.L
	if tn.Schema.L != "" {
		name = tn.Schema.L + "." + name
	}
	p := b.tableNamePos(frag, tn.Name.O)
	qual := alias
	if qual == "" {
		qual = tn.Name.L
	}
	mk := func(cols []Column, nullable bool) []scopeCol {
		out := make([]scopeCol, len(cols))
		for i, c := range cols {
			out[i] = scopeCol{name: c.Name, qual: qual, t: c.Type, nullable: c.Nullable || nullable}
		}
		return out
	}
	if tn.Schema.L == "" {
		if cte := qs.lookupCTE(name); cte != nil {
			sc := mk(cte.cols, false)
			if wt, ok := cte.plan.(*WorkTable); ok {
				return &WorkTable{ID: wt.ID, Name: wt.Name, Columns: colsOf(sc)}, sc
			}
			return &CTERef{Name: cte.name, Alias: qual, Plan: cte.plan, Columns: colsOf(sc)}, sc
		}
	}
	obj, ok := b.cat.lookup(name)
	if !ok {
		b.errorf(p, parser.CodeUndefinedTable, b.didYouMean(name, b.cat.names()), "relation %q does not exist", name)
		qs.broken = true
		return &Values{Rows: [][]Expr{{}}}, nil
	}
	if obj.Kind == catalog.ObjectPipeline {
		b.errorf(p, "42809", "", "%q is a pipeline, not a relation", name)
		qs.broken = true
		return &Values{Rows: [][]Expr{{}}}, nil
	}
	if obj.Kind == catalog.ObjectView {
		b.expandView(obj, p)
	}
	if plan, ok := b.views[strings.ToLower(obj.Name)]; ok {
		sc := mk(plan.Schema(), false)
		return &CTERef{View: true, Name: obj.Name, Alias: qual, Plan: plan, Columns: colsOf(sc)}, sc
	}
	cols := make([]Column, len(obj.Columns))
	for i, c := range obj.Columns {
		cols[i] = Column{Name: c.Name, Qualifier: qual, Type: c.Type, Nullable: !c.NotNull}
	}
	if b.unknownSchema[catalogKey(obj.Name)] {
		qs.broken = true
	}
	stream := b.streams[strings.ToLower(tn.Name.L)]
	if stream && obj.Kind != catalog.ObjectStream && obj.Kind != catalog.ObjectSource {
		b.errorf(p, "42809", "", "FROM STREAM needs a source or stream, and %q is a %s", name, obj.Kind)
	}
	scan := &Scan{Object: obj, Alias: qual, Stream: stream, Columns: cols}
	return scan, mk(cols, false)
}

// expandView binds the definition of a view stored in the catalog (one
// this script did not create) the first time the script reads it, so the
// query plans through the view's own query. A definition that no longer
// binds is reported at the reference.
func (b *binder) expandView(obj *catalog.Object, p int) {
	key := catalogKey(obj.Name)
	if _, ok := b.views[key]; ok || obj.SQL == "" || b.expanding[key] {
		return
	}
	b.expanding[key] = true
	defer delete(b.expanding, key)
	src := parser.NewSource("view "+obj.Name, obj.SQL)
	script, diags := parser.Parse(src, parser.Options{})
	// The stored SQL is the CREATE VIEW statement (or, older, its query).
	var q *parser.Query
	if script != nil && len(script.Stmts) == 1 {
		switch st := script.Stmts[0].(type) {
		case *parser.Select:
			q = st.Query
		case *parser.CreateView:
			q = st.Query
		}
	}
	if len(diags) > 0 || q == nil {
		b.errorf(p, "XX002", "recreate the view with CREATE OR REPLACE VIEW", "the stored definition of view %q does not parse", obj.Name)
		return
	}
	inner := &binder{ctx: b.ctx, reg: b.reg, cat: b.cat, src: src, infer: b.infer, pos: b.pos, views: b.views,
		expanding: b.expanding, unknownSchema: b.unknownSchema, session: b.session, macros: b.macros}
	inner.resetStmt()
	plan := inner.bindTopQuery(q)
	if len(inner.diags) > 0 {
		b.errorf(p, "42P17", inner.diags[0].Error(), "view %q no longer binds", obj.Name)
		return
	}
	b.views[key] = plan
}

// tableNamePos finds the script offset of the next occurrence of a table
// name in the fragment: TiDB records no position for table names, so the
// binder takes the k-th identifier token with that name that is not
// followed by a dot (which would make it a column qualifier).
func (b *binder) tableNamePos(frag *parser.Fragment, name string) int {
	seen := b.tableSeen[frag]
	if seen == nil {
		seen = map[string]int{}
		b.tableSeen[frag] = seen
	}
	key := strings.ToLower(name)
	k := seen[key]
	seen[key] = k + 1
	first, n := -1, 0
	for after := 0; ; {
		off := frag.FindIdent(name, after)
		if off < 0 {
			break
		}
		after = off + 1
		if b.src != nil {
			rest := strings.TrimLeft(b.src.Text[min(off+len(name), len(b.src.Text)):], " \t\r\n\"`")
			if strings.HasPrefix(rest, ".") {
				continue
			}
		}
		if first < 0 {
			first = off
		}
		if n == k {
			return off
		}
		n++
	}
	if first >= 0 {
		return first
	}
	return frag.Orig(0)
}

// bindJoin binds JOIN ... ON / USING / NATURAL and comma joins.
func (b *binder) bindJoin(frag *parser.Fragment, n *ast.Join, qs *scope) (Node, []scopeCol) {
	left, lcols := b.bindFrom(frag, n.Left, qs)
	right, rcols := b.bindFrom(frag, n.Right, qs)
	kind := CrossJoin
	switch n.Tp {
	case ast.LeftJoin:
		kind = LeftJoin
	case ast.RightJoin:
		kind = RightJoin
	}
	if kind == CrossJoin && (n.On != nil || len(n.Using) > 0 || n.NaturalJoin) {
		kind = InnerJoin
	}
	if n.StraightJoin {
		// The parser lowers FULL [OUTER] JOIN to a straight join.
		kind = FullJoin
		if len(n.Using) > 0 || n.NaturalJoin {
			at := frag.Orig(0)
			if b.src != nil {
				if i := strings.Index(strings.ToLower(b.src.Text[at:]), "full"); i >= 0 {
					at += i
				}
			}
			b.errorf(at, parser.CodeFeature, "write the condition with ON, e.g. ON a.k = b.k",
				"FULL JOIN with USING or NATURAL is not supported")
		}
	}
	for i := range rcols {
		if kind == LeftJoin || kind == FullJoin {
			rcols[i].nullable = true
		}
	}
	for i := range lcols {
		if kind == RightJoin || kind == FullJoin {
			lcols[i].nullable = true
		}
	}
	cols := append(append([]scopeCol{}, lcols...), rcols...)
	js := &scope{cols: cols, outer: qs.outer, ctes: qs.ctes, broken: qs.broken}
	c := exprCtx{frag: frag, sc: js, clause: "JOIN conditions"}
	p := frag.Orig(0)
	var cond Expr
	using := n.Using
	if n.NaturalJoin {
		for _, lc := range lcols {
			for _, rc := range rcols {
				if lc.name == rc.name && !lc.hidden && !rc.hidden {
					using = append(using, &ast.ColumnName{Name: ast.NewCIStr(lc.name)})
				}
			}
		}
	}
	for _, u := range using {
		li, lres := (&scope{cols: lcols}).find("", u.Name.O)
		ri, rres := (&scope{cols: rcols}).find("", u.Name.O)
		if lres != found || rres != found {
			if !qs.broken && !js.broken {
				side := "left"
				if lres == found {
					side = "right"
				}
				b.errorf(p, parser.CodeUndefinedColumn, "", "column %q specified in USING clause does not exist in %s table", u.Name.O, side)
			}
			continue
		}
		l := &ColRef{Index: li, Name: lcols[li].name, T: lcols[li].t}
		r := &ColRef{Index: len(lcols) + ri, Name: rcols[ri].name, T: rcols[ri].t}
		eq := b.call(c, "eq", []Expr{l, r}, p)
		if cond == nil {
			cond = eq
		} else {
			cond = b.call(c, "and", []Expr{cond, eq}, p)
		}
		if kind == RightJoin {
			cols[li].hidden = true
		} else {
			cols[len(lcols)+ri].hidden = true
		}
	}
	if n.On != nil {
		onPos := b.nodePos(c, n.On.Expr, p)
		on := b.boolCond(b.bindExpr(c, n.On.Expr, p), onPos, "JOIN ON")
		if cond == nil {
			cond = on
		} else {
			cond = b.call(c, "and", []Expr{cond, on}, p)
		}
	}
	if js.corr {
		qs.corr = true
	}
	if js.broken {
		qs.broken = true
	}
	if hasStream(left) && hasStream(right) && !qs.broken && !timeBounded(cond, len(lcols)) {
		if n.On != nil {
			p = b.nodePos(c, n.On.Expr, p)
		}
		b.errorf(p, parser.CodeFeature, "bound one stream's time by the other's, e.g. AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '10 minutes'",
			"a join of two streams needs a time bound, or its state grows without limit")
	}
	if hasStream(left) && hasStream(right) && !qs.broken && kind != InnerJoin && kind != CrossJoin && kind != LeftJoin {
		if n.On != nil {
			p = b.nodePos(c, n.On.Expr, p)
		}
		b.errorf(p, parser.CodeFeature, "join the streams with an inner JOIN, or a LEFT JOIN with the streams the other way round",
			"a %s JOIN of two streams is not supported yet", kind)
	}
	return &Join{Kind: kind, Left: left, Right: right, Cond: cond, Columns: colsOf(cols)}, cols
}

// hasStream reports whether a plan reads a stream incrementally.
func hasStream(n Node) bool {
	if s, ok := n.(*Scan); ok {
		return s.Stream
	}
	for _, c := range n.Children() {
		if hasStream(c) {
			return true
		}
	}
	return false
}

// timeBounded reports whether a join condition bounds the right input's
// time from below and from above by the left input's (or the other way
// round): comparisons between temporal expressions over one side each.
func timeBounded(cond Expr, nLeft int) bool {
	side := func(e Expr) int { // 1 left, 2 right, 3 both, 0 none
		s := 0
		WalkExpr(e, func(x Expr) bool {
			if r, ok := x.(*ColRef); ok {
				if r.Index < nLeft {
					s |= 1
				} else {
					s |= 2
				}
			}
			return true
		})
		return s
	}
	lower, upper := false, false
	var visit func(Expr)
	visit = func(e Expr) {
		c, ok := e.(*Call)
		if !ok {
			return
		}
		if c.Name == "and" {
			visit(c.Args[0])
			visit(c.Args[1])
			return
		}
		greater := c.Name == "gt" || c.Name == "ge"
		if !greater && c.Name != "lt" && c.Name != "le" {
			return
		}
		x, y := c.Args[0], c.Args[1]
		if !isTimeish(x.Type()) || !isTimeish(y.Type()) {
			return
		}
		sx, sy := side(x), side(y)
		switch {
		case sx == 2 && sy == 1:
		case sx == 1 && sy == 2:
			greater = !greater
		default:
			return
		}
		if greater {
			lower = true
		} else {
			upper = true
		}
	}
	visit(cond)
	return lower && upper
}

func isTimeish(t catalog.Type) bool {
	return t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ || t.Kind == catalog.KindDate
}

// expandStar expands * or t.* into select items.
func (b *binder) expandStar(frag *parser.Fragment, w *ast.WildCardField, qs *scope, p int) []selectItem {
	qual := w.Table.L
	var out []selectItem
	for i, c := range qs.cols {
		if c.name == "window_start" && c.qual == "" || c.name == "window_end" && c.qual == "" {
			continue
		}
		if qual != "" && !strings.EqualFold(c.qual, qual) || qual == "" && c.hidden {
			continue
		}
		out = append(out, selectItem{expr: &ColRef{Index: i, Name: c.name, T: c.t}, name: c.name, pos: p})
	}
	if qual != "" && len(out) == 0 && !qs.broken {
		b.errorf(p, parser.CodeUndefinedTable, b.didYouMean(qual, b.qualifiers(qs)), "missing FROM-clause entry for table %q", qual)
	}
	return out
}
