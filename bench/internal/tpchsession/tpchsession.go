// Package tpchsession opens an etlc engine over cmd/tpchgen's TPC-H
// Parquet files, for the bench programs that run the queries in process
// (cmd/tpchbench's etlc child and cmd/tpchcpu).
package tpchsession

import (
	"context"
	"os"
	"path/filepath"

	"github.com/etlc/etlc/cmd/tpchgen/tpch"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// Open starts an engine with the given threads in a fresh temporary data
// directory, declares the eight tables as sources over data/parquet/ (data
// being cmd/tpchgen's directory) and returns a session on it; close
// closes the session and the engine and removes the temporary directory.
func Open(ctx context.Context, data string, threads int) (sess *session.Session, close func(), err error) {
	tmp, err := os.MkdirTemp("", "etlc-tpch-")
	if err != nil {
		return nil, nil, err
	}
	eng, err := session.Open(ctx, filepath.Join(tmp, "data"), session.Config{Threads: threads})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	sess = eng.NewSession(session.Options{})
	close = func() {
		sess.Close()
		eng.Close()
		os.RemoveAll(tmp)
	}
	run, err := sess.Exec(ctx, parser.NewSource("tpch_sources.sql", tpch.SourcesDDL(filepath.Join(data, "parquet"))), session.ExecOptions{})
	if err != nil {
		close()
		return nil, nil, err
	}
	run.Release()
	return sess, close, nil
}
