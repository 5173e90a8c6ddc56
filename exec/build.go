package exec

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/planner"
)

// ScanFactory opens the scan of a catalog relation; the connector layer
// implements it (files, S3, managed tables, system tables). columns are
// indexes into obj.Columns, in output order; the returned operator's
// schema has exactly those columns, with their Arrow types.
type ScanFactory interface {
	OpenScan(ctx context.Context, obj *catalog.Object, columns []int) (Operator, error)
}

// FilteredScanFactory is a ScanFactory that can also be told the
// conditions a scan's rows must meet (over the scan's output columns), to
// skip data it can tell none of the rows satisfies. The rows it returns
// must still include every row that does.
type FilteredScanFactory interface {
	ScanFactory
	OpenScanFiltered(ctx context.Context, obj *catalog.Object, columns []int, filters ScanFilters) (Operator, error)
}

// ScanFilters are the conditions the optimizer gave a scan.
type ScanFilters struct {
	// Ranges compare a column with a constant (planner.Scan.Filters): a
	// reader may skip Parquet row groups by their statistics.
	Ranges []planner.Expr
	// Partitions read partition columns only
	// (planner.Scan.PartitionFilters): a reader may skip the files of the
	// partition directories for which one is not TRUE.
	Partitions []planner.Expr
}

// Empty reports whether there are no conditions.
func (f ScanFilters) Empty() bool { return len(f.Ranges) == 0 && len(f.Partitions) == 0 }

// scanFilters are the conditions of a Scan node.
func scanFilters(n *planner.Scan) ScanFilters {
	return ScanFilters{Ranges: n.Filters, Partitions: n.PartitionFilters}
}

// CompileFunc compiles a bound expression over an input schema, as
// expr.Compile does.
type CompileFunc func(e planner.Expr, input *arrow.Schema, env *expr.Env) (expr.Evaluator, error)

// BuildEnv is what Build needs besides the plan: one per statement (a
// statement's subqueries share it).
type BuildEnv struct {
	// Mem accounts the statement's memory and provides its allocator.
	Mem *Memory
	// Scans opens catalog relations; nil when the plan reads none.
	Scans ScanFactory
	// Params are the statement's parameter values (planner.Const values).
	Params []any
	// Now is the statement's start time (current_timestamp); zero: the
	// time the first expression is compiled.
	Now time.Time
	// Location is the session time zone; nil means UTC.
	Location *time.Location
	// Compile compiles expressions; nil means expr.Compile.
	Compile CompileFunc
	// Threads is the number of workers a pipeline over a splittable scan
	// runs in (see PartScanFactory); 0 and 1 run the plan serially.
	Threads int
	// Observe, when set, is given the operator built for each plan node
	// and returns the operator to use in its place: EXPLAIN ANALYZE wraps
	// each one in a measuring Instrumented.
	Observe func(n planner.Node, op Operator) Operator
	// Expect receives the counts and quarantined rows of the plan's
	// pipeline expectations (planner.Expect); nil: counted where nobody
	// reads them, and a QUARANTINE expectation fails to open.
	Expect *ExpectEnv

	// outer is the stack of enclosing rows of a correlated subquery run.
	outer []expr.OuterRow
	// cache holds the statement's uncorrelated subquery results.
	cache *expr.StatementCache
	// exprEnv is the environment expressions of this build compile with.
	exprEnv *expr.Env
	// work holds, by recursive CTE, the rows of the step before while its
	// recursive plan is built and run.
	work map[int][]arrow.Record
	// ctes holds the CTEs the statement's plan and its subquery plans
	// (built on their own) share; subquery is set in the build of a
	// subquery plan, which uses the statement's.
	ctes     *stmtCTEs
	subquery bool
}

// Build maps a logical plan to a tree of operators ready to Open. Every
// logical node has an operator: Scan through env.Scans, Values, Filter,
// Project, Aggregate (HashAggregate), Join (hash join on the equi-keys of
// its condition, nested loops without), Sort (TopN under a Limit), Limit,
// SetOp, Distinct, Window, and CTERef (a common table expression
// referenced more than once is computed once and replayed, also when the
// references are in the plans of subqueries, which are built on their
// own).
func Build(ctx context.Context, n planner.Node, env *BuildEnv) (op Operator, err error) {
	defer recoverErr(&err)
	if env.Mem == nil {
		return nil, fmt.Errorf("exec: BuildEnv without Memory")
	}
	if env.cache == nil {
		env.cache = expr.NewStatementCache()
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	if env.exprEnv == nil {
		env.exprEnv = &expr.Env{Alloc: env.Mem.Alloc, Subqueries: &subqueryRunner{env: env}, Params: env.Params,
			Outer: env.outer, Now: env.Now, Location: env.Location, Cache: env.cache}
	}
	var owned *stmtCTEs
	if !env.subquery {
		owned = newStmtCTEs(n)
		env.ctes = owned
	}
	b := &builder{ctx: ctx, env: env, ctes: map[planner.Node]*sharedCTE{}, refs: map[planner.Node]int{}}
	b.countRefs(n)
	root, err := b.build(n)
	if err != nil {
		if owned != nil {
			owned.release()
		}
		return nil, err
	}
	return &guard{op: root, ctes: owned}, nil
}

// guard is the root of a built plan: it turns a panic below it (an
// operator or kernel bug, or third-party code failing) into an error, so
// that none reaches the caller. It releases the statement's shared CTEs
// when it closes.
type guard struct {
	op   Operator
	ctes *stmtCTEs
}

func (g *guard) Schema() *arrow.Schema { return g.op.Schema() }

func (g *guard) Open(ctx context.Context) (err error) {
	defer recoverErr(&err)
	return g.op.Open(ctx)
}

func (g *guard) Next(ctx context.Context) (b Batch, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok, err = Batch{}, false, fmt.Errorf("exec: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	return g.op.Next(ctx)
}

func (g *guard) Close() (err error) {
	defer recoverErr(&err)
	err = g.op.Close()
	if g.ctes != nil {
		g.ctes.release()
		g.ctes = nil
	}
	return err
}

// recoverErr turns a panic below an API boundary into an error.
func recoverErr(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("exec: internal error: %v\n%s", r, debug.Stack())
	}
}

type builder struct {
	ctx  context.Context
	env  *BuildEnv
	ctes map[planner.Node]*sharedCTE
	refs map[planner.Node]int
	// filters are the runtime filters to put over scans (runtimefilter.go).
	filters map[*planner.Scan][]scanFilter
}

// countRefs counts the CTERefs of each shared plan in the tree (not in
// subquery plans, which are built on their own).
func (b *builder) countRefs(n planner.Node) {
	if c, ok := n.(*planner.CTERef); ok {
		b.refs[c.Plan]++
		if b.refs[c.Plan] > 1 {
			return
		}
	}
	for _, ch := range n.Children() {
		b.countRefs(ch)
	}
}

func (b *builder) compile(e planner.Expr, in *arrow.Schema) (expr.Evaluator, error) {
	if b.env.Compile != nil {
		return b.env.Compile(e, in, b.env.exprEnv)
	}
	return expr.Compile(e, in, b.env.exprEnv)
}

func (b *builder) compileAll(es []planner.Expr, in *arrow.Schema) ([]expr.Evaluator, error) {
	out := make([]expr.Evaluator, len(es))
	for i, e := range es {
		ev, err := b.compile(e, in)
		if err != nil {
			return nil, err
		}
		out[i] = ev
	}
	return out, nil
}

func (b *builder) sortKeys(ks []planner.SortKey, in *arrow.Schema) ([]SortKey, error) {
	out := make([]SortKey, len(ks))
	for i, k := range ks {
		ev, err := b.compile(k.Expr, in)
		if err != nil {
			return nil, err
		}
		out[i] = SortKey{Expr: ev, Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	return out, nil
}

// SchemaOf is the Arrow schema of plan columns.
func SchemaOf(cols []planner.Column) *arrow.Schema {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: c.Nullable || c.Type.Kind == catalog.KindNull}
	}
	return arrow.NewSchema(fs, nil)
}

// closeAll closes operators built before a later build step failed.
func closeAll(ops ...Operator) {
	for _, o := range ops {
		if o != nil {
			o.Close()
		}
	}
}

func (b *builder) build(n planner.Node) (Operator, error) {
	if _, ok := n.(*planner.Aggregate); !ok {
		ops, err := b.parallel(n)
		if err != nil {
			return nil, err
		}
		if len(ops) > 0 {
			// parallel observed each worker's operator for n.
			return NewGather(ops), nil
		}
	}
	op, err := b.build1(n)
	if err != nil || b.env.Observe == nil {
		return op, err
	}
	return b.env.Observe(n, op), nil
}

// build1 builds the serial operator of one plan node (and its inputs).
func (b *builder) build1(n planner.Node) (Operator, error) {
	switch n := n.(type) {
	case *planner.Scan:
		return b.scan(n)
	case *planner.Values:
		schema := SchemaOf(n.Columns)
		empty := arrow.NewSchema(nil, nil)
		rows := make([][]expr.Evaluator, len(n.Rows))
		for i, r := range n.Rows {
			evs, err := b.compileAll(r, empty)
			if err != nil {
				return nil, err
			}
			rows[i] = evs
		}
		return NewValues(schema, rows, b.env.Mem), nil
	case *planner.Filter:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		c, err := b.compile(n.Cond, in.Schema())
		if err != nil {
			closeAll(in)
			return nil, err
		}
		return NewFilter(in, c, b.env.Mem), nil
	case *planner.Project:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		evs, err := b.compileAll(n.Exprs, in.Schema())
		if err != nil {
			closeAll(in)
			return nil, err
		}
		return NewProject(in, evs, SchemaOf(n.Columns)), nil
	case *planner.Aggregate:
		return b.aggregate(n)
	case *planner.Join:
		return b.join(n)
	case *planner.Sort:
		if ops, err := b.parallelSort(n); ops != nil || err != nil {
			return ops, err
		}
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		keys, err := b.sortKeys(n.Keys, in.Schema())
		if err != nil {
			closeAll(in)
			return nil, err
		}
		return NewSort(in, keys, b.env.Mem), nil
	case *planner.Limit:
		return b.limit(n)
	case *planner.SetOp:
		l, err := b.build(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := b.build(n.Right)
		if err != nil {
			closeAll(l)
			return nil, err
		}
		kind := map[planner.SetOpKind]SetOpKind{planner.Union: SetUnion, planner.Intersect: SetIntersect, planner.Except: SetExcept}[n.Kind]
		return NewSetOp(kind, n.All, l, r, SchemaOf(n.Columns), b.env.Mem), nil
	case *planner.Distinct:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		return NewDistinct(in, SchemaOf(n.Schema()), b.env.Mem), nil
	case *planner.Expect:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		checks := make([]Check, len(n.Checks))
		for i, c := range n.Checks {
			ev, err := b.compile(c.Cond, in.Schema())
			if err != nil {
				closeAll(in)
				return nil, fmt.Errorf("expectation %q: %w", c.Name, err)
			}
			checks[i] = Check{Name: c.Name, Action: c.Action, Cond: ev}
		}
		return NewExpect(in, n.Pipeline, checks, b.env.Expect, b.env.Mem), nil
	case *planner.Window:
		return b.window(n)
	case *planner.ProjectSet:
		return b.projectSet(n)
	case *planner.CTERef:
		return b.cteRef(n)
	case *planner.RecursiveCTE:
		return b.recursive(n)
	case *planner.WorkTable:
		return b.workTable(n)
	}
	return nil, fmt.Errorf("exec: no operator for plan node %T", n)
}

func (b *builder) scan(n *planner.Scan) (Operator, error) {
	if b.env.Scans == nil {
		return nil, fmt.Errorf("exec: no scan factory to read %s", n.Object.Name)
	}
	cols := n.Cols
	if cols == nil {
		cols = make([]int, len(n.Columns))
		for i := range cols {
			cols[i] = i
		}
	}
	var op Operator
	var err error
	if fs, ok := b.env.Scans.(FilteredScanFactory); ok && !scanFilters(n).Empty() {
		op, err = fs.OpenScanFiltered(b.ctx, n.Object, cols, scanFilters(n))
	} else {
		op, err = b.env.Scans.OpenScan(b.ctx, n.Object, cols)
	}
	if err != nil {
		return nil, err
	}
	schema := SchemaOf(n.Columns)
	if !typesMatch(op.Schema(), schema) {
		closeAll(op)
		return nil, fmt.Errorf("exec: the scan of %s produces %s, the plan expects %s", n.Object.Name, op.Schema(), schema)
	}
	return b.withFilters(n, newRename(op, schema)), nil
}

// aggKinds maps aggregate function names of the registry to kernels.
var aggKinds = map[string]AggKind{
	"count": AggCount, "sum": AggSum, "avg": AggAvg, "min": AggMin, "max": AggMax,
	"stddev": AggStddevSamp, "stddev_pop": AggStddevPop, "variance": AggVarSamp, "var_pop": AggVarPop,
	"bool_and": AggBoolAnd, "bool_or": AggBoolOr, "string_agg": AggStringAgg, "group_concat": AggStringAgg,
	"approx_count_distinct": AggApproxCountDistinct, "first": AggFirst, "last": AggLast,
	"array_agg": AggArrayAgg,
}

// aggArgs returns an aggregate's kind and arguments: count() without
// arguments is count(*); group_concat(x [, sep]) is string_agg over x as
// text with ',' as the default separator.
func aggArgs(fn string, args []planner.Expr) (AggKind, []planner.Expr, error) {
	k, ok := aggKinds[fn]
	if !ok {
		return 0, nil, fmt.Errorf("exec: aggregate %s is not implemented", fn)
	}
	if k == AggCount && len(args) == 0 {
		return AggCountStar, nil, nil
	}
	if fn == "group_concat" {
		x := args[0]
		if !x.Type().IsString() {
			x = &planner.Cast{Arg: x, T: catalog.String, Implicit: true}
		}
		sep := planner.Expr(&planner.Const{Value: ",", T: catalog.String})
		if len(args) > 1 {
			sep = args[1]
		}
		return k, []planner.Expr{x, sep}, nil
	}
	return k, args, nil
}

func (b *builder) aggregate(n *planner.Aggregate) (Operator, error) {
	if mergeable(n) {
		ins, err := b.parallel(n.Input)
		if err != nil {
			return nil, err
		}
		if len(ins) > 0 {
			parts := make([]*HashAggregate, len(ins))
			for i, in := range ins {
				a, err := b.newAggregate(n, in)
				if err != nil {
					closeAll(ins[i:]...)
					for _, p := range parts[:i] {
						p.Close()
					}
					return nil, err
				}
				parts[i] = a
			}
			return NewParallelAggregate(parts), nil
		}
	}
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	a, err := b.newAggregate(n, in)
	if err != nil {
		closeAll(in)
		return nil, err
	}
	return a, nil
}

// newAggregate makes the aggregation of n over in (which it does not close
// on error).
func (b *builder) newAggregate(n *planner.Aggregate, in Operator) (*HashAggregate, error) {
	var err error
	fail := func(err error) (*HashAggregate, error) {
		return nil, err
	}
	schema := in.Schema()
	keys, err := b.compileAll(n.GroupBy, schema)
	if err != nil {
		return fail(err)
	}
	var win *GroupWindow
	if w := n.Window; w != nil {
		win = &GroupWindow{Kind: map[planner.WindowKind]GroupWindowKind{planner.Tumble: WindowTumble, planner.Hop: WindowHop, planner.Session: WindowSession}[w.Kind]}
		if win.Time, err = b.compile(w.Time, schema); err != nil {
			return fail(err)
		}
		for _, p := range []struct {
			e   planner.Expr
			dst *int64
		}{{w.Size, &win.Size}, {w.Slide, &win.Slide}, {w.Gap, &win.Gap}} {
			if p.e == nil {
				continue
			}
			if *p.dst, err = b.intervalMicros(p.e); err != nil {
				return fail(err)
			}
		}
	}
	aggs := make([]AggSpec, len(n.Aggs))
	for i, a := range n.Aggs {
		kind, args, err := aggArgs(a.Fn.Name, a.Args)
		if err != nil {
			return fail(err)
		}
		s := AggSpec{Kind: kind, Distinct: a.Distinct, Type: a.T.Arrow()}
		if s.Args, err = b.compileAll(args, schema); err != nil {
			return fail(err)
		}
		if a.Filter != nil {
			if s.Filter, err = b.compile(a.Filter, schema); err != nil {
				return fail(err)
			}
		}
		if kind.orderSensitive() {
			if s.OrderBy, err = b.sortKeys(a.OrderBy, schema); err != nil {
				return fail(err)
			}
		}
		aggs[i] = s
	}
	return NewHashAggregate(in, keys, win, aggs, SchemaOf(n.Columns), b.env.Mem), nil
}

// constant evaluates a constant expression (a LIMIT, a window size) to an
// array of one value.
func (b *builder) constant(e planner.Expr) (arrow.Array, error) {
	ev, err := b.compile(e, arrow.NewSchema(nil, nil))
	if err != nil {
		return nil, err
	}
	return constValue(b.ctx, ev)
}

// intervalMicros evaluates a constant INTERVAL of fixed length to
// microseconds.
func (b *builder) intervalMicros(e planner.Expr) (int64, error) {
	a, err := b.constant(e)
	if err != nil {
		return 0, err
	}
	defer a.Release()
	if physOf(a.DataType()) != physInterval || !validityOf(a).valid(0) {
		return 0, fmt.Errorf("window size %s is not an INTERVAL", e)
	}
	iv := fixedVals[arrow.MonthDayNanoInterval](a)[0]
	if iv.Months != 0 {
		return 0, fmt.Errorf("window size %s must not be in months or years (their length varies)", e)
	}
	return int64(iv.Days)*86400*1e6 + iv.Nanoseconds/1000, nil
}

func (b *builder) limitValue(e planner.Expr, what string) (int64, error) {
	a, err := b.constant(e)
	if err != nil {
		return 0, err
	}
	defer a.Release()
	v, ok := intAt(a, 0)
	if !ok {
		if validityOf(a).valid(0) {
			return 0, fmt.Errorf("%s must be an integer, got %s", what, a.DataType())
		}
		return -1, nil // LIMIT NULL: no limit
	}
	if v < 0 {
		return 0, fmt.Errorf("%s must not be negative, got %d", what, v)
	}
	return v, nil
}

func (b *builder) limit(n *planner.Limit) (Operator, error) {
	count, offset := int64(-1), int64(0)
	var err error
	if n.Count != nil {
		if count, err = b.limitValue(n.Count, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if n.Offset != nil {
		if offset, err = b.limitValue(n.Offset, "OFFSET"); err != nil {
			return nil, err
		}
		offset = max(offset, 0)
	}
	// A top-N keeps offset+count rows; past that a full sort is cheaper.
	if s, ok := n.Input.(*planner.Sort); ok && count >= 0 && count <= maxTopN && offset <= maxTopN {
		in, err := b.build(s.Input)
		if err != nil {
			return nil, err
		}
		keys, err := b.sortKeys(s.Keys, in.Schema())
		if err != nil {
			closeAll(in)
			return nil, err
		}
		return NewTopN(in, keys, offset, count, b.env.Mem), nil
	}
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	return NewLimit(in, offset, count), nil
}

// maxTopN is the largest OFFSET or LIMIT planned as a TopN.
const maxTopN = 1 << 20

// Window function names of the registry.
var winKinds = map[string]WindowFuncKind{
	"row_number": WinRowNumber, "rank": WinRank, "dense_rank": WinDenseRank,
	"percent_rank": WinPercentRank, "cume_dist": WinCumeDist, "ntile": WinNtile,
	"lag": WinLag, "lead": WinLead, "first_value": WinFirstValue, "last_value": WinLastValue,
	"nth_value": WinNthValue,
}

func sameExprs(a, b []planner.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !planner.EqualExpr(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameKeys(a, b []planner.SortKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !planner.EqualExpr(a[i].Expr, b[i].Expr) || a[i].Desc != b[i].Desc || a[i].NullsFirst != b[i].NullsFirst {
			return false
		}
	}
	return true
}

func (b *builder) window(n *planner.Window) (Operator, error) {
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (Operator, error) {
		closeAll(in)
		return nil, err
	}
	schema := in.Schema()
	type group struct {
		part  []planner.Expr
		order []planner.SortKey
		wg    WindowGroup
	}
	var groups []*group
	for i, f := range n.Funcs {
		var g *group
		for _, x := range groups {
			if sameExprs(x.part, f.PartitionBy) && sameKeys(x.order, f.OrderBy) {
				g = x
				break
			}
		}
		if g == nil {
			g = &group{part: f.PartitionBy, order: f.OrderBy}
			if g.wg.PartitionBy, err = b.compileAll(f.PartitionBy, schema); err != nil {
				return fail(err)
			}
			if g.wg.OrderBy, err = b.sortKeys(f.OrderBy, schema); err != nil {
				return fail(err)
			}
			groups = append(groups, g)
		}
		wf := WindowFunc{Distinct: f.Distinct, Type: f.T.Arrow(), Out: i}
		args := f.Args
		if k, ok := winKinds[f.Fn.Name]; ok {
			wf.Kind = k
		} else {
			wf.Kind = WinAggregate
			if wf.Agg, args, err = aggArgs(f.Fn.Name, f.Args); err != nil {
				return fail(err)
			}
		}
		if wf.Args, err = b.compileAll(args, schema); err != nil {
			return fail(err)
		}
		if fr := f.Frame; fr != nil {
			wf.Frame = &Frame{Mode: fr.Mode}
			for i, pb := range []planner.FrameBound{fr.Start, fr.End} {
				eb := FrameBound{Kind: pb.Kind}
				if pb.Offset != nil {
					if eb.Offset, err = b.compile(pb.Offset, arrow.NewSchema(nil, nil)); err != nil {
						return fail(err)
					}
				}
				if i == 0 {
					wf.Frame.Start = eb
				} else {
					wf.Frame.End = eb
				}
			}
		}
		g.wg.Funcs = append(g.wg.Funcs, wf)
	}
	wgs := make([]WindowGroup, len(groups))
	for i, g := range groups {
		wgs[i] = g.wg
	}
	return NewWindow(in, wgs, SchemaOf(n.Columns), b.env.Mem), nil
}

func (b *builder) cteRef(n *planner.CTERef) (Operator, error) {
	schema := SchemaOf(n.Columns)
	if st := b.env.ctes; st != nil && st.shared[n.Plan] {
		s, err := st.entry(n, b.env.Mem, func() (Operator, error) { return b.build(n.Plan) })
		if err != nil {
			return nil, err
		}
		return &cteReader{shared: s, schema: schema}, nil
	}
	if b.refs[n.Plan] < 2 {
		in, err := b.build(n.Plan)
		if err != nil {
			return nil, err
		}
		return newRename(in, schema), nil
	}
	s := b.ctes[n.Plan]
	if s == nil {
		in, err := b.build(n.Plan)
		if err != nil {
			return nil, err
		}
		s = &sharedCTE{name: n.Name, input: in, readers: b.refs[n.Plan],
			acct: memAccount{mem: b.env.Mem, owner: "WITH " + n.Name}}
		b.ctes[n.Plan] = s
	}
	return &cteReader{shared: s, schema: schema}, nil
}

// rename relabels the batches of its input to another schema with the
// same column types. It is stateless.
type rename struct {
	input  Operator
	schema *arrow.Schema
}

func newRename(in Operator, schema *arrow.Schema) Operator {
	if in.Schema().Equal(schema) {
		return in
	}
	return &rename{input: in, schema: schema}
}

func (r *rename) Schema() *arrow.Schema { return r.schema }

func (r *rename) Open(ctx context.Context) error {
	if !typesMatch(r.input.Schema(), r.schema) {
		return fmt.Errorf("exec: cannot relabel %s as %s", r.input.Schema(), r.schema)
	}
	return r.input.Open(ctx)
}

func (r *rename) Next(ctx context.Context) (Batch, bool, error) {
	b, ok, err := r.input.Next(ctx)
	if ok && b.Kind == BatchData {
		b.Rec = relabel(r.schema, b.Rec)
	}
	return b, ok, err
}

func (r *rename) Close() error { return r.input.Close() }

// Collect runs op to completion (Open, Next until done, Close) and returns
// its data batches; control batches carry no rows and are skipped. On
// error nothing is returned (the batches read so far are released).
func Collect(ctx context.Context, op Operator) (recs []arrow.Record, err error) {
	defer func() {
		if r := recover(); r != nil {
			ReleaseRecords(recs)
			recs, err = nil, fmt.Errorf("exec: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	defer func() {
		if cerr := op.Close(); cerr != nil && err == nil {
			ReleaseRecords(recs)
			recs, err = nil, cerr
		}
	}()
	if err := op.Open(ctx); err != nil {
		return nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			ReleaseRecords(recs)
			return nil, err
		}
		b, ok, err := op.Next(ctx)
		if err != nil {
			ReleaseRecords(recs)
			return nil, err
		}
		if !ok {
			return recs, nil
		}
		if b.Kind == BatchData {
			recs = append(recs, b.Rec)
		}
	}
}

// CollectRecord runs op to completion and returns all its rows as one
// record (with op's schema; no rows gives an empty record).
func CollectRecord(ctx context.Context, op Operator, mem *Memory) (arrow.Record, error) {
	schema := op.Schema()
	recs, err := Collect(ctx, op)
	if err != nil {
		return nil, err
	}
	defer ReleaseRecords(recs)
	if len(recs) == 0 {
		cols := make([]arrow.Array, schema.NumFields())
		for i, f := range schema.Fields() {
			a, err := emptyArray(mem.Alloc, f.Type)
			if err != nil {
				releaseArrays(cols)
				return nil, err
			}
			cols[i] = a
		}
		return newRecord(schema, cols, 0), nil
	}
	return concatRecords(mem.Alloc, schema, recs)
}

// Close drops what the statement's subqueries cached, so the memory can be
// reclaimed. Call it when the operators built with env are closed.
func (e *BuildEnv) Close() {
	e.cache = nil
	e.exprEnv = nil
}

// projectSet builds the ProjectSet of a select list's set-returning
// functions.
func (b *builder) projectSet(n *planner.ProjectSet) (Operator, error) {
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	funcs := make([]SetFunc, len(n.Funcs))
	for i, f := range n.Funcs {
		kind, ok := map[string]SetFuncKind{"unnest": SetUnnest, "generate_subscripts": SetSubscripts,
			"_pg_expandarray": SetExpandArray, "__etl_ordinality": SetOrdinality}[f.Name]
		if !ok {
			closeAll(in)
			return nil, fmt.Errorf("exec: no set-returning function %s", f.Name)
		}
		funcs[i].Kind = kind
		if len(f.Args) > 0 {
			if funcs[i].Arg, err = b.compile(f.Args[0], in.Schema()); err != nil {
				closeAll(in)
				return nil, err
			}
		}
	}
	return NewProjectSet(in, funcs, SchemaOf(n.Columns), b.env.Mem), nil
}
