package connector

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"

	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/schema"
)

// ParquetSummary is what the footers of a set of Parquet files say about
// their data, without reading any data page.
type ParquetSummary struct {
	Files   int
	Rows    int64
	Columns []ColumnSummary
}

// ColumnSummary is what the footers say about one column, over every row
// group of every file.
type ColumnSummary struct {
	// Name is the column's name as asked for.
	Name string
	// Nulls is the number of NULLs, when NullsKnown (every row group
	// recorded it).
	Nulls      int64
	NullsKnown bool
	// HasRange is set when every row group recorded its smallest and
	// largest value and the column is numeric or temporal: Min and Max on
	// the scale of catalog.ColumnStats (numbers as themselves, DECIMAL as
	// its value, DATE in days, TIME and TIMESTAMP in microseconds).
	HasRange bool
	Min, Max float64
	// MinText and MaxText are the smallest and largest value of a text
	// column ("" otherwise, or when unknown).
	MinText, MaxText string
}

// ParquetSummary reads the footers of the source's files (which must be
// Parquet) and sums up the row counts and the statistics of the named
// columns (matched by name, exactly, else ignoring case; a column no file
// has is left unknown).
func (c *FileConnector) ParquetSummary(ctx context.Context, opts Options, columns []string) (sum ParquetSummary, err error) {
	defer recoverErr(&err, opts.Path)
	fs, _, err := c.Resolve(ctx, opts.Path)
	if err != nil {
		return sum, err
	}
	files, err := c.ListFiles(ctx, opts)
	if err != nil {
		return sum, err
	}
	acc := make([]colAcc, len(columns))
	for _, sf := range files {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err := summarizeFile(ctx, fs, sf.Name, columns, acc, &sum); err != nil {
			return sum, fmt.Errorf("%s: %w", fs.URI(sf.Name), err)
		}
		sum.Files++
	}
	for i, name := range columns {
		sum.Columns = append(sum.Columns, acc[i].summary(name, sum.Files > 0))
	}
	return sum, nil
}

// colAcc gathers one column's statistics over row groups.
type colAcc struct {
	seen             bool
	nulls            int64
	nullsUnknown     bool
	rangeUnknown     bool
	hasNum, hasText  bool
	min, max         float64
	minText, maxText string
}

func (a *colAcc) summary(name string, any bool) ColumnSummary {
	s := ColumnSummary{Name: name}
	if !any || !a.seen {
		return s
	}
	s.Nulls, s.NullsKnown = a.nulls, !a.nullsUnknown
	if !a.rangeUnknown && a.hasNum {
		s.HasRange, s.Min, s.Max = true, a.min, a.max
	}
	if !a.rangeUnknown && a.hasText {
		s.MinText, s.MaxText = a.minText, a.maxText
	}
	return s
}

// summarizeFile adds one file's footer to acc and sum.
func summarizeFile(ctx context.Context, fs FS, name string, columns []string, acc []colAcc, sum *ParquetSummary) error {
	f, err := fs.Open(ctx, name)
	if err != nil {
		return err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(io.NewSectionReader(f, 0, f.Size()))
	if err != nil {
		return fmt.Errorf("invalid parquet file: %w", err)
	}
	defer pf.Close()
	md := pf.MetaData()
	sum.Rows += md.NumRows
	sc := md.Schema
	idx := make([]int, len(columns))
	for i, c := range columns {
		idx[i] = -1
		for j := 0; j < sc.NumColumns(); j++ {
			if sc.Column(j).Name() == c {
				idx[i] = j
				break
			}
		}
		if idx[i] < 0 {
			for j := 0; j < sc.NumColumns(); j++ {
				if strings.EqualFold(sc.Column(j).Name(), c) {
					idx[i] = j
					break
				}
			}
		}
	}
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		g := md.RowGroup(rg)
		for i, j := range idx {
			a := &acc[i]
			if j < 0 {
				a.nullsUnknown, a.rangeUnknown = true, true
				continue
			}
			a.seen = true
			cc, err := g.ColumnChunk(j)
			if err != nil {
				return err
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				a.nullsUnknown, a.rangeUnknown = true, true
				continue
			}
			if st.HasNullCount() {
				a.nulls += st.NullCount()
			} else {
				a.nullsUnknown = true
			}
			if !st.HasMinMax() {
				if st.NumValues() > 0 || !st.HasNullCount() || st.NullCount() < g.NumRows() {
					a.rangeUnknown = true
				}
				continue
			}
			lo, hi, ok := numericBounds(st)
			if ok {
				if !a.hasNum || lo < a.min {
					a.min = lo
				}
				if !a.hasNum || hi > a.max {
					a.max = hi
				}
				a.hasNum = true
				continue
			}
			if lt, ht, ok := textBounds(st); ok {
				if !a.hasText || lt < a.minText {
					a.minText = lt
				}
				if !a.hasText || ht > a.maxText {
					a.maxText = ht
				}
				a.hasText = true
				continue
			}
			a.rangeUnknown = true
		}
	}
	return nil
}

// numericBounds converts the min and max of a numeric or temporal column.
func numericBounds(st metadata.TypedStatistics) (lo, hi float64, ok bool) {
	lt := st.Descr().LogicalType()
	scale := 0
	var unit float64 = 1 // multiplier to microseconds for times
	switch t := lt.(type) {
	case *schema.DecimalLogicalType:
		scale = int(t.Scale())
	case *schema.TimestampLogicalType:
		unit = unitToMicros(t.TimeUnit())
	case *schema.TimeLogicalType:
		unit = unitToMicros(t.TimeUnit())
	case *schema.StringLogicalType, *schema.JSONLogicalType, *schema.EnumLogicalType, *schema.UUIDLogicalType:
		return 0, 0, false
	}
	div := math.Pow10(scale)
	switch s := st.(type) {
	case *metadata.Int32Statistics:
		return float64(s.Min()) / div * unit, float64(s.Max()) / div * unit, true
	case *metadata.Int64Statistics:
		return float64(s.Min()) / div * unit, float64(s.Max()) / div * unit, true
	case *metadata.Float32Statistics:
		return float64(s.Min()), float64(s.Max()), true
	case *metadata.Float64Statistics:
		return s.Min(), s.Max(), true
	case *metadata.FixedLenByteArrayStatistics:
		if _, isDec := lt.(*schema.DecimalLogicalType); isDec {
			return bigEndianFloat(s.Min()) / div, bigEndianFloat(s.Max()) / div, true
		}
	case *metadata.ByteArrayStatistics:
		if _, isDec := lt.(*schema.DecimalLogicalType); isDec {
			return bigEndianFloat(s.Min()) / div, bigEndianFloat(s.Max()) / div, true
		}
	}
	return 0, 0, false
}

// unitToMicros is the factor that turns a Parquet time unit into
// microseconds.
func unitToMicros(u schema.TimeUnitType) float64 {
	switch u {
	case schema.TimeUnitMillis:
		return 1000
	case schema.TimeUnitNanos:
		return 1e-3
	}
	return 1
}

// bigEndianFloat reads a big-endian two's complement integer.
func bigEndianFloat(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}

// textBounds returns the min and max of a text column.
func textBounds(st metadata.TypedStatistics) (string, string, bool) {
	s, ok := st.(*metadata.ByteArrayStatistics)
	if !ok {
		return "", "", false
	}
	switch st.Descr().LogicalType().(type) {
	case *schema.StringLogicalType, *schema.JSONLogicalType, *schema.EnumLogicalType:
	default:
		if st.Descr().ConvertedType() != schema.ConvertedTypes.UTF8 {
			return "", "", false
		}
	}
	return string(s.Min()), string(s.Max()), true
}

// ColumnRange says that the rows wanted have the named column within
// [Min, Max] (a bound applies when HasMin, HasMax), on the numeric scale
// of ColumnSummary.
type ColumnRange struct {
	Column         string
	Min, Max       float64
	HasMin, HasMax bool
}

// keepRowGroups returns the row groups of a file that may hold rows
// within every range (nil: all of them), judged by the row groups'
// min/max statistics. A row group without usable statistics is kept.
func keepRowGroups(pf *file.Reader, ranges []ColumnRange) []int {
	if len(ranges) == 0 {
		return nil
	}
	md := pf.MetaData()
	sc := md.Schema
	idx := make([]int, len(ranges))
	for i, r := range ranges {
		idx[i] = sc.ColumnIndexByName(r.Column)
		if idx[i] < 0 {
			for j := 0; j < sc.NumColumns(); j++ {
				if strings.EqualFold(sc.Column(j).Name(), r.Column) {
					idx[i] = j
					break
				}
			}
		}
	}
	keep := []int{}
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		g := md.RowGroup(rg)
		ok := true
		for i, r := range ranges {
			if idx[i] < 0 {
				continue
			}
			cc, err := g.ColumnChunk(idx[i])
			if err != nil {
				continue
			}
			st, err := cc.Statistics()
			if err != nil || st == nil || !st.HasMinMax() {
				continue
			}
			lo, hi, num := numericBounds(st)
			if !num {
				continue
			}
			// A margin for the rounding of DECIMAL scales to floats.
			if r.HasMin && hi < r.Min-math.Abs(r.Min)*1e-9 || r.HasMax && lo > r.Max+math.Abs(r.Max)*1e-9 {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, rg)
		}
	}
	return keep
}
