package session

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec"
	"github.com/etlc/etlc/parser"
)

const badCSV = "id,d\n1,2024-01-01\nx,2024-01-02\n3,2024-13-01\n4,2024-01-04\n"

// TestQuarantine checks on_error = 'quarantine': the bad rows are in
// <source>__errors whatever columns a query reads, also in a new engine
// that has not read the source yet, and in errors_path after the run.
func TestQuarantine(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeFile(t, filepath.Join(dir, "in/q.csv"), badCSV)
	e, err := Open(context.Background(), data, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	run := mustExec(t, s, `
CREATE SOURCE q (id INT, d DATE) WITH (connector = 'file', path = '${dir}/in/', format = 'csv', header = 'true',
  on_error = 'quarantine', errors_path = '${dir}/errors/');
SELECT COUNT(*) FROM q;
SELECT COUNT(id), SUM(id) FROM q;
SELECT line, column_name, reason, raw FROM q__errors ORDER BY line;`)
	wantErrors := []string{`3|id|invalid INT "x"|x,2024-01-02`, `4|d|invalid DATE "2024-13-01"|3,2024-13-01`}
	got := func(i int) []string {
		var out []string
		for _, rec := range run.Statements[i].Records {
			for r := 0; r < int(rec.NumRows()); r++ {
				var cells []string
				for _, c := range rec.Columns() {
					v, _ := FormatValue(c, r)
					cells = append(cells, v)
				}
				out = append(out, strings.Join(cells, "|"))
			}
		}
		return out
	}
	equalLines(t, "COUNT(*)", got(1), []string{"2"})
	equalLines(t, "COUNT(id)", got(2), []string{"2|5"})
	equalLines(t, "q__errors", got(3), wantErrors)
	if src := run.Sources[0]; src.Rows != 2 || src.BadRows != 2 || src.Scans != 2 {
		t.Errorf("summary %+v, want 2 rows, 2 bad rows, 2 scans (q__errors does not read q again)", src)
	}
	// errors_path holds the bad rows as JSON lines.
	equalLines(t, "errors_path", rows(t, s, `CREATE SOURCE errs (source_file VARCHAR, line BIGINT, column_name VARCHAR, reason VARCHAR, raw VARCHAR)
		WITH (connector = 'file', path = '`+dir+`/errors/', format = 'json');
		SELECT line, column_name, reason, raw FROM errs ORDER BY line`), wantErrors)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// A new engine reads the source when __errors is asked for first.
	e2, err := Open(context.Background(), data, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	s2 := e2.NewSession(Options{})
	equalLines(t, "q__errors in a new engine", rows(t, s2, "SELECT line, column_name, reason, raw FROM q__errors ORDER BY line"), wantErrors)

	// Replacing the source forgets its bad rows; the new file has none.
	writeFile(t, filepath.Join(dir, "good/q.csv"), "id,d\n7,2024-01-07\n")
	equalLines(t, "q__errors after CREATE OR REPLACE", rows(t, s2, `CREATE OR REPLACE SOURCE q (id INT, d DATE) WITH (connector = 'file',
		path = '`+dir+`/good/', format = 'csv', header = 'true', on_error = 'quarantine');
		SELECT COUNT(*) FROM q__errors`), []string{"0"})
	// Dropping it drops the relation.
	mustExec(t, s2, "DROP SOURCE q")
	if _, ok := e2.Catalog().Lookup("q__errors"); ok {
		t.Error("q__errors is still in the catalog after DROP SOURCE q")
	}
}

// TestOnErrorDropAndFail checks the other policies: drop counts the bad
// rows (and has no __errors relation), fail stops at the first with its
// file and line.
func TestOnErrorDropAndFail(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "q.csv"), badCSV)
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	run := mustExec(t, s, `
CREATE SOURCE dropped (id INT, d DATE) WITH (connector = 'file', path = '${dir}/q.csv', format = 'csv', header = 'true', on_error = 'drop');
SELECT COUNT(*) FROM dropped;`)
	if src := run.Sources[0]; src.Rows != 2 || src.BadRows != 2 || src.OnError != "drop" || src.ErrorsRelation != "" {
		t.Errorf("drop summary %+v", src)
	}
	_, err := s.Exec(context.Background(), parser.NewSource("x.sql", "SELECT * FROM dropped__errors;"), ExecOptions{})
	if ds, ok := err.(parser.Diagnostics); !ok || !strings.Contains(ds.Error(), `relation "dropped__errors" does not exist`) {
		t.Errorf("dropped__errors: %v", err)
	}
	_, err = execScript(t, s, "fail.sql", `CREATE SOURCE strict (id INT, d DATE) WITH (connector = 'file', path = '${dir}/q.csv', format = 'csv', header = 'true');
SELECT COUNT(*) FROM strict;`)
	se := stmtErr(t, err)
	want := `fail.sql:2:1: SELECT failed: reading source "strict": ` + filepath.Join(dir, "q.csv") + `:3: column "id": invalid INT "x"`
	if se.Error() != want || se.Code != "22000" {
		t.Errorf("on_error = 'fail': %q (code %s), want %q", se.Error(), se.Code, want)
	}
}

// TestScanProjection opens scans with a subset of the columns, as a plan
// with pushed-down projections would: a fail source reads only those
// columns; a quarantining one reads all (so every read finds the same bad
// rows) and returns those asked for.
func TestScanProjection(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "q.csv"), "id,d,name\n1,2024-01-01,a\n2,bad,b\n3,2024-01-03,c\n")
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SOURCE strict (id INT, d DATE, name VARCHAR) WITH (connector = 'file', path = '${dir}/q.csv', format = 'csv', header = 'true');
CREATE SOURCE careful (id INT, d DATE, name VARCHAR) WITH (connector = 'file', path = '${dir}/q.csv', format = 'csv', header = 'true', on_error = 'quarantine');`)
	rs := &runState{run: &Run{}, src: parser.NewSource("x", ""), sources: map[string]*SourceSummary{},
		targets: map[string]*TargetSummary{}, quarantined: map[string]*catalog.Object{}}
	r := &stmtRun{s: s, rs: rs, mem: exec.NewMemory(0)}
	read := func(name string, cols []int) []string {
		obj, _ := e.Catalog().Lookup(name)
		op, err := (&scanFactory{r: r}).OpenScan(context.Background(), &obj, cols)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := exec.Collect(context.Background(), op)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var out []string
		for _, rec := range recs {
			var names []string
			for _, f := range rec.Schema().Fields() {
				names = append(names, f.Name)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				var cells []string
				for _, c := range rec.Columns() {
					v, _ := FormatValue(c, i)
					cells = append(cells, v)
				}
				out = append(out, strings.Join(names, ",")+"="+strings.Join(cells, "|"))
			}
			rec.Release()
		}
		return out
	}
	// Without the bad column, the strict source reads every row.
	equalLines(t, "strict (name, id)", read("strict", []int{2, 0}), []string{"name,id=a|1", "name,id=b|2", "name,id=c|3"})
	equalLines(t, "careful (name, id)", read("careful", []int{2, 0}), []string{"name,id=a|1", "name,id=c|3"})
	equalLines(t, "careful ()", read("careful", []int{}), []string{"=", "="})
}
