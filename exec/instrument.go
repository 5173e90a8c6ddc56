package exec

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// Instrumented wraps an operator and measures it for EXPLAIN ANALYZE:
// rows and data batches it produced, the time spent in its Open and Next
// (its inputs included, as they run inside), and the peak of the query's
// accounted memory seen while it ran, above what was in use when it
// opened (its own hash tables and buffers and those of its inputs). It is
// safe for concurrent use by operators that pull from several goroutines.
type Instrumented struct {
	op      Operator
	mem     *Memory
	base    atomic.Int64
	rows    atomic.Int64
	batches atomic.Int64
	nanos   atomic.Int64
	peak    atomic.Int64
	opened  atomic.Bool
}

// Instrument wraps op; mem is the query's memory account (nil: no memory
// figures).
func Instrument(op Operator, mem *Memory) *Instrumented {
	return &Instrumented{op: op, mem: mem}
}

// OpStats are what an Instrumented operator measured.
type OpStats struct {
	Rows    int64
	Batches int64
	Time    time.Duration
	// PeakMem is the peak of accounted bytes above the level at Open.
	PeakMem int64
	// Opened is false for an operator that never ran.
	Opened bool
}

// Stats returns the measurements so far.
func (in *Instrumented) Stats() OpStats {
	return OpStats{Rows: in.rows.Load(), Batches: in.batches.Load(), Time: time.Duration(in.nanos.Load()),
		PeakMem: in.peak.Load(), Opened: in.opened.Load()}
}

// Schema implements Operator.
func (in *Instrumented) Schema() *arrow.Schema { return in.op.Schema() }

// Open implements Operator.
func (in *Instrumented) Open(ctx context.Context) error {
	in.opened.Store(true)
	if in.mem != nil {
		in.base.Store(in.mem.Used())
	}
	start := time.Now()
	err := in.op.Open(ctx)
	in.nanos.Add(int64(time.Since(start)))
	in.sample()
	return err
}

// Next implements Operator.
func (in *Instrumented) Next(ctx context.Context) (Batch, bool, error) {
	start := time.Now()
	b, ok, err := in.op.Next(ctx)
	in.nanos.Add(int64(time.Since(start)))
	in.sample()
	if ok && err == nil && b.Kind == BatchData && b.Rec != nil {
		in.rows.Add(b.Rec.NumRows())
		in.batches.Add(1)
	}
	return b, ok, err
}

// sample records the memory in use above the level at Open.
func (in *Instrumented) sample() {
	if in.mem == nil {
		return
	}
	d := in.mem.Used() - in.base.Load()
	for {
		p := in.peak.Load()
		if d <= p || in.peak.CompareAndSwap(p, d) {
			return
		}
	}
}

// Close implements Operator.
func (in *Instrumented) Close() error { return in.op.Close() }
