package session

import (
	"strings"
	"testing"
)

// TestCommonSubexpressions runs queries whose operators repeat an
// expression (computed once, by a projection the optimizer adds) and
// checks the answers, the plan, and that a guarded division stays
// guarded.
func TestCommonSubexpressions(t *testing.T) {
	s := openEngine(t).NewSession(Options{})
	mustExec(t, s, `CREATE TABLE li (price DECIMAL(15,2), disc DECIMAL(15,2), tax DECIMAL(15,2), flag CHAR(1));
INSERT INTO li VALUES (100.00, 0.10, 0.05, 'A'), (200.00, 0.00, 0.10, 'A'), (50.50, 0.05, 0.00, 'B');`)
	q := `SELECT flag, sum(price * (1 - disc)), sum(price * (1 - disc) * (1 + tax)) FROM li GROUP BY flag ORDER BY flag`
	equalLines(t, "Q1 shape", rows(t, s, q), []string{"A|290.0000|314.500000", "B|47.9750|47.975000"})
	plan := strings.Join(rows(t, s, "EXPLAIN "+q), "\n")
	if !strings.Contains(plan, "cse1:DECIMAL(32,4) := (price#0 * (1 - disc#1))") || !strings.Contains(plan, "sum((cse1#") {
		t.Errorf("the plan does not compute price * (1 - disc) once:\n%s", plan)
	}
	equalLines(t, "projection", rows(t, s, `SELECT price * (1 - disc) AS net, price * (1 - disc) * 2 AS twice FROM li ORDER BY net`),
		[]string{"47.9750|95.9500", "90.0000|180.0000", "200.0000|400.0000"})
	equalLines(t, "filter", rows(t, s, `SELECT flag FROM li WHERE (price * (1 - disc)) * (price * (1 - disc)) > 8100 ORDER BY flag`),
		[]string{"A"})
	equalLines(t, "guarded division", rows(t, s, `SELECT sum(CASE WHEN disc <> 0 THEN price / disc END), max(CASE WHEN disc <> 0 THEN price / disc END) FROM li`),
		[]string{"2010.000000000000000000|1010.000000000000000000"})
}

// TestCTESharedWithSubquery runs TPC-H Q15's shape: a CTE read in FROM and
// in a scalar subquery (whose plan is built on its own) is computed once:
// its source is read once.
func TestCTESharedWithSubquery(t *testing.T) {
	dir := t.TempDir()
	s := openEngine(t).NewSession(Options{Params: map[string]string{"dir": dir}})
	genCSV(t, dir+"/ids.csv", 6)
	mustExec(t, s, `CREATE SOURCE ids (id INT) WITH (connector = 'file', path = '${dir}/ids.csv', format = 'csv', header = 'true');`)
	q := `WITH rev AS (SELECT id % 3 AS g, sum(id) AS total FROM ids GROUP BY id % 3)
SELECT g, total FROM rev WHERE total = (SELECT max(total) FROM rev) ORDER BY g`
	run := mustExec(t, s, q)
	if len(run.Sources) != 1 || run.Sources[0].Scans != 1 {
		t.Errorf("sources %+v, want ids read once", run.Sources)
	}
	equalLines(t, "Q15 shape", rows(t, s, q), []string{"0|9"})
	// Two subqueries and the FROM: still one read.
	q2 := `WITH rev AS (SELECT id % 3 AS g, sum(id) AS total FROM ids GROUP BY id % 3)
SELECT g FROM rev WHERE total > (SELECT min(total) FROM rev) AND total < (SELECT max(total) FROM rev)`
	run = mustExec(t, s, q2)
	if run.Sources[0].Scans != 1 {
		t.Errorf("two subqueries: ids read %d times, want once", run.Sources[0].Scans)
	}
	equalLines(t, "two subqueries", rows(t, s, q2), []string{"2"})
	// A correlated subquery reading the CTE.
	q3 := `WITH rev AS (SELECT id % 3 AS g, sum(id) AS total FROM ids GROUP BY id % 3)
SELECT g FROM rev r WHERE total >= (SELECT max(total) FROM rev r2 WHERE r2.g <> r.g) ORDER BY g`
	equalLines(t, "correlated", rows(t, s, q3), []string{"0"})
}
