// Package bench holds etlc's comparative benchmarks. It is a Go module of its
// own so that the etlc binary never links the engines it is measured against
// (DuckDB, the PostgreSQL client used for comparison runs).
package bench
