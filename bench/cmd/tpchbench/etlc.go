package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/etlc/etlc/bench/internal/tpchsession"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

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
	sess, closeSession, err := tpchsession.Open(ctx, o.data, o.threads)
	if err != nil {
		return err
	}
	defer closeSession()
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
