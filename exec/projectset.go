package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/exec/expr"
)

// SetFuncKind is the set-returning function a ProjectSet column computes.
type SetFuncKind int

// The set-returning functions.
const (
	// SetUnnest gives the elements of its array argument.
	SetUnnest SetFuncKind = iota
	// SetSubscripts gives the subscripts 1..n of its array argument.
	SetSubscripts
	// SetExpandArray gives {element, subscript} pairs (BIGINT[]).
	SetExpandArray
	// SetOrdinality numbers the rows made from one input row, from 1.
	SetOrdinality
)

// SetFunc is one set-returning function of a ProjectSet: its kind and the
// array argument (nil for SetOrdinality).
type SetFunc struct {
	Kind SetFuncKind
	Arg  expr.Evaluator
}

// ProjectSet evaluates set-returning functions over each input row: the row
// is repeated as many times as its longest function result, the shorter
// results padded with NULL, and dropped when every result is empty (as
// PostgreSQL's ProjectSet runs the functions of a select list in
// lockstep). The output is the input's columns, then one column per
// function.
type ProjectSet struct {
	input  Operator
	funcs  []SetFunc
	schema *arrow.Schema
	mem    *Memory
}

// NewProjectSet returns the ProjectSet of funcs over input; schema is the
// input's columns followed by the functions'.
func NewProjectSet(input Operator, funcs []SetFunc, schema *arrow.Schema, mem *Memory) *ProjectSet {
	return &ProjectSet{input: input, funcs: funcs, schema: schema, mem: mem}
}

// Schema implements Operator.
func (p *ProjectSet) Schema() *arrow.Schema { return p.schema }

// Open implements Operator.
func (p *ProjectSet) Open(ctx context.Context) error {
	if n := p.input.Schema().NumFields() + len(p.funcs); n != p.schema.NumFields() {
		return fmt.Errorf("exec: ProjectSet of %d columns into %d", n, p.schema.NumFields())
	}
	return p.input.Open(ctx)
}

// Next implements Operator.
func (p *ProjectSet) Next(ctx context.Context) (Batch, bool, error) {
	for {
		b, ok, err := p.input.Next(ctx)
		if err != nil || !ok || b.Kind != BatchData {
			return b, ok, err
		}
		out, err := p.expand(ctx, b.Rec)
		b.Rec.Release()
		if err != nil {
			return Batch{}, false, err
		}
		if out.NumRows() == 0 {
			out.Release()
			continue
		}
		return Batch{Kind: BatchData, Rec: out}, true, nil
	}
}

// expand computes the output rows of one input batch.
func (p *ProjectSet) expand(ctx context.Context, rec arrow.Record) (arrow.Record, error) {
	alloc := p.mem.Alloc
	n := int(rec.NumRows())
	lists := make([]*array.List, len(p.funcs))
	defer func() {
		for _, l := range lists {
			if l != nil {
				l.Release()
			}
		}
	}()
	for k, f := range p.funcs {
		if f.Arg == nil {
			continue
		}
		a, err := f.Arg.Eval(ctx, rec)
		if err != nil {
			return nil, err
		}
		l, ok := a.(*array.List)
		if !ok {
			a.Release()
			return nil, fmt.Errorf("exec: set-returning function argument is %s, not a list", a.DataType())
		}
		lists[k] = l
	}
	length := func(l *array.List, r int) int {
		if l == nil || l.IsNull(r) {
			return 0
		}
		s, e := l.ValueOffsets(r)
		return int(e - s)
	}
	// rows[i] is the input row of output row i, sub[i] its number (from 0)
	// among the rows that input row makes.
	var rows, sub []int32
	for r := 0; r < n; r++ {
		m := 0
		for _, l := range lists {
			m = max(m, length(l, r))
		}
		for j := 0; j < m; j++ {
			rows = append(rows, int32(r))
			sub = append(sub, int32(j))
		}
	}
	nIn := int(rec.NumCols())
	cols := make([]arrow.Array, 0, nIn+len(p.funcs))
	fail := func(err error) (arrow.Record, error) {
		releaseArrays(cols)
		return nil, err
	}
	for c := 0; c < nIn; c++ {
		a, err := takeArray(alloc, rec.Column(c), rows)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, a)
	}
	for k, f := range p.funcs {
		l := lists[k]
		var a arrow.Array
		var err error
		switch f.Kind {
		case SetUnnest:
			idx := make([]int32, len(rows))
			for i, r := range rows {
				idx[i] = -1
				if int(sub[i]) < length(l, int(r)) {
					s, _ := l.ValueOffsets(int(r))
					idx[i] = int32(s) + sub[i]
				}
			}
			a, err = takeArray(alloc, l.ListValues(), idx)
		case SetSubscripts:
			bld := array.NewInt32Builder(alloc)
			for i, r := range rows {
				if int(sub[i]) < length(l, int(r)) {
					bld.Append(sub[i] + 1)
				} else {
					bld.AppendNull()
				}
			}
			a = bld.NewArray()
			bld.Release()
		case SetOrdinality:
			bld := array.NewInt64Builder(alloc)
			for i := range rows {
				bld.Append(int64(sub[i]) + 1)
			}
			a = bld.NewArray()
			bld.Release()
		case SetExpandArray:
			a, err = expandPairs(alloc, l, rows, sub, length)
		}
		if err != nil {
			return fail(err)
		}
		cols = append(cols, a)
	}
	return newRecord(p.schema, cols, len(rows)), nil
}

// expandPairs builds _pg_expandarray's {x, n} pairs (BIGINT[]).
func expandPairs(alloc memory.Allocator, l *array.List, rows, sub []int32, length func(*array.List, int) int) (arrow.Array, error) {
	bld := array.NewListBuilder(alloc, arrow.PrimitiveTypes.Int64)
	defer bld.Release()
	vb := bld.ValueBuilder().(*array.Int64Builder)
	child := l.ListValues()
	for i, r := range rows {
		if int(sub[i]) >= length(l, int(r)) {
			bld.AppendNull()
			continue
		}
		s, _ := l.ValueOffsets(int(r))
		k := int(s) + int(sub[i])
		bld.Append(true)
		if child.IsNull(k) {
			vb.AppendNull()
		} else {
			switch c := child.(type) {
			case *array.Int8:
				vb.Append(int64(c.Value(k)))
			case *array.Int16:
				vb.Append(int64(c.Value(k)))
			case *array.Int32:
				vb.Append(int64(c.Value(k)))
			case *array.Int64:
				vb.Append(c.Value(k))
			default:
				return nil, fmt.Errorf("exec: _pg_expandarray over %s elements", child.DataType())
			}
		}
		vb.Append(int64(sub[i]) + 1)
	}
	return bld.NewArray(), nil
}

// Close implements Operator.
func (p *ProjectSet) Close() error { return p.input.Close() }
