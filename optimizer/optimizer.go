package optimizer

import (
	"fmt"
	"runtime/debug"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// Stats gives what is known about the data of catalog relations: row
// counts and column statistics (cardinality.go uses them). It is optional:
// without it every relation counts as unknownRows rows.
type Stats interface {
	// TableStats returns the statistics of a relation; ok is false when
	// nothing is known. Columns may be missing or partly unknown.
	TableStats(obj *catalog.Object) (stats catalog.TableStats, ok bool)
}

// Options configure Optimize.
type Options struct {
	// Registry resolves the functions the rules add (AND); nil: a fresh
	// planner.NewRegistry().
	Registry *planner.Registry
	// Stats estimates relation sizes (nil: unknown).
	Stats Stats
	// Partitions says which columns of a source come from its partition
	// directories (nil: only the partition_by columns of sinks are known).
	Partitions PartitionColumns
	// KeepColumns leaves out the pruning of columns: every scan reads all
	// of its relation's columns (for callers whose scans have fixed
	// columns).
	KeepColumns bool
}

// opt is one Optimize call.
type opt struct {
	reg   *planner.Registry
	stats Stats
	parts PartitionColumns
	keep  bool
	// ctes maps a CTE's (or view's) plan to its optimized plan, so that
	// every reference to one CTE keeps sharing one plan.
	ctes map[planner.Node]planner.Node
	// cards caches estimates (cardinality.go).
	cards map[planner.Node]*card
}

// Optimize rewrites a bound logical plan into an equivalent one that runs
// faster, with these rules in order (each in its own file):
//
//   - decorrelate.go: EXISTS and NOT EXISTS conditions become semi and
//     anti joins, and correlated scalar subqueries over an aggregate
//     become a left join with the aggregate grouped by the correlation
//     keys, so that none is run once per row;
//   - subqueries.go: the plans of the other subqueries used as
//     expressions, and of CTEs, are optimized the same way;
//   - joins.go: the conditions of a WHERE over inner and cross joins are
//     split, each placed on the lowest join or relation that has its
//     columns (filters also move into derived tables and through left,
//     semi and anti joins), equality conditions become hash join keys,
//     and the relations are joined in FROM order except that a relation
//     that no condition connects to the ones already joined waits until
//     one does (no needless cross product); the smaller estimated input
//     of each join is its build side;
//   - prune.go: every operator passes on only the columns used above it,
//     and scans read only those;
//   - rowgroups.go and partitions.go: a scan of files gets the conditions
//     of the filter above it that let the reader skip Parquet row groups
//     by their statistics and partition directories by their values;
//   - cse.go: an expression an operator evaluates more than once per row
//     is computed once, by a projection below it;
//   - buildside.go: a SEMI, ANTI or LEFT join whose left input is the
//     smaller builds its hash table on it.
//
// The result has the same output columns, in the same order, as n. The
// input plan is not modified. An internal error (a bug in a rule) is
// returned as an error, never as a panic.
func Optimize(n planner.Node, opts Options) (out planner.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("optimizer: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if n == nil {
		return nil, nil
	}
	o := &opt{reg: opts.Registry, stats: opts.Stats, parts: opts.Partitions, keep: opts.KeepColumns, ctes: map[planner.Node]planner.Node{},
		cards: map[planner.Node]*card{}}
	if o.reg == nil {
		o.reg = planner.NewRegistry()
	}
	return o.root(n), nil
}

// root optimizes one plan whose every output column is used.
func (o *opt) root(n planner.Node) planner.Node {
	need := make([]bool, len(n.Schema()))
	for i := range need {
		need[i] = true
	}
	return o.rootNeed(n, need)
}

// rootNeed optimizes one plan of which only the needed output columns are
// used; the others may come out as anything (they keep their position).
func (o *opt) rootNeed(n planner.Node, need []bool) planner.Node {
	n = o.constFold(n)
	n = o.decorrelate(n)
	n = o.subqueries(n)
	n = o.simplifyOuter(n)
	n = o.joins(n)
	n = o.pushLimits(n)
	if o.keep {
		return o.buildSides(o.cse(o.pruneFilters(n)))
	}
	n, m := o.prune(n, need)
	return o.buildSides(o.cse(o.pruneFilters(o.restore(n, m, need))))
}

// cte optimizes the plan of a CTE or view reference once: every reference
// shares the result, as the references shared the plan. The rules treat a
// CTERef as a relation of its own.
func (o *opt) cte(ref *planner.CTERef) *planner.CTERef {
	done, ok := o.ctes[ref.Plan]
	if !ok {
		done = o.root(ref.Plan)
		o.ctes[ref.Plan] = done
	}
	c := *ref
	c.Plan = done
	return &c
}

// restore puts the needed output columns of a pruned plan back at their
// old positions (m maps old positions to new ones): a Project, unless
// they are already there. Unneeded positions hold NULLs of their type.
func (o *opt) restore(n planner.Node, m []int, need []bool) planner.Node {
	same := true
	for i, nd := range need {
		if nd && m[i] != i {
			same = false
		}
	}
	if same {
		return n
	}
	cols := n.Schema()
	p := &planner.Project{Input: n}
	for i, nd := range need {
		old := cols[m[i]]
		if nd {
			p.Exprs = append(p.Exprs, &planner.ColRef{Index: m[i], Name: old.Name, T: old.Type})
		} else {
			p.Exprs = append(p.Exprs, &planner.Const{T: old.Type})
		}
		p.Columns = append(p.Columns, old)
	}
	return p
}
