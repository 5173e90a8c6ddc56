package session

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// textBatch makes a record of string columns; "NULL" is NULL.
func textBatch(names []string, rows ...[]string) arrow.Record {
	fields := make([]arrow.Field, len(names))
	cols := make([]arrow.Array, len(names))
	for j, n := range names {
		fields[j] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		for _, r := range rows {
			if r[j] == "NULL" {
				b.AppendNull()
			} else {
				b.Append(r[j])
			}
		}
		cols[j] = b.NewArray()
	}
	return array.NewRecord(arrow.NewSchema(fields, nil), cols, int64(len(rows)))
}

func TestCopyIn(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	ctx := context.Background()
	mustExec(t, s, "CREATE TABLE t (id INT NOT NULL, amount DECIMAL(6,2), note VARCHAR);")
	// Committed: the rows appear at once, the unlisted column NULL.
	ci, err := s.BeginCopyIn(ctx, "t", []string{"amount", "id"})
	if err != nil {
		t.Fatal(err)
	}
	if cols := ci.Columns(); len(cols) != 2 || cols[0].Name != "amount" || cols[1].Name != "id" {
		t.Fatalf("columns %v", cols)
	}
	for _, rec := range []arrow.Record{textBatch([]string{"amount", "id"}, []string{"1.5", "1"}, []string{"NULL", "2"}),
		textBatch([]string{"amount", "id"}, []string{"-3", "3"})} {
		if err := ci.Write(ctx, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if got := rows(t, s, "SELECT COUNT(*) FROM t;"); got[0] != "0" {
		t.Errorf("rows visible before Commit: %s", got[0])
	}
	n, err := ci.Commit(ctx)
	if err != nil || n != 3 {
		t.Fatalf("commit: %d %v", n, err)
	}
	if got := strings.Join(rows(t, s, "SELECT id, amount, note FROM t ORDER BY id;"), ";"); got != "1|1.50|NULL;2|NULL|NULL;3|-3.00|NULL" {
		t.Errorf("rows: %s", got)
	}
	// A bad value names its row and column; after Abort nothing is added.
	ci, err = s.BeginCopyIn(ctx, "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := textBatch([]string{"id", "amount", "note"}, []string{"4", "1", "a"}, []string{"5", "x", "b"})
	err = ci.Write(ctx, rec)
	rec.Release()
	var re *CopyRowError
	if !errors.As(err, &re) || re.Row != 1 || re.Column != "amount" || re.Code != "22P02" || CopyErrorCode(err) != "22P02" {
		t.Errorf("bad value: %v (%+v)", err, re)
	}
	ci.Abort(ctx)
	if got := rows(t, s, "SELECT COUNT(*) FROM t;"); got[0] != "3" {
		t.Errorf("rows after Abort: %s", got[0])
	}
	// NOT NULL, and what cannot be copied into.
	ci, err = s.BeginCopyIn(ctx, "t", []string{"note"})
	if err != nil {
		t.Fatal(err)
	}
	rec = textBatch([]string{"note"}, []string{"z"})
	err = ci.Write(ctx, rec)
	rec.Release()
	if !errors.As(err, &re) || re.Code != "23502" || re.Column != "id" || re.Row != 0 {
		t.Errorf("not null: %v", err)
	}
	ci.Abort(ctx)
	mustExec(t, s, "CREATE VIEW v AS SELECT id FROM t;")
	for name, code := range map[string]string{"nope": "42P01", "v": "42809"} {
		if _, err := s.BeginCopyIn(ctx, name, nil); CopyErrorCode(err) != code {
			t.Errorf("%s: %v, want %s", name, err, code)
		}
	}
	if _, err := s.BeginCopyIn(ctx, "t", []string{"id", "id"}); CopyErrorCode(err) != "42701" {
		t.Errorf("twice: %v", err)
	}
	if _, err := s.BeginCopyIn(ctx, "t", []string{"idd"}); CopyErrorCode(err) != "42703" {
		t.Errorf("unknown column: %v", err)
	}
}
