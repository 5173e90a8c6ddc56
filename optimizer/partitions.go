package optimizer

import (
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// This rule gives each scan of a file relation laid out in partition
// directories (key=value/, as a sink WITH (partition_by = 'key') writes
// them) the conditions of the filter right above it that read only
// partition columns, as Scan.PartitionFilters: =, IN, ranges, IS NULL,
// and any other condition without subqueries or functions whose value
// changes from call to call (random()). Constant folding has run, so
// `dt >= DATE '2024-01-01' + INTERVAL '1' MONTH` arrives as a comparison
// with one constant. The reader evaluates them once per partition
// directory, on the directory's values, and skips the files of every
// partition for which one is not TRUE; the filter stays and still applies
// them to the rows read.
//
// Which columns are partition columns: those a sink's partition_by option
// names, and for sources those Options.Partitions reports (it lists the
// source's directories). It runs with the row-group rule, last, when the
// scans' columns are final.

// PartitionColumns tells the optimizer which columns of a file relation
// take their values from its partition directories.
type PartitionColumns interface {
	// PartitionColumns returns the names of the partition columns of obj
	// (in any case), nil when it has none or they are not known.
	PartitionColumns(obj *catalog.Object) []string
}

// partitionColumns returns the partition columns of a scanned relation,
// by lower-case name: a sink's partition_by, and what
// Options.Partitions knows.
func (o *opt) partitionColumns(obj *catalog.Object) map[string]bool {
	out := map[string]bool{}
	if pb := obj.Options["partition_by"]; pb != "" && obj.Kind == catalog.ObjectSink {
		for _, c := range strings.Split(pb, ",") {
			if c = strings.TrimSpace(c); c != "" {
				out[strings.ToLower(c)] = true
			}
		}
	}
	if o.parts != nil && obj.Kind == catalog.ObjectSource {
		for _, c := range o.parts.PartitionColumns(obj) {
			out[strings.ToLower(c)] = true
		}
	}
	return out
}

// partitionFilters returns the conjuncts of cond (over sc's columns)
// that read partition columns only.
func (o *opt) partitionFilters(sc *planner.Scan, cond planner.Expr) []planner.Expr {
	if sc.Stream || sc.Object == nil {
		return nil
	}
	switch sc.Object.Kind {
	case catalog.ObjectSource, catalog.ObjectSink:
	default:
		return nil
	}
	parts := o.partitionColumns(sc.Object)
	if len(parts) == 0 {
		return nil
	}
	isPart := func(i int) bool {
		j := i
		if sc.Cols != nil {
			if i >= len(sc.Cols) {
				return false
			}
			j = sc.Cols[i]
		}
		return j >= 0 && j < len(sc.Object.Columns) && parts[strings.ToLower(sc.Object.Columns[j].Name)]
	}
	var out []planner.Expr
	for _, c := range conjuncts(cond) {
		cols := colsOf(c)
		if len(cols) == 0 || planner.HasSubquery(c) || hasOuter(c) || hasVolatile(c) {
			continue
		}
		ok := true
		for i := range cols {
			ok = ok && isPart(i)
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// hasVolatile reports whether e calls a function whose value changes
// from call to call.
func hasVolatile(e planner.Expr) bool {
	found := false
	planner.WalkExpr(e, func(x planner.Expr) bool {
		if call, ok := x.(*planner.Call); ok && volatile[call.Name] {
			found = true
		}
		return !found
	})
	return found
}
