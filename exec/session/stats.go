package session

import (
	"context"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/optimizer"
	"github.com/etlc/etlc/planner"
)

// fileStats estimates the size of sources and tables for the optimizer
// from the bytes of their files (one listing per relation and statement):
// the bytes divided by a row width guessed from the column types, with
// Parquet counted as compressing about three to one. Only relative sizes
// matter: they choose the build side of joins.
type fileStats struct {
	ctx   context.Context
	r     *stmtRun
	cache map[string]float64
}

var _ optimizer.Stats = (*fileStats)(nil)

// RowCount implements optimizer.Stats.
func (s *fileStats) RowCount(obj *catalog.Object) (float64, bool) {
	if r, ok := s.cache[obj.Name]; ok {
		return r, r >= 0
	}
	r := s.rowCount(obj)
	s.cache[obj.Name] = r
	return r, r >= 0
}

func (s *fileStats) rowCount(obj *catalog.Object) float64 {
	var opts connector.Options
	var err error
	switch obj.Kind {
	case catalog.ObjectSource:
		opts, err = connector.ParseOptions(obj.Options, connector.RoleSource)
	case catalog.ObjectTable:
		opts, err = tableOptions(s.r.s.eng.tableDir(obj.Name), connector.ModeAppend)
	default:
		return -1
	}
	if err != nil {
		return -1
	}
	files, err := s.r.s.eng.conn.ListFiles(s.ctx, opts)
	if err != nil {
		return -1
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
	return bytes / width
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

// optimize runs the optimizer over a plan of the statement.
func (r *stmtRun) optimize(ctx context.Context, plan planner.Node, keepColumns bool) (planner.Node, error) {
	return optimizer.Optimize(plan, optimizer.Options{Registry: r.s.eng.reg, KeepColumns: keepColumns,
		Stats: &fileStats{ctx: ctx, r: r, cache: map[string]float64{}}})
}
