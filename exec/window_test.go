package exec

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// refFrame is a frame for the reference: offsets as integers.
type refFrame struct {
	mode       FrameMode
	start, end BoundKind
	so, eo     int64
}

func constEval(v any, dt arrow.DataType) expr2 {
	return funcEval{dt: dt, f: func([]any) any { return v }}
}

func (f *refFrame) frame() *Frame {
	if f == nil {
		return nil
	}
	b := func(k BoundKind, o int64) FrameBound {
		fb := FrameBound{Kind: k}
		if k == Preceding || k == Following {
			fb.Offset = constEval(o, tInt64)
		}
		return fb
	}
	return &Frame{Mode: f.mode, Start: b(f.start, f.so), End: b(f.end, f.eo)}
}

// refWinFunc computes one window function per row the slow way: partition,
// stable sort, and per row a scan for its frame.
func refWinFunc(rows [][]any, part int, order []refKey, fr *refFrame, fn string, arg int) []any {
	out := make([]any, len(rows))
	groups := map[string][]int{}
	var keys []string
	for i, r := range rows {
		k := "all"
		if part >= 0 {
			k = fmtValue(r[part])
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	cmpKey := func(a, b []any) int {
		for _, k := range order {
			x, y := a[k.col], b[k.col]
			var c int
			switch {
			case x == nil && y == nil:
			case x == nil:
				c = map[bool]int{true: -1, false: 1}[k.nullsFirst]
			case y == nil:
				c = map[bool]int{true: 1, false: -1}[k.nullsFirst]
			default:
				c = refCompare(x, y)
				if k.desc {
					c = -c
				}
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	for _, k := range keys {
		idx := slices.Clone(groups[k])
		slices.SortStableFunc(idx, func(a, b int) int { return cmpKey(rows[a], rows[b]) })
		n := len(idx)
		peer := func(a, b int) bool { return cmpKey(rows[idx[a]], rows[idx[b]]) == 0 }
		groupNo := make([]int, n)
		for p := 1; p < n; p++ {
			groupNo[p] = groupNo[p-1]
			if !peer(p-1, p) {
				groupNo[p]++
			}
		}
		// inFrame says whether position p is in the frame of position q.
		f := fr
		if f == nil {
			if len(order) == 0 {
				f = &refFrame{mode: FrameRows, start: UnboundedPreceding, end: UnboundedFollowing}
			} else {
				f = &refFrame{mode: FrameRange, start: UnboundedPreceding, end: CurrentRow}
			}
		}
		// rangeCmp compares position p's key with q's key shifted by d, in
		// sort order (NULL placed as sorted).
		rangeCmp := func(p, q int, d int64) int {
			ok := order[0]
			x, y := rows[idx[p]][ok.col], rows[idx[q]][ok.col]
			if ok.desc {
				d = -d
			}
			switch x.(type) {
			case nil:
				return map[bool]int{true: -1, false: 1}[ok.nullsFirst]
			}
			c := refCompare(x, y.(int64)+d)
			if ok.desc {
				c = -c
			}
			return c
		}
		inFrame := func(p, q int) bool {
			lower, upper := true, true
			switch f.mode {
			case FrameRows:
				lo := map[BoundKind]int{UnboundedPreceding: 0, Preceding: q - int(f.so), CurrentRow: q, Following: q + int(f.so)}[f.start]
				hi := map[BoundKind]int{UnboundedFollowing: n - 1, Preceding: q - int(f.eo), CurrentRow: q, Following: q + int(f.eo)}[f.end]
				return p >= lo && p <= hi
			case FrameGroups:
				g := groupNo[q]
				lo := map[BoundKind]int{UnboundedPreceding: 0, Preceding: g - int(f.so), CurrentRow: g, Following: g + int(f.so)}[f.start]
				hi := map[BoundKind]int{UnboundedFollowing: n, Preceding: g - int(f.eo), CurrentRow: g, Following: g + int(f.eo)}[f.end]
				return groupNo[p] >= lo && groupNo[p] <= hi
			}
			null := rows[idx[q]][order[0].col] == nil
			switch f.start {
			case CurrentRow:
				lower = groupNo[p] >= groupNo[q]
			case Preceding, Following:
				d := f.so
				if f.start == Preceding {
					d = -d
				}
				if null {
					lower = groupNo[p] >= groupNo[q]
				} else {
					// p is at or after the first position not before the bound.
					first := n
					for r := 0; r < n; r++ {
						if rangeCmp(r, q, d) >= 0 {
							first = r
							break
						}
					}
					lower = p >= first
				}
			}
			switch f.end {
			case CurrentRow:
				upper = groupNo[p] <= groupNo[q]
			case Preceding, Following:
				d := f.eo
				if f.end == Preceding {
					d = -d
				}
				if null {
					upper = groupNo[p] <= groupNo[q]
				} else {
					end := n
					for r := 0; r < n; r++ {
						if rangeCmp(r, q, d) > 0 {
							end = r
							break
						}
					}
					upper = p < end
				}
			}
			return lower && upper
		}
		for q := 0; q < n; q++ {
			row := idx[q]
			var frame []int
			for p := 0; p < n; p++ {
				if inFrame(p, q) {
					frame = append(frame, idx[p])
				}
			}
			firstPeer := q
			for firstPeer > 0 && peer(firstPeer-1, q) {
				firstPeer--
			}
			lastPeer := q
			for lastPeer < n-1 && peer(lastPeer+1, q) {
				lastPeer++
			}
			var vals []any
			for _, r := range frame {
				if rows[r][arg] != nil {
					vals = append(vals, rows[r][arg])
				}
			}
			var v any
			switch fn {
			case "row_number":
				v = int64(q + 1)
			case "rank":
				v = int64(firstPeer + 1)
			case "dense_rank":
				v = int64(groupNo[q] + 1)
			case "percent_rank":
				v = 0.0
				if n > 1 {
					v = float64(firstPeer) / float64(n-1)
				}
			case "cume_dist":
				v = float64(lastPeer+1) / float64(n)
			case "ntile3":
				v = int64(q*3/n + 1)
			case "lag":
				if q > 0 {
					v = rows[idx[q-1]][arg]
				}
			case "lag2":
				v = int64(-1)
				if q > 1 {
					v = rows[idx[q-2]][arg]
				}
			case "lead":
				if q < n-1 {
					v = rows[idx[q+1]][arg]
				}
			case "first_value":
				if len(frame) > 0 {
					v = rows[frame[0]][arg]
				}
			case "last_value":
				if len(frame) > 0 {
					v = rows[frame[len(frame)-1]][arg]
				}
			case "nth_value2":
				if len(frame) > 1 {
					v = rows[frame[1]][arg]
				}
			case "count*":
				v = int64(len(frame))
			case "count":
				v = int64(len(vals))
			case "sum", "avg":
				if len(vals) > 0 {
					s := int64(0)
					for _, x := range vals {
						s += x.(int64)
					}
					v = s
					if fn == "avg" {
						v = float64(s) / float64(len(vals))
					}
				}
			case "fsum":
				if len(vals) > 0 {
					s := 0.0
					for _, x := range vals {
						s += x.(float64)
					}
					v = s
				}
			case "min", "max":
				for _, x := range vals {
					if v == nil || (fn == "min" && refCompare(x, v) < 0) || (fn == "max" && refCompare(x, v) > 0) {
						v = x
					}
				}
			case "string_agg":
				var parts []string
				for _, x := range vals {
					parts = append(parts, x.(string))
				}
				if len(parts) > 0 {
					v = strings.Join(parts, ",")
				}
			case "stddev":
				if len(vals) > 1 {
					mean := 0.0
					for _, x := range vals {
						mean += float64(x.(float64))
					}
					mean /= float64(len(vals))
					ss := 0.0
					for _, x := range vals {
						ss += (x.(float64) - mean) * (x.(float64) - mean)
					}
					v = math.Sqrt(ss / float64(len(vals)-1))
				}
			}
			out[row] = v
		}
	}
	return out
}

type winCase struct {
	fn   string
	arg  int
	kind WindowFuncKind
	agg  AggKind
	args []int
	res  arrow.DataType
	fix  func([]expr2) []expr2 // extra constant arguments
}

func TestWindowDifferential(t *testing.T) {
	mem := leakCheck(t)
	rng := rand.New(rand.NewSource(5))
	// p: partition, o: order key, v: value, f: float, s: text
	s := schemaOf(tInt64, tInt64, tInt64, tFloat, tString)
	n := 240
	rows := make([][]any, n)
	for i := range rows {
		row := []any{int64(rng.Intn(4)), int64(rng.Intn(15)), int64(rng.Intn(100)), float64(rng.Intn(40)) / 4, fmt.Sprintf("s%d", rng.Intn(9))}
		for c := range row {
			if rng.Intn(12) == 0 {
				row[c] = nil
			}
		}
		rows[i] = row
	}
	cases := []winCase{
		{fn: "row_number", kind: WinRowNumber, res: tInt64},
		{fn: "rank", kind: WinRank, res: tInt64},
		{fn: "dense_rank", kind: WinDenseRank, res: tInt64},
		{fn: "percent_rank", kind: WinPercentRank, res: tFloat},
		{fn: "cume_dist", kind: WinCumeDist, res: tFloat},
		{fn: "ntile3", kind: WinNtile, res: tInt64, fix: func([]expr2) []expr2 { return []expr2{constEval(int64(3), tInt64)} }},
		{fn: "lag", arg: 2, kind: WinLag, args: []int{2}, res: tInt64},
		{fn: "lag2", arg: 2, kind: WinLag, args: []int{2}, res: tInt64, fix: func(a []expr2) []expr2 {
			return append(a, constEval(int64(2), tInt64), constEval(int64(-1), tInt64))
		}},
		{fn: "lead", arg: 2, kind: WinLead, args: []int{2}, res: tInt64},
		{fn: "first_value", arg: 2, kind: WinFirstValue, args: []int{2}, res: tInt64},
		{fn: "last_value", arg: 2, kind: WinLastValue, args: []int{2}, res: tInt64},
		{fn: "nth_value2", arg: 2, kind: WinNthValue, args: []int{2}, res: tInt64, fix: func(a []expr2) []expr2 {
			return append(a, constEval(int64(2), tInt64))
		}},
		{fn: "count*", kind: WinAggregate, agg: AggCountStar, res: tInt64},
		{fn: "count", arg: 2, kind: WinAggregate, agg: AggCount, args: []int{2}, res: tInt64},
		{fn: "sum", arg: 2, kind: WinAggregate, agg: AggSum, args: []int{2}, res: tInt64},
		{fn: "avg", arg: 2, kind: WinAggregate, agg: AggAvg, args: []int{2}, res: tFloat},
		{fn: "min", arg: 2, kind: WinAggregate, agg: AggMin, args: []int{2}, res: tInt64},
		{fn: "max", arg: 4, kind: WinAggregate, agg: AggMax, args: []int{4}, res: tString},
		{fn: "fsum", arg: 3, kind: WinAggregate, agg: AggSum, args: []int{3}, res: tFloat},
		{fn: "stddev", arg: 3, kind: WinAggregate, agg: AggStddevSamp, args: []int{3}, res: tFloat},
		{fn: "string_agg", arg: 4, kind: WinAggregate, agg: AggStringAgg, args: []int{4}, res: tString, fix: func(a []expr2) []expr2 {
			return append(a, constEval(",", tString))
		}},
	}
	frames := []*refFrame{
		nil,
		{mode: FrameRows, start: Preceding, so: 2, end: Following, eo: 1},
		{mode: FrameRows, start: Following, so: 1, end: Following, eo: 3},
		{mode: FrameRows, start: Following, so: 2, end: Preceding, eo: 1},
		{mode: FrameRows, start: UnboundedPreceding, end: UnboundedFollowing},
		{mode: FrameRange, start: Preceding, so: 2, end: Following, eo: 1},
		{mode: FrameRange, start: CurrentRow, end: UnboundedFollowing},
		{mode: FrameRange, start: Preceding, so: 3, end: Preceding, eo: 1},
		{mode: FrameGroups, start: Preceding, so: 1, end: Following, eo: 1},
		{mode: FrameGroups, start: CurrentRow, end: Following, eo: 2},
	}
	orders := [][]refKey{
		{{col: 1}},
		{{col: 1, desc: true, nullsFirst: true}},
		{{col: 1, nullsFirst: true}},
		{{col: 1, desc: true}},
	}
	for oi, order := range orders {
		for fi, fr := range frames {
			var groups []WindowGroup
			wg := WindowGroup{PartitionBy: []expr2{col(t, s, 0)}}
			for _, k := range order {
				wg.OrderBy = append(wg.OrderBy, SortKey{Expr: col(t, s, k.col), Desc: k.desc, NullsFirst: k.nullsFirst})
			}
			outTypes := []arrow.DataType{tInt64, tInt64, tInt64, tFloat, tString}
			for i, c := range cases {
				wf := WindowFunc{Kind: c.kind, Agg: c.agg, Frame: fr.frame(), Type: c.res, Out: i}
				for _, a := range c.args {
					wf.Args = append(wf.Args, col(t, s, a))
				}
				if c.fix != nil {
					wf.Args = c.fix(wf.Args)
				}
				wg.Funcs = append(wg.Funcs, wf)
				outTypes = append(outTypes, c.res)
			}
			groups = append(groups, wg)
			got := run(t, NewWindow(source(t, mem, s, rows, 7), groups, schemaOf(outTypes...), mem))
			refs := make([][]any, len(cases))
			for i, c := range cases {
				refs[i] = refWinFunc(rows, 0, order, fr, c.fn, c.arg)
			}
			for r := range rows {
				parts := strings.Split(got[r], "|")
				for i, c := range cases {
					g, w := parts[5+i], fmtValue(refs[i][r])
					if g != w {
						t.Fatalf("order %d frame %d %s row %d %v: got %s, want %s", oi, fi, c.fn, r, rows[r], g, w)
					}
				}
			}
		}
	}
}

func TestWindowExact(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tString, tInt64)
	rows := [][]any{{"a", int64(3)}, {"b", int64(1)}, {"a", int64(1)}, {"a", int64(3)}, {"b", nil}, {"a", int64(2)}}
	wg := WindowGroup{PartitionBy: []expr2{col(t, s, 0)}, OrderBy: []SortKey{{Expr: col(t, s, 1)}},
		Funcs: []WindowFunc{
			{Kind: WinRowNumber, Type: tInt64, Out: 0},
			{Kind: WinRank, Type: tInt64, Out: 1},
			{Kind: WinAggregate, Agg: AggSum, Args: []expr2{col(t, s, 1)}, Type: tInt64, Out: 2},
		}}
	// A second group without ORDER BY: the whole partition.
	wg2 := WindowGroup{PartitionBy: []expr2{col(t, s, 0)},
		Funcs: []WindowFunc{{Kind: WinAggregate, Agg: AggCountStar, Type: tInt64, Out: 3}}}
	out := schemaOf(tString, tInt64, tInt64, tInt64, tInt64, tInt64)
	got := run(t, NewWindow(source(t, mem, s, rows, 4), []WindowGroup{wg, wg2}, out, mem))
	equalRows(t, got, []string{
		"a|3|3|3|9|4",
		"b|1|1|1|1|2",
		"a|1|1|1|1|4",
		"a|3|4|3|9|4",
		"b|NULL|2|2|1|2",
		"a|2|2|2|3|4",
	})
	// Empty input: no rows.
	equalRows(t, run(t, NewWindow(source(t, mem, s, nil, 4), []WindowGroup{wg, wg2}, out, mem)), nil)
	// Errors: ntile(0); a negative frame offset.
	bad := wg
	bad.Funcs = []WindowFunc{{Kind: WinNtile, Args: []expr2{constEval(int64(0), tInt64)}, Type: tInt64}}
	err := runErr(t, NewWindow(source(t, mem, s, rows, 4), []WindowGroup{bad}, schemaOf(tString, tInt64, tInt64), mem))
	if !strings.Contains(err.Error(), "ntile") {
		t.Fatalf("error %v", err)
	}
	bad.Funcs = []WindowFunc{{Kind: WinAggregate, Agg: AggCountStar, Type: tInt64,
		Frame: &Frame{Mode: FrameRows, Start: FrameBound{Kind: Preceding, Offset: constEval(int64(-1), tInt64)}, End: FrameBound{Kind: CurrentRow}}}}
	err = runErr(t, NewWindow(source(t, mem, s, rows, 4), []WindowGroup{bad}, schemaOf(tString, tInt64, tInt64), mem))
	if !strings.Contains(err.Error(), "negative") {
		t.Fatalf("error %v", err)
	}
}

// TestWindowRangeTypes covers RANGE offsets over timestamps (an interval
// offset) and floats.
func TestWindowRangeTypes(t *testing.T) {
	mem := leakCheck(t)
	s := schemaOf(tTS, tFloat)
	const sec = int64(1e6)
	rows := [][]any{{0 * sec, 1.0}, {30 * sec, 2.0}, {60 * sec, 4.0}, {61 * sec, 8.0}, {200 * sec, 16.0}, {nil, 32.0}}
	minute := constEval(arrow.MonthDayNanoInterval{Nanoseconds: 60e9}, tIv)
	wg := WindowGroup{OrderBy: []SortKey{{Expr: col(t, s, 0)}}, Funcs: []WindowFunc{
		{Kind: WinAggregate, Agg: AggSum, Args: []expr2{col(t, s, 1)}, Type: tFloat, Out: 0,
			Frame: &Frame{Mode: FrameRange, Start: FrameBound{Kind: Preceding, Offset: minute}, End: FrameBound{Kind: CurrentRow}}},
	}}
	wg2 := WindowGroup{OrderBy: []SortKey{{Expr: col(t, s, 1), Desc: true}}, Funcs: []WindowFunc{
		{Kind: WinAggregate, Agg: AggCount, Args: []expr2{col(t, s, 0)}, Type: tInt64, Out: 1,
			Frame: &Frame{Mode: FrameRange, Start: FrameBound{Kind: Preceding, Offset: constEval(4.0, tFloat)}, End: FrameBound{Kind: Following, Offset: constEval(int64(2), tInt64)}}},
	}}
	got := run(t, NewWindow(source(t, mem, s, rows, 4), []WindowGroup{wg, wg2}, schemaOf(tTS, tFloat, tFloat, tInt64), mem))
	// count over [f-2, f+4] in descending order of f, of non-NULL times.
	equalRows(t, got, []string{
		"0|1.0|1.0|3",
		"30000000|2.0|3.0|3",
		"60000000|4.0|7.0|3",
		"61000000|8.0|14.0|1",
		"200000000|16.0|16.0|1",
		"NULL|32.0|32.0|0",
	})
}

// TestWindowLarge checks the fast paths (ranks, running and sliding sums,
// sliding min, lag) on 100k rows against a direct computation.
func TestWindowLarge(t *testing.T) {
	mem := leakCheck(t)
	rng := rand.New(rand.NewSource(6))
	s := schemaOf(tInt64, tInt64, tInt64)
	n := 100000
	rows := make([][]any, n)
	for i := range rows {
		var v any = int64(rng.Intn(1000) - 500)
		if rng.Intn(20) == 0 {
			v = nil
		}
		rows[i] = []any{int64(rng.Intn(300)), int64(rng.Intn(50)), v}
	}
	rowsFrame := func(lo, hi int64) *Frame {
		b := func(o int64) FrameBound {
			switch {
			case o < 0:
				return FrameBound{Kind: Preceding, Offset: constEval(-o, tInt64)}
			case o > 0:
				return FrameBound{Kind: Following, Offset: constEval(o, tInt64)}
			}
			return FrameBound{Kind: CurrentRow}
		}
		return &Frame{Mode: FrameRows, Start: b(lo), End: b(hi)}
	}
	wg := WindowGroup{PartitionBy: []expr2{col(t, s, 0)}, OrderBy: []SortKey{{Expr: col(t, s, 1)}}, Funcs: []WindowFunc{
		{Kind: WinRowNumber, Type: tInt64, Out: 0},
		{Kind: WinRank, Type: tInt64, Out: 1},
		{Kind: WinDenseRank, Type: tInt64, Out: 2},
		{Kind: WinAggregate, Agg: AggSum, Args: []expr2{col(t, s, 2)}, Type: tInt64, Out: 3},
		{Kind: WinAggregate, Agg: AggSum, Args: []expr2{col(t, s, 2)}, Type: tInt64, Out: 4, Frame: rowsFrame(-5, 0)},
		{Kind: WinAggregate, Agg: AggMin, Args: []expr2{col(t, s, 2)}, Type: tInt64, Out: 5, Frame: rowsFrame(-3, 3)},
		{Kind: WinLag, Args: []expr2{col(t, s, 2)}, Type: tInt64, Out: 6},
	}}
	got := run(t, NewWindow(source(t, mem, s, rows, 4096), []WindowGroup{wg},
		schemaOf(tInt64, tInt64, tInt64, tInt64, tInt64, tInt64, tInt64, tInt64, tInt64, tInt64), mem))
	// Reference: partitions in stable order of the order key.
	parts := map[int64][]int{}
	for i, r := range rows {
		parts[r[0].(int64)] = append(parts[r[0].(int64)], i)
	}
	want := make([]string, n)
	for _, idx := range parts {
		slices.SortStableFunc(idx, func(a, b int) int { return int(rows[a][1].(int64) - rows[b][1].(int64)) })
		sum := func(lo, hi int) any { // rows lo..hi inclusive, clipped
			var s any
			for p := max(lo, 0); p <= min(hi, len(idx)-1); p++ {
				if v := rows[idx[p]][2]; v != nil {
					if s == nil {
						s = int64(0)
					}
					s = s.(int64) + v.(int64)
				}
			}
			return s
		}
		rank, dense := 0, 0
		for p, i := range idx {
			if p == 0 || rows[idx[p-1]][1] != rows[i][1] {
				rank = p + 1
				dense++
			}
			last := p
			for last+1 < len(idx) && rows[idx[last+1]][1] == rows[i][1] {
				last++
			}
			var mn, lag any
			for q := max(p-3, 0); q <= min(p+3, len(idx)-1); q++ {
				if v := rows[idx[q]][2]; v != nil && (mn == nil || v.(int64) < mn.(int64)) {
					mn = v
				}
			}
			if p > 0 {
				lag = rows[idx[p-1]][2]
			}
			want[i] = strings.Join([]string{fmtValue(rows[i][0]), fmtValue(rows[i][1]), fmtValue(rows[i][2]),
				fmtValue(int64(p + 1)), fmtValue(int64(rank)), fmtValue(int64(dense)), fmtValue(sum(0, last)),
				fmtValue(sum(p-5, p)), fmtValue(mn), fmtValue(lag)}, "|")
		}
	}
	equalRows(t, got, want)
}
