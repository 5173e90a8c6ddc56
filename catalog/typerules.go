package catalog

import "fmt"

// This file holds the typing rules the planner applies: the common super
// type of two types (UNION branches, CASE and COALESCE arms, the two sides
// of a comparison), which casts are implicit and which need CAST, and the
// result types of arithmetic.
//
// The rules, in short:
//
//   - NULL (the type of a bare NULL) joins any type as that type.
//   - Integers widen to the wider integer. An integer meets a DECIMAL as
//     DECIMAL(3,0), DECIMAL(5,0), DECIMAL(10,0) or DECIMAL(19,0) for
//     TINYINT, SMALLINT, INT and BIGINT.
//   - Two decimals meet at the scale of the larger scale and the integer
//     digits of the larger integer part; past 38 digits the scale gives way
//     (never the integer digits), as far as 0.
//   - Any floating type with a DECIMAL gives DOUBLE; REAL with TINYINT or
//     SMALLINT stays REAL, REAL with INT or BIGINT gives DOUBLE.
//   - Character types meet as VARCHAR (CHAR(n) only with CHAR(m): CHAR(max));
//     a bounded length survives only when both are bounded. JSON with a
//     character type gives VARCHAR.
//   - A character type meets DATE, TIME, TIMESTAMP, TIMESTAMPTZ or INTERVAL as
//     that type: the string is read as a literal of it ('2024-01-01' = d).
//   - DATE < TIMESTAMP < TIMESTAMPTZ widen in that order; TIME meets nothing
//     but itself.
//   - Everything else (text with numbers, booleans with numbers, binary
//     with text) has no common type: the planner reports it, and the user
//     writes a CAST. The planner may type an untyped string literal from its
//     context before it asks.
//
// Arithmetic follows Spark SQL (and Hive) for DECIMAL, with Spark's
// allowPrecisionLoss behaviour, see DecimalResultType; '/' is never integer
// division: on integers and decimals it gives a DECIMAL, on floats a float,
// and DIV gives BIGINT.

// integerDigits returns the decimal digits an integer kind needs.
func integerDigits(k Kind) int {
	switch k {
	case KindInt8:
		return 3
	case KindInt16:
		return 5
	case KindInt32:
		return 10
	case KindInt64:
		return 19
	}
	return 0
}

// DecimalOf returns the DECIMAL that holds every value of an integer type
// exactly (DECIMAL(3,0) for TINYINT ... DECIMAL(19,0) for BIGINT), t itself
// for a DECIMAL, and false for anything else.
func DecimalOf(t Type) (Type, bool) {
	switch {
	case t.Kind == KindDecimal:
		return t, true
	case t.IsInteger():
		return Decimal(integerDigits(t.Kind), 0), true
	}
	return Type{}, false
}

// widerDecimal returns the decimal that holds both a and b, giving up
// scale (never integer digits) past 38 digits.
func widerDecimal(a, b Type) Type {
	scale := max(a.Scale, b.Scale)
	intDigits := max(a.Precision-a.Scale, b.Precision-b.Scale)
	if intDigits+scale > MaxDecimalPrecision {
		scale = max(0, MaxDecimalPrecision-intDigits)
	}
	return Decimal(min(intDigits+scale, MaxDecimalPrecision), scale)
}

// CommonSuperType returns the type that a and b are both converted to when
// they meet in a UNION, a CASE, COALESCE or a comparison, and false when
// they have none. It is commutative, and both a and b cast implicitly to
// the result (see the rules at the top of this file).
func CommonSuperType(a, b Type) (Type, bool) {
	switch {
	case a.Kind == KindNull:
		return b, true
	case b.Kind == KindNull:
		return a, true
	case a == b:
		return a, true
	case a.IsArray() && b.IsArray():
		e, ok := CommonSuperType(a.ElemType(), b.ElemType())
		if !ok {
			return Type{}, false
		}
		return ArrayOf(e), true
	case a.IsArray() && b.Kind == KindString:
		return a, true
	case b.IsArray() && a.Kind == KindString:
		return b, true
	case a.IsInteger() && b.IsInteger():
		if a.Kind > b.Kind {
			return a, true
		}
		return b, true
	case a.IsNumeric() && b.IsNumeric():
		if a.IsFloat() || b.IsFloat() {
			return commonFloat(a, b), true
		}
		da, _ := DecimalOf(a)
		db, _ := DecimalOf(b)
		return widerDecimal(da, db), true
	case a.Kind == KindString && b.Kind == KindString:
		if a.Fixed && b.Fixed {
			return Type{Kind: KindString, Fixed: true, Length: max(a.Length, b.Length)}, true
		}
		if a.Length > 0 && b.Length > 0 {
			return Type{Kind: KindString, Length: max(a.Length, b.Length)}, true
		}
		return String, true
	case a.IsString() && b.IsString():
		// JSON with a character type: JSON is text, text need not be JSON.
		return String, true
	case a.Kind == KindString && (b.IsTemporal() || b.Kind == KindInterval):
		return b, true
	case b.Kind == KindString && (a.IsTemporal() || a.Kind == KindInterval):
		return a, true
	case a.IsTemporal() && b.IsTemporal():
		if a.Kind == KindTime || b.Kind == KindTime {
			return Type{}, false
		}
		if a.Kind > b.Kind {
			return a, true
		}
		return b, true
	}
	return Type{}, false
}

// commonFloat is the super type of two numeric types at least one of which
// is floating.
func commonFloat(a, b Type) Type {
	if a.Kind == KindFloat64 || b.Kind == KindFloat64 {
		return Float64
	}
	// One is REAL; the other is REAL, an integer or a decimal.
	other := a
	if a.Kind == KindFloat32 {
		other = b
	}
	switch other.Kind {
	case KindFloat32, KindInt8, KindInt16:
		return Float32
	}
	return Float64
}

// CanImplicitCast reports whether a value of type from converts to type to
// without a CAST: to the same type; from NULL; integer widening; an integer
// or DECIMAL to a DECIMAL with room for its integer digits and its scale (at
// precision 38 a smaller scale is allowed, and rounds); any integer to
// DOUBLE, TINYINT and SMALLINT to REAL, REAL and DECIMAL to DOUBLE; between
// character types (a length limit is checked when a value is stored); JSON
// to a character type; a character type to DATE, TIME, TIMESTAMP,
// TIMESTAMPTZ or INTERVAL (read as a literal); DATE to TIMESTAMP and
// TIMESTAMPTZ; TIMESTAMP to TIMESTAMPTZ. Every operand casts implicitly to
// its CommonSuperType with any other type.
func CanImplicitCast(from, to Type) bool {
	if from == to || from.Kind == KindNull {
		return true
	}
	switch {
	case from.IsArray():
		return to.IsArray() && CanImplicitCast(from.ElemType(), to.ElemType())
	case from.Kind == KindString && to.IsArray():
		return true
	case from.IsInteger():
		switch {
		case to.IsInteger():
			return to.Kind >= from.Kind
		case to.Kind == KindFloat64:
			return true
		case to.Kind == KindFloat32:
			// REAL holds TINYINT and SMALLINT exactly, not INT or BIGINT.
			return from.Kind <= KindInt16
		case to.Kind == KindDecimal:
			return integerDigits(from.Kind) <= to.Precision-to.Scale
		}
	case from.Kind == KindDecimal:
		switch to.Kind {
		case KindDecimal:
			// Integer digits must fit; the scale shrinks (rounding) only at
			// the 38-digit limit, where CommonSuperType gives it up.
			return from.Precision-from.Scale <= to.Precision-to.Scale &&
				(from.Scale <= to.Scale || to.Precision == MaxDecimalPrecision)
		case KindFloat64:
			return true
		}
	case from.Kind == KindFloat32:
		return to.Kind == KindFloat64
	case from.Kind == KindString:
		return to.Kind == KindString || to.IsTemporal() || to.Kind == KindInterval
	case from.Kind == KindJSON:
		return to.Kind == KindString
	case from.Kind == KindDate:
		return to.Kind == KindTimestamp || to.Kind == KindTimestampTZ
	case from.Kind == KindTimestamp:
		return to.Kind == KindTimestampTZ
	}
	return false
}

// CanExplicitCast reports whether CAST(x AS to) is allowed for x of type
// from. Every implicit cast is; so is any type to a character type, a
// character type to any type (the text is parsed, and a bad value is an
// error at run time), any numeric type to another (out of range values are
// errors), BOOLEAN to and from numeric types, between DATE, TIMESTAMP and
// TIMESTAMPTZ in any direction, TIMESTAMP and TIMESTAMPTZ to TIME, and
// VARBINARY to and from character types.
func CanExplicitCast(from, to Type) bool {
	if CanImplicitCast(from, to) {
		return true
	}
	switch {
	case to.Kind == KindNull:
		return false
	case to.Kind == KindString || from.Kind == KindString:
		return true
	case from.IsArray() && to.IsArray():
		return CanExplicitCast(from.ElemType(), to.ElemType())
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from.Kind == KindBool && to.IsNumeric(), from.IsNumeric() && to.Kind == KindBool:
		return true
	case from.IsTemporal() && to.IsTemporal():
		if to.Kind == KindTime {
			return from.Kind == KindTimestamp || from.Kind == KindTimestampTZ
		}
		return from.Kind != KindTime
	}
	return false
}

// ArithOp is a binary arithmetic operator.
type ArithOp int

// The arithmetic operators: + - * / % and DIV (integer division).
const (
	OpAdd ArithOp = iota
	OpSub
	OpMul
	OpDiv
	OpMod
	OpIntDiv
)

// String returns the operator as written in SQL.
func (op ArithOp) String() string {
	switch op {
	case OpAdd:
		return "+"
	case OpSub:
		return "-"
	case OpMul:
		return "*"
	case OpDiv:
		return "/"
	case OpMod:
		return "%"
	case OpIntDiv:
		return "DIV"
	}
	return fmt.Sprintf("ArithOp(%d)", int(op))
}

// adjustDecimal brings a decimal result of precision p and scale s within 38
// digits the way Spark does with allowPrecisionLoss: the integer digits are
// kept and the scale shrinks, but not below min(s, 6).
func adjustDecimal(p, s int) Type {
	if p <= MaxDecimalPrecision {
		return Decimal(p, s)
	}
	intDigits := p - s
	minScale := min(s, 6)
	return Decimal(MaxDecimalPrecision, max(MaxDecimalPrecision-intDigits, minScale))
}

// DecimalResultType returns the type of a op b for exact operands: DECIMAL
// or integer types, integers taken as DecimalOf. It uses the Spark SQL/Hive
// formulas, for a = DECIMAL(p1,s1), b = DECIMAL(p2,s2):
//
//	a + b, a - b:  DECIMAL(max(s1,s2) + max(p1-s1, p2-s2) + 1, max(s1,s2))
//	a * b:         DECIMAL(p1 + p2 + 1, s1 + s2)
//	a / b:         DECIMAL(p1 - s1 + s2 + max(6, s1+p2+1), max(6, s1+p2+1))
//	a % b:         DECIMAL(min(p1-s1, p2-s2) + max(s1,s2), max(s1,s2))
//
// A precision over 38 becomes 38 and the scale gives way to the integer
// digits, down to min(scale, 6) and no further (values that then do not fit
// are an overflow error at run time). DIV gives BIGINT.
func DecimalResultType(op ArithOp, a, b Type) (Type, error) {
	da, okA := DecimalOf(a)
	db, okB := DecimalOf(b)
	if !okA || !okB {
		return Type{}, typeErrorf("", "operator %s: %s and %s are not exact numeric types", op, a, b)
	}
	p1, s1, p2, s2 := da.Precision, da.Scale, db.Precision, db.Scale
	switch op {
	case OpAdd, OpSub:
		s := max(s1, s2)
		return adjustDecimal(s+max(p1-s1, p2-s2)+1, s), nil
	case OpMul:
		return adjustDecimal(p1+p2+1, s1+s2), nil
	case OpDiv:
		s := max(6, s1+p2+1)
		return adjustDecimal(p1-s1+s2+s, s), nil
	case OpMod:
		s := max(s1, s2)
		return adjustDecimal(min(p1-s1, p2-s2)+s, s), nil
	case OpIntDiv:
		return Int64, nil
	}
	return Type{}, typeErrorf("", "unknown operator %s", op)
}

// ArithmeticType returns the type of a op b, or a *TypeError naming the
// operator and types when the operation is not defined:
//
//   - integers: + - * % give the wider integer (overflow is a run-time
//     error), / gives a DECIMAL (7 / 2 is 3.5), DIV gives BIGINT;
//   - DECIMAL with DECIMAL or an integer: DecimalResultType;
//   - with a REAL or DOUBLE operand: the CommonSuperType of the two (DIV
//     still gives BIGINT);
//   - DATE ± integer days is DATE, DATE - DATE is INT (days), DATE + TIME
//     is TIMESTAMP, DATE ± INTERVAL is TIMESTAMP (as in PostgreSQL);
//   - TIMESTAMP, TIMESTAMPTZ or TIME ± INTERVAL keep their type,
//     TIMESTAMP - TIMESTAMP (and TIMESTAMPTZ) is INTERVAL;
//   - INTERVAL ± INTERVAL, INTERVAL * number, number * INTERVAL and
//     INTERVAL / number are INTERVAL.
//
// A NULL operand takes the type of the other; NULL op NULL is NULL.
func ArithmeticType(op ArithOp, a, b Type) (Type, error) {
	if a.Kind == KindNull && b.Kind == KindNull {
		return Null, nil
	}
	if a.Kind == KindNull {
		a = b
	}
	if b.Kind == KindNull {
		b = a
	}
	if a.IsNumeric() && b.IsNumeric() {
		switch {
		case op == OpIntDiv:
			return Int64, nil
		case a.IsFloat() || b.IsFloat():
			t, _ := CommonSuperType(a, b)
			return t, nil
		case a.IsInteger() && b.IsInteger() && op != OpDiv:
			t, _ := CommonSuperType(a, b)
			return t, nil
		}
		return DecimalResultType(op, a, b)
	}
	if t, ok := temporalArithmetic(op, a, b); ok {
		return t, nil
	}
	hint := ""
	switch {
	case op == OpAdd && a.IsString() && b.IsString():
		hint = "use || to concatenate strings"
	case a.IsString() || b.IsString():
		hint = "CAST the text to the type you mean"
	}
	return Type{}, typeErrorf(hint, "operator %s is not defined for %s and %s", op, a, b)
}

// temporalArithmetic types the date, time and interval operations.
func temporalArithmetic(op ArithOp, a, b Type) (Type, bool) {
	ka, kb := a.Kind, b.Kind
	switch op {
	case OpAdd:
		switch {
		case ka == KindDate && b.IsInteger(), a.IsInteger() && kb == KindDate:
			return Date, true
		case ka == KindDate && kb == KindTime, ka == KindTime && kb == KindDate:
			return Timestamp, true
		case ka == KindDate && kb == KindInterval, ka == KindInterval && kb == KindDate:
			return Timestamp, true
		case (ka == KindTimestamp || ka == KindTimestampTZ || ka == KindTime) && kb == KindInterval:
			return a, true
		case ka == KindInterval && (kb == KindTimestamp || kb == KindTimestampTZ || kb == KindTime):
			return b, true
		case ka == KindInterval && kb == KindInterval:
			return Interval, true
		}
	case OpSub:
		switch {
		case ka == KindDate && b.IsInteger():
			return Date, true
		case ka == KindDate && kb == KindDate:
			return Int32, true
		case ka == KindDate && kb == KindInterval:
			return Timestamp, true
		case (ka == KindTimestamp || ka == KindTimestampTZ || ka == KindTime) && kb == KindInterval:
			return a, true
		case ka == KindInterval && kb == KindInterval:
			return Interval, true
		case (ka == KindTimestamp || ka == KindTimestampTZ || ka == KindDate) &&
			(kb == KindTimestamp || kb == KindTimestampTZ || kb == KindDate):
			return Interval, true
		case ka == KindTime && kb == KindTime:
			return Interval, true
		}
	case OpMul:
		switch {
		case ka == KindInterval && b.IsNumeric(), a.IsNumeric() && kb == KindInterval:
			return Interval, true
		}
	case OpDiv:
		if ka == KindInterval && b.IsNumeric() {
			return Interval, true
		}
	}
	return Type{}, false
}
