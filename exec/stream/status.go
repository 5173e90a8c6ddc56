package stream

import (
	"sync"
	"time"
)

// The states of a pipeline run (Snapshot.State).
const (
	StateStarting = "starting"
	StateRunning  = "running"
	StateStopped  = "stopped"
	StateFinished = "finished"
	StateFailed   = "failed"
)

// Snapshot is a pipeline's figures at one moment: what etl.pipelines shows
// and what a metrics endpoint exports.
type Snapshot struct {
	Name      string
	State     string
	StartedAt time.Time
	// RowsIn counts the rows read from the stream, RowsOut the rows
	// committed to the sink, LateRows the rows dropped because their event
	// time was behind the watermark when they arrived; all since the
	// pipeline was first started (they are part of the checkpoint).
	RowsIn, RowsOut, LateRows int64
	// Files counts the files consumed.
	Files int64
	// Watermark is the event-time watermark; zero before the first.
	Watermark time.Time
	// InputEnded is set once the input ended (a run with UntilIdle
	// drained it): the watermark is then past every event time.
	InputEnded bool
	// Lag is the wall time minus the watermark (0 without a watermark).
	Lag time.Duration
	// Checkpoints counts the committed checkpoints; LastCheckpoint is the
	// wall time of the last one (zero: none).
	Checkpoints    uint64
	LastCheckpoint time.Time
	// Error is the error that stopped the pipeline.
	Error string
}

// Status holds a running pipeline's latest Snapshot; it is safe for
// concurrent use (the runtime updates it, system tables and metrics read
// it).
type Status struct {
	mu sync.Mutex
	s  Snapshot
}

// NewStatus returns the status of the named pipeline, starting.
func NewStatus(name string) *Status {
	return &Status{s: Snapshot{Name: name, State: StateStarting, StartedAt: time.Now().UTC()}}
}

// Snapshot returns the current figures. Lag and the last checkpoint's age
// are computed against now.
func (s *Status) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.s
	if !out.Watermark.IsZero() {
		out.Lag = time.Since(out.Watermark)
	}
	return out
}

func (s *Status) update(fn func(*Snapshot)) {
	if s == nil {
		return
	}
	s.mu.Lock()
	fn(&s.s)
	s.mu.Unlock()
}

// Fail records the error that stopped the pipeline.
func (s *Status) Fail(err error) {
	s.update(func(sn *Snapshot) {
		sn.State = StateFailed
		sn.Error = err.Error()
	})
}
