package planner

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/etlc/etlc/catalog"
)

// This file turns literal text into canonical constant values: numbers
// (a decimal literal keeps its exact digits: 0.06 is DECIMAL(2,2)), dates,
// times, timestamps and intervals, and converts constants between types at
// compile time.

// parseDecimalLiteral parses an unsigned or signed decimal numeral such as
// "0.06" into its value and the narrowest DECIMAL type holding it exactly.
func parseDecimalLiteral(s string) (decimal128.Num, catalog.Type, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return decimal128.Num{}, catalog.Type{}, fmt.Errorf("%q is not a number", s)
	}
	intPart = strings.TrimLeft(intPart, "0")
	digits := intPart + frac
	scale := len(frac)
	prec := max(len(intPart)+scale, 1)
	if prec > catalog.MaxDecimalPrecision {
		return decimal128.Num{}, catalog.Type{}, fmt.Errorf("%s has more than %d digits", s, catalog.MaxDecimalPrecision)
	}
	bi, ok := new(big.Int).SetString("0"+digits, 10)
	if !ok {
		return decimal128.Num{}, catalog.Type{}, fmt.Errorf("%q is not a number", s)
	}
	if neg {
		bi.Neg(bi)
	}
	return decimal128.FromBigInt(bi), catalog.Decimal(prec, scale), nil
}

// intDigits is the number of decimal digits of |v|.
func intDigits(v int64) int {
	if v == math.MinInt64 {
		return 19
	}
	if v < 0 {
		v = -v
	}
	return len(strconv.FormatInt(v, 10))
}

var dateLayouts = []string{"2006-01-02", "2006-1-2", "20060102"}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseDate parses YYYY-MM-DD into days since the epoch.
func parseDate(s string) (int32, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return int32(t.Unix() / 86400), nil
		}
	}
	return 0, fmt.Errorf("invalid DATE literal '%s'", s)
}

// parseTimestamp parses a timestamp literal into microseconds since the
// epoch. Without a zone it is read as UTC; with tz, a zone suffix
// (Z, +02, +02:00) is honoured.
func parseTimestamp(s string, tz bool) (int64, error) {
	s = strings.TrimSpace(s)
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMicro(), nil
		}
		if tz {
			for _, z := range []string{"Z07:00", "Z07", " Z07:00", " Z07", " MST"} {
				if t, err := time.Parse(l+z, s); err == nil {
					return t.UnixMicro(), nil
				}
			}
		}
	}
	kind := "TIMESTAMP"
	if tz {
		kind = "TIMESTAMPTZ"
	}
	return 0, fmt.Errorf("invalid %s literal '%s'", kind, s)
}

// parseTimeOfDay parses HH:MM[:SS[.ffffff]] into microseconds since midnight.
func parseTimeOfDay(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{"15:04:05.999999", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1000), nil
		}
	}
	return 0, fmt.Errorf("invalid TIME literal '%s'", s)
}

// parseInterval parses interval text as PostgreSQL and the lowering write
// it: a sequence of "<number> <unit>" (units singular or plural: year,
// quarter, month, week, day, hour, minute, second, millisecond,
// microsecond, and their abbreviations), optionally followed by or made of
// [-]HH:MM[:SS[.f]]. "1.5 hours" is allowed for units below a day.
func parseInterval(s string) (arrow.MonthDayNanoInterval, error) {
	var iv arrow.MonthDayNanoInterval
	fields := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	if len(fields) == 0 {
		return iv, fmt.Errorf("invalid INTERVAL literal '%s'", s)
	}
	bad := func() (arrow.MonthDayNanoInterval, error) {
		return arrow.MonthDayNanoInterval{}, fmt.Errorf("invalid INTERVAL literal '%s'", s)
	}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			ns, err := parseClock(f)
			if err != nil {
				return bad()
			}
			iv.Nanoseconds += ns
			continue
		}
		num, err := strconv.ParseFloat(f, 64)
		unit := ""
		if err != nil {
			// "10s", "5min": number and unit written together.
			j := strings.IndexFunc(f, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
			if j <= 0 {
				return bad()
			}
			if num, err = strconv.ParseFloat(f[:j], 64); err != nil {
				return bad()
			}
			unit = f[j:]
		} else {
			if i+1 >= len(fields) {
				return bad()
			}
			i++
			unit = fields[i]
		}
		unit = strings.TrimSuffix(unit, ",")
		switch unit {
		case "ms":
			unit = "millisecond"
		case "us":
			unit = "microsecond"
		case "s":
			unit = "second"
		}
		unit = strings.TrimSuffix(unit, "s")
		whole := num == math.Trunc(num)
		switch unit {
		case "year", "yr", "y":
			if !whole {
				return bad()
			}
			iv.Months += int32(num) * 12
		case "quarter":
			if !whole {
				return bad()
			}
			iv.Months += int32(num) * 3
		case "month", "mon":
			if !whole {
				return bad()
			}
			iv.Months += int32(num)
		case "week", "w":
			if !whole {
				return bad()
			}
			iv.Days += int32(num) * 7
		case "day", "d":
			if !whole {
				return bad()
			}
			iv.Days += int32(num)
		case "hour", "hr", "h":
			iv.Nanoseconds += int64(math.Round(num * 3600e9))
		case "minute", "min", "m":
			iv.Nanoseconds += int64(math.Round(num * 60e9))
		case "second", "sec":
			iv.Nanoseconds += int64(math.Round(num * 1e9))
		case "millisecond", "msec":
			iv.Nanoseconds += int64(math.Round(num * 1e6))
		case "microsecond", "usec":
			iv.Nanoseconds += int64(math.Round(num * 1e3))
		default:
			return bad()
		}
	}
	return iv, nil
}

func parseClock(f string) (int64, error) {
	neg := strings.HasPrefix(f, "-")
	f = strings.TrimPrefix(f, "-")
	parts := strings.Split(f, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("bad clock")
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad clock")
	}
	ns := h*3600e9 + m*60e9
	if len(parts) == 3 {
		sec, err := strconv.ParseFloat(parts[2], 64)
		if err != nil {
			return 0, fmt.Errorf("bad clock")
		}
		ns += int64(math.Round(sec * 1e9))
	}
	if neg {
		ns = -ns
	}
	return ns, nil
}

// errNotConstant marks a conversion that convertConst does not make at
// compile time, although the value may well convert: an explicit CAST then
// leaves it to the run-time cast (which rounds, truncates and formats as
// PostgreSQL does, and folds constants before the first row).
var errNotConstant = errors.New("no compile-time conversion")

// notConstant is an error for a conversion left to run time; its text is
// still a good message where only an exact conversion is acceptable.
func notConstant(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errNotConstant, fmt.Sprintf(format, args...))
}

// rangeError is a literal too large for its type (SQLSTATE 22003).
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

// literalCode is the SQLSTATE of a literal that does not convert to t.
func literalCode(err error, t catalog.Type) string {
	var re *rangeError
	switch {
	case errors.As(err, &re):
		return "22003"
	case t.IsTemporal() || t.Kind == catalog.KindInterval:
		return "22007"
	}
	return "22P02"
}

// convertConst converts a constant value of type from to type to at compile
// time, for literals whose type comes from their context. Conversions that
// are not exact (fewer decimals) or not done at compile time fail with an
// error wrapping errNotConstant.
func convertConst(v any, from, to catalog.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return convertString(x, to)
	case int64:
		if from.IsInteger() {
			return convertInt(x, to)
		}
	case decimal128.Num:
		if to.Kind == catalog.KindDecimal {
			if to.Scale < from.Scale {
				return nil, notConstant("%s does not fit %s", formatDecimal(x, from.Scale), to)
			}
			n := x.IncreaseScaleBy(int32(to.Scale - from.Scale))
			if !n.FitsInPrecision(int32(to.Precision)) {
				return nil, fmt.Errorf("%s does not fit %s", formatDecimal(x, from.Scale), to)
			}
			return n, nil
		}
		if to.IsFloat() {
			return x.ToFloat64(int32(from.Scale)), nil
		}
	case float64:
		if to.IsFloat() {
			return x, nil
		}
	}
	if from == to {
		return v, nil
	}
	return nil, notConstant("cannot convert %s to %s", FormatValue(v, from), to)
}

func convertInt(x int64, to catalog.Type) (any, error) {
	switch {
	case to.IsInteger():
		lim := int64(1) << (8*intBytes(to.Kind) - 1)
		if to.Kind != catalog.KindInt64 && (x < -lim || x >= lim) {
			return nil, &rangeError{fmt.Sprintf("%d is out of range for %s", x, to)}
		}
		return x, nil
	case to.IsFloat():
		return float64(x), nil
	case to.Kind == catalog.KindDecimal:
		n := decimal128.FromI64(x).IncreaseScaleBy(int32(to.Scale))
		if !n.FitsInPrecision(int32(to.Precision)) {
			return nil, &rangeError{fmt.Sprintf("%d is out of range for %s", x, to)}
		}
		return n, nil
	}
	return nil, notConstant("cannot convert %d to %s", x, to)
}

func intBytes(k catalog.Kind) int {
	switch k {
	case catalog.KindInt8:
		return 1
	case catalog.KindInt16:
		return 2
	case catalog.KindInt32:
		return 4
	}
	return 8
}

// convertString reads a string literal as a value of type to.
func convertString(s string, to catalog.Type) (any, error) {
	switch to.Kind {
	case catalog.KindArray:
		elems, err := catalog.SplitArrayText(s)
		if err != nil {
			return nil, fmt.Errorf("malformed array literal: \"%s\" (%v)", s, err)
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			if e.Null {
				continue
			}
			v, err := convertString(e.Text, to.ElemType())
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case catalog.KindString, catalog.KindJSON:
		return s, nil
	case catalog.KindBinary:
		return []byte(s), nil
	case catalog.KindBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "t", "yes", "y", "on", "1":
			return true, nil
		case "false", "f", "no", "n", "off", "0":
			return false, nil
		}
		return nil, fmt.Errorf("invalid BOOLEAN literal '%s'", s)
	case catalog.KindDate:
		return parseDate(s)
	case catalog.KindTime:
		return parseTimeOfDay(s)
	case catalog.KindTimestamp:
		return parseTimestamp(s, false)
	case catalog.KindTimestampTZ:
		return parseTimestamp(s, true)
	case catalog.KindInterval:
		return parseInterval(s)
	case catalog.KindFloat32, catalog.KindFloat64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("invalid %s literal '%s'", to, s)
		}
		return f, nil
	case catalog.KindInt8, catalog.KindInt16, catalog.KindInt32, catalog.KindInt64:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, &rangeError{fmt.Sprintf("value '%s' is out of range for %s", s, to)}
		}
		if err != nil {
			return nil, fmt.Errorf("invalid %s literal '%s'", to, s)
		}
		return convertInt(i, to)
	case catalog.KindDecimal:
		n, t, err := parseDecimalLiteral(s)
		if err != nil {
			return nil, fmt.Errorf("invalid %s literal '%s'", to, s)
		}
		return convertConst(n, t, to)
	}
	return nil, fmt.Errorf("cannot read '%s' as %s", s, to)
}

// literalHint says how a literal of type t is written.
func literalHint(t catalog.Type) string {
	switch t.Kind {
	case catalog.KindDate:
		return "write a date as 'YYYY-MM-DD'"
	case catalog.KindTimestamp, catalog.KindTimestampTZ:
		return "write a timestamp as 'YYYY-MM-DD HH:MM:SS'"
	case catalog.KindTime:
		return "write a time as 'HH:MM:SS'"
	case catalog.KindInterval:
		return "write an interval as '5 minutes' or '1 day 2 hours'"
	case catalog.KindBool:
		return "write TRUE or FALSE"
	}
	return ""
}
