// Package exec runs physical plans: vectorized operators over Arrow record
// batches, expression kernels, connectors (file, S3), sinks with atomic
// commit, and the stream runtime with its state in Pebble.
package exec
