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
// arriving file (or Kafka fetch), as a bounded plan over that file
// (exec.Build with a scan of just that file). A TUMBLE or HOP aggregation
// whose aggregates all split into partial aggregates (count, sum, min,
// max, avg; exec.SplitAggCall) aggregates each file in memory into partial
// rows per (window, group key) and writes them to the state store, one
// Arrow record per (window end, key-hash partition) (partial.go); a HOP
// window's partial rows are per pane of gcd(size, slide) instead, and a
// window's rows are the merge of its panes' (panes.go); when a
// checkpoint finds that the watermark passed a window's end, the window's
// partial rows are merged a few partitions at a time (at most
// Options.MergeBytes of state in memory, whatever the number of live keys;
// a partition written by one file is already final and is not merged
// again). Other window aggregations (SESSION windows, DISTINCT and other
// aggregates that need every row) append their input rows to the state
// store, and the windows the watermark passed are computed by running the
// same Aggregate (the batch operator, exec.HashAggregate) over the
// buffered rows of those windows. Either way, the part of the plan above
// the aggregation runs over the window rows, and its rows go to the sink.
// A plan without a stateful operator is stateless: each file's output goes
// straight to the sink.
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
// the window state (partial rows keyed by window end, key-hash partition,
// checkpoint and sequence; or buffered rows keyed by the time at which
// they can be dropped; Arrow IPC either way) and the id of the sink run the
// checkpoint publishes. State written between two checkpoints goes to
// Pebble as it is made, tagged with the checkpoint it belongs to; a restart
// deletes the state of checkpoints that never committed. Sink output is staged
// (connector.Sink.Prepare), the checkpoint is committed in one synced
// Pebble batch naming the staged run, and the run is then published; after
// a crash between the two, the restart publishes it
// (connector.FileConnector.PublishStaged).
package stream
