package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// largeScript returns a script of n statements: sources, a sink and a table,
// then views, VALIDATEs, INSERTs and MERGEs over them, the mix of a big job.
func largeScript(n int) string {
	var b strings.Builder
	b.WriteString(`DECLARE data_dir VARCHAR DEFAULT 'data';
CREATE SOURCE orders (order_id BIGINT NOT NULL, customer_id BIGINT, amount DECIMAL(12,2), ts TIMESTAMP)
  WITH (connector = 'file', path = '${data_dir}/orders/', format = 'json');
CREATE SOURCE customers (id BIGINT NOT NULL, name VARCHAR, state CHAR(2))
  WITH (connector = 'file', path = '${data_dir}/customers.csv', format = 'csv', header = 'true');
CREATE TABLE totals (customer_id BIGINT NOT NULL, state CHAR(2), revenue DECIMAL(38,2), orders BIGINT);
CREATE SINK export WITH (connector = 'file', path = 'out/export/', format = 'parquet', mode = 'overwrite');
`)
	stmts := 5
	for i := 0; stmts < n; i++ {
		var s string
		switch i % 4 {
		case 0:
			s = fmt.Sprintf(`CREATE TEMPORARY VIEW v%d AS
SELECT o.customer_id, c.state, SUM(o.amount) AS revenue, COUNT(*) AS orders
FROM orders AS o JOIN customers AS c ON c.id = o.customer_id
WHERE o.amount > %d AND c.state <> 'XX'
GROUP BY o.customer_id, c.state;`, i, i%100)
		case 1:
			s = fmt.Sprintf(`VALIDATE check_%d AS
SELECT COUNT(*) >= 0, CONCAT(COUNT(*), ' customers in v%d') FROM v%d;`, i, i-1, i-1)
		case 2:
			s = fmt.Sprintf(`INSERT INTO totals (customer_id, state, revenue, orders)
SELECT customer_id, state, revenue, orders FROM v%d WHERE revenue > %d.50;`, i-2, i)
		case 3:
			s = fmt.Sprintf(`MERGE INTO totals AS t USING v%d AS s ON t.customer_id = s.customer_id
WHEN MATCHED AND t.revenue <> s.revenue THEN UPDATE SET revenue = s.revenue, orders = s.orders
WHEN NOT MATCHED THEN INSERT (customer_id, state, revenue, orders) VALUES (s.customer_id, s.state, s.revenue, s.orders);`, i-3)
		}
		b.WriteString(s)
		b.WriteByte('\n')
		stmts++
	}
	return b.String()
}

// TestCompileLargeScript compiles a 1,000-statement script through the CLI
// and requires it to be clean; the time it took is logged.
func TestCompileLargeScript(t *testing.T) {
	text := largeScript(1000)
	if got := strings.Count(text, ";\n"); got != 1000 {
		t.Fatalf("generated %d statements, want 1000", got)
	}
	path := filepath.Join(t.TempDir(), "large.sql")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, stdout, stderr := runETLC(t, []string{"compile", path}, "", nil, false)
	elapsed := time.Since(start)
	if code != exitOK || stdout != "" || stderr != "0 errors, 0 warnings\n" {
		t.Fatalf("etlc compile of 1,000 statements: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("compiled 1,000 statements (%d bytes) in %v", len(text), elapsed)

}
