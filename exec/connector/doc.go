// Package connector is etlc's file connector: it reads and writes CSV,
// newline-delimited JSON and Parquet files on the local file system and on
// S3 (or an S3-compatible server), as Arrow record batches.
//
// Reading: ParseOptions validates a source's WITH options; FileConnector.Scan
// lists the source's files and returns batches of the declared SQL types,
// with projection pushdown, and handles bad rows by the on_error policy
// (fail, drop, quarantine: see RowError and QuarantineSchema).
// FileConnector.InferSchema gives the columns of a source declared without
// them.
//
// Writing: FileConnector.OpenSink returns a Sink that writes batches under
// a staging directory and publishes them atomically at Commit (the
// protocol is described on Sink).
package connector
