package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

// results are the timings of one run of the benchmark.
type results struct {
	sf, threads int
	queries     []int
	etlc, duck  map[int]timing
	pg          map[int]timing
}

// ratio is etlc's time over other's for query q, when both completed.
func ratio(e, other timing) (float64, bool) {
	if !e.ok() || !other.ok() {
		return 0, false
	}
	return e.Best.Seconds() / other.Best.Seconds(), true
}

// geomean is the geometric mean of xs (0 when empty).
func geomean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += math.Log(x)
	}
	return math.Exp(s / float64(len(xs)))
}

// cell renders a time, "timeout", "error" or "-" (not run).
func cell(t timing, ran bool) string {
	switch {
	case !ran:
		return "-"
	case t.Timeout:
		return "timeout"
	case t.Err != "":
		return "error"
	}
	return strconv.FormatFloat(t.Best.Seconds(), 'f', 3, 64)
}

func ratioCell(r float64, ok bool) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

// row is one line of the table and the CSV.
type row struct {
	query                string
	etlc, duck, pg       string
	vsDuck, vsPG, rss    string
	rDuck, rPG           float64
	okDuck, okPG, okEtlc bool
}

// rows computes the table's lines; the last is the geometric means.
func (r *results) rows() []row {
	var out []row
	var dr, pr, et, dt, pt []float64
	for _, q := range r.queries {
		e, eran := r.etlc[q]
		d, dran := r.duck[q]
		p, pran := r.pg[q]
		x := row{query: fmt.Sprintf("q%02d", q), etlc: cell(e, eran), duck: cell(d, dran), pg: cell(p, pran), rss: "-"}
		x.rDuck, x.okDuck = ratio(e, d)
		x.rPG, x.okPG = ratio(e, p)
		x.okEtlc = e.ok()
		x.vsDuck, x.vsPG = ratioCell(x.rDuck, x.okDuck), ratioCell(x.rPG, x.okPG)
		if e.RSS > 0 {
			x.rss = strconv.FormatInt(e.RSS>>20, 10)
		}
		if x.okDuck {
			dr = append(dr, x.rDuck)
		}
		if x.okPG {
			pr = append(pr, x.rPG)
		}
		if e.ok() {
			et = append(et, e.Best.Seconds())
		}
		if d.ok() {
			dt = append(dt, d.Best.Seconds())
		}
		if p.ok() {
			pt = append(pt, p.Best.Seconds())
		}
		out = append(out, x)
	}
	g := func(xs []float64, prec int) string {
		if len(xs) == 0 {
			return "-"
		}
		return strconv.FormatFloat(geomean(xs), 'f', prec, 64)
	}
	out = append(out, row{query: "geomean", etlc: g(et, 3), duck: g(dt, 3), pg: g(pt, 3),
		vsDuck: g(dr, 2), vsPG: g(pr, 2), rss: "-"})
	return out
}

// table prints the results as aligned text.
func (r *results) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "query\tetlc s\tduckdb s\tpostgres s\tetlc/duckdb\tetlc/postgres\tetlc peak RSS MiB\t\n")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", x.query, x.etlc, x.duck, x.pg, x.vsDuck, x.vsPG, x.rss)
	}
	tw.Flush()
	fmt.Fprintf(w, "(times in seconds, best of the timed runs; geomean of the ratios over the queries both engines completed)\n")
}

// csv writes the results as CSV with a header line.
func (r *results) csv(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"query", "etlc_s", "duckdb_s", "postgres_s", "etlc_over_duckdb", "etlc_over_postgres", "etlc_peak_rss_mib", "threads", "sf"})
	for _, x := range r.rows() {
		cw.Write([]string{x.query, x.etlc, x.duck, x.pg, x.vsDuck, x.vsPG, x.rss, strconv.Itoa(r.threads), strconv.Itoa(r.sf)})
	}
	cw.Flush()
	return cw.Error()
}
