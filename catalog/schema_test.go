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

// TestObjectFromCreateChecksColumns builds statements by hand with column
// references the parser would have rejected, to check the catalog's own
// checks of watermark and PRIMARY KEY columns.
func TestObjectFromCreateChecksColumns(t *testing.T) {
	src := parser.NewSource("h.sql", "wm pk")
	cols := []parser.ColumnDef{
		{Name: parser.Ident{Name: "id"}, Type: parser.TypeName{Name: "INT"}},
		{Name: parser.Ident{Name: "ts"}, Type: parser.TypeName{Name: "TIMESTAMP"}},
	}
	st := &parser.CreateSource{
		Kind: parser.KindStream, Name: parser.ObjectName{Name: parser.Ident{Name: "s"}}, Columns: cols,
		Watermark: &parser.Watermark{Column: parser.Ident{Name: "tz", Pos: 0}},
		Options:   []parser.Option{{Key: parser.Ident{Name: "path"}, Value: "a.json"}},
		Span:      parser.Span{Start: 0, End: 2},
	}
	o, mode, diags := ObjectFromCreate(st, src)
	if mode != CreateNew || o.Kind != ObjectStream || o.SQL != "wm" || o.Watermark == nil || o.Watermark.Column != "tz" {
		t.Errorf("object = %+v, mode %d", o, mode)
	}
	if len(diags) != 1 || diags[0].Error() != `h.sql:1:1: error: column "tz" in WATERMARK is not defined (did you mean ts?)` {
		t.Errorf("diagnostics = %v", diags)
	}
	tbl := &parser.CreateTable{
		Name: parser.ObjectName{Name: parser.Ident{Name: "t"}}, Columns: cols, IfNotExists: true,
		PrimaryKey: []parser.Ident{{Name: "id"}, {Name: "nope", Pos: 3}},
		Span:       parser.Span{Start: 3, End: 5},
	}
	o, mode, diags = ObjectFromCreate(tbl, src)
	if mode != CreateIfNotExists || len(o.PrimaryKey) != 1 || o.PrimaryKey[0] != "id" || o.SQL != "pk" {
		t.Errorf("object = %+v, mode %d", o, mode)
	}
	if len(diags) != 1 || diags[0].Error() != `h.sql:1:4: error: column "nope" in PRIMARY KEY is not defined (columns: id, ts)` {
		t.Errorf("diagnostics = %v", diags)
	}
	if _, _, diags := ObjectFromCreate(&parser.Drop{}, src); len(diags) != 1 || diags[0].Message != "*parser.Drop does not create a catalog object" {
		t.Errorf("ObjectFromCreate(Drop) = %v", diags)
	}
}
