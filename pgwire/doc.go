// Package pgwire serves etlc over the PostgreSQL wire protocol (version
// 3.0) on pgproto3's backend: startup with SSL negotiation, authentication
// (trust, cleartext, md5, SCRAM-SHA-256), the simple and extended query
// protocols, text and binary formats, CancelRequest and statement_timeout.
// Each connection is a session of the same engine as `etlc run`
// (exec/session); pgwire plans nothing itself. See docs/serve.md.
package pgwire
