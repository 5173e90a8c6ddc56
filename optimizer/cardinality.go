package optimizer

import (
	"math"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This file estimates how many rows each plan node produces, and what is
// known about each of its output columns (distinct values, NULLs, range).
//
// The estimates start at the relations: Stats gives their row counts and
// column statistics (from ANALYZE, Parquet footers or table writes); a
// relation nothing is known about counts unknownRows rows. An integer or
// date column without a distinct count but with a range narrower than its
// row count has at most as many distinct values as the range. Above them:
//
//   - a filter keeps rows by the selectivity of its condition: col = const
//     keeps 1/NDV (nothing when the constant is outside [min, max]); a
//     range keeps the part of [min, max] it covers, with the bounds on one
//     column taken together (BETWEEN is one range, not two); IN keeps
//     k/NDV; IS NULL the fraction of NULLs; AND multiplies, OR adds up as
//     independent events, NOT complements; what the statistics do not
//     cover gets the usual guesses (a third for a range, a tenth for an
//     equality, a quarter for LIKE);
//   - an equi-join of R and S keeps |R|·|S|/max(NDV(r), NDV(s)) rows; a
//     second key between the same inputs counts with the square root of
//     its selectivity, a third with the fourth root (keys are rarely
//     independent), and several keys together never make the join smaller
//     than its larger input (they are at most a key of one side); other
//     join conditions are filters over the pair;
//   - a semi join keeps the fraction min(1, NDV(s)/NDV(r)) of its left
//     input, an anti join the rest (at least a tenth);
//   - a grouping yields the product of its keys' NDVs (backed off the same
//     way), at most its input's rows;
//   - after a filter a column's NDV shrinks as n·(1-(1-sel)^(rows/n)) would
//     have it (distinct values left when rows are picked at random).
//
// Estimates are cached per node (o.cards); rules that build nodes from
// estimates they already have (the join order) store them there.

// unknownRows is the size of a relation nothing is known about.
const unknownRows = 1000

// colEst is what is known about one output column. ndv < 0 is unknown.
type colEst struct {
	ndv      float64
	nullFrac float64 // -1: unknown
	hasRange bool
	lo, hi   float64
	width    float64 // bytes a value, for the cost model
	// guessed marks an ndv that is the row count standing in for an
	// unknown NDV (keyCols).
	guessed bool
}

// card is the estimate for one plan node.
type card struct {
	rows float64
	cols []colEst
}

// unknownCol is a column nothing is known about.
func unknownCol(t catalog.Type) colEst {
	return colEst{ndv: -1, nullFrac: -1, width: typeWidth(t)}
}

// typeWidth guesses the bytes a value of t takes in memory.
func typeWidth(t catalog.Type) float64 {
	switch {
	case t.IsString():
		if t.Length > 0 {
			return math.Min(float64(t.Length), 32)
		}
		return 24
	case t.Kind == catalog.KindBool, t.Kind == catalog.KindInt8:
		return 1
	case t.Kind == catalog.KindInt16:
		return 2
	case t.Kind == catalog.KindInt32, t.Kind == catalog.KindDate, t.Kind == catalog.KindFloat32:
		return 4
	case t.Kind == catalog.KindDecimal, t.Kind == catalog.KindInterval:
		return 16
	}
	return 8
}

// estimate returns the estimated row count of n (at least 1).
func (o *opt) estimate(n planner.Node) float64 { return o.card(n).rows }

// card returns the estimate for n, computing and caching it.
func (o *opt) card(n planner.Node) *card {
	if c, ok := o.cards[n]; ok {
		return c
	}
	c := o.card1(n)
	c.rows = math.Max(c.rows, 1)
	for i := range c.cols {
		if c.cols[i].ndv > c.rows {
			c.cols[i].ndv = c.rows
		}
	}
	o.cards[n] = c
	return c
}

// unknownCard is a node of r rows about whose columns nothing is known.
func unknownCard(r float64, cols []planner.Column) *card {
	c := &card{rows: r, cols: make([]colEst, len(cols))}
	for i, col := range cols {
		c.cols[i] = unknownCol(col.Type)
	}
	return c
}

// passCols copies an input's column estimates.
func passCols(in *card, rows float64) *card {
	return &card{rows: rows, cols: append([]colEst(nil), in.cols...)}
}

func (o *opt) card1(n planner.Node) *card {
	switch x := n.(type) {
	case *planner.Scan:
		return o.scanCard(x)
	case *planner.Values:
		return unknownCard(float64(len(x.Rows)), x.Columns)
	case *planner.Filter:
		in := o.card(x.Input)
		sel := o.selectivity(x.Cond, in)
		out := passCols(in, in.rows*sel)
		for i := range out.cols {
			out.cols[i].ndv = shrinkNDV(out.cols[i].ndv, in.rows, out.rows)
		}
		for _, e := range conjuncts(x.Cond) {
			if col, _, ok := colConst(e, "eq"); ok && col < len(out.cols) {
				out.cols[col].ndv = 1
			}
		}
		return out
	case *planner.Project:
		in := o.card(x.Input)
		out := &card{rows: in.rows, cols: make([]colEst, len(x.Exprs))}
		for i, e := range x.Exprs {
			out.cols[i] = o.exprCol(e, in)
		}
		return out
	case *planner.Sort:
		return passCols(o.card(x.Input), o.card(x.Input).rows)
	case *planner.Expect:
		// Expectations that drop rows drop few: the input's estimate.
		return passCols(o.card(x.Input), o.card(x.Input).rows)
	case *planner.Window:
		in := o.card(x.Input)
		out := unknownCard(in.rows, x.Schema())
		copy(out.cols, in.cols)
		return out
	case *planner.ProjectSet:
		// Arrays are short: a guess of ten elements a row.
		in := o.card(x.Input)
		out := unknownCard(in.rows*10, x.Schema())
		copy(out.cols, in.cols)
		return out
	case *planner.Limit:
		in := o.card(x.Input)
		r := in.rows
		if k, ok := x.Count.(*planner.Const); ok {
			if v, ok := k.Value.(int64); ok {
				r = math.Min(r, float64(v))
			}
		}
		return passCols(in, r)
	case *planner.Aggregate:
		return o.aggCard(x)
	case *planner.Distinct:
		in := o.card(x.Input)
		return passCols(in, math.Min(in.rows, o.groups(in, allCols(len(in.cols)), in.rows/2)))
	case *planner.CTERef:
		in := o.card(x.Plan)
		out := unknownCard(in.rows, x.Columns)
		copy(out.cols, in.cols)
		return out
	case *planner.SetOp:
		l, r := o.card(x.Left), o.card(x.Right)
		rows := l.rows
		switch x.Kind {
		case planner.Union:
			rows = l.rows + r.rows
		case planner.Intersect:
			rows = math.Min(l.rows, r.rows)
		}
		return unknownCard(rows, x.Columns)
	case *planner.Join:
		return o.joinCard(x)
	case *planner.RecursiveCTE:
		return unknownCard(o.card(x.Anchor).rows*10, x.Columns)
	}
	return unknownCard(unknownRows, n.Schema())
}

// allCols lists column positions 0..n-1.
func allCols(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// scanCard takes a relation's statistics.
func (o *opt) scanCard(x *planner.Scan) *card {
	out := unknownCard(unknownRows, x.Columns)
	if o.stats == nil || x.Object == nil {
		return out
	}
	ts, ok := o.stats.TableStats(x.Object)
	if !ok {
		return out
	}
	out.rows = ts.Rows
	for i := range x.Columns {
		oc := i
		if x.Cols != nil {
			oc = x.Cols[i]
		}
		if oc >= len(x.Object.Columns) {
			continue
		}
		cs, ok := ts.Column(x.Object.Columns[oc].Name)
		if !ok {
			continue
		}
		e := &out.cols[i]
		e.ndv = cs.Distinct
		if cs.Nulls >= 0 && ts.Rows > 0 {
			e.nullFrac = cs.Nulls / ts.Rows
		}
		if cs.HasRange {
			e.hasRange, e.lo, e.hi = true, cs.Min, cs.Max
			// An integer or date column has at most as many values as its
			// range holds: where that is fewer than the rows, it stands in
			// for an unknown NDV (c_nationkey from 0 to 24: 25).
			t := x.Object.Columns[oc].Type
			if e.ndv < 0 && (t.IsInteger() || t.Kind == catalog.KindDate) {
				if n := cs.Max - cs.Min + 1; n >= 1 && n < ts.Rows {
					e.ndv = n
				}
			}
		}
		if cs.AvgWidth > 0 {
			e.width = cs.AvgWidth
		}
	}
	return out
}

// exprCol estimates the column an expression computes over in.
func (o *opt) exprCol(e planner.Expr, in *card) colEst {
	switch x := e.(type) {
	case *planner.ColRef:
		if x.Index < len(in.cols) {
			return in.cols[x.Index]
		}
	case *planner.Cast:
		c := o.exprCol(x.Arg, in)
		c.width = typeWidth(x.T)
		return c
	case *planner.Const:
		c := unknownCol(x.T)
		c.ndv = 1
		if v, ok := catalog.NumericValue(x.Value, x.T); ok {
			c.hasRange, c.lo, c.hi = true, v, v
		}
		return c
	}
	c := unknownCol(e.Type())
	// A function of columns has at most as many values as their product.
	cols := colsOf(e)
	if len(cols) > 0 {
		ndv := 1.0
		for col := range cols {
			if col >= len(in.cols) || in.cols[col].ndv < 0 {
				return c
			}
			ndv *= in.cols[col].ndv
		}
		c.ndv = ndv
	}
	return c
}

// shrinkNDV is the number of distinct values left of ndv when rows of
// from are picked at random.
func shrinkNDV(ndv, from, rows float64) float64 {
	if ndv <= 0 || from <= 0 || rows >= from {
		return ndv
	}
	return math.Max(1, ndv*(1-math.Pow(1-rows/from, from/ndv)))
}

// groups estimates the number of distinct combinations of the given
// columns of in; def when an NDV is unknown.
func (o *opt) groups(in *card, cols []int, def float64) float64 {
	var ndvs []float64
	for _, c := range cols {
		if c >= len(in.cols) || in.cols[c].ndv < 0 {
			return math.Min(def, in.rows)
		}
		ndvs = append(ndvs, in.cols[c].ndv)
	}
	// Largest first, each further key backed off: x1 · x2^(1/2) · x3^(1/4).
	sortDesc(ndvs)
	g, exp := 1.0, 1.0
	for _, v := range ndvs {
		g *= math.Pow(math.Max(v, 1), exp)
		exp /= 2
	}
	return math.Min(g, in.rows)
}

// sortDesc sorts a few numbers, largest first.
func sortDesc(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] > xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// sortAsc sorts a few numbers, smallest first.
func sortAsc(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// aggCard estimates a grouping.
func (o *opt) aggCard(x *planner.Aggregate) *card {
	in := o.card(x.Input)
	out := unknownCard(1, x.Columns)
	if len(x.GroupBy) == 0 && x.Window == nil {
		return out
	}
	keys := &card{rows: in.rows}
	for _, g := range x.GroupBy {
		keys.cols = append(keys.cols, o.exprCol(g, in))
	}
	out.rows = o.groups(keys, allCols(len(keys.cols)), in.rows/10)
	if x.Window != nil {
		out.rows = math.Max(out.rows, in.rows/10)
	}
	copy(out.cols, keys.cols)
	return out
}

// joinCard estimates a join.
func (o *opt) joinCard(x *planner.Join) *card {
	l, r := o.card(x.Left), o.card(x.Right)
	both := &card{rows: l.rows * r.rows, cols: append(keyCols(l), keyCols(r)...)}
	nl := len(l.cols)
	switch x.Kind {
	case planner.SemiJoin, planner.AntiJoin:
		frac := 0.5
		if keys := equiKeys(x.Cond, nl); len(keys) > 0 {
			frac = 1.0
			for _, k := range keys {
				ln, rn := both.cols[k[0]].ndv, both.cols[k[1]].ndv
				if ln > 0 && rn > 0 {
					frac = math.Min(frac, math.Min(1, rn/ln))
				}
			}
		}
		if x.Kind == planner.AntiJoin {
			frac = math.Max(1-frac, 0.1)
		}
		return passCols(l, l.rows*frac)
	case planner.CrossJoin:
		return both
	}
	inner := both.rows * o.joinSelectivity(x.Cond, both, nl, l.rows, r.rows)
	out := passCols(both, inner)
	switch x.Kind {
	case planner.LeftJoin:
		out.rows = math.Max(l.rows, inner)
	case planner.RightJoin:
		out.rows = math.Max(r.rows, inner)
	case planner.FullJoin:
		out.rows = math.Max(l.rows+r.rows, inner)
	}
	return out
}

// keyCols copies c's column estimates for a join: a column whose NDV is
// unknown counts as a key (as many values as rows), the usual case of a
// join column.
func keyCols(c *card) []colEst {
	out := append([]colEst(nil), c.cols...)
	for i := range out {
		if out[i].ndv < 0 {
			out[i].ndv, out[i].guessed = c.rows, true
		}
	}
	return out
}

// equiKeys returns the column pairs (left, right, in the joined layout) of
// the equalities of cond between the first nl columns and the others.
func equiKeys(cond planner.Expr, nl int) [][2]int {
	var out [][2]int
	for _, c := range conjuncts(cond) {
		call, ok := c.(*planner.Call)
		if !ok || call.Name != "eq" || len(call.Args) != 2 {
			continue
		}
		a, aok := plainCol(call.Args[0])
		b, bok := plainCol(call.Args[1])
		if !aok || !bok {
			continue
		}
		if a > b {
			a, b = b, a
		}
		if a < nl && b >= nl {
			out = append(out, [2]int{a, b})
		}
	}
	return out
}

// plainCol returns the column a ColRef (under casts) reads.
func plainCol(e planner.Expr) (int, bool) {
	for {
		switch x := e.(type) {
		case *planner.ColRef:
			return x.Index, true
		case *planner.Cast:
			e = x.Arg
			continue
		}
		return 0, false
	}
}

// joinSelectivity is the fraction of pairs of a join over both (the left
// nl columns, then the right) that cond keeps: equi-join keys by NDV (a
// second key backed off), the rest as filters.
func (o *opt) joinSelectivity(cond planner.Expr, both *card, nl int, lRows, rRows float64) float64 {
	if cond == nil {
		return 1
	}
	var keySel []float64
	var rest []planner.Expr
	for _, c := range conjuncts(cond) {
		if k := equiKeys(c, nl); len(k) == 1 {
			keySel = append(keySel, eqColsSel(both.cols[k[0][0]], both.cols[k[0][1]]))
			continue
		}
		rest = append(rest, c)
	}
	ks := backoff(keySel)
	if len(keySel) > 1 {
		// Several keys together are at most a key of one side: each row of
		// the other side finds at least one partner (a composite foreign
		// key, lineitem to partsupp).
		ks = math.Max(ks, 1/math.Max(1, math.Min(lRows, rRows)))
	}
	return ks * math.Min(o.andSel(rest, both), 1)
}

// backoff combines selectivities of correlated conditions: the most
// selective counts fully, the next with its square root, and so on.
func backoff(sels []float64) float64 {
	sortAsc(sels)
	s, exp := 1.0, 1.0
	for _, v := range sels {
		s *= math.Pow(v, exp)
		exp /= 2
	}
	return s
}

// eqColsSel is the selectivity of a = b for two columns: 1/max(NDV).
// Where an NDV is a guess (keyCols), the other side counts as the key:
// a join on a foreign key, of as many rows as its larger input.
func eqColsSel(a, b colEst) float64 {
	n := math.Max(a.ndv, b.ndv)
	switch {
	case a.guessed && b.guessed:
		n = math.Min(a.ndv, b.ndv)
	case a.guessed:
		n = b.ndv
	case b.guessed:
		n = a.ndv
	}
	if n <= 0 {
		return 0.1
	}
	return 1 / n
}

// colConst recognizes col op const (or const op col, with op mirrored);
// it returns the column, the constant and whether e has that form.
func colConst(e planner.Expr, op string) (int, *planner.Const, bool) {
	call, ok := e.(*planner.Call)
	if !ok || len(call.Args) != 2 {
		return 0, nil, false
	}
	name := call.Name
	a, b := call.Args[0], call.Args[1]
	if _, isConst := stripCast(a).(*planner.Const); isConst {
		a, b = b, a
		name = mirror(name)
	}
	if name != op {
		return 0, nil, false
	}
	col, ok := plainCol(a)
	k, kok := stripCast(b).(*planner.Const)
	if !ok || !kok {
		return 0, nil, false
	}
	return col, k, true
}

// stripCast removes casts around an expression.
func stripCast(e planner.Expr) planner.Expr {
	for {
		c, ok := e.(*planner.Cast)
		if !ok {
			return e
		}
		e = c.Arg
	}
}

// mirror returns the comparison with its operands swapped.
func mirror(op string) string {
	switch op {
	case "lt":
		return "gt"
	case "le":
		return "ge"
	case "gt":
		return "lt"
	case "ge":
		return "le"
	}
	return op
}

// The usual guesses for what the statistics do not cover.
const (
	guessEq    = 0.1
	guessRange = 1.0 / 3
	guessLike  = 0.25
	guessOther = 0.5
)

// selectivity estimates the fraction of in's rows for which c is true.
func (o *opt) selectivity(c planner.Expr, in *card) float64 {
	if c == nil {
		return 1
	}
	return math.Max(math.Min(o.sel(c, in), 1), 0)
}

func (o *opt) sel(c planner.Expr, in *card) float64 {
	col := func(i int) colEst {
		if i < len(in.cols) {
			return in.cols[i]
		}
		return colEst{ndv: -1, nullFrac: -1}
	}
	switch x := c.(type) {
	case *planner.Const:
		if b, ok := x.Value.(bool); ok && b {
			return 1
		}
		return 0
	case *planner.Call:
		switch x.Name {
		case "and":
			return o.andSel(x.Args, in)
		case "or":
			miss := 1.0
			for _, a := range x.Args {
				miss *= 1 - o.selectivity(a, in)
			}
			return 1 - miss
		case "not":
			if len(x.Args) == 1 {
				return 1 - o.selectivity(x.Args[0], in)
			}
		case "eq", "is_not_distinct_from":
			return o.eqSel(x, in)
		case "ne":
			return 1 - o.eqSel(x, in)
		case "is_null", "is_not_null":
			f := 0.1
			if i, ok := plainCol(x.Args[0]); ok && col(i).nullFrac >= 0 {
				f = col(i).nullFrac
			}
			if x.Name == "is_not_null" {
				return 1 - f
			}
			return f
		case "lt", "le", "gt", "ge":
			if _, _, ok := colConst(x, x.Name); ok {
				return o.andSel([]planner.Expr{x}, in)
			}
			if _, _, ok := colConst(x, mirror(x.Name)); ok {
				return o.andSel([]planner.Expr{x}, in)
			}
			return guessRange
		case "like", "ilike", "not_like", "not_ilike":
			s := guessLike
			if k, ok := stripCast(x.Args[1]).(*planner.Const); ok {
				if p, ok := k.Value.(string); ok && !strings.ContainsAny(p, "%_") {
					s = o.eqSel(&planner.Call{Name: "eq", Args: x.Args}, in)
				}
			}
			if strings.HasPrefix(x.Name, "not_") {
				return 1 - s
			}
			return s
		case "regexp":
			return guessLike
		case "in_list":
			k := float64(len(x.Args) - 1)
			if i, ok := plainCol(x.Args[0]); ok && col(i).ndv > 0 {
				return math.Min(k/col(i).ndv, 1)
			}
			return math.Min(guessEq*k, guessOther)
		}
	}
	return guessOther
}

// eqSel estimates a = b.
func (o *opt) eqSel(x *planner.Call, in *card) float64 {
	if len(x.Args) != 2 {
		return guessEq
	}
	get := func(i int) colEst {
		if i < len(in.cols) {
			return in.cols[i]
		}
		return colEst{ndv: -1}
	}
	if i, k, ok := colConst(x, "eq"); ok {
		c := get(i)
		if v, ok := catalog.NumericValue(k.Value, k.T); ok && c.hasRange && (v < c.lo || v > c.hi) {
			return 0
		}
		if c.ndv > 0 {
			return 1 / c.ndv
		}
		return guessEq
	}
	a, aok := plainCol(x.Args[0])
	b, bok := plainCol(x.Args[1])
	if aok && bok {
		return eqColsSel(get(a), get(b))
	}
	return guessEq
}

// andSel estimates a conjunction: the range bounds on one column are
// taken together, the other conjuncts multiply.
func (o *opt) andSel(args []planner.Expr, in *card) float64 {
	type bounds struct {
		lo, hi       float64
		hasLo, hasHi bool
		n            int
	}
	ranges := map[int]*bounds{}
	var order []int
	s := 1.0
	for _, a := range args {
		for _, c := range conjuncts(a) {
			done := false
			for _, op := range []string{"lt", "le", "gt", "ge"} {
				col, k, ok := colConst(c, op)
				if !ok {
					continue
				}
				v, num := catalog.NumericValue(k.Value, k.T)
				b := ranges[col]
				if b == nil {
					b = &bounds{}
					ranges[col] = b
					order = append(order, col)
				}
				b.n++
				if num {
					switch op {
					case "lt", "le":
						if !b.hasHi || v < b.hi {
							b.hi, b.hasHi = v, true
						}
					default:
						if !b.hasLo || v > b.lo {
							b.lo, b.hasLo = v, true
						}
					}
				}
				done = true
				break
			}
			if !done {
				if call, ok := c.(*planner.Call); ok && call.Name == "and" {
					s *= o.andSel(call.Args, in)
				} else {
					s *= o.selectivity(c, in)
				}
			}
		}
	}
	for _, col := range order {
		b := ranges[col]
		var c colEst
		if col < len(in.cols) {
			c = in.cols[col]
		}
		if !c.hasRange || c.hi <= c.lo || !b.hasLo && !b.hasHi {
			if b.n > 1 {
				s *= guessRange / 2
			} else {
				s *= guessRange
			}
			continue
		}
		lo, hi := c.lo, c.hi
		if b.hasLo {
			lo = math.Max(lo, b.lo)
		}
		if b.hasHi {
			hi = math.Min(hi, b.hi)
		}
		if hi < lo {
			s *= 0
			continue
		}
		frac := (hi - lo) / (c.hi - c.lo)
		if c.ndv > 0 {
			// A range holds at least one value when it is not empty.
			frac = math.Max(frac, 1/c.ndv)
		}
		s *= frac
	}
	return s
}
