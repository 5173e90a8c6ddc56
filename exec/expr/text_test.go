package expr

import (
	"math"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/decimal128"
)

func TestSharedText(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{string(AppendDate(nil, 0)), "1970-01-01"},
		{string(AppendDate(nil, 19782)), "2024-02-29"},
		{string(AppendDate(nil, DayNumber(1, 1, 1))), "0001-01-01"},
		{string(AppendDate(nil, DayNumber(9999, 12, 31))), "9999-12-31"},
		{string(AppendDate(nil, DayNumber(10000, 1, 1))), "10000-01-01"},
		{string(AppendDate(nil, DayNumber(0, 12, 31))), "0001-12-31 BC"},
		{string(AppendDecimal(nil, decimal128.FromI64(-5), 2)), "-0.05"},
		{string(AppendDecimal(nil, decimal128.FromI64(123456), 2)), "1234.56"},
		{string(AppendDecimal(nil, decimal128.FromI64(7), 0)), "7"},
		{string(AppendDecimal(nil, decimal128.New(1, 0), 3)), "18446744073709551.616"},
		{string(AppendFloatShortest(nil, 0.1, 64)), "0.1"},
		{string(AppendFloatShortest(nil, 1e6, 64)), "1e+06"},
		{string(AppendFloatShortest(nil, math.Inf(-1), 64)), "-Infinity"},
		{string(AppendFloatShortest(nil, math.NaN(), 32)), "NaN"},
		{string(AppendClock(nil, 0)), "00:00:00"},
		{string(AppendClock(nil, 25*3600e6+61e6+500000)), "25:01:01.5"},
		{string(AppendPadded(nil, -7, 3)), "-007"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if y, m, d := Civil(DayNumber(2024, 2, 29)); y != 2024 || m != 2 || d != 29 {
		t.Errorf("Civil(DayNumber(2024-02-29)) = %d-%d-%d", y, m, d)
	}
	if DaysIn(2023, 2) != 28 || DaysIn(2000, 2) != 29 || DaysIn(1900, 2) != 28 || DaysIn(2024, 4) != 30 {
		t.Error("DaysIn: wrong month lengths")
	}
}
