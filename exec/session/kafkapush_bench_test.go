package session

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/etlc/etlc/parser"
)

// BenchmarkPushIntoKafkaStream is one single-row INSERT into a Kafka
// stream, one Kafka transaction each.
func BenchmarkPushIntoKafkaStream(b *testing.B) {
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "ev"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	e, err := Open(ctx, filepath.Join(b.TempDir(), "data"), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s := e.NewSession(Options{Params: map[string]string{"brokers": strings.Join(c.ListenAddrs(), ",")}})
	defer s.Close()
	exec := func(sql string) {
		run, err := s.Exec(ctx, parser.NewSource("b.sql", sql), ExecOptions{})
		if err != nil {
			b.Fatal(err)
		}
		run.Release()
	}
	exec(`CREATE STREAM ev (id BIGINT, note VARCHAR) WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'ev', format = 'csv');`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec("INSERT INTO ev VALUES (1, 'a')")
	}
}

// BenchmarkCopyIntoKafkaStream is a COPY of 100,000 rows into a Kafka
// stream (csv, keyed): 25 batches of 4,000 rows, one Kafka transaction.
func BenchmarkCopyIntoKafkaStream(b *testing.B) {
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "ev"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	e, err := Open(ctx, filepath.Join(b.TempDir(), "data"), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s := e.NewSession(Options{Params: map[string]string{"brokers": strings.Join(c.ListenAddrs(), ",")}})
	defer s.Close()
	run, err := s.Exec(ctx, parser.NewSource("b.sql", `CREATE STREAM ev (id BIGINT, amount DECIMAL(10,2), note VARCHAR)
  WITH (connector = 'kafka', bootstrap_servers = '${brokers}', topic = 'ev', format = 'csv', key = 'id');`), ExecOptions{})
	if err != nil {
		b.Fatal(err)
	}
	run.Release()
	rows := make([][]string, 4000)
	for i := range rows {
		rows[i] = []string{strconv.Itoa(i), strconv.Itoa(i) + ".25", "note " + strconv.Itoa(i%100)}
	}
	rec := textBatch([]string{"id", "amount", "note"}, rows...)
	defer rec.Release()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ci, err := s.BeginCopyIn(ctx, "ev", nil)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 25; j++ {
			if err := ci.Write(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		if n, err := ci.Commit(ctx); err != nil || n != 100_000 {
			b.Fatal(n, err)
		}
	}
}
