package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/planner"
)

// MaxRecursion is the most steps a recursive CTE may take: a recursion
// that has not stopped by then is an error rather than a run that never
// ends.
const MaxRecursion = 100_000

// recursiveCTE runs WITH RECURSIVE: the anchor's rows, then the recursive
// plan over the rows of the step before (the work table), built anew for
// every step, until a step yields no row. Without ALL, rows seen before
// are dropped (the rows of every step are hashed into one key table). It
// is a pipeline breaker: Open computes every row (accounted), Next replays
// them.
type recursiveCTE struct {
	node   *planner.RecursiveCTE
	env    *BuildEnv
	anchor Operator
	schema *arrow.Schema
	acct   memAccount

	table    *keyTable
	groups   []uint32
	rows     []arrow.Record
	rowBytes int64
	out      *RecordSource
}

func (b *builder) recursive(n *planner.RecursiveCTE) (Operator, error) {
	anchor, err := b.build(n.Anchor)
	if err != nil {
		return nil, err
	}
	return &recursiveCTE{node: n, env: b.env, anchor: anchor, schema: SchemaOf(n.Columns),
		acct: memAccount{mem: b.env.Mem, owner: "WITH RECURSIVE " + n.Name}}, nil
}

// Schema implements Operator.
func (r *recursiveCTE) Schema() *arrow.Schema { return r.schema }

// Open implements Operator.
func (r *recursiveCTE) Open(ctx context.Context) error {
	if !r.node.All {
		t, err := newKeyTable(newHasher(), fieldTypes(r.schema))
		if err != nil {
			return err
		}
		r.table = t
	}
	op := r.anchor
	r.anchor = nil
	work, err := r.step(ctx, op)
	if err != nil {
		return err
	}
	for steps := 0; len(work) > 0; steps++ {
		if steps == MaxRecursion {
			ReleaseRecords(work)
			return fmt.Errorf("recursive query %q did not stop after %d steps", r.node.Name, MaxRecursion)
		}
		if r.env.work == nil {
			r.env.work = map[int][]arrow.Record{}
		}
		r.env.work[r.node.ID] = work
		op, err := Build(ctx, r.node.Recursive, r.env)
		if err != nil {
			ReleaseRecords(work)
			return err
		}
		prev := work
		work, err = r.step(ctx, op)
		delete(r.env.work, r.node.ID)
		ReleaseRecords(prev)
		if err != nil {
			return err
		}
	}
	r.out = NewRecordSource(r.schema, r.rows)
	return r.out.Open(ctx)
}

// step runs one step's plan and returns its new rows (kept in r.rows too),
// nil when there are none.
func (r *recursiveCTE) step(ctx context.Context, op Operator) ([]arrow.Record, error) {
	recs, err := Collect(ctx, op)
	if err != nil {
		return nil, err
	}
	var out []arrow.Record
	for _, rec := range recs {
		n := int(rec.NumRows())
		if n == 0 {
			rec.Release()
			continue
		}
		if r.table != nil {
			before := r.table.len()
			r.groups = r.table.insert(rec.Columns(), n, r.groups)
			sel := firstRows(r.groups, before)
			switch len(sel) {
			case 0:
				rec.Release()
				continue
			case n:
			default:
				t, err := takeRecord(r.env.Mem.Alloc, r.schema, rec, sel)
				rec.Release()
				if err != nil {
					ReleaseRecords(out)
					return nil, err
				}
				rec = t
			}
		}
		rec = relabel(r.schema, rec)
		out = append(out, rec)
		rec.Retain()
		r.rows = append(r.rows, rec)
		r.rowBytes += recordBytes(rec)
		held := r.rowBytes
		if r.table != nil {
			held += r.table.bytes()
		}
		if err := r.acct.set(held); err != nil {
			ReleaseRecords(out)
			return nil, err
		}
	}
	return out, nil
}

// Next implements Operator.
func (r *recursiveCTE) Next(ctx context.Context) (Batch, bool, error) {
	return r.out.Next(ctx)
}

// Close implements Operator.
func (r *recursiveCTE) Close() error {
	var err error
	if r.anchor != nil {
		err = r.anchor.Close()
	}
	if r.out != nil {
		if cerr := r.out.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	ReleaseRecords(r.rows)
	r.rows = nil
	r.table = nil
	r.acct.close()
	return err
}

// workTable reads the rows of the step before of a recursive CTE.
func (b *builder) workTable(n *planner.WorkTable) (Operator, error) {
	recs, ok := b.env.work[n.ID]
	if !ok {
		return nil, fmt.Errorf("exec: the work table of %s is read outside its recursive query", n.Name)
	}
	return NewRecordSource(SchemaOf(n.Columns), recs), nil
}
