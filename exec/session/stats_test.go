package session

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAnalyze gathers statistics of a CSV source and of a managed table
// (Parquet: row count, NULLs and ranges from the footers), shows them in
// etl.stats, keeps the table's current on writes, and feeds them to
// EXPLAIN's estimates.
func TestAnalyze(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.csv"), "id,name,d\n1,ann,2024-01-01\n2,bob,2024-03-01\n3,,2024-02-01\n3,cy,\n")
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	run := mustExec(t, s, `
CREATE SOURCE people (id INT, name VARCHAR, d DATE) WITH (connector = 'file', path = '${dir}/in.csv', format = 'csv', header = 'true');
ANALYZE people;`)
	if tag := run.Statements[1].Tag; tag != "ANALYZE" {
		t.Errorf("tag %q", tag)
	}
	const q = "SELECT relation, column_name, row_count, null_count, distinct_count, min_value, max_value, avg_width FROM etl.stats"
	equalLines(t, "etl.stats of a CSV source", rows(t, s, q), []string{
		"people|NULL|4|NULL|NULL|NULL|NULL|NULL",
		"people|id|4|0|3|1|3|8",
		"people|name|4|1|3|ann|cy|2.67",
		"people|d|4|1|3|2024-01-01|2024-03-01|8",
	})

	mustExec(t, s, `CREATE TABLE t (k BIGINT, v VARCHAR);
INSERT INTO t SELECT id, name FROM people;
ANALYZE t;`)
	equalLines(t, "etl.stats of a table", rows(t, s, q+" WHERE relation = 't'"), []string{
		"t|NULL|4|NULL|NULL|NULL|NULL|NULL",
		"t|k|4|0|3|1|3|8",
		"t|v|4|1|3|ann|cy|2.67",
	})
	// An append adds its rows and forgets the ranges and NULL counts.
	mustExec(t, s, "INSERT INTO t VALUES (10, 'zed'), (11, 'ann');")
	equalLines(t, "etl.stats after an append", rows(t, s, q+" WHERE relation = 't'"), []string{
		"t|NULL|6|NULL|NULL|NULL|NULL|NULL",
		"t|k|6|NULL|3|NULL|NULL|8",
		"t|v|6|NULL|3|NULL|NULL|2.67",
	})
	// The estimates use them: 6 rows, k = 10 keeps 6/3.
	plan := rows(t, s, "EXPLAIN SELECT v FROM t WHERE k = 10")
	equalLines(t, "EXPLAIN", plan, []string{
		"Project v:VARCHAR := v#1  (rows=2 cost=15)",
		"  Filter (k#0 = 10)  (rows=2 cost=13)",
		"    Scan t (k:BIGINT, v:VARCHAR)  (rows=6 cost=7)",
	})
	// DROP forgets them.
	mustExec(t, s, "DROP TABLE t;")
	if got := rows(t, s, "SELECT count(*) FROM etl.stats WHERE relation = 't'"); strings.Join(got, "") != "0" {
		t.Errorf("statistics of a dropped table: %v", got)
	}
	_, err := execScript(t, s, "x.sql", "CREATE VIEW vw AS SELECT 1 AS one; ANALYZE vw;")
	if se := stmtErr(t, err); se.Code != "42809" {
		t.Errorf("ANALYZE of a view: %v (%s)", se, se.Code)
	}
}

// TestExplainAnalyze runs a query under EXPLAIN ANALYZE: every operator
// shows its estimate and what it did.
func TestExplainAnalyze(t *testing.T) {
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, `CREATE TABLE a (id INT, g INT);
INSERT INTO a VALUES (1, 1), (2, 1), (3, 2), (4, 2), (5, 3);
CREATE TABLE b (g INT, name VARCHAR);
INSERT INTO b VALUES (1, 'one'), (2, 'two');`)
	got := rows(t, s, "EXPLAIN ANALYZE SELECT name, count(*) FROM a JOIN b ON a.g = b.g GROUP BY name ORDER BY name")
	// Times and memory vary from run to run.
	re := regexp.MustCompile(`time=[0-9.]+ms peak=[0-9.]+[KMG]?i?B|Execution time: [0-9.]+ms, peak memory [0-9.]+[KMG]?i?B`)
	for i := range got {
		got[i] = re.ReplaceAllString(got[i], "T")
	}
	equalLines(t, "EXPLAIN ANALYZE", got, []string{
		"Sort name#0 NULLS LAST  (rows=2 cost=35.6) (actual rows=2 batches=1 T)",
		"  Project name:VARCHAR := name#0, count:BIGINT := count#1  (rows=2 cost=31.6) (actual rows=2 batches=1 T)",
		"    Aggregate group=[name#2] aggs=[count(*):BIGINT]  (rows=2 cost=29.6) (actual rows=2 batches=1 T)",
		"      Join INNER (g#0 = g#1)  (rows=3.33 cost=22.3) (actual rows=4 batches=1 T)",
		"        Scan a (g:INT)  (rows=5 cost=5.31) (actual rows=5 batches=1 T)",
		"          columns [1] of 2",
		"        Scan b (g:INT, name:VARCHAR)  (rows=2 cost=2.88) (actual rows=2 batches=1 T)",
		"T",
	})
}

// TestRowGroupPruning reads a Parquet source of two files with a filter
// that rules one out by its statistics: the scan reads only the other
// one's rows, and the answers are those of a full read.
func TestRowGroupPruning(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SINK ps (id BIGINT, d DATE, amount DECIMAL(10,2)) WITH (connector = 'file', path = '${dir}/p/', format = 'parquet');
INSERT INTO ps VALUES (1, DATE '2024-01-01', 1.50), (2, DATE '2024-01-02', 2.50);
INSERT INTO ps VALUES (10, DATE '2024-02-01', 10.25), (11, DATE '2024-02-02', 11.75);
CREATE SOURCE p (id BIGINT, d DATE, amount DECIMAL(10,2)) WITH (connector = 'file', path = '${dir}/p/', format = 'parquet');`)
	for _, tc := range []struct {
		where string
		want  []string
		read  string
	}{
		{"id >= 10", []string{"10", "11"}, "actual rows=2 "},
		{"d < DATE '2024-01-02'", []string{"1"}, "actual rows=2 "},
		{"amount BETWEEN 2.5 AND 10.25", []string{"2", "10"}, "actual rows=4 "},
		{"CAST(amount AS INT) >= 11", []string{"11"}, "actual rows=4 "},
		{"id = 5", nil, "actual rows=0 "},
	} {
		equalLines(t, tc.where, rows(t, s, "SELECT id FROM p WHERE "+tc.where+" ORDER BY id"), tc.want)
		plan := rows(t, s, "EXPLAIN ANALYZE SELECT id FROM p WHERE "+tc.where)
		var scan string
		for _, l := range plan {
			if strings.Contains(l, "Scan p ") {
				scan = l
			}
		}
		if !strings.Contains(scan, tc.read) {
			t.Errorf("%s: scan %q, want %s", tc.where, scan, tc.read)
		}
	}
}

// TestExplainAnalyzeParallel runs EXPLAIN ANALYZE with four threads over
// a Parquet source of three files: the scan, filter, join probe and projection run
// in one worker per file, and their rows add up to those of a serial run.
func TestExplainAnalyzeParallel(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	mustExec(t, s, `
CREATE SINK ps (id BIGINT, g INT) WITH (connector = 'file', path = '${dir}/p/', format = 'parquet', mode = 'append');
INSERT INTO ps VALUES (1, 1), (2, 1), (3, 2);
INSERT INTO ps VALUES (4, 2), (5, 3), (6, 3), (7, 1);
INSERT INTO ps VALUES (8, 9), (9, 1);
CREATE SOURCE p (id BIGINT, g INT) WITH (connector = 'file', path = '${dir}/p/', format = 'parquet');
CREATE TABLE names (g INT, name VARCHAR);
INSERT INTO names VALUES (1, 'one'), (2, 'two'), (3, 'three');
SET threads = 4;`)
	re := regexp.MustCompile(` time=[0-9.]+ms peak=[0-9.]+[KMG]?i?B`)
	got := rows(t, s, "EXPLAIN ANALYZE SELECT p.id, n.name FROM p JOIN names n ON p.g = n.g WHERE p.id > 1")
	var ops []string
	for _, l := range got[:len(got)-1] {
		if i := strings.Index(l, "(actual "); i >= 0 {
			op, _, _ := strings.Cut(strings.TrimSpace(l), " ")
			ops = append(ops, op+" "+re.ReplaceAllString(l[i:], ""))
		}
	}
	equalLines(t, "EXPLAIN ANALYZE with 4 threads", ops, []string{
		"Project (actual rows=7 batches=3 workers=3)",
		"Join (actual rows=7 batches=3 workers=3)",
		"Filter (actual rows=8 batches=3 workers=3)",
		"Scan (actual rows=9 batches=3 workers=3)",
		"Scan (actual rows=3 batches=1)",
	})
	// The answer is the serial one.
	q := "SELECT p.id, n.name FROM p JOIN names n ON p.g = n.g WHERE p.id > 1 ORDER BY p.id"
	want := []string{"2|one", "3|two", "4|two", "5|three", "6|three", "7|one", "9|one"}
	equalLines(t, "parallel", rows(t, s, q), want)
	mustExec(t, s, "SET threads = 1")
	equalLines(t, "serial", rows(t, s, q), want)
}
