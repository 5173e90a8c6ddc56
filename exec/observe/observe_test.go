package observe

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestWriteText(t *testing.T) {
	fams := []Family{
		{Name: "b_total", Help: "B things.", Type: Counter, Samples: []Sample{
			{Labels: []Label{{"name", `say "hi"\now`}}, Value: 3},
			{Labels: []Label{{"name", "a"}}, Value: 1e20},
		}},
		{Name: "a_seconds", Help: "Time\nspent.", Type: Summary, Samples: []Sample{
			{Suffix: "_sum", Labels: []Label{{"kind", "INSERT"}}, Value: 0.25},
			{Suffix: "_count", Labels: []Label{{"kind", "INSERT"}}, Value: 2},
		}},
		{Name: "b_total", Samples: []Sample{{Labels: []Label{{"name", "z"}}, Value: math.NaN()}}},
		{Name: "c", Help: "no samples", Type: Gauge},
	}
	var sb strings.Builder
	if err := WriteText(&sb, fams); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_seconds Time\nspent.
# TYPE a_seconds summary
a_seconds_count{kind="INSERT"} 2
a_seconds_sum{kind="INSERT"} 0.25
# HELP b_total B things.
# TYPE b_total counter
b_total{name="a"} 1e+20
b_total{name="say \"hi\"\\now"} 3
b_total{name="z"} NaN
# HELP c no samples
# TYPE c gauge
`
	if sb.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", sb.String(), want)
	}
	for _, bad := range []Family{{Name: "1x", Type: Gauge}, {Name: "x", Type: Gauge, Samples: []Sample{{Labels: []Label{{"__x", "v"}}}}}} {
		if err := WriteText(io.Discard, []Family{bad}); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// statuses is a PipelineReporter with fixed statuses.
type statuses []PipelineStatus

func (s statuses) PipelineStatuses() []PipelineStatus { return s }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestServer serves the endpoints on 127.0.0.1 and checks their exact
// responses, the pipeline figures included.
func TestServer(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reg := NewRegistry()
	reg.Register(CollectorFunc(func(context.Context) []Family {
		return []Family{{Name: "etlc_source_rows_read_total", Help: "Rows read from a source (every scan).", Type: Counter,
			Samples: []Sample{{Labels: []Label{{"source", "orders"}}, Value: 8}}}}
	}))
	reg.Register(PipelineCollector(statuses{
		{Name: "revenue", State: "running", RowsIn: 1000, RowsOut: 40, Watermark: now.Add(-90 * time.Second),
			Lag: 90 * time.Second, LastCheckpoint: now.Add(-2500 * time.Millisecond), StateKeys: 12, StateBytes: 4096, LateRows: 3},
		{Name: "idle", State: "stopped"},
	}, func() time.Time { return now }))
	srv := NewServer(reg)
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	base := "http://" + srv.Addr()

	code, body := get(t, base+"/metrics")
	want := `# HELP etlc_pipeline_lag_seconds How far a pipeline's watermark is behind the wall clock.
# TYPE etlc_pipeline_lag_seconds gauge
etlc_pipeline_lag_seconds{pipeline="idle"} 0
etlc_pipeline_lag_seconds{pipeline="revenue"} 90
# HELP etlc_pipeline_last_checkpoint_age_seconds Seconds since a pipeline's last committed checkpoint.
# TYPE etlc_pipeline_last_checkpoint_age_seconds gauge
etlc_pipeline_last_checkpoint_age_seconds{pipeline="revenue"} 2.5
# HELP etlc_pipeline_late_rows_total Rows a pipeline dropped or quarantined as late.
# TYPE etlc_pipeline_late_rows_total counter
etlc_pipeline_late_rows_total{pipeline="idle"} 0
etlc_pipeline_late_rows_total{pipeline="revenue"} 3
# HELP etlc_pipeline_rows_in_total Rows a pipeline read from its sources.
# TYPE etlc_pipeline_rows_in_total counter
etlc_pipeline_rows_in_total{pipeline="idle"} 0
etlc_pipeline_rows_in_total{pipeline="revenue"} 1000
# HELP etlc_pipeline_rows_out_total Rows a pipeline committed to its sink.
# TYPE etlc_pipeline_rows_out_total counter
etlc_pipeline_rows_out_total{pipeline="idle"} 0
etlc_pipeline_rows_out_total{pipeline="revenue"} 40
# HELP etlc_pipeline_state_bytes Bytes of a pipeline's operator state.
# TYPE etlc_pipeline_state_bytes gauge
etlc_pipeline_state_bytes{pipeline="idle"} 0
etlc_pipeline_state_bytes{pipeline="revenue"} 4096
# HELP etlc_pipeline_state_keys Live keys of a pipeline's operator state.
# TYPE etlc_pipeline_state_keys gauge
etlc_pipeline_state_keys{pipeline="idle"} 0
etlc_pipeline_state_keys{pipeline="revenue"} 12
# HELP etlc_pipeline_up Pipelines known to the stream runtime, by state (always 1).
# TYPE etlc_pipeline_up gauge
etlc_pipeline_up{pipeline="idle",state="stopped"} 1
etlc_pipeline_up{pipeline="revenue",state="running"} 1
# HELP etlc_pipeline_watermark_seconds A pipeline's event-time watermark, in Unix seconds.
# TYPE etlc_pipeline_watermark_seconds gauge
etlc_pipeline_watermark_seconds{pipeline="revenue"} 1767322955
# HELP etlc_source_rows_read_total Rows read from a source (every scan).
# TYPE etlc_source_rows_read_total counter
etlc_source_rows_read_total{source="orders"} 8
`
	if code != 200 || body != want {
		t.Fatalf("/metrics %d:\n%s\nwant:\n%s", code, body, want)
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz %d %q", code, body)
	}
	srv.AddReadyCheck("catalog", func(context.Context) error { return nil })
	srv.AddReadyCheck("sources", func(context.Context) error { return errors.New(`source "orders" unreachable`) })
	srv.AddReadyCheck("panics", func(context.Context) error { panic("boom") })
	if code, body := get(t, base+"/readyz"); code != 503 || body != "panics: internal error: boom\nsources: source \"orders\" unreachable\n" {
		t.Errorf("/readyz %d %q", code, body)
	}
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after Close")
	}
}
