package expr

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the date and time functions: extract / date_part and its
// shorthands (year, month, ...), date_trunc, date_add, date_sub, datediff,
// to_date, to_timestamp (with PostgreSQL-style 'YYYY-MM-DD HH24:MI:SS' or
// Spark-style 'yyyy-MM-dd HH:mm:ss' formats), make_date, and
// current_date / current_timestamp, which see the statement's start time
// (Env.Now). Fields of a TIMESTAMPTZ are those of its wall clock in the
// session time zone. week is the ISO 8601 week; dayofweek counts Sunday as
// 1 (Spark, MySQL), extract(dow ...) counts Sunday as 0 (PostgreSQL).

func (c *compiler) dateFunc(x *planner.Call, args []node) (node, bool, error) {
	name := x.Name
	switch name {
	case "extract":
		n, err := c.extract(x, args[0], args[1])
		return n, true, err
	case "year", "quarter", "month", "week", "day", "dayofweek", "dayofyear", "hour", "minute", "second":
		field := map[string]string{"dayofweek": "dayofweek", "dayofyear": "doy", "day": "day"}[name]
		if field == "" {
			field = name
		}
		n, err := c.extractField(field, args[0], x.T)
		if err != nil {
			// Not a field of this type: fails when a row is evaluated.
			k, _ := c.constant(field, catalog.String)
			n, err = c.extract(x, k, args[0])
		}
		return n, true, err
	case "date_trunc":
		n, err := c.dateTrunc(x, args[0], args[1])
		return n, true, err
	case "date_add", "date_sub":
		op := "add"
		if name == "date_sub" {
			op = "sub"
		}
		call := &planner.Call{Name: op, T: x.T}
		n, err := c.arith(call, args)
		return n, true, err
	case "datediff":
		n, err := c.dateDiff(x, args)
		return n, true, err
	case "to_date", "to_timestamp":
		n, err := c.toDateTime(x, args)
		return n, true, err
	case "make_date":
		n, err := c.makeDate(x, args)
		return n, true, err
	case "current_date", "current_timestamp":
		now := c.now()
		us := now.UnixMicro()
		if name == "current_timestamp" {
			if x.T.Kind == catalog.KindTimestamp {
				us = localMicros(us, c.env.loc())
			}
			n, err := c.constant(us, x.T)
			return n, true, err
		}
		n, err := c.constant(int32(floorDiv(localMicros(us, c.env.loc()), microsPerDay)), catalog.Date)
		return n, true, err
	}
	return nil, false, nil
}

// now is the statement's start time.
func (c *compiler) now() time.Time {
	if c.env.Now.IsZero() {
		c.env.Now = c.compiledAt
	}
	return c.env.Now
}

// wallMicros returns the values of a DATE, TIME, TIMESTAMP or TIMESTAMPTZ
// array as wall-clock microseconds (TIMESTAMPTZ in l), and for TIMESTAMPTZ
// also the UTC microseconds (for epoch).
func wallMicros(a arrow.Array, t catalog.Type, l *time.Location) (wall, abs []int64) {
	n := a.Len()
	switch t.Kind {
	case catalog.KindDate:
		d := values[int32](a)
		wall = make([]int64, n)
		for i, v := range d {
			wall[i] = int64(v) * microsPerDay
		}
		return wall, wall
	case catalog.KindTimestampTZ:
		v := int64sOf(a)
		if isUTC(l) {
			return v, v
		}
		wall = make([]int64, n)
		for i, x := range v {
			if a.IsValid(i) {
				wall[i] = localMicros(x, l)
			}
		}
		return wall, v
	}
	v := int64sOf(a)
	return v, v
}

// fieldOf computes a date/time field of a wall-clock time; ok is false for
// an unknown field.
func fieldOf(field string, wall, abs int64) (int64, bool) {
	days, tod := splitMicros(wall)
	y, m, d := civil(days)
	pgYear := int64(y)
	if y <= 0 {
		pgYear = int64(y) - 1 // no year 0: 1 BC is -1
	}
	switch field {
	case "year":
		return pgYear, true
	case "quarter":
		return int64((m-1)/3 + 1), true
	case "month":
		return int64(m), true
	case "day":
		return int64(d), true
	case "hour":
		return tod / microsPerHour, true
	case "minute":
		return tod / microsPerMinute % 60, true
	case "second":
		return tod / microsPerSecond % 60, true
	case "millisecond":
		return tod % microsPerMinute / 1000, true
	case "microsecond":
		return tod % microsPerMinute, true
	case "dow":
		return floorMod(days+4, 7), true
	case "dayofweek":
		return floorMod(days+4, 7) + 1, true
	case "isodow":
		if w := floorMod(days+4, 7); w != 0 {
			return w, true
		}
		return 7, true
	case "doy":
		return days - dayNumber(y, 1, 1) + 1, true
	case "week", "isoyear":
		wd := floorMod(days+3, 7) // Monday = 0
		thu := days - wd + 3
		ty, _, _ := civil(thu)
		if field == "isoyear" {
			return int64(ty), true
		}
		return (thu-dayNumber(ty, 1, 1))/7 + 1, true
	case "epoch":
		return floorDiv(abs, microsPerSecond), true
	case "decade":
		return floorDiv(pgYear, 10), true
	case "century":
		if pgYear > 0 {
			return (pgYear + 99) / 100, true
		}
		return -((-pgYear + 99) / 100), true
	case "millennium":
		if pgYear > 0 {
			return (pgYear + 999) / 1000, true
		}
		return -((-pgYear + 999) / 1000), true
	case "julian":
		return days + 2440588, true
	}
	return 0, false
}

// intervalField computes a field of an interval.
func intervalField(field string, iv arrow.MonthDayNanoInterval) (int64, bool) {
	years := int64(iv.Months / 12)
	switch field {
	case "year":
		return years, true
	case "quarter":
		return int64(iv.Months%12)/3 + 1, true
	case "month":
		return int64(iv.Months % 12), true
	case "day":
		return int64(iv.Days), true
	case "hour":
		return iv.Nanoseconds / 3600e9, true
	case "minute":
		return iv.Nanoseconds / 60e9 % 60, true
	case "second":
		return iv.Nanoseconds / 1e9 % 60, true
	case "millisecond":
		return iv.Nanoseconds / 1e6 % 60000, true
	case "microsecond":
		return iv.Nanoseconds / 1e3 % 60e6, true
	case "epoch":
		secs := float64(years)*365.25*86400 + float64(iv.Months%12)*30*86400 + float64(iv.Days)*86400 + float64(iv.Nanoseconds)/1e9
		return int64(math.Floor(secs)), true
	case "decade":
		return years / 10, true
	case "century":
		return years / 100, true
	case "millennium":
		return years / 1000, true
	}
	return 0, false
}

// normField maps the spellings of an extract field to its name.
func normField(f string) string {
	f = strings.ToLower(strings.TrimSpace(f))
	switch f {
	case "dow", "dayofweek_iso":
		return "dow"
	case "isodow":
		return "isodow"
	case "doy", "dayofyear":
		return "doy"
	case "epoch":
		return "epoch"
	case "isoyear":
		return "isoyear"
	case "julian":
		return "julian"
	case "week", "weeks", "w", "weekofyear":
		return "week"
	case "dayofmonth":
		return "day"
	}
	return normUnit(f)
}

func fieldError(field string, t catalog.Type) error {
	return &Error{Code: CodeInvalidParameter, Msg: fmt.Sprintf("unit %q not recognized for type %s", field, pgTypeName(t)), Row: -1}
}

// timeFields are the fields a TIME has.
func timeField(f string) bool {
	switch f {
	case "hour", "minute", "second", "millisecond", "microsecond", "epoch":
		return true
	}
	return false
}

// extract compiles extract(field, value).
func (c *compiler) extract(x *planner.Call, fieldArg, v node) (node, error) {
	if f, ok := constString(fieldArg); ok {
		if n, err := c.extractField(normField(f), v, x.T); err == nil {
			return n, nil
		}
		// An unknown field fails when a row is evaluated.
	}
	t := v.typ()
	return newKernel("extract", x.T, []node{fieldArg, v}, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		fs := strsOf(in[0])
		if t.Kind == catalog.KindInterval {
			ivs := values[arrow.MonthDayNanoInterval](in[1])
			return intRows(bt, in, x.T, func(i int) (int64, bool, error) {
				r, ok := intervalField(normField(fs.Value(i)), ivs[i])
				if !ok {
					return 0, false, fieldError(fs.Value(i), t)
				}
				return r, false, nil
			})
		}
		wall, abs := wallMicros(in[1], t, bt.env.loc())
		return intRows(bt, in, x.T, func(i int) (int64, bool, error) {
			f := normField(fs.Value(i))
			if t.Kind == catalog.KindTime && !timeField(f) {
				return 0, false, fieldError(fs.Value(i), t)
			}
			r, ok := fieldOf(f, wall[i], abs[i])
			if !ok {
				return 0, false, fieldError(fs.Value(i), t)
			}
			return r, false, nil
		})
	}), nil
}

// extractField compiles the extraction of one known field.
func (c *compiler) extractField(field string, v node, rt catalog.Type) (node, error) {
	t := v.typ()
	if rt.Kind == catalog.KindDecimal {
		return c.extractFraction(field, v, rt)
	}
	if t.Kind == catalog.KindInterval {
		if _, ok := intervalField(field, arrow.MonthDayNanoInterval{}); !ok {
			return nil, fieldError(field, t)
		}
		return newKernel(field, rt, []node{v}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			ivs := values[arrow.MonthDayNanoInterval](in[0])
			return intRows(bt, in, rt, func(i int) (int64, bool, error) {
				r, _ := intervalField(field, ivs[i])
				return r, false, nil
			})
		}), nil
	}
	if _, ok := fieldOf(field, 0, 0); !ok || (t.Kind == catalog.KindTime && !timeField(field)) {
		return nil, fieldError(field, t)
	}
	return newKernel(field, rt, []node{v}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		wall, abs := wallMicros(in[0], t, bt.env.loc())
		out := make([]int64, bt.n)
		valid := make([]bool, bt.n)
		for i := range out {
			if in[0].IsValid(i) {
				out[i], _ = fieldOf(field, wall[i], abs[i])
				valid[i] = true
			}
		}
		return intsArray(bt, out, valid, rt), nil
	}), nil
}

// extractFraction compiles extract of second, millisecond or epoch with a
// DECIMAL result (the planner's type): the value in microseconds, which is
// the unscaled value at scale 6 for seconds and epoch and at scale 3 for
// milliseconds.
func (c *compiler) extractFraction(field string, v node, rt catalog.Type) (node, error) {
	t := v.typ()
	var micros func(wall, abs int64) int64
	switch field {
	case "second", "millisecond":
		if t.Kind == catalog.KindDate {
			return nil, fieldError(field, t)
		}
		micros = func(wall, _ int64) int64 { _, tod := splitMicros(wall); return tod % microsPerMinute }
	case "epoch":
		micros = func(_, abs int64) int64 { return abs }
	default:
		return nil, fieldError(field, t)
	}
	want := 6
	if field == "millisecond" {
		want = 3
	}
	if t.Kind == catalog.KindInterval || rt.Scale != want {
		return nil, fmt.Errorf("extract %s of %s as %s is not supported", field, t, rt)
	}
	return newKernel(field, rt, []node{v}, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		wall, abs := wallMicros(in[0], t, bt.env.loc())
		buf, out := newValues[i128](bt.alloc, bt.n)
		for i := range out {
			if in[0].IsValid(i) {
				out[i] = i128From64(micros(wall[i], abs[i]))
			}
		}
		return finish(arrowType(rt), bt.n, validAnd(bt.alloc, bt.n, in[0]), buf), nil
	}), nil
}

// truncMicros truncates wall-clock microseconds to a unit; ok is false for
// an unknown unit.
func truncMicros(unit string, w int64) (int64, bool) {
	days, tod := splitMicros(w)
	y, m, _ := civil(days)
	switch unit {
	case "microsecond":
		return w, true
	case "millisecond":
		return floorDiv(w, 1000) * 1000, true
	case "second":
		return floorDiv(w, microsPerSecond) * microsPerSecond, true
	case "minute":
		return floorDiv(w, microsPerMinute) * microsPerMinute, true
	case "hour":
		return days*microsPerDay + tod/microsPerHour*microsPerHour, true
	case "day":
		return days * microsPerDay, true
	case "week":
		return (days - floorMod(days+3, 7)) * microsPerDay, true
	case "month":
		return dayNumber(y, m, 1) * microsPerDay, true
	case "quarter":
		return dayNumber(y, (m-1)/3*3+1, 1) * microsPerDay, true
	case "year":
		return dayNumber(y, 1, 1) * microsPerDay, true
	case "decade":
		return dayNumber(int(floorDiv(int64(y), 10)*10), 1, 1) * microsPerDay, true
	case "century":
		return dayNumber(int(floorDiv(int64(y)-1, 100)*100+1), 1, 1) * microsPerDay, true
	case "millennium":
		return dayNumber(int(floorDiv(int64(y)-1, 1000)*1000+1), 1, 1) * microsPerDay, true
	}
	return 0, false
}

// dateTrunc compiles date_trunc(unit, timestamp).
func (c *compiler) dateTrunc(x *planner.Call, unitArg, v node) (node, error) {
	t := v.typ()
	if !isTS(t.Kind) {
		v = c.implicit(v, catalog.Timestamp)
		t = catalog.Timestamp
	}
	unitOf := func(u string) string { return normUnit(u) }
	_, isConst := constString(unitArg)
	return newKernel("date_trunc", t, []node{unitArg, v}, !isConst, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		l := bt.env.loc()
		us := int64sOf(in[1])
		units := strsOf(in[0])
		buf, out := newValues[int64](bt.alloc, bt.n)
		for i := range out {
			if anyNullAt(in, i) {
				continue
			}
			u := unitOf(units.Value(i))
			w := us[i]
			if t.Kind == catalog.KindTimestampTZ {
				w = localMicros(w, l)
			}
			r, ok := truncMicros(u, w)
			if !ok {
				buf.Release()
				return nil, rowError(fieldError(units.Value(i), t), i)
			}
			if t.Kind == catalog.KindTimestampTZ {
				r = utcMicros(r, l)
			}
			out[i] = r
		}
		return finish(arrowType(t), bt.n, validAnd(bt.alloc, bt.n, in...), buf), nil
	}), nil
}

// dateDiff compiles datediff(end, start) in days and datediff(unit, start,
// end), which counts the unit boundaries crossed from start to end.
func (c *compiler) dateDiff(x *planner.Call, args []node) (node, error) {
	if len(args) == 2 {
		a, b := c.implicit(args[0], catalog.Date), c.implicit(args[1], catalog.Date)
		return c.temporalArith("sub", a, b, x.T)
	}
	unitArg := args[0]
	a, b := args[1], args[2]
	if a.typ().Kind != b.typ().Kind || !isTS(a.typ().Kind) {
		a, b = c.implicit(a, catalog.Timestamp), c.implicit(b, catalog.Timestamp)
	}
	t := a.typ()
	return newKernel("datediff", x.T, []node{unitArg, a, b}, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		units := strsOf(in[0])
		l := bt.env.loc()
		wa, _ := wallMicros(in[1], t, l)
		wb, _ := wallMicros(in[2], t, l)
		return intRows(bt, in, x.T, func(i int) (int64, bool, error) {
			r, ok := diffUnits(normField(units.Value(i)), wa[i], wb[i])
			if !ok {
				return 0, false, fieldError(units.Value(i), t)
			}
			return r, false, nil
		})
	}), nil
}

// diffUnits counts unit boundaries between wall-clock times a and b (b-a).
func diffUnits(unit string, a, b int64) (int64, bool) {
	da, _ := splitMicros(a)
	db, _ := splitMicros(b)
	ya, ma, _ := civil(da)
	yb, mb, _ := civil(db)
	switch unit {
	case "year":
		return int64(yb - ya), true
	case "quarter":
		return int64((yb*4 + (mb-1)/3) - (ya*4 + (ma-1)/3)), true
	case "month":
		return int64((yb*12 + mb) - (ya*12 + ma)), true
	case "week":
		return (floorDiv(db+3, 7) - floorDiv(da+3, 7)), true
	case "day":
		return db - da, true
	case "hour":
		return floorDiv(b, microsPerHour) - floorDiv(a, microsPerHour), true
	case "minute":
		return floorDiv(b, microsPerMinute) - floorDiv(a, microsPerMinute), true
	case "second":
		return floorDiv(b, microsPerSecond) - floorDiv(a, microsPerSecond), true
	case "millisecond":
		return floorDiv(b, 1000) - floorDiv(a, 1000), true
	case "microsecond":
		return b - a, true
	case "decade":
		return floorDiv(int64(yb), 10) - floorDiv(int64(ya), 10), true
	case "century":
		return floorDiv(int64(yb)-1, 100) - floorDiv(int64(ya)-1, 100), true
	case "millennium":
		return floorDiv(int64(yb)-1, 1000) - floorDiv(int64(ya)-1, 1000), true
	}
	return 0, false
}

// makeDate compiles make_date(year, month, day).
func (c *compiler) makeDate(x *planner.Call, args []node) (node, error) {
	for i := range args {
		args[i] = c.implicit(args[i], catalog.Int64)
	}
	return newKernel("make_date", catalog.Date, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		y, m, d := int64sOf(in[0]), int64sOf(in[1]), int64sOf(in[2])
		out := make([]int64, bt.n)
		valid := make([]bool, bt.n)
		for i := range out {
			if anyNullAt(in, i) {
				continue
			}
			yy := y[i]
			if yy < 0 {
				yy++ // 1 BC is year 0 of the proleptic calendar
			}
			if y[i] == 0 || m[i] < 1 || m[i] > 12 || d[i] < 1 || yy > 5874897 || yy < -4713 || d[i] > int64(daysIn(int(yy), int(m[i]))) {
				return nil, &Error{Code: CodeDatetimeOverflow, Msg: fmt.Sprintf("date field value out of range: %d-%02d-%02d", y[i], m[i], d[i]), Row: i}
			}
			out[i] = dayNumber(int(yy), int(m[i]), int(d[i]))
			valid[i] = true
		}
		buf, vals := newValues[int32](bt.alloc, bt.n)
		for i, v := range out {
			vals[i] = int32(v)
		}
		vb := make([]bool, len(valid))
		copy(vb, valid)
		bm := make([]byte, (bt.n+7)/8)
		packBools(vb, bm)
		return finish(arrowType(catalog.Date), bt.n, bytesBuffer(bm), buf), nil
	}), nil
}

// toDateTime compiles to_date and to_timestamp.
func (c *compiler) toDateTime(x *planner.Call, args []node) (node, error) {
	t := x.T
	if args[0].typ().IsNumeric() {
		// to_timestamp(seconds since the epoch).
		a := c.implicit(args[0], catalog.Float64)
		return newKernel(x.Name, t, []node{a}, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			v := values[float64](in[0])
			buf, out := newValues[int64](bt.alloc, bt.n)
			for i, f := range v {
				if !in[0].IsValid(i) {
					continue
				}
				us := math.Round(f * 1e6)
				if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(us) > 9.2e18 {
					buf.Release()
					return nil, &Error{Code: CodeDatetimeOverflow, Msg: "timestamp out of range", Where: fmt.Sprintf("to_timestamp(%s)", formatFloat(f, false)), Row: i}
				}
				out[i] = int64(us)
			}
			return finish(arrowType(t), bt.n, validAnd(bt.alloc, bt.n, in[0]), buf), nil
		}), nil
	}
	if len(args) == 1 {
		return c.cast(c.implicit(args[0], catalog.String), t, false, false)
	}
	var constFmt *dtFormat
	if f, ok := constString(args[1]); ok {
		constFmt, _ = parseDateFormat(f) // a bad format fails per row
	}
	return newKernel(x.Name, t, args, true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		s, fs := strsOf(in[0]), strsOf(in[1])
		l := bt.env.loc()
		var last *dtFormat
		lastText := ""
		return intRows(bt, in, catalog.Int64, func(i int) (int64, bool, error) {
			df := constFmt
			if df == nil {
				if last == nil || fs.Value(i) != lastText {
					f, err := parseDateFormat(fs.Value(i))
					if err != nil {
						return 0, false, err
					}
					last, lastText = f, strings.Clone(fs.Value(i))
				}
				df = last
			}
			v, err := df.parse(s.Value(i), x.Name)
			if err != nil {
				return 0, false, err
			}
			utc := v.us - int64(v.zoneOff)*microsPerSecond
			switch {
			case t.Kind == catalog.KindDate:
				return floorDiv(v.us, microsPerDay), false, nil
			case t.Kind == catalog.KindTimestampTZ && v.hasZone:
				return utc, false, nil
			case t.Kind == catalog.KindTimestampTZ:
				return utcMicros(v.us, l), false, nil
			case v.hasZone:
				return localMicros(utc, l), false, nil
			}
			return v.us, false, nil
		})
	}).withResult(t), nil
}

// withResult re-types a kernel computing int64 values as t (DATE values
// are narrowed to int32).
func (k *kernel) withResult(t catalog.Type) *kernel {
	inner := k.fn
	k.t = t
	k.fn = func(bt *batch, args []arrow.Array) (arrow.Array, error) {
		a, err := inner(bt, args)
		if err != nil {
			return nil, err
		}
		defer a.Release()
		v := int64sOf(a)
		valid := validAnd(bt.alloc, bt.n, a)
		if t.Kind == catalog.KindDate {
			buf, out := newValues[int32](bt.alloc, bt.n)
			for i, x := range v {
				out[i] = int32(x)
			}
			return finish(arrowType(t), bt.n, valid, buf), nil
		}
		buf, out := newValues[int64](bt.alloc, bt.n)
		copy(out, v)
		return finish(arrowType(t), bt.n, valid, buf), nil
	}
	return k
}
