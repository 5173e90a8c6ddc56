package planner

import "github.com/etlc/etlc/catalog"

// This file adapts the catalog's type rules (catalog/typerules.go: common
// super types, implicit casts, Spark SQL's decimal arithmetic) to overload
// resolution: a cost for every implicit conversion, and the few result
// types the catalog does not define (aggregates, rounding).

// decimalDigits is the DECIMAL precision that holds every value of an
// integer type.
func decimalDigits(k catalog.Kind) int {
	switch k {
	case catalog.KindInt8:
		return 3
	case catalog.KindInt16:
		return 5
	case catalog.KindInt32:
		return 10
	}
	return 19
}

// asDecimal returns the DECIMAL type an exact numeric type converts to
// without loss.
func asDecimal(t catalog.Type) catalog.Type {
	if t.Kind == catalog.KindDecimal {
		return t
	}
	return catalog.Decimal(decimalDigits(t.Kind), 0)
}

// boundedDecimal caps a decimal result type at 38 digits, giving up scale
// (down to at most 6) to keep the integer digits.
func boundedDecimal(p, s int) catalog.Type {
	if p <= catalog.MaxDecimalPrecision {
		return catalog.Decimal(max(p, 1), s)
	}
	intDigits := p - s
	minScale := min(s, 6)
	s = max(catalog.MaxDecimalPrecision-intDigits, minScale)
	return catalog.Decimal(catalog.MaxDecimalPrecision, s)
}

// arithOps maps the registry's operator names to the catalog's.
var arithOps = map[string]catalog.ArithOp{
	"add": catalog.OpAdd, "sub": catalog.OpSub, "mul": catalog.OpMul,
	"div": catalog.OpDiv, "mod": catalog.OpMod, "intdiv": catalog.OpIntDiv,
}

func intRank(k catalog.Kind) int { return int(k - catalog.KindInt8) }

// commonType returns the type two values are compared, unioned or
// coalesced as (catalog.CommonSuperType), and false when no implicit
// conversion relates them.
//
// One deliberate difference: two exact types of which one is a DECIMAL meet
// at the larger scale, with the integer digits giving way past 38 digits
// (as Spark's wider decimal type does), where the catalog gives up scale.
// A comparison such as SUM(x) > 0.0001 * SUM(y) (DECIMAL(38,2) against
// DECIMAL(38,6)) must not round one side: a value too large for the
// narrower integer part is an overflow error at run time, never a silently
// different answer.
func commonType(a, b catalog.Type) (catalog.Type, bool) {
	if exactPair(a, b) {
		a, b = asDecimal(a), asDecimal(b)
		s := max(a.Scale, b.Scale)
		return catalog.Decimal(min(max(a.Precision-a.Scale, b.Precision-b.Scale)+s, catalog.MaxDecimalPrecision), s), true
	}
	return catalog.CommonSuperType(a, b)
}

// exactPair reports whether a and b are exact numbers, one a DECIMAL.
func exactPair(a, b catalog.Type) bool {
	exact := func(t catalog.Type) bool { return t.IsInteger() || t.Kind == catalog.KindDecimal }
	return exact(a) && exact(b) && (a.Kind == catalog.KindDecimal || b.Kind == catalog.KindDecimal)
}

// implicitCost returns the cost of implicitly converting a value of type
// from to type to (0: no conversion) for overload resolution, and false
// when the catalog's rules do not allow the conversion without a CAST.
// Cheaper conversions keep more of the value's nature: widening within a
// family costs least, reading text as a date or time most.
func implicitCost(from, to catalog.Type) (int, bool) {
	if from == to {
		return 0, true
	}
	if exactPair(from, to) && to.Kind == catalog.KindDecimal {
		// See commonType: the scale is kept, integer digits may give way.
		from = asDecimal(from)
		switch {
		case to.Scale < from.Scale:
			return 0, false
		case to.Precision-to.Scale >= from.Precision-from.Scale:
			return 1, true
		}
		return 3, true
	}
	if from.IsString() && (to.IsTemporal() || to.Kind == catalog.KindInterval) {
		// Text is read as a date or time only when it is a literal (the
		// binder converts those at compile time): a text column compared
		// with a DATE, or SUM over text, needs a CAST.
		return 0, false
	}
	if !catalog.CanImplicitCast(from, to) {
		return 0, false
	}
	switch {
	case from.Kind == catalog.KindNull:
		return 1, true
	case from.IsInteger() && to.IsInteger():
		return 1 + intRank(to.Kind) - intRank(from.Kind), true
	case to.Kind == catalog.KindFloat32:
		return 9, true
	case to.Kind == catalog.KindFloat64:
		return 10, true
	case from.Kind == catalog.KindString && to.Kind == catalog.KindString:
		return 1, true
	case from.Kind == catalog.KindJSON:
		return 3, true
	case from.Kind == catalog.KindTimestamp:
		return 2, true
	case from.Kind == catalog.KindDate:
		return 4, true
	}
	return 5, true
}

// canAssign reports whether a value of type from can be stored in a column
// of type to (INSERT, MERGE, UPDATE SET): every implicit conversion, plus
// narrowing between numbers and lengths that are checked at run time.
func canAssign(from, to catalog.Type) bool {
	if _, ok := implicitCost(from, to); ok {
		return true
	}
	switch {
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from.IsString() && to.IsString():
		return true
	case isTimestampish(from) && isTimestampish(to):
		return true
	}
	return false
}

func isTimestampish(t catalog.Type) bool {
	return t.Kind == catalog.KindDate || t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ
}
