package connector

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestOptions runs testdata/options: "parse role=source|sink" validates
// the input's key = value lines and prints the options or the error.
func TestOptions(t *testing.T) {
	datadriven.RunTest(t, "testdata/options", func(t *testing.T, d *datadriven.TestData) string {
		var role string
		d.ScanArgs(t, "role", &role)
		m := map[string]string{}
		for _, line := range strings.Split(d.Input, "\n") {
			if line == "" {
				continue
			}
			k, v, _ := strings.Cut(line, "=")
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		r := RoleSource
		if role == "sink" {
			r = RoleSink
		}
		o, err := ParseOptions(m, r)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return fmt.Sprintf("path=%s format=%s header=%t delimiter=%q quote=%q escape=%q null_values=%q on_error=%s errors_path=%q compression=%q mode=%s partition_by=%q sample_rows=%d batch_size=%d\n",
			o.Path, o.Format, o.Header, o.Delimiter, o.Quote, o.Escape, o.NullValues, o.OnError, o.ErrorsPath, o.Compression, o.Mode, o.PartitionBy, o.SampleRows, o.BatchSize)
	})
}
