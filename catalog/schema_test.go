package catalog

import (
	"testing"

	"github.com/etlc/etlc/parser"
)

// TestSchemaFromColumnsDuplicates builds column definitions by hand (the
// parser rejects a repeated column before the catalog sees it) and checks
// that the second declaration is reported, at its name, and left out.
func TestSchemaFromColumnsDuplicates(t *testing.T) {
	text := `id INT, "Id" INT, ID BIGINT, "x""y" INT, "x""y" INT`
	src := parser.NewSource("dup.sql", text)
	col := func(name string, quoted bool, pos int, typ string, typePos int) parser.ColumnDef {
		tn, err := parseTypeName(typ, typePos)
		if err != nil {
			t.Fatal(err)
		}
		return parser.ColumnDef{Name: parser.Ident{Name: name, Quoted: quoted, Pos: pos}, Type: tn}
	}
	cols := []parser.ColumnDef{
		col("id", false, 0, "INT", 3),
		col("Id", true, 8, "INT", 13),
		col("id", false, 18, "BIGINT", 21),
		col(`x"y`, true, 29, "INT", 36),
		col(`x"y`, true, 41, "INT", 48),
	}
	s, diags := SchemaFromColumns(cols, src)
	if got, want := s.String(), `(id INT, "Id" INT, "x""y" INT)`; got != want {
		t.Errorf("schema = %s, want %s", got, want)
	}
	want := []struct {
		msg        string
		start, end int
	}{
		{`dup.sql:1:19: error: column "id" specified more than once`, 18, 20},
		{`dup.sql:1:42: error: column "x\"y" specified more than once`, 41, 47},
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(diags), len(want), diags)
	}
	for i, w := range want {
		d := diags[i]
		if d.Error() != w.msg || d.Span.Start != w.start || d.Span.End != w.end || d.Code != CodeDuplicateColumn {
			t.Errorf("diagnostic %d = %s %+v [%s], want %s [%d,%d)", i, d.Error(), d.Span, d.Code, w.msg, w.start, w.end)
		}
	}
}

func TestSchemaIndex(t *testing.T) {
	s := Schema{{Name: "id", Type: Int32}, {Name: "Name", Type: String}}
	if got := s.Index("id"); got != 0 {
		t.Errorf("Index(id) = %d", got)
	}
	if got := s.Index("Name"); got != 1 {
		t.Errorf("Index(Name) = %d", got)
	}
	if got := s.Index("name"); got != -1 {
		t.Errorf("Index(name) = %d, want -1: quoted names are exact", got)
	}
	if got := s.Names(); len(got) != 2 || got[0] != "id" || got[1] != "Name" {
		t.Errorf("Names() = %v", got)
	}
}
