package observe

import (
	"context"
	"time"
)

// PipelineStatus is what a running (or stopped) streaming pipeline reports
// for monitoring: the same figures etl.pipelines shows.
type PipelineStatus struct {
	Name string
	// State is created, running, stopped or failed.
	State string
	// RowsIn counts the rows read from the pipeline's sources since it
	// started (restored from its checkpoint on restart); RowsOut the rows
	// committed to its sink.
	RowsIn, RowsOut int64
	// Watermark is the pipeline's current event-time watermark (zero:
	// none yet).
	Watermark time.Time
	// Lag is how far the watermark is behind the wall clock.
	Lag time.Duration
	// LastCheckpoint is when the last checkpoint committed (zero: none).
	LastCheckpoint time.Time
	// StateKeys and StateBytes are the live keys and bytes of the
	// pipeline's operator state (in Pebble).
	StateKeys, StateBytes int64
	// LateRows counts rows dropped or quarantined as late.
	LateRows int64
}

// PipelineReporter is implemented by the stream runtime: it lists the
// status of every pipeline it runs, at the moment it is asked. It is
// called from the /metrics handler's goroutine, so it must be safe for
// concurrent use and should not block.
type PipelineReporter interface {
	PipelineStatuses() []PipelineStatus
}

// PipelineCollector exposes the statuses a PipelineReporter lists:
//
//	etlc_pipeline_up{pipeline,state}                   1 for each pipeline
//	etlc_pipeline_rows_in_total{pipeline}              counter
//	etlc_pipeline_rows_out_total{pipeline}             counter
//	etlc_pipeline_late_rows_total{pipeline}            counter
//	etlc_pipeline_watermark_seconds{pipeline}          gauge, Unix seconds (only with a watermark)
//	etlc_pipeline_lag_seconds{pipeline}                gauge
//	etlc_pipeline_last_checkpoint_age_seconds{pipeline} gauge (only after a checkpoint)
//	etlc_pipeline_state_keys{pipeline}                 gauge
//	etlc_pipeline_state_bytes{pipeline}                gauge
//
// now gives the time checkpoint ages are measured against (nil: time.Now).
func PipelineCollector(r PipelineReporter, now func() time.Time) Collector {
	if now == nil {
		now = time.Now
	}
	return CollectorFunc(func(context.Context) []Family {
		up := Family{Name: "etlc_pipeline_up", Help: "Pipelines known to the stream runtime, by state (always 1).", Type: Gauge}
		in := Family{Name: "etlc_pipeline_rows_in_total", Help: "Rows a pipeline read from its sources.", Type: Counter}
		out := Family{Name: "etlc_pipeline_rows_out_total", Help: "Rows a pipeline committed to its sink.", Type: Counter}
		late := Family{Name: "etlc_pipeline_late_rows_total", Help: "Rows a pipeline dropped or quarantined as late.", Type: Counter}
		wm := Family{Name: "etlc_pipeline_watermark_seconds", Help: "A pipeline's event-time watermark, in Unix seconds.", Type: Gauge}
		lag := Family{Name: "etlc_pipeline_lag_seconds", Help: "How far a pipeline's watermark is behind the wall clock.", Type: Gauge}
		ckpt := Family{Name: "etlc_pipeline_last_checkpoint_age_seconds", Help: "Seconds since a pipeline's last committed checkpoint.", Type: Gauge}
		keys := Family{Name: "etlc_pipeline_state_keys", Help: "Live keys of a pipeline's operator state.", Type: Gauge}
		bytes := Family{Name: "etlc_pipeline_state_bytes", Help: "Bytes of a pipeline's operator state.", Type: Gauge}
		t := now()
		for _, p := range r.PipelineStatuses() {
			l := []Label{{"pipeline", p.Name}}
			up.Samples = append(up.Samples, Sample{Labels: []Label{{"pipeline", p.Name}, {"state", p.State}}, Value: 1})
			in.Samples = append(in.Samples, Sample{Labels: l, Value: float64(p.RowsIn)})
			out.Samples = append(out.Samples, Sample{Labels: l, Value: float64(p.RowsOut)})
			late.Samples = append(late.Samples, Sample{Labels: l, Value: float64(p.LateRows)})
			if !p.Watermark.IsZero() {
				wm.Samples = append(wm.Samples, Sample{Labels: l, Value: float64(p.Watermark.UnixMilli()) / 1000})
			}
			lag.Samples = append(lag.Samples, Sample{Labels: l, Value: p.Lag.Seconds()})
			if !p.LastCheckpoint.IsZero() {
				ckpt.Samples = append(ckpt.Samples, Sample{Labels: l, Value: t.Sub(p.LastCheckpoint).Seconds()})
			}
			keys.Samples = append(keys.Samples, Sample{Labels: l, Value: float64(p.StateKeys)})
			bytes.Samples = append(bytes.Samples, Sample{Labels: l, Value: float64(p.StateBytes)})
		}
		return []Family{up, in, out, late, wm, lag, ckpt, keys, bytes}
	})
}
