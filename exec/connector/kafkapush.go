package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaPushOptions say where and how a push into a Kafka stream produces
// its rows.
type KafkaPushOptions struct {
	// Stream is the stream's name, for messages.
	Stream string
	// Brokers are the bootstrap servers, Topic the stream's topic.
	Brokers []string
	Topic   string
	// Key is the column whose value (encoded as text) is every record's
	// key, so that the rows of one key go to one partition (the
	// partitioner hashes the key as Kafka's own clients do). Empty: the
	// records have no key and fill one partition after another (sticky
	// partitioning).
	Key string
	// Format is the stream's format with its CSV options (delimiter,
	// quote, escape, null_values): each row is one record whose value is
	// the row as one line of that format, without the line break, which
	// is what the stream runtime's Kafka source reads.
	Format Options
	// Timeout bounds reaching the brokers, each flush and the commit or
	// abort of the transaction; 30 seconds when zero.
	Timeout time.Duration
	// TransactionTimeout is the Kafka transaction timeout: a transaction
	// still open that long after its first record is aborted by the
	// broker (and the COMMIT that would end it fails). 5 minutes when
	// zero; brokers refuse more than their transaction.max.timeout.ms
	// (15 minutes by default).
	TransactionTimeout time.Duration
	// Producers, when set, lends the push a producer an earlier push left
	// (no new connection, no new producer id) and takes it back when the
	// push ends; nil: the push's producer is closed with it.
	Producers *KafkaProducers
}

// maxIdleProducers is how many idle producers KafkaProducers keeps for
// one cluster.
const maxIdleProducers = 4

// KafkaProducers keeps the transactional producers of pushes that ended
// (their transaction committed or aborted) for later pushes with the same
// brokers and timeouts, at most a few for each. Its zero value is ready
// to use; it is safe for concurrent use.
type KafkaProducers struct {
	mu     sync.Mutex
	idle   map[string][]*kgo.Client
	closed bool
}

// get takes an idle producer of key, or returns nil.
func (ps *KafkaProducers) get(key string) *kgo.Client {
	if ps == nil {
		return nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	cls := ps.idle[key]
	if len(cls) == 0 {
		return nil
	}
	cl := cls[len(cls)-1]
	ps.idle[key] = cls[:len(cls)-1]
	return cl
}

// put keeps an idle producer, or closes it when there are enough.
func (ps *KafkaProducers) put(key string, cl *kgo.Client) {
	if ps != nil {
		ps.mu.Lock()
		if !ps.closed && len(ps.idle[key]) < maxIdleProducers {
			if ps.idle == nil {
				ps.idle = map[string][]*kgo.Client{}
			}
			ps.idle[key] = append(ps.idle[key], cl)
			ps.mu.Unlock()
			return
		}
		ps.mu.Unlock()
	}
	cl.Close()
}

// Close closes the idle producers; producers given back later are
// closed.
func (ps *KafkaProducers) Close() {
	ps.mu.Lock()
	idle := ps.idle
	ps.idle, ps.closed = nil, true
	ps.mu.Unlock()
	for _, cls := range idle {
		for _, cl := range cls {
			cl.Close()
		}
	}
}

// kafkaTxn is one transactional producer and its open transaction, which
// the pushes of a transaction block into the streams of one cluster share
// (OpenKafkaPush's join), so that COMMIT makes all of their records
// visible at once.
type kafkaTxn struct {
	cl      *kgo.Client
	brokers string
	timeout time.Duration
	// pool and key are where the producer goes when the transaction ends.
	pool *KafkaProducers
	key  string
	mu   sync.Mutex
	// state: 0 open, 1 committed, 2 aborted.
	state int
	// err is the first failed record's error.
	err error
}

// kafkaPush is the Kafka part of a Sink opened by OpenKafkaPush.
type kafkaPush struct {
	txn    *kafkaTxn
	opts   KafkaPushOptions
	enc    *textWriter
	keyIdx int
	// perRow is the bytes a row took in the last batch, to size the next
	// batch's buffer.
	perRow int
}

// OpenKafkaPush opens a sink that pushes rows into a Kafka stream: each
// row becomes one record of the stream's topic, its value the row encoded
// in the stream's format (see KafkaPushOptions), produced by a
// transactional producer inside a Kafka transaction. Write produces the
// records as they come (consumers reading committed records only, as the
// stream runtime does, do not see them yet), Prepare flushes them, and
// Publish (or Commit) commits the transaction: every record of the push
// becomes visible at once. Abort, or any failure before the commit,
// aborts the transaction: none is ever visible.
//
// join, when it is an open Kafka push to the same brokers (a transaction
// block's earlier push), makes this push produce in join's transaction:
// the first Publish of the sinks sharing it commits it for all of them,
// and an Abort of any aborts it for all. A nil join, or one whose
// transaction ended, opens a producer of its own. OpenKafkaPush checks
// that a broker answers before it returns.
func OpenKafkaPush(ctx context.Context, o KafkaPushOptions, fields []Field, join *Sink) (*Sink, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.TransactionTimeout <= 0 {
		o.TransactionTimeout = 5 * time.Minute
	}
	if o.Format.Format != FormatCSV && o.Format.Format != FormatJSON {
		return nil, fmt.Errorf("stream %q: a push into a Kafka stream encodes csv or json, not %q", o.Stream, o.Format.Format)
	}
	if err := checkWritable(&o.Format, fields); err != nil {
		return nil, fmt.Errorf("stream %q: %w", o.Stream, err)
	}
	kp := &kafkaPush{opts: o, keyIdx: -1}
	if o.Key != "" {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
			if strings.EqualFold(f.Name, o.Key) && (kp.keyIdx < 0 || f.Name == o.Key) {
				kp.keyIdx = i
			}
		}
		if kp.keyIdx < 0 {
			hint := ""
			if cl := closest(o.Key, names); cl != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", cl)
			}
			return nil, &OptionError{Key: "key", Message: fmt.Sprintf("no column %q in stream %q%s", o.Key, o.Stream, hint)}
		}
	}
	kp.enc = &textWriter{opts: &kp.opts.Format, fields: fields}
	brokers := strings.Join(o.Brokers, ",")
	if join != nil && join.kafka != nil && join.kafka.txn.brokers == brokers && join.kafka.txn.open() {
		kp.txn = join.kafka.txn
	} else {
		txn, err := beginKafkaTxn(ctx, o, brokers)
		if err != nil {
			return nil, err
		}
		kp.txn = txn
	}
	s := &Sink{opts: o.Format, fields: fields, schema: ArrowSchema(fields), runID: newRunID(), kafka: kp, files: map[string]*sinkFile{}}
	return s, nil
}

// beginKafkaTxn connects a transactional producer and begins its
// transaction.
func beginKafkaTxn(ctx context.Context, o KafkaPushOptions, brokers string) (t *kafkaTxn, err error) {
	key := fmt.Sprintf("%s|%s|%s", brokers, o.Timeout, o.TransactionTimeout)
	t = &kafkaTxn{brokers: brokers, timeout: o.Timeout, pool: o.Producers, key: key}
	if cl := o.Producers.get(key); cl != nil {
		t.cl = cl
	} else if t.cl, err = newKafkaProducer(o); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	err = t.cl.Ping(pctx)
	cancel()
	if err != nil {
		t.cl.Close()
		return nil, fmt.Errorf("stream %q: cannot reach a Kafka broker of %s: %w", o.Stream, brokers, err)
	}
	if err := t.cl.BeginTransaction(); err != nil {
		t.cl.Close()
		return nil, fmt.Errorf("stream %q: beginning a Kafka transaction: %w", o.Stream, err)
	}
	return t, nil
}

// newKafkaProducer connects a transactional producer with a transactional
// id of its own.
func newKafkaProducer(o KafkaPushOptions) (*kgo.Client, error) {
	var b [8]byte
	rand.Read(b[:])
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(o.Brokers...),
		kgo.TransactionalID("etlc-push-"+hex.EncodeToString(b[:])),
		kgo.TransactionTimeout(o.TransactionTimeout),
		kgo.RecordDeliveryTimeout(o.Timeout),
		kgo.ProducerLinger(5*time.Millisecond),
		// Pushing client metrics to the brokers would cost more than a
		// short push does.
		kgo.DisableClientMetrics(),
	)
	if err != nil {
		return nil, fmt.Errorf("stream %q: Kafka producer: %w", o.Stream, err)
	}
	return cl, nil
}

// open reports whether the transaction is neither committed nor aborted.
func (t *kafkaTxn) open() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state == 0
}

// failed returns the first error of a record produced in the transaction.
func (t *kafkaTxn) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// produced is the promise of every record: it keeps the first error.
func (t *kafkaTxn) produced(_ *kgo.Record, err error) {
	if err == nil {
		return
	}
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.mu.Unlock()
}

// flush waits until every record produced so far is acknowledged.
func (t *kafkaTxn) flush(ctx context.Context) error {
	// Records fail after the delivery timeout (t.timeout), with their
	// cause; a broker that takes requests and never answers is given up
	// on after twice that.
	fctx, cancel := context.WithTimeout(ctx, 2*t.timeout)
	defer cancel()
	if err := t.cl.Flush(fctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("no Kafka broker of %s acknowledged the records within %s", t.brokers, 2*t.timeout)
		}
		return err
	}
	return t.failed()
}

// commit commits the transaction, once: a later call returns what the
// first did.
func (t *kafkaTxn) commit(ctx context.Context) error {
	t.mu.Lock()
	state := t.state
	t.mu.Unlock()
	switch state {
	case 1:
		return nil
	case 2:
		return errors.New("the Kafka transaction was aborted")
	}
	if err := t.flush(ctx); err != nil {
		t.abort(ctx)
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.timeout)
	err := t.cl.EndTransaction(cctx, kgo.TryCommit)
	cancel()
	if err != nil {
		t.abort(ctx)
		return fmt.Errorf("committing the Kafka transaction: %w", err)
	}
	t.mu.Lock()
	t.state = 1
	t.mu.Unlock()
	t.pool.put(t.key, t.cl)
	return nil
}

// abort aborts the transaction (what it produced is never visible to
// consumers that read committed records) and closes the producer.
func (t *kafkaTxn) abort(ctx context.Context) {
	t.mu.Lock()
	if t.state != 0 {
		t.mu.Unlock()
		return
	}
	t.state = 2
	t.mu.Unlock()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.timeout)
	defer cancel()
	// Buffered records fail; an EndTransaction the broker does not get
	// leaves the transaction to its timeout, which aborts it.
	aerr := t.cl.AbortBufferedRecords(actx)
	if err := t.cl.EndTransaction(actx, kgo.TryAbort); err != nil || aerr != nil {
		t.cl.Close()
		return
	}
	t.pool.put(t.key, t.cl)
}

// write produces the rows of rec (whose columns are the sink's fields),
// one record each; first is the number of rows the push wrote before.
func (k *kafkaPush) write(ctx context.Context, rec arrow.Record, first int64) error {
	if !k.txn.open() {
		return fmt.Errorf("stream %q: the Kafka transaction of this push has ended", k.opts.Stream)
	}
	if err := k.txn.failed(); err != nil {
		return fmt.Errorf("stream %q: producing to topic %q: %w", k.opts.Stream, k.opts.Topic, err)
	}
	cols := rec.Columns()
	n := int(rec.NumRows())
	// The batch's values and keys are encoded into one buffer and its
	// records are one slice: the producer keeps them until they are sent,
	// so both are new for each batch (two allocations, not three a row).
	buf := make([]byte, 0, k.perRow*n+64)
	ends := make([]int, 2*n)
	var err error
	for i := 0; i < n; i++ {
		if buf, err = k.enc.appendRow(buf, cols, i); err != nil {
			return fmt.Errorf("stream %q: row %d: %w", k.opts.Stream, first+int64(i)+1, err)
		}
		ends[2*i] = len(buf)
		if k.keyIdx >= 0 && !cols[k.keyIdx].IsNull(i) {
			buf = appendValue(buf, k.enc.fields[k.keyIdx].Type, cols[k.keyIdx], i)
		}
		ends[2*i+1] = len(buf)
	}
	if n > 0 {
		k.perRow = len(buf)/n + 1
	}
	recs := make([]kgo.Record, n)
	start := 0
	for i := range recs {
		r := &recs[i]
		r.Topic = k.opts.Topic
		r.Value = buf[start:ends[2*i]:ends[2*i]]
		if ends[2*i+1] > ends[2*i] || (k.keyIdx >= 0 && !cols[k.keyIdx].IsNull(i)) {
			r.Key = buf[ends[2*i]:ends[2*i+1]:ends[2*i+1]]
		}
		start = ends[2*i+1]
		// Produce blocks while the producer buffers its most records;
		// a cancelled ctx fails the record (and so the push).
		k.txn.cl.Produce(ctx, r, k.txn.produced)
	}
	return nil
}

// prepareKafka flushes a Kafka push: every record it produced is
// acknowledged by the brokers (still invisible to consumers that read
// committed records). Its manifest, which nothing writes, counts the rows
// and lists no file.
func (s *Sink) prepareKafka(ctx context.Context) (*Manifest, error) {
	k := s.kafka
	if err := k.txn.flush(ctx); err != nil {
		return nil, fmt.Errorf("stream %q: producing to topic %q: %w", k.opts.Stream, k.opts.Topic, err)
	}
	m := &Manifest{Version: 1, RunID: s.runID, Mode: ModeAppend.String(), Format: s.opts.Format, Rows: s.rows}
	s.state = 3
	return m, nil
}

// publishKafka commits a Kafka push's transaction (shared by the pushes
// of a transaction block: the first Publish commits it for all).
func (s *Sink) publishKafka(ctx context.Context) (*Manifest, error) {
	k := s.kafka
	if err := k.txn.commit(ctx); err != nil {
		s.state = 2
		return nil, fmt.Errorf("stream %q: topic %q: %w", k.opts.Stream, k.opts.Topic, err)
	}
	s.state = 1
	return &Manifest{Version: 1, RunID: s.runID, Mode: ModeAppend.String(), Format: s.opts.Format, Rows: s.rows, CommittedAt: now()}, nil
}
