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
//   - a join of two streams needs a time bound (binder.go, bindJoin), and
//     is an inner join;
//   - the only window function over a stream is deduplication, the first
//     row of each key by event time: ROW_NUMBER() OVER (PARTITION BY k
//     ORDER BY ts) in a subquery whose rows the query keeps WHERE rn = 1,
//     ordered by the column of the stream's watermark, in a pipeline WITH
//     (state_ttl = '...') that bounds how long a key is remembered;
//   - SELECT DISTINCT over a stream remembers every row it wrote: it too
//     needs a pipeline WITH (state_ttl = '...').

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

// checkStreamWindow checks the window functions of w (called at pos) when
// w reads a stream: see the file comment.
func (b *binder) checkStreamWindow(w *Window, pos []int) {
	streams := streamScans(w.Input)
	if len(streams) == 0 {
		return
	}
	obj := streams[0].Object
	at := func(i int) int {
		if i < len(pos) {
			return pos[i]
		}
		return 0
	}
	hint := "deduplicate with ROW_NUMBER() OVER (PARTITION BY key ORDER BY ts) AS rn in a subquery, and keep WHERE rn = 1"
	for i, f := range w.Funcs {
		if f.Fn.Name != "row_number" {
			b.errorf(at(i), parser.CodeFeature, hint,
				"window function %s over stream %q: the only window function over a stream is ROW_NUMBER() for deduplication", f.Fn.Name, obj.Name)
			return
		}
		if i > 0 {
			b.errorf(at(i), parser.CodeFeature, hint, "one ROW_NUMBER() per query over stream %q", obj.Name)
			return
		}
		wm := obj.Watermark
		switch {
		case len(f.OrderBy) != 1 || f.OrderBy[0].Desc:
			col := "ts"
			if wm != nil {
				col = wm.Column
			}
			b.errorf(at(i), parser.CodeFeature, fmt.Sprintf("ORDER BY %s (ascending): a stream's first row of a key is final once the watermark passes it; its last row never is", col),
				"deduplication over stream %q keeps the first row of each key by event time", obj.Name)
			return
		case wm == nil:
			b.errorf(at(i), parser.CodeFeature,
				fmt.Sprintf("declare the event time of %s: CREATE STREAM %s (..., WATERMARK FOR ts AS ts - INTERVAL '5 seconds')", obj.Name, obj.Name),
				"deduplication over stream %q, which has no watermark: no row would ever be known to be the first", obj.Name)
			return
		}
		if r, ok := f.OrderBy[0].Expr.(*ColRef); !ok || !strings.EqualFold(r.Name, wm.Column) || len(streams) > 1 {
			b.errorf(b.posOf(f.OrderBy[0].Expr, at(i)), parser.CodeFeature,
				fmt.Sprintf("ORDER BY %s, the event time the watermark of %s tracks", wm.Column, obj.Name),
				"deduplication over stream %q orders by %s, not by its event time %s", obj.Name, colPos.ReplaceAllString(f.OrderBy[0].Expr.String(), ""), wm.Column)
			return
		}
	}
	switch opts := b.pipelineOpts; {
	case opts == nil:
		b.errorf(at(0), parser.CodeFeature, "run it in a pipeline WITH (state_ttl = '1 hour')",
			"deduplication over stream %q remembers every key for ever", obj.Name)
		return
	case opts["state_ttl"] == "":
		b.errorf(at(0), parser.CodeFeature, "add state_ttl = '1 hour' (how long a key is remembered after its latest row) to the pipeline's WITH options",
			"deduplication over stream %q needs a state_ttl", obj.Name)
		return
	}
	if b.streamWins == nil {
		b.streamWins = map[*Window]int{}
	}
	b.streamWins[w] = at(0)
}

// checkStreamDistinct checks a DISTINCT (at pos) over a stream.
func (b *binder) checkStreamDistinct(d Node, pos int) {
	streams := streamScans(d)
	if len(streams) == 0 {
		return
	}
	switch opts := b.pipelineOpts; {
	case opts == nil:
		b.errorf(pos, parser.CodeFeature, "run it in a pipeline WITH (state_ttl = '1 hour')",
			"SELECT DISTINCT over stream %q remembers every row for ever", streams[0].Object.Name)
	case opts["state_ttl"] == "":
		b.errorf(pos, parser.CodeFeature, "add state_ttl = '1 hour' (how long a row is remembered after it was last seen) to the pipeline's WITH options",
			"SELECT DISTINCT over stream %q needs a state_ttl", streams[0].Object.Name)
	}
}

// checkStreamDedup checks that the rows of every ROW_NUMBER() over a
// stream in plan are kept only WHERE rn = 1 (deduplication): other row
// numbers are never final.
func (b *binder) checkStreamDedup(plan Node) {
	if len(b.streamWins) == 0 {
		return
	}
	kept := map[*Window]bool{}
	var walk func(Node)
	walk = func(n Node) {
		if f, ok := n.(*Filter); ok {
			for _, c := range conjuncts(f.Cond) {
				if col, ok := firstRowCond(c); ok {
					if w := windowOfColumn(f.Input, col); w != nil {
						kept[w] = true
					}
				}
			}
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(plan)
	for w, pos := range b.streamWins {
		if !kept[w] {
			b.errorf(pos, parser.CodeFeature, "keep only the first row of each key: WHERE rn = 1 in the query around the subquery",
				"ROW_NUMBER() over stream %q without WHERE rn = 1: only deduplication is supported over a stream", streamScans(w.Input)[0].Object.Name)
		}
		delete(b.streamWins, w)
	}
}

// conjuncts splits a condition at AND.
func conjuncts(e Expr) []Expr {
	if c, ok := e.(*Call); ok && c.Name == "and" {
		var out []Expr
		for _, a := range c.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []Expr{e}
}

// firstRowCond reports whether c is col = 1, col <= 1 or col < 2 (either
// way round), and returns the column.
func firstRowCond(c Expr) (int, bool) {
	call, ok := c.(*Call)
	if !ok || len(call.Args) != 2 {
		return 0, false
	}
	name, x, y := call.Name, call.Args[0], call.Args[1]
	if _, ok := x.(*Const); ok {
		x, y = y, x
		name = map[string]string{"eq": "eq", "le": "ge", "lt": "gt", "ge": "le", "gt": "lt"}[name]
	}
	r, ok := x.(*ColRef)
	k, ok2 := y.(*Const)
	if !ok || !ok2 {
		return 0, false
	}
	var v int64
	switch n := k.Value.(type) {
	case int64:
		v = n
	case int32:
		v = int64(n)
	case int:
		v = int64(n)
	default:
		return 0, false
	}
	if name == "eq" && v == 1 || name == "le" && v == 1 || name == "lt" && v == 2 {
		return r.Index, true
	}
	return 0, false
}

// windowOfColumn follows column col of n down through projections and
// filters to the ROW_NUMBER() column of a Window, and returns the Window.
func windowOfColumn(n Node, col int) *Window {
	for {
		switch x := n.(type) {
		case *Window:
			if col == len(x.Input.Schema()) && len(x.Funcs) == 1 {
				return x
			}
			return nil
		case *Project:
			r, ok := x.Exprs[col].(*ColRef)
			if !ok {
				return nil
			}
			n, col = x.Input, r.Index
		case *Filter:
			n = x.Input
		case *CTERef:
			n = x.Plan
		default:
			return nil
		}
	}
}
