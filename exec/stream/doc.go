// Package stream is the stream runtime: it runs a pipeline (CREATE
// PIPELINE ... AS INSERT INTO sink SELECT ... FROM STREAM s) continuously
// over a file stream, reading each file that arrives exactly once, tracking
// event time with watermarks, keeping windowed aggregation state in Pebble
// and committing source positions, operator state and sink output together
// at every checkpoint, so that a pipeline killed at any point and started
// again produces exactly the output of an uninterrupted run.
//
// # Execution
//
// The runtime reuses the batch engine: a pipeline's plan is split at its
// windowed Aggregate (if it has one). The part below it runs once per
// arriving file, as a bounded plan over that file (exec.Build with a scan
// of just that file); its rows are windowed-aggregation input and are
// appended to the state store. When a checkpoint is taken, the windows
// the watermark has passed are computed by running the same Aggregate
// (the batch operator, exec.HashAggregate) over the buffered rows of those
// windows, and the part of the plan above the aggregate runs over its
// output; the rows go to the sink. A plan without a stateful operator is
// stateless: each file's output goes straight to the sink.
//
// The other stateful operators split the plan the same way: a
// deduplication (the Window node of ROW_NUMBER() ... WHERE rn = 1,
// dedup.go) holds each key's best row until the watermark passes it; a
// DISTINCT (dedup.go) writes rows not seen before; an interval join of two
// streams (join.go) runs the plan below each side over that side's
// stream's files and joins each file's rows, with the batch engine's join,
// against the other side's rows kept in Pebble. Their state is written to
// an indexed Pebble batch that commits with the next checkpoint (ops.go).
//
// # State and checkpoints
//
// One Pebble database per pipeline (in the data directory) holds the
// checkpoint: the files consumed, the per-partition watermarks, counters,
// the buffered rows of open windows (Arrow IPC, keyed by the time at which
// they can be dropped) and the id of the sink run the checkpoint publishes.
// Rows buffered between two checkpoints are written to Pebble as they
// arrive, tagged with the checkpoint they belong to; a restart deletes the
// rows of checkpoints that never committed. Sink output is staged
// (connector.Sink.Prepare), the checkpoint is committed in one synced
// Pebble batch naming the staged run, and the run is then published; after
// a crash between the two, the restart publishes it
// (connector.FileConnector.PublishStaged).
package stream
