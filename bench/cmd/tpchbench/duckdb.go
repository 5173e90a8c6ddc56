package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/etlc/etlc/cmd/tpchgen/tpch"
)

// duck is an in-memory DuckDB database with a view per TPC-H table over
// the Parquet files etlc reads.
type duck struct {
	db   *sql.DB
	conn *sql.Conn
}

// openDuck opens DuckDB limited to threads threads.
func openDuck(ctx context.Context, parquet string, threads int) (*duck, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx) // one connection: settings and views stay
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &duck{db: db, conn: conn}
	stmts := []string{fmt.Sprintf("SET threads = %d", threads)}
	for _, tb := range tpch.Tables() {
		glob := filepath.Join(parquet, tb.Name, "*.parquet")
		stmts = append(stmts, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet('%s')", tb.Name, glob))
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			d.close()
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return d, nil
}

// run runs one query and reads every row.
func (d *duck) run(ctx context.Context, _ int, text string) error {
	return drain(d.conn.QueryContext(ctx, text))
}

func (d *duck) close() {
	d.conn.Close()
	d.db.Close()
}

// drain reads every row of rows (values as raw bytes) and closes it.
func drain(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	for i := range vals {
		vals[i] = new(any)
	}
	for rows.Next() {
		if err := rows.Scan(vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}
