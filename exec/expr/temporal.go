package expr

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// This file is the calendar under DATE, TIME, TIMESTAMP, TIMESTAMPTZ and
// INTERVAL: proleptic Gregorian civil dates from day numbers and back
// (without time.Time on the hot paths), and the text forms PostgreSQL reads
// and writes.

const (
	microsPerSecond = int64(1_000_000)
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute
	microsPerDay    = 24 * microsPerHour
	nanosPerDay     = microsPerDay * 1000
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// civil returns the year, month (1-12) and day of a day number (days since
// 1970-01-01).
func civil(days int64) (y, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

// dayNumber returns the day number of a civil date (month and day may be
// out of range only as far as the algorithm's arithmetic allows; callers
// validate).
func dayNumber(y, m, d int) int64 {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400
	mm := int64(m)
	var mp int64
	if mm > 2 {
		mp = mm - 3
	} else {
		mp = mm + 9
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the number of days of month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// addMonths adds n months to a civil date, clamping the day to the end of
// the resulting month (Jan 31 + 1 month = Feb 28/29), as PostgreSQL does.
func addMonths(y, m, d int, n int64) (int, int, int) {
	total := int64(y)*12 + int64(m-1) + n
	ny := int(floorDiv(total, 12))
	nm := int(floorMod(total, 12)) + 1
	if dm := daysIn(ny, nm); d > dm {
		d = dm
	}
	return ny, nm, d
}

// splitMicros splits microseconds since the epoch into a day number and
// microseconds since midnight.
func splitMicros(us int64) (days, tod int64) {
	days = floorDiv(us, microsPerDay)
	return days, us - days*microsPerDay
}

// loc returns the session time zone.
func (e *Env) loc() *time.Location {
	if e == nil || e.Location == nil {
		return time.UTC
	}
	return e.Location
}

func isUTC(l *time.Location) bool { return l == time.UTC || l.String() == "UTC" }

// localMicros converts a TIMESTAMPTZ (UTC microseconds) to the wall clock
// of loc, as microseconds since the epoch of that wall clock.
func localMicros(us int64, l *time.Location) int64 {
	if isUTC(l) {
		return us
	}
	t := time.UnixMicro(us).In(l)
	_, off := t.Zone()
	return us + int64(off)*microsPerSecond
}

// utcMicros converts a wall-clock time in loc (microseconds since the
// epoch of the wall clock) to UTC microseconds.
func utcMicros(wall int64, l *time.Location) int64 {
	if isUTC(l) {
		return wall
	}
	days, tod := splitMicros(wall)
	y, m, d := civil(days)
	sec := tod / microsPerSecond
	t := time.Date(y, time.Month(m), d, int(sec/3600), int(sec/60%60), int(sec%60), int(tod%microsPerSecond)*1000, l)
	return t.UnixMicro()
}

// --- text input -----------------------------------------------------------

// digits reads a run of ASCII digits at s[i:], returning its value, the
// index after it and the number of digits.
func digits(s string, i int) (v int, j int, n int) {
	j = i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < 10 {
		v = v*10 + int(s[j]-'0')
		j++
	}
	return v, j, j - i
}

// dateResult classifies a failed parse.
type dateResult int

const (
	dateOK dateResult = iota
	dateSyntax
	dateRange
)

// parseDateText reads YYYY-MM-DD (also with '/' or '.' separators, or
// YYYYMMDD), optionally followed by a time of day that is checked and
// ignored. It returns the day number.
func parseDateText(s string) (int32, dateResult) {
	s = strings.TrimSpace(s)
	days, rest, res := parseDatePart(s)
	if res != dateOK {
		return 0, res
	}
	if rest != "" {
		if _, r := parseClockZone(rest, true); r != dateOK {
			return 0, r
		}
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, dateRange
	}
	return int32(days), dateOK
}

// parseDatePart reads the date at the start of s and returns the rest
// (without a separating 'T' or spaces).
func parseDatePart(s string) (int64, string, dateResult) {
	y, i, ny := digits(s, 0)
	if ny == 0 {
		return 0, "", dateSyntax
	}
	var m, d int
	if ny == 8 && (i == len(s) || s[i] == ' ' || s[i] == 'T') {
		y, m, d = y/10000, y/100%100, y%100
	} else {
		if i >= len(s) || (s[i] != '-' && s[i] != '/' && s[i] != '.') {
			return 0, "", dateSyntax
		}
		sep := s[i]
		var nm, nd int
		m, i, nm = digits(s, i+1)
		if nm == 0 || nm > 2 || i >= len(s) || s[i] != sep {
			return 0, "", dateSyntax
		}
		d, i, nd = digits(s, i+1)
		if nd == 0 || nd > 2 {
			return 0, "", dateSyntax
		}
	}
	rest := ""
	if i < len(s) {
		if s[i] != ' ' && s[i] != 'T' && s[i] != 't' {
			return 0, "", dateSyntax
		}
		rest = strings.TrimLeft(s[i+1:], " ")
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, "", dateRange
	}
	return dayNumber(y, m, d), rest, dateOK
}

// clockZone is a parsed time of day with an optional zone offset.
type clockZone struct {
	micros  int64 // since midnight (may be 24:00:00)
	hasZone bool
	offset  int64 // seconds east of UTC
	zone    *time.Location
}

// parseClockZone reads HH:MM[:SS[.ffffff]] and an optional zone (Z, UTC,
// +HH, +HH:MM, +HHMM, or a time zone name after a space).
func parseClockZone(s string, allowZone bool) (clockZone, dateResult) {
	var cz clockZone
	h, i, nh := digits(s, 0)
	if nh == 0 || nh > 2 || i >= len(s) || s[i] != ':' {
		return cz, dateSyntax
	}
	mi, i2, nm := digits(s, i+1)
	if nm != 2 {
		return cz, dateSyntax
	}
	i = i2
	sec, frac := 0, int64(0)
	if i < len(s) && s[i] == ':' {
		var ns int
		sec, i, ns = digits(s, i+1)
		if ns != 2 {
			return cz, dateSyntax
		}
		if i < len(s) && s[i] == '.' {
			j := i + 1
			scale := int64(100000)
			round := false
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				if scale > 0 {
					frac += int64(s[j]-'0') * scale
					scale /= 10
				} else if scale == 0 {
					round = s[j] >= '5'
					scale = -1
				}
				j++
			}
			if j == i+1 {
				return cz, dateSyntax
			}
			if round {
				frac++
			}
			i = j
		}
	}
	if h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi != 0 || sec != 0 || frac != 0)) {
		return cz, dateRange
	}
	cz.micros = int64(h)*microsPerHour + int64(mi)*microsPerMinute + int64(sec)*microsPerSecond + frac
	rest := strings.TrimSpace(s[i:])
	if rest == "" {
		return cz, dateOK
	}
	if !allowZone {
		return cz, dateSyntax
	}
	switch {
	case rest == "Z" || rest == "z" || strings.EqualFold(rest, "UTC") || strings.EqualFold(rest, "GMT"):
		cz.hasZone = true
		return cz, dateOK
	case rest[0] == '+' || rest[0] == '-':
		sign := int64(1)
		if rest[0] == '-' {
			sign = -1
		}
		zh, j, nzh := digits(rest, 1)
		zm := 0
		switch {
		case nzh == 4:
			zh, zm = zh/100, zh%100
		case nzh == 1 || nzh == 2:
			if j < len(rest) && rest[j] == ':' {
				var nzm int
				zm, j, nzm = digits(rest, j+1)
				if nzm != 2 {
					return cz, dateSyntax
				}
			}
		default:
			return cz, dateSyntax
		}
		if j != len(rest) || zh > 15 || zm > 59 {
			return cz, dateSyntax
		}
		cz.hasZone = true
		cz.offset = sign * int64(zh*3600+zm*60)
		return cz, dateOK
	}
	l, err := time.LoadLocation(rest)
	if err != nil {
		return cz, dateSyntax
	}
	cz.hasZone = true
	cz.zone = l
	return cz, dateOK
}

// parseTimestampText reads a timestamp (a date, optionally a time of day
// and a zone). For TIMESTAMP (tz false) a zone is ignored, as in
// PostgreSQL; for TIMESTAMPTZ a value without a zone is read in l.
func parseTimestampText(s string, tz bool, l *time.Location) (int64, dateResult) {
	s = strings.TrimSpace(s)
	days, rest, res := parseDatePart(s)
	if res != dateOK {
		return 0, res
	}
	var cz clockZone
	if rest != "" {
		if cz, res = parseClockZone(rest, true); res != dateOK {
			return 0, res
		}
	}
	if days > math.MaxInt64/microsPerDay-1 || days < math.MinInt64/microsPerDay+1 {
		return 0, dateRange
	}
	wall := days*microsPerDay + cz.micros
	if !tz {
		return wall, dateOK
	}
	switch {
	case cz.zone != nil:
		return utcMicros(wall, cz.zone), dateOK
	case cz.hasZone:
		return wall - cz.offset*microsPerSecond, dateOK
	}
	return utcMicros(wall, l), dateOK
}

// parseTimeText reads a time of day (a zone is not allowed).
func parseTimeText(s string) (int64, dateResult) {
	cz, res := parseClockZone(strings.TrimSpace(s), false)
	if res != dateOK {
		return 0, res
	}
	return cz.micros, dateOK
}

// parseIntervalText reads interval text: "<number> <unit>" pairs (units
// singular, plural or abbreviated, from millennium to microsecond, with a
// fraction cascading to smaller units), [-]HH:MM[:SS[.f]], an "ago"
// suffix, a bare number of seconds, or ISO 8601 "P1Y2M3DT4H5M6S".
func parseIntervalText(s string) (arrow.MonthDayNanoInterval, bool) {
	var iv arrow.MonthDayNanoInterval
	s = strings.TrimSpace(strings.ToLower(s))
	s = strings.TrimPrefix(s, "@")
	s = strings.TrimSpace(s)
	if s == "" {
		return iv, false
	}
	if s[0] == 'p' {
		return parseISOInterval(s)
	}
	ago := false
	if strings.HasSuffix(s, " ago") {
		ago = true
		s = strings.TrimSpace(strings.TrimSuffix(s, " ago"))
	}
	var months, days float64
	var nanos float64
	f := strings.Fields(s)
	if len(f) == 1 {
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			iv.Nanoseconds = int64(math.Round(v * 1e9))
			return iv, true
		}
	}
	for i := 0; i < len(f); i++ {
		w := strings.TrimSuffix(f[i], ",")
		if strings.Contains(w, ":") {
			ns, ok := parseClockInterval(w)
			if !ok {
				return iv, false
			}
			nanos += float64(ns)
			continue
		}
		num, unit := w, ""
		if j := strings.IndexFunc(w, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' }); j > 0 {
			num, unit = w[:j], w[j:]
		} else {
			if i+1 >= len(f) {
				return iv, false
			}
			i++
			unit = strings.TrimSuffix(f[i], ",")
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return iv, false
		}
		switch normUnit(unit) {
		case "millennium":
			months += v * 12000
		case "century":
			months += v * 1200
		case "decade":
			months += v * 120
		case "year":
			months += v * 12
		case "quarter":
			months += v * 3
		case "month":
			months += v
		case "week":
			days += v * 7
		case "day":
			days += v
		case "hour":
			nanos += v * 3600e9
		case "minute":
			nanos += v * 60e9
		case "second":
			nanos += v * 1e9
		case "millisecond":
			nanos += v * 1e6
		case "microsecond":
			nanos += v * 1e3
		default:
			return iv, false
		}
	}
	// Cascade fractions down: months -> days (30), days -> time (24 h).
	wm := math.Trunc(months)
	days += (months - wm) * 30
	wd := math.Trunc(days)
	nanos += (days - wd) * float64(nanosPerDay)
	if math.Abs(wm) > math.MaxInt32 || math.Abs(wd) > math.MaxInt32 || math.Abs(nanos) > math.MaxInt64/2 {
		return iv, false
	}
	iv.Months, iv.Days, iv.Nanoseconds = int32(wm), int32(wd), int64(math.Round(nanos))
	if ago {
		iv.Months, iv.Days, iv.Nanoseconds = -iv.Months, -iv.Days, -iv.Nanoseconds
	}
	return iv, true
}

// normUnit maps the spellings of a date/time unit to its canonical name
// ("" for an unknown unit).
func normUnit(u string) string {
	switch strings.ToLower(strings.TrimSpace(u)) {
	case "millennium", "millennia", "millenniums", "mil", "mils":
		return "millennium"
	case "century", "centuries", "c", "cent":
		return "century"
	case "decade", "decades", "dec", "decs":
		return "decade"
	case "year", "years", "y", "yr", "yrs":
		return "year"
	case "quarter", "quarters", "qtr":
		return "quarter"
	case "month", "months", "mon", "mons":
		return "month"
	case "week", "weeks", "w":
		return "week"
	case "day", "days", "d":
		return "day"
	case "hour", "hours", "h", "hr", "hrs":
		return "hour"
	case "minute", "minutes", "m", "min", "mins":
		return "minute"
	case "second", "seconds", "s", "sec", "secs":
		return "second"
	case "millisecond", "milliseconds", "ms", "msec", "msecs":
		return "millisecond"
	case "microsecond", "microseconds", "us", "usec", "usecs":
		return "microsecond"
	}
	return ""
}

// parseClockInterval reads [-]HH:MM[:SS[.f]] as nanoseconds.
func parseClockInterval(w string) (int64, bool) {
	neg := strings.HasPrefix(w, "-")
	w = strings.TrimLeft(w, "+-")
	parts := strings.Split(w, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || m > 59 || h > 2562047 {
		return 0, false
	}
	ns := h*3600e9 + m*60e9
	if len(parts) == 3 {
		sec, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || sec >= 60 || sec < 0 {
			return 0, false
		}
		ns += int64(math.Round(sec * 1e9))
	}
	if neg {
		ns = -ns
	}
	return ns, true
}

// parseISOInterval reads ISO 8601 durations such as P1Y2M10DT2H30M.
func parseISOInterval(s string) (arrow.MonthDayNanoInterval, bool) {
	var iv arrow.MonthDayNanoInterval
	s = s[1:]
	inTime := false
	var months, days, nanos float64
	for len(s) > 0 {
		if s[0] == 't' {
			inTime = true
			s = s[1:]
			continue
		}
		j := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' })
		if j <= 0 {
			return iv, false
		}
		v, err := strconv.ParseFloat(s[:j], 64)
		if err != nil {
			return iv, false
		}
		switch u := s[j]; {
		case u == 'y' && !inTime:
			months += v * 12
		case u == 'm' && !inTime:
			months += v
		case u == 'w' && !inTime:
			days += v * 7
		case u == 'd' && !inTime:
			days += v
		case u == 'h' && inTime:
			nanos += v * 3600e9
		case u == 'm' && inTime:
			nanos += v * 60e9
		case u == 's' && inTime:
			nanos += v * 1e9
		default:
			return iv, false
		}
		s = s[j+1:]
	}
	wm := math.Trunc(months)
	days += (months - wm) * 30
	wd := math.Trunc(days)
	nanos += (days - wd) * float64(nanosPerDay)
	iv.Months, iv.Days, iv.Nanoseconds = int32(wm), int32(wd), int64(math.Round(nanos))
	return iv, true
}

// --- text output ----------------------------------------------------------

func appendPad(dst []byte, v int, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendDate writes YYYY-MM-DD (years before 1 as "YYYY-MM-DD BC").
func appendDate(dst []byte, days int64) []byte {
	y, m, d := civil(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPad(dst, d, 2)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendClock writes HH:MM:SS[.ffffff] (trailing zeros of the fraction
// trimmed).
func appendClock(dst []byte, tod int64) []byte {
	dst = appendPad(dst, int(tod/microsPerHour), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, int(tod/microsPerMinute%60), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, int(tod/microsPerSecond%60), 2)
	return appendFrac(dst, tod%microsPerSecond)
}

// appendFrac writes .ffffff for a non-zero number of microseconds, trailing
// zeros trimmed.
func appendFrac(dst []byte, frac int64) []byte {
	if frac == 0 {
		return dst
	}
	var buf [6]byte
	for i := 5; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := 6
	for end > 0 && buf[end-1] == '0' {
		end--
	}
	dst = append(dst, '.')
	return append(dst, buf[:end]...)
}

// appendTimestamp writes YYYY-MM-DD HH:MM:SS[.ffffff].
func appendTimestamp(dst []byte, us int64) []byte {
	days, tod := splitMicros(us)
	y, _, _ := civil(days)
	if y <= 0 {
		dst = appendDate(dst, days)
		dst = dst[:len(dst)-3]
		dst = append(dst, ' ')
		dst = appendClock(dst, tod)
		return append(dst, " BC"...)
	}
	dst = appendDate(dst, days)
	dst = append(dst, ' ')
	return appendClock(dst, tod)
}

// appendTimestampTZ writes the time in l with its offset: +HH, or +HH:MM
// for zones off the hour.
func appendTimestampTZ(dst []byte, us int64, l *time.Location) []byte {
	off := int64(0)
	if !isUTC(l) {
		_, o := time.UnixMicro(us).In(l).Zone()
		off = int64(o)
	}
	dst = appendTimestamp(dst, us+off*microsPerSecond)
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	dst = appendPad(dst, int(off/3600), 2)
	if m := off / 60 % 60; m != 0 {
		dst = append(dst, ':')
		dst = appendPad(dst, int(m), 2)
	}
	return dst
}

// appendInterval writes an interval as PostgreSQL's default style does:
// "1 year 2 mons 3 days 04:05:06".
func appendInterval(dst []byte, iv arrow.MonthDayNanoInterval) []byte {
	start := len(dst)
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		dst = strconv.AppendInt(dst, v, 10)
		dst = append(dst, ' ')
		dst = append(dst, unit...)
		if v != 1 {
			dst = append(dst, 's')
		}
	}
	part(int64(iv.Months/12), "year")
	part(int64(iv.Months%12), "mon")
	part(int64(iv.Days), "day")
	us := iv.Nanoseconds / 1000
	if us != 0 || len(dst) == start {
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		if us < 0 {
			dst = append(dst, '-')
			us = -us
		}
		rest := us % microsPerHour
		dst = appendPad(dst, int(us/microsPerHour), 2)
		dst = append(dst, ':')
		dst = appendPad(dst, int(rest/microsPerMinute), 2)
		dst = append(dst, ':')
		dst = appendPad(dst, int(rest/microsPerSecond%60), 2)
		dst = appendFrac(dst, rest%microsPerSecond)
	}
	return dst
}
