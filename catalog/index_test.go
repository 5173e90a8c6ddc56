package catalog

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/etlc/etlc/parser"
)

// TestTableConstraints checks what ObjectFromCreate records of a table's
// constraints: the primary key, UNIQUE and CHECK constraints with the
// names PostgreSQL would give them, prefix lengths, and DEFAULT texts.
func TestTableConstraints(t *testing.T) {
	src := parser.NewSource("t.sql", `CREATE TABLE t (
  id INT PRIMARY KEY,
  code VARCHAR UNIQUE,
  qty INT DEFAULT 1 CHECK (qty >= 0),
  name TEXT,
  UNIQUE (code, name(3)),
  CONSTRAINT named UNIQUE (qty),
  UNIQUE (code),
  CHECK (qty < id)
)`)
	script, diags := parser.Parse(src, parser.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	o, _, diags := ObjectFromCreate(script.Stmts[0], src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	wantIdx := []Index{
		{Name: "t_pkey", Columns: []string{"id"}, Unique: true, Primary: true, Constraint: true},
		{Name: "t_code_key", Columns: []string{"code"}, Unique: true, Constraint: true},
		{Name: "t_code_name_key", Columns: []string{"code", "name"}, Prefix: []int{0, 3}, Unique: true, Constraint: true},
		{Name: "named", Columns: []string{"qty"}, Unique: true, Constraint: true},
		{Name: "t_code_key1", Columns: []string{"code"}, Unique: true, Constraint: true},
	}
	if !reflect.DeepEqual(o.Indexes, wantIdx) {
		t.Errorf("indexes:\n got %+v\nwant %+v", o.Indexes, wantIdx)
	}
	wantChecks := []Check{{Name: "t_qty_check", Expr: `"qty">=0`}, {Name: "t_check", Expr: `"qty"<"id"`}}
	if !reflect.DeepEqual(o.Checks, wantChecks) {
		t.Errorf("checks:\n got %+v\nwant %+v", o.Checks, wantChecks)
	}
	if !reflect.DeepEqual(o.PrimaryKey, []string{"id"}) || o.Columns[2].Default != "1" || o.Columns[1].Default != "" {
		t.Errorf("primary key %v, defaults %q %q", o.PrimaryKey, o.Columns[1].Default, o.Columns[2].Default)
	}
	if got := o.Indexes[2].String(); got != "t_code_name_key UNIQUE (code, name(3))" {
		t.Errorf("Index.String = %q", got)
	}
}

// TestIndexes checks CreateIndex and DropIndex: names shared with
// relations and other indexes, constraint indexes, persistence.
func TestIndexes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, Object{Kind: ObjectTable, Name: "t", Columns: Schema{{Name: "a", Type: Int32}, {Name: "b", Type: String}},
		Indexes: []Index{{Name: "t_pkey", Columns: []string{"a"}, Unique: true, Primary: true, Constraint: true}}}, CreateNew)
	mustCreate(t, c, Object{Kind: ObjectSink, Name: "s", Options: map[string]string{"connector": "file"}}, CreateNew)
	ix := Index{Name: "t_b_idx", Columns: []string{"b"}}
	if ok, err := c.CreateIndex(ctx, "T", ix, false); !ok || err != nil {
		t.Fatalf("CreateIndex = %v, %v", ok, err)
	}
	code := func(err error) string {
		var oe *ObjectError
		if errors.As(err, &oe) {
			return oe.Code + " " + oe.Message
		}
		return "not an ObjectError: " + err.Error()
	}
	for _, c2 := range []struct {
		table string
		ix    Index
		ifNot bool
		want  string
	}{
		{"t", ix, false, `42P07 relation "t_b_idx" already exists`},
		{"t", Index{Name: "s", Columns: []string{"a"}}, false, `42P07 relation "s" already exists`},
		{"s", Index{Name: "x", Columns: []string{"a"}}, false, `42809 cannot create an index on sink "s": indexes are on tables made with CREATE TABLE`},
		{"nope", Index{Name: "x", Columns: []string{"a"}}, false, `42P01 relation "nope" does not exist`},
		{"t", Index{Name: "x", Columns: []string{"zz"}}, false, `42703 column "zz" does not exist`},
	} {
		if _, err := c.CreateIndex(ctx, c2.table, c2.ix, c2.ifNot); err == nil || code(err) != c2.want {
			t.Errorf("CreateIndex(%s, %s): %v, want %s", c2.table, c2.ix.Name, err, c2.want)
		}
	}
	if ok, err := c.CreateIndex(ctx, "t", ix, true); ok || err != nil {
		t.Errorf("CreateIndex IF NOT EXISTS of a taken name = %v, %v", ok, err)
	}
	if name := IndexName("public.t", []string{"b"}, func(n string) bool { return n == "t_b_idx" || n == "t_b_idx1" }); name != "t_b_idx2" {
		t.Errorf("IndexName = %q", name)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if table, got, ok := c.FindIndex("t_b_idx"); !ok || table != "t" || !reflect.DeepEqual(got, ix) {
		t.Errorf("after reopen FindIndex = %q %+v %v", table, got, ok)
	}
	if _, _, err := c.DropIndex(ctx, "t_pkey", false); err == nil ||
		code(err) != "2BP01 cannot drop index t_pkey because constraint t_pkey on table t requires it" {
		t.Errorf("DropIndex(t_pkey): %v", err)
	}
	if table, ok, err := c.DropIndex(ctx, "t_b_idx", false); table != "t" || !ok || err != nil {
		t.Errorf("DropIndex = %q, %v, %v", table, ok, err)
	}
	if _, ok, err := c.DropIndex(ctx, "t_b_idx", true); ok || err != nil {
		t.Errorf("DropIndex IF EXISTS of a dropped index = %v, %v", ok, err)
	}
	if _, _, err := c.DropIndex(ctx, "t_b_idx", false); err == nil || code(err) != `42704 index "t_b_idx" does not exist` {
		t.Errorf("DropIndex of a dropped index: %v", err)
	}
	if o, _ := c.Lookup("t"); len(o.Indexes) != 1 || o.Indexes[0].Name != "t_pkey" {
		t.Errorf("indexes after the drop: %+v", o.Indexes)
	}
}
