package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TestServePushIntoKafkaStream pushes rows over the wire into a Kafka
// stream (an in-process kfake cluster) that a running pipeline reads: an
// INSERT with parameters, a COPY FROM STDIN (pgx CopyFrom), a transaction
// block committed and one rolled back, and a COPY of 10,000 rows whose
// last row is refused after thousands were produced. The pipeline's sink
// holds exactly the committed rows: nothing of the rolled back block nor
// of the failed COPY.
func TestServePushIntoKafkaStream(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "ev"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	g := startGateway(t, filepath.Join(dir, "data"))
	defer g.stop(t)
	conn := g.connect(t)
	ctx := context.Background()
	mustExec(t, conn, fmt.Sprintf(`CREATE STREAM ev (id BIGINT NOT NULL, amount BIGINT) WITH (connector = 'kafka', bootstrap_servers = '%s', topic = 'ev', format = 'json', key = 'id')`,
		strings.Join(c.ListenAddrs(), ",")))
	mustExec(t, conn, fmt.Sprintf(`CREATE SINK ev_out (id BIGINT, amount BIGINT) WITH (path = '%s/out/', format = 'csv', header = 'false')`, dir))
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

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO ev VALUES (6, 60)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"INSERT INTO ev VALUES (7, 70)", "INSERT INTO ev SELECT 8, 80"} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitRowsOut(t, conn, "p", 7)

	// Rows 100..10099, the last one NULL in a NOT NULL column: the COPY
	// fails after its first batches went to Kafka, uncommitted.
	var bad [][]any
	for i := 0; i < 10_000; i++ {
		bad = append(bad, []any{int64(100 + i), int64(1)})
	}
	bad[len(bad)-1][0] = nil
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"ev"}, []string{"id", "amount"}, pgx.CopyFromRows(bad)); err == nil ||
		!strings.Contains(err.Error(), "23502") {
		t.Fatalf("the COPY with a NULL id: %v", err)
	}
	// One partition: the pipeline reads this row after the failed COPY's.
	mustExec(t, conn, "INSERT INTO ev VALUES (9, 90)")
	waitRowsOut(t, conn, "p", 8)
	mustExec(t, conn, "STOP PIPELINE p")
	if r, _ := readPipeline(t, conn, "p"); r.rowsIn != 8 || r.out != 8 {
		t.Errorf("after STOP: %+v", r)
	}
	got := evOut(ctx, t, conn)
	want := []string{"1|20", "2|40", "3|60", "4|NULL", "5|100", "7|140", "8|160", "9|180"}
	if !slices.Equal(got, want) {
		t.Errorf("sink: %v, want %v", got, want)
	}
}
