package session

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/exec/connector"
)

// systemScan returns the rows of an etl.* system table, as they are when
// the statement opens it.
func (f *scanFactory) systemScan(obj *catalog.Object, columns []int) (exec.Operator, error) {
	eng := f.r.s.eng
	var rows [][]any
	switch obj.Name {
	case catalog.SysSources:
		eng.mu.Lock()
		stats := make(map[string]SourceStats, len(eng.sources))
		for k, v := range eng.sources {
			stats[k] = *v
		}
		eng.mu.Unlock()
		for _, o := range eng.cat.List(catalog.ObjectSource, catalog.ObjectStream) {
			if _, isErr := isErrorsObject(&o); isErr {
				continue
			}
			st := stats[catalogKey(o.Name)]
			rows = append(rows, []any{o.Name, o.Kind.String(), optOr(o.Options, "connector", "file"),
				formatOf(o.Options, connector.RoleSource), nullIfEmpty(o.Options["path"]),
				int64(st.FilesRead), st.RowsRead, st.BytesRead, st.BadRows, timeOrNil(st.LastReadAt)})
		}
	case catalog.SysSinks:
		eng.mu.Lock()
		stats := make(map[string]SinkStats, len(eng.sinks))
		for k, v := range eng.sinks {
			stats[k] = *v
		}
		eng.mu.Unlock()
		for _, o := range eng.cat.List(catalog.ObjectSink) {
			st := stats[catalogKey(o.Name)]
			rows = append(rows, []any{o.Name, optOr(o.Options, "connector", "file"),
				formatOf(o.Options, connector.RoleSink), nullIfEmpty(o.Options["path"]), optOr(o.Options, "mode", "append"),
				st.FilesWritten, st.RowsWritten, st.BytesWritten, timeOrNil(st.LastCommitAt)})
		}
	case catalog.SysRuns:
		for _, r := range eng.Runs() {
			rows = append(rows, []any{r.RunID, r.Job, nullIfEmpty(r.Pipeline), r.State, r.StartedAt,
				timeOrNil(r.FinishedAt), r.RowsIn, r.RowsOut, nullIfEmpty(r.Error)})
		}
	case catalog.SysPipelines:
		rows = eng.pipelineRows()
	case catalog.SysStats:
		for _, ts := range eng.cat.AllStats() {
			at := timeOrNil(ts.AnalyzedAt)
			if at == nil {
				at = time.Unix(0, 0).UTC()
			}
			rows = append(rows, []any{ts.Relation, nil, int64(math.Round(ts.Rows)), nil, nil, nil, nil, nil, at})
			for _, c := range ts.Columns {
				rows = append(rows, []any{ts.Relation, c.Name, int64(math.Round(ts.Rows)), countOrNil(c.Nulls),
					countOrNil(c.Distinct), nullIfEmpty(c.MinText), nullIfEmpty(c.MaxText), widthOrNil(c.AvgWidth), at})
			}
		}
	case catalog.SysExpectations:
		for _, x := range eng.Expectations() {
			rows = append(rows, []any{x.Pipeline, x.Constraint, x.Action, x.Passed, x.Dropped, x.Failed, x.Quarantined})
		}
	default:
		if !catalog.IsPGCatalogName(obj.Name) {
			return nil, fmt.Errorf("unknown system table %q", obj.Name)
		}
		var err error
		if rows, err = f.pgCatalogRows(context.Background(), obj); err != nil {
			return nil, err
		}
	}
	rec, err := buildRecord(f.r.mem.Alloc, obj.Columns, rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.Name, err)
	}
	schema := projectSchema(obj.Columns, columns)
	out := projectRecord(rec, columns, schema)
	rec.Release()
	return exec.NewRecordSource(schema, []arrow.Record{out}), nil
}

// countOrNil is a count, NULL when unknown (negative).
func countOrNil(v float64) any {
	if v < 0 {
		return nil
	}
	return int64(math.Round(v))
}

// widthOrNil is an average width, NULL when unknown (0).
func widthOrNil(v float64) any {
	if v <= 0 {
		return nil
	}
	return v
}

func optOr(m map[string]string, k, def string) string {
	if v, ok := m[k]; ok && v != "" {
		return v
	}
	return def
}

// formatOf is the file format of a source or sink: its format option, or
// the one its path implies.
func formatOf(m map[string]string, role connector.Role) any {
	if o, err := connector.ParseOptions(m, role); err == nil && o.Format != "" {
		return string(o.Format)
	}
	return nullIfEmpty(m["format"])
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// buildRecord builds a record of the columns' types from rows of Go
// values: string, int64, bool, float64, time.Time, or nil for NULL.
func buildRecord(mem memory.Allocator, cols catalog.Schema, rows [][]any) (arrow.Record, error) {
	fields := fieldsOf(cols)
	schema := connector.ArrowSchema(fields)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, row := range rows {
		if len(row) != len(cols) {
			return nil, fmt.Errorf("row has %d values, want %d", len(row), len(cols))
		}
		for i, v := range row {
			if err := appendGo(b.Field(i), v); err != nil {
				return nil, fmt.Errorf("column %q: %w", cols[i].Name, err)
			}
		}
	}
	return b.NewRecord(), nil
}

// appendGo appends a Go value of a system table row (nil for NULL; []any
// for an array) to a builder.
func appendGo(fb array.Builder, v any) error {
	if v == nil {
		fb.AppendNull()
		return nil
	}
	switch fb := fb.(type) {
	case *array.ListBuilder:
		fb.Append(true)
		for _, x := range v.([]any) {
			if err := appendGo(fb.ValueBuilder(), x); err != nil {
				return err
			}
		}
	case *array.StringBuilder:
		fb.Append(v.(string))
	case *array.Int64Builder:
		fb.Append(v.(int64))
	case *array.Int32Builder:
		fb.Append(int32(v.(int64)))
	case *array.Int16Builder:
		fb.Append(int16(v.(int64)))
	case *array.Float32Builder:
		fb.Append(float32(v.(float64)))
	case *array.BooleanBuilder:
		fb.Append(v.(bool))
	case *array.Float64Builder:
		fb.Append(v.(float64))
	case *array.TimestampBuilder:
		fb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	default:
		return fmt.Errorf("cannot build %T values", fb)
	}
	return nil
}
