package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/expr"
	"github.com/etlc/etlc/optimizer"
	"github.com/etlc/etlc/planner"
)

// Partition pruning. The optimizer gives a scan of a partitioned source or
// sink the conditions that read only partition columns
// (planner.Scan.PartitionFilters); the scan lists its files and keeps
// those of the partition directories (dt=2024-01-01/region=eu/) for which
// every condition is TRUE on the directory's values. Each directory is
// evaluated once, with the expression kernels the query runs with, on its
// values converted as the reader converts them. A condition that reads a
// column the directory has no value for, or a value that does not
// convert, keeps the directory: the read then finds what it would without
// pruning.

// prunedListing lists the files s reads and keeps those of the partitions
// its partition filters do not rule out.
func (f *scanFactory) prunedListing(ctx context.Context, s *fileScan) ([]connector.SourceFile, error) {
	files, err := f.r.s.eng.conn.ListFiles(ctx, s.opts)
	if err != nil {
		return nil, err
	}
	kept, _, _, err := f.r.prunePartitions(ctx, files, s.fields, s.columns, s.partFilters)
	return kept, err
}

// prunePartitions keeps the files whose partition directories can hold
// rows that meet filters (over the given columns of fields). It returns
// them with the number of partitions (distinct directories with partition
// values) kept and listed.
func (r *stmtRun) prunePartitions(ctx context.Context, files []connector.SourceFile, fields []connector.Field, columns []int,
	filters []planner.Expr) (kept []connector.SourceFile, nKept, total int, err error) {
	schemaFields := make([]connector.Field, len(columns))
	for k, i := range columns {
		schemaFields[k] = fields[i]
	}
	schema := connector.ArrowSchema(schemaFields)
	env := &expr.Env{Alloc: r.mem.Alloc, Params: r.rs.opts.Params, Now: r.start, Location: r.s.location()}
	evs := make([]expr.Evaluator, len(filters))
	reads := make([][]int, len(filters))
	for i, e := range filters {
		if evs[i], err = expr.Compile(e, schema, env); err != nil {
			return nil, 0, 0, fmt.Errorf("partition filter %s: %w", e, err)
		}
		planner.WalkExpr(e, func(x planner.Expr) bool {
			if c, ok := x.(*planner.ColRef); ok {
				reads[i] = append(reads[i], c.Index)
			}
			return true
		})
	}
	keep := map[string]bool{}
	kept = make([]connector.SourceFile, 0, len(files))
	for _, fl := range files {
		if len(fl.Partitions) == 0 {
			kept = append(kept, fl)
			continue
		}
		dir := partitionKey(fl.Partitions)
		k, seen := keep[dir]
		if !seen {
			total++
			if k, err = evalPartition(ctx, r, fields, columns, fl.Partitions, evs, reads); err != nil {
				return nil, 0, 0, err
			}
			keep[dir] = k
			if k {
				nKept++
			}
		}
		if k {
			kept = append(kept, fl)
		}
	}
	return kept, nKept, total, nil
}

// partitionKey identifies a file's partition directory by its values.
func partitionKey(parts []connector.PartitionValue) string {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%q=", p.Column)
		if p.Null {
			b.WriteString("null/")
		} else {
			fmt.Fprintf(&b, "%q/", p.Value)
		}
	}
	return b.String()
}

// evalPartition reports whether every filter is TRUE on one directory's
// values, or cannot be told.
func evalPartition(ctx context.Context, r *stmtRun, fields []connector.Field, columns []int, parts []connector.PartitionValue,
	evs []expr.Evaluator, reads [][]int) (bool, error) {
	rec, present, err := connector.PartitionRecord(r.mem.Alloc, fields, columns, parts)
	if err != nil {
		// The read reports the bad directory value.
		return true, nil
	}
	defer rec.Release()
	for i, ev := range evs {
		ok := true
		for _, c := range reads[i] {
			ok = ok && c >= 0 && c < len(present) && present[c]
		}
		if !ok {
			continue
		}
		out, err := ev.Eval(ctx, rec)
		if err != nil {
			// An error on a directory's values (a division by zero, a
			// bad cast) would be one on its rows too: read them.
			continue
		}
		b, isBool := out.(*array.Boolean)
		t := isBool && out.Len() == 1 && b.IsValid(0) && b.Value(0)
		out.Release()
		if !t {
			return false, nil
		}
	}
	return true, nil
}

// partitionCounts returns how many partitions of a scan's relation its
// partition filters keep, out of how many: what EXPLAIN shows. ok is false
// when the relation is not read with partition pruning or cannot be
// listed.
func (r *stmtRun) partitionCounts(ctx context.Context, sc *planner.Scan) (kept, total int, ok bool) {
	if len(sc.PartitionFilters) == 0 || sc.Object == nil {
		return 0, 0, false
	}
	f := &scanFactory{r: r}
	obj := sc.Object
	var fs *fileScan
	var err error
	cols := sc.Cols
	if cols == nil {
		cols = make([]int, len(sc.Columns))
		for i := range cols {
			cols[i] = i
		}
	}
	switch obj.Kind {
	case catalog.ObjectSource:
		fs, err = f.sourceScan(obj, cols)
	case catalog.ObjectSink:
		fs, err = f.sinkScan(obj, cols)
	default:
		return 0, 0, false
	}
	if err != nil || fs.opts.OnError != connector.OnErrorFail {
		return 0, 0, false
	}
	files, err := r.s.eng.conn.ListFiles(ctx, fs.opts)
	if err != nil {
		return 0, 0, false
	}
	_, kept, total, err = r.prunePartitions(ctx, files, fs.fields, cols, sc.PartitionFilters)
	return kept, total, err == nil
}

// sourcePartitions implements optimizer.PartitionColumns for the
// statement: the partition columns of a source are the columns named by
// the key=value directories of its files (listed once per statement).
type sourcePartitions struct {
	ctx   context.Context
	r     *stmtRun
	cache map[string][]string
}

var _ optimizer.PartitionColumns = (*sourcePartitions)(nil)

// PartitionColumns implements optimizer.PartitionColumns.
func (p *sourcePartitions) PartitionColumns(obj *catalog.Object) []string {
	if obj.Kind != catalog.ObjectSource {
		return nil
	}
	key := catalogKey(obj.Name)
	if cols, ok := p.cache[key]; ok {
		return cols
	}
	cols := listPartitionColumns(p.ctx, p.r.s.eng.conn, obj)
	p.cache[key] = cols
	return cols
}

// listPartitionColumns returns the columns the key=value directories of a
// source's files name, in the order first seen; none for a source read
// with on_error drop or quarantine (which reads every file) or one that
// cannot be listed.
func listPartitionColumns(ctx context.Context, conn *connector.FileConnector, obj *catalog.Object) []string {
	opts, err := connector.ParseOptions(obj.Options, connector.RoleSource)
	if err != nil || opts.OnError != connector.OnErrorFail {
		return nil
	}
	files, err := conn.ListFiles(ctx, opts)
	if err != nil {
		return nil
	}
	var cols []string
	seen := map[string]bool{}
	for _, f := range files {
		for _, v := range f.Partitions {
			if k := strings.ToLower(v.Column); !seen[k] {
				seen[k] = true
				cols = append(cols, v.Column)
			}
		}
	}
	return cols
}
