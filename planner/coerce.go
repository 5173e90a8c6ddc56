package planner

import "github.com/etlc/etlc/catalog"

// This file holds the type rules the binder applies: the common type of two
// operands, implicit casts and their cost for overload resolution, and the
// result types of decimal arithmetic (Spark SQL's rules, which keep money
// exact: precision grows with the operation, scale is kept, and a result
// wider than 38 digits gives up scale, never integer digits, down to 6).

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

// decimalArith returns the result type of op (add, sub, mul, div, mod) on
// two exact operands.
func decimalArith(op string, a, b catalog.Type) catalog.Type {
	a, b = asDecimal(a), asDecimal(b)
	p1, s1, p2, s2 := a.Precision, a.Scale, b.Precision, b.Scale
	switch op {
	case "add", "sub":
		s := max(s1, s2)
		return boundedDecimal(max(p1-s1, p2-s2)+s+1, s)
	case "mul":
		return boundedDecimal(p1+p2+1, s1+s2)
	case "div":
		s := max(6, s1+p2+1)
		return boundedDecimal(p1-s1+s2+s, s)
	case "mod":
		s := max(s1, s2)
		return boundedDecimal(min(p1-s1, p2-s2)+s, s)
	}
	panic("planner: decimalArith: unknown op " + op)
}

func intRank(k catalog.Kind) int { return int(k - catalog.KindInt8) }

// commonType returns the type two values are compared, unioned or
// coalesced as, and false when no implicit conversion relates them.
func commonType(a, b catalog.Type) (catalog.Type, bool) {
	if a.Kind == catalog.KindNull {
		return b, true
	}
	if b.Kind == catalog.KindNull || a == b {
		return a, true
	}
	switch {
	case a.IsInteger() && b.IsInteger():
		if intRank(a.Kind) >= intRank(b.Kind) {
			return catalog.Type{Kind: a.Kind}, true
		}
		return catalog.Type{Kind: b.Kind}, true
	case a.IsNumeric() && b.IsNumeric():
		if a.IsFloat() || b.IsFloat() {
			if a.Kind == catalog.KindFloat32 && b.Kind == catalog.KindFloat32 {
				return catalog.Float32, true
			}
			return catalog.Float64, true
		}
		a, b = asDecimal(a), asDecimal(b)
		s := max(a.Scale, b.Scale)
		return boundedDecimal(max(a.Precision-a.Scale, b.Precision-b.Scale)+s, s), true
	case a.IsString() && b.IsString():
		if a.Kind == catalog.KindJSON && b.Kind == catalog.KindJSON {
			return catalog.JSON, true
		}
		if a.Kind == catalog.KindString && b.Kind == catalog.KindString && a.Fixed && b.Fixed {
			return catalog.Type{Kind: catalog.KindString, Fixed: true, Length: max(a.Length, b.Length)}, true
		}
		return catalog.String, true
	case isTimestampish(a) && isTimestampish(b):
		if a.Kind == catalog.KindTimestampTZ || b.Kind == catalog.KindTimestampTZ {
			return catalog.TimestampTZ, true
		}
		return catalog.Timestamp, true
	}
	return catalog.Type{}, false
}

func isTimestampish(t catalog.Type) bool {
	return t.Kind == catalog.KindDate || t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ
}

// implicitCost returns the cost of implicitly converting a value of type
// from to type to (0: no conversion), and false when SQL users would not
// expect the conversion to happen silently.
func implicitCost(from, to catalog.Type) (int, bool) {
	if from == to {
		return 0, true
	}
	if from.Kind == catalog.KindNull {
		return 1, true
	}
	switch {
	case from.IsInteger() && to.IsInteger():
		if intRank(from.Kind) <= intRank(to.Kind) {
			return 1 + intRank(to.Kind) - intRank(from.Kind), true
		}
	case from.IsInteger() && to.Kind == catalog.KindDecimal:
		if to.Precision-to.Scale >= decimalDigits(from.Kind) {
			return 6, true
		}
	case from.Kind == catalog.KindDecimal && to.Kind == catalog.KindDecimal:
		if to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale {
			return 1, true
		}
		// Wide decimals (sums are DECIMAL(38,s)) meet at 38 digits; values
		// that do not fit are an error at run time, never a silent change.
		if to.Scale >= from.Scale {
			return 3, true
		}
	case from.IsNumeric() && to.IsFloat():
		if to.Kind == catalog.KindFloat64 {
			return 10, true
		}
		if from.Kind == catalog.KindFloat32 || from.Kind == catalog.KindInt8 || from.Kind == catalog.KindInt16 {
			return 9, true
		}
	case from.Kind == catalog.KindString && to.Kind == catalog.KindString:
		if !to.Fixed && to.Length == 0 {
			return 1, true
		}
	case from.Kind == catalog.KindJSON && to.Kind == catalog.KindString:
		return 3, true
	case from.Kind == catalog.KindDate && (to.Kind == catalog.KindTimestamp || to.Kind == catalog.KindTimestampTZ):
		return 4, true
	case from.Kind == catalog.KindTimestamp && to.Kind == catalog.KindTimestampTZ:
		return 2, true
	}
	return 0, false
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
