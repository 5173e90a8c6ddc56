package slt

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Numeric is an exact decimal number in its text form, such as "3.50" or
// "-12": the value of a DECIMAL column. Its scale is kept in T columns.
type Numeric string

// Date is a calendar date; it formats as YYYY-MM-DD.
type Date time.Time

// Null is the text of a NULL value.
const Null = "NULL"

// Empty is the text of an empty string.
const Empty = "(empty)"

// FormatValue returns the text of v in a column of type typ (I, R or T).
//
// Accepted values: nil (NULL); bool; all Go integer types; float32 and
// float64; Numeric; string and []byte; Date; time.Time (a timestamp).
//
//   - I: integers as decimal numbers; booleans as 1 and 0; floats and
//     Numerics that hold a whole number as that number (others are an error,
//     so a corpus cannot hide a fraction); strings holding an integer.
//   - R: any number with exactly 3 decimals ("%.3f", half away from zero for
//     Numerics); NaN and infinities as NaN, Infinity, -Infinity.
//   - T: strings as they are, "(empty)" for "", control characters as '@';
//     booleans as true and false; integers in decimal; Numerics as written
//     (their scale kept: "1.50"); floats in the shortest form that reads
//     back ("0.1", "1e+20"); dates as 2006-01-02; timestamps as
//     2006-01-02 15:04:05 with a fraction only when not zero
//     (".5", ".123456") and no zone.
func FormatValue(v any, typ byte) (string, error) {
	if v == nil {
		return Null, nil
	}
	switch typ {
	case 'I':
		return formatInt(v)
	case 'R':
		return formatReal(v)
	case 'T':
		return formatText(v)
	}
	return "", fmt.Errorf("slt: column type %q is not I, R or T", typ)
}

// integer converts Go integer kinds to *big.Int; ok is false for others.
func integer(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int:
		return big.NewInt(int64(x)), true
	case int8:
		return big.NewInt(int64(x)), true
	case int16:
		return big.NewInt(int64(x)), true
	case int32:
		return big.NewInt(int64(x)), true
	case int64:
		return big.NewInt(x), true
	case uint:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint8:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint16:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint32:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint64:
		return new(big.Int).SetUint64(x), true
	}
	return nil, false
}

func formatInt(v any) (string, error) {
	if n, ok := integer(v); ok {
		return n.String(), nil
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case float32:
		return formatInt(float64(x))
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("slt: %v in an I column is not a whole number", x)
		}
		return strconv.FormatFloat(x, 'f', 0, 64), nil
	case Numeric:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok || !r.IsInt() {
			return "", fmt.Errorf("slt: %s in an I column is not a whole number", string(x))
		}
		return r.Num().String(), nil
	case string:
		n, ok := new(big.Int).SetString(strings.TrimSpace(x), 10)
		if !ok {
			return "", fmt.Errorf("slt: text %q in an I column", x)
		}
		return n.String(), nil
	}
	return "", fmt.Errorf("slt: %T value in an I column", v)
}

func formatReal(v any) (string, error) {
	if n, ok := integer(v); ok {
		return n.String() + ".000", nil
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "1.000", nil
		}
		return "0.000", nil
	case float32:
		return formatReal(float64(x))
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN", nil
		case math.IsInf(x, 1):
			return "Infinity", nil
		case math.IsInf(x, -1):
			return "-Infinity", nil
		}
		s := strconv.FormatFloat(x, 'f', 3, 64)
		if s == "-0.000" {
			s = "0.000"
		}
		return s, nil
	case Numeric:
		switch string(x) {
		case "NaN", "Infinity", "-Infinity":
			return string(x), nil
		}
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return "", fmt.Errorf("slt: bad Numeric %q", string(x))
		}
		return roundRat(r, 3), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return "", fmt.Errorf("slt: text %q in an R column", x)
		}
		return formatReal(f)
	}
	return "", fmt.Errorf("slt: %T value in an R column", v)
}

// roundRat formats r with exactly places decimals, rounding half away
// from zero.
func roundRat(r *big.Rat, places int) string {
	neg := r.Sign() < 0
	a := new(big.Rat).Abs(r)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	a.Mul(a, new(big.Rat).SetInt(scale))
	// floor(a + 1/2)
	a.Add(a, big.NewRat(1, 2))
	q := new(big.Int).Quo(a.Num(), a.Denom())
	s := q.String()
	if len(s) <= places {
		s = strings.Repeat("0", places-len(s)+1) + s
	}
	out := s[:len(s)-places] + "." + s[len(s)-places:]
	if neg && q.Sign() != 0 {
		out = "-" + out
	}
	return out
}

func formatText(v any) (string, error) {
	if n, ok := integer(v); ok {
		return n.String(), nil
	}
	switch x := v.(type) {
	case string:
		return textValue(x), nil
	case []byte:
		return textValue(string(x)), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case Numeric:
		return string(x), nil
	case Date:
		return time.Time(x).Format("2006-01-02"), nil
	case time.Time:
		s := x.Format("2006-01-02 15:04:05.999999")
		return s, nil
	}
	return "", fmt.Errorf("slt: %T value in a T column", v)
}

// textValue renders a string: "(empty)" for "", control characters as '@'.
func textValue(s string) string {
	if s == "" {
		return Empty
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '@'
		}
		return r
	}, s)
}

// FormatRows formats every value of rows by the column types of a query.
// Each row must have len(types) values.
func FormatRows(types string, rows [][]any) ([][]string, error) {
	out := make([][]string, len(rows))
	for i, row := range rows {
		if len(row) != len(types) {
			return nil, fmt.Errorf("slt: row %d has %d columns, the query declares %d (%s)", i+1, len(row), len(types), types)
		}
		out[i] = make([]string, len(row))
		for j, v := range row {
			s, err := FormatValue(v, types[j])
			if err != nil {
				return nil, fmt.Errorf("row %d column %d: %w", i+1, j+1, err)
			}
			out[i][j] = s
		}
	}
	return out, nil
}

// SortValues applies mode to formatted rows and returns the values in the
// order they are compared and hashed. rows is not modified.
func SortValues(mode SortMode, rows [][]string) []string {
	switch mode {
	case RowSort:
		sorted := append([][]string(nil), rows...)
		sort.SliceStable(sorted, func(a, b int) bool {
			ra, rb := sorted[a], sorted[b]
			for k := 0; k < len(ra) && k < len(rb); k++ {
				if ra[k] != rb[k] {
					return ra[k] < rb[k]
				}
			}
			return len(ra) < len(rb)
		})
		rows = sorted
	}
	var vals []string
	for _, r := range rows {
		vals = append(vals, r...)
	}
	if mode == ValueSort {
		sort.Strings(vals)
	}
	return vals
}

// HashValues returns the md5 of values, each followed by a newline, as
// lower-case hex: the hash of a "N values hashing to MD5" line.
func HashValues(values []string) string {
	h := md5.New()
	for _, v := range values {
		h.Write([]byte(v))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ResultLines returns the expected-output lines for values: the values
// themselves, or one hash line when threshold > 0 and there are more
// values than threshold.
func ResultLines(values []string, threshold int) []string {
	if threshold > 0 && len(values) > threshold {
		return []string{fmt.Sprintf("%d values hashing to %s", len(values), HashValues(values))}
	}
	return append([]string(nil), values...)
}

// Check compares the values a query produced (after SortValues) with the
// record's expectation and returns a readable error when they differ.
func (r *Record) Check(values []string) error {
	if r.Hash != nil {
		got := HashValues(values)
		if len(values) != r.Hash.Values || got != r.Hash.MD5 {
			return fmt.Errorf("got %d values hashing to %s, want %d values hashing to %s",
				len(values), got, r.Hash.Values, r.Hash.MD5)
		}
		return nil
	}
	if len(values) == len(r.Expected) {
		same := true
		for i := range values {
			if values[i] != r.Expected[i] {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	return fmt.Errorf("result differs:\n%s", diffValues(r.Expected, values, len(r.Types)))
}

// diffValues shows expected and actual values side by side, one row a line.
func diffValues(want, got []string, cols int) string {
	if cols < 1 {
		cols = 1
	}
	row := func(vals []string, i int) (string, bool) {
		if i*cols >= len(vals) {
			return "", false
		}
		end := min(i*cols+cols, len(vals))
		return strings.Join(vals[i*cols:end], " | "), true
	}
	var b strings.Builder
	n := (max(len(want), len(got)) + cols - 1) / cols
	for i := 0; i < n; i++ {
		w, wok := row(want, i)
		g, gok := row(got, i)
		mark := " "
		if w != g || wok != gok {
			mark = "!"
		}
		if !wok {
			w = "(none)"
		}
		if !gok {
			g = "(none)"
		}
		fmt.Fprintf(&b, "%s row %d: want %s\n%s        got  %s\n", mark, i+1, w, mark, g)
	}
	return b.String()
}

// RewriteResults returns src (the text of a file parsed as f) with the
// expected values of some query records replaced: results maps a record's
// index in f.Records to its new result lines (see ResultLines). A query
// without a "----" line gets one. Everything else is kept byte for byte.
func RewriteResults(src string, f *File, results map[int][]string) string {
	lines := strings.Split(src, "\n")
	trailingNewline := strings.HasSuffix(src, "\n")
	if trailingNewline {
		lines = lines[:len(lines)-1]
	}
	type edit struct {
		from, to int // 0-based, [from, to) replaced
		with     []string
	}
	var edits []edit
	for idx, res := range results {
		r := &f.Records[idx]
		if r.Kind != Query {
			continue
		}
		if r.HasSeparator {
			edits = append(edits, edit{r.ResultLine - 1, r.ResultEnd - 1, res})
		} else {
			// Insert "----" and the values after the SQL.
			at := r.Line - 1 + len(r.Conditions) + 1 + strings.Count(r.SQL, "\n") + 1
			edits = append(edits, edit{at, at, append([]string{"----"}, res...)})
		}
	}
	sort.Slice(edits, func(a, b int) bool { return edits[a].from > edits[b].from })
	for _, e := range edits {
		tail := append([]string(nil), lines[e.to:]...)
		lines = append(append(lines[:e.from], e.with...), tail...)
	}
	out := strings.Join(lines, "\n")
	if trailingNewline {
		out += "\n"
	}
	return out
}
