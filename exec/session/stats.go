package session

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/optimizer"
	"github.com/etlc/etlc/planner"
)

// fileStats gives the optimizer what is known about sources and tables,
// once per relation and statement, from the best of:
//
//   - the statistics in the catalog (ANALYZE, or writes to a managed
//     table);
//   - for Parquet, the footers of the files: row counts, and per column the
//     NULL count and the range (no distinct counts);
//   - otherwise the bytes of the files divided by a row width guessed from
//     the column types (Parquet counted as compressing about three to
//     one).
type fileStats struct {
	ctx   context.Context
	r     *stmtRun
	cache map[string]*catalog.TableStats // nil entry: nothing known
}

var _ optimizer.Stats = (*fileStats)(nil)

// TableStats implements optimizer.Stats.
func (s *fileStats) TableStats(obj *catalog.Object) (catalog.TableStats, bool) {
	key := catalogKey(obj.Name)
	ts, ok := s.cache[key]
	if !ok {
		ts = s.tableStats(obj)
		s.cache[key] = ts
	}
	if ts == nil {
		return catalog.TableStats{}, false
	}
	return *ts, true
}

func (s *fileStats) tableStats(obj *catalog.Object) *catalog.TableStats {
	if ts, ok := s.r.s.eng.cat.Stats(obj.Name); ok {
		return &ts
	}
	opts, ok := s.r.relationOptions(obj)
	if !ok {
		return nil
	}
	return filesStats(s.ctx, s.r.s.eng.conn, obj, opts)
}

// filesStats estimates a relation from its files: Parquet footers, or
// the bytes of the files; nil when they cannot be read.
func filesStats(ctx context.Context, conn *connector.FileConnector, obj *catalog.Object, opts connector.Options) *catalog.TableStats {
	if opts.Format == connector.FormatParquet {
		if ts, err := parquetStats(ctx, conn, obj, opts); err == nil {
			return ts
		}
	}
	files, err := conn.ListFiles(ctx, opts)
	if err != nil {
		return nil
	}
	var bytes float64
	for _, f := range files {
		bytes += float64(f.Size)
	}
	if opts.Format == connector.FormatParquet {
		bytes *= 3
	}
	width := 0.0
	for _, c := range obj.Columns {
		width += typeWidth(c.Type)
	}
	if width == 0 {
		width = 8
	}
	return &catalog.TableStats{Relation: obj.Name, Rows: math.Ceil(bytes / width), Origin: "files"}
}

// relationOptions returns the file options a source or managed table is
// read with; ok is false for other relations.
func (r *stmtRun) relationOptions(obj *catalog.Object) (connector.Options, bool) {
	var opts connector.Options
	var err error
	switch obj.Kind {
	case catalog.ObjectSource:
		opts, err = connector.ParseOptions(obj.Options, connector.RoleSource)
	case catalog.ObjectTable:
		opts, err = tableOptions(r.s.eng.tableDir(obj.Name), connector.ModeAppend)
	default:
		return opts, false
	}
	return opts, err == nil
}

// parquetStats sums up the Parquet footers of a relation's files.
func parquetStats(ctx context.Context, conn *connector.FileConnector, obj *catalog.Object, opts connector.Options) (*catalog.TableStats, error) {
	names := make([]string, len(obj.Columns))
	for i, c := range obj.Columns {
		names[i] = c.Name
	}
	sum, err := conn.ParquetSummary(ctx, opts, names)
	if err != nil {
		return nil, err
	}
	ts := &catalog.TableStats{Relation: obj.Name, Rows: float64(sum.Rows), Origin: "parquet", AnalyzedAt: time.Now().UTC()}
	for i, cs := range sum.Columns {
		c := catalog.ColumnStats{Name: obj.Columns[i].Name, Distinct: -1, Nulls: -1}
		if cs.NullsKnown {
			c.Nulls = float64(cs.Nulls)
		}
		if cs.HasRange {
			c.HasRange, c.Min, c.Max = true, cs.Min, cs.Max
			c.MinText, c.MaxText = numericText(cs.Min, obj.Columns[i].Type), numericText(cs.Max, obj.Columns[i].Type)
		} else if cs.MinText != "" || cs.MaxText != "" {
			c.MinText, c.MaxText = cs.MinText, cs.MaxText
		}
		ts.Columns = append(ts.Columns, c)
	}
	return ts, nil
}

// numericText prints a value on the numeric scale of catalog.ColumnStats
// as SQL text of type t.
func numericText(v float64, t catalog.Type) string {
	switch t.Kind {
	case catalog.KindDate:
		return time.Unix(int64(v)*86400, 0).UTC().Format("2006-01-02")
	case catalog.KindTimestamp, catalog.KindTimestampTZ:
		return time.UnixMicro(int64(v)).UTC().Format("2006-01-02 15:04:05.999999")
	case catalog.KindTime:
		return time.UnixMicro(int64(v)).UTC().Format("15:04:05.999999")
	case catalog.KindDecimal:
		return strconv.FormatFloat(v, 'f', t.Scale, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// typeWidth guesses the bytes a value of t takes in a file.
func typeWidth(t catalog.Type) float64 {
	switch {
	case t.IsString():
		if t.Length > 0 {
			return float64(t.Length) / 2
		}
		return 16
	case t.Kind == catalog.KindBool:
		return 1
	}
	return 8
}

// optimizerOptions are the options the statement's plans are optimized
// (and EXPLAINed) with.
func (r *stmtRun) optimizerOptions(ctx context.Context, keepColumns bool) optimizer.Options {
	return optimizer.Options{Registry: r.s.eng.reg, KeepColumns: keepColumns,
		Stats:      &fileStats{ctx: ctx, r: r, cache: map[string]*catalog.TableStats{}},
		Partitions: &sourcePartitions{ctx: ctx, r: r, cache: map[string][]string{}}}
}

// optimize runs the optimizer over a plan of the statement.
func (r *stmtRun) optimize(ctx context.Context, plan planner.Node, keepColumns bool) (planner.Node, error) {
	return optimizer.Optimize(plan, r.optimizerOptions(ctx, keepColumns))
}

// noteTableWrite keeps a managed table's statistics current after a
// committed write of rows rows. An overwrite replaces them with the new
// row count (ANALYZE adds the columns again). An append adds the rows to
// known statistics and forgets what new rows may change: ranges and NULL
// counts; distinct counts stay, as a lower bound. A failure to store them
// leaves the old ones: statistics guide plans, they never change results.
func (e *Engine) noteTableWrite(ctx context.Context, obj *catalog.Object, rows int64, overwrite bool) {
	if obj.Temporary {
		return
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if overwrite {
		_ = e.cat.SetStats(ctx, catalog.TableStats{Relation: obj.Name, Rows: float64(rows), Origin: "write", AnalyzedAt: now})
		return
	}
	ts, ok := e.cat.Stats(obj.Name)
	if !ok {
		return
	}
	ts.Rows += float64(rows)
	ts.Origin, ts.AnalyzedAt = "write", now
	for i := range ts.Columns {
		c := &ts.Columns[i]
		c.Nulls, c.HasRange, c.Min, c.Max, c.MinText, c.MaxText = -1, false, 0, 0, "", ""
	}
	_ = e.cat.SetStats(ctx, ts)
}
