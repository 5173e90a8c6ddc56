package connector

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/expr"
)

// value is one converted field, held until every field of its row has
// converted (a bad row must not leave half its values in the builders).
type value struct {
	null bool
	i    int64 // integers; DATE: days since 1970-01-01; TIME, TIMESTAMP: µs
	f    float64
	d    decimal128.Num
	b    bool
	s    []byte // strings, binary, JSON (may alias the input buffer)
	iv   arrow.MonthDayNanoInterval
}

// quoteRaw quotes a field's text for a message, shortened when long.
func quoteRaw(b []byte) string {
	const max = 64
	if utf8.RuneCount(b) > max {
		r := []rune(string(b))
		return strconv.Quote(string(r[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

func invalid(t catalog.Type, raw []byte) error {
	return fmt.Errorf("invalid %s %s", t, quoteRaw(raw))
}

func outOfRange(t catalog.Type, raw []byte) error {
	return fmt.Errorf("value %s out of range for %s", quoteRaw(raw), t)
}

// parseText converts the text of a field to type t into v. It returns an
// error whose message is the reason the row is bad, e.g.
// `invalid TIMESTAMP "2020-13-01"`. Text for non-character types is
// trimmed of surrounding spaces. scratch is a buffer v.s may use (binary).
func parseText(t catalog.Type, raw []byte, v *value, scratch *[]byte) error {
	v.null = false
	switch t.Kind {
	case catalog.KindString:
		return parseString(t, raw, v)
	case catalog.KindJSON:
		if !utf8.Valid(raw) {
			return errors.New("invalid UTF-8 in JSON value")
		}
		if !json.Valid(raw) {
			return invalid(t, raw)
		}
		v.s = raw
		return nil
	case catalog.KindBinary:
		if len(raw) >= 2 && raw[0] == '\\' && (raw[1] == 'x' || raw[1] == 'X') {
			h := raw[2:]
			buf := (*scratch)[:0]
			if cap(buf) < len(h)/2 {
				buf = make([]byte, 0, len(h))
			}
			buf = buf[:len(h)/2]
			if len(h)%2 != 0 {
				return invalid(t, raw)
			}
			if _, err := hex.Decode(buf, h); err != nil {
				return invalid(t, raw)
			}
			*scratch = buf
			v.s = buf
			return nil
		}
		v.s = raw
		return nil
	}
	s := bytes.TrimSpace(raw)
	switch t.Kind {
	case catalog.KindBool:
		b, ok := parseBool(s)
		if !ok {
			return invalid(t, raw)
		}
		v.b = b
	case catalog.KindInt8, catalog.KindInt16, catalog.KindInt32, catalog.KindInt64:
		n, err := parseInt(s, intBits(t.Kind))
		if err == errRange {
			return outOfRange(t, raw)
		}
		if err != nil {
			return invalid(t, raw)
		}
		v.i = n
	case catalog.KindFloat32, catalog.KindFloat64:
		bits := 64
		if t.Kind == catalog.KindFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(s), bits)
		if err == nil && bytes.ContainsAny(s, "xX_") {
			err = strconv.ErrSyntax // hexadecimal and underscores are Go's, not SQL's
		}
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return outOfRange(t, raw)
			}
			return invalid(t, raw)
		}
		v.f = f
	case catalog.KindDecimal:
		n, err := parseDecimal(s, t.Precision, t.Scale)
		if err != nil {
			return decimalError(t, raw, err)
		}
		v.d = n
	case catalog.KindDate:
		d, ok := parseDate(s)
		if !ok {
			return invalid(t, raw)
		}
		v.i = d
	case catalog.KindTime:
		us, ok := parseTime(s)
		if !ok {
			return invalid(t, raw)
		}
		v.i = us
	case catalog.KindTimestamp, catalog.KindTimestampTZ:
		us, ok := parseTimestamp(s)
		if !ok {
			return invalid(t, raw)
		}
		v.i = us
	case catalog.KindInterval:
		iv, ok := parseInterval(s)
		if !ok {
			return invalid(t, raw)
		}
		v.iv = iv
	case catalog.KindNull:
		v.null = true
	default:
		return fmt.Errorf("cannot read type %s", t)
	}
	return nil
}

// parseString checks a character value: valid UTF-8, within VARCHAR(n)/CHAR(n).
func parseString(t catalog.Type, raw []byte, v *value) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("invalid UTF-8 in %s value", t)
	}
	if t.Length > 0 {
		if n := utf8.RuneCount(raw); n > t.Length {
			return fmt.Errorf("value %s too long for %s (%d characters)", quoteRaw(raw), t, n)
		}
	}
	v.s = raw
	return nil
}

func intBits(k catalog.Kind) int {
	switch k {
	case catalog.KindInt8:
		return 8
	case catalog.KindInt16:
		return 16
	case catalog.KindInt32:
		return 32
	}
	return 64
}

var (
	errSyntax = errors.New("syntax")
	errRange  = errors.New("range")
	errPlaces = errors.New("places")
)

// parseInt parses an optionally signed decimal integer that fits in bits.
func parseInt(s []byte, bits int) (int64, error) {
	if len(s) == 0 {
		return 0, errSyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, errSyntax
	}
	limit := uint64(1) << (bits - 1) // magnitude of the minimum
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, errRange
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > limit {
			return 0, errRange
		}
		return -int64(n-1) - 1, nil
	}
	if n > limit-1 {
		return 0, errRange
	}
	return int64(n), nil
}

func parseBool(s []byte) (bool, bool) {
	switch strings.ToLower(string(s)) {
	case "true", "t", "1", "yes":
		return true, true
	case "false", "f", "0", "no":
		return false, true
	}
	return false, false
}

func decimalError(t catalog.Type, raw []byte, err error) error {
	switch err {
	case errRange:
		return outOfRange(t, raw)
	case errPlaces:
		return fmt.Errorf("value %s has more than %d digits after the decimal point for %s", quoteRaw(raw), t.Scale, t)
	}
	return invalid(t, raw)
}

// parseDecimal parses decimal text exactly into an unscaled decimal128 at
// scale: [sign] digits [. digits] [e [sign] digits]. Digits beyond scale
// that are not zeros are errPlaces (no rounding); more than prec
// significant digits is errRange.
func parseDecimal(s []byte, prec, scale int) (decimal128.Num, error) {
	var zero decimal128.Num
	if len(s) == 0 {
		return zero, errSyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	i := 0
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits := s[intStart:i]
	var fracDigits []byte
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracDigits = s[fs:i]
	}
	if len(intDigits)+len(fracDigits) == 0 {
		return zero, errSyntax
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := parseInt(s[i+1:], 32)
		if err != nil || e > 1000 || e < -1000 {
			return zero, errSyntax
		}
		exp = int(e)
		i = len(s)
	}
	if i != len(s) {
		return zero, errSyntax
	}
	// value = digits * 10^(exp - len(frac)); unscaled = digits * 10^shift.
	shift := exp - len(fracDigits) + scale
	digits := make([]byte, 0, len(intDigits)+len(fracDigits)+max(shift, 0))
	digits = append(digits, intDigits...)
	digits = append(digits, fracDigits...)
	if shift < 0 {
		cut := len(digits) + shift
		if cut < 0 {
			cut = 0
		}
		for _, c := range digits[cut:] {
			if c != '0' {
				return zero, errPlaces
			}
		}
		digits = digits[:cut]
	} else {
		for k := 0; k < shift; k++ {
			digits = append(digits, '0')
		}
	}
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) > prec {
		return zero, errRange
	}
	n := decimal128.Num{}
	ten := decimal128.FromI64(10)
	for _, c := range digits {
		n = n.Mul(ten).Add(decimal128.FromI64(int64(c - '0')))
	}
	if neg {
		n = n.Negate()
	}
	return n, nil
}

// digitsN reads exactly n ASCII digits.
func digitsN(s []byte, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for _, c := range s[:n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseDateParts parses YYYY-MM-DD at the start of s and returns the days
// and the rest of s.
func parseDateParts(s []byte) (int64, []byte, bool) {
	y, ok1 := digitsN(s, 4)
	if !ok1 || len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, nil, false
	}
	m, ok2 := digitsN(s[5:], 2)
	d, ok3 := digitsN(s[8:], 2)
	if !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > expr.DaysIn(y, m) {
		return 0, nil, false
	}
	return expr.DayNumber(y, m, d), s[10:], true
}

// parseDate parses YYYY-MM-DD into days since 1970-01-01.
func parseDate(s []byte) (int64, bool) {
	d, rest, ok := parseDateParts(s)
	return d, ok && len(rest) == 0
}

// parseClock parses HH:MM[:SS[.ffffff]] at the start of s into µs since
// midnight and returns the rest of s.
func parseClock(s []byte) (int64, []byte, bool) {
	h, ok1 := digitsN(s, 2)
	if !ok1 || len(s) < 5 || s[2] != ':' {
		return 0, nil, false
	}
	mi, ok2 := digitsN(s[3:], 2)
	if !ok2 || h > 23 || mi > 59 {
		return 0, nil, false
	}
	us := int64(h)*3600e6 + int64(mi)*60e6
	s = s[5:]
	if len(s) > 0 && s[0] == ':' {
		sec, ok := digitsN(s[1:], 2)
		if !ok || sec > 59 {
			return 0, nil, false
		}
		us += int64(sec) * 1e6
		s = s[3:]
		if len(s) > 0 && s[0] == '.' {
			j := 1
			var frac int64
			n := 0
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if n < 6 {
					frac = frac*10 + int64(s[j]-'0')
				} else if s[j] != '0' {
					return 0, nil, false // finer than microseconds
				}
				n++
				j++
			}
			if n == 0 {
				return 0, nil, false
			}
			for k := n; k < 6; k++ {
				frac *= 10
			}
			us += frac
			s = s[j:]
		}
	}
	return us, s, true
}

// parseTime parses HH:MM[:SS[.ffffff]] into µs since midnight.
func parseTime(s []byte) (int64, bool) {
	us, rest, ok := parseClock(s)
	return us, ok && len(rest) == 0
}

// parseTimestamp parses ISO 8601 date-times into µs since the epoch in UTC:
// YYYY-MM-DD, optionally followed by ' ' or 'T' and HH:MM[:SS[.ffffff]],
// optionally followed by a zone: Z, ±HH, ±HHMM or ±HH:MM (a space may stand
// before it). A value with a zone is converted to UTC; one without is taken
// as UTC.
func parseTimestamp(s []byte) (int64, bool) {
	days, s, ok := parseDateParts(s)
	if !ok {
		return 0, false
	}
	us := days * 86400e6
	if len(s) == 0 {
		return us, true
	}
	if s[0] != ' ' && s[0] != 'T' && s[0] != 't' {
		return 0, false
	}
	clock, rest, ok := parseClock(s[1:])
	if !ok {
		return 0, false
	}
	us += clock
	s = rest
	if len(s) > 0 && s[0] == ' ' {
		s = s[1:]
		if len(s) == 0 {
			return 0, false
		}
	}
	if len(s) == 0 {
		return us, true
	}
	off, ok := parseZone(s)
	if !ok {
		return 0, false
	}
	return us - off, true
}

// parseZone parses Z, ±HH, ±HHMM or ±HH:MM into an offset in µs.
func parseZone(s []byte) (int64, bool) {
	if len(s) == 1 && (s[0] == 'Z' || s[0] == 'z') {
		return 0, true
	}
	if len(s) == 3 && string(s) == "UTC" {
		return 0, true
	}
	if s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	sign := int64(1)
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	h, ok := digitsN(s, 2)
	if !ok || h > 18 {
		return 0, false
	}
	s = s[2:]
	m := 0
	switch {
	case len(s) == 0:
	case len(s) == 3 && s[0] == ':':
		m, ok = digitsN(s[1:], 2)
	case len(s) == 2:
		m, ok = digitsN(s, 2)
	default:
		ok = false
	}
	if !ok || m > 59 {
		return 0, false
	}
	return sign * (int64(h)*3600e6 + int64(m)*60e6), true
}

// parseInterval parses "N unit" pairs (years, months/mons, weeks, days,
// hours, minutes/mins, seconds/secs, milliseconds/ms, microseconds/us; a
// unit may be singular) and an optional [-]HH:MM[:SS[.ffffff]] clock part,
// e.g. "1 year 2 months 3 days 04:05:06.5" or "90 minutes".
func parseInterval(s []byte) (arrow.MonthDayNanoInterval, bool) {
	var iv arrow.MonthDayNanoInterval
	f := strings.Fields(string(s))
	if len(f) == 0 {
		return iv, false
	}
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.Contains(tok, ":") {
			neg := strings.HasPrefix(tok, "-")
			us, rest, ok := parseClock([]byte(strings.TrimLeft(tok, "+-")))
			if !ok || len(rest) != 0 {
				return iv, false
			}
			if neg {
				us = -us
			}
			iv.Nanoseconds += us * 1000
			continue
		}
		n, err := strconv.ParseInt(tok, 10, 32)
		if err != nil || i+1 >= len(f) {
			return iv, false
		}
		i++
		unit := strings.ToLower(f[i])
		switch strings.TrimSuffix(unit, "s") {
		case "year":
			iv.Months += int32(n * 12)
		case "month", "mon":
			iv.Months += int32(n)
		case "week":
			iv.Days += int32(n * 7)
		case "day":
			iv.Days += int32(n)
		case "hour":
			iv.Nanoseconds += n * 3600e9
		case "minute", "min":
			iv.Nanoseconds += n * 60e9
		case "second", "sec":
			iv.Nanoseconds += n * 1e9
		case "millisecond", "m":
			if unit != "ms" && unit != "millisecond" && unit != "milliseconds" {
				return iv, false
			}
			iv.Nanoseconds += n * 1e6
		case "microsecond", "u":
			if unit != "us" && unit != "microsecond" && unit != "microseconds" {
				return iv, false
			}
			iv.Nanoseconds += n * 1e3
		default:
			return iv, false
		}
	}
	return iv, true
}

// appendDate formats days since the epoch as YYYY-MM-DD (a year before 1
// as a signed number, not BC).
func appendDate(b []byte, days int64) []byte {
	y, m, d := expr.Civil(days)
	b = expr.AppendPadded(b, y, 4)
	b = append(b, '-')
	b = expr.AppendPadded(b, m, 2)
	b = append(b, '-')
	return expr.AppendPadded(b, d, 2)
}

// appendClock formats µs as HH:MM:SS[.ffffff] (the fraction only when it
// is not zero, trailing zeros kept to six digits; hours are not wrapped, so
// an interval's clock part may exceed 23).
func appendClock(b []byte, us int64) []byte {
	sec := us / 1e6
	frac := us % 1e6
	b = expr.AppendPadded(b, int(sec/3600), 2)
	b = append(b, ':')
	b = expr.AppendPadded(b, int(sec/60%60), 2)
	b = append(b, ':')
	b = expr.AppendPadded(b, int(sec%60), 2)
	if frac != 0 {
		b = append(b, '.')
		b = expr.AppendPadded(b, int(frac), 6)
	}
	return b
}

// appendTimestamp formats µs since the epoch as YYYY-MM-DD HH:MM:SS[.ffffff],
// with a trailing Z when tz is set (TIMESTAMPTZ, always in UTC).
func appendTimestamp(b []byte, us int64, tz bool) []byte {
	days := us / 86400e6
	rem := us % 86400e6
	if rem < 0 {
		rem += 86400e6
		days--
	}
	b = appendDate(b, days)
	b = append(b, ' ')
	b = appendClock(b, rem)
	if tz {
		b = append(b, 'Z')
	}
	return b
}

// appendInterval formats an interval the way parseInterval reads it:
// "14 months 3 days 04:05:06.5", leaving out zero parts.
func appendInterval(b []byte, iv arrow.MonthDayNanoInterval) []byte {
	start := len(b)
	if iv.Months != 0 {
		b = strconv.AppendInt(b, int64(iv.Months), 10)
		b = append(b, " months"...)
	}
	if iv.Days != 0 {
		if len(b) > start {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(iv.Days), 10)
		b = append(b, " days"...)
	}
	if iv.Nanoseconds != 0 || len(b) == start {
		if len(b) > start {
			b = append(b, ' ')
		}
		us := iv.Nanoseconds / 1000
		if us < 0 {
			b = append(b, '-')
			us = -us
		}
		b = appendClock(b, us)
	}
	return b
}

// appendDecimal formats an unscaled decimal128 at scale exactly.
func appendDecimal(b []byte, n decimal128.Num, scale int) []byte {
	return expr.AppendDecimal(b, n, scale)
}

// appendFloat formats a float the shortest way that reads back exactly;
// infinities and NaN as Infinity, -Infinity and NaN.
func appendFloat(b []byte, f float64, bits int) []byte {
	return expr.AppendFloatShortest(b, f, bits)
}
