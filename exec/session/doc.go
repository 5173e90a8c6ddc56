// Package session is the engine that `etlc run` and `etlc serve` drive: it
// ties the parser, the planner, the operators of package exec and the file
// connector together, so that every entry point runs a script the same way.
//
// An Engine is opened on a data directory. It holds the catalog (Pebble, in
// the directory itself), the managed tables (Parquet under
// <dir>/tables/<name>/, written with the connector's atomic sink protocol),
// the quarantine relations <source>__errors, statistics of what was read and
// written, and the history of runs (etl.runs).
//
// A Session is one script run or one wire connection: parameter values,
// settings (SET/SHOW) and temporary views. Session.Exec compiles a whole
// script first (nothing runs when it has errors), then runs its statements
// in order. Each statement that writes commits atomically when it
// succeeds and aborts every sink it opened when it fails; a failure stops the
// script, and what earlier statements committed stays. Observers see each
// statement start, progress and finish; the rows of a SELECT are Arrow
// record streams.
package session
