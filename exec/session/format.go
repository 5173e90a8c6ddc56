package session

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"

	"github.com/etlc/etlc/exec/expr"
)

// FormatValue renders row i of arr in PostgreSQL's text output format:
// t/f for booleans, 2024-01-05 09:00:00 for timestamps (+00 for
// TIMESTAMPTZ), exact decimals, \x... for bytes, strings as they are. The
// second result is false for NULL (the text is then empty).
func FormatValue(arr arrow.Array, i int) (string, bool) {
	// An array of Arrow's null type has no validity bitmap: IsNull is
	// false for its rows, yet every one is NULL.
	if arr.IsNull(i) || arr.DataType().ID() == arrow.NULL {
		return "", false
	}
	switch a := arr.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return "t", true
		}
		return "f", true
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), true
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), true
	case *array.Float32:
		return formatFloat(float64(a.Value(i)), 32), true
	case *array.Float64:
		return formatFloat(a.Value(i), 64), true
	case *array.Decimal128:
		return formatDecimal(a.Value(i), int(a.DataType().(*arrow.Decimal128Type).Scale)), true
	case *array.String:
		return a.Value(i), true
	case *array.Binary:
		return `\x` + hex.EncodeToString(a.Value(i)), true
	case *array.Date32:
		return time.Unix(int64(a.Value(i))*86400, 0).UTC().Format("2006-01-02"), true
	case *array.Time64:
		return formatClock(int64(a.Value(i))), true
	case *array.Timestamp:
		us := int64(a.Value(i))
		t := time.UnixMicro(us).UTC()
		s := t.Format("2006-01-02 ") + formatClock(((us%86400e6)+86400e6)%86400e6)
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			s += "+00"
		}
		return s, true
	case *array.MonthDayNanoInterval:
		return formatInterval(a.Value(i)), true
	case *array.List:
		// PostgreSQL's array text: {1,2,NULL}, elements quoted as needed.
		start, end := a.ValueOffsets(i)
		child := a.ListValues()
		b := []byte{'{'}
		for k := int(start); k < int(end); k++ {
			if k > int(start) {
				b = append(b, ',')
			}
			s, ok := FormatValue(child, k)
			if !ok {
				b = append(b, "NULL"...)
				continue
			}
			b = expr.AppendArrayElem(b, []byte(s))
		}
		return string(append(b, '}')), true
	}
	return arr.ValueStr(i), true
}

func formatFloat(f float64, bits int) string {
	return string(expr.AppendFloatShortest(nil, f, bits))
}

func formatDecimal(n decimal128.Num, scale int) string {
	return string(expr.AppendDecimal(nil, n, scale))
}

// formatClock renders microseconds since midnight as HH:MM:SS[.ffffff].
func formatClock(us int64) string { return string(expr.AppendClock(nil, us)) }

// formatInterval renders an interval as PostgreSQL does: "1 year 2 mons
// 3 days 04:05:06".
func formatInterval(iv arrow.MonthDayNanoInterval) string {
	var parts []string
	unit := func(n int64, one, many string) {
		if n == 0 {
			return
		}
		u := many
		if n == 1 || n == -1 {
			u = one
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, u))
	}
	unit(int64(iv.Months/12), "year", "years")
	unit(int64(iv.Months%12), "mon", "mons")
	unit(int64(iv.Days), "day", "days")
	if ns := iv.Nanoseconds; ns != 0 || len(parts) == 0 {
		sign := ""
		if ns < 0 {
			sign, ns = "-", -ns
		}
		parts = append(parts, sign+formatClock(ns/1000))
	}
	return strings.Join(parts, " ")
}
