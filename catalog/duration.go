package catalog

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// durationUnit returns the length of a duration unit written as an
// abbreviation (ms, s, m, h, d, w) or a word (milliseconds, minute, hrs).
func durationUnit(u string) (time.Duration, bool) {
	switch u {
	case "ns", "nanosecond", "nanoseconds":
		return time.Nanosecond, true
	case "us", "µs", "microsecond", "microseconds":
		return time.Microsecond, true
	case "ms", "msec", "msecs", "millisecond", "milliseconds":
		return time.Millisecond, true
	case "s", "sec", "secs", "second", "seconds":
		return time.Second, true
	case "m", "min", "mins", "minute", "minutes":
		return time.Minute, true
	case "h", "hr", "hrs", "hour", "hours":
		return time.Hour, true
	case "d", "day", "days":
		return 24 * time.Hour, true
	case "w", "week", "weeks":
		return 7 * 24 * time.Hour, true
	}
	return 0, false
}

// ParseDuration reads a duration as users write it in WITH options: Go's
// compact form ("10s", "500ms", "1h30m", "1m0s"), words ("1 minute",
// "5 seconds", "2 hours 30 minutes"), days and weeks ("1d", "2 weeks"), and
// fractions ("1.5s"). Case and spaces between number and unit do not
// matter. Negative durations and numbers without a unit are errors.
func ParseDuration(s string) (time.Duration, error) {
	d, reason := parseDuration(s)
	if reason != "" {
		return 0, fmt.Errorf("invalid duration %q: %s", s, reason)
	}
	return d, nil
}

// parseDuration is ParseDuration with the reason for a failure (empty on
// success) instead of an error.
func parseDuration(s string) (time.Duration, string) {
	text := strings.ToLower(strings.TrimSpace(s))
	if text == "" {
		return 0, "empty"
	}
	if text[0] == '-' {
		return 0, "negative"
	}
	text = strings.TrimPrefix(text, "+")
	var total time.Duration
	for rest := text; ; {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		// The number: digits, optionally a fraction.
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		whole := rest[:i]
		frac := ""
		if i < len(rest) && rest[i] == '.' {
			j := i + 1
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			frac = rest[i+1 : j]
			i = j
		}
		if whole == "" && frac == "" {
			return 0, fmt.Sprintf("expected a number at %q", rest)
		}
		number := rest[:i]
		rest = strings.TrimLeft(rest[i:], " \t")
		// The unit: letters (and µ).
		j := 0
		for j < len(rest) && (rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= 0x80) {
			j++
		}
		if j == 0 {
			return 0, "missing unit after " + number
		}
		unit, ok := durationUnit(rest[:j])
		if !ok {
			return 0, fmt.Sprintf("unknown unit %q", rest[:j])
		}
		rest = strings.TrimLeft(rest[j:], " \t,")
		d, ok := scaleDuration(whole, frac, unit)
		if !ok || total > math.MaxInt64-d {
			return 0, "too long"
		}
		total += d
	}
	return total, ""
}

// scaleDuration returns whole.frac units, truncated to nanoseconds, and
// false when that does not fit in a time.Duration.
func scaleDuration(whole, frac string, unit time.Duration) (time.Duration, bool) {
	var w int64
	for _, c := range whole {
		if w > (math.MaxInt64-9)/10 {
			return 0, false
		}
		w = w*10 + int64(c-'0')
	}
	if w > math.MaxInt64/int64(unit) {
		return 0, false
	}
	d := time.Duration(w) * unit
	// The fraction, digit by digit, while it still adds nanoseconds.
	scale := unit
	for _, c := range frac {
		scale /= 10
		if scale == 0 {
			break
		}
		d += time.Duration(c-'0') * scale
	}
	return d, d >= 0
}
