package observe

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Type is a metric family's type as the text format names it.
type Type string

// The metric types etlc exposes.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
	// Summary is used without quantiles: the samples are name_sum and
	// name_count.
	Summary Type = "summary"
)

// Label is one name="value" pair of a sample.
type Label struct {
	Name, Value string
}

// Sample is one value of a family. Suffix is appended to the family's name
// (for a summary: "_sum" or "_count"; otherwise "").
type Sample struct {
	Suffix string
	Labels []Label
	Value  float64
}

// Family is a metric family: its name, help text, type and samples.
type Family struct {
	Name    string
	Help    string
	Type    Type
	Samples []Sample
}

// WriteText writes families in the Prometheus text format: families sorted
// by name (families of the same name merged, the first help and type
// kept), each with its # HELP and # TYPE lines, samples sorted by suffix
// and labels so that the output is deterministic.
func WriteText(w io.Writer, fams []Family) error {
	merged := map[string]*Family{}
	var names []string
	for _, f := range fams {
		m, ok := merged[f.Name]
		if !ok {
			c := f
			c.Samples = append([]Sample(nil), f.Samples...)
			merged[f.Name] = &c
			names = append(names, f.Name)
			continue
		}
		m.Samples = append(m.Samples, f.Samples...)
	}
	sort.Strings(names)
	bw := bufio.NewWriter(w)
	for _, n := range names {
		f := merged[n]
		if !validName(f.Name) {
			return fmt.Errorf("observe: invalid metric name %q", f.Name)
		}
		fmt.Fprintf(bw, "# HELP %s %s\n", f.Name, escapeHelp(f.Help))
		fmt.Fprintf(bw, "# TYPE %s %s\n", f.Name, f.Type)
		lines := make([]string, 0, len(f.Samples))
		for _, s := range f.Samples {
			var sb strings.Builder
			sb.WriteString(f.Name)
			sb.WriteString(s.Suffix)
			if len(s.Labels) > 0 {
				sb.WriteByte('{')
				for i, l := range s.Labels {
					if !validLabel(l.Name) {
						return fmt.Errorf("observe: metric %s: invalid label name %q", f.Name, l.Name)
					}
					if i > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(l.Name)
					sb.WriteString(`="`)
					sb.WriteString(escapeLabel(l.Value))
					sb.WriteByte('"')
				}
				sb.WriteByte('}')
			}
			sb.WriteByte(' ')
			sb.WriteString(formatValue(s.Value))
			lines = append(lines, sb.String())
		}
		sort.Strings(lines)
		for _, l := range lines {
			bw.WriteString(l)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// formatValue writes a sample value: integers without exponent or
// fraction, NaN and infinities as the format spells them.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == ':', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// validLabel reports whether s matches [a-zA-Z_][a-zA-Z0-9_]* and does not
// start with "__" (reserved).
func validLabel(s string) bool {
	return validName(s) && !strings.Contains(s, ":") && !strings.HasPrefix(s, "__")
}
