package session

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaCluster starts an in-process Kafka cluster with one topic of the
// given partitions; it stops with the test.
func kafkaCluster(t *testing.T, topic string, partitions int32) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// topicRecords reads every record of a topic (read committed, or not) as
// "key=value" lines sorted, control records left out.
func topicRecords(t *testing.T, brokers, topic string, committed bool) []string {
	t.Helper()
	ctx := context.Background()
	level := kgo.ReadUncommitted()
	if committed {
		level = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	for empty := 0; empty < 3; {
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cl.PollFetches(pctx)
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

// TestPushIntoKafkaStream pushes rows into a Kafka stream (an in-process
// kfake cluster) with INSERT ... VALUES, INSERT ... SELECT, COPY FROM and
// a transaction block: each statement's records are produced in one
// Kafka transaction, keyed by the stream's key column, in the stream's
// format. A ROLLBACK and a COPY that fails half way produce records that
// are never committed: a read-uncommitted consumer sees them, the
// pipeline (reading committed records only) does not. The pipeline's
// sink holds exactly the committed rows.
func TestPushIntoKafkaStream(t *testing.T) {
	ctx := context.Background()
	brokers := kafkaCluster(t, "ev", 3)
	dir := t.TempDir()
	s := openEngine(t).NewSession(Options{Params: map[string]string{"brokers": brokers, "dir": dir}})
	defer s.Close()
	mustExec(t, s, `
CREATE STREAM ev (id BIGINT, amount DECIMAL(6,2), note VARCHAR)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'ev', format = 'csv', key = 'id');
CREATE SINK ev_out (id BIGINT, amount DECIMAL(6,2), note VARCHAR) WITH (path = '${dir}/out/', format = 'csv', header = 'false');
CREATE PIPELINE p AS INSERT INTO ev_out SELECT id, amount, note FROM STREAM ev;`)

	run := mustExec(t, s, "INSERT INTO ev VALUES (1, 1.5, 'a, b'), (2, '2.25', NULL)")
	if tag := run.Statements[0].Tag; tag != "INSERT 0 2" {
		t.Errorf("tag %q", tag)
	}
	mustExec(t, s, "INSERT INTO ev (note, id) SELECT 'sel', 3")
	want := []string{`1=1,1.50,"a, b"`, "2=2,2.25,", "3=3,,sel"}
	if got := topicRecords(t, brokers, "ev", true); !slices.Equal(got, want) {
		t.Fatalf("records after two INSERTs:\n%q\nwant\n%q", got, want)
	}

	ci, err := s.BeginCopyIn(ctx, "ev", []string{"id", "amount"})
	if err != nil {
		t.Fatal(err)
	}
	rec := textBatch([]string{"id", "amount"}, []string{"4", "4.00"}, []string{"5", "NULL"})
	if err := ci.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if n, err := ci.Commit(ctx); err != nil || n != 2 {
		t.Fatalf("COPY: %d %v", n, err)
	}

	// A block: nothing visible before COMMIT, its two INSERTs at once
	// after; a rolled back block never.
	mustExec(t, s, "BEGIN; INSERT INTO ev VALUES (6, 6, 'tx'); INSERT INTO ev VALUES (7, 7, 'tx');")
	if got := topicRecords(t, brokers, "ev", true); len(got) != 5 {
		t.Fatalf("committed records in the open block: %q", got)
	}
	mustExec(t, s, "COMMIT")
	mustExec(t, s, "BEGIN; INSERT INTO ev VALUES (8, 8, 'rolled back'); ROLLBACK;")

	// A COPY whose second batch holds a bad value: its first batch was
	// produced, and aborted.
	ci, err = s.BeginCopyIn(ctx, "ev", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec = textBatch([]string{"id", "amount", "note"}, []string{"9", "1", "x"})
	if err := ci.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	// The batch reaches the broker, uncommitted.
	for i := 0; !slices.Contains(topicRecords(t, brokers, "ev", false), "9=9,1.00,x"); i++ {
		if i == 10 {
			t.Fatal("the first batch of the COPY was not produced")
		}
	}
	rec = textBatch([]string{"id", "amount", "note"}, []string{"10", "1", "y"}, []string{"11", "abc", "z"})
	err = ci.Write(ctx, rec)
	rec.Release()
	if re, ok := err.(*CopyRowError); !ok || re.Row != 1 || re.Column != "amount" || re.Code != "22P02" {
		t.Errorf("bad COPY row: %#v", err)
	}
	ci.Abort(ctx)
	// A bad value in an INSERT ... SELECT.
	_, err = execScript(t, s, "bad.sql", "INSERT INTO ev (id) SELECT CAST(x AS BIGINT) FROM (SELECT '12' AS x UNION ALL SELECT 'thirteen') AS v")
	if se := stmtErr(t, err); se.Code != "22P02" {
		t.Errorf("bad INSERT: %s %s", se.Code, se.Message)
	}

	uncommitted := topicRecords(t, brokers, "ev", false)
	for _, r := range []string{"8=8,8.00,rolled back", "9=9,1.00,x"} {
		if !slices.Contains(uncommitted, r) {
			t.Errorf("record %q was not produced (uncommitted: %q)", r, uncommitted)
		}
	}
	want = []string{`1=1,1.50,"a, b"`, "2=2,2.25,", "3=3,,sel", "4=4,4.00,", "5=5,,", "6=6,6.00,tx", "7=7,7.00,tx"}
	if got := topicRecords(t, brokers, "ev", true); !slices.Equal(got, want) {
		t.Fatalf("committed records:\n%q\nwant\n%q", got, want)
	}

	if err := s.RunPipeline(ctx, "p", PipelineOptions{UntilIdle: true}); err != nil {
		t.Fatal(err)
	}
	want = []string{"1|1.50|a, b", "2|2.25|NULL", "3|NULL|sel", "4|4.00|NULL", "5|NULL|NULL", "6|6.00|tx", "7|7.00|tx"}
	if got := rows(t, s, "SELECT id, amount, note FROM ev_out ORDER BY id"); !slices.Equal(got, want) {
		t.Errorf("sink:\n%v\nwant\n%v", got, want)
	}
}

// TestPushIntoKafkaStreamJSON pushes into a JSON Kafka stream without a
// key: records without a key, the row as a JSON object.
func TestPushIntoKafkaStreamJSON(t *testing.T) {
	brokers := kafkaCluster(t, "j", 1)
	s := openEngine(t).NewSession(Options{Params: map[string]string{"brokers": brokers}})
	defer s.Close()
	mustExec(t, s, `
CREATE STREAM j (id BIGINT, ts TIMESTAMP, note VARCHAR)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'j', format = 'json');
INSERT INTO j VALUES (1, TIMESTAMP '2024-01-01 00:00:10', 'say "hi"'), (2, NULL, NULL);`)
	want := []string{`={"id":1,"ts":"2024-01-01 00:00:10","note":"say \"hi\""}`, `={"id":2,"ts":null,"note":null}`}
	if got := topicRecords(t, brokers, "j", true); !slices.Equal(got, want) {
		t.Errorf("records:\n%q\nwant\n%q", got, want)
	}
}

// TestPushIntoKafkaStreamErrors: a broker that does not answer, and a key
// option naming no column, fail the push with a message that says so.
func TestPushIntoKafkaStreamErrors(t *testing.T) {
	s := openEngine(t).NewSession(Options{})
	defer s.Close()
	mustExec(t, s, `
CREATE STREAM k (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '127.0.0.1:1', topic = 't', format = 'json');`)
	_, err := execScript(t, s, "k.sql", "INSERT INTO k VALUES (1)")
	se := stmtErr(t, err)
	if !strings.Contains(se.Message, `stream "k": cannot reach a Kafka broker of 127.0.0.1:1: `) {
		t.Errorf("%s %s", se.Code, se.Message)
	}

	brokers := kafkaCluster(t, "t", 1)
	mustExec(t, s, fmt.Sprintf(`
CREATE STREAM k2 (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '%s', topic = 't', format = 'csv', key = 'idd');`, brokers))
	_, err = execScript(t, s, "k2.sql", "INSERT INTO k2 VALUES (1)")
	se = stmtErr(t, err)
	if !strings.Contains(se.Message, `no column "idd" in stream "k2" (did you mean id?)`) {
		t.Errorf("%s %s", se.Code, se.Message)
	}

	// A topic the cluster does not have.
	mustExec(t, s, fmt.Sprintf(`
CREATE STREAM k3 (id BIGINT) WITH (connector = 'kafka', bootstrap_servers = '%s', topic = 'nope', format = 'csv');`, brokers))
	_, err = execScript(t, s, "k3.sql", "INSERT INTO k3 VALUES (1)")
	se = stmtErr(t, err)
	if !strings.Contains(se.Message, `stream "k3": producing to topic "nope": UNKNOWN_TOPIC_OR_PARTITION`) {
		t.Errorf("%s %s", se.Code, se.Message)
	}
}
