package expr

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/etlc/etlc/catalog"
)

// This file holds arithmetic on dates, times and intervals, with
// PostgreSQL's rules: adding an interval applies its months first (the day
// clamped to the end of the month: Jan 31 + 1 month = Feb 28 or 29), then
// its days, then its time; TIMESTAMPTZ does the calendar part in the
// session time zone. DATE - DATE is a number of days; TIMESTAMP - TIMESTAMP
// is an interval of days and time.

func isTemporalish(t catalog.Type) bool { return t.IsTemporal() || t.Kind == catalog.KindInterval }

const (
	maxDays = math.MaxInt64/microsPerDay - 1
	minDays = -maxDays
)

// addInterval adds sign*iv to us (microseconds; a wall clock when l is nil,
// UTC microseconds whose calendar is in l otherwise).
func addInterval(us int64, iv arrow.MonthDayNanoInterval, sign int64, l *time.Location) (int64, bool) {
	if iv.Months != 0 || iv.Days != 0 {
		wall := us
		if l != nil {
			wall = localMicros(us, l)
		}
		days, tod := splitMicros(wall)
		if iv.Months != 0 {
			y, m, d := civil(days)
			y, m, d = addMonths(y, m, d, sign*int64(iv.Months))
			if y > 300000 || y < -300000 {
				return 0, false
			}
			days = dayNumber(y, m, d)
		}
		days += sign * int64(iv.Days)
		if days > maxDays || days < minDays {
			return 0, false
		}
		wall = days*microsPerDay + tod
		if l != nil {
			us = utcMicros(wall, l)
		} else {
			us = wall
		}
	}
	r := us + sign*(iv.Nanoseconds/1000)
	if (sign*(iv.Nanoseconds/1000) > 0 && r < us) || (sign*(iv.Nanoseconds/1000) < 0 && r > us) {
		return 0, false
	}
	if d := floorDiv(r, microsPerDay); d > maxDays || d < minDays {
		return 0, false
	}
	return r, true
}

// temporalArith compiles +, -, * and / involving dates, times and
// intervals.
func (c *compiler) temporalArith(op string, a, b node, t catalog.Type) (node, error) {
	ka, kb := a.typ().Kind, b.typ().Kind
	sym := opSymbol(op)
	switch {
	case op == "add" && ka == catalog.KindDate && b.typ().IsInteger(),
		op == "sub" && ka == catalog.KindDate && b.typ().IsInteger():
		return c.dateDays(op, a, c.implicit(b, catalog.Int64), t, false), nil
	case op == "add" && a.typ().IsInteger() && kb == catalog.KindDate:
		return c.dateDays(op, b, c.implicit(a, catalog.Int64), t, true), nil
	case op == "sub" && ka == catalog.KindDate && kb == catalog.KindDate:
		k := binaryKernel("sub", catalog.Int64, a, b, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
			x, y := sideView(sideOf(xa, a), asInt32), sideView(sideOf(ya, b), asInt32)
			buf, out := newValues[int64](bt.alloc, bt.n)
			for i := range out {
				out[i] = int64(x.at(i)) - int64(y.at(i))
			}
			return finish(arrow.PrimitiveTypes.Int64, bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
		})
		return c.cast(k, t, false, false)
	case (op == "add" || op == "sub") && ka == catalog.KindDate && kb == catalog.KindInterval:
		return c.dateInterval(op, c.implicit(a, catalog.Timestamp), b, t)
	case op == "add" && ka == catalog.KindInterval && kb == catalog.KindDate:
		return c.dateInterval(op, c.implicit(b, catalog.Timestamp), a, t)
	case (op == "add" || op == "sub") && isTS(ka) && kb == catalog.KindInterval:
		return c.tsInterval(op, a, b, t), nil
	case op == "add" && ka == catalog.KindInterval && isTS(kb):
		return c.tsInterval(op, b, a, t), nil
	case op == "sub" && (isTS(ka) || ka == catalog.KindDate) && (isTS(kb) || kb == catalog.KindDate):
		ct := catalog.Timestamp
		if ka == catalog.KindTimestampTZ || kb == catalog.KindTimestampTZ {
			ct = catalog.TimestampTZ
		}
		return c.tsDiff(c.implicit(a, ct), c.implicit(b, ct)), nil
	case op == "add" && ka == catalog.KindDate && kb == catalog.KindTime,
		op == "add" && ka == catalog.KindTime && kb == catalog.KindDate:
		d, tm := a, b
		if ka == catalog.KindTime {
			d, tm = b, a
		}
		return binaryKernel("add", catalog.Timestamp, d, tm, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
			x, y := sideView(sideOf(xa, d), asInt32), sideView(sideOf(ya, tm), asInt64)
			buf, out := newValues[int64](bt.alloc, bt.n)
			for i := range out {
				out[i] = int64(x.at(i))*microsPerDay + y.at(i)
			}
			return finish(arrowType(catalog.Timestamp), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
		}), nil
	case (op == "add" || op == "sub") && ka == catalog.KindTime && kb == catalog.KindInterval,
		op == "add" && ka == catalog.KindInterval && kb == catalog.KindTime:
		tm, iv := a, b
		if ka == catalog.KindInterval {
			tm, iv = b, a
		}
		sign := int64(1)
		if op == "sub" {
			sign = -1
		}
		return binaryKernel(op, catalog.Time, tm, iv, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
			x, y := sideView(sideOf(xa, tm), asInt64), sideView(sideOf(ya, iv), asInterval)
			buf, out := newValues[int64](bt.alloc, bt.n)
			for i := range out {
				out[i] = floorMod(x.at(i)+sign*(y.at(i).Nanoseconds/1000%microsPerDay), microsPerDay)
			}
			return finish(arrowType(catalog.Time), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
		}), nil
	case op == "sub" && ka == catalog.KindTime && kb == catalog.KindTime:
		return binaryKernel(op, catalog.Interval, a, b, false, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
			x, y := sideView(sideOf(xa, a), asInt64), sideView(sideOf(ya, b), asInt64)
			buf, out := newValues[arrow.MonthDayNanoInterval](bt.alloc, bt.n)
			for i := range out {
				out[i] = arrow.MonthDayNanoInterval{Nanoseconds: (x.at(i) - y.at(i)) * 1000}
			}
			return finish(arrowType(catalog.Interval), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
		}), nil
	case (op == "add" || op == "sub") && ka == catalog.KindInterval && kb == catalog.KindInterval:
		sign := int64(1)
		if op == "sub" {
			sign = -1
		}
		return binaryKernel(op, catalog.Interval, a, b, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
			x, y := sideView(sideOf(xa, a), asInterval), sideView(sideOf(ya, b), asInterval)
			buf, out := newValues[arrow.MonthDayNanoInterval](bt.alloc, bt.n)
			for i := range out {
				p, q := x.at(i), y.at(i)
				m := int64(p.Months) + sign*int64(q.Months)
				d := int64(p.Days) + sign*int64(q.Days)
				ns, of := addInt64(p.Nanoseconds, sign*q.Nanoseconds)
				if (of || m != int64(int32(m)) || d != int64(int32(d))) && rowValid(i, xa, ya) {
					buf.Release()
					return nil, &Error{Code: CodeDatetimeOverflow, Msg: "interval out of range",
						Where: argText(xa, a, i, catalog.Interval) + " " + sym + " " + argText(ya, b, i, catalog.Interval), Row: i}
				}
				out[i] = arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}
			}
			return finish(arrowType(catalog.Interval), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
		}), nil
	case op == "mul" && ka == catalog.KindInterval && b.typ().IsNumeric():
		return c.intervalScale(op, a, c.implicit(b, catalog.Float64)), nil
	case op == "mul" && a.typ().IsNumeric() && kb == catalog.KindInterval:
		return c.intervalScale(op, b, c.implicit(a, catalog.Float64)), nil
	case op == "div" && ka == catalog.KindInterval && b.typ().IsNumeric():
		return c.intervalScale(op, a, c.implicit(b, catalog.Float64)), nil
	}
	return nil, fmt.Errorf("operator %s is not defined for %s and %s", sym, a.typ(), b.typ())
}

func isTS(k catalog.Kind) bool { return k == catalog.KindTimestamp || k == catalog.KindTimestampTZ }

func addInt64(a, b int64) (int64, bool) {
	r := a + b
	return r, (r^a)&(r^b) < 0
}

// dateDays is DATE ± a number of days (swapped: the number was written
// first).
func (c *compiler) dateDays(op string, d, k node, t catalog.Type, swapped bool) node {
	sign := int64(1)
	if op == "sub" {
		sign = -1
	}
	return binaryKernel(op, catalog.Date, d, k, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		x, y := sideView(sideOf(xa, d), asInt32), sideView(sideOf(ya, k), asInt64)
		buf, out := newValues[int32](bt.alloc, bt.n)
		for i := range out {
			r := int64(x.at(i)) + sign*y.at(i)
			if r != int64(int32(r)) && rowValid(i, xa, ya) {
				buf.Release()
				where := argText(xa, d, i, catalog.Date) + " " + opSymbol(op) + " " + argText(ya, k, i, catalog.Int64)
				if swapped {
					where = argText(ya, k, i, catalog.Int64) + " + " + argText(xa, d, i, catalog.Date)
				}
				return nil, &Error{Code: CodeDatetimeOverflow, Msg: "date out of range", Where: where, Row: i}
			}
			out[i] = int32(r)
		}
		return finish(arrowType(catalog.Date), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
	})
}

// dateInterval is DATE ± INTERVAL: a TIMESTAMP, or a DATE when the planner
// typed it so (a constant interval of whole days and months).
func (c *compiler) dateInterval(op string, ts, iv node, t catalog.Type) (node, error) {
	n := c.tsInterval(op, ts, iv, catalog.Timestamp)
	if t.Kind == catalog.KindDate {
		return c.cast(n, catalog.Date, false, false)
	}
	return n, nil
}

// tsInterval is TIMESTAMP[TZ] ± INTERVAL.
func (c *compiler) tsInterval(op string, ts, iv node, t catalog.Type) node {
	sign := int64(1)
	if op == "sub" {
		sign = -1
	}
	tt := ts.typ()
	return binaryKernel(op, tt, ts, iv, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		var l *time.Location
		if tt.Kind == catalog.KindTimestampTZ {
			l = bt.env.loc()
		}
		x, y := sideView(sideOf(xa, ts), asInt64), sideView(sideOf(ya, iv), asInterval)
		buf, out := newValues[int64](bt.alloc, bt.n)
		for i := range out {
			r, ok := addInterval(x.at(i), y.at(i), sign, l)
			if !ok && rowValid(i, xa, ya) {
				buf.Release()
				return nil, &Error{Code: CodeDatetimeOverflow, Msg: "timestamp out of range",
					Where: argText(xa, ts, i, tt) + " " + opSymbol(op) + " " + argText(ya, iv, i, catalog.Interval), Row: i}
			}
			out[i] = r
		}
		return finish(arrowType(tt), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
	})
}

// tsDiff is TIMESTAMP - TIMESTAMP: an interval of whole days and the rest
// as time, both with the sign of the difference.
func (c *compiler) tsDiff(a, b node) node {
	return binaryKernel("sub", catalog.Interval, a, b, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		x, y := sideView(sideOf(xa, a), asInt64), sideView(sideOf(ya, b), asInt64)
		buf, out := newValues[arrow.MonthDayNanoInterval](bt.alloc, bt.n)
		for i := range out {
			d := x.at(i) - y.at(i)
			if (x.at(i)^y.at(i))&(x.at(i)^d) < 0 && rowValid(i, xa, ya) {
				buf.Release()
				return nil, &Error{Code: CodeDatetimeOverflow, Msg: "interval out of range",
					Where: argText(xa, a, i, a.typ()) + " - " + argText(ya, b, i, b.typ()), Row: i}
			}
			out[i] = arrow.MonthDayNanoInterval{Days: int32(d / microsPerDay), Nanoseconds: d % microsPerDay * 1000}
		}
		return finish(arrowType(catalog.Interval), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
	})
}

// scaleInterval multiplies an interval by f as PostgreSQL does: fractional
// months spill into days (30 a month), fractional days into time.
func scaleInterval(iv arrow.MonthDayNanoInterval, f float64) (arrow.MonthDayNanoInterval, bool) {
	m := float64(iv.Months) * f
	wm := math.Trunc(m)
	d := float64(iv.Days)*f + (m-wm)*30
	wd := math.Trunc(d)
	ns := float64(iv.Nanoseconds)*f + (d-wd)*float64(nanosPerDay)
	if math.IsNaN(m) || math.IsNaN(d) || math.IsNaN(ns) || math.Abs(wm) > math.MaxInt32 || math.Abs(wd) > math.MaxInt32 || math.Abs(ns) > 9.2e18 {
		return iv, false
	}
	return arrow.MonthDayNanoInterval{Months: int32(wm), Days: int32(wd), Nanoseconds: int64(math.RoundToEven(ns/1000)) * 1000}, true
}

// intervalScale is INTERVAL * number and INTERVAL / number.
func (c *compiler) intervalScale(op string, iv, f node) node {
	return binaryKernel(op, catalog.Interval, iv, f, true, func(bt *batch, xa, ya arrow.Array) (arrow.Array, error) {
		x, y := sideView(sideOf(xa, iv), asInterval), sideView(sideOf(ya, f), asFloat64)
		buf, out := newValues[arrow.MonthDayNanoInterval](bt.alloc, bt.n)
		for i := range out {
			k := y.at(i)
			if op == "div" {
				if k == 0 {
					if rowValid(i, xa, ya) {
						buf.Release()
						return nil, &Error{Code: CodeDivisionByZero, Msg: "division by zero",
							Where: argText(xa, iv, i, catalog.Interval) + " / " + argText(ya, f, i, catalog.Float64), Row: i}
					}
					continue
				}
				k = 1 / k
			}
			r, ok := scaleInterval(x.at(i), k)
			if !ok && rowValid(i, xa, ya) {
				buf.Release()
				return nil, &Error{Code: CodeDatetimeOverflow, Msg: "interval out of range",
					Where: argText(xa, iv, i, catalog.Interval) + " " + opSymbol(op) + " " + argText(ya, f, i, catalog.Float64), Row: i}
			}
			out[i] = r
		}
		return finish(arrowType(catalog.Interval), bt.n, validAnd(bt.alloc, bt.n, xa, ya), buf), nil
	})
}
