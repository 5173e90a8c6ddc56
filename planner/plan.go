package planner

import "github.com/etlc/etlc/catalog"

// Column is one output column of a plan node.
type Column struct {
	Name string
	// Qualifier is the relation alias the column can be qualified with
	// (t in t.x), "" for computed columns.
	Qualifier string
	Type      catalog.Type
	Nullable  bool
}

// Node is a logical plan operator. Schema lists its output columns in
// order; expressions of a node refer to its input row by position (ColRef).
type Node interface {
	Schema() []Column
	Children() []Node
}

// Scan reads a catalog relation (source, stream, table, view's stored
// object or system table). Stream is set for FROM STREAM. Columns are the
// relation's columns, qualified by Alias (or the relation name).
type Scan struct {
	Object  *catalog.Object
	Alias   string
	Stream  bool
	Columns []Column
	// Cols, when set, gives the position in Object.Columns of each of
	// Columns: the scan reads only those (the optimizer prunes the columns
	// nothing uses). Nil means all of the relation's columns, in order.
	Cols []int
	// Filters are conditions over Columns that hold for every row the
	// plan keeps from this scan (the optimizer copies them from the filter
	// right above). A reader may use them to skip data it can tell no row
	// of satisfies (Parquet row groups by their min/max statistics); the
	// filter above still applies them to the rows read.
	Filters []Expr
	// PartitionFilters are conditions over Columns that read only columns
	// whose values come from the relation's partition directories
	// (key=value/), and hold for every row the plan keeps from this scan
	// (the optimizer copies them from the filter right above). A reader
	// skips the files of a partition for which one is FALSE or NULL; the
	// filter above still applies them.
	PartitionFilters []Expr
}

// Values is an inline table (VALUES rows, or the one empty row of a SELECT
// without FROM when Columns is empty).
type Values struct {
	Rows    [][]Expr
	Columns []Column
}

// Filter keeps the rows of Input for which Cond is TRUE.
type Filter struct {
	Input Node
	Cond  Expr
}

// Project computes Exprs over each row of Input; Columns name them.
type Project struct {
	Input   Node
	Exprs   []Expr
	Columns []Column
}

// AggCall is one aggregate: Fn over Args (none for count(*)), over distinct
// argument values when Distinct, over the rows where Filter holds when set.
type AggCall struct {
	Fn       *Func
	Args     []Expr
	Distinct bool
	Filter   Expr
	// OrderBy orders the input of order-sensitive aggregates (string_agg).
	OrderBy []SortKey
	T       catalog.Type
}

// String returns fn(DISTINCT args) FILTER (WHERE ...).
func (a *AggCall) String() string {
	s := a.Fn.Name + "("
	if a.Distinct {
		s += "DISTINCT "
	}
	if len(a.Args) == 0 && a.Fn.Name == "count" {
		s += "*"
	}
	s += joinExprs(a.Args) + ")"
	if a.Filter != nil {
		s += " FILTER (WHERE " + a.Filter.String() + ")"
	}
	return s
}

// WindowKind is the streaming window of a GROUP BY.
type WindowKind int

// The group windows.
const (
	Tumble WindowKind = iota
	Hop
	Session
)

// String returns TUMBLE, HOP or SESSION.
func (k WindowKind) String() string { return [...]string{"TUMBLE", "HOP", "SESSION"}[k] }

// WindowSpec is the group window of an Aggregate: TUMBLE(ts, size),
// HOP(ts, slide, size) or SESSION(ts, gap). Size, Slide and Gap are
// INTERVAL constants. The window adds the columns window_start and
// window_end (type of Time) after the group keys.
type WindowSpec struct {
	Kind  WindowKind
	Time  Expr
	Size  Expr
	Slide Expr
	Gap   Expr
}

// Aggregate groups Input by GroupBy and computes Aggs per group. Output
// columns: the group keys, then window_start and window_end when Window is
// set, then one column per aggregate.
type Aggregate struct {
	Input   Node
	GroupBy []Expr
	Aggs    []*AggCall
	Window  *WindowSpec
	Columns []Column
}

// JoinKind is the kind of a Join.
type JoinKind int

// The join kinds. Semi and Anti output only the left columns.
const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
	SemiJoin
	AntiJoin
)

// String returns INNER, LEFT, RIGHT, FULL, CROSS, SEMI or ANTI.
func (k JoinKind) String() string {
	return [...]string{"INNER", "LEFT", "RIGHT", "FULL", "CROSS", "SEMI", "ANTI"}[k]
}

// Join combines Left and Right; Cond (nil for CROSS) is bound over the
// left columns followed by the right columns.
type Join struct {
	Kind        JoinKind
	Left, Right Node
	Cond        Expr
	Columns     []Column
	// BuildLeft asks the executor to build its hash table on Left (the
	// rows a SEMI or ANTI join outputs) and stream Right through it: the
	// optimizer sets it when Left is much the smaller input.
	BuildLeft bool
}

// SortKey is one ORDER BY key. NullsFirst defaults to false for ASC and
// true for DESC, as in PostgreSQL.
type SortKey struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}

// String returns expr [DESC] NULLS FIRST|LAST.
func (k SortKey) String() string {
	s := k.Expr.String()
	if k.Desc {
		s += " DESC"
	}
	if k.NullsFirst {
		return s + " NULLS FIRST"
	}
	return s + " NULLS LAST"
}

// Sort orders the rows of Input.
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Limit skips Offset rows then passes at most Count (nil: no limit).
// Both are BIGINT constants or parameters.
type Limit struct {
	Input  Node
	Count  Expr
	Offset Expr
}

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind int

// The set operations.
const (
	Union SetOpKind = iota
	Intersect
	Except
)

// String returns UNION, INTERSECT or EXCEPT.
func (k SetOpKind) String() string { return [...]string{"UNION", "INTERSECT", "EXCEPT"}[k] }

// SetOp combines two inputs with the same column count; each input is
// already projected to the common column types. All keeps duplicates.
type SetOp struct {
	Kind        SetOpKind
	All         bool
	Left, Right Node
	Columns     []Column
}

// Distinct removes duplicate rows.
type Distinct struct {
	Input Node
}

// FrameMode is ROWS, RANGE or GROUPS.
type FrameMode int

// The frame modes.
const (
	FrameRows FrameMode = iota
	FrameRange
	FrameGroups
)

// BoundKind is the kind of a frame bound.
type BoundKind int

// The frame bound kinds.
const (
	UnboundedPreceding BoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is one end of a window frame; Offset is set for Preceding and
// Following.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr
}

// Frame is a window frame. A window without an explicit frame has Frame
// nil: RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW when it has an
// ORDER BY, the whole partition otherwise.
type Frame struct {
	Mode       FrameMode
	Start, End FrameBound
}

// WindowFunc is one window function call: a window-only function or an
// aggregate, over PartitionBy/OrderBy/Frame.
type WindowFunc struct {
	Fn          *Func
	Args        []Expr
	Distinct    bool
	PartitionBy []Expr
	OrderBy     []SortKey
	Frame       *Frame
	T           catalog.Type
}

// Window computes Funcs over Input; its output is Input's columns followed
// by one column per function.
type Window struct {
	Input   Node
	Funcs   []*WindowFunc
	Columns []Column
}

// SetFunc is one set-returning function of a select list: unnest(array)
// gives the array's elements, generate_subscripts(array, 1) their
// subscripts, and _pg_expandarray(array) one {element, subscript} pair per
// element (PostgreSQL's record (x, n), as a BIGINT[] since etlc has no
// record types).
type SetFunc struct {
	Name string
	Args []Expr
	T    catalog.Type
}

// String returns name(args).
func (f *SetFunc) String() string { return f.Name + "(" + joinExprs(f.Args) + ")" }

// ProjectSet evaluates set-returning functions over each row of Input, as
// PostgreSQL's ProjectSet does: a row yields as many rows as its longest
// function result, the shorter results padded with NULL (the functions run
// in lockstep), and none when every result is empty. Its output is Input's
// columns followed by one column per function.
type ProjectSet struct {
	Input   Node
	Funcs   []*SetFunc
	Columns []Column
}

// CTERef is a reference to a WITH query or a view. Non-recursive CTEs are inlined:
// every reference to the same CTE shares the same Plan pointer, so the
// optimizer can decide to compute it once.
type CTERef struct {
	// View is set when the reference is to a view, whose definition is
	// inlined the same way.
	View    bool
	Name    string
	Alias   string
	Plan    Node
	Columns []Column
}

// RecursiveCTE is WITH RECURSIVE name AS (anchor UNION [ALL] recursive):
// the rows of Anchor, then the rows Recursive makes from the rows of the
// step before (which it reads through WorkTable nodes of the same ID),
// step after step until a step makes no row. Without All, a row already
// produced is not produced again (UNION), which also ends the recursion.
// Recursive's columns have Anchor's types.
type RecursiveCTE struct {
	ID        int
	Name      string
	Anchor    Node
	Recursive Node
	All       bool
	Columns   []Column
}

// WorkTable reads the rows of the step before of the RecursiveCTE with the
// same ID, inside that CTE's Recursive plan.
type WorkTable struct {
	ID      int
	Name    string
	Columns []Column
}

// Schema implementations.
func (n *Scan) Schema() []Column      { return n.Columns }
func (n *Values) Schema() []Column    { return n.Columns }
func (n *Filter) Schema() []Column    { return n.Input.Schema() }
func (n *Project) Schema() []Column   { return n.Columns }
func (n *Aggregate) Schema() []Column { return n.Columns }
func (n *Join) Schema() []Column      { return n.Columns }
func (n *Sort) Schema() []Column      { return n.Input.Schema() }
func (n *Limit) Schema() []Column     { return n.Input.Schema() }
func (n *SetOp) Schema() []Column     { return n.Columns }
func (n *Distinct) Schema() []Column  { return n.Input.Schema() }
func (n *Window) Schema() []Column    { return n.Columns }

// Schema implements Node.
func (n *ProjectSet) Schema() []Column { return n.Columns }
func (n *CTERef) Schema() []Column     { return n.Columns }

// Schema implements Node.
func (n *RecursiveCTE) Schema() []Column { return n.Columns }

// Schema implements Node.
func (n *WorkTable) Schema() []Column { return n.Columns }

// Children implementations.
func (n *Scan) Children() []Node      { return nil }
func (n *Values) Children() []Node    { return nil }
func (n *Filter) Children() []Node    { return []Node{n.Input} }
func (n *Project) Children() []Node   { return []Node{n.Input} }
func (n *Aggregate) Children() []Node { return []Node{n.Input} }
func (n *Join) Children() []Node      { return []Node{n.Left, n.Right} }
func (n *Sort) Children() []Node      { return []Node{n.Input} }
func (n *Limit) Children() []Node     { return []Node{n.Input} }
func (n *SetOp) Children() []Node     { return []Node{n.Left, n.Right} }
func (n *Distinct) Children() []Node  { return []Node{n.Input} }
func (n *Window) Children() []Node    { return []Node{n.Input} }

// Children implements Node.
func (n *ProjectSet) Children() []Node { return []Node{n.Input} }
func (n *CTERef) Children() []Node     { return []Node{n.Plan} }

// Children implements Node.
func (n *RecursiveCTE) Children() []Node { return []Node{n.Anchor, n.Recursive} }

// Children implements Node.
func (n *WorkTable) Children() []Node { return nil }

// NodeExprs returns the expressions a node evaluates, in a fixed order, so
// passes (subquery collection, correlation checks) can visit every one.
func NodeExprs(n Node) []Expr {
	var out []Expr
	switch n := n.(type) {
	case *Values:
		for _, r := range n.Rows {
			out = append(out, r...)
		}
	case *Filter:
		out = append(out, n.Cond)
	case *Expect:
		for _, c := range n.Checks {
			out = append(out, c.Cond)
		}
	case *Project:
		out = append(out, n.Exprs...)
	case *Aggregate:
		out = append(out, n.GroupBy...)
		if w := n.Window; w != nil {
			out = append(out, w.Time)
		}
		for _, a := range n.Aggs {
			out = append(out, a.Args...)
			if a.Filter != nil {
				out = append(out, a.Filter)
			}
		}
	case *Join:
		if n.Cond != nil {
			out = append(out, n.Cond)
		}
	case *Sort:
		for _, k := range n.Keys {
			out = append(out, k.Expr)
		}
	case *Limit:
		if n.Count != nil {
			out = append(out, n.Count)
		}
		if n.Offset != nil {
			out = append(out, n.Offset)
		}
	case *Window:
		for _, f := range n.Funcs {
			out = append(out, f.Args...)
			out = append(out, f.PartitionBy...)
			for _, k := range f.OrderBy {
				out = append(out, k.Expr)
			}
		}
	case *ProjectSet:
		for _, f := range n.Funcs {
			out = append(out, f.Args...)
		}
	}
	return out
}
