package pgwire

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkStreamRows streams a 200,000-row result of a BIGINT, a DOUBLE
// and a VARCHAR column to pgx in binary (extended protocol) and in text
// (simple protocol); it reports rows per second.
func BenchmarkStreamRows(b *testing.B) {
	ts := startServer(b, Config{})
	conn := ts.connect(b)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE g (x BIGINT)"); err != nil {
		b.Fatal(err)
	}
	vals := "INSERT INTO g VALUES (0)"
	for i := 1; i < 1000; i++ {
		vals += ",(" + itoa(int64(i)) + ")"
	}
	if _, err := conn.Exec(ctx, vals); err != nil {
		b.Fatal(err)
	}
	const q = "SELECT a.x * 1000 + b.x AS id, CAST(a.x AS DOUBLE) / 3 AS f, 'name' || CAST(b.x AS VARCHAR) AS s FROM g a, g b WHERE a.x < 200"
	for _, c := range []struct {
		name string
		mode pgx.QueryExecMode
	}{{"binary", pgx.QueryExecModeCacheStatement}, {"text", pgx.QueryExecModeSimpleProtocol}} {
		b.Run(c.name, func(b *testing.B) {
			var rows int64
			for b.Loop() {
				rs, err := conn.Query(ctx, q, c.mode)
				if err != nil {
					b.Fatal(err)
				}
				for rs.Next() {
					var id int64
					var f float64
					var s string
					if err := rs.Scan(&id, &f, &s); err != nil {
						b.Fatal(err)
					}
					rows++
				}
				if err := rs.Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
