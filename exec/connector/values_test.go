package connector

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cockroachdb/datadriven"
)

// TestValues runs testdata/values: "parse type=T" converts each input line
// to T and prints the value as the writers format it (and the readers
// read it back), or the reason it is bad.
func TestValues(t *testing.T) {
	datadriven.RunTest(t, "testdata/values", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "parse" {
			t.Fatalf("unknown command %q", d.Cmd)
		}
		var ts string
		d.ScanArgs(t, "type", &ts)
		typ := parseType(t, ts)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		var b strings.Builder
		for _, line := range strings.Split(d.Input, "\n") {
			c := newColumn(mem, Field{Name: "v", Type: typ})
			if err := c.setText([]byte(line)); err != nil {
				b.WriteString(line + " -> error: " + err.Error() + "\n")
				c.builder.Release()
				continue
			}
			c.appendStaged()
			arr := c.builder.NewArray()
			out := string(appendValue(nil, typ, arr, 0))
			// The formatted text reads back as the same value.
			c2 := newColumn(mem, Field{Name: "v", Type: typ})
			if err := c2.setText([]byte(out)); err != nil {
				t.Errorf("%q formats as %q, which does not read back: %v", line, out, err)
			} else {
				c2.appendStaged()
				arr2 := c2.builder.NewArray()
				if got := string(appendValue(nil, typ, arr2, 0)); got != out {
					t.Errorf("%q: %q reads back as %q", line, out, got)
				}
				arr2.Release()
			}
			c2.builder.Release()
			arr.Release()
			c.builder.Release()
			b.WriteString(line + " -> " + out + "\n")
		}
		return b.String()
	})
}
