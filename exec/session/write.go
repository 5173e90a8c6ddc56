package session

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/connector/glue"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// writer writes one statement's rows into a sink or a managed table.
type writer struct {
	r       *stmtRun
	obj     *catalog.Object
	sink    *connector.Sink
	fields  []connector.Field
	notNull []int
	rows    int64
	// overwrite is set when the write replaces the relation's data.
	overwrite bool
	// checks and keys are the table's constraints (see enforce).
	checks []*checkEval
	keys   []*uniqueKey
}

// openWriter opens the sink of a sink object, or of a table's directory.
// overwrite forces mode overwrite; otherwise a sink writes in its own
// mode (append by default) and a table appends.
func (r *stmtRun) openWriter(ctx context.Context, obj *catalog.Object, overwrite bool) (*writer, error) {
	if obj.Kind == catalog.ObjectStream && obj.Options["connector"] == "kafka" {
		return r.openKafkaPush(ctx, obj)
	}
	opts, err := r.s.eng.writeOptions(obj)
	if err != nil {
		return nil, err
	}
	if overwrite {
		opts.Mode = connector.ModeOverwrite
	}
	r.s.touch(obj.Name)
	w := &writer{r: r, obj: obj, fields: fieldsOf(obj.Columns), overwrite: opts.Mode == connector.ModeOverwrite}
	for i, f := range w.fields {
		if f.NotNull {
			w.notNull = append(w.notNull, i)
		}
	}
	// The connector's sink does not check NOT NULL; write() does.
	open := r.s.eng.conn.OpenSink
	if obj.Kind == catalog.ObjectStream {
		// A push into a stream: one new file the running pipelines read.
		open = r.s.eng.conn.OpenPush
	}
	sink, err := open(ctx, opts, nullableFields(w.fields))
	if err != nil {
		return nil, fmt.Errorf("opening %s %q: %w", obj.Kind, obj.Name, err)
	}
	r.sinks = append(r.sinks, sink)
	w.sink = sink
	return w, nil
}

// writeOptions are the connector options that write a sink or a managed
// table (a sink in its own mode, a table appending).
func (e *Engine) writeOptions(obj *catalog.Object) (connector.Options, error) {
	switch obj.Kind {
	case catalog.ObjectSink:
		opts, err := connector.ParseOptions(obj.Options, connector.RoleSink)
		if err != nil {
			return connector.Options{}, fmt.Errorf("sink %q: %w", obj.Name, err)
		}
		return opts, nil
	case catalog.ObjectTable:
		return tableOptions(e.tableDir(obj.Name), connector.ModeAppend)
	case catalog.ObjectStream:
		if c := obj.Options["connector"]; c != "" && c != "file" {
			return connector.Options{}, &codeError{code: "0A000",
				msg: fmt.Sprintf("stream %q: its connector is %q, which is not written as files", obj.Name, c)}
		}
		so := maps.Clone(obj.Options)
		for _, k := range []string{"connector", "idle_timeout", "quiet_period"} {
			delete(so, k)
		}
		opts, err := connector.ParseOptions(so, connector.RoleSource)
		if err != nil {
			return connector.Options{}, fmt.Errorf("stream %q: %w", obj.Name, err)
		}
		return opts, nil
	}
	return connector.Options{}, fmt.Errorf("cannot write into %s %q", obj.Kind, obj.Name)
}

// nullableFields returns fields with NOT NULL cleared.
func nullableFields(fields []connector.Field) []connector.Field {
	out := make([]connector.Field, len(fields))
	for i, f := range fields {
		f.NotNull = false
		out[i] = f
	}
	return out
}

// write checks NOT NULL columns and writes a batch.
func (w *writer) write(ctx context.Context, rec arrow.Record) error {
	for _, i := range w.notNull {
		if rec.Column(i).NullN() > 0 {
			return &codeError{code: catalog.CodeNotNullViolation, msg: fmt.Sprintf("null value in column %q of %s %q violates not-null constraint",
				w.fields[i].Name, w.obj.Kind, w.obj.Name)}
		}
	}
	if len(w.checks) > 0 || len(w.keys) > 0 {
		if err := w.checkRows(ctx, rec); err != nil {
			return err
		}
	}
	if err := w.sink.Write(ctx, rec); err != nil {
		return fmt.Errorf("writing %s %q: %w", w.obj.Kind, w.obj.Name, err)
	}
	n := rec.NumRows()
	w.rows += n
	w.r.rowsWritten.Add(n)
	w.r.progress()
	return nil
}

// commit publishes the statement's output and records what it wrote.
// In a transaction block the output is staged instead (see txBlock).
func (w *writer) commit(ctx context.Context) error {
	w.releaseKeys()
	if tx := w.r.s.tx; tx != nil {
		return w.stage(ctx, tx)
	}
	m, err := w.sink.Commit(ctx)
	w.r.dropSink(w.sink)
	if err != nil && m == nil {
		return fmt.Errorf("committing %s %q: %w", w.obj.Kind, w.obj.Name, err)
	}
	w.r.s.eng.bumpVersion(w.obj.Name, false)
	var files, bytes int64
	for _, f := range m.Files {
		if f.RunID == w.sink.RunID() {
			files++
			bytes += f.Bytes
		}
	}
	w.r.res.FilesWritten += files
	w.r.res.BytesWritten += bytes
	t := w.r.rs.target(w.obj)
	t.Commits++
	t.FilesWritten += files
	t.BytesWritten += bytes
	if w.obj.Kind == catalog.ObjectSink {
		w.r.s.eng.noteCommit(w.obj.Name, files, w.rows, bytes)
	}
	if w.obj.Kind == catalog.ObjectTable {
		w.r.s.eng.noteTableWrite(ctx, w.obj, w.rows, w.overwrite)
	}
	if w.obj.Kind == catalog.ObjectSink && w.obj.Options["catalog"] == "glue" {
		if gerr := registerGlue(ctx, w.r.s.eng, w.obj, m); gerr != nil {
			return fmt.Errorf("sink %q committed its output, but registering it in the Glue Data Catalog failed (the next successful run registers it): %w", w.obj.Name, gerr)
		}
	}
	// A clean-up that failed after the commit (err != nil here) is
	// finished by the next run.
	return nil
}

// registerGlue creates or updates the Glue table of sink obj, with
// catalog = 'glue', to describe the output the manifest m lists.
func registerGlue(ctx context.Context, eng *Engine, obj *catalog.Object, m *connector.Manifest) error {
	reg, err := eng.glueRegistrar(ctx)
	if err != nil {
		return err
	}
	o := obj.Options
	copts, err := connector.ParseOptions(o, connector.RoleSink)
	if err != nil {
		return err
	}
	t := glue.Table{
		Database: o["database"], Name: o["table"], Location: o["path"],
		Format: o["format"], Compression: o["compression"],
		Header: copts.Header, RunID: m.RunID,
	}
	if copts.Delimiter != 0 {
		t.Delimiter = string(copts.Delimiter)
	}
	if copts.Quote != 0 {
		t.Quote = string(copts.Quote)
	}
	if copts.Escape != 0 && copts.Escape != copts.Quote {
		t.Escape = string(copts.Escape)
	}
	var keys []string
	if pb := o["partition_by"]; pb != "" {
		keys = strings.Split(pb, ",")
	}
	for _, c := range obj.Columns {
		if slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(strings.TrimSpace(k), c.Name) }) {
			continue
		}
		t.Columns = append(t.Columns, c)
	}
	for _, k := range keys {
		i := slices.IndexFunc(obj.Columns, func(c catalog.Column) bool { return strings.EqualFold(strings.TrimSpace(k), c.Name) })
		if i < 0 {
			return fmt.Errorf("partition column %q is not a column of sink %q", k, obj.Name)
		}
		t.PartitionKeys = append(t.PartitionKeys, obj.Columns[i])
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		dir, values := connector.PartitionDir(f.Path)
		if len(keys) == 0 || len(values) != len(keys) || seen[dir] {
			continue
		}
		seen[dir] = true
		t.Partitions = append(t.Partitions, glue.Partition{Dir: dir, Values: values})
	}
	return reg.Register(ctx, t)
}

// targetPlan wraps a query plan whose column i goes to target column
// columns[i] into a projection to every target column in order: casts
// where the query's type differs from the column's, for the columns not
// written their DEFAULT (defaults[i], when not nil) or NULL.
func targetPlan(plan planner.Node, target *catalog.Object, columns []int, defaults []planner.Expr) planner.Node {
	in := plan.Schema()
	exprs := make([]planner.Expr, len(target.Columns))
	for qi, ti := range columns {
		c := in[qi]
		exprs[ti] = assignTo(&planner.ColRef{Index: qi, Name: c.Name, T: c.Type}, target.Columns[ti].Type)
	}
	cols := make([]planner.Column, len(target.Columns))
	for i, tc := range target.Columns {
		t := tc.Type
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		if exprs[i] == nil && i < len(defaults) && defaults[i] != nil {
			exprs[i] = defaults[i]
		}
		if exprs[i] == nil {
			exprs[i] = &planner.Const{Value: nil, T: t}
		}
		cols[i] = planner.Column{Name: tc.Name, Type: t, Nullable: !tc.NotNull}
	}
	return &planner.Project{Input: plan, Exprs: exprs, Columns: cols}
}

// assignTo converts a value stored into a column of type t.
func assignTo(e planner.Expr, t catalog.Type) planner.Expr {
	if t.Kind == catalog.KindNull {
		t = catalog.String
	}
	if e.Type() == t {
		return e
	}
	if e.Type().Kind == catalog.KindNull {
		return &planner.Const{Value: nil, T: t}
	}
	return &planner.Cast{Arg: e, T: t, Implicit: true}
}

// insert runs INSERT INTO / INSERT OVERWRITE: the query's rows go into the
// target, committed at the end only when every row was written.
func (r *stmtRun) insert(ctx context.Context, st *planner.InsertStmt) error {
	target := st.Target
	if target == nil {
		return fmt.Errorf("the target of the INSERT is unknown")
	}
	unlock := r.s.eng.lockTarget(target.Name)
	defer unlock()
	plan := targetPlan(st.Plan, target, st.Columns, st.Defaults)
	w, err := r.openWriter(ctx, target, st.Overwrite)
	if err != nil {
		return err
	}
	defer w.releaseKeys()
	if err := w.enforce(ctx, st.Checks, r.liveIndexes(target), !st.Overwrite); err != nil {
		return err
	}
	if err := r.forEach(ctx, plan, nil, func(rec arrow.Record) error { return w.write(ctx, rec) }); err != nil {
		return err
	}
	if err := w.commit(ctx); err != nil {
		return err
	}
	r.rs.target(target).Inserted += w.rows
	r.res.Inserted = w.rows
	r.res.Tag = fmt.Sprintf("INSERT 0 %d", w.rows)
	return nil
}

// create runs CREATE SOURCE / STREAM / SINK / TABLE [AS] / VIEW.
func (r *stmtRun) create(ctx context.Context, st *planner.CreateStmt) error {
	eng := r.s.eng
	obj := st.Object.Clone()
	r.res.Tag = "CREATE " + strings.ToUpper(obj.Kind.String())
	switch obj.Kind {
	case catalog.ObjectView:
		return r.createView(ctx, st, obj)
	case catalog.ObjectTable:
		return r.createTable(ctx, st, obj)
	}
	created, err := eng.cat.Create(ctx, obj, st.Mode)
	if err != nil {
		return err
	}
	if !created || (obj.Kind != catalog.ObjectSource && obj.Kind != catalog.ObjectStream) {
		return nil
	}
	eng.resetQuarantine(obj.Name)
	eo := ErrorsObject(obj.Name)
	if opts, err := connector.ParseOptions(obj.Options, connector.RoleSource); err == nil && opts.OnError == connector.OnErrorQuarantine {
		if _, err := eng.cat.Create(ctx, eo, catalog.CreateOrReplace); err != nil {
			return fmt.Errorf("registering %s: %w", eo.Name, err)
		}
		return nil
	}
	// A replaced source that no longer quarantines loses its relation.
	if old, ok := eng.cat.Lookup(eo.Name); ok {
		if _, isErr := isErrorsObject(&old); isErr {
			if _, err := eng.cat.Drop(ctx, catalog.ObjectSource, eo.Name, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// createTable creates a managed table; CREATE TABLE AS also writes the
// query's rows, committed before the table is registered.
func (r *stmtRun) createTable(ctx context.Context, st *planner.CreateStmt, obj catalog.Object) error {
	eng := r.s.eng
	old, exists := eng.cat.Lookup(obj.Name)
	switch {
	case exists && st.Mode == catalog.CreateIfNotExists:
		return nil
	case exists && st.Mode == catalog.CreateNew:
		return &catalog.ObjectError{Err: catalog.ErrExists, Code: catalog.CodeDuplicateTable,
			Message: fmt.Sprintf("%s %q already exists", old.Kind, old.Name)}
	case exists && old.Kind != catalog.ObjectTable:
		return &catalog.ObjectError{Err: catalog.ErrWrongKind, Code: catalog.CodeWrongObjectType,
			Message: fmt.Sprintf("%q is a %s, not a table", old.Name, old.Kind)}
	}
	if exists && st.Query != nil && r.s.tx != nil {
		// The replaced table's files would go at once, the rows of the
		// new one at COMMIT: nothing sound to read in between.
		return errNotInBlock("CREATE OR REPLACE TABLE ... AS of an existing table")
	}
	unlock := eng.lockTarget(obj.Name)
	defer unlock()
	r.s.forget(ctx, obj.Name)
	if st.Query == nil {
		// A new (or replaced) table starts empty, whatever files a table of
		// that name left.
		if err := eng.dropTableData(obj.Name); err != nil {
			return err
		}
		_, err := eng.cat.Create(ctx, obj, st.Mode)
		return err
	}
	if !exists {
		if err := eng.dropTableData(obj.Name); err != nil {
			return err
		}
	}
	cols := make([]int, len(obj.Columns))
	for i := range cols {
		cols[i] = i
	}
	w, err := r.openWriter(ctx, &obj, true)
	if err != nil {
		return err
	}
	defer w.releaseKeys()
	if err := w.enforce(ctx, nil, obj.Indexes, false); err != nil {
		return err
	}
	plan := targetPlan(st.Query, &obj, cols, nil)
	if err := r.forEach(ctx, plan, nil, func(rec arrow.Record) error { return w.write(ctx, rec) }); err != nil {
		return err
	}
	if err := w.commit(ctx); err != nil {
		return err
	}
	r.rs.target(&obj).Inserted += w.rows
	r.res.Inserted = w.rows
	r.res.Tag = fmt.Sprintf("SELECT %d", w.rows)
	_, err = eng.cat.Create(ctx, obj, catalog.CreateOrReplace)
	return err
}

// createView registers a view: a temporary one in the session, another in
// the catalog. The stored definition is the view's query with parameters
// substituted, which the planner binds again where the view is used.
func (r *stmtRun) createView(ctx context.Context, st *planner.CreateStmt, obj catalog.Object) error {
	k := catalogKey(obj.Name)
	cv, _ := st.Stmt.(*parser.CreateView)
	if cv != nil && cv.Query != nil && cv.Query.Frag != nil {
		obj.SQL = viewSQL(cv)
	}
	if obj.Temporary {
		if _, ok := r.s.temps[k]; ok && st.Mode == catalog.CreateNew {
			return &catalog.ObjectError{Err: catalog.ErrExists, Code: catalog.CodeDuplicateTable,
				Message: fmt.Sprintf("view %q already exists", obj.Name)}
		}
		r.s.temps[k] = obj
		return nil
	}
	_, err := r.s.eng.cat.Create(ctx, obj, st.Mode)
	return err
}

// drop runs DROP: catalog entries, a table's files, a source's __errors
// relation. A sink's output stays where it is.
func (r *stmtRun) drop(ctx context.Context, st *planner.DropStmt) error {
	eng := r.s.eng
	r.res.Tag = "DROP " + st.Stmt.Kind.String()
	for _, o := range st.Objects {
		k := catalogKey(o.Name)
		if o.Kind == catalog.ObjectView {
			if _, ok := r.s.temps[k]; ok {
				delete(r.s.temps, k)
				continue
			}
		}
		if o.Kind == catalog.ObjectPipeline {
			// A running pipeline stops (with a last checkpoint) first.
			if _, err := eng.StopPipeline(ctx, o.Name); err != nil && ctx.Err() != nil {
				return err
			}
		}
		if _, err := eng.cat.Drop(ctx, o.Kind, o.Name, st.Stmt.IfExists); err != nil {
			return err
		}
		if o.Kind == catalog.ObjectTable || o.Kind == catalog.ObjectSink {
			// The block's staged writes of a dropped target go with it.
			r.s.forget(ctx, o.Name)
		}
		switch o.Kind {
		case catalog.ObjectPipeline:
			if err := eng.dropPipeline(ctx, o.Name); err != nil {
				return err
			}
		case catalog.ObjectTable:
			unlock := eng.lockTarget(o.Name)
			err := eng.dropTableData(o.Name)
			unlock()
			if err != nil {
				return err
			}
		case catalog.ObjectSource, catalog.ObjectStream:
			eng.resetQuarantine(o.Name)
			eo := ErrorsObject(o.Name)
			if old, ok := eng.cat.Lookup(eo.Name); ok {
				if _, isErr := isErrorsObject(&old); isErr {
					if _, err := eng.cat.Drop(ctx, catalog.ObjectSource, eo.Name, true); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// viewSQL is the stored definition of a view: its query as the planner
// read it (parameters substituted), with the view's column names applied.
func viewSQL(cv *parser.CreateView) string {
	q := cv.Query.Frag.Text
	if len(cv.Columns) == 0 {
		return q
	}
	names := make([]string, len(cv.Columns))
	for i, c := range cv.Columns {
		names[i] = catalog.QuoteIdent(c.Name)
	}
	v := catalog.QuoteIdent(cv.Name.Name.Name)
	return "WITH " + v + " (" + strings.Join(names, ", ") + ") AS (" + q + ") SELECT * FROM " + v
}
