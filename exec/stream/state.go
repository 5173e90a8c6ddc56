package stream

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cockroachdb/pebble"

	"github.com/etlc/etlc/exec"
)

// Key layout of a pipeline's Pebble database.
const (
	metaKey    = "m"
	filePrefix = "f/"
	rowPrefix  = "s/"
)

// meta is the checkpoint record.
type meta struct {
	// Checkpoint is the id of the last committed checkpoint (0: none).
	Checkpoint uint64 `json:"checkpoint"`
	// Watermark is the pipeline's event-time watermark (µs); Emitted the
	// watermark up to which windows were emitted.
	Watermark int64 `json:"watermark"`
	Emitted   int64 `json:"emitted"`
	// Partitions are the per-partition watermarks.
	Partitions map[string]*partition `json:"partitions,omitempty"`
	// PendingRun is the sink run this checkpoint published (or, after a
	// crash, is to publish).
	PendingRun string `json:"pending_run,omitempty"`
	// PendingQuarantine is the quarantine's run, as PendingRun.
	PendingQuarantine string `json:"pending_quarantine,omitempty"`
	// Expect are the expectation counts as of this checkpoint.
	Expect  []exec.ExpectSnapshot `json:"expect,omitempty"`
	RowsIn  int64                 `json:"rows_in"`
	RowsOut int64                 `json:"rows_out"`
	Late    int64                 `json:"late"`
	Files   int64                 `json:"files"`
	// Seq numbers the buffered row records.
	Seq uint64 `json:"seq"`
	// Offsets are, for a Kafka stream, the next offset to read of each
	// partition (by partition number).
	Offsets map[string]int64 `json:"offsets,omitempty"`
	// Final is set once the input ended (--until-idle drained it).
	Final bool `json:"final,omitempty"`
	// CommittedAt is the wall time of the checkpoint (Unix ns).
	CommittedAt int64 `json:"committed_at"`
}

// partition is one partition's event-time progress.
type partition struct {
	// Watermark is the largest watermark value of its rows (µs).
	Watermark int64 `json:"watermark"`
	// LastData is the wall time (Unix ns) its last file was read.
	LastData int64 `json:"last_data"`
}

func (m *meta) clone() *meta {
	c := *m
	c.Offsets = maps.Clone(m.Offsets)
	c.Partitions = make(map[string]*partition, len(m.Partitions))
	for k, p := range m.Partitions {
		q := *p
		c.Partitions[k] = &q
	}
	return &c
}

// store is a pipeline's Pebble database.
type store struct {
	db *pebble.DB
}

func openStore(dir string) (*store, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("opening the pipeline state %s: %w", dir, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

func (s *store) loadMeta() (*meta, error) {
	v, closer, err := s.db.Get([]byte(metaKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return &meta{Watermark: math.MinInt64, Emitted: math.MinInt64, Partitions: map[string]*partition{}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	m := &meta{}
	if err := json.Unmarshal(v, m); err != nil {
		return nil, fmt.Errorf("pipeline checkpoint: %w", err)
	}
	if m.Partitions == nil {
		m.Partitions = map[string]*partition{}
	}
	return m, nil
}

// consumed reports whether the file rel was consumed by a committed
// checkpoint.
func (s *store) consumed(rel string) (bool, error) {
	_, closer, err := s.db.Get([]byte(filePrefix + rel))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

// rowKey is the key of a buffered record: the drop time (order-preserving
// encoding of a signed int64), the checkpoint it belongs to and a sequence.
func rowKey(t int64, epoch, seq uint64) []byte {
	k := make([]byte, 0, len(rowPrefix)+24)
	k = append(k, rowPrefix...)
	k = binary.BigEndian.AppendUint64(k, uint64(t)^(1<<63))
	k = binary.BigEndian.AppendUint64(k, epoch)
	return binary.BigEndian.AppendUint64(k, seq)
}

// rowBound is the first key of the records with drop time t.
func rowBound(t int64) []byte {
	k := append([]byte(rowPrefix), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(k[len(rowPrefix):], uint64(t)^(1<<63))
	return k
}

// rowEnd is the key just after every buffered record.
func rowEnd() []byte { return []byte("s0") }

func decodeRowKey(k []byte) (t int64, epoch uint64) {
	k = k[len(rowPrefix):]
	return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)), binary.BigEndian.Uint64(k[8:])
}

// putRecord buffers rec under drop time t for the checkpoint epoch. It is
// written at once (not synced): a restart deletes what no committed
// checkpoint covers.
func (s *store) putRecord(t int64, epoch, seq uint64, rec arrow.Record) error {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	if err := w.Write(rec); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return s.db.Set(rowKey(t, epoch, seq), buf.Bytes(), pebble.NoSync)
}

// dropUncommitted deletes the buffered records of checkpoints after last.
func (s *store) dropUncommitted(last uint64) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(rowPrefix), UpperBound: rowEnd()})
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	for it.First(); it.Valid(); it.Next() {
		if _, e := decodeRowKey(it.Key()); e > last {
			if err := b.Delete(bytes.Clone(it.Key()), nil); err != nil {
				it.Close()
				return err
			}
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// decodeRecord reads a record written by putRecord.
func decodeRecord(v []byte, mem memory.Allocator) (arrow.Record, error) {
	r, err := ipc.NewReader(bytes.NewReader(v), ipc.WithAllocator(mem))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("pipeline state: empty record")
	}
	rec := r.Record()
	rec.Retain()
	return rec, nil
}

func jsonMarshal(m *meta) ([]byte, error) { return json.Marshal(m) }

// quietLogger keeps Pebble's informational messages off the user's
// terminal; a fatal condition becomes a panic (the engine's API boundary
// recovers it into an error).
type quietLogger struct{}

// Infof discards the message.
func (quietLogger) Infof(string, ...any) {}

// Fatalf panics with the message.
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
