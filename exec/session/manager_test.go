package session

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// waitRows polls a query until it returns want (or fails the test after
// 20 seconds).
func waitRows(t *testing.T, s *Session, query string, want []string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		if got = rows(t, s, query); slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("%s:\n%v\nwant\n%v", query, got, want)
}

// TestPipelineManager runs a streaming pipeline in the engine's background
// as the gateway does: START twice (55006), the figures of a pipeline another engine ran read
// from its checkpoint, and ResumePipelines starting what was running.
func TestPipelineManager(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	eng, err := Open(ctx, dataDir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := eng.NewSession(Options{})
	writeFile(t, filepath.Join(dir, "in", "1.csv"), "id\n1\n2\n3\n")
	mustExec(t, s, fmt.Sprintf(`
CREATE STREAM ev (id BIGINT) WITH (connector = 'file', path = '%[1]s/in/', format = 'csv', header = 'true');
CREATE SINK ev_out (id BIGINT) WITH (path = '%[1]s/out/', format = 'csv', header = 'false');
CREATE PIPELINE copy_ev WITH (checkpoint_interval = '50ms') AS INSERT INTO ev_out SELECT id * 10 FROM STREAM ev;
START PIPELINE copy_ev;`, dir))
	const fig = "SELECT name, state, rows_in, rows_out, error FROM etl.pipelines"
	waitRows(t, s, fig, []string{"copy_ev|running|3|3|NULL"})

	_, err = execScript(t, s, "again.sql", "START PIPELINE copy_ev")
	if se := stmtErr(t, err); se.Code != CodeObjectInUse || se.Message != `pipeline "copy_ev" is already running` {
		t.Errorf("START of a running pipeline: %s %s", se.Code, se.Message)
	}
	if got := eng.RunningPipelines(); !slices.Equal(got, []string{"copy_ev"}) {
		t.Errorf("running: %v", got)
	}
	s.Close()
	// Closing the engine stops the pipeline with a last checkpoint; it
	// was running, so it is to run again.
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	eng, err = Open(ctx, dataDir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s = eng.NewSession(Options{})
	defer s.Close()
	if got := rows(t, s, fig); !slices.Equal(got, []string{"copy_ev|stopped|3|3|NULL"}) {
		t.Errorf("before resuming: %v", got)
	}
	writeFile(t, filepath.Join(dir, "in", "2.csv"), "id\n4\n")
	if err := eng.ResumePipelines(ctx, Options{}); err != nil {
		t.Fatal(err)
	}
	waitRows(t, s, fig, []string{"copy_ev|running|4|4|NULL"})
	mustExec(t, s, "STOP PIPELINE copy_ev")
	if got := rows(t, s, fig); !slices.Equal(got, []string{"copy_ev|stopped|4|4|NULL"}) {
		t.Errorf("after STOP: %v", got)
	}
	// Stopped by STOP: a later resume leaves it stopped.
	if err := eng.ResumePipelines(ctx, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := eng.RunningPipelines(); len(got) != 0 {
		t.Errorf("resumed after STOP: %v", got)
	}
	if got := rows(t, s, "SELECT id FROM ev_out ORDER BY id"); !slices.Equal(got, []string{"10", "20", "30", "40"}) {
		t.Errorf("sink: %v", got)
	}
}
