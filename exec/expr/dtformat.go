package expr

import (
	"fmt"
	"strings"
)

// This file reads dates and timestamps in a given format for to_date and
// to_timestamp. Two pattern styles are understood: PostgreSQL's (YYYY,
// MM, DD, HH24, HH12, MI, SS, MS, US, AM/PM, Mon, Month, DDD) and the
// Java/Spark one (yyyy, MM, dd, HH, hh, mm, ss, SSS, a, MMM, MMMM). A
// pattern is PostgreSQL-style when it has an upper-case YY, DD, HH24 or
// MI; Java-style otherwise. Separators in the pattern match any separator
// in the text.

type dtField int

const (
	fLit dtField = iota
	fYear4
	fYear2
	fMonth
	fMonthName
	fDay
	fDoy
	fHour24
	fHour12
	fMinute
	fSecond
	fMilli
	fMicro
	fFraction // Java S..., any number of digits
	fAMPM
	fZone
)

type dtTok struct {
	f     dtField
	lit   string
	width int
	text  string // the pattern text, for messages
}

// dtFormat is a parsed date/time pattern.
type dtFormat struct {
	toks []dtTok
	src  string
}

var pgTokens = []struct {
	pat   string
	f     dtField
	width int
}{
	{"YYYY", fYear4, 4}, {"HH24", fHour24, 2}, {"HH12", fHour12, 2}, {"MONTH", fMonthName, 9}, {"Month", fMonthName, 9},
	{"month", fMonthName, 9}, {"YY", fYear2, 2}, {"MON", fMonthName, 3}, {"Mon", fMonthName, 3}, {"mon", fMonthName, 3},
	{"MM", fMonth, 2}, {"DDD", fDoy, 3}, {"DD", fDay, 2}, {"HH", fHour12, 2}, {"MI", fMinute, 2}, {"SS", fSecond, 2},
	{"MS", fMilli, 3}, {"US", fMicro, 6}, {"AM", fAMPM, 2}, {"PM", fAMPM, 2}, {"am", fAMPM, 2}, {"pm", fAMPM, 2},
	{"A.M.", fAMPM, 4}, {"P.M.", fAMPM, 4}, {"TZH:TZM", fZone, 6}, {"OF", fZone, 6}, {"TZ", fZone, 6},
}

var javaTokens = []struct {
	pat   string
	f     dtField
	width int
}{
	{"yyyy", fYear4, 4}, {"MMMM", fMonthName, 9}, {"MMM", fMonthName, 3}, {"yy", fYear2, 2}, {"MM", fMonth, 2},
	{"M", fMonth, 2}, {"DDD", fDoy, 3}, {"dd", fDay, 2}, {"d", fDay, 2}, {"HH", fHour24, 2}, {"H", fHour24, 2},
	{"hh", fHour12, 2}, {"h", fHour12, 2}, {"mm", fMinute, 2}, {"m", fMinute, 2}, {"ss", fSecond, 2}, {"s", fSecond, 2},
	{"SSSSSS", fMicro, 6}, {"SSS", fMilli, 3}, {"S", fFraction, 9}, {"a", fAMPM, 2}, {"XXX", fZone, 6}, {"Z", fZone, 6}, {"X", fZone, 6},
}

// parseDateFormat parses a pattern.
func parseDateFormat(p string) (*dtFormat, error) {
	pg := strings.Contains(p, "YY") || strings.Contains(p, "DD") || strings.Contains(p, "HH24") || strings.Contains(p, "MI")
	table := javaTokens
	if pg {
		table = pgTokens
	}
	df := &dtFormat{src: p}
	for i := 0; i < len(p); {
		if !pg && p[i] == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				return nil, &Error{Code: CodeInvalidDatetime, Msg: fmt.Sprintf("unterminated quote in format %q", p), Row: -1}
			}
			df.toks = append(df.toks, dtTok{f: fLit, lit: p[i+1 : i+1+j]})
			i += j + 2
			continue
		}
		if pg && p[i] == '"' {
			j := strings.IndexByte(p[i+1:], '"')
			if j < 0 {
				return nil, &Error{Code: CodeInvalidDatetime, Msg: fmt.Sprintf("unterminated quote in format %q", p), Row: -1}
			}
			df.toks = append(df.toks, dtTok{f: fLit, lit: p[i+1 : i+1+j]})
			i += j + 2
			continue
		}
		matched := false
		for _, t := range table {
			if strings.HasPrefix(p[i:], t.pat) {
				df.toks = append(df.toks, dtTok{f: t.f, width: t.width, text: t.pat})
				i += len(t.pat)
				matched = true
				break
			}
		}
		if !matched {
			df.toks = append(df.toks, dtTok{f: fLit, lit: p[i : i+1]})
			i++
		}
	}
	return df, nil
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

func isSep(c byte) bool {
	return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
}

// dtValue is a parsed date/time: wall-clock microseconds since the epoch,
// and the zone offset in seconds when the text has one.
type dtValue struct {
	us      int64
	zoneOff int
	hasZone bool
}

// parse reads s as the pattern describes.
func (df *dtFormat) parse(s, fn string) (dtValue, error) {
	year, month, day, doy := 1970, 1, 1, 0
	hour, minute, sec := 0, 0, 0
	var frac int64
	pm, hasAMPM := false, false
	zoneOff, hasZone := 0, false
	i := 0
	bad := func(tok dtTok) (dtValue, error) {
		rest := s[min(i, len(s)):]
		return dtValue{}, &Error{Code: CodeInvalidDatetime,
			Msg:   fmt.Sprintf("invalid value %q for %q", rest, tok.text),
			Where: fmt.Sprintf("%s(%s, %s)", fn, quoteSQL(s), quoteSQL(df.src)), Row: -1}
	}
	num := func(width int) (int, bool) {
		v, j, n := 0, i, 0
		neg := false
		if j < len(s) && (s[j] == '-' || s[j] == '+') && width == 4 {
			neg = s[j] == '-'
			j++
		}
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && n < width {
			v = v*10 + int(s[j]-'0')
			j++
			n++
		}
		if n == 0 {
			return 0, false
		}
		i = j
		if neg {
			v = -v
		}
		return v, true
	}
	for _, tok := range df.toks {
		switch tok.f {
		case fLit:
			for k := 0; k < len(tok.lit); k++ {
				c := tok.lit[k]
				switch {
				case i < len(s) && s[i] == c:
					i++
				case i < len(s) && isSep(c) && isSep(s[i]):
					i++
				case c == ' ':
					// A space in the pattern may match nothing.
				default:
					tok.text = tok.lit
					return bad(tok)
				}
			}
			continue
		case fMonthName:
			rest := strings.ToLower(s[i:])
			found := false
			for k, m := range monthNames {
				switch {
				case strings.HasPrefix(rest, m):
					month, i, found = k+1, i+len(m), true
				case strings.HasPrefix(rest, m[:3]):
					month, i, found = k+1, i+3, true
				}
				if found {
					break
				}
			}
			if !found {
				return bad(tok)
			}
			continue
		case fAMPM:
			rest := strings.ToLower(s[i:])
			switch {
			case strings.HasPrefix(rest, "a.m."), strings.HasPrefix(rest, "p.m."):
				pm = rest[0] == 'p'
				i += 4
			case strings.HasPrefix(rest, "am"), strings.HasPrefix(rest, "pm"):
				pm = rest[0] == 'p'
				i += 2
			default:
				return bad(tok)
			}
			hasAMPM = true
			continue
		case fZone:
			if i < len(s) && (s[i] == 'Z' || s[i] == 'z') {
				i++
				hasZone = true
				continue
			}
			if i >= len(s) || (s[i] != '+' && s[i] != '-') {
				return bad(tok)
			}
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			h, ok := num(2)
			if !ok {
				return bad(tok)
			}
			m := 0
			if i < len(s) && s[i] == ':' {
				i++
			}
			if i < len(s) && s[i] >= '0' && s[i] <= '9' {
				m, _ = num(2)
			}
			zoneOff, hasZone = sign*(h*3600+m*60), true
			continue
		case fFraction, fMilli, fMicro:
			start := i
			v, ok := num(max(tok.width, 9))
			if !ok {
				return bad(tok)
			}
			digits := i - start
			for k := digits; k < 6; k++ {
				v *= 10
			}
			for k := digits; k > 6; k-- {
				v /= 10
			}
			frac = int64(v)
			continue
		}
		v, ok := num(tok.width)
		if !ok {
			return bad(tok)
		}
		switch tok.f {
		case fYear4:
			year = v
		case fYear2:
			year = 2000 + v
			if v >= 70 {
				year = 1900 + v
			}
		case fMonth:
			month = v
		case fDay:
			day = v
		case fDoy:
			doy = v
		case fHour24:
			hour = v
		case fHour12:
			hour = v
			hasAMPM = true
		case fMinute:
			minute = v
		case fSecond:
			sec = v
		}
	}
	if strings.TrimSpace(s[i:]) != "" {
		return dtValue{}, &Error{Code: CodeInvalidDatetime, Msg: fmt.Sprintf("trailing characters %q do not match the format", s[i:]),
			Where: fmt.Sprintf("%s(%s, %s)", fn, quoteSQL(s), quoteSQL(df.src)), Row: -1}
	}
	if hasAMPM {
		if hour < 1 || hour > 12 {
			return dtValue{}, &Error{Code: CodeDatetimeOverflow, Msg: fmt.Sprintf("hour \"%d\" is invalid for the 12-hour clock", hour),
				Where: fmt.Sprintf("%s(%s, %s)", fn, quoteSQL(s), quoteSQL(df.src)), Row: -1}
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	rangeErr := func() (dtValue, error) {
		return dtValue{}, &Error{Code: CodeDatetimeOverflow, Msg: fmt.Sprintf("date/time field value out of range: %q", s),
			Where: fmt.Sprintf("%s(%s, %s)", fn, quoteSQL(s), quoteSQL(df.src)), Row: -1}
	}
	var days int64
	if doy > 0 {
		if doy > 365 && !(doy == 366 && isLeap(year)) {
			return rangeErr()
		}
		days = dayNumber(year, 1, 1) + int64(doy) - 1
	} else {
		if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
			return rangeErr()
		}
		days = dayNumber(year, month, day)
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return rangeErr()
	}
	us := days*microsPerDay + int64(hour)*microsPerHour + int64(minute)*microsPerMinute + int64(sec)*microsPerSecond + frac
	return dtValue{us: us, zoneOff: zoneOff, hasZone: hasZone}, nil
}
