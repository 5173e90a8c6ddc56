package session

import (
	"context"
	"path/filepath"
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
