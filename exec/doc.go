// Package exec runs physical plans: vectorized operators over Arrow record
// batches, expression kernels, connectors (file, S3), sinks with atomic
// commit, and the stream runtime with its state in Pebble.
//
// This package holds the relational operators and the builder:
//
//   - Operator, Batch and Memory (operator.go) are the contract: a pull
//     model, one Arrow record per data batch, watermarks and checkpoint
//     barriers in band, and memory accounting for pipeline breakers.
//   - Build maps a bound planner.Node to a tree of operators; Collect and
//     CollectRecord run one to completion. Scans go through a ScanFactory;
//     the engine's (package exec/session) reads sources, tables, sinks,
//     quarantine relations and system tables.
//   - Values, Filter, Project, Limit, UnionAll and Distinct stream; Sort,
//     TopN, HashAggregate, Window, the build side of Join, and INTERSECT /
//     EXCEPT buffer their input and account it.
//
// Kernels work on Arrow buffers batch at a time: a take (gather) per
// physical layout, column-wise key hashing, a keyTable that assigns group
// ids to distinct key tuples and compares keys column by column, typed
// comparators, and sorts of (normalised key, row) pairs. Stateless
// operators forward watermarks and barriers untouched; pipeline breakers
// run over bounded inputs and report a control batch as an error (each
// documents what it would do in a stream).
package exec
