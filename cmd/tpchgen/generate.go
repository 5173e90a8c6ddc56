package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pingcap/go-tpc/tpch/dbgen"
)

// tblWriter is a dbgen.Loader that writes the rows of one table as
// '|'-delimited lines in dbgen's field order, without dbgen's trailing '|'.
type tblWriter struct {
	table dbgen.Table
	f     *os.File
	w     *bufio.Writer
	line  []byte
	rows  int64
}

// newTblWriter creates path and returns a loader for table writing into it.
func newTblWriter(table dbgen.Table, path string) (*tblWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &tblWriter{table: table, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// Load writes the row or rows that item stands for. dbgen hands a *Part to
// both the part and the partsupp loader, and an *Order to both the orders
// and the lineitem loader.
func (t *tblWriter) Load(item interface{}) error {
	switch t.table {
	case dbgen.TNation:
		n := item.(*dbgen.Nation)
		t.begin().int(int64(n.Code)).str(n.Text).int(int64(n.Join)).last(n.Comment)
	case dbgen.TRegion:
		r := item.(*dbgen.Region)
		t.begin().int(int64(r.Code)).str(r.Text).last(r.Comment)
	case dbgen.TSupp:
		s := item.(*dbgen.Supp)
		t.begin().int(int64(s.SuppKey)).str(s.Name).str(s.Address).int(int64(s.NationCode)).
			str(s.Phone).money(int64(s.Acctbal)).last(s.Comment)
	case dbgen.TCust:
		c := item.(*dbgen.Cust)
		t.begin().int(int64(c.CustKey)).str(c.Name).str(c.Address).int(int64(c.NationCode)).
			str(c.Phone).money(int64(c.Acctbal)).str(c.MktSegment).last(c.Comment)
	case dbgen.TPart:
		p := item.(*dbgen.Part)
		t.begin().int(int64(p.PartKey)).str(p.Name).str(p.Mfgr).str(p.Brand).str(p.Type).
			int(int64(p.Size)).str(p.Container).money(int64(p.RetailPrice)).last(p.Comment)
	case dbgen.TPsupp:
		p := item.(*dbgen.Part)
		for _, s := range p.S {
			t.begin().int(int64(s.PartKey)).int(int64(s.SuppKey)).int(int64(s.Qty)).
				money(int64(s.SCost)).last(s.Comment)
			if err := t.flushLine(); err != nil {
				return err
			}
		}
		return nil
	case dbgen.TOrder:
		o := item.(*dbgen.Order)
		t.begin().int(int64(o.OKey)).int(int64(o.CustKey)).char(o.Status).money(int64(o.TotalPrice)).
			str(o.Date).str(o.OrderPriority).str(o.Clerk).int(o.ShipPriority).last(o.Comment)
	case dbgen.TLine:
		o := item.(*dbgen.Order)
		for _, l := range o.Lines {
			t.begin().int(int64(l.OKey)).int(int64(l.PartKey)).int(int64(l.SuppKey)).int(int64(l.LCnt)).
				int(int64(l.Quantity)).money(int64(l.EPrice)).money(int64(l.Discount)).money(int64(l.Tax)).
				char(l.RFlag).char(l.LStatus).str(l.SDate).str(l.CDate).str(l.RDate).
				str(l.ShipInstruct).str(l.ShipMode).last(l.Comment)
			if err := t.flushLine(); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("tpchgen: no loader for dbgen table %d", t.table)
	}
	return t.flushLine()
}

// Flush writes buffered lines to the file. dbgen calls it after each table.
func (t *tblWriter) Flush() error { return t.w.Flush() }

// close flushes and closes the file.
func (t *tblWriter) close() error {
	if err := t.w.Flush(); err != nil {
		t.f.Close()
		return fmt.Errorf("write %s: %w", t.f.Name(), err)
	}
	if err := t.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", t.f.Name(), err)
	}
	return nil
}

func (t *tblWriter) begin() *tblWriter { t.line = t.line[:0]; return t }

func (t *tblWriter) int(v int64) *tblWriter {
	t.line = append(strconv.AppendInt(t.line, v, 10), '|')
	return t
}

func (t *tblWriter) str(s string) *tblWriter {
	t.line = append(append(t.line, s...), '|')
	return t
}

func (t *tblWriter) char(c byte) *tblWriter {
	t.line = append(t.line, c, '|')
	return t
}

// money appends cents as dbgen's FmtMoney prints them: [-]units.cc.
func (t *tblWriter) money(cents int64) *tblWriter {
	t.line = appendMoney(t.line, cents)
	t.line = append(t.line, '|')
	return t
}

// last appends the final field, which has no delimiter after it.
func (t *tblWriter) last(s string) *tblWriter {
	t.line = append(t.line, s...)
	return t
}

func (t *tblWriter) flushLine() error {
	t.line = append(t.line, '\n')
	t.rows++
	if _, err := t.w.Write(t.line); err != nil {
		return fmt.Errorf("write %s: %w", t.f.Name(), err)
	}
	return nil
}

// appendMoney appends an amount in cents formatted like dbgen.FmtMoney.
func appendMoney(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// dbgenTables maps each base dbgen table to the name of its .tbl file.
func dbgenTables() map[dbgen.Table]string {
	return map[dbgen.Table]string{
		dbgen.TNation: "nation", dbgen.TRegion: "region", dbgen.TCust: "customer",
		dbgen.TSupp: "supplier", dbgen.TPart: "part", dbgen.TPsupp: "partsupp",
		dbgen.TOrder: "orders", dbgen.TLine: "lineitem",
	}
}

// generateTbl writes the eight TPC-H tables at scale factor sf into dir as
// <table>.tbl and returns the row count of each table.
//
// go-tpc's dbgen keeps its generator state in package variables (seeds,
// distributions, text pool, table definitions) and InitDbGen appends to the
// distributions instead of resetting them, so a second generation in the same
// process draws from doubled distributions and produces different data.
// generateTbl must therefore run at most once per process, and never
// concurrently with anything else using dbgen; tpchgen calls it once from main.
func generateTbl(sf int64, dir string) (map[string]int64, error) {
	writers := map[dbgen.Table]*tblWriter{}
	loaders := map[dbgen.Table]dbgen.Loader{}
	closeAll := func() error {
		var first error
		for _, w := range writers {
			if err := w.close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	for table, name := range dbgenTables() {
		w, err := newTblWriter(table, filepath.Join(dir, name+".tbl"))
		if err != nil {
			closeAll()
			return nil, err
		}
		writers[table] = w
		loaders[table] = w
	}
	err := runDbgen(sf, loaders)
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	rows := map[string]int64{}
	for table, w := range writers {
		rows[dbgenTables()[table]] = w.rows
	}
	return rows, nil
}

// runDbgen runs go-tpc's generator in the table order of `go-tpc tpch
// prepare`, turning a panic inside it into an error.
func runDbgen(sf int64, loaders map[dbgen.Table]dbgen.Loader) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tpchgen: dbgen panicked: %v", r)
		}
	}()
	dbgen.InitDbGen(sf)
	if err := dbgen.DbGen(loaders, []dbgen.Table{dbgen.TNation, dbgen.TRegion, dbgen.TCust,
		dbgen.TSupp, dbgen.TPartPsupp, dbgen.TOrderLine}); err != nil {
		return fmt.Errorf("dbgen: %w", err)
	}
	return nil
}
