package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/planner"
)

// scanFactory opens the relations a statement's plans read: sources and
// streams (through the file connector), managed tables (their committed
// Parquet files), sinks (their committed output), the <source>__errors
// relations and the etl.* system tables.
type scanFactory struct {
	r *stmtRun
	// rowid, when set, is the object of a MERGE target read with its row
	// number appended as one more BIGINT column.
	rowid *catalog.Object
}

var _ exec.ScanFactory = (*scanFactory)(nil)

// fieldsOf converts catalog columns to connector fields.
func fieldsOf(cols catalog.Schema) []connector.Field {
	out := make([]connector.Field, len(cols))
	for i, c := range cols {
		t := c.Type
		if t.Kind == catalog.KindNull {
			t = catalog.String
		}
		out[i] = connector.Field{Name: c.Name, Type: t, NotNull: c.NotNull}
	}
	return out
}

// OpenScan implements exec.ScanFactory.
func (f *scanFactory) OpenScan(ctx context.Context, obj *catalog.Object, columns []int) (exec.Operator, error) {
	for _, c := range columns {
		if c < 0 || c >= len(obj.Columns) {
			return nil, fmt.Errorf("column %d of %s does not exist (%d columns)", c, obj.Name, len(obj.Columns))
		}
	}
	if f.rowid != nil && obj == f.rowid {
		cols := obj.Columns[:len(obj.Columns)-1]
		data := make([]int, 0, len(columns))
		for _, c := range columns {
			if c < len(cols) {
				data = append(data, c)
			}
		}
		sc, err := f.tableScan(obj.Name, cols, data)
		if err != nil {
			return nil, err
		}
		sc.rowid = true
		sc.schema = projectSchema(obj.Columns, append(data, len(cols)))
		return sc, nil
	}
	if src, ok := isErrorsObject(obj); ok {
		return &errorsScan{r: f.r, source: src, columns: columns, schema: projectSchema(obj.Columns, columns), cols: obj.Columns}, nil
	}
	switch obj.Kind {
	case catalog.ObjectSystem:
		return f.systemScan(obj, columns)
	case catalog.ObjectSource, catalog.ObjectStream:
		return f.sourceScan(obj, columns)
	case catalog.ObjectTable:
		sc, err := f.tableScan(obj.Name, obj.Columns, columns)
		if err != nil {
			return nil, err
		}
		return f.r.scans.open(scanKey(obj.Name, columns), sc), nil
	case catalog.ObjectSink:
		return f.sinkScan(obj, columns)
	}
	return nil, fmt.Errorf("cannot read %s %q", obj.Kind, obj.Name)
}

// projectSchema is the Arrow schema of the given columns of cols.
func projectSchema(cols catalog.Schema, columns []int) *arrow.Schema {
	sel := make([]connector.Field, len(columns))
	all := fieldsOf(cols)
	for i, c := range columns {
		sel[i] = all[c]
	}
	return connector.ArrowSchema(sel)
}

// sourceScan reads a file source or stream. Under on_error drop and
// quarantine every column is read (and the requested ones kept), so that
// every read of the source finds the same bad rows whatever columns a
// query needs.
func (f *scanFactory) sourceScan(obj *catalog.Object, columns []int) (*fileScan, error) {
	opts, err := connector.ParseOptions(obj.Options, connector.RoleSource)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", obj.Kind, obj.Name, err)
	}
	if len(obj.Columns) == 0 {
		return nil, fmt.Errorf("%s %q has no columns: its schema could not be inferred; declare them", obj.Kind, obj.Name)
	}
	sc := &fileScan{r: f.r, obj: obj, what: obj.Kind.String(), opts: opts, fields: fieldsOf(obj.Columns),
		source: true, schema: projectSchema(obj.Columns, columns)}
	if opts.OnError == connector.OnErrorFail {
		sc.read = columns
	} else {
		sc.proj = columns
		sc.quarantine = opts.OnError == connector.OnErrorQuarantine
	}
	return sc, nil
}

// tableScan reads the committed files of a managed table; a table never
// written reads as empty.
func (f *scanFactory) tableScan(name string, cols catalog.Schema, columns []int) (*fileScan, error) {
	f.r.s.touch(name)
	opts, err := tableOptions(f.r.s.eng.tableDir(name), connector.ModeAppend)
	if err != nil {
		return nil, err
	}
	return &fileScan{r: f.r, obj: &catalog.Object{Kind: catalog.ObjectTable, Name: name}, what: "table",
		opts: opts, fields: fieldsOf(cols), read: columns, missingOK: true,
		schema: projectSchema(cols, columns)}, nil
}

// tableOptions are the connector options of a managed table's directory.
func tableOptions(dir string, mode connector.Mode) (connector.Options, error) {
	o, err := connector.ParseOptions(map[string]string{"path": dir, "format": "parquet"}, connector.RoleSink)
	if err != nil {
		return o, err
	}
	o.Mode = mode
	return o, nil
}

// sinkScan reads a sink's committed output, as a source with the sink's
// path and format would.
func (f *scanFactory) sinkScan(obj *catalog.Object, columns []int) (*fileScan, error) {
	m := map[string]string{}
	for k, v := range obj.Options {
		switch k {
		case "mode", "partition_by", "compression":
		default:
			m[k] = v
		}
	}
	opts, err := connector.ParseOptions(m, connector.RoleSource)
	if err != nil {
		return nil, fmt.Errorf("sink %q: %w", obj.Name, err)
	}
	if len(obj.Columns) == 0 {
		return nil, fmt.Errorf("sink %q has no declared columns to read", obj.Name)
	}
	f.r.s.touch(obj.Name)
	return &fileScan{r: f.r, obj: obj, what: "sink", opts: opts, fields: fieldsOf(obj.Columns),
		read: columns, missingOK: true, schema: projectSchema(obj.Columns, columns)}, nil
}

// fileScan is the operator that reads files through the connector.
type fileScan struct {
	r      *stmtRun
	obj    *catalog.Object
	what   string
	opts   connector.Options
	fields []connector.Field
	// read are the columns the connector produces (nil: all); proj, when
	// set, are the output columns as indexes into fields (of a full read).
	read, proj []int
	schema     *arrow.Schema
	// rowid appends the row's ordinal number in the scan as a last column.
	rowid bool
	// missingOK makes a missing directory read as empty.
	missingOK bool
	// source counts the read in the source statistics; quarantine
	// publishes the bad rows of a complete read as <source>__errors.
	source, quarantine bool

	scan      *connector.Scan
	empty     bool
	gen       uint64
	quar      []arrow.Record
	rows      int64
	files     int
	bytes     int64
	nextRowID int64
	done      bool
	noted     bool
	// morsels and group are set on the parts of a read split across
	// workers: the parts take the pieces to read from morsels and note
	// the read once, together, through group.
	morsels *connector.Morsels
	group   *partGroup
	// listing is the files the parts of a split read share, or those
	// left after partition pruning (nil: the scan lists the path).
	listing []connector.SourceFile
	// columns are the scan's columns (indexes into fields); partFilters,
	// when set, are conditions over them that read only partition
	// columns: the files of partitions for which one is not TRUE are
	// not read.
	columns     []int
	partFilters []planner.Expr
}

// partGroup adds up what the parts of a split read have read; the last
// part to finish notes the whole read.
type partGroup struct {
	mu       sync.Mutex
	left     int
	rows     int64
	bad      int64
	complete bool
}

// OpenScanParts implements exec.PartScanFactory: a file source read with
// on_error = 'fail' splits into n parts sharing its row groups (Parquet)
// or files (other formats), after the partitions and row groups the
// filters rule out are left out (as OpenScanFiltered does). Streams,
// quarantining sources, managed tables and the other relations are not
// split.
func (f *scanFactory) OpenScanParts(ctx context.Context, obj *catalog.Object, columns []int, filters exec.ScanFilters, n int) ([]exec.Operator, bool, error) {
	if n < 2 || obj.Kind != catalog.ObjectSource || (f.rowid != nil && obj == f.rowid) {
		return nil, false, nil
	}
	if _, ok := isErrorsObject(obj); ok {
		return nil, false, nil
	}
	for _, c := range columns {
		if c < 0 || c >= len(obj.Columns) {
			return nil, false, fmt.Errorf("column %d of %s does not exist (%d columns)", c, obj.Name, len(obj.Columns))
		}
	}
	opts, err := connector.ParseOptions(obj.Options, connector.RoleSource)
	if err != nil {
		return nil, false, fmt.Errorf("%s %q: %w", obj.Kind, obj.Name, err)
	}
	if opts.OnError != connector.OnErrorFail {
		return nil, false, nil
	}
	probe, err := f.sourceScan(obj, columns)
	if err != nil {
		return nil, false, err
	}
	f.setFilters(probe, obj, columns, filters)
	var listing []connector.SourceFile
	if probe.partFilters != nil {
		if listing, err = f.prunedListing(ctx, probe); err != nil {
			return nil, false, fmt.Errorf("reading %s %q: %w", obj.Kind, obj.Name, err)
		}
	}
	files, m, pieces, err := f.r.s.eng.conn.Split(ctx, probe.opts, connector.ScanSpec{Fields: probe.fields, Columns: probe.read, Files: listing})
	if err != nil {
		return nil, false, fmt.Errorf("reading %s %q: %w", obj.Kind, obj.Name, err)
	}
	if pieces < 2 {
		// One piece (a small source): nothing to share.
		return nil, false, nil
	}
	n = min(n, pieces)
	g := &partGroup{left: n, complete: true}
	ops := make([]exec.Operator, n)
	for i := range ops {
		sc, err := f.sourceScan(obj, columns)
		if err != nil {
			return nil, false, err
		}
		sc.opts = probe.opts
		sc.morsels, sc.group, sc.listing = m, g, files
		ops[i] = sc
	}
	return ops, true, nil
}

// Schema implements exec.Operator.
func (s *fileScan) Schema() *arrow.Schema { return s.schema }

// Open implements exec.Operator.
func (s *fileScan) Open(ctx context.Context) error {
	if !s.source && s.listing == nil && s.morsels == nil {
		// In a transaction block that wrote the table or sink: its
		// published files (unless the block overwrote them), then the
		// block's staged ones.
		if wrote, overwritten, staged := s.r.s.stagedFiles(s.obj.Name); wrote {
			files := []connector.SourceFile{}
			if !overwritten {
				pub, err := s.r.s.eng.conn.ListFiles(ctx, s.opts)
				if err != nil && !errors.Is(err, connector.ErrNotExist) {
					return fmt.Errorf("reading %s %q: %w", s.what, s.obj.Name, err)
				}
				files = append(files, pub...)
			}
			s.listing = append(files, staged...)
		}
	}
	if s.missingOK && !strings.HasPrefix(s.opts.Path, "s3://") && !strings.HasPrefix(s.opts.Path, "s3a://") {
		if _, err := os.Stat(strings.TrimSuffix(s.opts.Path, "/")); errors.Is(err, os.ErrNotExist) {
			s.empty = true
			return nil
		}
	}
	if s.quarantine {
		s.gen = s.r.s.eng.quarantineGen(s.obj.Name)
	}
	if s.partFilters != nil && s.listing == nil {
		files, err := (&scanFactory{r: s.r}).prunedListing(ctx, s)
		if err != nil {
			return fmt.Errorf("reading %s %q: %w", s.what, s.obj.Name, err)
		}
		s.listing = files
	}
	sc, err := s.r.s.eng.conn.Scan(ctx, s.opts, connector.ScanSpec{Fields: s.fields, Columns: s.read, Morsels: s.morsels, Files: s.listing})
	if err != nil {
		return fmt.Errorf("reading %s %q: %w", s.what, s.obj.Name, err)
	}
	s.scan = sc
	return nil
}

// account adds the sizes of the files the scan opened since the last call
// (the parts of a split read count the files when they are done).
func (s *fileScan) account() {
	if s.group != nil {
		return
	}
	n := s.scan.Stats().Files
	files := s.scan.Files()
	for ; s.files < n && s.files < len(files); s.files++ {
		s.bytes += files[s.files].Size
		s.r.bytesRead.Add(files[s.files].Size)
	}
}

// Next implements exec.Operator.
func (s *fileScan) Next(ctx context.Context) (exec.Batch, bool, error) {
	if s.empty || s.done {
		return exec.Batch{}, false, nil
	}
	rec, err := s.scan.Next(ctx)
	if q := s.scan.TakeQuarantine(); q != nil {
		s.quar = append(s.quar, q)
	}
	s.account()
	if err == io.EOF {
		s.finish()
		return exec.Batch{}, false, nil
	}
	if err != nil {
		return exec.Batch{}, false, fmt.Errorf("reading %s %q: %w", s.what, s.obj.Name, err)
	}
	n := rec.NumRows()
	s.rows += n
	s.r.rowsRead.Add(n)
	s.r.progress()
	if s.proj != nil {
		cols := make([]arrow.Array, len(s.proj))
		for i, c := range s.proj {
			cols[i] = rec.Column(c)
		}
		out := array.NewRecord(s.schema, cols, n)
		rec.Release()
		rec = out
	}
	if s.rowid {
		b := array.NewInt64Builder(s.r.mem.Alloc)
		b.Reserve(int(n))
		for i := int64(0); i < n; i++ {
			b.UnsafeAppend(s.nextRowID + i)
		}
		s.nextRowID += n
		ids := b.NewArray()
		b.Release()
		cols := append(append([]arrow.Array(nil), rec.Columns()...), ids)
		out := array.NewRecord(s.schema, cols, n)
		ids.Release()
		rec.Release()
		rec = out
	}
	return exec.Batch{Kind: exec.BatchData, Rec: rec}, true, nil
}

// finish records a complete read: statistics, and the bad rows of a
// quarantining source.
func (s *fileScan) finish() {
	s.done = true
	if !s.source {
		return
	}
	s.r.noteMu.Lock()
	defer s.r.noteMu.Unlock()
	st := s.scan.Stats()
	bad := st.BadRows + int64(st.BadFiles)
	s.note(true, bad)
	if s.quarantine {
		recs := s.quar
		s.quar = nil
		if s.r.s.eng.publishQuarantine(s.obj.Name, s.gen, recs) {
			s.r.rs.quarantined[catalogKey(s.obj.Name)] = s.obj
		}
	}
}

// note records the read in the engine's and the run's statistics, once.
func (s *fileScan) note(complete bool, bad int64) {
	if s.noted || !s.source {
		return
	}
	s.noted = true
	if g := s.group; g != nil {
		g.mu.Lock()
		g.left--
		g.rows += s.rows
		g.bad += bad
		g.complete = g.complete && complete
		last := g.left == 0
		s.rows, bad, complete = g.rows, g.bad, g.complete
		g.mu.Unlock()
		if !last {
			return
		}
		// The whole listing was read when every part completed.
		files := s.scan.Files()
		s.files, s.bytes = 0, 0
		if complete {
			s.files = len(files)
			for _, f := range files {
				s.bytes += f.Size
			}
			s.r.bytesRead.Add(s.bytes)
		}
	}
	s.r.s.eng.noteRead(s.obj.Name, int64(s.files), s.rows, s.bytes, bad, complete)
	sum := s.r.rs.source(s.obj, s.opts.OnError)
	sum.Scans++
	sum.FilesRead += int64(s.files)
	sum.RowsRead += s.rows
	sum.BytesRead += s.bytes
	if complete {
		sum.Rows = s.rows
		sum.BadRows = bad
	}
}

// Close implements exec.Operator.
func (s *fileScan) Close() error {
	if s.scan != nil {
		s.r.noteMu.Lock()
		s.note(false, 0)
		s.r.noteMu.Unlock()
		s.scan.Close()
		s.scan = nil
	}
	for _, r := range s.quar {
		r.Release()
	}
	s.quar = nil
	return nil
}

// errorsScan reads a <source>__errors relation: the bad rows of the
// latest complete read of the source. When the source was not read
// completely since it was created, it is read first.
type errorsScan struct {
	r       *stmtRun
	source  string
	cols    catalog.Schema
	columns []int
	schema  *arrow.Schema
	rs      *exec.RecordSource
}

// Schema implements exec.Operator.
func (s *errorsScan) Schema() *arrow.Schema { return s.schema }

// Open implements exec.Operator.
func (s *errorsScan) Open(ctx context.Context) error {
	eng := s.r.s.eng
	recs, ok := eng.quarantineRows(s.source)
	if !ok {
		if err := s.readSource(ctx); err != nil {
			return err
		}
		recs, _ = eng.quarantineRows(s.source)
	}
	out := make([]arrow.Record, len(recs))
	for i, rec := range recs {
		out[i] = projectRecord(rec, s.columns, s.schema)
		rec.Release()
	}
	s.rs = exec.NewRecordSource(s.schema, out)
	return s.rs.Open(ctx)
}

// readSource reads the whole source, for its bad rows.
func (s *errorsScan) readSource(ctx context.Context) error {
	obj, ok := s.r.s.eng.cat.Lookup(s.source)
	if !ok || (obj.Kind != catalog.ObjectSource && obj.Kind != catalog.ObjectStream) {
		return fmt.Errorf("%s%s: source %q does not exist", s.source, ErrorsSuffix, s.source)
	}
	sc, err := (&scanFactory{r: s.r}).sourceScan(&obj, nil)
	if err != nil {
		return err
	}
	sc.proj = []int{}
	sc.schema = arrow.NewSchema(nil, nil)
	defer sc.Close()
	if err := sc.Open(ctx); err != nil {
		return err
	}
	for {
		b, ok, err := sc.Next(ctx)
		if err != nil || !ok {
			return err
		}
		b.Rec.Release()
	}
}

// Next implements exec.Operator.
func (s *errorsScan) Next(ctx context.Context) (exec.Batch, bool, error) {
	return s.rs.Next(ctx)
}

// Close implements exec.Operator.
func (s *errorsScan) Close() error {
	if s.rs != nil {
		return s.rs.Close()
	}
	return nil
}

// projectRecord returns a record of the given columns of rec (a new
// reference; rec keeps its own).
func projectRecord(rec arrow.Record, columns []int, schema *arrow.Schema) arrow.Record {
	cols := make([]arrow.Array, len(columns))
	for i, c := range columns {
		cols[i] = rec.Column(c)
	}
	return array.NewRecord(schema, cols, rec.NumRows())
}

// OpenScanFiltered implements exec.FilteredScanFactory. A file source
// read with on_error = 'fail', or a sink's output, skips the files of the
// partition directories the partition filters rule out; a Parquet source
// read with on_error = 'fail' also skips the row groups whose statistics
// rule out the range filters (comparisons of a column with a constant).
// Other relations are read whole: under drop and quarantine every read
// must find the same bad rows, and table reads are shared by their
// columns.
func (f *scanFactory) OpenScanFiltered(ctx context.Context, obj *catalog.Object, columns []int, filters exec.ScanFilters) (exec.Operator, error) {
	if obj.Kind != catalog.ObjectSource && obj.Kind != catalog.ObjectSink || f.rowid != nil && obj == f.rowid {
		return f.OpenScan(ctx, obj, columns)
	}
	if _, isErr := isErrorsObject(obj); isErr {
		return f.OpenScan(ctx, obj, columns)
	}
	op, err := f.OpenScan(ctx, obj, columns)
	if err != nil {
		return nil, err
	}
	if sc, ok := op.(*fileScan); ok {
		f.setFilters(sc, obj, columns, filters)
	}
	return op, nil
}

// setFilters gives a file scan the filters it can skip data by.
func (f *scanFactory) setFilters(sc *fileScan, obj *catalog.Object, columns []int, filters exec.ScanFilters) {
	if sc.opts.OnError != connector.OnErrorFail {
		return
	}
	if len(filters.Partitions) > 0 {
		sc.columns, sc.partFilters = columns, filters.Partitions
	}
	if obj.Kind == catalog.ObjectSource && sc.opts.Format == connector.FormatParquet && len(filters.Ranges) > 0 {
		sc.opts.Ranges = scanRanges(obj, columns, filters.Ranges)
	}
}

// scanRanges turns a scan's filters into column ranges for the reader.
func scanRanges(obj *catalog.Object, columns []int, filters []planner.Expr) []connector.ColumnRange {
	var out []connector.ColumnRange
	for _, e := range filters {
		call, ok := e.(*planner.Call)
		if !ok || len(call.Args) != 2 {
			continue
		}
		op := call.Name
		colE, constE := call.Args[0], call.Args[1]
		if _, isConst := colE.(*planner.Const); isConst {
			colE, constE = constE, colE
			op = map[string]string{"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq"}[op]
		}
		ref, ok := widened(colE)
		if !ok || ref.Index < 0 || ref.Index >= len(columns) {
			continue
		}
		k, ok := constE.(*planner.Const)
		if !ok || k.Value == nil {
			continue
		}
		col := obj.Columns[columns[ref.Index]]
		// The constant must be on the column's scale: numbers with
		// numbers, a temporal type with the same one.
		switch {
		case col.Type.IsNumeric() && k.T.IsNumeric():
		case col.Type.IsTemporal() && sameScale(col.Type, k.T):
		default:
			continue
		}
		v, ok := catalog.NumericValue(k.Value, k.T)
		if !ok {
			continue
		}
		r := connector.ColumnRange{Column: col.Name}
		switch op {
		case "eq":
			r.Min, r.Max, r.HasMin, r.HasMax = v, v, true, true
		case "lt", "le":
			r.Max, r.HasMax = v, true
		case "gt", "ge":
			r.Min, r.HasMin = v, true
		default:
			continue
		}
		out = append(out, r)
	}
	return out
}

// widened returns the column an expression reads when it is the column
// itself or the column under casts that keep every value (a wider integer,
// a DECIMAL or DOUBLE of at least its scale): the cast value compares
// like the stored one.
func widened(e planner.Expr) (*planner.ColRef, bool) {
	switch x := e.(type) {
	case *planner.ColRef:
		return x, true
	case *planner.Cast:
		from, to := x.Arg.Type(), x.T
		ok := from.IsInteger() && (to.IsInteger() && to.Kind >= from.Kind || to.Kind == catalog.KindDecimal || to.Kind == catalog.KindFloat64) ||
			from.Kind == catalog.KindDecimal && (to.Kind == catalog.KindDecimal && to.Scale >= from.Scale || to.Kind == catalog.KindFloat64)
		if !ok || x.Try {
			return nil, false
		}
		return widened(x.Arg)
	}
	return nil, false
}

// sameScale reports whether two temporal types put values on one scale
// (days for DATE, microseconds for TIME, and for TIMESTAMP with or
// without time zone).
func sameScale(a, b catalog.Type) bool {
	ts := func(t catalog.Type) bool { return t.Kind == catalog.KindTimestamp || t.Kind == catalog.KindTimestampTZ }
	return a.Kind == b.Kind || ts(a) && ts(b)
}
