package connector

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the golden files under testdata/files: each file gets
// its own directory that its file, scan, infer, write, ls and cat
// directives share.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/files", func(t *testing.T, path string) {
		dir := t.TempDir()
		c := checkedConnector(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, ok := runFileDirectives(t, d, c, dir)
			if !ok {
				t.Fatalf("unknown command %q", d.Cmd)
			}
			return out
		})
	})
}
