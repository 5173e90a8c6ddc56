package session

import (
	"context"
	"strings"
	"testing"

	"github.com/etlc/etlc/parser"
)

// paramRows runs one query with parameters and returns its rows as
// "a|b" lines.
func paramRows(t *testing.T, s *Session, query string, params ...any) []string {
	t.Helper()
	run, err := s.Exec(context.Background(), parser.NewSource("q.sql", query), ExecOptions{Params: params})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer run.Release()
	var out []string
	for _, rec := range run.Statements[len(run.Statements)-1].Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for _, col := range rec.Columns() {
				v, ok := FormatValue(col, i)
				if !ok {
					v = "NULL"
				}
				cells = append(cells, v)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

// A statement run again with the same text uses the program compiled the
// first time, and still sees every write and every change of the catalog.
func TestPlanCacheSeesWritesAndDDL(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	defer s.Close()
	mustExec(t, s, `CREATE TABLE t (id BIGINT, s VARCHAR);
		INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');`)
	q := `SELECT s FROM t WHERE id = $1`
	equalLines(t, "id 2", paramRows(t, s, q, int64(2)), []string{"two"})
	equalLines(t, "id 3", paramRows(t, s, q, int64(3)), []string{"three"})
	if st := s.PlanCacheStats(); st.Hits != 1 {
		t.Fatalf("plan cache after running a query twice: %+v, want 1 hit", st)
	}
	// A write is seen (by this session and by another one).
	mustExec(t, s, `INSERT INTO t VALUES (4, 'four')`)
	equalLines(t, "id 4 after INSERT", paramRows(t, s, q, int64(4)), []string{"four"})
	other := e.NewSession(Options{})
	defer other.Close()
	equalLines(t, "other session", paramRows(t, other, q, int64(4)), []string{"four"})
	mustExec(t, other, `INSERT INTO t VALUES (5, 'five')`)
	equalLines(t, "id 5 written by the other session", paramRows(t, s, q, int64(5)), []string{"five"})
	hits := s.PlanCacheStats().Hits
	if hits < 3 {
		t.Fatalf("plan cache hits %d, want at least 3", hits)
	}
	// DDL of another session that changes the column invalidates.
	all := `SELECT * FROM t ORDER BY 1`
	equalLines(t, "before DDL", paramRows(t, s, all), []string{"1|one", "2|two", "3|three", "4|four", "5|five"})
	mustExec(t, other, `CREATE OR REPLACE TABLE t (id BIGINT, s BIGINT); INSERT INTO t VALUES (7, 70)`)
	equalLines(t, "after DDL", paramRows(t, s, all), []string{"7|70"})
	equalLines(t, "parameterized after DDL", paramRows(t, s, `SELECT s + 1 FROM t WHERE id = $1`, int64(7)), []string{"71"})
	// A SET invalidates too: the session's generation moved.
	before := s.PlanCacheStats()
	mustExec(t, s, `SET timezone = 'UTC'`)
	paramRows(t, s, all)
	if after := s.PlanCacheStats(); after.Hits != before.Hits || after.Misses != before.Misses+2 {
		t.Fatalf("after SET: %+v, before %+v: want two more misses (the SET, the query), no hit", after, before)
	}
}

// Running a cached program again gives exactly the rows a fresh compile
// gives: executing a program must not change it.
func TestPlanCacheReuseIsStable(t *testing.T) {
	e := openEngine(t)
	cached := e.NewSession(Options{})
	defer cached.Close()
	mustExec(t, cached, `CREATE TABLE a (id BIGINT, g VARCHAR, v DOUBLE PRECISION);
		INSERT INTO a VALUES (1, 'x', 1.5), (2, 'y', 2.5), (3, 'x', 3.5), (4, NULL, 4.5);
		CREATE TABLE b (id BIGINT, name VARCHAR);
		INSERT INTO b VALUES (1, 'b1'), (3, 'b3'), (5, 'b5');
		CREATE VIEW va AS SELECT id, v * 2 AS w FROM a WHERE id > 1;`)
	queries := []string{
		`SELECT g, count(*), sum(v) FROM a GROUP BY g ORDER BY g NULLS FIRST`,
		`SELECT a.id, b.name FROM a JOIN b ON a.id = b.id ORDER BY a.id`,
		`SELECT a.id, b.name FROM a LEFT JOIN b ON a.id = b.id WHERE a.id >= $1 ORDER BY a.id`,
		`SELECT id FROM a WHERE id IN (SELECT id FROM b) ORDER BY id`,
		`SELECT id, (SELECT max(b.id) FROM b WHERE b.id <= a.id) FROM a ORDER BY id`,
		`SELECT id, row_number() OVER (PARTITION BY g ORDER BY v DESC) FROM a ORDER BY id`,
		`SELECT * FROM va ORDER BY id LIMIT 2`,
		`SELECT DISTINCT g FROM a WHERE g IS NOT NULL ORDER BY g`,
		`WITH c AS (SELECT id * 10 AS k FROM b) SELECT k FROM c WHERE k > $1 ORDER BY k`,
		`SELECT id FROM a UNION ALL SELECT id FROM b ORDER BY 1`,
	}
	for _, q := range queries {
		var params []any
		if strings.Contains(q, "$1") {
			params = []any{int64(2)}
		}
		fresh := e.NewSession(Options{})
		want := paramRows(t, fresh, q, params...)
		fresh.Close()
		for i := 0; i < 3; i++ {
			equalLines(t, q, paramRows(t, cached, q, params...), want)
		}
	}
	if st := cached.PlanCacheStats(); st.Hits != int64(2*len(queries)) {
		t.Errorf("plan cache: %+v, want %d hits", st, 2*len(queries))
	}
}

// Parquet footers and the listings of committed directories are read
// once while the files stay the same, and read again after a write.
func TestMetaCache(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	defer s.Close()
	mustExec(t, s, `CREATE TABLE m (id BIGINT); INSERT INTO m VALUES (1), (2)`)
	q := `SELECT count(*) FROM m`
	equalLines(t, "first", paramRows(t, s, q), []string{"2"})
	st0 := e.Connector().MetaCacheStats()
	equalLines(t, "second", paramRows(t, s, q), []string{"2"})
	st1 := e.Connector().MetaCacheStats()
	if st1.ListingHits != st0.ListingHits+1 || st1.FooterHits != st0.FooterHits+1 || st1.FooterMisses != st0.FooterMisses {
		t.Fatalf("second read: %+v, first %+v: want one listing hit and one footer hit", st1, st0)
	}
	mustExec(t, s, `INSERT INTO m VALUES (3)`)
	equalLines(t, "after INSERT", paramRows(t, s, q), []string{"3"})
	mustExec(t, s, `INSERT OVERWRITE m VALUES (9)`)
	equalLines(t, "after INSERT OVERWRITE", paramRows(t, s, `SELECT id FROM m`), []string{"9"})
	mustExec(t, s, `INSERT OVERWRITE m VALUES (8)`)
	equalLines(t, "after a second INSERT OVERWRITE", paramRows(t, s, `SELECT id FROM m`), []string{"8"})
}

// Describe (a Parse) and Exec (its Execute) of the same text with the
// same declared parameter types share one compiled program; other
// declared types are another entry.
func TestPlanCacheDescribeThenExec(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	defer s.Close()
	mustExec(t, s, `CREATE TABLE t (id BIGINT, s VARCHAR); INSERT INTO t VALUES (1, 'one')`)
	q := `SELECT s FROM t WHERE id = $1`
	before := s.PlanCacheStats()
	if _, diags := s.DescribeTyped(context.Background(), parser.NewSource("q", q), []uint32{20}); diags.HasErrors() {
		t.Fatal(diags)
	}
	run, err := s.Exec(context.Background(), parser.NewSource("q", q), ExecOptions{Params: []any{int64(1)}, ParamTypes: []uint32{20}})
	if err != nil {
		t.Fatal(err)
	}
	run.Release()
	after := s.PlanCacheStats()
	if after.Hits != before.Hits+1 || after.Misses != before.Misses+1 {
		t.Fatalf("Describe then Exec: %+v, before %+v: want one miss, then one hit", after, before)
	}
	if _, diags := s.DescribeTyped(context.Background(), parser.NewSource("q", q), []uint32{0}); diags.HasErrors() {
		t.Fatal(diags)
	}
	if st := s.PlanCacheStats(); st.Misses != after.Misses+1 {
		t.Fatalf("other declared types: %+v, want a miss", st)
	}
}
