package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestServePushIntoStream pushes rows over the wire into the file stream a
// running pipeline (START PIPELINE) reads: an INSERT with parameters and a
// COPY FROM STDIN (pgx CopyFrom, binary), each consumed exactly once.
func TestServePushIntoStream(t *testing.T) {
	dir := t.TempDir()
	g := startGateway(t, filepath.Join(dir, "data"))
	defer g.stop(t)
	conn := g.connect(t)
	ctx := context.Background()
	mustExec(t, conn, fmt.Sprintf(`CREATE STREAM ev (id BIGINT, amount BIGINT) WITH (connector = 'file', path = '%[1]s/in/', format = 'json')`, dir))
	mustExec(t, conn, fmt.Sprintf(`CREATE SINK ev_out (id BIGINT, amount BIGINT) WITH (path = '%[1]s/out/', format = 'csv', header = 'false')`, dir))
	mustExec(t, conn, `CREATE PIPELINE p WITH (checkpoint_interval = '50ms') AS INSERT INTO ev_out SELECT id, amount * 2 FROM STREAM ev`)
	mustExec(t, conn, `START PIPELINE p`)

	tag, err := conn.Exec(ctx, "INSERT INTO ev VALUES ($1, $2), ($3, $4)", int64(1), int64(10), int64(2), int64(20))
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "INSERT 0 2" {
		t.Errorf("tag %q", tag.String())
	}
	waitRowsOut(t, conn, "p", 2)

	n, err := conn.CopyFrom(ctx, pgx.Identifier{"ev"}, []string{"id", "amount"},
		pgx.CopyFromRows([][]any{{int64(3), int64(30)}, {int64(4), nil}, {int64(5), int64(50)}}))
	if err != nil || n != 3 {
		t.Fatalf("CopyFrom: %d %v", n, err)
	}
	waitRowsOut(t, conn, "p", 5)

	// A bad value fails the INSERT; nothing reaches the pipeline.
	if _, err := conn.Exec(ctx, "INSERT INTO ev (id) SELECT CAST($1::text AS BIGINT)", "x"); err == nil {
		t.Fatal("a bad value was pushed")
	}
	mustExec(t, conn, "STOP PIPELINE p")
	if r, _ := readPipeline(t, conn, "p"); r.rowsIn != 5 || r.out != 5 {
		t.Errorf("after STOP: %+v", r)
	}
	got := evOut(ctx, t, conn)
	want := []string{"1|20", "2|40", "3|60", "4|NULL", "5|100"}
	if !slices.Equal(got, want) {
		t.Errorf("sink: %v, want %v", got, want)
	}
}

// evOut reads the push tests' sink ev_out as "id|amount" lines in id order.
func evOut(ctx context.Context, t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT id, amount FROM ev_out ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int64
		var amount *int64
		if err := rows.Scan(&id, &amount); err != nil {
			t.Fatal(err)
		}
		if amount == nil {
			got = append(got, fmt.Sprintf("%d|NULL", id))
		} else {
			got = append(got, fmt.Sprintf("%d|%d", id, *amount))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}
