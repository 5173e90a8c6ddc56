// Package slt reads sqllogictest files (.slt, .test): the record format
// that SQLite's sqllogictest defined and that DuckDB, CockroachDB and
// DataFusion use to pin SQL semantics. It parses files into records and
// formats, sorts, hashes and compares result values the way the format
// defines, and Run drives the records of a file through any engine that
// implements DB: the same loop runs the corpus on etlc (TestEtlcCorpus,
// TestSQLiteCorpus) and on PostgreSQL (TestPostgresDifferential).
//
// # Records
//
// Records are separated by blank lines. A line starting with '#' is a
// comment. Recognized records:
//
//	statement ok                 SQL that must succeed
//	statement error [regexp]     SQL that must fail; the regexp, when given,
//	                             must match the error message
//	query <types> [sort] [label] SQL, a line "----", then the expected values
//	hash-threshold N             results with more than N values are compared
//	                             by hash ("M values hashing to <md5>"); 0: never
//	halt                         stop reading the file
//
// Any record may be preceded by "skipif <engine>" or "onlyif <engine>"
// lines; see Record.Applies. Types are one letter a column: I integer,
// R real (printed with 3 decimals), T text. Sort modes are nosort (the
// default), rowsort and valuesort.
//
// # Values
//
// Expected values are written one per line. NULL prints as "NULL" and an
// empty string as "(empty)"; in text, control characters print as '@'.
// FormatValue defines the text of every Go value in each column type; see
// its documentation for booleans, decimals, dates and timestamps.
package slt
