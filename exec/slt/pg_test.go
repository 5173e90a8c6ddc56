package slt_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etlc/etlc/exec/slt"
	"github.com/etlc/etlc/exec/slt/pgserver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// corpusDir is the project's own sqllogictest corpus.
const corpusDir = "../../testdata/slt"

// engine is the name PostgreSQL answers to in skipif/onlyif lines.
const engine = "postgresql"

// rewriting reports whether -rewrite (datadriven's flag) was given: then
// the differential test writes PostgreSQL's results into the corpus files.
func rewriting() bool {
	f := flag.Lookup("rewrite")
	return f != nil && f.Value.String() == "true"
}

// TestPostgresDifferential runs every testdata/slt/*.slt file against a real
// PostgreSQL and requires every record that applies to PostgreSQL to pass:
// this keeps the corpus honest, since its expected results are PostgreSQL's
// except where a record is guarded as etlc-only. Each file runs in its own
// fresh database. With -rewrite, the expected values of the queries that
// ran are replaced by PostgreSQL's.
func TestPostgresDifferential(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.slt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no .slt files in %s", corpusDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := pgserver.Start(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	total := map[string]int{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".slt")
		t.Run(name, func(t *testing.T) {
			db := "slt_" + regexp.MustCompile(`[^a-z0-9_]`).ReplaceAllString(strings.ToLower(name), "_")
			if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
				t.Fatal(err)
			}
			conn, err := pgx.Connect(ctx, srv.DSN(db)+"&timezone=UTC")
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			counts := runFile(ctx, t, conn, path)
			for k, v := range counts {
				total[k] += v
			}
			t.Logf("%s: %d ran, %d skipped (not for %s)", name, counts["ran"], counts["skipped"], engine)
		})
	}
	t.Logf("corpus: %d records ran on PostgreSQL, %d skipped", total["ran"], total["skipped"])
}

// pgDB runs records on a PostgreSQL connection, with the simple query
// protocol (as psql does).
type pgDB struct {
	conn *pgx.Conn
}

var _ slt.DB = pgDB{}

// Exec implements slt.DB. A server error becomes its message alone, which
// is what error regexps are matched against.
func (db pgDB) Exec(ctx context.Context, sql string) error {
	_, err := db.conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return pgMessage(err)
}

// Query implements slt.DB.
func (db pgDB) Query(ctx context.Context, sql string) (*slt.Rows, error) {
	rows, err := db.conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, pgMessage(err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	out := &slt.Rows{Columns: len(fds)}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]any, len(raw))
		for i, b := range raw {
			v, err := pgValue(fds[i].DataTypeOID, b)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", fds[i].Name, err)
			}
			row[i] = v
		}
		out.Values = append(out.Values, row)
	}
	if err := rows.Err(); err != nil {
		return nil, pgMessage(err)
	}
	return out, nil
}

// pgMessage turns a server error into an error whose text is the server's
// message; other errors are returned as they are.
func pgMessage(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return errors.New(pgErr.Message)
	}
	return err
}

// runFile runs one file's records on conn and reports failures on t; with
// -rewrite it writes the values of the queries that ran into the file.
func runFile(ctx context.Context, t *testing.T, conn *pgx.Conn, path string) map[string]int {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := slt.Parse(path, strings.NewReader(string(src)))
	if err != nil {
		t.Fatal(err)
	}
	rep := slt.Run(ctx, f, pgDB{conn: conn}, slt.RunOptions{Engine: engine, Timeout: 30 * time.Second})
	results := map[int][]string{}
	for _, res := range rep.Results {
		if rewriting() {
			if res.Values != nil {
				results[res.Index] = slt.ResultLines(res.Values, res.Threshold)
				continue
			}
		}
		if res.Outcome == slt.Failed {
			t.Errorf("%s: %v\n%s", f.Pos(res.Record.Line), res.Err, res.Record.SQL)
		}
	}
	if rewriting() && len(results) > 0 {
		out := slt.RewriteResults(string(src), f, results)
		if out != string(src) {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("rewrote %s", path)
		}
	}
	return map[string]int{"ran": rep.Ran(), "skipped": rep.Skipped}
}

// PostgreSQL type OIDs whose text needs converting.
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidFloat4  = 700
	oidFloat8  = 701
	oidNumeric = 1700
)

// pgValue turns PostgreSQL's text for a value of type oid into the Go
// value slt.FormatValue expects; nil is NULL. Dates and timestamps stay in
// PostgreSQL's ISO text, which is the format's own.
func pgValue(oid uint32, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	s := string(b)
	switch oid {
	case oidBool:
		return s == "t", nil
	case oidInt2, oidInt4, oidInt8:
		return strconv.ParseInt(s, 10, 64)
	case oidFloat4, oidFloat8:
		return strconv.ParseFloat(s, 64)
	case oidNumeric:
		return slt.Numeric(s), nil
	}
	return s, nil
}
