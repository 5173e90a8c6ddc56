// Package observe exposes what etlc is doing to monitoring: metrics in the
// Prometheus text exposition format (version 0.0.4), and an HTTP server
// with /metrics, /healthz (the process is alive) and /readyz (it can do its
// work: catalog open, sources reachable, gateway accepting).
//
// Metrics are pulled: a Collector produces its metric families when
// /metrics is scraped, from counters its owner keeps anyway (the engine's
// source and sink statistics, expectation counts, a stream runtime's
// pipeline state). A Registry holds the Collectors of one process; there is
// no global registry. The encoder is small and written here, so the binary
// does not link the Prometheus client library.
package observe
