package planner

import (
	"fmt"
	"strings"

	"github.com/etlc/etlc/parser"
)

// This file holds the compile-time checks that keep a streaming query's
// state bounded (DIALECT.md, "compile rejects unbounded state"):
//
//   - a group window (TUMBLE, HOP, SESSION) over a stream needs the
//     stream's watermark, on the column the window is over: without it no
//     window is ever final and none is ever emitted or forgotten;
//   - an aggregation over a stream without a group window keeps one state
//     per group for ever: it is allowed only in a pipeline WITH (emit =
//     'update', state_ttl = '...'), which emits running results and
//     forgets a group after state_ttl without rows;
//   - a join of two streams needs a time bound (binder.go, bindJoin).

// streamScans returns the scans of a plan that read a stream (FROM STREAM).
func streamScans(n Node) []*Scan {
	if s, ok := n.(*Scan); ok {
		if s.Stream {
			return []*Scan{s}
		}
		return nil
	}
	var out []*Scan
	for _, c := range n.Children() {
		out = append(out, streamScans(c)...)
	}
	return out
}

// checkStreamAggregate checks an aggregation of input (with group window
// win, nil for none) at pos: see the file comment.
func (b *binder) checkStreamAggregate(input Node, win *WindowSpec, winName string, pos int) {
	streams := streamScans(input)
	if len(streams) == 0 {
		return
	}
	if win != nil {
		for _, s := range streams {
			wm := s.Object.Watermark
			if wm == nil {
				b.errorf(pos, parser.CodeFeature,
					fmt.Sprintf("declare the event time of %s: CREATE STREAM %s (..., WATERMARK FOR ts AS ts - INTERVAL '5 seconds')", s.Object.Name, s.Object.Name),
					"%s window over stream %q, which has no watermark: no window would ever be complete", winName, s.Object.Name)
				continue
			}
			if r, ok := win.Time.(*ColRef); ok && len(streams) == 1 && !strings.EqualFold(r.Name, wm.Column) {
				b.errorf(b.posOf(win.Time, pos), parser.CodeFeature,
					fmt.Sprintf("window over %s, the event time the watermark of %s tracks", wm.Column, s.Object.Name),
					"%s window over %s, but the watermark of stream %q is on %s", winName, r.Name, s.Object.Name, wm.Column)
			}
		}
		return
	}
	opts := b.pipelineOpts
	switch {
	case opts == nil:
		b.errorf(pos, parser.CodeFeature,
			"group by a window (TUMBLE, HOP or SESSION), or run it in a pipeline WITH (emit = 'update', state_ttl = '1 hour')",
			"an aggregation over stream %q without a window keeps state for every group for ever", streams[0].Object.Name)
	case opts["emit"] != "update" && opts["state_ttl"] == "":
		b.errorf(pos, parser.CodeFeature,
			"group by a window (TUMBLE, HOP or SESSION), or add WITH (emit = 'update', state_ttl = '1 hour') to the pipeline",
			"an aggregation over stream %q without a window needs emit = 'update' and a state_ttl", streams[0].Object.Name)
	case opts["emit"] != "update":
		b.errorf(pos, parser.CodeFeature, "add emit = 'update' to the pipeline's WITH options: its groups are never final",
			"an aggregation over stream %q without a window needs emit = 'update'", streams[0].Object.Name)
	case opts["state_ttl"] == "":
		b.errorf(pos, parser.CodeFeature, "add state_ttl = '1 hour' (how long a group is kept without rows) to the pipeline's WITH options",
			"an aggregation over stream %q without a window needs a state_ttl", streams[0].Object.Name)
	}
}
