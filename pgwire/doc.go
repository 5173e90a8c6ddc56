// Package pgwire serves etlc over the PostgreSQL wire protocol: sessions,
// authentication, TLS, type encoding, COPY and cancellation. It calls the same
// engine as `etlc run` and plans nothing itself.
package pgwire
