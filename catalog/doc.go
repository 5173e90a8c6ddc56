// Package catalog owns etlc's types and objects: the mapping between SQL and
// Arrow types, sources, streams, sinks, tables, views and pipelines with their
// validated WITH options, schema inference for sources declared without
// columns, system tables, statistics, and their persistence in Pebble.
package catalog
