package catalog

import "time"

// The names of the system tables, schema-qualified.
const (
	SysPipelines    = "etl.pipelines"
	SysRuns         = "etl.runs"
	SysExpectations = "etl.expectations"
	SysSources      = "etl.sources"
	SysSinks        = "etl.sinks"
	SysStats        = "etl.stats"
)

// SystemObjects returns the system tables of the etl schema, freshly built
// on every call. Their rows are produced by the engine; the catalog only
// knows their schemas:
//
//   - etl.pipelines: one row a pipeline: its state (created, running,
//     stopped, failed), when it started, rows read and written, the current
//     watermark (event time), lag_ms (wall clock minus watermark, while
//     it runs), the time of the last checkpoint and its age
//     (checkpoint_age_ms), and the error that stopped it.
//   - etl.runs: one row a run of a script or pipeline.
//   - etl.expectations: one row a pipeline expectation with its action
//     (none, drop row, fail, quarantine) and row counts.
//   - etl.sources, etl.sinks: one row a source or stream, and a sink, with
//     what was read or written.
//   - etl.stats: statistics gathered by ANALYZE, one row a relation
//     (column_name NULL) and one row a column.
func SystemObjects() []Object {
	col := func(name string, t Type, notNull bool) Column {
		return Column{Name: name, Type: t, NotNull: notNull}
	}
	sys := func(name string, cols ...Column) Object {
		return Object{Kind: ObjectSystem, Name: name, Columns: cols, CreatedAt: time.Unix(0, 0).UTC()}
	}
	return []Object{
		sys(SysPipelines,
			col("name", String, true),
			col("state", String, true),
			col("started_at", TimestampTZ, false),
			col("rows_in", Int64, true),
			col("rows_out", Int64, true),
			col("watermark", Timestamp, false),
			col("lag_ms", Int64, false),
			col("last_checkpoint", TimestampTZ, false),
			col("checkpoint_age_ms", Int64, false),
			col("error", String, false),
		),
		sys(SysRuns,
			col("run_id", String, true),
			col("job", String, true),
			col("pipeline", String, false),
			col("state", String, true),
			col("started_at", TimestampTZ, true),
			col("finished_at", TimestampTZ, false),
			col("rows_in", Int64, true),
			col("rows_out", Int64, true),
			col("error", String, false),
		),
		sys(SysExpectations,
			col("pipeline", String, true),
			col("constraint_name", String, true),
			col("action", String, true),
			col("passed", Int64, true),
			col("dropped", Int64, true),
			col("failed", Int64, true),
			col("quarantined", Int64, true),
		),
		sys(SysSources,
			col("name", String, true),
			col("kind", String, true),
			col("connector", String, true),
			col("format", String, false),
			col("path", String, false),
			col("files_read", Int64, true),
			col("rows_read", Int64, true),
			col("bytes_read", Int64, true),
			col("bad_rows", Int64, true),
			col("last_read_at", TimestampTZ, false),
		),
		sys(SysSinks,
			col("name", String, true),
			col("connector", String, true),
			col("format", String, false),
			col("path", String, false),
			col("mode", String, false),
			col("files_written", Int64, true),
			col("rows_written", Int64, true),
			col("bytes_written", Int64, true),
			col("last_commit_at", TimestampTZ, false),
		),
		sys(SysStats,
			col("relation", String, true),
			col("column_name", String, false),
			col("row_count", Int64, false),
			col("null_count", Int64, false),
			col("distinct_count", Int64, false),
			col("min_value", String, false),
			col("max_value", String, false),
			col("avg_width", Float64, false),
			col("analyzed_at", TimestampTZ, true),
		),
	}
}
