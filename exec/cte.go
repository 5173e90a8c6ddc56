package exec

import (
	"context"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/planner"
)

// sharedCTE is a common table expression referenced more than once in a
// plan: the first reader to open runs it to completion and keeps its
// batches (accounted); every reader replays them; the last reader to
// close releases them.
type sharedCTE struct {
	mu      sync.Mutex
	name    string
	input   Operator
	readers int // readers that have not closed yet
	started bool
	err     error
	recs    []arrow.Record
	acct    memAccount
	// statement marks a CTE the statement's plan trees share (stmtCTEs):
	// it is freed when the statement's plan closes, not by its readers.
	statement bool
}

func (s *sharedCTE) materialize(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return s.err
	}
	s.started = true
	op := s.input
	s.input = nil
	recs, err := Collect(ctx, op)
	if err != nil {
		s.err = err
		return err
	}
	s.recs = recs
	var n int64
	for _, r := range recs {
		n += recordBytes(r)
	}
	if err := s.acct.set(n); err != nil {
		s.err = err
		return err
	}
	return nil
}

func (s *sharedCTE) closeReader() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readers--
	if s.readers > 0 || s.statement {
		return nil
	}
	return s.free()
}

// free releases the rows and closes the plan if it never ran. The caller
// holds s.mu.
func (s *sharedCTE) free() error {
	ReleaseRecords(s.recs)
	s.recs = nil
	s.acct.close()
	if s.input != nil {
		// Never opened: the plan was not needed after all.
		op := s.input
		s.input = nil
		return op.Close()
	}
	return nil
}

// cteReader is one reference to a shared CTE.
type cteReader struct {
	shared *sharedCTE
	schema *arrow.Schema
	src    *RecordSource
	closed bool
}

func (c *cteReader) Schema() *arrow.Schema { return c.schema }

func (c *cteReader) Open(ctx context.Context) error {
	if err := c.shared.materialize(ctx); err != nil {
		return err
	}
	c.src = NewRecordSource(c.schema, c.shared.recs)
	return c.src.Open(ctx)
}

func (c *cteReader) Next(ctx context.Context) (Batch, bool, error) {
	if c.src == nil {
		return Batch{}, false, nil
	}
	return c.src.Next(ctx)
}

func (c *cteReader) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.src != nil {
		c.src.Close()
	}
	return c.shared.closeReader()
}

// stmtCTEs are the CTEs a statement references from more than one plan
// tree: its plan and the plans of its subqueries, which are built and run
// on their own (TPC-H Q15 reads the revenue view in its FROM and in a
// scalar subquery). Each is computed once, by the first reader to open,
// and kept until the statement's plan closes. A CTE plan that reads an
// enclosing query's row (a CTE inside a correlated subquery) is not
// shared: its rows change with that row.
type stmtCTEs struct {
	mu      sync.Mutex
	shared  map[planner.Node]bool
	entries map[planner.Node]*sharedCTE
}

// newStmtCTEs finds the CTE plans of a statement's plan n that more than
// one of its plan trees references.
func newStmtCTEs(n planner.Node) *stmtCTEs {
	trees := map[planner.Node]int{}
	visited := map[planner.Node]bool{}
	var tree func(root planner.Node)
	tree = func(root planner.Node) {
		refs := map[planner.Node]bool{}
		var walk func(n planner.Node)
		walk = func(n planner.Node) {
			if c, ok := n.(*planner.CTERef); ok {
				refs[c.Plan] = true
				if visited[c.Plan] {
					return
				}
				visited[c.Plan] = true
			}
			for _, e := range planner.NodeExprs(n) {
				planner.WalkExpr(e, func(x planner.Expr) bool {
					if sq, ok := x.(*planner.Subquery); ok && !visited[sq.Plan] {
						visited[sq.Plan] = true
						tree(sq.Plan)
					}
					return true
				})
			}
			for _, c := range n.Children() {
				walk(c)
			}
		}
		walk(root)
		for p := range refs {
			trees[p]++
		}
	}
	tree(n)
	s := &stmtCTEs{shared: map[planner.Node]bool{}, entries: map[planner.Node]*sharedCTE{}}
	for p, k := range trees {
		if k > 1 && !readsOuter(p, 0) {
			s.shared[p] = true
		}
	}
	return s
}

// readsOuter reports whether plan n, at subquery depth depth inside the
// plan being checked, reads the row of a query around that plan.
func readsOuter(n planner.Node, depth int) bool {
	found := false
	for _, e := range planner.NodeExprs(n) {
		planner.WalkExpr(e, func(x planner.Expr) bool {
			switch x := x.(type) {
			case *planner.OuterRef:
				found = found || x.Depth > depth
			case *planner.Subquery:
				found = found || readsOuter(x.Plan, depth+1)
			}
			return !found
		})
	}
	if c, ok := n.(*planner.CTERef); ok {
		return found || readsOuter(c.Plan, depth)
	}
	for _, c := range n.Children() {
		found = found || readsOuter(c, depth)
	}
	return found
}

// entry returns the shared CTE of ref's plan, building its operator with
// build the first time.
func (s *stmtCTEs) entry(ref *planner.CTERef, mem *Memory, build func() (Operator, error)) (*sharedCTE, error) {
	s.mu.Lock()
	e := s.entries[ref.Plan]
	s.mu.Unlock()
	if e != nil {
		return e, nil
	}
	in, err := build()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[ref.Plan]; e != nil {
		// Built meanwhile by another reader.
		in.Close()
		return e, nil
	}
	e = &sharedCTE{name: ref.Name, input: in, statement: true, acct: memAccount{mem: mem, owner: "WITH " + ref.Name}}
	s.entries[ref.Plan] = e
	return e, nil
}

// release frees every shared CTE.
func (s *stmtCTEs) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, e := range s.entries {
		e.mu.Lock()
		e.free()
		e.mu.Unlock()
		delete(s.entries, p)
	}
}
