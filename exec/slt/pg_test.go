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

// runFile runs one file's records on conn and reports failures on t.
func runFile(ctx context.Context, t *testing.T, conn *pgx.Conn, path string) map[string]int {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := slt.Parse(path, strings.NewReader(string(src)))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	results := map[int][]string{}
	threshold := 0
records:
	for i := range f.Records {
		r := &f.Records[i]
		if !r.Applies(engine) {
			if r.Kind == slt.Statement || r.Kind == slt.Query {
				counts["skipped"]++
			}
			continue
		}
		pos := f.Pos(r.Line)
		switch r.Kind {
		case slt.HashThreshold:
			threshold = r.Threshold
			continue
		case slt.Halt:
			break records
		}
		counts["ran"]++
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		switch r.Kind {
		case slt.Statement:
			_, err := conn.Exec(rctx, r.SQL, pgx.QueryExecModeSimpleProtocol)
			checkError(t, pos, r, err)
		case slt.Query:
			values, err := runQuery(rctx, conn, r)
			if err != nil {
				t.Errorf("%s: query failed: %v\n%s", pos, err, r.SQL)
				break
			}
			if rewriting() {
				results[i] = slt.ResultLines(values, threshold)
				break
			}
			if err := r.Check(values); err != nil {
				t.Errorf("%s: %v%s", pos, err, r.SQL)
			}
		}
		cancel()
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
	return counts
}

// checkError checks the outcome of a statement against its record.
func checkError(t *testing.T, pos string, r *slt.Record, err error) {
	t.Helper()
	switch {
	case !r.ExpectError && err != nil:
		t.Errorf("%s: statement failed: %v\n%s", pos, err, r.SQL)
	case r.ExpectError && err == nil:
		t.Errorf("%s: statement succeeded, want an error matching %q\n%s", pos, r.ErrorPattern, r.SQL)
	case r.ExpectError && r.ErrorRegexp != nil:
		msg := err.Error()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			msg = pgErr.Message
		}
		if !r.ErrorRegexp.MatchString(msg) {
			t.Errorf("%s: error %q does not match %q\n%s", pos, msg, r.ErrorPattern, r.SQL)
		}
	}
}

// runQuery runs a query record and returns its values, formatted and
// sorted as the record says.
func runQuery(ctx context.Context, conn *pgx.Conn, r *slt.Record) ([]string, error) {
	rows, err := conn.Query(ctx, r.SQL, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != len(r.Types) {
		return nil, fmt.Errorf("query returns %d columns, the record declares %d (%s)", len(fds), len(r.Types), r.Types)
	}
	var table [][]any
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
		table = append(table, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	formatted, err := slt.FormatRows(r.Types, table)
	if err != nil {
		return nil, err
	}
	return slt.SortValues(r.Sort, formatted), nil
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
