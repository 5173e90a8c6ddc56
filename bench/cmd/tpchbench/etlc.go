package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// tpchColumns declares the eight tables as cmd/tpchgen writes them.
var tpchColumns = []struct{ name, columns string }{
	{"region", "r_regionkey BIGINT NOT NULL, r_name VARCHAR NOT NULL, r_comment VARCHAR NOT NULL"},
	{"nation", "n_nationkey BIGINT NOT NULL, n_name VARCHAR NOT NULL, n_regionkey BIGINT NOT NULL, n_comment VARCHAR NOT NULL"},
	{"supplier", "s_suppkey BIGINT NOT NULL, s_name VARCHAR NOT NULL, s_address VARCHAR NOT NULL, s_nationkey BIGINT NOT NULL, " +
		"s_phone VARCHAR NOT NULL, s_acctbal DECIMAL(15,2) NOT NULL, s_comment VARCHAR NOT NULL"},
	{"customer", "c_custkey BIGINT NOT NULL, c_name VARCHAR NOT NULL, c_address VARCHAR NOT NULL, c_nationkey BIGINT NOT NULL, " +
		"c_phone VARCHAR NOT NULL, c_acctbal DECIMAL(15,2) NOT NULL, c_mktsegment VARCHAR NOT NULL, c_comment VARCHAR NOT NULL"},
	{"part", "p_partkey BIGINT NOT NULL, p_name VARCHAR NOT NULL, p_mfgr VARCHAR NOT NULL, p_brand VARCHAR NOT NULL, " +
		"p_type VARCHAR NOT NULL, p_size INT NOT NULL, p_container VARCHAR NOT NULL, p_retailprice DECIMAL(15,2) NOT NULL, " +
		"p_comment VARCHAR NOT NULL"},
	{"partsupp", "ps_partkey BIGINT NOT NULL, ps_suppkey BIGINT NOT NULL, ps_availqty INT NOT NULL, " +
		"ps_supplycost DECIMAL(15,2) NOT NULL, ps_comment VARCHAR NOT NULL"},
	{"orders", "o_orderkey BIGINT NOT NULL, o_custkey BIGINT NOT NULL, o_orderstatus VARCHAR NOT NULL, " +
		"o_totalprice DECIMAL(15,2) NOT NULL, o_orderdate DATE NOT NULL, o_orderpriority VARCHAR NOT NULL, " +
		"o_clerk VARCHAR NOT NULL, o_shippriority INT NOT NULL, o_comment VARCHAR NOT NULL"},
	{"lineitem", "l_orderkey BIGINT NOT NULL, l_partkey BIGINT NOT NULL, l_suppkey BIGINT NOT NULL, l_linenumber INT NOT NULL, " +
		"l_quantity DECIMAL(15,2) NOT NULL, l_extendedprice DECIMAL(15,2) NOT NULL, l_discount DECIMAL(15,2) NOT NULL, " +
		"l_tax DECIMAL(15,2) NOT NULL, l_returnflag VARCHAR NOT NULL, l_linestatus VARCHAR NOT NULL, " +
		"l_shipdate DATE NOT NULL, l_commitdate DATE NOT NULL, l_receiptdate DATE NOT NULL, " +
		"l_shipinstruct VARCHAR NOT NULL, l_shipmode VARCHAR NOT NULL, l_comment VARCHAR NOT NULL"},
}

// runChild runs query q on etlc in a child process and adds the child's
// peak resident set size to its timing.
func runChild(ctx context.Context, self string, o options, q int) timing {
	// The child bounds each run; this bounds the child (start-up included).
	limit := time.Duration(o.runs+1)*o.timeout + time.Minute
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(cctx, self, "-child", strconv.Itoa(q), "-sf", strconv.Itoa(o.sf),
		"-threads", strconv.Itoa(o.threads), "-runs", strconv.Itoa(o.runs), "-timeout", o.timeout.String(),
		"-data", o.data, "-repo", o.repo)
	if o.cpuprofile != "" {
		prof := o.cpuprofile
		if len(o.queries) > 1 {
			prof += fmt.Sprintf(".q%d", q)
		}
		cmd.Args = append(cmd.Args, "-cpuprofile", prof)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if cctx.Err() == context.DeadlineExceeded {
		return timing{Timeout: true, RSS: rss}
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return timing{Err: msg, RSS: rss}
	}
	t, err := decodeChild(stdout.Bytes())
	if err != nil {
		return timing{Err: err.Error(), RSS: rss}
	}
	t.RSS = rss
	return t
}

// childMain runs one query on etlc (warm-up and timed runs) and prints
// its timing as JSON.
func childMain(ctx context.Context, o options, w io.Writer) error {
	q := o.child
	text, err := queryText(o.repo, q)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tpchbench-etlc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	eng, err := session.Open(ctx, filepath.Join(tmp, "data"), session.Config{Threads: o.threads})
	if err != nil {
		return err
	}
	defer eng.Close()
	sess := eng.NewSession(session.Options{})
	defer sess.Close()
	var ddl strings.Builder
	for _, tb := range tpchColumns {
		fmt.Fprintf(&ddl, "CREATE SOURCE %s (%s) WITH (connector = 'file', path = '%s', format = 'parquet');\n",
			tb.name, tb.columns, filepath.Join(o.data, "parquet", tb.name)+string(filepath.Separator))
	}
	if run, err := sess.Exec(ctx, parser.NewSource("tpch_sources.sql", ddl.String()), session.ExecOptions{}); err != nil {
		return err
	} else {
		run.Release()
	}
	name := fmt.Sprintf("q%02d.sql", q)
	calls := 0
	var prof *os.File
	t := measure(ctx, func(ctx context.Context, q int, text string) error {
		calls++
		if calls == 2 && o.cpuprofile != "" {
			// The warm-up is done: profile the timed runs only.
			f, err := os.Create(o.cpuprofile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return err
			}
			prof = f
		}
		run, err := sess.Exec(ctx, parser.NewSource(name, text), session.ExecOptions{})
		run.Release()
		return err
	}, q, text, o.runs, o.timeout)
	if prof != nil {
		pprof.StopCPUProfile()
		if err := prof.Close(); err != nil {
			return err
		}
	}
	return json.NewEncoder(w).Encode(t)
}
