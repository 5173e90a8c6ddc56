package connector

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCSVScan reads 200,000 rows of six typed columns.
func BenchmarkCSVScan(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("id,name,amount,ts,flag,score\n")
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&sb, "%d,name %d,%d.%02d,2024-01-%02d 12:%02d:%02d,%t,%d.5\n", i, i, i%1000, i%100, i%28+1, i%60, i%60, i%2 == 0, i)
	}
	p := filepath.Join(dir, "big.csv")
	os.WriteFile(p, []byte(sb.String()), 0o644)
	fields := parseColumns(b, "id BIGINT, name VARCHAR, amount DECIMAL(12,2), ts TIMESTAMP, flag BOOLEAN, score DOUBLE")
	opts, _ := ParseOptions(map[string]string{"path": p, "header": "true"}, RoleSource)
	c := NewFileConnector(Config{})
	ctx := context.Background()
	b.SetBytes(int64(sb.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := c.Scan(ctx, opts, ScanSpec{Fields: fields})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			rec, err := s.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += int(rec.NumRows())
			rec.Release()
		}
		s.Close()
		if rows != 200000 {
			b.Fatalf("%d rows", rows)
		}
	}
}
