package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/etlc/etlc/catalog"
)

// FuncKind says whether a function is scalar, aggregate or window-only.
type FuncKind int

// The function kinds. Aggregates may also be used as window functions.
const (
	FuncScalar FuncKind = iota
	FuncAggregate
	FuncWindow
)

// String returns "scalar", "aggregate" or "window".
func (k FuncKind) String() string { return [...]string{"scalar", "aggregate", "window"}[k] }

// Func is one entry of the function registry: a canonical lower-case name,
// the other names it answers to, and its signatures in order of preference.
type Func struct {
	Name    string
	Kind    FuncKind
	Aliases []string
	Sigs    []*Signature
}

// ParamKind classifies a parameter of a signature.
type ParamKind int

// The parameter kinds. A family accepts any type of the family as it is;
// ParamExact converts the argument to T; ParamGeneric unifies every generic
// parameter of the call to one common type.
const (
	ParamExact    ParamKind = iota // exactly T (implicit casts allowed)
	ParamGeneric                   // the call's unified type "T"
	ParamAny                       // any type, no conversion
	ParamNumeric                   // any integer, floating or decimal type
	ParamInteger                   // any integer type
	ParamString                    // VARCHAR, CHAR or JSON
	ParamTemporal                  // DATE, TIME, TIMESTAMP, TIMESTAMPTZ or INTERVAL
)

var paramKindNames = map[string]ParamKind{
	"T": ParamGeneric, "any": ParamAny, "numeric": ParamNumeric,
	"integer": ParamInteger, "string": ParamString, "temporal": ParamTemporal,
}

// ParamType is one parameter of a signature.
type ParamType struct {
	Kind ParamKind
	T    catalog.Type // for ParamExact
}

// String returns the parameter as written in the registry table.
func (p ParamType) String() string {
	if p.Kind == ParamExact {
		return p.T.String()
	}
	for n, k := range paramKindNames {
		if k == p.Kind {
			return n
		}
	}
	return "?"
}

// Signature is one overload: parameter types, whether the last one repeats,
// and the rule that gives the result type (a type name such as BIGINT, "T"
// for the unified generic type, "arg1" for the first argument's type, or one
// of the named rules: arith, div, intdiv, sum, avg, round, floor,
// date_interval).
type Signature struct {
	Params   []ParamType
	Variadic bool
	Result   string
	text     string
}

// String returns the signature as written, e.g. "string, integer -> VARCHAR".
func (s *Signature) String() string { return s.text }

// Registry holds every function etlc knows. Build one with NewRegistry; it
// is immutable afterwards and safe for concurrent use.
type Registry struct {
	funcs  []*Func
	byName map[string]*Func
}

// NewRegistry returns the registry of etlc's built-in functions.
func NewRegistry() *Registry {
	r := &Registry{byName: map[string]*Func{}}
	for _, e := range builtinTable() {
		f := &Func{Name: e.name, Kind: e.kind, Aliases: e.aliases}
		for _, s := range e.sigs {
			f.Sigs = append(f.Sigs, parseSignature(s))
		}
		r.funcs = append(r.funcs, f)
		for _, n := range append([]string{e.name}, e.aliases...) {
			if _, dup := r.byName[n]; dup {
				panic("planner: duplicate function name " + n)
			}
			r.byName[n] = f
		}
	}
	return r
}

// Funcs returns every function in table order (exec asserts it implements
// each of them).
func (r *Registry) Funcs() []*Func { return r.funcs }

// Lookup returns the function named name (canonical or alias, lower case).
func (r *Registry) Lookup(name string) (*Func, bool) {
	f, ok := r.byName[strings.ToLower(name)]
	return f, ok
}

// Names returns every name and alias, sorted, for "did you mean" hints.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		if !strings.HasPrefix(n, "__") && !isOperatorName(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func isOperatorName(n string) bool {
	switch n {
	case "add", "sub", "mul", "div", "intdiv", "neg", "eq", "ne", "lt", "le", "gt", "ge",
		"and", "or", "not", "is_null", "is_not_null", "is_true", "is_not_true", "is_false",
		"is_not_false", "not_like", "not_ilike", "not_regexp", "in_list",
		"is_distinct_from", "is_not_distinct_from", "regexp_i":
		return true
	}
	return false
}

func parseSignature(s string) *Signature {
	params, result, ok := strings.Cut(s, "->")
	if !ok {
		panic("planner: bad signature " + s)
	}
	sig := &Signature{Result: strings.TrimSpace(result), text: s}
	for _, p := range strings.Split(params, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasSuffix(p, "...") {
			sig.Variadic = true
			p = strings.TrimSuffix(p, "...")
		}
		if k, ok := paramKindNames[p]; ok {
			sig.Params = append(sig.Params, ParamType{Kind: k})
			continue
		}
		t, ok := simpleType(p)
		if !ok {
			panic("planner: bad parameter type " + p + " in " + s)
		}
		sig.Params = append(sig.Params, ParamType{Kind: ParamExact, T: t})
	}
	return sig
}

// simpleType maps the parameterless type names of the registry table.
func simpleType(name string) (catalog.Type, bool) {
	switch name {
	case "BOOLEAN":
		return catalog.Bool, true
	case "SMALLINT":
		return catalog.Int16, true
	case "INT":
		return catalog.Int32, true
	case "BIGINT":
		return catalog.Int64, true
	case "DOUBLE":
		return catalog.Float64, true
	case "VARCHAR":
		return catalog.String, true
	case "VARBINARY":
		return catalog.Binary, true
	case "DATE":
		return catalog.Date, true
	case "TIME":
		return catalog.Time, true
	case "TIMESTAMP":
		return catalog.Timestamp, true
	case "TIMESTAMPTZ":
		return catalog.TimestampTZ, true
	case "INTERVAL":
		return catalog.Interval, true
	case "JSON":
		return catalog.JSON, true
	}
	return catalog.Type{}, false
}

// argInfo describes one actual argument for overload resolution.
type argInfo struct {
	T      catalog.Type
	lit    litKind
	digits int // for integer literals: number of digits
}

// Resolution is the outcome of overload resolution: the signature chosen,
// the type each argument must be converted to, and the result type.
type Resolution struct {
	Fn     *Func
	Sig    *Signature
	Params []catalog.Type
	Result catalog.Type
}

// Resolve chooses the signature of f for arguments of the given types,
// with the implicit casts SQL users expect; it fails when no signature
// accepts them.
func (r *Registry) Resolve(f *Func, args []catalog.Type) (*Resolution, error) {
	infos := make([]argInfo, len(args))
	for i, t := range args {
		infos[i] = argInfo{T: t}
	}
	return r.resolve(f, infos)
}

func (r *Registry) resolve(f *Func, args []argInfo) (*Resolution, error) {
	var best *Resolution
	bestCost := -1
	for _, sig := range f.Sigs {
		res, cost, ok := matchSignature(f, sig, args)
		if ok && (bestCost < 0 || cost < bestCost) {
			best, bestCost = res, cost
		}
	}
	if best == nil {
		return nil, errNoSignature
	}
	return best, nil
}

var errNoSignature = fmt.Errorf("no signature matches")

func sigParam(sig *Signature, i int) (ParamType, bool) {
	if i < len(sig.Params) {
		return sig.Params[i], true
	}
	if sig.Variadic && len(sig.Params) > 0 {
		return sig.Params[len(sig.Params)-1], true
	}
	return ParamType{}, false
}

func matchSignature(f *Func, sig *Signature, args []argInfo) (*Resolution, int, bool) {
	minArgs := len(sig.Params)
	if sig.Variadic {
		minArgs--
	}
	if len(args) < minArgs || (!sig.Variadic && len(args) > len(sig.Params)) {
		return nil, 0, false
	}
	// Unify the generic parameters first.
	var generic catalog.Type
	haveGeneric, anyGeneric := false, false
	for pass := 0; pass < 2 && !haveGeneric; pass++ {
		for i, a := range args {
			p, _ := sigParam(sig, i)
			if p.Kind != ParamGeneric {
				continue
			}
			anyGeneric = true
			// Literals take the type of their peers.
			if pass == 0 && a.lit != litNone {
				continue
			}
			t := a.T
			if !haveGeneric {
				generic, haveGeneric = t, true
				continue
			}
			c, ok := commonLiteralAware(generic, t, a.lit)
			if !ok {
				return nil, 0, false
			}
			generic = c
		}
	}
	_ = anyGeneric
	// Untyped literals take their type from typed arguments; with none,
	// a string literal stays text ('a' + 'b' is no date arithmetic).
	anyTyped := false
	for _, a := range args {
		if a.lit != litString && a.lit != litNull {
			anyTyped = true
		}
	}
	res := &Resolution{Fn: f, Sig: sig, Params: make([]catalog.Type, len(args))}
	cost := 0
	for i, a := range args {
		p, _ := sigParam(sig, i)
		var target catalog.Type
		switch p.Kind {
		case ParamGeneric:
			target = generic
		case ParamExact:
			target = p.T
		default:
			if a.T.Kind == catalog.KindNull {
				target = familyDefault(p.Kind)
			} else if !inFamily(p.Kind, a.T) {
				return nil, 0, false
			} else {
				target = a.T
				if a.lit == litInt {
					target = adaptIntLiteral(a, args)
				}
			}
		}
		c, ok := argCost(a, target)
		if !ok || (a.lit == litString && !anyTyped && !target.IsString() && len(args) > 1) {
			return nil, 0, false
		}
		cost += c
		res.Params[i] = target
	}
	if sig.Variadic {
		cost++ // prefer fixed arity
	}
	t, ok := resultType(f.Name, sig.Result, res.Params, generic)
	if !ok {
		return nil, 0, false
	}
	res.Result = t
	return res, cost, true
}

// commonLiteralAware is commonType where an integer literal next to a
// DECIMAL counts as DECIMAL(1,0), so 1 - l_discount stays DECIMAL(16,2).
//
// An integer literal is an INT (or BIGINT) as in PostgreSQL: next to a
// SMALLINT or TINYINT the common type is INT, so smallint_col + 1 is an
// INT and does not overflow at 32767.
func commonLiteralAware(acc, t catalog.Type, lit litKind) (catalog.Type, bool) {
	if lit == litInt && (acc.Kind == catalog.KindDecimal || acc.IsInteger() && !narrowInt(acc)) {
		return acc, true
	}
	// A quoted literal next to a number is read as a number, as
	// PostgreSQL reads an unknown-typed literal: oid = '16384'.
	if lit == litString && acc.IsNumeric() {
		return acc, true
	}
	return commonType(acc, t)
}

// narrowInt reports whether t is an integer type narrower than INT.
func narrowInt(t catalog.Type) bool {
	return t.Kind == catalog.KindInt8 || t.Kind == catalog.KindInt16
}

// adaptIntLiteral gives an integer literal in a numeric family parameter the
// type of its first non-literal numeric peer: DECIMAL(digits,0) next to a
// DECIMAL, the peer's integer type when the value fits it.
func adaptIntLiteral(a argInfo, args []argInfo) catalog.Type {
	for _, o := range args {
		if o.lit != litNone {
			continue
		}
		switch {
		case o.T.Kind == catalog.KindDecimal:
			return catalog.Decimal(max(a.digits, 1), 0)
		case o.T.IsInteger() && !narrowInt(o.T) && a.digits < decimalDigits(o.T.Kind):
			return catalog.Type{Kind: o.T.Kind}
		}
		if o.T.IsNumeric() {
			break
		}
	}
	return a.T
}

// argCost is the cost of converting an argument to target, counting the
// compile-time conversion of literals.
func argCost(a argInfo, target catalog.Type) (int, bool) {
	if a.T == target {
		return 0, true
	}
	switch a.lit {
	case litNull:
		return 1, true
	case litString:
		switch target.Kind {
		case catalog.KindString, catalog.KindJSON:
			return 1, true
		case catalog.KindBinary:
			return 3, true
		case catalog.KindDate, catalog.KindTime, catalog.KindTimestamp, catalog.KindTimestampTZ,
			catalog.KindInterval, catalog.KindBool:
			return 2, true
		}
		if target.IsNumeric() {
			return 5, true
		}
	case litInt:
		if target.IsNumeric() {
			return 1, true
		}
	}
	return implicitCost(a.T, target)
}

func familyDefault(k ParamKind) catalog.Type {
	switch k {
	case ParamNumeric, ParamInteger:
		return catalog.Int64
	case ParamString:
		return catalog.String
	case ParamTemporal:
		return catalog.Timestamp
	}
	return catalog.Null
}

func inFamily(k ParamKind, t catalog.Type) bool {
	switch k {
	case ParamAny:
		return true
	case ParamNumeric:
		return t.IsNumeric()
	case ParamInteger:
		return t.IsInteger()
	case ParamString:
		return t.IsString()
	case ParamTemporal:
		return t.IsTemporal() || t.Kind == catalog.KindInterval
	}
	return false
}

// resultType applies a signature's result rule.
func resultType(fn, rule string, params []catalog.Type, generic catalog.Type) (catalog.Type, bool) {
	if t, ok := simpleType(rule); ok {
		return t, true
	}
	arg := func(i int) catalog.Type {
		if i < len(params) {
			return params[i]
		}
		return catalog.Null
	}
	switch rule {
	case "T":
		return generic, true
	case "arg1":
		return arg(0), true
	case "array1": // an array of the first argument's type
		if a := arg(0); !a.IsArray() && a.Kind != catalog.KindNull {
			return catalog.ArrayOf(a), true
		}
		return catalog.Type{}, false
	case "arith", "div": // numeric operators: the catalog's arithmetic rules
		t, err := catalog.ArithmeticType(arithOps[fn], arg(0), arg(1))
		return t, err == nil
	case "sum":
		a := arg(0)
		switch {
		case a.IsInteger():
			return catalog.Int64, true
		case a.Kind == catalog.KindDecimal:
			return catalog.Decimal(catalog.MaxDecimalPrecision, a.Scale), true
		case a.Kind == catalog.KindInterval:
			return catalog.Interval, true
		}
		return catalog.Float64, true
	case "avg":
		a := arg(0)
		if a.Kind == catalog.KindDecimal {
			return boundedDecimal(a.Precision+4, min(a.Scale+4, catalog.MaxDecimalPrecision)), true
		}
		if a.Kind == catalog.KindInterval {
			return catalog.Interval, true
		}
		return catalog.Float64, true
	case "round": // round(x [, d]): DECIMAL keeps its type; integer and float kept
		a := arg(0)
		if a.Kind == catalog.KindDecimal {
			return boundedDecimal(a.Precision+1, a.Scale), true
		}
		return a, true
	case "floor": // floor, ceil: DECIMAL(p,s) -> DECIMAL(p-s+1, 0)
		a := arg(0)
		if a.Kind == catalog.KindDecimal {
			return boundedDecimal(a.Precision-a.Scale+1, 0), true
		}
		return a, true
	case "date_interval":
		// DATE +/- INTERVAL is a TIMESTAMP; the binder narrows it to DATE when
		// the interval is a constant whole number of days and months.
		return catalog.Timestamp, true
	}
	panic(fmt.Sprintf("planner: function %s: unknown result rule %q", fn, rule))
}
