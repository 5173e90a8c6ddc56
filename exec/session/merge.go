package session

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// rowIDColumn is the name of the row number column a MERGE reads its
// target with.
const rowIDColumn = "__etlc_rowid"

// merge runs MERGE INTO table, copy-on-write:
//
//  1. The target, read with each row's ordinal number, is joined with the
//     source on the ON condition (LEFT JOIN, FULL JOIN when there are WHEN
//     NOT MATCHED clauses). A projection computes each joined row's action:
//     the first WHEN clause of its kind (matched, not matched) whose
//     condition is TRUE, as a CASE does; then the values of that clause's
//     SET or INSERT, only on the rows that chose it.
//  2. Updated and inserted rows go into a new version of the table; the
//     ordinals of updated and deleted target rows are marked. A target row
//     that a second source row would update or delete is an error
//     (SQLSTATE 21000), as in PostgreSQL.
//  3. The target is read again and its unmarked rows copied into the new
//     version, which then replaces the table atomically.
func (r *stmtRun) merge(ctx context.Context, st *planner.MergeStmt) error {
	target := st.Target
	if target == nil || st.Source == nil || st.On == nil {
		return fmt.Errorf("the MERGE statement is incomplete")
	}
	eng := r.s.eng
	unlock := eng.lockTarget(target.Name)
	defer unlock()

	nt := len(target.Columns)
	src := st.Source.Schema()
	ns := len(src)
	rowObj := target.Clone()
	rowObj.Columns = append(rowObj.Columns, catalog.Column{Name: rowIDColumn, Type: catalog.Int64, NotNull: true})
	full := false
	for _, a := range st.Actions {
		if !a.Matched {
			full = true
		}
	}
	alias := st.Stmt.Alias.Name
	if alias == "" {
		alias = target.Name
	}
	// The join: [target columns, rowid, source columns, matched marker].
	var joinCols []planner.Column
	leftCols := make([]planner.Column, 0, nt+1)
	for _, c := range rowObj.Columns {
		leftCols = append(leftCols, planner.Column{Name: c.Name, Qualifier: alias, Type: c.Type, Nullable: !c.NotNull})
	}
	left := &planner.Scan{Object: &rowObj, Alias: alias, Columns: leftCols}
	rightExprs := make([]planner.Expr, 0, ns+1)
	rightCols := make([]planner.Column, 0, ns+1)
	for i, c := range src {
		rightExprs = append(rightExprs, &planner.ColRef{Index: i, Name: c.Name, T: c.Type})
		rightCols = append(rightCols, c)
	}
	rightExprs = append(rightExprs, &planner.Const{Value: true, T: catalog.Bool})
	rightCols = append(rightCols, planner.Column{Name: "__etlc_matched", Type: catalog.Bool})
	right := &planner.Project{Input: st.Source, Exprs: rightExprs, Columns: rightCols}
	for _, c := range leftCols {
		c.Nullable = c.Nullable || full
		joinCols = append(joinCols, c)
	}
	for _, c := range rightCols {
		c.Nullable = true
		joinCols = append(joinCols, c)
	}
	kind := planner.LeftJoin
	if full {
		kind = planner.FullJoin
	}
	shifted := func(e planner.Expr) planner.Expr { return shiftRefs(e, nt, 1) }
	join := &planner.Join{Kind: kind, Left: left, Right: right, Cond: shifted(st.On), Columns: joinCols}

	// Project 1: [target columns, source columns, rowid, marker, action].
	var p1Exprs []planner.Expr
	var p1Cols []planner.Column
	for i := 0; i < nt; i++ {
		p1Exprs = append(p1Exprs, &planner.ColRef{Index: i, Name: joinCols[i].Name, T: joinCols[i].Type})
		p1Cols = append(p1Cols, joinCols[i])
	}
	for j := 0; j < ns; j++ {
		c := joinCols[nt+1+j]
		p1Exprs = append(p1Exprs, &planner.ColRef{Index: nt + 1 + j, Name: c.Name, T: c.Type})
		p1Cols = append(p1Cols, c)
	}
	rowid := &planner.ColRef{Index: nt, Name: rowIDColumn, T: catalog.Int64}
	marker := &planner.ColRef{Index: nt + 1 + ns, Name: "__etlc_matched", T: catalog.Bool}
	p1Exprs = append(p1Exprs, rowid, marker)
	p1Cols = append(p1Cols, planner.Column{Name: rowIDColumn, Type: catalog.Int64, Nullable: true},
		planner.Column{Name: "__etlc_matched", Type: catalog.Bool, Nullable: true})
	reg := r.s.eng.reg
	isMatched := call(reg, "and", catalog.Bool, call(reg, "is_not_null", catalog.Bool, rowid), call(reg, "is_not_null", catalog.Bool, marker))
	notMatched := call(reg, "is_null", catalog.Bool, rowid)
	action := &planner.Case{T: catalog.Int64, Else: &planner.Const{Value: int64(0), T: catalog.Int64}}
	for k, a := range st.Actions {
		cond := notMatched
		if a.Matched {
			cond = isMatched
		}
		if a.Cond != nil {
			cond = call(reg, "and", catalog.Bool, cond, shifted(a.Cond))
		}
		action.Whens = append(action.Whens, planner.When{Cond: cond, Result: &planner.Const{Value: int64(k + 1), T: catalog.Int64}})
	}
	p1Exprs = append(p1Exprs, action)
	p1Cols = append(p1Cols, planner.Column{Name: "__etlc_action", Type: catalog.Int64})
	p1 := &planner.Project{Input: join, Exprs: p1Exprs, Columns: p1Cols}

	// Project 2: project 1's columns, then each clause's values, computed
	// only on the rows that chose the clause.
	actionCol := nt + ns + 2
	var p2Exprs []planner.Expr
	for i, c := range p1Cols {
		p2Exprs = append(p2Exprs, &planner.ColRef{Index: i, Name: c.Name, T: c.Type})
	}
	p2Cols := append([]planner.Column(nil), p1Cols...)
	type clauseCols struct {
		targets []int // target column per value
		cols    []int // column of project 2 holding the value
	}
	clauses := make([]clauseCols, len(st.Actions))
	for k, a := range st.Actions {
		var idx []int
		var vals []planner.Expr
		switch a.Kind {
		case parser.MergeUpdate:
			idx, vals = a.SetColumns, a.SetValues
		case parser.MergeInsert:
			idx, vals = a.InsertColumns, a.InsertValues
		}
		for i, v := range vals {
			if i >= len(idx) || idx[i] < 0 || idx[i] >= nt {
				return fmt.Errorf("MERGE clause %d assigns an unknown column", k+1)
			}
			tc := target.Columns[idx[i]]
			v = assignTo(v, tc.Type)
			chosen := call(reg, "eq", catalog.Bool, &planner.ColRef{Index: actionCol, Name: "__etlc_action", T: catalog.Int64},
				&planner.Const{Value: int64(k + 1), T: catalog.Int64})
			p2Exprs = append(p2Exprs, &planner.Case{Whens: []planner.When{{Cond: chosen, Result: v}}, T: v.Type()})
			p2Cols = append(p2Cols, planner.Column{Name: tc.Name, Type: v.Type(), Nullable: true})
			clauses[k].targets = append(clauses[k].targets, idx[i])
			clauses[k].cols = append(clauses[k].cols, len(p2Cols)-1)
		}
	}
	plan := &planner.Project{Input: p1, Exprs: p2Exprs, Columns: p2Cols}

	w, err := r.openWriter(ctx, target, true)
	if err != nil {
		return err
	}
	defer w.releaseKeys()
	if err := w.enforce(ctx, st.Checks, r.liveIndexes(target), false); err != nil {
		return err
	}
	outSchema := projectSchema(target.Columns, seq(nt))
	var affected bitset
	var inserted, updated, deleted int64
	scans := &scanFactory{r: r, rowid: &rowObj}
	err = r.forEach(ctx, plan, scans, func(rec arrow.Record) error {
		acts := rec.Column(actionCol).(*array.Int64)
		ids := rec.Column(nt + ns).(*array.Int64)
		rows := make([][]int64, len(st.Actions))
		for i := 0; i < int(rec.NumRows()); i++ {
			k := acts.Value(i)
			if acts.IsNull(i) || k == 0 {
				continue
			}
			a := st.Actions[k-1]
			if a.Kind != parser.MergeInsert {
				id := ids.Value(i)
				if affected.get(id) {
					return &StmtError{Pos: r.info.Pos, Title: r.info.Title(), Code: "21000",
						Message: "MERGE command cannot affect row a second time",
						Hint:    "ensure that not more than one source row matches any one target row"}
				}
				affected.set(id)
			}
			rows[k-1] = append(rows[k-1], int64(i))
		}
		for k, a := range st.Actions {
			if len(rows[k]) == 0 {
				continue
			}
			switch a.Kind {
			case parser.MergeDelete:
				deleted += int64(len(rows[k]))
				continue
			case parser.MergeUpdate:
				updated += int64(len(rows[k]))
			case parser.MergeInsert:
				inserted += int64(len(rows[k]))
			}
			cols := make([]arrow.Array, nt)
			for j := 0; j < nt; j++ {
				if a.Kind == parser.MergeUpdate {
					cols[j] = rec.Column(j)
				}
			}
			for i, t := range clauses[k].targets {
				cols[t] = rec.Column(clauses[k].cols[i])
			}
			out, err := takeRows(ctx, r.mem.Alloc, outSchema, cols, rows[k])
			if err != nil {
				return err
			}
			err = w.write(ctx, out)
			out.Release()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Copy the target rows no clause touched.
	op, err := scans.OpenScan(ctx, &rowObj, seq(nt+1))
	if err != nil {
		return err
	}
	if err := copyUntouched(ctx, r, op, nt, outSchema, &affected, w); err != nil {
		return err
	}
	if err := w.commit(ctx); err != nil {
		return err
	}
	t := r.rs.target(target)
	t.Inserted += inserted
	t.Updated += updated
	t.Deleted += deleted
	r.res.Inserted, r.res.Updated, r.res.Deleted = inserted, updated, deleted
	r.res.Tag = fmt.Sprintf("MERGE %d", inserted+updated+deleted)
	return nil
}

// copyUntouched writes the rows of the target scan op (target columns,
// then the row number) whose number is not marked in affected, and closes
// op.
func copyUntouched(ctx context.Context, r *stmtRun, op exec.Operator, nt int, schema *arrow.Schema, affected *bitset, w *writer) error {
	return exec.Drive(ctx, op, func(rec arrow.Record) error {
		ids := rec.Column(nt).(*array.Int64)
		var keep []int64
		for i := 0; i < int(rec.NumRows()); i++ {
			if !affected.get(ids.Value(i)) {
				keep = append(keep, int64(i))
			}
		}
		cols := rec.Columns()[:nt]
		var out arrow.Record
		switch {
		case len(keep) == int(rec.NumRows()):
			out = array.NewRecord(schema, cols, rec.NumRows())
		case len(keep) > 0:
			var err error
			if out, err = takeRows(ctx, r.mem.Alloc, schema, cols, keep); err != nil {
				return err
			}
		default:
			return nil
		}
		defer out.Release()
		return w.write(ctx, out)
	})
}

// takeRows returns a record of the rows at idx of the given columns; a nil
// column is all NULL.
func takeRows(ctx context.Context, mem memory.Allocator, schema *arrow.Schema, cols []arrow.Array, idx []int64) (arrow.Record, error) {
	ib := array.NewInt64Builder(mem)
	ib.AppendValues(idx, nil)
	indices := ib.NewArray()
	ib.Release()
	defer indices.Release()
	ctx = compute.WithAllocator(ctx, mem)
	out := make([]arrow.Array, len(cols))
	release := func() {
		for _, a := range out {
			if a != nil {
				a.Release()
			}
		}
	}
	for i, c := range cols {
		if c == nil {
			out[i] = array.MakeArrayOfNull(mem, schema.Field(i).Type, len(idx))
			continue
		}
		a, err := compute.TakeArray(ctx, c, indices)
		if err != nil {
			release()
			return nil, err
		}
		out[i] = a
	}
	rec := array.NewRecord(schema, out, int64(len(idx)))
	release()
	return rec, nil
}

// bitset is a growable set of row numbers.
type bitset struct{ words []uint64 }

func (b *bitset) get(i int64) bool {
	w := int(i >> 6)
	return w < len(b.words) && b.words[w]&(1<<(uint(i)&63)) != 0
}

func (b *bitset) set(i int64) {
	w := int(i >> 6)
	for w >= len(b.words) {
		b.words = append(b.words, 0)
	}
	b.words[w] |= 1 << (uint(i) & 63)
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// shiftRefs adds by to the index of every column reference at or after
// from.
func shiftRefs(e planner.Expr, from, by int) planner.Expr {
	return planner.RewriteExpr(e, func(x planner.Expr) planner.Expr {
		if c, ok := x.(*planner.ColRef); ok && c.Index >= from {
			c2 := *c
			c2.Index += by
			return &c2
		}
		return x
	})
}

// call builds a call of a registry function.
func call(reg *planner.Registry, name string, t catalog.Type, args ...planner.Expr) planner.Expr {
	fn, _ := reg.Lookup(name)
	return &planner.Call{Fn: fn, Name: name, Args: args, T: t}
}
