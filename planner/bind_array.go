package planner

import (
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Arrays, the PostgreSQL way: ARRAY[..] (lowered to __etl_array), a[i]
// (__etl_array_elem, 1-based, NULL outside the array), x = ANY(a)
// (__etl_any_eq), ||, array_length/upper/lower, cardinality, array_cat,
// array_append, array_prepend, array_position, array_to_string, the
// aggregate array_agg, and the set-returning functions unnest,
// generate_subscripts and information_schema._pg_expandarray in a select
// list (a ProjectSet node; FROM unnest(..) is lowered to a subquery that
// calls it). The binder checks the array arguments itself: the registry's
// signatures know no array types.

// srfRef stands for a set-returning function call of a select list until
// the ProjectSet node exists.
type srfRef struct {
	idx int
	fn  *SetFunc
}

func (s *srfRef) Type() catalog.Type { return s.fn.T }
func (s *srfRef) String() string     { return s.fn.String() }

// srfState collects the set-returning function calls of one select list;
// two calls with the same text are one function (they run in lockstep and
// give the same rows).
type srfState struct {
	funcs []*SetFunc
}

func (s *srfState) add(f *SetFunc) *srfRef {
	for i, g := range s.funcs {
		if g.String() == f.String() && g.T == f.T {
			return &srfRef{idx: i, fn: g}
		}
	}
	s.funcs = append(s.funcs, f)
	return &srfRef{idx: len(s.funcs) - 1, fn: f}
}

// isSetFunc reports the names of the set-returning functions.
func isSetFunc(name string) bool {
	switch name {
	case "unnest", "generate_subscripts", "_pg_expandarray", "__etl_ordinality":
		return true
	}
	return false
}

// IsArrayFunc reports the registry's array functions, whose argument and
// result types the binder works out itself (their registry signatures take
// "any": the registry knows no array types).
func IsArrayFunc(name string) bool {
	switch name {
	case "__etl_array", "__etl_array_elem", "__etl_any_eq", "array_length", "array_upper", "array_lower",
		"cardinality", "array_cat", "array_append", "array_prepend", "array_position", "array_to_string":
		return true
	}
	return false
}

// bindArrayFunc binds the array functions and the set-returning functions;
// ok is false for other names.
func (b *binder) bindArrayFunc(c exprCtx, name string, n *ast.FuncCallExpr, p int) (Expr, bool) {
	if !IsArrayFunc(name) && !isSetFunc(name) && name != "__etl_field" {
		return nil, false
	}
	args := b.bindArgs(c, n.Args, p)
	for _, a := range args {
		if isBad(a) {
			return bad(), true
		}
	}
	if isSetFunc(name) {
		return b.bindSetFunc(c, name, args, p), true
	}
	return b.arrayCall(name, args, p), true
}

// arrayArg checks that argument i of fn is an array (a NULL literal or an
// untyped parameter becomes one of elem, or of VARCHAR), puts it back in
// args[i] and returns it.
func (b *binder) arrayArg(fn string, args []Expr, i int, elem catalog.Type, p int) (Expr, bool) {
	a := args[i]
	t := a.Type()
	if t.IsArray() {
		return a, true // already in args[i]
	}
	if elem.Kind == catalog.KindNull {
		elem = catalog.String
	}
	if t.Kind == catalog.KindNull {
		args[i] = b.coerce(a, catalog.ArrayOf(elem), p, "argument")
		return args[i], true
	}
	if k, ok := a.(*Const); ok && k.lit == litString {
		// A quoted literal is an array literal here: '{a,b}'.
		args[i] = &Cast{Arg: a, T: catalog.ArrayOf(elem)}
		return args[i], true
	}
	b.errorf(b.posOf(a, p), parser.CodeDatatype, "", "function %s(%s) does not exist: argument %d must be an array, not %s",
		fn, argTypes(args), i+1, t)
	return nil, false
}

// arrayElemArgs binds an array argument ai and an element argument ei of
// fn to T[] and T, T their common element type, and returns T.
func (b *binder) arrayElemArgs(fn string, args []Expr, ai, ei int, p int) (catalog.Type, bool) {
	given := args[ai]
	a, ok := b.arrayArg(fn, args, ai, args[ei].Type(), p)
	if !ok {
		return catalog.Type{}, false
	}
	et, ok := commonType(a.Type().ElemType(), args[ei].Type())
	if !ok || et.IsArray() {
		args[ai] = given // the message names the types as given
		b.errorf(p, parser.CodeUndefinedFunc, "", "function %s(%s) does not exist", fn, argTypes(args))
		return catalog.Type{}, false
	}
	args[ai] = b.coerce(a, catalog.ArrayOf(et), p, "argument")
	args[ei] = b.coerce(args[ei], et, p, "argument")
	return et, true
}

func argTypes(args []Expr) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += ", "
		}
		s += a.Type().String()
	}
	return s
}

// newArrayCall builds a Call of a registry function with its result type.
func (b *binder) newArrayCall(name string, args []Expr, t catalog.Type) Expr {
	f, _ := b.reg.Lookup(name)
	return &Call{Fn: f, Name: name, Args: args, T: t}
}

func (b *binder) arrayCall(name string, args []Expr, p int) Expr {
	nargs := func(lo, hi int) bool {
		if len(args) < lo || len(args) > hi {
			b.errorf(p, parser.CodeUndefinedFunc, "", "function %s takes %d to %d arguments, not %d", name, lo, hi, len(args))
			return false
		}
		return true
	}
	integer := func(i int) bool {
		if t := args[i].Type(); !t.IsInteger() && t.Kind != catalog.KindNull {
			b.errorf(b.posOf(args[i], p), parser.CodeDatatype, "", "function %s: argument %d must be an integer, not %s", name, i+1, t)
			return false
		}
		args[i] = b.coerce(args[i], catalog.Int32, p, "argument")
		return true
	}
	switch name {
	case "__etl_array":
		// ARRAY[a, b, ...]: the elements' common type.
		elem := catalog.Null
		for _, a := range args {
			t, ok := commonType(elem, a.Type())
			if !ok || t.IsArray() {
				b.errorf(b.posOf(a, p), parser.CodeDatatype, "", "ARRAY elements of types %s and %s cannot be matched", elem, a.Type())
				return bad()
			}
			elem = t
		}
		switch {
		case len(args) == 0:
			// ARRAY[]: an array of no type yet, which takes the type its
			// context gives (a cast, the other side of ||, COALESCE).
			return b.newArrayCall(name, args, catalog.ArrayOf(catalog.Null))
		case elem.Kind == catalog.KindNull:
			elem = catalog.String // ARRAY[NULL]: text[] until a cast says otherwise
		}
		for i := range args {
			args[i] = b.coerce(args[i], elem, p, "ARRAY element")
		}
		return b.newArrayCall(name, args, catalog.ArrayOf(elem))
	case "__etl_array_elem":
		if !nargs(2, 2) || !integer(1) {
			return bad()
		}
		a, ok := b.arrayArg("subscript", args, 0, catalog.Null, p)
		if !ok {
			return bad()
		}
		return b.newArrayCall(name, args, a.Type().ElemType())
	case "__etl_any_eq":
		if !nargs(2, 2) {
			return bad()
		}
		a, ok := b.arrayArg("= ANY", args, 1, args[0].Type(), p)
		if !ok {
			return bad()
		}
		et := a.Type().ElemType()
		t, ok := commonType(args[0].Type(), et)
		if !ok {
			b.errorf(p, parser.CodeUndefinedFunc, "", "operator does not exist: %s = ANY (%s)", args[0].Type(), a.Type())
			return bad()
		}
		args[0] = b.coerce(args[0], t, p, "argument")
		args[1] = b.coerce(a, catalog.ArrayOf(t), p, "argument")
		return b.newArrayCall(name, args, catalog.Bool)
	case "array_length", "array_upper", "array_lower", "cardinality":
		// cardinality(a); the others (a, dimension).
		if name == "cardinality" && !nargs(1, 1) || name != "cardinality" && (!nargs(2, 2) || !integer(1)) {
			return bad()
		}
		if _, ok := b.arrayArg(name, args, 0, catalog.Null, p); !ok {
			return bad()
		}
		return b.newArrayCall(name, args, catalog.Int32)
	case "array_cat":
		if !nargs(2, 2) {
			return bad()
		}
		return b.arrayConcat(args[0], args[1], p)
	case "array_append", "array_prepend":
		if !nargs(2, 2) {
			return bad()
		}
		ai, ei := 0, 1
		if name == "array_prepend" {
			ai, ei = 1, 0
		}
		et, ok := b.arrayElemArgs(name, args, ai, ei, p)
		if !ok {
			return bad()
		}
		return b.newArrayCall(name, args, catalog.ArrayOf(et))
	case "array_position":
		if !nargs(2, 2) {
			return bad()
		}
		if _, ok := b.arrayElemArgs(name, args, 0, 1, p); !ok {
			return bad()
		}
		return b.newArrayCall(name, args, catalog.Int32)
	case "array_to_string":
		if !nargs(2, 3) {
			return bad()
		}
		if _, ok := b.arrayArg(name, args, 0, catalog.Null, p); !ok {
			return bad()
		}
		for i := 1; i < len(args); i++ {
			args[i] = b.coerce(args[i], catalog.String, p, "argument")
		}
		return b.newArrayCall(name, args, catalog.String)
	case "__etl_field":
		return b.fieldAccess(args, p)
	}
	b.errorf(p, parser.CodeUndefinedFunc, "", "function %s does not exist", name)
	return bad()
}

// arrayConcat binds a || b where one side is an array: array || array,
// array || element, element || array.
func (b *binder) arrayConcat(x, y Expr, p int) Expr {
	xt, yt := x.Type(), y.Type()
	switch {
	case xt.IsArray() && yt.IsArray(), xt.IsArray() && yt.Kind == catalog.KindNull, xt.Kind == catalog.KindNull && yt.IsArray():
		t, ok := commonType(xt, yt)
		if !ok {
			b.errorf(p, parser.CodeUndefinedFunc, "", "operator does not exist: %s || %s", xt, yt)
			return bad()
		}
		return b.newArrayCall("array_cat", []Expr{b.coerce(x, t, p, "argument"), b.coerce(y, t, p, "argument")}, t)
	case xt.IsArray():
		return b.arrayCall("array_append", []Expr{x, y}, p)
	case yt.IsArray():
		return b.arrayCall("array_prepend", []Expr{x, y}, p)
	}
	return nil
}

// fieldAccess binds (r).x and (r).n, the fields of the record
// _pg_expandarray returns (held as the array {x, n}).
func (b *binder) fieldAccess(args []Expr, p int) Expr {
	if len(args) == 2 {
		if k, ok := args[1].(*Const); ok && args[0].Type() == catalog.ArrayOf(catalog.Int64) {
			switch k.Value {
			case "x":
				return b.newArrayCall("__etl_array_elem", []Expr{args[0], &Const{Value: int64(1), T: catalog.Int32}}, catalog.Int64)
			case "n":
				return b.newArrayCall("__etl_array_elem", []Expr{args[0], &Const{Value: int64(2), T: catalog.Int32}}, catalog.Int64)
			}
		}
	}
	b.errorf(p, parser.CodeFeature, "", "field selection (record).field is only supported on the record of _pg_expandarray (fields x and n)")
	return bad()
}

// bindSetFunc binds a set-returning function of a select list.
func (b *binder) bindSetFunc(c exprCtx, name string, args []Expr, p int) Expr {
	if c.srf == nil {
		b.errorf(p, parser.CodeFeature, "use it in the select list or in FROM",
			"set-returning function %s is not allowed in %s", name, clauseName(c.clause))
		return bad()
	}
	want := map[string]int{"unnest": 1, "generate_subscripts": 2, "_pg_expandarray": 1}[name]
	if len(args) != want {
		b.errorf(p, parser.CodeUndefinedFunc, "", "function %s takes %d argument(s), not %d", name, want, len(args))
		return bad()
	}
	if name == "__etl_ordinality" {
		// WITH ORDINALITY: the number of the row within its input row's.
		return c.srf.add(&SetFunc{Name: name, T: catalog.Int64})
	}
	a, ok := b.arrayArg(name, args, 0, catalog.Null, p)
	if !ok {
		return bad()
	}
	f := &SetFunc{Name: name, Args: args}
	switch name {
	case "unnest":
		f.T = a.Type().ElemType()
	case "generate_subscripts":
		if t := args[1].Type(); !t.IsInteger() {
			b.errorf(b.posOf(args[1], p), parser.CodeDatatype, "", "generate_subscripts: the dimension must be an integer, not %s", t)
			return bad()
		}
		args[1] = b.coerce(args[1], catalog.Int32, p, "argument")
		f.T = catalog.Int32
	case "_pg_expandarray":
		if !a.Type().ElemType().IsInteger() {
			b.errorf(b.posOf(a, p), parser.CodeFeature, "", "_pg_expandarray is only supported on integer arrays, not %s", a.Type())
			return bad()
		}
		f.T = catalog.ArrayOf(catalog.Int64)
	}
	return c.srf.add(f)
}

func clauseName(c string) string {
	if c == "" {
		return "this context"
	}
	return c
}

// addProjectSet puts the ProjectSet of a select list's set-returning
// functions over input and resolves their references in exprs.
func addProjectSet(input Node, s *srfState, exprs ...*Expr) Node {
	inCols := input.Schema()
	ps := &ProjectSet{Input: input, Funcs: s.funcs, Columns: append([]Column(nil), inCols...)}
	for _, f := range s.funcs {
		ps.Columns = append(ps.Columns, Column{Name: f.Name, Type: f.T, Nullable: true})
	}
	n := len(inCols)
	for _, e := range exprs {
		if *e == nil {
			continue
		}
		*e = RewriteExpr(*e, func(x Expr) Expr {
			if r, ok := x.(*srfRef); ok {
				return &ColRef{Index: n + r.idx, Name: r.fn.Name, T: r.fn.T}
			}
			return x
		})
	}
	return ps
}
