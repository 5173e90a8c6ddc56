// Package catalog owns etlc's types and objects: SQL types with their
// Arrow and PostgreSQL counterparts and the typing rules the planner applies
// (common super types, implicit and explicit casts, arithmetic result
// types); sources, streams, sinks, tables, views and pipelines with their
// validated WITH options; the etl.* system tables; and the Catalog that
// holds them, in memory or persisted in Pebble. Schemas of sources declared
// without columns are inferred by the exec connectors, not here.
package catalog
