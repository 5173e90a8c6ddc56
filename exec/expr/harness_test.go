package expr

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cockroachdb/datadriven"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file is the test harness: a small expression language that binds
// through the planner's function registry (as the binder does: overload
// resolution and implicit casts), input tables built with Arrow builders
// from literal text, and an independent value formatter. Every expression
// is evaluated four ways (constants folded; not folded; constants hidden
// from the kernels; over arrays sliced at an offset) and the results must
// agree.

// --- tables -------------------------------------------------------------------

type table struct {
	names []string
	types []catalog.Type
	rows  [][]string // cell text, "NULL" for NULL
}

func parseTable(t testing.TB, input string) *table {
	lines := strings.Split(strings.TrimSpace(input), "\n")
	tb := &table{}
	for _, def := range splitTop(lines[0], ',') {
		def = strings.TrimSpace(def)
		name, typ, ok := strings.Cut(def, " ")
		if !ok {
			t.Fatalf("column definition %q: want NAME TYPE", def)
		}
		ct, err := catalog.ParseTypeString(strings.TrimSpace(typ))
		if err != nil {
			t.Fatalf("column %s: %v", name, err)
		}
		tb.names = append(tb.names, name)
		tb.types = append(tb.types, ct)
	}
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		cells := splitTop(l, ',')
		if len(cells) != len(tb.names) {
			t.Fatalf("row %q has %d cells, want %d", l, len(cells), len(tb.names))
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		tb.rows = append(tb.rows, cells)
	}
	return tb
}

// splitTop splits at sep outside quotes and parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	inQ := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// record builds the table's record with one junk row in front, sliced off,
// so that every column has offset 1 when offset is true.
func (tb *table) record(t testing.TB, offset bool) arrow.Record {
	mem := memory.DefaultAllocator
	fields := make([]arrow.Field, len(tb.names))
	cols := make([]arrow.Array, len(tb.names))
	for c := range tb.names {
		fields[c] = arrow.Field{Name: tb.names[c], Type: tb.types[c].Arrow(), Nullable: true}
		bld := array.NewBuilder(mem, tb.types[c].Arrow())
		cells := make([]string, 0, len(tb.rows)+1)
		if offset {
			if len(tb.rows) > 0 {
				cells = append(cells, tb.rows[len(tb.rows)-1][c])
			} else {
				cells = append(cells, "NULL")
			}
		}
		for _, r := range tb.rows {
			cells = append(cells, r[c])
		}
		for _, cell := range cells {
			appendCell(t, bld, tb.types[c], cell)
		}
		cols[c] = bld.NewArray()
		bld.Release()
	}
	n := int64(len(tb.rows))
	if offset {
		n++
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), cols, n)
	for _, c := range cols {
		c.Release()
	}
	if offset {
		s := rec.NewSlice(1, n)
		rec.Release()
		return s
	}
	return rec
}

func appendCell(t testing.TB, b array.Builder, typ catalog.Type, cell string) {
	if cell == "NULL" {
		b.AppendNull()
		return
	}
	v := unquote(cell)
	fail := func(err error) { t.Fatalf("cell %q as %s: %v", cell, typ, err) }
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		bb.Append(v == "true")
	case *array.Int8Builder:
		x, err := strconv.ParseInt(v, 10, 8)
		if err != nil {
			fail(err)
		}
		bb.Append(int8(x))
	case *array.Int16Builder:
		x, err := strconv.ParseInt(v, 10, 16)
		if err != nil {
			fail(err)
		}
		bb.Append(int16(x))
	case *array.Int32Builder:
		x, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			fail(err)
		}
		bb.Append(int32(x))
	case *array.Int64Builder:
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fail(err)
		}
		bb.Append(x)
	case *array.Float32Builder:
		x, err := strconv.ParseFloat(v, 32)
		if err != nil {
			fail(err)
		}
		bb.Append(float32(x))
	case *array.Float64Builder:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fail(err)
		}
		bb.Append(x)
	case *array.Decimal128Builder:
		bb.Append(testDecimal(t, v, typ.Scale))
	case *array.StringBuilder:
		bb.Append(v)
	case *array.BinaryBuilder:
		x, err := hex.DecodeString(strings.TrimPrefix(v, "x"))
		if err != nil {
			fail(err)
		}
		bb.Append(x)
	case *array.Date32Builder:
		tm, err := time.Parse("2006-01-02", v)
		if err != nil {
			fail(err)
		}
		bb.Append(arrow.Date32(tm.Unix() / 86400))
	case *array.Time64Builder:
		tm, err := time.Parse("15:04:05.999999", v)
		if err != nil {
			fail(err)
		}
		bb.Append(arrow.Time64(tm.Hour()*3600e6 + tm.Minute()*60e6 + tm.Second()*1e6 + tm.Nanosecond()/1000))
	case *array.TimestampBuilder:
		tm, err := time.Parse("2006-01-02 15:04:05.999999", v)
		if err != nil {
			fail(err)
		}
		bb.Append(arrow.Timestamp(tm.UnixMicro()))
	case *array.MonthDayNanoIntervalBuilder:
		p := strings.Split(v, ":")
		if len(p) != 3 {
			fail(fmt.Errorf("interval cells are months:days:nanos"))
		}
		m, _ := strconv.Atoi(p[0])
		d, _ := strconv.Atoi(p[1])
		ns, _ := strconv.ParseInt(p[2], 10, 64)
		bb.Append(arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns})
	default:
		t.Fatalf("no cell parser for %T", b)
	}
}

// testDecimal reads a decimal numeral exactly at scale (no rounding).
func testDecimal(t testing.TB, v string, scale int) decimal128.Num {
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	ip, fp, _ := strings.Cut(v, ".")
	if len(fp) > scale {
		t.Fatalf("decimal %q has more than %d fraction digits", v, scale)
	}
	fp += strings.Repeat("0", scale-len(fp))
	bi, ok := new(big.Int).SetString(ip+fp, 10)
	if !ok {
		t.Fatalf("bad decimal %q", v)
	}
	if neg {
		bi.Neg(bi)
	}
	return decimal128.FromBigInt(bi)
}

// --- value formatting -----------------------------------------------------------

// fmtValue renders row i of a independently of the package's own text
// output: decimals through math/big, dates and times through package time,
// strings quoted, intervals as months:days:nanos.
func fmtValue(a arrow.Array, i int, t catalog.Type) string {
	if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
		return "NULL"
	}
	switch x := a.(type) {
	case *array.Boolean:
		return strconv.FormatBool(x.Value(i))
	case *array.Int8:
		return strconv.Itoa(int(x.Value(i)))
	case *array.Int16:
		return strconv.Itoa(int(x.Value(i)))
	case *array.Int32:
		return strconv.Itoa(int(x.Value(i)))
	case *array.Int64:
		return strconv.FormatInt(x.Value(i), 10)
	case *array.Float32:
		return strconv.FormatFloat(float64(x.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(x.Value(i), 'g', -1, 64)
	case *array.Decimal128:
		bi := x.Value(i).BigInt()
		neg := bi.Sign() < 0
		s := new(big.Int).Abs(bi).String()
		sc := t.Scale
		if sc > 0 {
			if len(s) <= sc {
				s = strings.Repeat("0", sc-len(s)+1) + s
			}
			s = s[:len(s)-sc] + "." + s[len(s)-sc:]
		}
		if neg {
			s = "-" + s
		}
		return s
	case *array.String:
		return "'" + strings.ReplaceAll(x.Value(i), "'", "''") + "'"
	case *array.Binary:
		return "x'" + hex.EncodeToString(x.Value(i)) + "'"
	case *array.Date32:
		return time.Unix(int64(x.Value(i))*86400, 0).UTC().Format("2006-01-02")
	case *array.Time64:
		return time.UnixMicro(int64(x.Value(i))).UTC().Format("15:04:05.999999")
	case *array.Timestamp:
		s := time.UnixMicro(int64(x.Value(i))).UTC().Format("2006-01-02 15:04:05.999999")
		if t.Kind == catalog.KindTimestampTZ {
			s += "Z"
		}
		return s
	case *array.MonthDayNanoInterval:
		v := x.Value(i)
		return fmt.Sprintf("%d:%d:%d", v.Months, v.Days, v.Nanoseconds)
	}
	return fmt.Sprintf("?%T", a)
}

// --- expressions ----------------------------------------------------------------

// exprParser reads the test expression language:
//
//	literals    1  -5  1.50 (DECIMAL(3,2))  1.5e0 (DOUBLE)  'text'  NULL  true
//	typed       DATE '2024-01-31'  INTERVAL '1 month'  DECIMAL(5,2) '1.5'  (any type name, value cast from text)
//	columns     a  "b"
//	calls       add(a, 1)  substring(s, 2, 3)  (registry names, resolved as the binder does)
//	casts       cast(x AS INT)  try_cast(x AS DATE)  implicit_cast(x AS VARCHAR(3))
//	CASE        case when c then r [when ...] [else e] end
//	parameters  param(1, BIGINT)
type exprParser struct {
	toks []string
	pos  int
	tb   *table
	reg  *planner.Registry
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '\'':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string in %q", s)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("unterminated identifier in %q", s)
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n(),'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *exprParser) expect(tok string) error {
	if got := p.next(); !strings.EqualFold(got, tok) {
		return fmt.Errorf("expected %q, got %q", tok, got)
	}
	return nil
}

func parseTestExpr(s string, tb *table, reg *planner.Registry) (planner.Expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks, tb: tb, reg: reg}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.peek())
	}
	return e, nil
}

// typeText reads a type name up to the point where it ends: a name with an
// optional parenthesised argument list.
func (p *exprParser) typeText() string {
	var words []string
	for {
		w := p.peek()
		if w == "" || w == ")" || w == "," || strings.HasPrefix(w, "'") {
			break
		}
		if w == "(" {
			j := p.pos
			depth := 0
			var b strings.Builder
			for ; j < len(p.toks); j++ {
				b.WriteString(p.toks[j])
				if p.toks[j] == "(" {
					depth++
				}
				if p.toks[j] == ")" {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			words[len(words)-1] += b.String()
			p.pos = j + 1
			continue
		}
		words = append(words, w)
		p.pos++
	}
	return strings.Join(words, " ")
}

func isTypeWord(w string) bool {
	_, err := catalog.ParseTypeString(w)
	return err == nil
}

func (p *exprParser) expr() (planner.Expr, error) {
	tok := p.next()
	low := strings.ToLower(tok)
	switch {
	case tok == "":
		return nil, fmt.Errorf("unexpected end of expression")
	case strings.HasPrefix(tok, "'"):
		return &planner.Const{Value: unquote(tok), T: catalog.String}, nil
	case low == "null":
		return &planner.Const{T: catalog.Null}, nil
	case low == "true" || low == "false":
		return &planner.Const{Value: low == "true", T: catalog.Bool}, nil
	case tok[0] == '-' || unicode.IsDigit(rune(tok[0])):
		return numberLiteral(tok)
	case low == "case":
		return p.caseExpr()
	case low == "cast" || low == "try_cast" || low == "implicit_cast":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		arg, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("as"); err != nil {
			return nil, err
		}
		tt := p.typeText()
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		t, err := catalog.ParseTypeString(tt)
		if err != nil {
			return nil, err
		}
		return &planner.Cast{Arg: arg, T: t, Try: low == "try_cast", Implicit: low == "implicit_cast"}, nil
	case low == "param":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		idx, err := strconv.Atoi(p.next())
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		t, err := catalog.ParseTypeString(p.typeText())
		if err != nil {
			return nil, err
		}
		return &planner.Param{Index: idx, T: t}, p.expect(")")
	}
	// A typed literal: TYPE 'text' or TYPE(args) 'text'.
	save := p.pos
	p.pos--
	if tt := p.typeText(); strings.HasPrefix(p.peek(), "'") && isTypeWord(tt) {
		t, _ := catalog.ParseTypeString(tt)
		v, err := castScalar(unquote(p.next()), catalog.String, t)
		if err != nil {
			return nil, fmt.Errorf("literal %s: %v", tt, err)
		}
		return &planner.Const{Value: v, T: t}, nil
	}
	p.pos = save
	if p.peek() == "(" {
		return p.call(low)
	}
	name := strings.Trim(tok, `"`)
	if p.tb != nil {
		for i, n := range p.tb.names {
			if n == name {
				return &planner.ColRef{Index: i, Name: n, T: p.tb.types[i]}, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown column %q", name)
}

func numberLiteral(tok string) (planner.Expr, error) {
	if strings.ContainsAny(tok, "eE") {
		f, err := strconv.ParseFloat(tok, 64)
		return &planner.Const{Value: f, T: catalog.Float64}, err
	}
	if strings.Contains(tok, ".") {
		neg := strings.HasPrefix(tok, "-")
		ip, fp, _ := strings.Cut(strings.TrimPrefix(tok, "-"), ".")
		ip = strings.TrimLeft(ip, "0")
		bi, ok := new(big.Int).SetString("0"+ip+fp, 10)
		if !ok {
			return nil, fmt.Errorf("bad number %q", tok)
		}
		if neg {
			bi.Neg(bi)
		}
		return &planner.Const{Value: decimal128.FromBigInt(bi), T: catalog.Decimal(max(len(ip)+len(fp), 1), len(fp))}, nil
	}
	v, err := strconv.ParseInt(tok, 10, 64)
	if err != nil {
		return nil, err
	}
	t := catalog.Int64
	if v >= -1<<31 && v < 1<<31 {
		t = catalog.Int32
	}
	return &planner.Const{Value: v, T: t}, nil
}

func (p *exprParser) caseExpr() (planner.Expr, error) {
	c := &planner.Case{}
	var results []planner.Expr
	for strings.EqualFold(p.peek(), "when") {
		p.next()
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("then"); err != nil {
			return nil, err
		}
		res, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, planner.When{Cond: cond, Result: res})
		results = append(results, res)
	}
	if strings.EqualFold(p.peek(), "else") {
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Else = e
		results = append(results, e)
	}
	if err := p.expect("end"); err != nil {
		return nil, err
	}
	var t catalog.Type
	for _, r := range results {
		ct, ok := catalog.CommonSuperType(t, r.Type())
		if !ok {
			return nil, fmt.Errorf("CASE types %s and %s", t, r.Type())
		}
		t = ct
	}
	c.T = t
	for i := range c.Whens {
		c.Whens[i].Result = coerceTest(c.Whens[i].Result, t)
	}
	if c.Else != nil {
		c.Else = coerceTest(c.Else, t)
	}
	return c, nil
}

func coerceTest(e planner.Expr, t catalog.Type) planner.Expr {
	if e.Type() == t {
		return e
	}
	if k, ok := e.(*planner.Const); ok && k.Value == nil {
		return &planner.Const{T: t}
	}
	return &planner.Cast{Arg: e, T: t, Implicit: true}
}

func (p *exprParser) call(name string) (planner.Expr, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var args []planner.Expr
	for p.peek() != ")" {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.peek() == "," {
			p.next()
		}
	}
	p.next()
	f, ok := p.reg.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown function %s", name)
	}
	types := make([]catalog.Type, len(args))
	for i, a := range args {
		types[i] = a.Type()
	}
	res, err := p.reg.Resolve(f, types)
	if err != nil {
		return nil, fmt.Errorf("%s%v: %v", name, types, err)
	}
	call := &planner.Call{Fn: f, Name: f.Name, T: res.Result}
	for i, a := range args {
		call.Args = append(call.Args, coerceTest(a, res.Params[i]))
	}
	return call, nil
}

// --- running ----------------------------------------------------------------------

// evalModes evaluates e over tb every way and returns the text of the
// result, or of all the differing results.
func evalModes(t testing.TB, e planner.Expr, tb *table, env *Env) string {
	type mode struct {
		name   string
		opts   compileOptions
		offset bool
	}
	modes := []mode{
		{"fold", compileOptions{fold: true}, false},
		{"nofold", compileOptions{}, false},
		{"materialized", compileOptions{materialize: true}, false},
		{"offset", compileOptions{fold: true}, true},
	}
	var outs []string
	for _, m := range modes {
		rec := tb.record(t, m.offset)
		outs = append(outs, evalOnce(t, e, rec, env, m.opts))
		rec.Release()
	}
	same := true
	for _, o := range outs[1:] {
		if o != outs[0] {
			same = false
		}
	}
	if same {
		return outs[0]
	}
	var b strings.Builder
	for i, m := range modes {
		fmt.Fprintf(&b, "%s: %s\n", m.name, outs[i])
	}
	return strings.TrimSpace(b.String())
}

func evalOnce(t testing.TB, e planner.Expr, rec arrow.Record, env *Env, opts compileOptions) string {
	ev, err := compileWith(e, rec.Schema(), env, opts)
	if err != nil {
		return "compile error: " + err.Error()
	}
	out, err := ev.Eval(context.Background(), rec)
	if err != nil {
		var xe *Error
		if errors.As(err, &xe) {
			return fmt.Sprintf("error %s: %s (row %d)", xe.Code, err, xe.Row)
		}
		return "error: " + err.Error()
	}
	defer out.Release()
	if out.Len() != int(rec.NumRows()) {
		t.Errorf("%s: %d results for %d rows", e, out.Len(), rec.NumRows())
	}
	if !arrow.TypeEqual(out.DataType(), ev.Type()) {
		t.Errorf("%s: result type %s, Type() says %s", e, out.DataType(), ev.Type())
	}
	typ := e.Type()
	parts := make([]string, out.Len())
	for i := range parts {
		parts[i] = fmtValue(out, i, typ)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// oneRow is the table of the constant-only tests: one row, one column.
func oneRow() *table {
	return &table{names: []string{"_"}, types: []catalog.Type{catalog.Int32}, rows: [][]string{{"0"}}}
}

// TestDataDriven runs the testdata files. Commands:
//
//	table            columns "name TYPE, ..." then rows of cells
//	eval [tz=Zone]   one expression a line; prints "expr -> TYPE: result"
func TestDataDriven(t *testing.T) {
	reg := planner.NewRegistry()
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		tb := oneRow()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "table":
				tb = parseTable(t, d.Input)
				return ""
			case "eval":
				env := &Env{Now: time.Date(2024, 3, 15, 10, 30, 0, 0, time.UTC)}
				for _, a := range d.CmdArgs {
					if a.Key == "tz" {
						l, err := time.LoadLocation(a.Vals[0])
						if err != nil {
							t.Fatal(err)
						}
						env.Location = l
					}
				}
				var b strings.Builder
				for _, line := range strings.Split(d.Input, "\n") {
					line = strings.TrimSpace(line)
					if line == "" || strings.HasPrefix(line, "#") {
						continue
					}
					e, err := parseTestExpr(line, tb, reg)
					if err != nil {
						fmt.Fprintf(&b, "%s -> bind error: %v\n", line, err)
						continue
					}
					fmt.Fprintf(&b, "%s -> %s: %s\n", line, e.Type(), evalModes(t, e, tb, env))
				}
				return b.String()
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}
