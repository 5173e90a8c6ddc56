package session

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/planner"
)

// analyzeSample is the number of rows ANALYZE reads of a Parquet relation
// whose footers say it has more: the footers give the exact row count,
// NULL counts and ranges, the sample the distinct counts.
const analyzeSample = 1 << 20

// analyze runs ANALYZE: it gathers the statistics of a source or managed
// table and stores them in the catalog, where the optimizer and etl.stats
// find them. Per column: NULLs, distinct values (HyperLogLog, through
// approx_count_distinct), smallest and largest value, average width.
//
// A Parquet relation's row count, NULL counts and ranges come from its
// footers when they have them; its distinct counts from a scan of the
// first analyzeSample rows when it has more, scaled up as d·(N/n)^(d/n)
// (d distinct of n sampled out of N: a column whose sample is all
// distinct, a key, grows with the rows; one that repeats keeps its count).
// Other formats are read whole.
func (r *stmtRun) analyze(ctx context.Context, obj *catalog.Object) error {
	r.res.Tag = "ANALYZE"
	if obj == nil {
		return fmt.Errorf("nothing to analyze")
	}
	if obj.Kind != catalog.ObjectSource && obj.Kind != catalog.ObjectTable {
		return &codeError{code: "42809", msg: fmt.Sprintf("cannot analyze %s %q: ANALYZE reads sources and tables", obj.Kind, obj.Name)}
	}
	opts, ok := r.relationOptions(obj)
	if !ok {
		return fmt.Errorf("analyze %q: the relation's options do not parse", obj.Name)
	}
	var footer *catalog.TableStats
	if opts.Format == connector.FormatParquet {
		ts, err := parquetStats(ctx, r.s.eng.conn, obj, opts)
		if err != nil {
			return fmt.Errorf("analyze %q: %w", obj.Name, err)
		}
		footer = ts
	}
	sample := footer != nil && footer.Rows > analyzeSample
	plan, aggs := r.analyzePlan(obj, sample)
	recs, err := r.collect(ctx, plan)
	if err != nil {
		return fmt.Errorf("analyze %q: %w", obj.Name, err)
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	var row arrow.Record
	for _, rec := range recs {
		if rec.NumRows() > 0 {
			row = rec
		}
	}
	if row == nil {
		return fmt.Errorf("analyze %q: the aggregate returned no row", obj.Name)
	}
	n := float64(row.Column(0).(*array.Int64).Value(0))
	ts := catalog.TableStats{Relation: obj.Name, Rows: n, Origin: "analyze", Sampled: sample,
		AnalyzedAt: time.Now().UTC().Truncate(time.Microsecond)}
	total := n
	if footer != nil {
		total = footer.Rows
		ts.Rows = total
	}
	for i, c := range obj.Columns {
		a := aggs[i]
		cs := catalog.ColumnStats{Name: c.Name, Distinct: -1, Nulls: -1}
		nonNull := float64(row.Column(a.count).(*array.Int64).Value(0))
		cs.Nulls = n - nonNull
		if a.ndv >= 0 {
			d := float64(row.Column(a.ndv).(*array.Int64).Value(0))
			d = math.Min(d, nonNull)
			if sample && nonNull > 0 {
				d = math.Min(d*math.Pow(total/n, d/nonNull), total)
			}
			cs.Distinct = math.Round(d)
		}
		if a.min >= 0 {
			lo, hi := row.Column(a.min), row.Column(a.max)
			if !lo.IsNull(0) {
				cs.MinText, _ = FormatValue(lo, 0)
				cs.MaxText, _ = FormatValue(hi, 0)
				l, lok := numericOf(lo)
				h, hok := numericOf(hi)
				if lok && hok {
					cs.HasRange, cs.Min, cs.Max = true, l, h
				}
			}
		}
		if w, ok := numericOf(row.Column(max(a.width, 0))); a.width >= 0 && nonNull > 0 && ok && !row.Column(a.width).IsNull(0) {
			cs.AvgWidth = math.Round(w/nonNull*100) / 100
		} else if c.Type.Kind != catalog.KindString {
			cs.AvgWidth = typeWidth(c.Type)
		}
		if footer != nil && i < len(footer.Columns) {
			// The footers count every row, not a sample.
			f := footer.Columns[i]
			if f.Nulls >= 0 {
				cs.Nulls = f.Nulls
			}
			if f.HasRange {
				cs.HasRange, cs.Min, cs.Max = true, f.Min, f.Max
				cs.MinText, cs.MaxText = f.MinText, f.MaxText
			}
		}
		ts.Columns = append(ts.Columns, cs)
	}
	if err := r.s.eng.cat.SetStats(ctx, ts); err != nil {
		return fmt.Errorf("analyze %q: %w", obj.Name, err)
	}
	return nil
}

// analyzeAggs are the positions of one column's aggregates in the
// ANALYZE plan's output (-1: not computed for the column's type).
type analyzeAggs struct {
	count, ndv, min, max, width int
}

// analyzePlan is SELECT count(*), then per column count(c),
// approx_count_distinct(c), min(c), max(c), sum(octet_length(c)) FROM obj
// (LIMIT analyzeSample when sample).
func (r *stmtRun) analyzePlan(obj *catalog.Object, sample bool) (planner.Node, []analyzeAggs) {
	reg := r.s.eng.reg
	cols := make([]planner.Column, len(obj.Columns))
	for i, c := range obj.Columns {
		cols[i] = planner.Column{Name: c.Name, Qualifier: obj.Name, Type: c.Type, Nullable: !c.NotNull}
	}
	var in planner.Node = &planner.Scan{Object: obj, Alias: obj.Name, Columns: cols}
	if sample {
		in = &planner.Limit{Input: in, Count: &planner.Const{Value: int64(analyzeSample), T: catalog.Int64}}
	}
	agg := &planner.Aggregate{Input: in}
	add := func(name string, t catalog.Type, args ...planner.Expr) int {
		fn, _ := reg.Lookup(name)
		types := make([]catalog.Type, len(args))
		for i, a := range args {
			types[i] = a.Type()
		}
		if res, err := reg.Resolve(fn, types); err == nil && len(args) > 0 {
			t = res.Result
		}
		agg.Aggs = append(agg.Aggs, &planner.AggCall{Fn: fn, Args: args, T: t})
		agg.Columns = append(agg.Columns, planner.Column{Name: name, Type: t, Nullable: name != "count"})
		return len(agg.Aggs) - 1
	}
	add("count", catalog.Int64)
	out := make([]analyzeAggs, len(obj.Columns))
	for i, c := range obj.Columns {
		ref := &planner.ColRef{Index: i, Name: c.Name, T: c.Type}
		a := analyzeAggs{ndv: -1, min: -1, max: -1, width: -1}
		a.count = add("count", catalog.Int64, ref)
		switch c.Type.Kind {
		case catalog.KindBool, catalog.KindBinary, catalog.KindJSON, catalog.KindInterval:
		default:
			a.ndv = add("approx_count_distinct", catalog.Int64, ref)
			a.min = add("min", c.Type, ref)
			a.max = add("max", c.Type, ref)
		}
		if c.Type.IsString() {
			if fn, ok := reg.Lookup("octet_length"); ok {
				a.width = add("sum", catalog.Int64, &planner.Call{Fn: fn, Name: "octet_length", Args: []planner.Expr{ref}, T: catalog.Int64})
			}
		}
		out[i] = a
	}
	return agg, out
}

// numericOf reads value 0 of arr on the numeric scale of
// catalog.ColumnStats.
func numericOf(arr arrow.Array) (float64, bool) {
	switch a := arr.(type) {
	case *array.Int8:
		return float64(a.Value(0)), true
	case *array.Int16:
		return float64(a.Value(0)), true
	case *array.Int32:
		return float64(a.Value(0)), true
	case *array.Int64:
		return float64(a.Value(0)), true
	case *array.Float32:
		return float64(a.Value(0)), true
	case *array.Float64:
		return a.Value(0), true
	case *array.Decimal128:
		return a.Value(0).ToFloat64(a.DataType().(*arrow.Decimal128Type).Scale), true
	case *array.Date32:
		return float64(a.Value(0)), true
	case *array.Time64:
		return float64(a.Value(0)), true
	case *array.Timestamp:
		return float64(a.Value(0)), true
	}
	return 0, false
}
