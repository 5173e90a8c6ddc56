package expr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file holds the string functions, with PostgreSQL's semantics where
// the name is PostgreSQL's: lengths and positions count characters, not
// bytes; substring's start may be below 1 (the characters before position
// 1 count against the length); concat and concat_ws skip NULLs; trim
// removes any of a set of characters.

// maxStringBytes bounds results built by repeat and the pads.
const maxStringBytes = 256 << 20

func tooLong(fn string, n int64) error {
	return &Error{Code: CodeInvalidParameter, Msg: "requested length too large", Where: fmt.Sprintf("%s(..., %d)", fn, n), Row: -1}
}

// stringFunc compiles the string functions; ok is false for other names.
func (c *compiler) stringFunc(x *planner.Call, args []node) (node, bool, error) {
	name := x.Name
	str := arrow.BinaryTypes.String
	k := func(fails bool, fn func(bt *batch, in []arrow.Array) (arrow.Array, error)) (node, bool, error) {
		return newKernel(name, x.T, args, fails, fn), true, nil
	}
	switch name {
	case "concat":
		return c.concat(x, args, false)
	case "concat_strict":
		// The || operator: NULL when any operand is NULL (PostgreSQL).
		n, _, err := c.concat(x, args, false)
		k := n.(*kernel)
		inner := k.fn
		k.fn = func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			a, err := inner(bt, in)
			if err != nil || !anyNulls(in) {
				return a, err
			}
			defer a.Release()
			which := make([]int32, bt.n)
			for i := range which {
				if anyNullAt(in, i) {
					which[i] = -1
				}
			}
			return gather(bt.alloc, a.DataType(), []arrow.Array{a}, which, allRows(bt.n)), nil
		}
		return k, true, err
	case "concat_ws":
		return c.concat(x, args, true)
	case "lower", "upper":
		f := strings.ToLower
		if name == "upper" {
			f = strings.ToUpper
		}
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s := strsOf(in[0])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				return append(dst, f(s.Value(i))...), false, nil
			})
		})
	case "length", "octet_length":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			if b, ok := in[0].(*array.Binary); ok {
				return intRows(bt, in, x.T, func(i int) (int64, bool, error) { return int64(len(b.Value(i))), false, nil })
			}
			s := strsOf(in[0])
			if name == "octet_length" {
				return intRows(bt, in, x.T, func(i int) (int64, bool, error) { return int64(len(s.Value(i))), false, nil })
			}
			return intRows(bt, in, x.T, func(i int) (int64, bool, error) {
				return int64(utf8.RuneCountInString(s.Value(i))), false, nil
			})
		})
	case "trim", "ltrim", "rtrim":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s := strsOf(in[0])
			var set *array.String
			if len(in) > 1 {
				set = strsOf(in[1])
			}
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				cut := " "
				if set != nil {
					cut = set.Value(i)
				}
				v := s.Value(i)
				switch name {
				case "trim":
					v = strings.Trim(v, cut)
				case "ltrim":
					v = strings.TrimLeft(v, cut)
				default:
					v = strings.TrimRight(v, cut)
				}
				return append(dst, v...), false, nil
			})
		})
	case "replace":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, from, to := strsOf(in[0]), strsOf(in[1]), strsOf(in[2])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				f := from.Value(i)
				if f == "" {
					return append(dst, s.Value(i)...), false, nil
				}
				return append(dst, strings.ReplaceAll(s.Value(i), f, to.Value(i))...), false, nil
			})
		})
	case "lpad", "rpad":
		return k(true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, n := strsOf(in[0]), int64sOf(in[1])
			var fill *array.String
			if len(in) > 2 {
				fill = strsOf(in[2])
			}
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				f := " "
				if fill != nil {
					f = fill.Value(i)
				}
				return pad(dst, s.Value(i), n[i], f, name == "lpad")
			})
		})
	case "left", "right":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, n := strsOf(in[0]), int64sOf(in[1])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				v := s.Value(i)
				cnt := int64(utf8.RuneCountInString(v))
				m := n[i]
				if m < 0 {
					m = max(cnt+m, 0)
				}
				m = min(m, cnt)
				if name == "left" {
					return append(dst, v[:runeOffset(v, int(m))]...), false, nil
				}
				return append(dst, v[runeOffset(v, int(cnt-m)):]...), false, nil
			})
		})
	case "substring":
		return k(len(args) == 3, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, start := strsOf(in[0]), int64sOf(in[1])
			var ln []int64
			if len(in) > 2 {
				ln = int64sOf(in[2])
			}
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				v := s.Value(i)
				from := start[i]
				to := int64(1) << 62
				if ln != nil {
					if ln[i] < 0 {
						return dst, false, &Error{Code: CodeSubstringError, Msg: "negative substring length not allowed",
							Where: fmt.Sprintf("substring(%s, %d, %d)", quoteSQL(v), from, ln[i]), Row: -1}
					}
					to = satAdd(from, ln[i])
				}
				from = max(from, 1)
				if to <= from {
					return dst, false, nil
				}
				return append(dst, runeSlice(v, from-1, to-1)...), false, nil
			})
		})
	case "position":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			needle, hay := strsOf(in[0]), strsOf(in[1])
			return intRows(bt, in, x.T, func(i int) (int64, bool, error) {
				h := hay.Value(i)
				p := strings.Index(h, needle.Value(i))
				if p < 0 {
					return 0, false, nil
				}
				return int64(utf8.RuneCountInString(h[:p])) + 1, false, nil
			})
		})
	case "split_part":
		return k(true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, d, f := strsOf(in[0]), strsOf(in[1]), int64sOf(in[2])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				return splitPart(dst, s.Value(i), d.Value(i), f[i])
			})
		})
	case "starts_with", "ends_with", "contains":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, p := strsOf(in[0]), strsOf(in[1])
			f := strings.HasPrefix
			switch name {
			case "ends_with":
				f = strings.HasSuffix
			case "contains":
				f = strings.Contains
			}
			return boolRows(bt, in, func(i int) (bool, bool, error) { return f(s.Value(i), p.Value(i)), false, nil })
		})
	case "reverse":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s := strsOf(in[0])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				v := s.Value(i)
				start := len(dst)
				dst = append(dst, v...)
				out := dst[start:]
				for j := 0; j < len(v); {
					_, sz := utf8.DecodeRuneInString(v[j:])
					copy(out[len(v)-j-sz:], v[j:j+sz])
					j += sz
				}
				return dst, false, nil
			})
		})
	case "repeat":
		return k(true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s, n := strsOf(in[0]), int64sOf(in[1])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				v, m := s.Value(i), n[i]
				if m <= 0 || v == "" {
					return dst, false, nil
				}
				if m > int64(maxStringBytes/len(v)) {
					return dst, false, tooLong("repeat", m)
				}
				for j := int64(0); j < m; j++ {
					dst = append(dst, v...)
				}
				return dst, false, nil
			})
		})
	case "initcap":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s := strsOf(in[0])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				inWord := false
				for _, r := range s.Value(i) {
					if inWord {
						r = unicode.ToLower(r)
					} else {
						r = unicode.ToUpper(r)
					}
					inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
					dst = utf8.AppendRune(dst, r)
				}
				return dst, false, nil
			})
		})
	case "ascii":
		return k(false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			s := strsOf(in[0])
			return intRows(bt, in, x.T, func(i int) (int64, bool, error) {
				v := s.Value(i)
				if v == "" {
					return 0, false, nil
				}
				r, _ := utf8.DecodeRuneInString(v)
				return int64(r), false, nil
			})
		})
	case "chr":
		return k(true, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
			n := int64sOf(in[0])
			return strRows(bt, in, str, func(dst []byte, i int) ([]byte, bool, error) {
				v := n[i]
				switch {
				case v == 0:
					return dst, false, &Error{Code: "54000", Msg: "null character not permitted", Where: fmt.Sprintf("chr(%d)", v), Row: -1}
				case v < 0 || v > unicode.MaxRune:
					return dst, false, &Error{Code: "54000", Msg: fmt.Sprintf("requested character too large for encoding: %d", v), Row: -1}
				case v >= 0xD800 && v <= 0xDFFF:
					return dst, false, &Error{Code: CodeInvalidParameter, Msg: fmt.Sprintf("requested character not valid for encoding: %d", v), Row: -1}
				}
				return utf8.AppendRune(dst, rune(v)), false, nil
			})
		})
	}
	return nil, false, nil
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// satAdd adds without overflowing.
func satAdd(a, b int64) int64 {
	r := a + b
	if b > 0 && r < a {
		return 1<<63 - 1
	}
	return r
}

// runeOffset returns the byte offset of the n-th rune of s (len(s) past
// the end).
func runeOffset(s string, n int) int {
	if n <= 0 {
		return 0
	}
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return len(s)
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
	}
	return i
}

// runeSlice returns the runes [from, to) of s (0-based, clamped).
func runeSlice(s string, from, to int64) string {
	if from >= int64(len(s)) {
		return ""
	}
	a := runeOffset(s, int(from))
	if to-from >= int64(len(s)) {
		return s[a:]
	}
	b := a + runeOffset(s[a:], int(to-from))
	return s[a:b]
}

// pad implements lpad and rpad: fill (repeated) on the left or right up to
// n characters; a longer string is cut to n characters.
func pad(dst []byte, s string, n int64, fill string, left bool) ([]byte, bool, error) {
	if n <= 0 {
		return dst, false, nil
	}
	cnt := int64(utf8.RuneCountInString(s))
	if cnt >= n {
		return append(dst, s[:runeOffset(s, int(n))]...), false, nil
	}
	if fill == "" {
		return append(dst, s...), false, nil
	}
	if n*4 > maxStringBytes {
		fn := "rpad"
		if left {
			fn = "lpad"
		}
		return dst, false, tooLong(fn, n)
	}
	need := n - cnt
	if !left {
		dst = append(dst, s...)
	}
	fr := []rune(fill)
	for j := int64(0); j < need; j++ {
		dst = utf8.AppendRune(dst, fr[j%int64(len(fr))])
	}
	if left {
		dst = append(dst, s...)
	}
	return dst, false, nil
}

// splitPart returns field f (1-based; negative counts from the end) of s
// split at delim.
func splitPart(dst []byte, s, delim string, f int64) ([]byte, bool, error) {
	if f == 0 {
		return dst, false, &Error{Code: CodeInvalidParameter, Msg: "field position must not be zero", Row: -1}
	}
	if delim == "" {
		if f == 1 || f == -1 {
			return append(dst, s...), false, nil
		}
		return dst, false, nil
	}
	parts := strings.Split(s, delim)
	idx := f - 1
	if f < 0 {
		idx = int64(len(parts)) + f
	}
	if idx < 0 || idx >= int64(len(parts)) {
		return dst, false, nil
	}
	return append(dst, parts[idx]...), false, nil
}

// concat compiles concat (all arguments as text, NULLs skipped),
// concat_strict (the || operator, NULL when an operand is NULL) and
// concat_ws (the first argument separates the non-NULL others; a NULL
// separator gives NULL).
func (c *compiler) concat(x *planner.Call, args []node, ws bool) (node, bool, error) {
	n := newKernel(x.Name, x.T, args, false, func(bt *batch, in []arrow.Array) (arrow.Array, error) {
		l := bt.env.loc()
		texts := make([]texter, len(in))
		for i, a := range in {
			texts[i] = textOf(a, args[i].typ(), l)
		}
		out := newStrOut(bt.n, bt.n*16)
		for i := 0; i < bt.n; i++ {
			first := 0
			var sep string
			if ws {
				if in[0].IsNull(i) {
					out.appendNull()
					continue
				}
				sep = strsOf(in[0]).Value(i)
				first = 1
			}
			wrote := false
			for k := first; k < len(in); k++ {
				if in[k].IsNull(i) || args[k].typ().Kind == catalog.KindNull {
					continue
				}
				if ws && wrote {
					out.data = append(out.data, sep...)
				}
				out.data = texts[k](out.data, i)
				wrote = true
			}
			out.next()
		}
		return out.finish(arrow.BinaryTypes.String), nil
	})
	return n, true, nil
}
