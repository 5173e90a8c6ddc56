package exec

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// BatchKind tells what a Batch carries.
type BatchKind uint8

const (
	// BatchData carries rows in Rec.
	BatchData BatchKind = iota
	// BatchWatermark says no row with event time below Watermark will follow.
	BatchWatermark
	// BatchBarrier is checkpoint Barrier flowing through the plan: an operator
	// that sees it on every input snapshots its state for that checkpoint and
	// forwards it.
	BatchBarrier
)

// Batch is what operators pass to each other: rows as an Arrow record, or a
// stream control message. A batch (bounded) run only ever sees BatchData;
// the stream runtime adds watermarks and barriers in band, so the same
// operators serve both. Stateless operators forward control batches as they
// are.
type Batch struct {
	Kind BatchKind
	// Rec holds the rows of a BatchData batch. The receiver owns one
	// reference and must Release it.
	Rec arrow.Record
	// Watermark is event time in microseconds since the epoch (BatchWatermark).
	Watermark int64
	// Barrier is the checkpoint id (BatchBarrier).
	Barrier uint64
}

// Operator is a node of a running plan. The life cycle is Open, then Next
// until it reports done, then Close (always, also after an error).
type Operator interface {
	// Schema is the Arrow schema of the records the operator produces.
	Schema() *arrow.Schema
	// Open prepares the operator and opens its inputs.
	Open(ctx context.Context) error
	// Next returns the next batch; ok is false when the input is exhausted.
	// A source that never ends blocks until it has a batch or ctx is done.
	Next(ctx context.Context) (b Batch, ok bool, err error)
	// Close releases everything the operator holds, including its inputs.
	Close() error
}

// DefaultBatchSize is the number of rows operators aim for per batch.
const DefaultBatchSize = 8192

// Memory accounts the bytes that pipeline breakers (hash tables, sort
// buffers, aggregation state) hold, against a limit shared by one query.
// It is safe for concurrent use.
type Memory struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64
	// Alloc is the Arrow allocator the query's operators use.
	Alloc memory.Allocator
}

// NewMemory returns an accountant with the given limit in bytes (0: no limit).
func NewMemory(limit int64) *Memory {
	return &Memory{limit: limit, Alloc: memory.NewGoAllocator()}
}

// ErrMemoryLimit is wrapped by Reserve when a reservation would exceed the limit.
var ErrMemoryLimit = fmt.Errorf("query memory limit exceeded")

// Reserve accounts n more bytes for owner (named in the error), failing
// without reserving when that would pass the limit.
func (m *Memory) Reserve(owner string, n int64) error {
	for {
		cur := m.used.Load()
		next := cur + n
		if m.limit > 0 && next > m.limit {
			return fmt.Errorf("%s needs %d more bytes, %d of %d in use: %w", owner, n, cur, m.limit, ErrMemoryLimit)
		}
		if m.used.CompareAndSwap(cur, next) {
			for {
				p := m.peak.Load()
				if next <= p || m.peak.CompareAndSwap(p, next) {
					return nil
				}
			}
		}
	}
}

// Release returns n bytes reserved earlier.
func (m *Memory) Release(n int64) { m.used.Add(-n) }

// Used is the number of bytes reserved now.
func (m *Memory) Used() int64 { return m.used.Load() }

// Peak is the largest number of bytes reserved at once.
func (m *Memory) Peak() int64 { return m.peak.Load() }
