package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestCompilePhysicalKeepsState compiles a streaming pipeline with -o:
// its statement carries the optimized plan under "physical" beside the
// state layouts, and --check-compat reads the document as before.
func TestCompilePhysicalKeepsState(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "job.sql")
	err := os.WriteFile(script, []byte(`CREATE STREAM orders (customer_id BIGINT, amount DECIMAL(12,2), ts TIMESTAMP,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'file', path = '`+dir+`/in/', format = 'json');
CREATE SINK out WITH (connector = 'file', path = '`+dir+`/out/', format = 'json');
CREATE PIPELINE revenue AS INSERT INTO out
  SELECT window_start, customer_id, SUM(amount) AS revenue
  FROM STREAM orders WHERE amount > 0 GROUP BY TUMBLE(ts, INTERVAL '1 minute'), customer_id;
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "plan.json")
	if code, _, stderr := runETLC(t, []string{"compile", "-o", out, script}, "", nil, false); code != 0 {
		t.Fatalf("compile -o: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Plans map[string]struct {
			Statements []struct {
				Kind     string            `json:"kind"`
				State    []json.RawMessage `json:"state"`
				Physical *struct {
					Op     string  `json:"op"`
					Rows   float64 `json:"rows"`
					Cost   float64 `json:"cost"`
					Inputs []struct {
						Op string `json:"op"`
					} `json:"inputs"`
				} `json:"physical"`
			} `json:"statements"`
		} `json:"plans"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	stmts := doc.Plans[script].Statements
	if len(stmts) != 3 {
		t.Fatalf("%d statements, want 3:\n%s", len(stmts), data)
	}
	if stmts[0].Physical != nil || stmts[1].Physical != nil {
		t.Errorf("a CREATE without a query has a physical plan")
	}
	p := stmts[2]
	if p.Kind != "create_pipeline" || len(p.State) != 1 || p.Physical == nil {
		t.Fatalf("pipeline statement: kind %q, %d state layouts, physical %v", p.Kind, len(p.State), p.Physical)
	}
	if p.Physical.Op != "Project" || len(p.Physical.Inputs) != 1 || p.Physical.Inputs[0].Op != "Aggregate" || p.Physical.Rows <= 0 || p.Physical.Cost <= 0 {
		t.Errorf("physical plan: %+v", *p.Physical)
	}
	code, _, stderr := runETLC(t, []string{"compile", "--check-compat", out, script}, "", nil, false)
	if code != 0 {
		t.Errorf("--check-compat with its own plan: exit %d: %s", code, stderr)
	}
}
