package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/etlc/etlc/catalog"
)

// Expr is a bound, typed scalar expression. Every implementation is a
// pointer to one of the structs in this file. String is the stable text used
// by EXPLAIN and golden files; two expressions with the same String and Type
// compute the same value over the same input row.
type Expr interface {
	Type() catalog.Type
	String() string
}

// ColRef reads column Index of the operator's input row. For a Join the
// input row is the left columns followed by the right columns. Name is
// informational (EXPLAIN); Index is what counts.
type ColRef struct {
	Index int
	Name  string
	T     catalog.Type
}

// OuterRef reads a column of an enclosing query's row, from inside a
// subquery: Depth 1 is the query that directly contains the Subquery
// expression, 2 the one around it, and so on. Index is the column of that
// query's input row at the place the Subquery is evaluated.
type OuterRef struct {
	Depth int
	Index int
	Name  string
	T     catalog.Type
}

// Const is a constant. Value has one canonical Go representation per kind:
//
//	NULL (any T)              nil
//	BOOLEAN                   bool
//	TINYINT..BIGINT           int64
//	REAL, DOUBLE              float64
//	DECIMAL(p,s)              decimal128.Num, unscaled (value * 10^s)
//	VARCHAR, CHAR, JSON       string
//	VARBINARY                 []byte
//	DATE                      int32, days since 1970-01-01
//	TIME                      int64, microseconds since midnight
//	TIMESTAMP, TIMESTAMPTZ    int64, microseconds since the epoch (UTC)
//	INTERVAL                  arrow.MonthDayNanoInterval
//	T[]                       []any of T's values (nil for NULL elements)
type Const struct {
	Value any
	T     catalog.Type
	// lit records that the constant is a literal as the user wrote it, so
	// the binder may still give it the type its context asks for.
	lit litKind
}

type litKind uint8

const (
	litNone   litKind = iota
	litString         // a quoted string literal: may become DATE, TIMESTAMP, a number, ...
	litInt            // an integer literal: becomes DECIMAL(digits,0) next to a DECIMAL
	litNull           // a bare NULL: takes any type
	litBad            // the placeholder of an expression that failed to bind (see bad)
)

// Param is a statement parameter: $n (Index n) or the n-th ? marker (a
// statement uses one spelling or the other). Its context types it (customer_id
// = $1 makes $1 a BIGINT); once the statement is bound every occurrence of
// $n has the same type, TEXT when no context gave one (Program.ParamTypes).
type Param struct {
	Index int
	T     catalog.Type
}

// Call applies a scalar function or operator of the Registry. Fn is the
// registry entry and Name its canonical lower-case name (add, sub, eq, like,
// substring, ...); Args are already cast to the chosen signature's
// parameter types.
type Call struct {
	Fn   *Func
	Name string
	Args []Expr
	T    catalog.Type
}

// Cast converts Arg to T. Try casts give NULL instead of an error for a
// value that does not convert. Implicit marks a cast the binder inserted.
type Cast struct {
	Arg      Expr
	T        catalog.Type
	Try      bool
	Implicit bool
}

// When is one WHEN cond THEN result of a searched CASE.
type When struct {
	Cond   Expr
	Result Expr
}

// Case is a searched CASE; a simple CASE x WHEN v is lowered to WHEN x = v.
// Else is nil when absent (the result is then NULL).
type Case struct {
	Whens []When
	Else  Expr
	T     catalog.Type
}

// SubqueryKind says how a Subquery expression uses its plan.
type SubqueryKind int

// The subquery kinds.
const (
	// SubScalar yields the single column of the single row (NULL for none).
	SubScalar SubqueryKind = iota
	// SubExists is true when the plan returns a row.
	SubExists
	// SubIn is Arg IN (plan).
	SubIn
	// SubAny is Arg Op ANY (plan).
	SubAny
	// SubAll is Arg Op ALL (plan).
	SubAll
)

// String returns SCALAR, EXISTS, IN, ANY or ALL.
func (k SubqueryKind) String() string {
	return [...]string{"SCALAR", "EXISTS", "IN", "ANY", "ALL"}[k]
}

// Subquery is a subquery used as an expression. Plan's OuterRefs point into
// the rows of the enclosing queries; Correlated says whether it has any
// (decorrelation is the optimizer's). For IN/ANY/ALL, Arg is the left
// operand and Op the comparison (eq for IN); Not negates EXISTS and IN.
type Subquery struct {
	Kind       SubqueryKind
	Plan       Node
	Arg        Expr
	Op         string
	Not        bool
	Correlated bool
	T          catalog.Type
	// ID numbers the subqueries of a statement, for EXPLAIN.
	ID int
}

// Type implementations.
func (e *ColRef) Type() catalog.Type   { return e.T }
func (e *OuterRef) Type() catalog.Type { return e.T }
func (e *Const) Type() catalog.Type    { return e.T }
func (e *Param) Type() catalog.Type    { return e.T }
func (e *Call) Type() catalog.Type     { return e.T }
func (e *Cast) Type() catalog.Type     { return e.T }
func (e *Case) Type() catalog.Type     { return e.T }
func (e *Subquery) Type() catalog.Type { return e.T }

// String returns name#index.
func (e *ColRef) String() string { return fmt.Sprintf("%s#%d", e.Name, e.Index) }

// String returns outer(depth).name#index.
func (e *OuterRef) String() string {
	return fmt.Sprintf("outer%d.%s#%d", e.Depth, e.Name, e.Index)
}

// String returns the constant as a SQL literal.
func (e *Const) String() string { return FormatValue(e.Value, e.T) }

// String returns $index.
func (e *Param) String() string { return fmt.Sprintf("$%d", e.Index) }

// String returns infix notation for operators and name(args) otherwise.
func (e *Call) String() string {
	if op, ok := infixOps[e.Name]; ok && len(e.Args) == 2 {
		return "(" + e.Args[0].String() + " " + op + " " + e.Args[1].String() + ")"
	}
	switch e.Name {
	case "not":
		return "(NOT " + e.Args[0].String() + ")"
	case "neg":
		return "(- " + e.Args[0].String() + ")"
	case "is_null", "is_not_null", "is_true", "is_not_true", "is_false", "is_not_false":
		return "(" + e.Args[0].String() + " " + strings.ToUpper(strings.ReplaceAll(e.Name, "_", " ")) + ")"
	case "in_list":
		parts := make([]string, len(e.Args)-1)
		for i, a := range e.Args[1:] {
			parts[i] = a.String()
		}
		return "(" + e.Args[0].String() + " IN (" + strings.Join(parts, ", ") + "))"
	}
	return e.Name + "(" + joinExprs(e.Args) + ")"
}

var infixOps = map[string]string{
	"add": "+", "sub": "-", "mul": "*", "div": "/", "intdiv": "DIV", "mod": "%",
	"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
	"and": "AND", "or": "OR", "like": "LIKE", "not_like": "NOT LIKE",
	"ilike": "ILIKE", "not_ilike": "NOT ILIKE", "regexp": "REGEXP",
	"not_regexp": "NOT REGEXP", "is_distinct_from": "IS DISTINCT FROM",
	"is_not_distinct_from": "IS NOT DISTINCT FROM",
}

// String returns CAST(arg AS T), TRY_CAST(...) for try casts.
func (e *Cast) String() string {
	fn := "CAST"
	if e.Try {
		fn = "TRY_CAST"
	}
	return fn + "(" + e.Arg.String() + " AS " + e.T.String() + ")"
}

// String returns CASE WHEN ... END.
func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

// String returns the subquery's kind and number, e.g. EXISTS(subquery 1).
func (e *Subquery) String() string {
	inner := fmt.Sprintf("subquery %d", e.ID)
	not := ""
	if e.Not {
		not = "NOT "
	}
	switch e.Kind {
	case SubExists:
		return not + "EXISTS(" + inner + ")"
	case SubIn:
		return "(" + e.Arg.String() + " " + not + "IN (" + inner + "))"
	case SubAny, SubAll:
		return "(" + e.Arg.String() + " " + infixOps[e.Op] + " " + e.Kind.String() + "(" + inner + "))"
	}
	return "(" + inner + ")"
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, a := range es {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

const microsPerDay = 86400 * 1000000

// FormatValue renders a canonical constant value of type t as SQL text.
func FormatValue(v any, t catalog.Type) string {
	if v == nil {
		return "NULL"
	}
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e, t.ElemType())
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]::" + t.String()
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case int64:
		switch t.Kind {
		case catalog.KindTime:
			return "TIME '" + formatTime(x) + "'"
		case catalog.KindTimestamp, catalog.KindTimestampTZ:
			s := time.UnixMicro(x).UTC().Format("2006-01-02 15:04:05.999999")
			if t.Kind == catalog.KindTimestampTZ {
				return "TIMESTAMPTZ '" + s + "+00'"
			}
			return "TIMESTAMP '" + s + "'"
		}
		return strconv.FormatInt(x, 10)
	case float64:
		switch {
		case math.IsInf(x, 1):
			return "'Infinity'::DOUBLE"
		case math.IsInf(x, -1):
			return "'-Infinity'::DOUBLE"
		case math.IsNaN(x):
			return "'NaN'::DOUBLE"
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s + "::DOUBLE"
	case decimal128.Num:
		return formatDecimal(x, t.Scale)
	case string:
		s := "'" + strings.ReplaceAll(x, "'", "''") + "'"
		if t.Kind == catalog.KindJSON {
			return "JSON " + s
		}
		return s
	case []byte:
		return fmt.Sprintf("X'%X'", x)
	case int32:
		return "DATE '" + time.Unix(int64(x)*86400, 0).UTC().Format("2006-01-02") + "'"
	case arrow.MonthDayNanoInterval:
		return "INTERVAL '" + formatInterval(x) + "'"
	}
	return fmt.Sprintf("%v", v)
}

func formatTime(us int64) string {
	h := us / 3600e6
	m := us / 60e6 % 60
	s := us / 1e6 % 60
	frac := us % 1e6
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if frac != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return out
}

// formatDecimal renders an unscaled decimal with scale digits after the point.
func formatDecimal(n decimal128.Num, scale int) string {
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	digits := n.BigInt().String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

func formatInterval(iv arrow.MonthDayNanoInterval) string {
	var parts []string
	if y, m := iv.Months/12, iv.Months%12; y != 0 || m != 0 {
		if y != 0 {
			parts = append(parts, plural(int64(y), "year"))
		}
		if m != 0 {
			parts = append(parts, plural(int64(m), "month"))
		}
	}
	if iv.Days != 0 {
		parts = append(parts, plural(int64(iv.Days), "day"))
	}
	if iv.Nanoseconds != 0 {
		ns := iv.Nanoseconds
		sign := ""
		if ns < 0 {
			sign, ns = "-", -ns
		}
		h := ns / 3600e9
		m := ns / 60e9 % 60
		s := ns / 1e9 % 60
		frac := ns % 1e9
		t := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
		if frac != 0 {
			t += strings.TrimRight(fmt.Sprintf(".%09d", frac), "0")
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "0 days"
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// WalkExpr calls fn for e and every expression below it, depth first, parents
// before children; it does not descend into subquery plans (their Arg is
// visited). fn returning false skips the node's children.
func WalkExpr(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch x := e.(type) {
	case *Call:
		for _, a := range x.Args {
			WalkExpr(a, fn)
		}
	case *Cast:
		WalkExpr(x.Arg, fn)
	case *Case:
		for _, w := range x.Whens {
			WalkExpr(w.Cond, fn)
			WalkExpr(w.Result, fn)
		}
		WalkExpr(x.Else, fn)
	case *Subquery:
		WalkExpr(x.Arg, fn)
	}
}

// HasSubquery reports whether e holds a subquery (not looking into
// subquery plans).
func HasSubquery(e Expr) bool {
	found := false
	WalkExpr(e, func(x Expr) bool {
		if _, ok := x.(*Subquery); ok {
			found = true
		}
		return !found
	})
	return found
}

// RewriteExpr returns e with every node replaced bottom-up by fn's result
// (fn receives a node whose children are already rewritten). Nodes are
// copied, never modified in place; subquery plans are not entered.
func RewriteExpr(e Expr, fn func(Expr) Expr) Expr {
	if e == nil {
		return nil
	}
	switch x := e.(type) {
	case *Call:
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			c.Args[i] = RewriteExpr(a, fn)
		}
		return fn(&c)
	case *Cast:
		c := *x
		c.Arg = RewriteExpr(x.Arg, fn)
		return fn(&c)
	case *Case:
		c := *x
		c.Whens = make([]When, len(x.Whens))
		for i, w := range x.Whens {
			c.Whens[i] = When{Cond: RewriteExpr(w.Cond, fn), Result: RewriteExpr(w.Result, fn)}
		}
		c.Else = RewriteExpr(x.Else, fn)
		return fn(&c)
	case *Subquery:
		c := *x
		c.Arg = RewriteExpr(x.Arg, fn)
		return fn(&c)
	}
	return fn(e)
}

// EqualExpr reports whether a and b are the same expression (same text and
// type; subqueries are equal only to themselves).
func EqualExpr(a, b Expr) bool {
	if a == nil || b == nil {
		return a == b
	}
	if _, ok := a.(*Subquery); ok {
		return a == b
	}
	return a.Type() == b.Type() && a.String() == b.String()
}
