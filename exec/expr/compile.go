package expr

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/planner"
)

// node is a compiled expression.
type node interface {
	// typ is the SQL type of the values eval returns.
	typ() catalog.Type
	// eval computes the node over every row of b. The caller owns one
	// reference to the result (of length b.n).
	eval(b *batch) (arrow.Array, error)
	// mayFail reports whether evaluating can raise an error or is costly
	// enough (a subquery) that lazy operators should run it only on the rows
	// that need it.
	mayFail() bool
}

// batch is the input of an evaluation: the root record, or a subset of its
// rows (a sub-batch) that a CASE branch or a lazy argument runs over.
type batch struct {
	ctx   context.Context
	env   *Env
	alloc memory.Allocator
	n     int
	rec   arrow.Record // the record given to Eval
	norm  []func(memory.Allocator, arrow.Array) arrow.Array
	// rows maps each row to its row in rec; nil is the identity.
	rows   []int32
	parent *batch
	sel    []int32 // rows of parent
	cols   []arrow.Array
}

func newRootBatch(ctx context.Context, rec arrow.Record, env *Env, norm []func(memory.Allocator, arrow.Array) arrow.Array) *batch {
	alloc := env.Alloc
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	b := &batch{ctx: ctx, env: env, alloc: alloc, n: int(rec.NumRows()), rec: rec, norm: norm}
	if len(norm) > 0 {
		b.cols = make([]arrow.Array, rec.NumCols())
	}
	return b
}

// col returns column i of the batch; the batch keeps the reference.
func (b *batch) col(i int) arrow.Array {
	if b.parent == nil {
		if i < len(b.norm) && b.norm[i] != nil {
			if b.cols[i] == nil {
				b.cols[i] = b.norm[i](b.alloc, b.rec.Column(i))
			}
			return b.cols[i]
		}
		return b.rec.Column(i)
	}
	if b.cols == nil {
		b.cols = make([]arrow.Array, b.rec.NumCols())
	}
	if b.cols[i] == nil {
		b.cols[i] = take(b.alloc, b.parent.col(i), b.sel)
	}
	return b.cols[i]
}

// rootRow is the row of rec that row i of b is.
func (b *batch) rootRow(i int) int {
	if b.rows == nil {
		return i
	}
	return int(b.rows[i])
}

// sub returns the sub-batch of the rows sel of b.
func (b *batch) sub(sel []int32) *batch {
	s := &batch{ctx: b.ctx, env: b.env, alloc: b.alloc, n: len(sel), rec: b.rec, parent: b, sel: sel}
	if b.rows == nil {
		s.rows = sel
	} else {
		s.rows = make([]int32, len(sel))
		for i, r := range sel {
			s.rows[i] = b.rows[r]
		}
	}
	return s
}

func (b *batch) release() {
	for i, c := range b.cols {
		if c != nil {
			c.Release()
			b.cols[i] = nil
		}
	}
}

// eval runs n over b.
func (b *batch) eval(n node) (arrow.Array, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	return n.eval(b)
}

// evalOn runs n over the rows sel of b (all rows when sel covers b) and
// reports errors with b's row numbers.
func (b *batch) evalOn(n node, sel []int32) (arrow.Array, error) {
	if len(sel) == b.n {
		return b.eval(n)
	}
	s := b.sub(sel)
	defer s.release()
	a, err := s.eval(n)
	if err != nil {
		return nil, mapRow(err, sel)
	}
	return a, nil
}

// compiler turns planner expressions into nodes.
type compiler struct {
	schema     *arrow.Schema
	env        *Env
	opts       compileOptions
	compiledAt time.Time
	norm       []func(memory.Allocator, arrow.Array) arrow.Array
}

func (c *compiler) compile(e planner.Expr) (node, error) {
	switch x := e.(type) {
	case *planner.ColRef:
		return c.colRef(x)
	case *planner.OuterRef:
		return &outerRefNode{depth: x.Depth, index: x.Index, name: x.Name, t: x.T}, nil
	case *planner.Const:
		return c.constant(x.Value, x.T)
	case *planner.Param:
		return &paramNode{index: x.Index, t: x.T, c: c}, nil
	case *planner.Cast:
		arg, err := c.compile(x.Arg)
		if err != nil {
			return nil, err
		}
		return c.fold(c.cast(arg, x.T, x.Try, x.Implicit))
	case *planner.Case:
		return c.caseExpr(x)
	case *planner.Call:
		args := make([]node, len(x.Args))
		for i, a := range x.Args {
			n, err := c.compile(a)
			if err != nil {
				return nil, err
			}
			args[i] = n
		}
		n, err := c.call(x, args)
		if err != nil {
			return nil, err
		}
		if isVolatile(x.Name) {
			return n, nil
		}
		return c.fold(n, nil)
	case *planner.Subquery:
		return c.subquery(x)
	case nil:
		return nil, fmt.Errorf("compile: nil expression")
	}
	return nil, fmt.Errorf("compile: unsupported expression %T (%s)", e, e)
}

// constant returns the node of a constant value of type t.
func (c *compiler) constant(v any, t catalog.Type) (node, error) {
	v, err := canonical(v, t)
	if err != nil {
		return nil, err
	}
	return &constNode{val: v, t: t, hidden: c.opts.materialize}, nil
}

// colRef compiles a column reference, checking the input column's type.
func (c *compiler) colRef(x *planner.ColRef) (node, error) {
	if c.schema == nil || x.Index < 0 || x.Index >= c.schema.NumFields() {
		return nil, fmt.Errorf("column %s: index %d is outside the input's %d columns", x.Name, x.Index, numFields(c.schema))
	}
	want := arrowType(x.T)
	got := c.schema.Field(x.Index).Type
	if !arrow.TypeEqual(want, got) {
		conv, ok := normalizer(got, want)
		if !ok {
			return nil, fmt.Errorf("column %s: input has Arrow type %s, expected %s for %s", x.Name, got, want, x.T)
		}
		if c.norm == nil {
			c.norm = make([]func(memory.Allocator, arrow.Array) arrow.Array, c.schema.NumFields())
		}
		c.norm[x.Index] = conv
	}
	if x.T.Kind == catalog.KindNull {
		return c.constant(nil, x.T)
	}
	return &colNode{index: x.Index, t: x.T}, nil
}

func numFields(s *arrow.Schema) int {
	if s == nil {
		return 0
	}
	return s.NumFields()
}

// fold evaluates n at compile time when all its inputs are constants and
// returns the constant; an error while folding leaves n to fail (or not) at
// run time, on the rows that reach it.
func (c *compiler) fold(n node, err error) (node, error) {
	if err != nil || !c.opts.fold {
		return n, err
	}
	if !allConstInputs(n) {
		return n, nil
	}
	b := &batch{ctx: context.Background(), env: c.env, alloc: memory.DefaultAllocator, n: 1, rec: emptyRecord(1)}
	a, ferr := n.eval(b)
	if ferr != nil {
		return n, nil
	}
	defer a.Release()
	return &constNode{val: scalarAt(a, 0, n.typ()), t: n.typ(), hidden: c.opts.materialize}, nil
}

// emptyRecord is a record of n rows and no columns.
func emptyRecord(n int) arrow.Record {
	return array.NewRecord(arrow.NewSchema(nil, nil), nil, int64(n))
}

// inputs lists the children of a node, for folding.
type hasInputs interface{ inputs() []node }

func allConstInputs(n node) bool {
	h, ok := n.(hasInputs)
	if !ok {
		return false
	}
	for _, in := range h.inputs() {
		if _, ok := in.(*constNode); !ok {
			return false
		}
	}
	return true
}

// isVolatile reports functions that must not be folded: their value is not
// a function of their arguments.
func isVolatile(name string) bool {
	switch name {
	case "random", "rand":
		return true
	}
	return false
}

// constNode is a constant, broadcast to the batch length when a kernel
// needs it as an array (the array is cached across batches).
type constNode struct {
	val any
	t   catalog.Type
	// hidden makes asConst fail, so kernels take their column paths (tests).
	hidden bool
	cache  arrow.Array
}

func (n *constNode) typ() catalog.Type { return n.t }
func (n *constNode) mayFail() bool     { return false }

func (n *constNode) eval(b *batch) (arrow.Array, error) {
	if n.cache == nil || n.cache.Len() < b.n {
		size := b.n
		if n.cache != nil {
			size = max(size, 2*n.cache.Len())
			n.cache.Release()
		}
		n.cache = constArray(n.val, n.t, size)
	}
	if n.cache.Len() == b.n {
		n.cache.Retain()
		return n.cache, nil
	}
	return array.NewSlice(n.cache, 0, int64(b.n)), nil
}

// asConst returns the constant a node stands for, when kernels may use it
// as a scalar.
func asConst(n node) (*constNode, bool) {
	c, ok := n.(*constNode)
	if !ok || c.hidden {
		return nil, false
	}
	return c, true
}

// isNullConst reports a constant NULL.
func isNullConst(n node) bool {
	c, ok := n.(*constNode)
	return ok && c.val == nil
}

// colNode reads a column of the input.
type colNode struct {
	index int
	t     catalog.Type
}

func (n *colNode) typ() catalog.Type { return n.t }
func (n *colNode) mayFail() bool     { return false }
func (n *colNode) eval(b *batch) (arrow.Array, error) {
	a := b.col(n.index)
	a.Retain()
	return a, nil
}

// outerRefNode reads a column of an enclosing query's current row.
type outerRefNode struct {
	depth, index int
	name         string
	t            catalog.Type
}

func (n *outerRefNode) typ() catalog.Type { return n.t }
func (n *outerRefNode) mayFail() bool     { return false }
func (n *outerRefNode) eval(b *batch) (arrow.Array, error) {
	outer := b.env.Outer
	k := len(outer) - n.depth
	if n.depth < 1 || k < 0 {
		return nil, errorf(CodeInternal, "outer reference %s (depth %d) evaluated with %d enclosing rows", n.name, n.depth, len(outer))
	}
	row := outer[k]
	if n.index >= int(row.Rec.NumCols()) {
		return nil, errorf(CodeInternal, "outer reference %s: column %d of %d", n.name, n.index, row.Rec.NumCols())
	}
	col := row.Rec.Column(n.index)
	v := scalarAt(col, row.Row, n.t)
	return constArray(v, n.t, b.n), nil
}

// paramNode reads a statement parameter.
type paramNode struct {
	index int
	t     catalog.Type
	c     *compiler
}

func (n *paramNode) typ() catalog.Type { return n.t }
func (n *paramNode) mayFail() bool     { return true }
func (n *paramNode) eval(b *batch) (arrow.Array, error) {
	params := b.env.Params
	if n.index < 1 || n.index > len(params) {
		return nil, errorf(CodeInvalidParameter, "there is no parameter $%d", n.index)
	}
	v, err := paramValue(params[n.index-1], n.t)
	if err != nil {
		return nil, err
	}
	return constArray(v, n.t, b.n), nil
}

// kernel is a function node whose arguments are evaluated eagerly over the
// whole batch. Arguments the kernel consumes as scalars (skip[i]) are not
// evaluated; fn gets nil in their place.
type kernel struct {
	name  string
	t     catalog.Type
	args  []node
	skip  []bool
	fails bool
	fn    func(b *batch, args []arrow.Array) (arrow.Array, error)
	dec   *decOp // the DECIMAL operation of an arithmetic kernel
}

func (k *kernel) typ() catalog.Type { return k.t }
func (k *kernel) inputs() []node    { return k.args }

func (k *kernel) mayFail() bool {
	if k.fails {
		return true
	}
	for _, a := range k.args {
		if a.mayFail() {
			return true
		}
	}
	return false
}

func (k *kernel) eval(b *batch) (arrow.Array, error) {
	vals := make([]arrow.Array, len(k.args))
	defer func() {
		for _, v := range vals {
			if v != nil {
				v.Release()
			}
		}
	}()
	for i, a := range k.args {
		if k.skip != nil && k.skip[i] {
			continue
		}
		v, err := b.eval(a)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return k.fn(b, vals)
}

// newKernel builds a kernel node.
func newKernel(name string, t catalog.Type, args []node, fails bool, fn func(b *batch, args []arrow.Array) (arrow.Array, error)) *kernel {
	return &kernel{name: name, t: t, args: args, fails: fails, fn: fn}
}

// scalarArgs marks constant arguments as consumed by the kernel as scalars.
func (k *kernel) scalarArgs(idx ...int) *kernel {
	k.skip = make([]bool, len(k.args))
	for _, i := range idx {
		k.skip[i] = true
	}
	return k
}
