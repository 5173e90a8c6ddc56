package session

import (
	"context"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/optimizer"
	"github.com/etlc/etlc/planner"
)

// PhysicalPlans returns, for each statement of a compiled program, the
// optimized plan of the query it runs (a SELECT, the query of an INSERT,
// CREATE ... AS, VALIDATE or pipeline, the source of a MERGE) with the
// estimated rows and cost of each operator, as EXPLAIN shows them; nil for
// a statement that runs no query. It reads no data: the estimates come
// from the files' Parquet footers and sizes (conn lists and reads them; a
// relation that cannot be read counts as of unknown size), and the
// partition columns of sources from their directories. reg is the
// registry the program was bound with (nil: a new one). An internal
// error of the optimizer is returned as an error.
func PhysicalPlans(ctx context.Context, prog *planner.Program, conn *connector.FileConnector, reg *planner.Registry) ([]*optimizer.PhysicalOp, error) {
	if reg == nil {
		reg = planner.NewRegistry()
	}
	ps := &planStats{ctx: ctx, conn: conn, cache: map[string]*catalog.TableStats{}, parts: map[string][]string{}}
	opts := optimizer.Options{Registry: reg, Stats: ps, Partitions: ps}
	est := optimizer.NewEstimator(opts)
	out := make([]*optimizer.PhysicalOp, len(prog.Statements))
	for i, st := range prog.Statements {
		plan := stmtQuery(st)
		if plan == nil {
			continue
		}
		opt, err := optimizer.Optimize(plan, opts)
		if err != nil {
			return nil, err
		}
		out[i] = est.Physical(opt)
	}
	return out, nil
}

// stmtQuery is the query plan a statement runs, nil for none.
func stmtQuery(st planner.BoundStmt) planner.Node {
	switch s := st.(type) {
	case *planner.QueryStmt:
		return s.Plan
	case *planner.InsertStmt:
		return s.Plan
	case *planner.CreateStmt:
		return s.Query
	case *planner.ValidateStmt:
		return s.Plan
	case *planner.PipelineStmt:
		if s.Insert != nil {
			return s.Insert.Plan
		}
	case *planner.MergeStmt:
		return s.Source
	}
	return nil
}

// planStats estimates file sources from their files, without an engine:
// the statistics of `etlc compile`.
type planStats struct {
	ctx   context.Context
	conn  *connector.FileConnector
	cache map[string]*catalog.TableStats
	parts map[string][]string
}

// TableStats implements optimizer.Stats.
func (s *planStats) TableStats(obj *catalog.Object) (catalog.TableStats, bool) {
	key := catalogKey(obj.Name)
	ts, ok := s.cache[key]
	if !ok {
		if obj.Kind == catalog.ObjectSource && s.conn != nil {
			if opts, err := connector.ParseOptions(obj.Options, connector.RoleSource); err == nil {
				ts = filesStats(s.ctx, s.conn, obj, opts)
			}
		}
		s.cache[key] = ts
	}
	if ts == nil {
		return catalog.TableStats{}, false
	}
	return *ts, true
}

// PartitionColumns implements optimizer.PartitionColumns.
func (s *planStats) PartitionColumns(obj *catalog.Object) []string {
	if obj.Kind != catalog.ObjectSource || s.conn == nil {
		return nil
	}
	key := catalogKey(obj.Name)
	if cols, ok := s.parts[key]; ok {
		return cols
	}
	cols := listPartitionColumns(s.ctx, s.conn, obj)
	s.parts[key] = cols
	return cols
}
