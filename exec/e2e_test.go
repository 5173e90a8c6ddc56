package exec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// The end-to-end tests run SQL through the parser and the planner's
// binder, build the plan and read CSV files through the file connector.

const e2eSchema = `
CREATE SOURCE orders (id BIGINT, customer INT, amount DECIMAL(12,2), ts TIMESTAMP, status VARCHAR)
  WITH (connector = 'file', path = '${dir}/orders.csv', format = 'csv', header = 'true', on_error = 'quarantine');
CREATE SOURCE customers (id INT, name VARCHAR, state CHAR(2))
  WITH (connector = 'file', path = '${dir}/customers.csv', format = 'csv', header = 'true');
`

var e2eFiles = map[string]string{
	"orders.csv": `id,customer,amount,ts,status
1,10,12.50,2024-01-01 10:00:00,paid
2,10,7.25,2024-01-01 10:00:30,paid
3,20,100.00,2024-01-01 10:01:10,open
4,30,,2024-01-01 10:02:00,paid
5,20,0.10,2024-01-01 10:03:00,
6,99,5.00,2024-01-01 10:03:30,paid
7,10,oops,2024-01-01 10:04:00,paid
8,,3.30,2024-01-01 10:05:00,open
`,
	"customers.csv": `id,name,state
10,Ann,CA
20,Bob,NY
30,Cid,CA
40,Dee,
`,
}

type e2e struct {
	t          *testing.T
	dir        string
	quarantine []string
}

func newE2E(t *testing.T) *e2e {
	dir := t.TempDir()
	for name, text := range e2eFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &e2e{t: t, dir: dir}
}

// query compiles the schema and sql, and runs the last statement.
func (e *e2e) query(sql string) []string {
	e.t.Helper()
	ctx := context.Background()
	src := parser.NewSource("e2e.sql", e2eSchema+sql)
	prog, diags := planner.CompileScript(ctx, src, nil, planner.CompileOptions{Params: map[string]string{"dir": e.dir}})
	if diags.HasErrors() {
		e.t.Fatalf("compile %q: %v", sql, diags)
	}
	st, ok := prog.Statements[len(prog.Statements)-1].(*planner.QueryStmt)
	if !ok {
		e.t.Fatalf("not a query: %T", prog.Statements[len(prog.Statements)-1])
	}
	mem := NewMemory(0)
	scans := &FileScans{Conn: connector.NewFileConnector(connector.Config{Allocator: mem.Alloc}),
		Quarantine: func(_ context.Context, obj *catalog.Object, rec arrow.Record) error {
			defer rec.Release()
			for _, r := range rowsOf(rec) {
				e.quarantine = append(e.quarantine, obj.Name+": "+r[strings.Index(r, "|"):])
			}
			return nil
		}}
	op, err := Build(ctx, st.Plan, &BuildEnv{Mem: mem, Scans: scans})
	if err != nil {
		e.t.Fatalf("build %q: %v", sql, err)
	}
	recs, err := Collect(ctx, op)
	if err != nil {
		e.t.Fatalf("run %q: %v", sql, err)
	}
	defer ReleaseRecords(recs)
	if mem.Used() != 0 {
		e.t.Fatalf("%d bytes still accounted after the run", mem.Used())
	}
	return rowsOf(recs...)
}

func TestE2EAggregate(t *testing.T) {
	e := newE2E(t)
	got := e.query(`SELECT customer, count(*) AS n, sum(amount) AS total, avg(amount), max(status)
		FROM orders GROUP BY customer HAVING count(*) > 1 OR customer IS NULL ORDER BY customer NULLS FIRST;`)
	equalRows(t, got, []string{
		"NULL|1|330d|3300000d|open",
		"10|2|1975d|9875000d|paid",
		"20|2|10010d|50050000d|open",
	})
	// The bad amount of order 7 went to the quarantine, with its line.
	if len(e.quarantine) != 1 || !strings.Contains(e.quarantine[0], "|8|amount|") {
		t.Fatalf("quarantine %q", e.quarantine)
	}
	got = e.query(`SELECT count(*), count(DISTINCT customer), sum(amount), min(ts) FROM orders WHERE amount > 1000;`)
	equalRows(t, got, []string{"0|0|NULL|NULL"})
	got = e.query(`SELECT status, group_concat(id ORDER BY id DESC SEPARATOR '-') FROM orders GROUP BY status ORDER BY status;`)
	equalRows(t, got, []string{"open|8-3", "paid|6-4-2-1", "NULL|5"})
}

func TestE2EJoinsAndSubqueries(t *testing.T) {
	e := newE2E(t)
	got := e.query(`SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON c.id = o.customer AND c.state = 'CA' ORDER BY o.id;`)
	equalRows(t, got, []string{"1|Ann", "2|Ann", "3|NULL", "4|Cid", "5|NULL", "6|NULL", "8|NULL"})
	got = e.query(`SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.name ORDER BY 2 DESC;`)
	// DESC puts NULLs first, as in PostgreSQL.
	equalRows(t, got, []string{"Cid|NULL", "Bob|10010d", "Ann|1975d"})
	// Customers without orders; orders of unknown customers.
	got = e.query(`SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id) ORDER BY name;`)
	equalRows(t, got, []string{"Dee"})
	got = e.query(`SELECT id FROM orders WHERE customer NOT IN (SELECT id FROM customers) ORDER BY id;`)
	equalRows(t, got, []string{"6"})
	got = e.query(`SELECT id, amount - (SELECT min(amount) FROM orders) FROM orders WHERE amount > (SELECT avg(amount) FROM orders) ORDER BY id;`)
	equalRows(t, got, []string{"3|9990d"})
	got = e.query(`SELECT o.id FROM orders o WHERE o.amount = (SELECT max(o2.amount) FROM orders o2 WHERE o2.customer = o.customer) ORDER BY o.id;`)
	// Order 8's customer is NULL: its subquery is empty, max is NULL.
	equalRows(t, got, []string{"1", "3", "6"})
}

func TestE2EWindowsCTEsSetOps(t *testing.T) {
	e := newE2E(t)
	got := e.query(`SELECT id, customer,
		row_number() OVER (PARTITION BY customer ORDER BY ts) AS rn,
		sum(amount) OVER (PARTITION BY customer ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
		lag(id) OVER (ORDER BY id) AS prev,
		rank() OVER (ORDER BY status) AS r
		FROM orders ORDER BY id;`)
	equalRows(t, got, []string{
		"1|10|1|1250d|NULL|3",
		"2|10|2|1975d|1|3",
		"3|20|1|10000d|2|1",
		"4|30|1|NULL|3|3",
		"5|20|2|10010d|4|7",
		"6|99|1|500d|5|3",
		"8|NULL|1|330d|6|1",
	})
	got = e.query(`WITH paid AS (SELECT id, customer, amount FROM orders WHERE status = 'paid')
		SELECT a.id, b.id FROM paid a JOIN paid b ON a.customer = b.customer AND a.id < b.id ORDER BY 1, 2;`)
	equalRows(t, got, []string{"1|2"})
	got = e.query(`SELECT customer FROM orders UNION SELECT id FROM customers ORDER BY 1;`)
	equalRows(t, got, []string{"10", "20", "30", "40", "99", "NULL"})
	got = e.query(`SELECT customer FROM orders INTERSECT SELECT id FROM customers ORDER BY 1;`)
	equalRows(t, got, []string{"10", "20", "30"})
	got = e.query(`SELECT customer FROM orders EXCEPT ALL SELECT id FROM customers ORDER BY 1;`)
	equalRows(t, got, []string{"10", "20", "99", "NULL"})
	got = e.query(`SELECT DISTINCT state FROM customers ORDER BY state DESC;`)
	equalRows(t, got, []string{"NULL", "NY", "CA"})
	got = e.query(`SELECT id FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 2 OFFSET 1;`)
	equalRows(t, got, []string{"1", "2"})
}

func TestE2EGroupWindows(t *testing.T) {
	e := newE2E(t)
	got := e.query(`SELECT window_start, window_end, customer, count(*) AS n, sum(amount) AS revenue
		FROM orders GROUP BY TUMBLE(ts, INTERVAL '1 minute'), customer ORDER BY window_start, customer;`)
	equalRows(t, got, []string{
		"1704103200000000|1704103260000000|10|2|1975d",
		"1704103260000000|1704103320000000|20|1|10000d",
		"1704103320000000|1704103380000000|30|1|NULL",
		"1704103380000000|1704103440000000|20|1|10d",
		"1704103380000000|1704103440000000|99|1|500d",
		"1704103500000000|1704103560000000|NULL|1|330d",
	})
	got = e.query(`SELECT window_start, count(*) FROM orders GROUP BY HOP(ts, INTERVAL '1 minute', INTERVAL '2 minutes') ORDER BY 1;`)
	equalRows(t, got, []string{
		"1704103140000000|2",
		"1704103200000000|3",
		"1704103260000000|2",
		"1704103320000000|3",
		"1704103380000000|2",
		"1704103440000000|1",
		"1704103500000000|1",
	})
}
