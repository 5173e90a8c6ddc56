package planner

import (
	"fmt"
	"strings"
)

// Format renders a plan as an indented tree, one operator a line, children
// indented under their parent and subquery plans under the operator that
// uses them. The text is stable: golden tests and EXPLAIN print it.
func Format(n Node) string {
	return FormatWith(n, nil)
}

// FormatWith renders a plan as Format does, with note(op)'s text (when not
// empty) at the end of each operator's first line: EXPLAIN adds estimates
// and measurements this way.
func FormatWith(n Node, note func(Node) string) string {
	f := &formatter{seen: map[Node]bool{}, note: note}
	f.node(n, 0)
	return f.b.String()
}

type formatter struct {
	b    strings.Builder
	seen map[Node]bool
	note func(Node) string
	// pending is the note for the next line written.
	pending string
}

func (f *formatter) line(depth int, format string, args ...any) {
	f.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(&f.b, format, args...)
	if f.pending != "" {
		f.b.WriteString("  ")
		f.b.WriteString(f.pending)
		f.pending = ""
	}
	f.b.WriteByte('\n')
}

func colList(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + ":" + c.Type.String()
	}
	return strings.Join(parts, ", ")
}

func keyList(keys []SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
}

// Describe returns the lines Format prints for n itself, without its
// inputs and subqueries: the operator's line, then its details (a scan's
// columns and pruning conditions, a VALUES list's rows), unindented. For a
// CTE reference it is the reference's line.
func Describe(n Node) []string {
	f := &formatter{seen: map[Node]bool{}}
	f.self(n, 0)
	lines := strings.Split(strings.TrimRight(f.b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " ")
	}
	return lines
}

func (f *formatter) node(n Node, depth int) {
	if f.note != nil {
		f.pending = f.note(n)
	}
	if !f.self(n, depth) {
		return
	}
	f.subqueries(n, depth+1)
	for _, c := range n.Children() {
		f.node(c, depth+1)
	}
}

// self prints n's own lines; false when its inputs are not to be printed
// (a CTE printed before).
func (f *formatter) self(n Node, depth int) bool {
	switch n := n.(type) {
	case *Scan:
		name := n.Object.Name
		if n.Alias != "" && n.Alias != name {
			name += " AS " + n.Alias
		}
		stream := ""
		if n.Stream {
			stream = " STREAM"
		}
		f.line(depth, "Scan%s %s (%s)", stream, name, colList(n.Columns))
		if n.Cols != nil {
			f.line(depth+1, "columns %v of %d", n.Cols, len(n.Object.Columns))
		}
		if len(n.Filters) > 0 {
			f.line(depth+1, "prune by %s", joinExprs(n.Filters))
		}
		if len(n.PartitionFilters) > 0 {
			f.line(depth+1, "partitions by %s", joinExprs(n.PartitionFilters))
		}
	case *Values:
		if len(n.Columns) == 0 && len(n.Rows) == 1 {
			f.line(depth, "Values (one empty row)")
			break
		}
		f.line(depth, "Values (%s)", colList(n.Columns))
		for _, r := range n.Rows {
			f.line(depth+1, "(%s)", joinExprs(r))
		}
	case *Filter:
		f.line(depth, "Filter %s", n.Cond)
	case *Project:
		parts := make([]string, len(n.Exprs))
		for i, e := range n.Exprs {
			parts[i] = n.Columns[i].Name + ":" + n.Columns[i].Type.String() + " := " + e.String()
		}
		f.line(depth, "Project %s", strings.Join(parts, ", "))
	case *Aggregate:
		var parts []string
		if len(n.GroupBy) > 0 {
			parts = append(parts, "group=["+joinExprs(n.GroupBy)+"]")
		}
		if w := n.Window; w != nil {
			args := []Expr{w.Time}
			switch w.Kind {
			case Tumble:
				args = append(args, w.Size)
			case Hop:
				args = append(args, w.Slide, w.Size)
			case Session:
				args = append(args, w.Gap)
			}
			parts = append(parts, "window="+w.Kind.String()+"("+joinExprs(args)+")")
		}
		if len(n.Aggs) > 0 {
			as := make([]string, len(n.Aggs))
			for i, a := range n.Aggs {
				as[i] = a.String() + ":" + a.T.String()
			}
			parts = append(parts, "aggs=["+strings.Join(as, ", ")+"]")
		}
		f.line(depth, "Aggregate %s", strings.Join(parts, " "))
	case *Join:
		kind := n.Kind.String()
		if n.BuildLeft {
			kind += " (build left)"
		}
		if n.Cond != nil {
			f.line(depth, "Join %s %s", kind, n.Cond)
		} else {
			f.line(depth, "Join %s", kind)
		}
	case *Sort:
		f.line(depth, "Sort %s", keyList(n.Keys))
	case *Limit:
		var parts []string
		if n.Count != nil {
			parts = append(parts, "count="+n.Count.String())
		}
		if n.Offset != nil {
			parts = append(parts, "offset="+n.Offset.String())
		}
		f.line(depth, "Limit %s", strings.Join(parts, " "))
	case *SetOp:
		all := ""
		if n.All {
			all = " ALL"
		}
		f.line(depth, "%s%s (%s)", n.Kind, all, colList(n.Columns))
	case *Distinct:
		f.line(depth, "Distinct")
	case *Expect:
		parts := make([]string, len(n.Checks))
		for i, c := range n.Checks {
			act := c.Action.String()
			if act == "" {
				act = "COUNT"
			}
			parts[i] = fmt.Sprintf("%s %s %s", c.Name, c.Cond, act)
		}
		f.line(depth, "Expect %s", strings.Join(parts, ", "))
	case *Window:
		parts := make([]string, len(n.Funcs))
		for i, w := range n.Funcs {
			parts[i] = w.String()
		}
		f.line(depth, "Window %s", strings.Join(parts, ", "))
	case *ProjectSet:
		parts := make([]string, len(n.Funcs))
		for i, sf := range n.Funcs {
			parts[i] = sf.String()
		}
		f.line(depth, "ProjectSet %s", strings.Join(parts, ", "))
	case *CTERef:
		alias := ""
		if n.Alias != "" && n.Alias != n.Name {
			alias = " AS " + n.Alias
		}
		what := "CTE"
		if n.View {
			what = "View"
		}
		if f.seen[n.Plan] {
			f.line(depth, "%s %s%s (%s) (shared, printed above)", what, n.Name, alias, colList(n.Columns))
			return false
		}
		f.seen[n.Plan] = true
		f.line(depth, "%s %s%s (%s)", what, n.Name, alias, colList(n.Columns))
	case *RecursiveCTE:
		all := ""
		if n.All {
			all = " ALL"
		}
		f.line(depth, "Recursive %s#%d UNION%s (%s)", n.Name, n.ID, all, colList(n.Columns))
	case *WorkTable:
		f.line(depth, "WorkTable %s#%d (%s)", n.Name, n.ID, colList(n.Columns))
	default:
		f.line(depth, "%T", n)
	}
	return true
}

// subqueries prints the plans of the subqueries a node's expressions use.
func (f *formatter) subqueries(n Node, depth int) {
	var subs []*Subquery
	var collect func(Expr)
	collect = func(e Expr) {
		WalkExpr(e, func(x Expr) bool {
			if s, ok := x.(*Subquery); ok {
				subs = append(subs, s)
			}
			return true
		})
	}
	for _, e := range NodeExprs(n) {
		collect(e)
	}
	for _, s := range subs {
		corr := ""
		if s.Correlated {
			corr = " (correlated)"
		}
		f.line(depth, "Subquery %d %s%s", s.ID, s.Kind, corr)
		f.node(s.Plan, depth+1)
	}
}

// String returns fn(args) OVER (PARTITION BY ... ORDER BY ... frame).
func (w *WindowFunc) String() string {
	s := w.Fn.Name + "("
	if w.Distinct {
		s += "DISTINCT "
	}
	s += joinExprs(w.Args) + ") OVER ("
	var parts []string
	if len(w.PartitionBy) > 0 {
		parts = append(parts, "PARTITION BY "+joinExprs(w.PartitionBy))
	}
	if len(w.OrderBy) > 0 {
		parts = append(parts, "ORDER BY "+keyList(w.OrderBy))
	}
	if w.Frame != nil {
		parts = append(parts, w.Frame.String())
	}
	return s + strings.Join(parts, " ") + ")"
}

// String returns ROWS|RANGE|GROUPS BETWEEN start AND end.
func (fr *Frame) String() string {
	mode := [...]string{"ROWS", "RANGE", "GROUPS"}[fr.Mode]
	return mode + " BETWEEN " + fr.Start.String() + " AND " + fr.End.String()
}

// String returns the bound as SQL.
func (b FrameBound) String() string {
	switch b.Kind {
	case UnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case Preceding:
		return b.Offset.String() + " PRECEDING"
	case CurrentRow:
		return "CURRENT ROW"
	case Following:
		return b.Offset.String() + " FOLLOWING"
	}
	return "UNBOUNDED FOLLOWING"
}
