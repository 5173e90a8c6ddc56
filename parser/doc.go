// Package parser is etlc's SQL front-end. It splits a script into statements
// with their byte offsets, substitutes ${param} values as typed literals,
// lowers the PostgreSQL spellings users type (x::type, INTERVAL '5 minutes',
// $1, E'..', NULLS FIRST) to the grammar of the TiDB parser, parses the ETL
// statements (CREATE SOURCE / SINK / STREAM / PIPELINE, MERGE, VALIDATE, ...)
// itself, and reports every problem as a Diagnostic positioned in the text
// the user wrote.
//
// Parse is the entry point. Query bodies and expressions are TiDB AST nodes
// parsed from a Fragment, the lowered text of part of the script;
// Fragment.Orig and Fragment.NodePos map TiDB's offsets back to the script,
// and Fragment.FindIdent positions names TiDB records no offset for. The
// lowering rules, which the planner relies on, are listed in lower.go.
package parser
