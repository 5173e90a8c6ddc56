package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// TestTPCHParquetQ06 computes TPC-H Q6 exactly (in integer hundredths) from
// the SF1 lineitem Parquet files and compares it with the reference answer
// 123141078.2283, and checks the row count. Manual, as it needs SF1 data:
//
//	go run ./cmd/tpchgen -sf 1
//	ETLC_TPCH_PARQUET=1 go test ./cmd/tpchgen -run TestTPCHParquetQ06 -v
func TestTPCHParquetQ06(t *testing.T) {
	if os.Getenv("ETLC_TPCH_PARQUET") == "" {
		t.Skip("manual: set ETLC_TPCH_PARQUET=1 (needs SF1 Parquet from go run ./cmd/tpchgen)")
	}
	dir := os.Getenv("ETLC_TPCH_DIR")
	if dir == "" {
		dir = filepath.Join(defaultCacheDir(), "tpch", "sf1")
	}
	pqDir := filepath.Join(dir, "parquet")
	if _, ok := readMarker(pqDir, 1); !ok {
		t.Fatalf("no complete SF1 Parquet in %s", pqDir)
	}
	names, _ := filepath.Glob(filepath.Join(pqDir, "lineitem", "part-*.parquet"))
	lo := arrow.Date32FromTime(time.Date(1994, 1, 1, 0, 0, 0, 0, time.UTC))
	hi := arrow.Date32FromTime(time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC))
	var rows int64
	var revenue int64 // in 1/10000
	for _, name := range names {
		pf, err := file.OpenParquetFile(name, false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		// l_quantity 4, l_extendedprice 5, l_discount 6, l_shipdate 10.
		rr, err := fr.GetRecordReader(context.Background(), []int{4, 5, 6, 10}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for rr.Next() {
			rec := rr.Record()
			qty := rec.Column(0).(*array.Decimal128)
			price := rec.Column(1).(*array.Decimal128)
			disc := rec.Column(2).(*array.Decimal128)
			ship := rec.Column(3).(*array.Date32)
			for i := 0; i < int(rec.NumRows()); i++ {
				d := ship.Value(i)
				dc := disc.Value(i).LowBits()
				if d >= lo && d < hi && dc >= 5 && dc <= 7 && qty.Value(i).LowBits() < 2400 {
					revenue += int64(price.Value(i).LowBits()) * int64(dc)
				}
			}
			rows += rec.NumRows()
		}
		rr.Release()
		pf.Close()
	}
	if rows != 6001215 {
		t.Errorf("lineitem has %d rows, want 6001215", rows)
	}
	if revenue != 1231410782283 {
		t.Errorf("Q6 revenue = %d/10000, want 123141078.2283", revenue)
	}
}
