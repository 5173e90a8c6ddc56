package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etlc/etlc/exec/slt/pgserver"
	"github.com/jackc/pgx/v5"
)

// TestTPCHOnPostgres loads generated .tbl files into a throwaway PostgreSQL
// and checks TPC-H query results against the reference answers. It is
// manual, because it needs SF1 data (about 1 GB) and a few minutes:
//
//	go run ./cmd/tpchgen -sf 1 -out ~/.cache/etlc/tpch/sf1 -format tbl
//	ETLC_TPCH_PG=1 go test ./cmd/tpchgen -run TestTPCHOnPostgres -v -timeout 30m
//
// ETLC_TPCH_DIR overrides the data directory (default
// ${ETLC_CACHE:-$HOME/.cache/etlc}/tpch/sf1), ETLC_TPCH_QUERIES the query
// numbers (default "1,6"), and ETLC_SHARED the directory holding
// tpch/queries and tpch/answers/sf1 (default: the repository's testdata).
func TestTPCHOnPostgres(t *testing.T) {
	if os.Getenv("ETLC_TPCH_PG") == "" {
		t.Skip("manual: set ETLC_TPCH_PG=1 (needs SF1 data from go run ./cmd/tpchgen)")
	}
	dir := os.Getenv("ETLC_TPCH_DIR")
	if dir == "" {
		dir = filepath.Join(defaultCacheDir(), "tpch", "sf1")
	}
	tblDir := filepath.Join(dir, "tbl")
	if _, ok := readMarker(tblDir, 1); !ok {
		t.Fatalf("no complete SF1 .tbl data in %s: run go run ./cmd/tpchgen -sf 1 -out %s -format tbl", tblDir, dir)
	}
	shared := os.Getenv("ETLC_SHARED")
	if shared == "" {
		shared = "../../testdata" // testdata/tpch of the repository
	}
	queries := os.Getenv("ETLC_TPCH_QUERIES")
	if queries == "" {
		queries = "1,6"
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	srv, err := pgserver.Start(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, spec := range tpchTables() {
		start := time.Now()
		n, err := loadTable(ctx, conn, spec, filepath.Join(tblDir, spec.name+".tbl"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("loaded %-9s %8d rows in %s", spec.name, n, time.Since(start).Round(time.Millisecond))
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for _, q := range strings.Split(queries, ",") {
		num, err := strconv.Atoi(strings.TrimSpace(q))
		if err != nil {
			t.Fatalf("ETLC_TPCH_QUERIES: %q is not a number", q)
		}
		name := fmt.Sprintf("q%02d", num)
		t.Run(name, func(t *testing.T) {
			sql, err := os.ReadFile(filepath.Join(shared, "tpch", "queries", name+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := readAnswer(filepath.Join(shared, "tpch", "answers", "sf1", name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := queryText(ctx, conn, string(sql))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d rows in %s", name, len(got), time.Since(start).Round(time.Millisecond))
			if err := compareAnswer(got, want); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		})
	}
}

// sqlType is the PostgreSQL type of a column kind.
func (k colKind) sqlType() string {
	switch k {
	case kindBigint:
		return "BIGINT"
	case kindInt:
		return "INT"
	case kindDecimal:
		return "DECIMAL(15,2)"
	case kindDate:
		return "DATE"
	}
	return "VARCHAR"
}

// loadTable creates spec's table and copies the .tbl file into it.
func loadTable(ctx context.Context, conn *pgx.Conn, spec tableSpec, path string) (int64, error) {
	cols := make([]string, len(spec.cols))
	for i, c := range spec.cols {
		cols[i] = c.name + " " + c.kind.sqlType() + " NOT NULL"
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", spec.name, strings.Join(cols, ", "))); err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	tag, err := conn.PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20),
		fmt.Sprintf("COPY %s FROM STDIN (FORMAT text, DELIMITER '|')", spec.name))
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", path, err)
	}
	return tag.RowsAffected(), nil
}

// queryText runs sql and returns every value as PostgreSQL's text.
func queryText(ctx context.Context, conn *pgx.Conn, sql string) ([][]string, error) {
	rows, err := conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			row[i] = string(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// readAnswer reads a '|'-delimited answer file without its header line.
func readAnswer(path string) ([][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var out [][]string
	for _, l := range lines[1:] {
		out = append(out, strings.Split(l, "|"))
	}
	return out, nil
}

// compareAnswer checks row count, order, numbers within 0.01 relative and
// text equal after trimming trailing blanks.
func compareAnswer(got, want [][]string) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Errorf("row %d: %d columns, want %d", i+1, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			g, w := got[i][j], want[i][j]
			gf, gerr := strconv.ParseFloat(g, 64)
			wf, werr := strconv.ParseFloat(w, 64)
			if gerr == nil && werr == nil {
				if diff := math.Abs(gf - wf); diff > 0.01*math.Abs(wf) && diff > 1e-9 {
					return fmt.Errorf("row %d column %d: %s, want %s", i+1, j+1, g, w)
				}
				continue
			}
			if strings.TrimRight(g, " ") != strings.TrimRight(w, " ") {
				return fmt.Errorf("row %d column %d: %q, want %q", i+1, j+1, g, w)
			}
		}
	}
	return nil
}
