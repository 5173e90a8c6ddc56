package connector

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
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

// BenchmarkParquetSink writes 1,000,000 rows of a stream's filter output
// (two BIGINT ids, a DOUBLE price, a TIMESTAMP) in batches of 8,192 rows
// into a Parquet sink and publishes them, as a streaming pipeline's
// checkpoint does.
func BenchmarkParquetSink(b *testing.B) {
	const rows, batch = 1_000_000, 8192
	fields := parseColumns(b, "auction BIGINT, bidder BIGINT, price_eur DOUBLE, date_time TIMESTAMP")
	mem := memory.NewGoAllocator()
	var recs []arrow.Record
	rb := array.NewRecordBuilder(mem, ArrowSchema(fields))
	defer rb.Release()
	for i := 0; i < rows; i += batch {
		for j := i; j < min(rows, i+batch); j++ {
			rb.Field(0).(*array.Int64Builder).Append(int64(j*7919) % 1_000_000)
			rb.Field(1).(*array.Int64Builder).Append(int64(j*104729) % 100_000)
			rb.Field(2).(*array.Float64Builder).Append(float64(j%10000) * 0.908)
			rb.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1_704_067_200_000_000 + int64(j)*1000))
		}
		recs = append(recs, rb.NewRecord())
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	c := NewFileConnector(Config{})
	ctx := context.Background()
	dir := b.TempDir()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		opts, err := ParseOptions(map[string]string{"path": filepath.Join(dir, fmt.Sprint(i)) + "/", "format": "parquet"}, RoleSink)
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.OpenSink(ctx, opts, fields)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Write(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
