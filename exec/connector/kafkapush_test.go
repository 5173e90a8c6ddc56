package connector

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// committedRecords reads every committed record of a topic as
// "partition:key=value" lines, sorted.
func committedRecords(t *testing.T, brokers []string, topic string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	for empty := 0; empty < 3; {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			out = append(out, string(r.Key)+"="+string(r.Value))
		})
		if n == 0 {
			empty++
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenKafkaPush pushes into a topic of an in-process kfake cluster:
// two pushes sharing one transaction (join) become visible together at
// the first Publish; an aborted shared transaction leaves nothing of
// either; producers go back to the pool and are used again; a CSV value
// that needs quoting when the quote option is empty fails naming the row
// and column.
func TestOpenKafkaPush(t *testing.T) {
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := checkedConnector(t)
	dir := t.TempDir()
	fields := parseColumns(t, sinkTestColumns)
	format, err := ParseOptions(map[string]string{"path": "kafka:t", "format": "csv"}, RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	var pool KafkaProducers
	defer pool.Close()
	o := KafkaPushOptions{Stream: "s", Brokers: c.ListenAddrs(), Topic: "t", Key: "p", Format: format, Producers: &pool}
	open := func(rows string, join *Sink) *Sink {
		t.Helper()
		s, err := OpenKafkaPush(ctx, o, fields, join)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readRows(ctx, conn, dir, fields, rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Write(ctx, r); err != nil {
				t.Fatal(err)
			}
			r.Release()
		}
		if _, err := s.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	idle := func() int {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		n := 0
		for _, cls := range pool.idle {
			n += len(cls)
		}
		return n
	}

	a := open("1,x\n2,y\n3,NULL", nil)
	b := open("4,x", a)
	if a.kafka.txn != b.kafka.txn {
		t.Fatal("the joined push has a transaction of its own")
	}
	if got := committedRecords(t, o.Brokers, "t"); len(got) != 0 {
		t.Fatalf("visible before Publish: %q", got)
	}
	if _, err := a.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"=3,", "x=1,x", "x=4,x", "y=2,y"}
	if got := committedRecords(t, o.Brokers, "t"); !slices.Equal(got, want) {
		t.Fatalf("after the first Publish: %q, want %q", got, want)
	}
	m, err := b.Publish(ctx)
	if err != nil || m.Rows != 1 {
		t.Fatalf("second Publish of the shared transaction: %v %v", m, err)
	}
	if n := idle(); n != 1 {
		t.Fatalf("idle producers after the commit: %d", n)
	}

	// The pool's producer again, shared; an abort of one aborts both.
	a = open("5,z", nil)
	if n := idle(); n != 0 {
		t.Fatalf("idle producers while pushing: %d", n)
	}
	b = open("6,z", a)
	b.Abort(ctx)
	if _, err := a.Publish(ctx); err == nil || !strings.Contains(err.Error(), "the Kafka transaction was aborted") {
		t.Fatalf("Publish after the shared transaction aborted: %v", err)
	}
	if got := committedRecords(t, o.Brokers, "t"); !slices.Equal(got, want) {
		t.Fatalf("after the abort: %q, want %q", got, want)
	}
	if n := idle(); n != 1 {
		t.Fatalf("idle producers after the abort: %d", n)
	}

	// A value the CSV cannot hold without quoting.
	nq := o
	nq.Format.Quote = 0
	s, err := OpenKafkaPush(ctx, nq, fields, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readRows(ctx, conn, dir, fields, "7,ok\n8,\"a,b\"")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, recs[0])
	for _, r := range recs {
		r.Release()
	}
	if err == nil || err.Error() != `stream "s": row 2: column "p": value "a,b" needs quoting but the quote option is empty` {
		t.Fatalf("unquotable value: %v", err)
	}
	s.Abort(ctx)
	if got := committedRecords(t, o.Brokers, "t"); !slices.Equal(got, want) {
		t.Fatalf("after the failed push: %q, want %q", got, want)
	}
}

// TestKafkaPushBrokerGone: the cluster goes away during a push; Prepare
// fails after the push's timeout, naming the stream, the topic and the
// cause.
func TestKafkaPushBrokerGone(t *testing.T) {
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	conn := checkedConnector(t)
	fields := parseColumns(t, sinkTestColumns)
	format, err := ParseOptions(map[string]string{"path": "kafka:t", "format": "json"}, RoleSource)
	if err != nil {
		t.Fatal(err)
	}
	o := KafkaPushOptions{Stream: "s", Brokers: c.ListenAddrs(), Topic: "t", Format: format, Timeout: 2 * time.Second}
	s, err := OpenKafkaPush(ctx, o, fields, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	recs, err := readRows(ctx, conn, t.TempDir(), fields, "1,x")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, recs[0])
	recs[0].Release()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Prepare(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), `stream "s": producing to topic "t": records have timed out before they were able to be produced`) ||
		!strings.HasSuffix(err.Error(), "connection refused") {
		t.Fatalf("Prepare with the cluster gone: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Prepare took %s", d)
	}
}
