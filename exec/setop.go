package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Distinct passes the first occurrence of each distinct row of its input
// (NULLs equal to each other), as the rows arrive: it is not a pipeline
// breaker, but it remembers every distinct row (accounted). Control
// batches pass through.
type Distinct struct {
	input  Operator
	schema *arrow.Schema
	mem    *Memory
	acct   memAccount
	table  *keyTable
	groups []uint32
}

// NewDistinct returns input without duplicate rows, relabelled to schema
// (input's when nil).
func NewDistinct(input Operator, schema *arrow.Schema, mem *Memory) *Distinct {
	if schema == nil {
		schema = input.Schema()
	}
	return &Distinct{input: input, schema: schema, mem: mem, acct: memAccount{mem: mem, owner: "DISTINCT"}}
}

// Schema implements Operator.
func (d *Distinct) Schema() *arrow.Schema { return d.schema }

// Open implements Operator.
func (d *Distinct) Open(ctx context.Context) error {
	t, err := newKeyTable(newHasher(), fieldTypes(d.input.Schema()))
	if err != nil {
		return err
	}
	d.table = t
	return d.input.Open(ctx)
}

func fieldTypes(s *arrow.Schema) []arrow.DataType {
	ts := make([]arrow.DataType, s.NumFields())
	for i, f := range s.Fields() {
		ts[i] = f.Type
	}
	return ts
}

// firstRows returns the rows where a group id appears for the first time
// (ids at or above before are new, assigned in row order).
func firstRows(groups []uint32, before int) []int32 {
	var sel []int32
	next := uint32(before)
	for i, g := range groups {
		if g == next {
			sel = append(sel, int32(i))
			next++
		}
	}
	return sel
}

// selectedRows returns the rows sel of rec as a batch of schema (rec
// itself when sel is every row) and releases rec; ok is false when sel is
// empty.
func selectedRows(alloc memory.Allocator, schema *arrow.Schema, rec arrow.Record, sel []int32) (Batch, bool, error) {
	switch len(sel) {
	case 0:
		rec.Release()
		return Batch{}, false, nil
	case int(rec.NumRows()):
		return Batch{Kind: BatchData, Rec: relabel(schema, rec)}, true, nil
	}
	out, err := takeRecord(alloc, schema, rec, sel)
	rec.Release()
	if err != nil {
		return Batch{}, false, err
	}
	return Batch{Kind: BatchData, Rec: out}, true, nil
}

// Next implements Operator.
func (d *Distinct) Next(ctx context.Context) (Batch, bool, error) {
	for {
		b, ok, err := d.input.Next(ctx)
		if err != nil || !ok {
			return b, ok, err
		}
		if b.Kind != BatchData {
			return b, true, nil
		}
		rec := b.Rec
		n := int(rec.NumRows())
		before := d.table.len()
		d.groups = d.table.insert(rec.Columns(), n, d.groups)
		sel := firstRows(d.groups, before)
		if err := d.acct.set(d.table.bytes()); err != nil {
			rec.Release()
			return Batch{}, false, err
		}
		if out, ok, err := selectedRows(d.mem.Alloc, d.schema, rec, sel); ok || err != nil {
			return out, ok, err
		}
	}
}

// Close implements Operator.
func (d *Distinct) Close() error {
	d.table = nil
	d.acct.close()
	return d.input.Close()
}

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind int

// The set operations.
const (
	SetUnion SetOpKind = iota
	SetIntersect
	SetExcept
)

var setOpNames = [...]string{"UNION", "INTERSECT", "EXCEPT"}

// String returns UNION, INTERSECT or EXCEPT.
func (k SetOpKind) String() string { return setOpNames[k] }

// NewSetOp returns the set operation kind over left and right (which have
// the column types of schema). UNION ALL concatenates; UNION is DISTINCT
// over that; INTERSECT and EXCEPT read the right input into a keyTable of
// row counts and stream the left one. Rows compare with NULL equal to
// NULL. With all, multiplicities are kept: INTERSECT ALL gives min(l, r)
// copies of a row, EXCEPT ALL max(l - r, 0). The right input of INTERSECT
// and EXCEPT must be bounded (a control batch there is an error); control
// batches of the left input pass through.
func NewSetOp(kind SetOpKind, all bool, left, right Operator, schema *arrow.Schema, mem *Memory) Operator {
	if kind == SetUnion {
		u := NewUnionAll(schema, left, right)
		if all {
			return u
		}
		return NewDistinct(u, schema, mem)
	}
	return &setOp{kind: kind, all: all, left: left, right: right, schema: schema, mem: mem,
		acct: memAccount{mem: mem, owner: kind.String()}}
}

type setOp struct {
	kind        SetOpKind
	all         bool
	left, right Operator
	schema      *arrow.Schema
	mem         *Memory
	acct        memAccount
	table       *keyTable
	counts      []int64 // per group: right rows not yet consumed
	emitted     []bool
	groups      []uint32
	built       bool
}

func (s *setOp) Schema() *arrow.Schema { return s.schema }

func (s *setOp) Open(ctx context.Context) error {
	for _, in := range []Operator{s.left, s.right} {
		if !typesMatch(in.Schema(), s.schema) {
			return fmt.Errorf("exec: %s input %s does not match %s", s.kind, in.Schema(), s.schema)
		}
	}
	t, err := newKeyTable(newHasher(), fieldTypes(s.schema))
	if err != nil {
		return err
	}
	s.table = t
	if err := s.left.Open(ctx); err != nil {
		return err
	}
	return s.right.Open(ctx)
}

func (s *setOp) buildRight(ctx context.Context) error {
	for {
		b, ok, err := s.right.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if b.Kind != BatchData {
			return controlError(s.kind.String(), b)
		}
		s.groups = s.table.insert(b.Rec.Columns(), int(b.Rec.NumRows()), s.groups)
		b.Rec.Release()
		s.counts = grow(s.counts, s.table.len())
		for _, g := range s.groups {
			s.counts[g]++
		}
		if err := s.acct.set(s.table.bytes() + sizeOf(s.counts)); err != nil {
			return err
		}
	}
}

func (s *setOp) Next(ctx context.Context) (Batch, bool, error) {
	if !s.built {
		s.built = true
		if err := s.buildRight(ctx); err != nil {
			return Batch{}, false, err
		}
	}
	for {
		b, ok, err := s.left.Next(ctx)
		if err != nil || !ok {
			return b, ok, err
		}
		if b.Kind != BatchData {
			return b, true, nil
		}
		rec := b.Rec
		n := int(rec.NumRows())
		s.groups = s.table.insert(rec.Columns(), n, s.groups)
		s.counts = grow(s.counts, s.table.len())
		s.emitted = grow(s.emitted, s.table.len())
		if err := s.acct.set(s.table.bytes() + sizeOf(s.counts) + sizeOf(s.emitted)); err != nil {
			rec.Release()
			return Batch{}, false, err
		}
		var sel []int32
		for i, g := range s.groups {
			keep := false
			switch {
			case s.kind == SetIntersect && s.all:
				if s.counts[g] > 0 {
					s.counts[g]--
					keep = true
				}
			case s.kind == SetIntersect:
				keep = s.counts[g] > 0 && !s.emitted[g]
				s.emitted[g] = s.emitted[g] || keep
			case s.all: // EXCEPT ALL
				if s.counts[g] > 0 {
					s.counts[g]--
				} else {
					keep = true
				}
			default: // EXCEPT
				keep = s.counts[g] == 0 && !s.emitted[g]
				s.emitted[g] = s.emitted[g] || keep
			}
			if keep {
				sel = append(sel, int32(i))
			}
		}
		if out, ok, err := selectedRows(s.mem.Alloc, s.schema, rec, sel); ok || err != nil {
			return out, ok, err
		}
	}
}

func (s *setOp) Close() error {
	s.table = nil
	s.acct.close()
	err := s.left.Close()
	if err2 := s.right.Close(); err == nil {
		err = err2
	}
	return err
}
