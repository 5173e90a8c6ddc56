package catalog

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestStatsPersistence stores statistics, reopens the catalog and finds
// them again; dropping or replacing the relation forgets them.
func TestStatsPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	src := Object{Kind: ObjectSource, Name: "Sales", Columns: []Column{{Name: "id", Type: Int64}}}
	if _, err := c.Create(ctx, src, CreateNew); err != nil {
		t.Fatal(err)
	}
	if err := c.SetStats(ctx, TableStats{Relation: "missing"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetStats of a missing relation: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := TableStats{Relation: "sales", Rows: 42, Origin: "analyze", AnalyzedAt: at,
		Columns: []ColumnStats{{Name: "id", Distinct: 40, Nulls: 2, HasRange: true, Min: 1, Max: 99, MinText: "1", MaxText: "99"}}}
	if err := c.SetStats(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.Stats("SALES")
	if !ok {
		t.Fatal("statistics lost on reopen")
	}
	if got.Relation != "Sales" || got.Rows != 42 || got.Origin != "analyze" || !got.AnalyzedAt.Equal(at) || len(got.Columns) != 1 {
		t.Fatalf("got %+v", got)
	}
	if col, ok := got.Column("ID"); !ok || col != want.Columns[0] {
		t.Fatalf("column id: %+v %v", col, ok)
	}
	if all := c.AllStats(); len(all) != 1 || all[0].Relation != "Sales" {
		t.Fatalf("AllStats: %+v", all)
	}
	if _, err := c.Create(ctx, src, CreateOrReplace); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Stats("sales"); ok {
		t.Fatal("statistics survive CREATE OR REPLACE")
	}
	if err := c.SetStats(ctx, want); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Drop(ctx, ObjectSource, "sales", false); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.Stats("sales"); ok {
		t.Fatal("statistics survive DROP")
	}
}
