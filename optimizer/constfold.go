package optimizer

import (
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This rule folds constants and simplifies conditions, in every
// expression of the plan, before the other rules look at them:
//
//   - DATE ± INTERVAL of constants is computed (DATE '1994-01-01' +
//     INTERVAL '1 year' is DATE '1995-01-01'), and so are +, - and * of
//     integer constants (unless they overflow, which stays an error of the
//     run) and casts of integer constants to integer, DECIMAL and DOUBLE
//     types they fit;
//   - a comparison of two constants of the same type becomes TRUE, FALSE
//     or NULL;
//   - AND and OR drop TRUE and FALSE operands as three-valued logic allows
//     (x AND TRUE is x, x AND FALSE is FALSE, x OR TRUE is TRUE, x OR
//     FALSE is x); NOT of a constant is folded, NOT NOT x is x;
//   - a filter whose condition is TRUE goes; one whose condition is FALSE
//     or NULL becomes an empty relation; a join condition that is TRUE
//     goes (a cross join).
//
// Folding happens where a constant's value and type are known exactly
// (planner.Const's canonical values); everything else is left to run.

// fold rewrites n and the plans below it.
func (o *opt) constFold(n planner.Node) planner.Node {
	if _, isCTE := n.(*planner.CTERef); !isCTE {
		n = mapChildren(n, o.constFold)
	}
	n = mapExprs(n, func(e planner.Expr) planner.Expr { return planner.RewriteExpr(e, o.foldExpr) })
	switch x := n.(type) {
	case *planner.Filter:
		if k, ok := x.Cond.(*planner.Const); ok {
			if b, isBool := k.Value.(bool); isBool && b {
				return x.Input
			}
			return &planner.Values{Columns: append([]planner.Column(nil), x.Input.Schema()...)}
		}
	case *planner.Join:
		if k, ok := x.Cond.(*planner.Const); ok {
			if b, isBool := k.Value.(bool); isBool && b {
				c := *x
				c.Cond = nil
				if c.Kind == planner.InnerJoin {
					c.Kind = planner.CrossJoin
				}
				return &c
			}
		}
	}
	return n
}

// boolConst returns the constant TRUE, FALSE or a NULL BOOLEAN.
func boolConst(v any) *planner.Const { return &planner.Const{Value: v, T: catalog.Bool} }

// constBool reports a constant boolean operand: its value, whether it is
// NULL, and whether e is a constant at all.
func constBool(e planner.Expr) (val, null, ok bool) {
	k, isConst := e.(*planner.Const)
	if !isConst || k.T.Kind != catalog.KindBool && k.Value != nil {
		return false, false, false
	}
	if k.Value == nil {
		return false, true, true
	}
	b, isBool := k.Value.(bool)
	return b, false, isBool
}

// foldExpr folds one expression whose operands are already folded
// (RewriteExpr works bottom-up).
func (o *opt) foldExpr(e planner.Expr) planner.Expr {
	if cast, ok := e.(*planner.Cast); ok {
		return foldCast(cast)
	}
	c, ok := e.(*planner.Call)
	if !ok {
		return e
	}
	switch c.Name {
	case "and", "or":
		return o.foldLogic(c)
	case "not":
		if len(c.Args) != 1 {
			return e
		}
		if v, null, ok := constBool(c.Args[0]); ok {
			if null {
				return boolConst(nil)
			}
			return boolConst(!v)
		}
		if inner, ok := c.Args[0].(*planner.Call); ok && inner.Name == "not" && len(inner.Args) == 1 {
			return inner.Args[0]
		}
	case "eq", "ne", "lt", "le", "gt", "ge":
		if len(c.Args) != 2 {
			return e
		}
		a, aok := c.Args[0].(*planner.Const)
		b, bok := c.Args[1].(*planner.Const)
		if !aok || !bok {
			return e
		}
		if a.Value == nil || b.Value == nil {
			return boolConst(nil)
		}
		if cmp, ok := compareConst(a, b); ok {
			return boolConst(cmpHolds(c.Name, cmp))
		}
	case "add", "sub", "mul":
		if len(c.Args) != 2 {
			return e
		}
		a, aok := c.Args[0].(*planner.Const)
		b, bok := c.Args[1].(*planner.Const)
		if !aok || !bok || a.Value == nil || b.Value == nil {
			return e
		}
		if v, ok := foldArith(c.Name, a, b, c.T); ok {
			return &planner.Const{Value: v, T: c.T}
		}
	}
	return e
}

// foldLogic simplifies AND and OR with constant operands.
func (o *opt) foldLogic(c *planner.Call) planner.Expr {
	isAnd := c.Name == "and"
	var keep []planner.Expr
	sawNull := false
	for _, a := range c.Args {
		v, null, ok := constBool(a)
		switch {
		case !ok:
			keep = append(keep, a)
		case null:
			sawNull = true
		case v != isAnd:
			// FALSE in an AND, TRUE in an OR decides it.
			return boolConst(v)
		}
	}
	if sawNull {
		keep = append(keep, boolConst(nil))
	}
	switch len(keep) {
	case 0:
		return boolConst(isAnd)
	case 1:
		return keep[0]
	}
	if len(keep) == len(c.Args) {
		return c
	}
	out := *c
	out.Args = keep
	return &out
}

// compareConst compares two non-NULL constants of the same kind.
func compareConst(a, b *planner.Const) (int, bool) {
	if a.T.Kind != b.T.Kind {
		return 0, false
	}
	switch x := a.Value.(type) {
	case int64:
		y, ok := b.Value.(int64)
		return cmp3(x < y, x > y), ok
	case int32:
		y, ok := b.Value.(int32)
		return cmp3(x < y, x > y), ok
	case float64:
		y, ok := b.Value.(float64)
		if !ok || math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		return cmp3(x < y, x > y), true
	case string:
		y, ok := b.Value.(string)
		if !ok || a.T.Fixed || b.T.Fixed {
			// CHAR(n) compares without trailing blanks: leave it to run.
			return 0, false
		}
		return strings.Compare(x, y), true
	case bool:
		y, ok := b.Value.(bool)
		return cmp3(!x && y, x && !y), ok
	case decimal128.Num:
		y, ok := b.Value.(decimal128.Num)
		if !ok || a.T.Scale != b.T.Scale {
			return 0, false
		}
		return x.Cmp(y), true
	}
	return 0, false
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// cmpHolds says whether a comparison holds for a three-way result.
func cmpHolds(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "gt":
		return c > 0
	}
	return c >= 0
}

// fitsInt reports whether v is in the range of integer type t.
func fitsInt(v int64, t catalog.Type) bool {
	switch t.Kind {
	case catalog.KindInt8:
		return v >= math.MinInt8 && v <= math.MaxInt8
	case catalog.KindInt16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case catalog.KindInt32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return t.Kind == catalog.KindInt64
}

// foldCast converts an integer constant to another integer type, a
// DECIMAL or a DOUBLE, where the value fits.
func foldCast(c *planner.Cast) planner.Expr {
	k, ok := c.Arg.(*planner.Const)
	if !ok || c.Try {
		return c
	}
	v, isInt := k.Value.(int64)
	if !isInt || !k.T.IsInteger() {
		return c
	}
	switch {
	case c.T.IsInteger():
		if fitsInt(v, c.T) {
			return &planner.Const{Value: v, T: c.T}
		}
	case c.T.Kind == catalog.KindFloat64:
		return &planner.Const{Value: float64(v), T: c.T}
	case c.T.Kind == catalog.KindDecimal:
		if math.Abs(float64(v)) < math.Pow10(c.T.Precision-c.T.Scale) {
			return &planner.Const{Value: decimal128.FromI64(v).Mul(decimal128.FromI64(int64(math.Pow10(c.T.Scale)))), T: c.T}
		}
	}
	return c
}

// foldArith computes integer arithmetic and DATE ± INTERVAL of constants.
func foldArith(op string, a, b *planner.Const, t catalog.Type) (any, bool) {
	switch x := a.Value.(type) {
	case int64:
		y, ok := b.Value.(int64)
		if !ok || !t.IsInteger() {
			return nil, false
		}
		var r int64
		switch op {
		case "add":
			r = x + y
			if (r > x) != (y > 0) {
				return nil, false
			}
		case "sub":
			r = x - y
			if (r < x) != (y > 0) {
				return nil, false
			}
		default:
			if x != 0 && (x*y/x != y || x == -1 && y == math.MinInt64 || y == -1 && x == math.MinInt64) {
				return nil, false
			}
			r = x * y
		}
		return r, fitsInt(r, t)
	case int32:
		iv, ok := b.Value.(arrow.MonthDayNanoInterval)
		if !ok || a.T.Kind != catalog.KindDate || op == "mul" {
			return nil, false
		}
		if op == "sub" {
			iv = arrow.MonthDayNanoInterval{Months: -iv.Months, Days: -iv.Days, Nanoseconds: -iv.Nanoseconds}
		}
		d := addMonths(time.Unix(int64(x)*86400, 0).UTC(), int(iv.Months)).AddDate(0, 0, int(iv.Days))
		switch t.Kind {
		case catalog.KindDate:
			if iv.Nanoseconds != 0 {
				return nil, false
			}
			return int32(d.Unix() / 86400), true
		case catalog.KindTimestamp:
			return d.UnixMicro() + iv.Nanoseconds/1000, true
		}
	}
	return nil, false
}

// addMonths adds months as SQL does: a day past the end of the target
// month becomes its last day (January 31 plus a month is February 28 or
// 29), where Go's AddDate would run on into March.
func addMonths(t time.Time, months int) time.Time {
	if months == 0 {
		return t
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}
