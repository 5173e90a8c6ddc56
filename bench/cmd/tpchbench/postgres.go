package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlc/etlc/cmd/tpchgen/tpch"
	"github.com/etlc/etlc/exec/slt/pgserver"
)

// tpchKeys are the primary keys TPC-H defines.
var tpchKeys = map[string]string{
	"region": "r_regionkey", "nation": "n_nationkey", "supplier": "s_suppkey", "customer": "c_custkey",
	"part": "p_partkey", "partsupp": "ps_partkey, ps_suppkey", "orders": "o_orderkey",
	"lineitem": "l_orderkey, l_linenumber",
}

// pg is a throwaway PostgreSQL server holding the TPC-H tables.
type pg struct {
	srv     *pgserver.Server
	conn    *pgx.Conn
	timeout time.Duration
}

// openPostgres starts a server, loads the .tbl files with COPY, adds the
// primary keys and analyzes.
func openPostgres(ctx context.Context, tbl string, threads int, timeout time.Duration, w io.Writer) (p *pg, err error) {
	workers := max(threads-1, 0)
	srv, err := pgserver.StartServer(ctx, "work_mem=256MB", "effective_cache_size=8GB", "shared_buffers=2GB",
		fmt.Sprintf("max_worker_processes=%d", workers+8), fmt.Sprintf("max_parallel_workers=%d", workers),
		fmt.Sprintf("max_parallel_workers_per_gather=%d", workers))
	if err != nil {
		return nil, err
	}
	p = &pg{srv: srv, timeout: timeout}
	defer func() {
		if err != nil {
			p.close(context.Background())
		}
	}()
	if err := p.connect(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	for _, tb := range tpch.Tables() {
		cols := strings.ReplaceAll(tb.Columns, "VARCHAR", "TEXT")
		if _, err := p.conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", tb.Name, cols)); err != nil {
			return nil, err
		}
		f, err := os.Open(filepath.Join(tbl, tb.Name+".tbl"))
		if err != nil {
			return nil, err
		}
		_, err = p.conn.PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20),
			fmt.Sprintf("COPY %s FROM STDIN (FORMAT text, DELIMITER '|')", tb.Name))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("COPY %s: %w", tb.Name, err)
		}
		if _, err := p.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD PRIMARY KEY (%s)", tb.Name, tpchKeys[tb.Name])); err != nil {
			return nil, err
		}
	}
	if _, err := p.conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "  postgres: loaded, keyed and analyzed in %s\n", time.Since(start).Round(time.Second))
	return p, nil
}

// connect opens the connection queries run on; the server ends a query
// that passes the time limit (statement_timeout), which keeps the
// connection usable.
func (p *pg) connect(ctx context.Context) (err error) {
	if p.conn, err = pgx.Connect(ctx, p.srv.DSN("")); err != nil {
		return err
	}
	_, err = p.conn.Exec(ctx, fmt.Sprintf("SET statement_timeout = %d", p.timeout.Milliseconds()))
	return err
}

// run runs one query and reads every row. The server enforces the time
// limit; ctx only guards against a server that does not answer.
func (p *pg) run(ctx context.Context, _ int, text string) error {
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout+time.Minute)
	defer cancel()
	if p.conn.IsClosed() {
		if err := p.connect(qctx); err != nil {
			return err
		}
	}
	rows, err := p.conn.Query(qctx, text, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

func (p *pg) close(ctx context.Context) error {
	if p.conn != nil {
		p.conn.Close(ctx)
	}
	return p.srv.Stop(ctx)
}
