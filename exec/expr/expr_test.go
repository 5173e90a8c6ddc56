package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// allTypesTable has a column of every SQL type: a typical value, a second
// one, and a NULL row.
func allTypesTable(t testing.TB) *table {
	return parseTable(t, `i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f32 REAL, f64 DOUBLE, dec DECIMAL(10,2), s VARCHAR, bin VARBINARY, d DATE, tm TIME, ts TIMESTAMP, tstz TIMESTAMPTZ, iv INTERVAL, b BOOLEAN, j JSON
2, 3, 4, 5, 2.5, 2.5, 2.50, 'day', x616263, 2024-02-29, 10:11:12, 2024-02-29 10:11:12, 2024-02-29 10:11:12, 1:2:3000, true, '{"a": 1}'
-1, -2, -3, 7, 0.5, -0.5, -1.25, 'month', x00, 1999-12-31, 00:00:00, 1999-12-31 23:59:59, 1999-12-31 23:59:59, 0:1:0, false, '[1]'
NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`)
}

// columnOfType returns a ColRef of the table with type t.
func columnOfType(tb *table, t catalog.Type) (planner.Expr, bool) {
	for i, ct := range tb.types {
		if ct == t {
			return &planner.ColRef{Index: i, Name: tb.names[i], T: ct}, true
		}
	}
	return nil, false
}

// familyTypes lists the types an argument of a registry family is tried
// with.
func familyTypes(p planner.ParamType) []catalog.Type {
	switch p.Kind {
	case planner.ParamExact:
		return []catalog.Type{p.T}
	case planner.ParamNumeric:
		return []catalog.Type{catalog.Int64, catalog.Int32, catalog.Float64, catalog.Decimal(10, 2)}
	case planner.ParamInteger:
		return []catalog.Type{catalog.Int64, catalog.Int32}
	case planner.ParamString:
		return []catalog.Type{catalog.String, catalog.JSON}
	case planner.ParamTemporal:
		return []catalog.Type{catalog.Timestamp, catalog.Date, catalog.TimestampTZ, catalog.Interval}
	}
	return []catalog.Type{catalog.Int64, catalog.String, catalog.Decimal(10, 2), catalog.Date, catalog.Bool}
}

// TestRegistryCoverage walks every scalar function of the planner's
// registry and every signature (with each type of a family), compiles a
// call over columns of those types and evaluates it: the evaluator must
// support all of them, and may only fail with a user error (never an
// internal one).
func TestRegistryCoverage(t *testing.T) {
	reg := planner.NewRegistry()
	tb := allTypesTable(t)
	rec := tb.record(t, false)
	defer rec.Release()
	env := &Env{Now: time.Date(2024, 3, 15, 10, 30, 0, 0, time.UTC)}
	tried := 0
	for _, f := range reg.Funcs() {
		if f.Kind != planner.FuncScalar || planner.IsArrayFunc(f.Name) {
			continue // array functions: the binder types them (testdata/slt/arrays.slt)
		}
		for _, sig := range f.Sigs {
			// Build argument type combinations: the first choice for every
			// parameter, then each alternative of one parameter at a time.
			base := make([]catalog.Type, len(sig.Params))
			for i, p := range sig.Params {
				base[i] = familyTypes(p)[0]
			}
			combos := [][]catalog.Type{base}
			for i, p := range sig.Params {
				for _, alt := range familyTypes(p)[1:] {
					c := append([]catalog.Type(nil), base...)
					c[i] = alt
					if p.Kind == planner.ParamGeneric {
						for k, q := range sig.Params {
							if q.Kind == planner.ParamGeneric {
								c[k] = alt
							}
						}
					}
					combos = append(combos, c)
				}
			}
			for _, types := range combos {
				res, err := reg.Resolve(f, types)
				if err != nil {
					continue // this combination is not one the signature takes
				}
				call := &planner.Call{Fn: f, Name: f.Name, T: res.Result}
				for i, at := range types {
					col, ok := columnOfType(tb, at)
					if !ok {
						t.Fatalf("no column of type %s", at)
					}
					call.Args = append(call.Args, coerceTest(col, res.Params[i]))
				}
				tried++
				ev, err := Compile(call, rec.Schema(), env)
				if err != nil {
					t.Errorf("%s (%s): Compile: %v", call, sig, err)
					continue
				}
				out, err := ev.Eval(context.Background(), rec)
				var xe *Error
				switch {
				case err == nil:
					if out.Len() != int(rec.NumRows()) || !arrow.TypeEqual(out.DataType(), res.Result.Arrow()) {
						t.Errorf("%s: %d rows of %s, want %d of %s", call, out.Len(), out.DataType(), rec.NumRows(), res.Result.Arrow())
					}
					out.Release()
				case errors.As(err, &xe) && xe.Code != CodeInternal:
					// A user-level error (a bad unit, a domain error) is fine.
				default:
					t.Errorf("%s: Eval: %v", call, err)
				}
			}
		}
	}
	if tried < 200 {
		t.Errorf("only %d calls tried", tried)
	}
}

// valuesRunner runs the subquery plans of the tests: VALUES, optionally
// under a Filter and a Project, evaluated with the package's own compiler.
// It counts runs, to check caching.
type valuesRunner struct {
	runs int
}

func (r *valuesRunner) RunSubquery(ctx context.Context, plan planner.Node, outer []OuterRow) (arrow.Record, error) {
	r.runs++
	return r.run(ctx, plan, &Env{Outer: outer})
}

func (r *valuesRunner) run(ctx context.Context, plan planner.Node, env *Env) (arrow.Record, error) {
	switch n := plan.(type) {
	case *planner.Values:
		fields := make([]arrow.Field, len(n.Columns))
		cols := make([]arrow.Array, len(n.Columns))
		empty := emptyRecord(1)
		b := &batch{ctx: ctx, env: env, alloc: memory.DefaultAllocator, n: len(n.Rows)}
		for c, col := range n.Columns {
			fields[c] = arrow.Field{Name: col.Name, Type: col.Type.Arrow(), Nullable: true}
			vals := make([]any, len(n.Rows))
			for i, row := range n.Rows {
				ev, err := Compile(row[c], empty.Schema(), env)
				if err != nil {
					return nil, err
				}
				a, err := ev.Eval(ctx, empty)
				if err != nil {
					return nil, err
				}
				vals[i] = scalarAt(a, 0, col.Type)
				a.Release()
			}
			cols[c] = buildArray(b, col.Type, vals)
		}
		return array.NewRecord(arrow.NewSchema(fields, nil), cols, int64(len(n.Rows))), nil
	case *planner.Filter:
		in, err := r.run(ctx, n.Input, env)
		if err != nil {
			return nil, err
		}
		defer in.Release()
		ev, err := Compile(n.Cond, in.Schema(), env)
		if err != nil {
			return nil, err
		}
		keep, err := ev.Eval(ctx, in)
		if err != nil {
			return nil, err
		}
		defer keep.Release()
		sel := selection(trueBits(keep), keep.Len())
		cols := make([]arrow.Array, in.NumCols())
		for i := range cols {
			cols[i] = take(memory.DefaultAllocator, in.Column(i), sel)
		}
		return array.NewRecord(in.Schema(), cols, int64(len(sel))), nil
	}
	return nil, fmt.Errorf("valuesRunner: unsupported plan %T", plan)
}

func values1(t catalog.Type, vals ...any) *planner.Values {
	v := &planner.Values{Columns: []planner.Column{{Name: "v", Type: t}}}
	for _, x := range vals {
		v.Rows = append(v.Rows, []planner.Expr{&planner.Const{Value: x, T: t}})
	}
	return v
}

func TestSubqueries(t *testing.T) {
	tb := parseTable(t, "x BIGINT\n1\n2\n3\nNULL")
	x := &planner.ColRef{Index: 0, Name: "x", T: catalog.Int64}
	sub := func(kind planner.SubqueryKind, op string, not bool, plan planner.Node, typ catalog.Type) *planner.Subquery {
		s := &planner.Subquery{Kind: kind, Plan: plan, Op: op, Not: not, T: catalog.Bool, ID: 1}
		if kind == planner.SubScalar {
			s.T = typ
		}
		if kind == planner.SubIn || kind == planner.SubAny || kind == planner.SubAll {
			s.Arg = x
		}
		return s
	}
	i64 := catalog.Int64
	tests := []struct {
		name string
		e    planner.Expr
		want string
	}{
		{"scalar", sub(planner.SubScalar, "", false, values1(i64, int64(42)), i64), "[42, 42, 42, 42]"},
		{"scalar empty", sub(planner.SubScalar, "", false, values1(i64), i64), "[NULL, NULL, NULL, NULL]"},
		{"scalar two rows", sub(planner.SubScalar, "", false, values1(i64, int64(1), int64(2)), i64),
			"error 21000: more than one row returned by a subquery used as an expression (row -1)"},
		{"exists", sub(planner.SubExists, "", false, values1(i64, int64(1)), i64), "[true, true, true, true]"},
		{"not exists", sub(planner.SubExists, "", true, values1(i64, int64(1)), i64), "[false, false, false, false]"},
		{"exists empty", sub(planner.SubExists, "", false, values1(i64), i64), "[false, false, false, false]"},
		{"in", sub(planner.SubIn, "eq", false, values1(i64, int64(1), int64(3)), i64), "[true, false, true, NULL]"},
		{"in with null", sub(planner.SubIn, "eq", false, values1(i64, int64(1), nil), i64), "[true, NULL, NULL, NULL]"},
		{"not in with null", sub(planner.SubIn, "eq", true, values1(i64, int64(1), nil), i64), "[false, NULL, NULL, NULL]"},
		{"not in", sub(planner.SubIn, "eq", true, values1(i64, int64(1), int64(3)), i64), "[false, true, false, NULL]"},
		{"in empty", sub(planner.SubIn, "eq", false, values1(i64), i64), "[false, false, false, false]"},
		{"not in empty", sub(planner.SubIn, "eq", true, values1(i64), i64), "[true, true, true, true]"},
		{"gt any", sub(planner.SubAny, "gt", false, values1(i64, int64(1), int64(2)), i64), "[false, true, true, NULL]"},
		{"gt any null", sub(planner.SubAny, "gt", false, values1(i64, int64(2), nil), i64), "[NULL, NULL, true, NULL]"},
		{"gt all", sub(planner.SubAll, "gt", false, values1(i64, int64(1), int64(2)), i64), "[false, false, true, NULL]"},
		{"gt all null", sub(planner.SubAll, "gt", false, values1(i64, int64(2), nil), i64), "[false, false, NULL, NULL]"},
		{"le all", sub(planner.SubAll, "le", false, values1(i64, int64(2), int64(3)), i64), "[true, true, false, NULL]"},
		{"all empty", sub(planner.SubAll, "lt", false, values1(i64), i64), "[true, true, true, true]"},
		{"any empty", sub(planner.SubAny, "lt", false, values1(i64), i64), "[false, false, false, false]"},
		{"ne any", sub(planner.SubAny, "ne", false, values1(i64, int64(2), int64(2)), i64), "[true, false, true, NULL]"},
		{"ne any two", sub(planner.SubAny, "ne", false, values1(i64, int64(1), int64(2)), i64), "[true, true, true, NULL]"},
		{"eq all", sub(planner.SubAll, "eq", false, values1(i64, int64(2), int64(2)), i64), "[false, true, false, NULL]"},
		{"eq all null", sub(planner.SubAll, "eq", false, values1(i64, int64(2), nil), i64), "[false, NULL, false, NULL]"},
		{"ne all", sub(planner.SubAll, "ne", false, values1(i64, int64(1), int64(3)), i64), "[false, true, false, NULL]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &valuesRunner{}
			env := &Env{Subqueries: r, Cache: NewStatementCache()}
			rec := tb.record(t, false)
			defer rec.Release()
			got := evalOnce(t, tc.e, rec, env, compileOptions{fold: true})
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			// Uncorrelated: run once per statement, even across batches and
			// compiled expressions.
			evalOnce(t, tc.e, rec, env, compileOptions{fold: true})
			if r.runs != 1 {
				t.Errorf("the subquery ran %d times, want once", r.runs)
			}
		})
	}
}

func TestCorrelatedSubquery(t *testing.T) {
	tb := parseTable(t, "x BIGINT, y VARCHAR\n1, 'a'\n2, 'b'\n1, 'c'\n3, 'd'\n2, 'e'\nNULL, 'f'")
	i64 := catalog.Int64
	inner := values1(i64, int64(1), int64(2), int64(2))
	col := &planner.ColRef{Index: 0, Name: "v", T: i64}
	outer := &planner.OuterRef{Depth: 1, Index: 0, Name: "x", T: i64}
	eq := func(a, b planner.Expr) planner.Expr {
		f, _ := planner.NewRegistry().Lookup("eq")
		return &planner.Call{Fn: f, Name: "eq", Args: []planner.Expr{a, b}, T: catalog.Bool}
	}
	filter := &planner.Filter{Input: inner, Cond: eq(col, outer)}
	tests := []struct {
		name string
		e    planner.Expr
		want string
		runs int
	}{
		{"exists", &planner.Subquery{Kind: planner.SubExists, Plan: filter, Correlated: true, T: catalog.Bool},
			"[true, true, true, false, true, false]", 4},
		{"scalar", &planner.Subquery{Kind: planner.SubScalar, Plan: &planner.Filter{Input: values1(i64, int64(1), int64(3)), Cond: eq(col, outer)}, Correlated: true, T: i64},
			"[1, NULL, 1, 3, NULL, NULL]", 4},
		{"scalar too many", &planner.Subquery{Kind: planner.SubScalar, Plan: filter, Correlated: true, T: i64},
			"error 21000: more than one row returned by a subquery used as an expression (row 1)", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &valuesRunner{}
			env := &Env{Subqueries: r}
			rec := tb.record(t, false)
			defer rec.Release()
			if got := evalOnce(t, tc.e, rec, env, compileOptions{fold: true}); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if r.runs != tc.runs {
				t.Errorf("ran %d times, want %d (once per distinct outer value)", r.runs, tc.runs)
			}
		})
	}
	// A correlated subquery inside CASE runs only for the rows that reach it,
	// with the outer row of the input (not of the branch's sub-batch).
	reg := planner.NewRegistry()
	gt, _ := reg.Lookup("gt")
	cs := &planner.Case{T: i64, Whens: []planner.When{{
		Cond:   &planner.Call{Fn: gt, Name: "gt", Args: []planner.Expr{&planner.ColRef{Index: 0, Name: "x", T: i64}, &planner.Const{Value: int64(1), T: i64}}, T: catalog.Bool},
		Result: &planner.Subquery{Kind: planner.SubScalar, Plan: &planner.Filter{Input: values1(i64, int64(2), int64(3)), Cond: eq(col, outer)}, Correlated: true, T: i64},
	}}, Else: &planner.Const{Value: int64(0), T: i64}}
	r := &valuesRunner{}
	rec := tb.record(t, false)
	defer rec.Release()
	if got, want := evalOnce(t, cs, rec, &Env{Subqueries: r}, compileOptions{fold: true}), "[0, 2, 0, 3, 2, 0]"; got != want {
		t.Errorf("CASE over a correlated subquery: got %s, want %s", got, want)
	}
	if r.runs != 2 {
		t.Errorf("ran %d times, want 2", r.runs)
	}
}

func TestParamsAndOuterRefs(t *testing.T) {
	tb := parseTable(t, "x BIGINT\n1\n2")
	rec := tb.record(t, false)
	defer rec.Release()
	reg := planner.NewRegistry()
	add, _ := reg.Lookup("add")
	p1 := &planner.Param{Index: 1, T: catalog.Int64}
	e := &planner.Call{Fn: add, Name: "add", Args: []planner.Expr{&planner.ColRef{Index: 0, Name: "x", T: catalog.Int64}, p1}, T: catalog.Int64}
	for _, tc := range []struct {
		params []any
		want   string
	}{
		{[]any{int64(10)}, "[11, 12]"},
		{[]any{"20"}, "[21, 22]"},
		{[]any{nil}, "[NULL, NULL]"},
		{nil, "error 22023: there is no parameter $1 (row -1)"},
		{[]any{"abc"}, "error 22P02: invalid input syntax for type bigint: \"abc\" (row 0)"},
	} {
		env := &Env{Params: tc.params}
		if got := evalOnce(t, e, rec, env, compileOptions{fold: true}); got != tc.want {
			t.Errorf("params %v: got %s, want %s", tc.params, got, tc.want)
		}
	}
	// The same compiled expression sees new parameter values.
	env := &Env{Params: []any{int64(1)}}
	ev, err := Compile(e, rec.Schema(), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int64{1, 100} {
		env.Params[0] = p
		out, err := ev.Eval(context.Background(), rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(*array.Int64).Value(1); got != 2+p {
			t.Errorf("param %d: got %d", p, got)
		}
		out.Release()
	}

	// OuterRef reads the enclosing row of Env.Outer.
	outerRec := parseTable(t, "a VARCHAR, b DECIMAL(5,2)\n'x', 1.25\n'y', 2.50").record(t, false)
	defer outerRec.Release()
	o := &planner.OuterRef{Depth: 1, Index: 1, Name: "b", T: catalog.Decimal(5, 2)}
	envO := &Env{Outer: []OuterRow{{Rec: outerRec, Row: 1}}}
	if got := evalOnce(t, o, rec, envO, compileOptions{fold: true}); got != "[2.50, 2.50]" {
		t.Errorf("outer ref: got %s", got)
	}
	o2 := &planner.OuterRef{Depth: 2, Index: 0, Name: "a", T: catalog.String}
	envO2 := &Env{Outer: []OuterRow{{Rec: outerRec, Row: 0}, {Rec: rec, Row: 0}}}
	if got := evalOnce(t, o2, rec, envO2, compileOptions{fold: true}); got != "['x', 'x']" {
		t.Errorf("outer ref depth 2: got %s", got)
	}
}

// TestInputNormalization checks that input columns in other Arrow
// encodings of their SQL type (dictionaries, as Parquet readers produce,
// other time units, unsigned integers) are converted for the kernels.
func TestInputNormalization(t *testing.T) {
	mem := memory.DefaultAllocator
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	bld := array.NewDictionaryBuilder(mem, dt).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"ab", "cd", "ab"} {
		if err := bld.AppendString(s); err != nil {
			t.Fatal(err)
		}
	}
	bld.AppendNull()
	col := bld.NewArray()
	bld.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: dt, Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{col}, 4)
	col.Release()
	defer rec.Release()
	reg := planner.NewRegistry()
	upper, _ := reg.Lookup("upper")
	e := &planner.Call{Fn: upper, Name: "upper", Args: []planner.Expr{&planner.ColRef{Index: 0, Name: "s", T: catalog.String}}, T: catalog.String}
	if got := evalOnce(t, e, rec, &Env{}, compileOptions{fold: true}); got != "['AB', 'CD', 'AB', NULL]" {
		t.Errorf("got %s", got)
	}
	// Timestamps in other units, unsigned integers and Date64 are converted.
	tsb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond})
	tsb.Append(arrow.Timestamp(1_700_000_000_123_456_789))
	tsb.Append(arrow.Timestamp(-1))
	tsCol := tsb.NewArray()
	tsb.Release()
	ub := array.NewUint8Builder(mem)
	ub.Append(200)
	ub.AppendNull()
	uCol := ub.NewArray()
	ub.Release()
	d64b := array.NewDate64Builder(mem)
	d64b.Append(arrow.Date64(86400000 * 2))
	d64b.Append(arrow.Date64(-1))
	dCol := d64b.NewArray()
	d64b.Release()
	schema2 := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: tsCol.DataType()}, {Name: "u", Type: uCol.DataType(), Nullable: true}, {Name: "d", Type: dCol.DataType()}}, nil)
	rec2 := array.NewRecord(schema2, []arrow.Array{tsCol, uCol, dCol}, 2)
	tsCol.Release()
	uCol.Release()
	dCol.Release()
	defer rec2.Release()
	for _, tc := range []struct {
		e    planner.Expr
		want string
	}{
		{&planner.ColRef{Index: 0, Name: "ts", T: catalog.Timestamp}, "[2023-11-14 22:13:20.123456, 1969-12-31 23:59:59.999999]"},
		{&planner.ColRef{Index: 1, Name: "u", T: catalog.Int16}, "[200, NULL]"},
		{&planner.ColRef{Index: 2, Name: "d", T: catalog.Date}, "[1970-01-03, 1969-12-31]"},
	} {
		if got := evalOnce(t, tc.e, rec2, &Env{}, compileOptions{fold: true}); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.e, got, tc.want)
		}
	}
	// A column whose type does not match is a compile error.
	bad := &planner.ColRef{Index: 0, Name: "s", T: catalog.Int64}
	if _, err := Compile(bad, schema, &Env{}); err == nil || !strings.Contains(err.Error(), "expected int64") {
		t.Errorf("mismatched column type: %v", err)
	}
}

// TestNoLeaks evaluates expressions of every kind with a checked
// allocator and checks every buffer is released.
func TestNoLeaks(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := parseTable(t, "x INT, s VARCHAR, d DECIMAL(10,2)\n0, 'a', 1.00\n2, NULL, 2.50\nNULL, 'c', NULL\n-1, 'dd', -0.01")
	reg := planner.NewRegistry()
	for _, src := range []string{
		"add(x, 1)", "case when eq(x, 0) then 0 else intdiv(10, x) end", "coalesce(div(1, nullif(x, 0)), d)",
		"and(ne(x, 0), gt(intdiv(10, x), 1))", "in_list(x, 1, 2, NULL)", "upper(concat(s, x))", "like(s, '%a%')",
		"cast(s AS INT)", "try_cast(s AS INT)", "round(d, 1)", "greatest(x, 1, NULL)", "if(gt(x, 0), s, 'neg')",
		"mul(d, d)", "cast(x AS VARCHAR)",
	} {
		e, err := parseTestExpr(src, tb, reg)
		if err != nil {
			t.Fatal(err)
		}
		rec := tb.record(t, true)
		ev, err := Compile(e, rec.Schema(), &Env{Alloc: mem})
		if err != nil {
			t.Fatal(err)
		}
		out, err := ev.Eval(context.Background(), rec)
		if err == nil {
			out.Release()
		}
		rec.Release()
	}
}

// TestEmptyBatch evaluates over zero rows.
func TestEmptyBatch(t *testing.T) {
	tb := parseTable(t, "x INT, s VARCHAR")
	reg := planner.NewRegistry()
	for _, src := range []string{"add(x, 1)", "cast('x' AS INT)", "case when eq(x, 0) then 1 else intdiv(1, x) end", "upper(s)", "in_list(x, 1, 2)"} {
		e, err := parseTestExpr(src, tb, reg)
		if err != nil {
			t.Fatal(err)
		}
		rec := tb.record(t, false)
		ev, err := Compile(e, rec.Schema(), &Env{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := ev.Eval(context.Background(), rec)
		if err != nil {
			t.Errorf("%s over no rows: %v", src, err)
			continue
		}
		if out.Len() != 0 {
			t.Errorf("%s: %d rows", src, out.Len())
		}
		out.Release()
		rec.Release()
	}
}

// TestInt128 checks the 128-bit helpers against math/big.
func TestInt128(t *testing.T) {
	vals := []string{"0", "1", "-1", "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
		"18446744073709551616", "-9223372036854775808", "12345678901234567890123"}
	for _, s := range vals {
		v, ok, of := parseDecimal(s, 38, 0)
		if !ok || of {
			t.Fatalf("parse %s", s)
		}
		if got := formatDecimal(v, 0); got != s {
			t.Errorf("round trip %s: %s", s, got)
		}
		if got := v.big().String(); got != s {
			t.Errorf("big %s: %s", s, got)
		}
		for k := 0; k <= 20; k += 5 {
			r := v.divPow10Round(k)
			want := bigDivRound(v.big(), bigPow10(k))
			if r.big().Cmp(want) != 0 {
				t.Errorf("%s / 10^%d rounded: %s, want %s", s, k, r.big(), want)
			}
		}
	}
	for _, tc := range []struct {
		in    string
		scale int
		want  string
	}{
		{"1.005", 2, "1.01"}, {"-1.005", 2, "-1.01"}, {"1.004999", 2, "1.00"}, {"1e3", 0, "1000"}, {"1.5e-1", 1, "0.2"},
		{".5", 0, "1"}, {"-.5", 0, "-1"}, {"0.0000001", 2, "0.00"}, {"123", 3, "123.000"},
	} {
		v, ok, of := parseDecimal(tc.in, 38, tc.scale)
		if !ok || of {
			t.Errorf("parse %s: ok=%v overflow=%v", tc.in, ok, of)
			continue
		}
		if got := formatDecimal(v, tc.scale); got != tc.want {
			t.Errorf("parse %s at scale %d: %s, want %s", tc.in, tc.scale, got, tc.want)
		}
	}
	if _, _, of := parseDecimal("1000", 3, 0); !of {
		t.Error("1000 fits DECIMAL(3,0)")
	}
	n := decimal128.FromI64(-42)
	if i128FromNum(n).num() != n {
		t.Error("decimal128 round trip")
	}
}

// TestCalendar checks the civil-date conversions over a long range
// against package time.
func TestCalendar(t *testing.T) {
	for d := int64(-800000); d <= 800000; d += 97 {
		y, m, dd := civil(d)
		tm := time.Unix(d*86400, 0).UTC()
		if y != tm.Year() || m != int(tm.Month()) || dd != tm.Day() {
			t.Fatalf("day %d: %d-%d-%d, time says %s", d, y, m, dd, tm.Format("2006-01-02"))
		}
		if dayNumber(y, m, dd) != d {
			t.Fatalf("dayNumber(%d-%d-%d) = %d, want %d", y, m, dd, dayNumber(y, m, dd), d)
		}
	}
}

// TestCastPairs checks that every conversion the catalog allows as CAST
// compiles and runs over every value of the all-types table (failing only
// with user errors, which TRY_CAST turns into NULLs).
func TestCastPairs(t *testing.T) {
	tb := allTypesTable(t)
	rec := tb.record(t, false)
	defer rec.Release()
	targets := append(append([]catalog.Type{}, tb.types...), catalog.Type{Kind: catalog.KindString, Length: 3},
		catalog.Type{Kind: catalog.KindString, Length: 4, Fixed: true}, catalog.Decimal(38, 10), catalog.Decimal(3, 0))
	pairs := 0
	for i, from := range tb.types {
		for _, to := range targets {
			if from == to || !catalog.CanExplicitCast(from, to) {
				continue
			}
			pairs++
			for _, try := range []bool{false, true} {
				e := &planner.Cast{Arg: &planner.ColRef{Index: i, Name: tb.names[i], T: from}, T: to, Try: try}
				ev, err := Compile(e, rec.Schema(), &Env{})
				if err != nil {
					t.Errorf("%s: %v", e, err)
					continue
				}
				out, err := ev.Eval(context.Background(), rec)
				var xe *Error
				switch {
				case err == nil:
					if !out.IsNull(2) {
						t.Errorf("%s: NULL became %s", e, fmtValue(out, 2, to))
					}
					out.Release()
				case try:
					t.Errorf("%s: TRY_CAST failed: %v", e, err)
				case !errors.As(err, &xe) || xe.Code == CodeInternal:
					t.Errorf("%s: %v", e, err)
				}
			}
		}
	}
	if pairs < 100 {
		t.Errorf("only %d pairs", pairs)
	}
}

// TestConcatStrict checks concat_strict, the evaluator's implementation of
// PostgreSQL's || (NULL in, NULL out), which the planner can bind || to.
func TestConcatStrict(t *testing.T) {
	tb := parseTable(t, "s VARCHAR, n INT\n'a', 1\nNULL, 2\n'c', NULL")
	rec := tb.record(t, true)
	defer rec.Release()
	args := []planner.Expr{&planner.ColRef{Index: 0, Name: "s", T: catalog.String}, &planner.ColRef{Index: 1, Name: "n", T: catalog.Int32}}
	e := &planner.Call{Name: "concat_strict", Args: args, T: catalog.String}
	if got, want := evalOnce(t, e, rec, &Env{}, compileOptions{fold: true}), "['a1', NULL, NULL]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	e2 := &planner.Call{Name: "concat_strict", Args: []planner.Expr{args[0], &planner.Const{T: catalog.String}}, T: catalog.String}
	if got, want := evalOnce(t, e2, rec, &Env{}, compileOptions{fold: true}), "[NULL, NULL, NULL]"; got != want {
		t.Errorf("|| NULL: got %s, want %s", got, want)
	}
}
