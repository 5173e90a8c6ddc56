package session

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// partitionedSink writes a sink partitioned by region and dt (five
// partitions) under dir/p/ and returns the committed data files by
// partition directory.
func partitionedSink(t *testing.T, s *Session, dir, format string) map[string][]string {
	t.Helper()
	mustExec(t, s, `
CREATE SINK ps (id BIGINT, amount INT, region VARCHAR, dt DATE) WITH (connector = 'file', path = '${dir}/p/', format = '`+format+`', partition_by = 'region,dt');
INSERT INTO ps VALUES
  (1, 10, 'eu', DATE '2024-01-01'), (2, 20, 'eu', DATE '2024-01-01'),
  (3, 30, 'eu', DATE '2024-01-02'),
  (4, 40, 'us', DATE '2024-01-01'), (5, 50, 'us', DATE '2024-01-02'),
  (6, 60, 'ap', DATE '2024-01-03');`)
	files := map[string][]string{}
	err := filepath.WalkDir(filepath.Join(dir, "p"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "_") {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(dir, "p"), filepath.Dir(path))
		files[filepath.ToSlash(rel)] = append(files[filepath.ToSlash(rel)], path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for d := range files {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	want := []string{"region=ap/dt=2024-01-03", "region=eu/dt=2024-01-01", "region=eu/dt=2024-01-02",
		"region=us/dt=2024-01-01", "region=us/dt=2024-01-02"}
	if strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Fatalf("partition directories %v, want %v", dirs, want)
	}
	return files
}

// TestPartitionPruning reads a partitioned sink's output through a source
// and through the sink: a query with conditions on the partition columns
// opens only the files of the matching partitions, which the corrupt file
// of a pruned partition proves (reading it would fail), and EXPLAIN shows
// how many partitions the scan keeps.
func TestPartitionPruning(t *testing.T) {
	for _, format := range []string{"parquet", "csv"} {
		t.Run(format, func(t *testing.T) {
			e := openEngine(t)
			dir := t.TempDir()
			s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
			files := partitionedSink(t, s, dir, format)
			mustExec(t, s, `CREATE SOURCE src (id BIGINT, amount INT, region VARCHAR, dt DATE) WITH (connector = 'file', path = '${dir}/p/', format = '`+format+`');`)
			for _, rel := range []string{"src", "ps"} {
				for _, tc := range []struct {
					where string
					want  []string
					parts string
					files int64
				}{
					{"region = 'eu'", []string{"1", "2", "3"}, "2/5", 2},
					{"region IN ('us', 'ap')", []string{"4", "5", "6"}, "3/5", 3},
					{"dt >= DATE '2024-01-02' AND dt < DATE '2024-01-01' + INTERVAL '2' DAY", []string{"3", "5"}, "2/5", 2},
					{"region = 'eu' AND dt = DATE '2024-01-01' AND amount > 10", []string{"2"}, "1/5", 1},
					{"region = 'xx' OR dt > DATE '2024-01-02'", []string{"6"}, "1/5", 1},
					{"upper(region) = 'US'", []string{"4", "5"}, "2/5", 2},
					{"region = 'none'", nil, "0/5", 0},
				} {
					run := mustExec(t, s, "SELECT id FROM "+rel+" WHERE "+tc.where+" ORDER BY id")
					last := run.Statements[len(run.Statements)-1]
					var got []string
					for _, rec := range last.Records {
						for i := 0; i < int(rec.NumRows()); i++ {
							v, _ := FormatValue(rec.Column(0), i)
							got = append(got, v)
						}
					}
					equalLines(t, rel+" WHERE "+tc.where, got, tc.want)
					if rel == "src" {
						if len(run.Sources) != 1 || run.Sources[0].FilesRead != tc.files {
							t.Errorf("%s: sources %+v, want %d files read", tc.where, run.Sources, tc.files)
						}
					}
					plan := strings.Join(rows(t, s, "EXPLAIN SELECT id FROM "+rel+" WHERE "+tc.where), "\n")
					if !strings.Contains(plan, "(partitions="+tc.parts+")") {
						t.Errorf("%s WHERE %s: EXPLAIN shows no partitions=%s:\n%s", rel, tc.where, tc.parts, plan)
					}
				}
			}
			// A corrupt file in a partition the query does not read goes
			// unnoticed; a query that reads it fails.
			for _, f := range files["region=us/dt=2024-01-02"] {
				if err := os.WriteFile(f, []byte("\x00\x01not a data file\"\n\"\x02"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, rel := range []string{"src", "ps"} {
				equalLines(t, rel+" after corruption", rows(t, s, "SELECT sum(amount) FROM "+rel+" WHERE region <> 'us' OR dt = DATE '2024-01-01'"), []string{"160"})
				if _, err := execScript(t, s, "x.sql", "SELECT sum(amount) FROM "+rel+" WHERE amount > 0"); err == nil {
					t.Errorf("%s: reading the corrupt partition did not fail", rel)
				}
			}
		})
	}
}

// TestPartitionPruningParallel reads a partitioned source with four
// threads: the split read shares only the files of the kept partitions.
func TestPartitionPruningParallel(t *testing.T) {
	e := openEngine(t)
	dir := t.TempDir()
	s := e.NewSession(Options{Params: map[string]string{"dir": dir}})
	files := partitionedSink(t, s, dir, "parquet")
	for _, f := range files["region=ap/dt=2024-01-03"] {
		if err := os.WriteFile(f, []byte("corrupt"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, s, `CREATE SOURCE src (id BIGINT, amount INT, region VARCHAR, dt DATE) WITH (connector = 'file', path = '${dir}/p/', format = 'parquet');
SET threads = 4;`)
	run := mustExec(t, s, "SELECT region, count(*), sum(amount) FROM src WHERE region IN ('eu', 'us') GROUP BY region ORDER BY region")
	if run.Sources[0].FilesRead != 4 {
		t.Errorf("files read %d, want 4", run.Sources[0].FilesRead)
	}
	equalLines(t, "parallel", rows(t, s, "SELECT region, count(*), sum(amount) FROM src WHERE region IN ('eu', 'us') GROUP BY region ORDER BY region"),
		[]string{"eu|3|60", "us|2|90"})
	plan := rows(t, s, "EXPLAIN ANALYZE SELECT id FROM src WHERE region IN ('eu', 'us')")
	re := regexp.MustCompile(`Scan src .*\(partitions=4/5\) \(actual rows=5 batches=4 .* workers=4\)`)
	if !re.MatchString(strings.Join(plan, "\n")) {
		t.Errorf("EXPLAIN ANALYZE:\n%s", strings.Join(plan, "\n"))
	}
}
