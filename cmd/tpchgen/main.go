// Command tpchgen generates TPC-H data at a whole scale factor with go-tpc's
// port of dbgen, as '|'-delimited .tbl files and as Parquet, for etlc's
// benchmarks and TPC-H verification tests.
//
// Usage:
//
//	go run ./cmd/tpchgen -sf 1 -out DIR -format tbl|parquet|both
//
// DIR defaults to ${ETLC_CACHE:-$HOME/.cache/etlc}/tpch/sf<N>, where tests
// look for the data.
//
// Layout of DIR:
//
//	DIR/tbl/<table>.tbl                    dbgen's lines without the trailing '|'
//	DIR/tbl/_COMPLETE                      marker, written last
//	DIR/parquet/<table>/part-NNNNN.parquet one or more files per table
//	DIR/parquet/_COMPLETE                  marker, written last
//
// An output whose marker exists and names the same scale factor is reused
// as it is; an output without a marker is a leftover of an interrupted run
// and is removed and made anew. Parquet is converted from the .tbl files;
// with -format parquet, .tbl files generated only for that are removed
// afterwards. Column types: keys BIGINT; p_size, ps_availqty,
// o_shippriority, l_linenumber INT; l_quantity and money DECIMAL(15,2),
// stored as Parquet INT64 (as DuckDB and Spark write a decimal of
// precision 18 or less); dates DATE; text VARCHAR; every column NOT NULL.
// A Parquet marker of an older layout (parquetLayout) is not reused.
//
// go-tpc's generator keeps its state in package variables and is not
// re-entrant (see generateTbl), so this program generates once per process.
// It is its own main package so that the etlc binary never links go-tpc.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"
)

// generatorVersion names the generator in the completion markers.
const generatorVersion = "github.com/pingcap/go-tpc v1.0.7 tpch/dbgen"

// parquetLayout names how the Parquet files store their columns; a Parquet
// output whose marker names another layout (or none) is made anew.
const parquetLayout = "decimal-int64"

// markerName is the file written last into a complete output directory.
const markerName = "_COMPLETE"

// marker is the content of a _COMPLETE file.
type marker struct {
	ScaleFactor int64            `json:"scale_factor"`
	Format      string           `json:"format"`
	Generator   string           `json:"generator"`
	Layout      string           `json:"layout,omitempty"`
	Rows        map[string]int64 `json:"rows"`
	Created     time.Time        `json:"created"`
}

// options are the command-line flags.
type options struct {
	sf          int64
	out         string
	format      string
	rowsPerFile int64
}

func main() {
	var o options
	flag.Int64Var(&o.sf, "sf", 1, "TPC-H scale factor, a whole number >= 1")
	flag.StringVar(&o.out, "out", "", "output directory (default ${ETLC_CACHE:-$HOME/.cache/etlc}/tpch/sf<N>)")
	flag.StringVar(&o.format, "format", "both", "what to produce: tbl, parquet or both")
	flag.Int64Var(&o.rowsPerFile, "rows-per-file", 2_000_000, "most rows in one Parquet file")
	flag.Parse()
	if o.out == "" {
		o.out = filepath.Join(defaultCacheDir(), "tpch", fmt.Sprintf("sf%d", o.sf))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tpchgen:", err)
		os.Exit(1)
	}
}

// run produces the outputs o asks for, printing progress and timings to w.
func run(ctx context.Context, o options, w io.Writer) error {
	if o.out == "" {
		return errors.New("-out is required")
	}
	if o.sf < 1 {
		return fmt.Errorf("-sf %d: the scale factor must be a whole number >= 1", o.sf)
	}
	wantTbl, wantParquet := false, false
	switch o.format {
	case "tbl":
		wantTbl = true
	case "parquet":
		wantParquet = true
	case "both":
		wantTbl, wantParquet = true, true
	default:
		return fmt.Errorf("-format %q: want tbl, parquet or both", o.format)
	}
	tblDir := filepath.Join(o.out, "tbl")
	pqDir := filepath.Join(o.out, "parquet")
	start := time.Now()

	if wantParquet {
		if m, ok := readMarker(pqDir, o.sf); ok && m.Layout == parquetLayout {
			fmt.Fprintf(w, "parquet: reusing %s (sf %d, %d lineitem rows)\n", pqDir, m.ScaleFactor, m.Rows["lineitem"])
			wantParquet = false
		}
	}
	tblExisted := false
	var tblRows map[string]int64
	if wantTbl || wantParquet {
		if m, ok := readMarker(tblDir, o.sf); ok {
			tblExisted = true
			tblRows = m.Rows
			fmt.Fprintf(w, "tbl: reusing %s (sf %d, %d lineitem rows)\n", tblDir, m.ScaleFactor, m.Rows["lineitem"])
		} else {
			if err := freshDir(tblDir); err != nil {
				return err
			}
			t0 := time.Now()
			rows, err := generateTbl(o.sf, tblDir)
			if err != nil {
				return err
			}
			tblRows = rows
			if err := writeMarker(tblDir, marker{ScaleFactor: o.sf, Format: "tbl", Generator: generatorVersion, Rows: rows}); err != nil {
				return err
			}
			fmt.Fprintf(w, "tbl: generated sf %d into %s in %s\n", o.sf, tblDir, time.Since(t0).Round(time.Millisecond))
		}
	}
	if wantParquet {
		if err := freshDir(pqDir); err != nil {
			return err
		}
		rows := map[string]int64{}
		for _, spec := range tpchTables() {
			if err := ctx.Err(); err != nil {
				return err
			}
			t0 := time.Now()
			dst := filepath.Join(pqDir, spec.name)
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", dst, err)
			}
			n, err := convertTable(ctx, spec, filepath.Join(tblDir, spec.name+".tbl"), dst, convertOptions{rowsPerFile: o.rowsPerFile})
			if err != nil {
				return err
			}
			if want, ok := tblRows[spec.name]; ok && want != n {
				return fmt.Errorf("%s: converted %d rows, the .tbl marker says %d", spec.name, n, want)
			}
			rows[spec.name] = n
			fmt.Fprintf(w, "parquet: %-9s %10d rows in %s\n", spec.name, n, time.Since(t0).Round(time.Millisecond))
		}
		if err := writeMarker(pqDir, marker{ScaleFactor: o.sf, Format: "parquet", Generator: generatorVersion, Layout: parquetLayout, Rows: rows}); err != nil {
			return err
		}
		if !wantTbl && !tblExisted {
			if err := os.RemoveAll(tblDir); err != nil {
				return fmt.Errorf("remove intermediate %s: %w", tblDir, err)
			}
		}
	}
	fmt.Fprintf(w, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// defaultCacheDir is ${ETLC_CACHE:-$HOME/.cache/etlc}.
func defaultCacheDir() string {
	if d := os.Getenv("ETLC_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "etlc-cache")
	}
	return filepath.Join(home, ".cache", "etlc")
}

// readMarker reports whether dir holds a complete output for scale factor sf.
func readMarker(dir string, sf int64) (marker, bool) {
	b, err := os.ReadFile(filepath.Join(dir, markerName))
	if err != nil {
		return marker{}, false
	}
	var m marker
	if err := json.Unmarshal(b, &m); err != nil || m.ScaleFactor != sf || m.Generator != generatorVersion {
		return marker{}, false
	}
	return m, true
}

// writeMarker writes m into dir atomically (a temporary file renamed).
func writeMarker(dir string, m marker) error {
	m.Created = time.Now().UTC()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode marker: %w", err)
	}
	tmp := filepath.Join(dir, markerName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, markerName)); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	return nil
}

// freshDir removes dir (an incomplete output) and creates it empty.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove incomplete %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}
