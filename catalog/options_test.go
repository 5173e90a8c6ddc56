package catalog

import (
	"testing"

	"github.com/etlc/etlc/parser"
)

// TestValidateOptionsByHand covers what the parser does not let through:
// options on a view and a repeated option, and diagnostics without a source.
func TestValidateOptionsByHand(t *testing.T) {
	text := `CREATE VIEW v WITH (format = 'csv')`
	src := parser.NewSource("v.sql", text)
	name := parser.ObjectName{Name: parser.Ident{Name: "v", Pos: 12}}
	opts := []parser.Option{{Key: parser.Ident{Name: "format", Pos: 20}, Value: "csv", ValuePos: 29}}
	got, diags := ValidateOptions(parser.KindView, name, opts, src)
	if len(got) != 0 {
		t.Errorf("options = %v, want none", got)
	}
	if len(diags) != 1 || diags[0].Error() != `v.sql:1:21: error: unknown option "format" for VIEW (VIEW takes no WITH options)` {
		t.Errorf("diagnostics = %v", diags)
	}

	text = `CREATE SINK s WITH (path = 'o/', format = 'csv', FORMAT = 'json')`
	src = parser.NewSource("s.sql", text)
	name = parser.ObjectName{Name: parser.Ident{Name: "s", Pos: 12}}
	opts = []parser.Option{
		{Key: parser.Ident{Name: "path", Pos: 20}, Value: "o/", ValuePos: 27},
		{Key: parser.Ident{Name: "format", Pos: 33}, Value: "csv", ValuePos: 42},
		{Key: parser.Ident{Name: "format", Pos: 49}, Value: "json", ValuePos: 58},
	}
	got, diags = ValidateOptions(parser.KindSink, name, opts, src)
	if got["format"] != "csv" || got["path"] != "o/" || got["connector"] != "file" || len(got) != 3 {
		t.Errorf("options = %v", got)
	}
	if len(diags) != 1 || diags[0].Error() != `s.sql:1:50: error: option "format" given more than once` ||
		diags[0].Span != (parser.Span{Start: 49, End: 55}) {
		t.Errorf("diagnostics = %v", diags)
	}

	// Without a source the diagnostics still carry offsets.
	opts = []parser.Option{{Key: parser.Ident{Name: "emit", Pos: 5}, Value: "often", ValuePos: 12}}
	_, diags = ValidateOptions(parser.KindPipeline, parser.ObjectName{Name: parser.Ident{Name: "p"}}, opts, nil)
	if len(diags) != 1 || diags[0].Span != (parser.Span{Start: 12, End: 12}) ||
		diags[0].Message != `invalid value "often" for option emit` || diags[0].Hint != "valid values: final, update" {
		t.Errorf("diagnostics = %+v", diags)
	}
}

func TestValueSpan(t *testing.T) {
	src := parser.NewSource("x", `a = 'it''s', b = E'x\'y', c = $$q'$$, d = $t$v$t$, e = word, f = 'open`)
	for _, tc := range []struct {
		off  int
		want string
	}{
		{4, `'it''s'`},
		{17, `E'x\'y'`},
		{30, `$$q'$$`},
		{42, `$t$v$t$`},
		{55, `word`},
		{65, `'open`},
	} {
		sp := valueSpan(src, tc.off)
		if got := src.Text[sp.Start:sp.End]; got != tc.want {
			t.Errorf("valueSpan at %d = %q, want %q", tc.off, got, tc.want)
		}
	}
}
