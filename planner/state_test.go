package planner

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/etlc/etlc/catalog"
)

// TestHopStateFromPerWindowPartials: the layout of a HOP aggregation's
// state as etlc wrote it into plan JSON before pane-based HOP windows
// (partial aggregates per window, fingerprint 12b53122cc85fdef) is not the
// one the pipeline keeps now, so --check-compat refuses to resume from it
// and says why.
func TestHopStateFromPerWindowPartials(t *testing.T) {
	cat := catalog.NewMemory()
	if _, diags := compileString(t, cat, "schema.sql", `
CREATE STREAM bids (auction BIGINT, price BIGINT, date_time TIMESTAMP,
  WATERMARK FOR date_time AS date_time - INTERVAL '1 second') WITH (connector = 'file', path = 'b/', format = 'json');
CREATE SINK out WITH (connector = 'file', path = 'out/', format = 'json');`, true); len(diags) > 0 {
		t.Fatal(formatDiags(diags))
	}
	prog, diags := compileString(t, cat, "new.sql", `CREATE PIPELINE lots AS INSERT INTO out
  SELECT window_start, auction % 100, COUNT(*), MAX(price) FROM STREAM bids
  GROUP BY HOP(date_time, INTERVAL '20 seconds', INTERVAL '50 seconds'), auction % 100;`, false)
	if len(diags) > 0 {
		t.Fatal(formatDiags(diags))
	}
	ps := pipelines(prog)
	if len(ps) != 1 {
		t.Fatalf("%d pipelines", len(ps))
	}
	now := StateLayouts(ps[0].Insert.Plan)
	var old []StateLayout
	if err := json.Unmarshal([]byte(`[{"id":"aggregate#1","op":"window aggregate","keys":["(auction % 100) BIGINT"],
"values":["count() BIGINT","max(BIGINT) BIGINT"],"window":"HOP slide=INTERVAL '00:00:20' size=INTERVAL '00:00:50' time=date_time TIMESTAMP",
"form":"partial aggregates","fingerprint":"12b53122cc85fdef"}]`), &old); err != nil {
		t.Fatal(err)
	}
	if len(now) != 1 || now[0].Form != "partial aggregates per pane" || now[0].Fingerprint == old[0].Fingerprint {
		t.Fatalf("layout %+v", now)
	}
	var got []string
	for _, x := range CompareState("lots", old, now) {
		got = append(got, x.String())
	}
	want := `pipeline "lots": aggregate#1 (window aggregate) cannot resume from the old state: the state changed from partial aggregates to partial aggregates per pane`
	if strings.Join(got, "\n") != want {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	// The same pipeline compiled now resumes from its own state.
	if x := CompareState("lots", now, now); len(x) != 0 {
		t.Fatalf("incompatible with itself: %v", x)
	}
}
