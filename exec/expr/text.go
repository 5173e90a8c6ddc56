package expr

import (
	"math"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow/decimal128"
)

// This file is the text conversion the rest of the engine shares: the
// calendar arithmetic and the number formatting that the file readers and
// writers (exec/connector), the result formatting of exec/session and the
// wire protocol (pgwire) call instead of keeping copies of their own.

// Civil returns the proleptic Gregorian year, month (1-12) and day of a
// day number (days since 1970-01-01).
func Civil(days int64) (y, m, d int) { return civil(days) }

// DayNumber returns the days since 1970-01-01 of a proleptic Gregorian
// date; the month and day are not checked (see DaysIn).
func DayNumber(y, m, d int) int64 { return dayNumber(y, m, d) }

// DaysIn returns the number of days of month m (1-12) of year y.
func DaysIn(y, m int) int { return daysIn(y, m) }

// AppendPadded appends v in decimal with at least width digits, zeros in
// front (a minus sign, when v is negative, comes before them).
func AppendPadded(dst []byte, v, width int) []byte { return appendPad(dst, v, width) }

// AppendDecimal appends an unscaled decimal128 with scale digits after the
// point, exactly (a negative scale appends that many zeros).
func AppendDecimal(dst []byte, n decimal128.Num, scale int) []byte {
	return appendDecimal(dst, i128FromNum(n), scale)
}

// AppendFloatShortest appends the shortest text that reads back as the
// same float (strconv's 'g' form: 1e+06, 0.5), and Infinity, -Infinity and
// NaN as PostgreSQL spells them. (A cast to text writes PostgreSQL's own
// exponent rules instead; see appendFloat.)
func AppendFloatShortest(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// AppendDate appends a day number as PostgreSQL writes a DATE:
// YYYY-MM-DD, and YYYY-MM-DD BC for years before 1.
func AppendDate(dst []byte, days int64) []byte {
	y, m, d := civil(days)
	if y < 1 || y > 9999 {
		return appendDate(dst, days)
	}
	// Four-digit years, the common case, without strconv.
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// AppendClock appends microseconds as HH:MM:SS[.ffffff], trailing zeros of
// the fraction trimmed; hours are not wrapped at 24 (an interval's clock
// part may exceed a day).
func AppendClock(dst []byte, us int64) []byte { return appendClock(dst, us) }
