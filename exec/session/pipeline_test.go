package session

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlc/etlc/exec/observe"
	"github.com/etlc/etlc/parser"
)

const ordersCSV = `order_id,customer_id,amount,region
1,10,5.00,eu
2,,7.50,eu
3,11,-1.00,us
4,12,0.00,us
5,13,2500.00,eu
6,,-3.00,us
7,14,1.25,
8,10,9.00,eu
`

// pipelineScript declares the orders source, a sink, and a pipeline with
// one expectation of each action.
func pipelineScript(dir string) string {
	return fmt.Sprintf(`
CREATE SOURCE orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12,2), region VARCHAR)
  WITH (connector = 'file', path = '%[1]s/in/', format = 'csv', header = 'true');
CREATE SINK clean (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12,2))
  WITH (connector = 'file', path = '%[1]s/out/', format = 'csv', header = 'true');
CREATE PIPELINE load_orders
  ( CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION DROP ROW,
    CONSTRAINT known_customer  EXPECT (customer_id IS NOT NULL) ON VIOLATION QUARANTINE,
    CONSTRAINT has_region      EXPECT (region IS NOT NULL),
    CONSTRAINT plausible       EXPECT (amount < 1000) )
AS INSERT INTO clean SELECT order_id, customer_id, amount FROM orders WHERE region <> 'none';
`, dir)
}

// TestPipelineExpectationsBatch runs a pipeline as a batch (START
// PIPELINE) and checks the sink, the quarantine, etl.expectations and the
// run summary exactly.
func TestPipelineExpectationsBatch(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in/orders.csv"), ordersCSV)
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, pipelineScript(dir))
	run := mustExec(t, s, "START PIPELINE load_orders")
	if tag := run.Statements[0].Tag; tag != "START PIPELINE" {
		t.Errorf("tag %q", tag)
	}
	// Rows 3, 4 (amount <= 0) are dropped; 2 and 6 (no customer) are
	// quarantined (6 also fails positive_amount: quarantined, not dropped).
	// Row 7 has no region: counted by has_region, then filtered by WHERE
	// (NULL <> 'none'). Row 5 fails plausible: counted only.
	equalLines(t, "sink", rows(t, s, "SELECT order_id, customer_id, amount FROM clean ORDER BY order_id"),
		[]string{"1|10|5.00", "5|13|2500.00", "8|10|9.00"})
	equalLines(t, "quarantine", rows(t, s, "SELECT * FROM load_orders__quarantine ORDER BY order_id"),
		[]string{"known_customer|2|NULL|7.50|eu", "known_customer|6|NULL|-3.00|us"})
	wantCounts := []string{
		"load_orders|positive_amount|drop row|5|2|3|0",
		"load_orders|known_customer|quarantine|6|0|2|2",
		"load_orders|has_region|none|7|0|1|0",
		"load_orders|plausible|none|7|0|1|0",
	}
	equalLines(t, "etl.expectations", rows(t, s, "SELECT * FROM etl.expectations"), wantCounts)
	var got []string
	for _, x := range run.Expectations {
		got = append(got, fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d", x.Pipeline, x.Constraint, x.Action, x.Passed, x.Dropped, x.Failed, x.Quarantined))
	}
	equalLines(t, "run summary", got, wantCounts)
	var targets []string
	for _, tg := range run.Targets {
		targets = append(targets, fmt.Sprintf("%s %s %d", tg.Kind, tg.Name, tg.Inserted))
	}
	equalLines(t, "targets", targets, []string{"sink clean 3", "table load_orders__quarantine 2"})

	// A second run counts afresh and appends to the quarantine table.
	mustExec(t, s, "START PIPELINE load_orders")
	equalLines(t, "etl.expectations after a second run", rows(t, s, "SELECT constraint_name, passed, failed FROM etl.expectations"),
		[]string{"positive_amount|5|3", "known_customer|6|2", "has_region|7|1", "plausible|7|1"})
	equalLines(t, "quarantine after a second run", rows(t, s, "SELECT COUNT(*) FROM load_orders__quarantine"), []string{"4"})
}

// TestPipelineExpectationFail checks that a violated FAIL expectation stops
// the run, names the constraint and a row, and leaves nothing in the sink.
func TestPipelineExpectationFail(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in/orders.csv"), ordersCSV)
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, fmt.Sprintf(`
CREATE SOURCE orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12,2), region VARCHAR)
  WITH (connector = 'file', path = '%[1]s/in/', format = 'csv', header = 'true');
CREATE SINK clean WITH (connector = 'file', path = '%[1]s/out/', format = 'csv', header = 'true');
CREATE PIPELINE strict
  ( CONSTRAINT known_customer EXPECT (customer_id IS NOT NULL) ON VIOLATION FAIL )
AS INSERT INTO clean SELECT order_id, amount FROM orders;`, dir))
	run, err := execScript(t, s, "start.sql", "START PIPELINE strict")
	if err == nil {
		t.Fatal("START PIPELINE strict succeeded; want the expectation to fail it")
	}
	se := stmtErr(t, err)
	want := `pipeline "strict": expectation "known_customer" violated (ON VIOLATION FAIL) by 2 row(s), e.g. (order_id = 2, customer_id = NULL, amount = 7.50, region = 'eu')`
	if se.Code != "23514" || se.Message != want {
		t.Fatalf("got %s %q\nwant 23514 %q", se.Code, se.Message, want)
	}
	if len(run.Expectations) != 1 || run.Expectations[0].Failed != 2 || run.Expectations[0].Passed != 6 {
		t.Errorf("summary %+v, want 6 passed 2 failed", run.Expectations)
	}
	files, staging := visibleFiles(t, filepath.Join(dir, "out"))
	if len(files) != 0 || len(staging) != 0 {
		t.Errorf("the failed run left files %v %v", files, staging)
	}
}

// TestPipelineQuarantineTarget routes quarantined rows into a sink the
// pipeline names, and checks the errors of a pipeline that cannot start.
func TestPipelineQuarantineTarget(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in/orders.csv"), ordersCSV)
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, pipelineScript(dir)+fmt.Sprintf(`
CREATE SINK bad_orders WITH (connector = 'file', path = '%[1]s/bad/', format = 'csv', header = 'true');
CREATE PIPELINE q2
  ( CONSTRAINT small EXPECT (amount < 10) ON VIOLATION QUARANTINE )
  WITH (quarantine = 'bad_orders')
AS INSERT INTO clean SELECT order_id, customer_id, amount FROM orders;
START PIPELINE q2;`, dir))
	got := strings.Split(strings.TrimSpace(readFile(t, onlyFile(t, filepath.Join(dir, "bad")))), "\n")
	equalLines(t, "bad_orders", got, []string{"constraint_name,order_id,customer_id,amount,region", "small,5,13,2500.00,eu"})

	// A misspelt pipeline is a compile error.
	_, err := s.Exec(context.Background(), parser.NewSource("start.sql", "START PIPELINE load_order"), ExecOptions{})
	if err == nil || err.Error() != `start.sql:1:16: error: pipeline "load_order" does not exist (did you mean load_orders?)` {
		t.Errorf("got %v", err)
	}
}

// onlyFile returns the one data file under dir.
func onlyFile(t *testing.T, dir string) string {
	t.Helper()
	files, _ := visibleFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("files under %s: %v, want one", dir, files)
	}
	return filepath.Join(dir, files[0])
}

// TestEngineMetrics checks the engine's /metrics figures after a pipeline
// run: exact lines for the source, the sinks, the expectations and the
// statement counts.
func TestEngineMetrics(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in/orders.csv"), ordersCSV)
	e := openEngine(t)
	s := e.NewSession(Options{})
	mustExec(t, s, pipelineScript(dir)+"START PIPELINE load_orders;")
	var sb strings.Builder
	reg := observe.NewRegistry()
	reg.Register(e.Metrics())
	if err := reg.WriteText(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(sb.String(), "\n") {
		lines[l] = true
	}
	for _, want := range []string{
		`etlc_source_rows_read_total{source="orders"} 8`,
		`etlc_source_bad_rows_total{source="orders"} 0`,
		`etlc_source_files_read_total{source="orders"} 1`,
		`etlc_sink_rows_written_total{sink="clean"} 3`,
		`etlc_sink_files_written_total{sink="clean"} 1`,
		`etlc_sink_commits_total{sink="clean"} 1`,
		`etlc_expectation_rows_total{pipeline="load_orders",constraint="positive_amount",action="drop row",outcome="passed"} 5`,
		`etlc_expectation_rows_total{pipeline="load_orders",constraint="positive_amount",action="drop row",outcome="dropped"} 2`,
		`etlc_expectation_rows_total{pipeline="load_orders",constraint="known_customer",action="quarantine",outcome="quarantined"} 2`,
		`etlc_expectation_rows_total{pipeline="load_orders",constraint="plausible",action="none",outcome="failed"} 1`,
		`etlc_statement_duration_seconds_count{kind="START PIPELINE",status="ok"} 1`,
		`etlc_statement_duration_seconds_count{kind="CREATE PIPELINE",status="ok"} 1`,
		`# TYPE etlc_statement_duration_seconds summary`,
	} {
		if !lines[want] {
			t.Errorf("no line %s in\n%s", want, sb.String())
		}
	}
	// The stream runtime's pipelines join the figures once it sets its
	// reporter.
	e.SetPipelineReporter(fixedPipelines{{Name: "revenue", State: "running", RowsIn: 10, RowsOut: 4}})
	sb.Reset()
	if err := reg.WriteText(context.Background(), &sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`etlc_pipeline_up{pipeline="revenue",state="running"} 1`,
		`etlc_pipeline_rows_in_total{pipeline="revenue"} 10`,
		`etlc_pipeline_rows_out_total{pipeline="revenue"} 4`,
	} {
		if !strings.Contains(sb.String(), "\n"+want+"\n") {
			t.Errorf("no line %s in\n%s", want, sb.String())
		}
	}
	if err := e.CheckCatalog(context.Background()); err != nil {
		t.Error(err)
	}
	if err := e.CheckSources(context.Background()); err != nil {
		t.Error(err)
	}
	mustExec(t, s, fmt.Sprintf(`CREATE SOURCE gone (a INT) WITH (connector = 'file', path = '%s/nothing/', format = 'csv')`, dir))
	if err := e.CheckSources(context.Background()); err == nil || !strings.HasPrefix(err.Error(), `unreachable: source "gone": `) {
		t.Errorf("CheckSources with a missing directory: %v", err)
	}
}

// fixedPipelines reports fixed pipeline statuses, as the stream runtime
// reports its pipelines.
type fixedPipelines []observe.PipelineStatus

func (f fixedPipelines) PipelineStatuses() []observe.PipelineStatus { return f }
