package session

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// RunRecord is one row of etl.runs: a script run by a session.
type RunRecord struct {
	RunID      string    `json:"run_id"`
	Job        string    `json:"job"`
	Pipeline   string    `json:"pipeline,omitempty"`
	State      string    `json:"state"` // running, succeeded, failed
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	RowsIn     int64     `json:"rows_in"`
	RowsOut    int64     `json:"rows_out"`
	Error      string    `json:"error,omitempty"`
}

// maxRuns is how many runs etl.runs keeps in memory (the file keeps all).
const maxRuns = 1000

// loadRuns reads the run history file; a missing file is an empty history.
// A line that does not decode (a run killed while appending) is skipped.
func loadRuns(path string) ([]RunRecord, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: reading run history: %w", err)
	}
	var out []RunRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var r RunRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.RunID != "" {
			out = append(out, r)
		}
	}
	if len(out) > maxRuns {
		out = out[len(out)-maxRuns:]
	}
	return out, nil
}

// recordRun adds a finished run to the history (memory and file).
func (e *Engine) recordRun(r RunRecord) error {
	e.mu.Lock()
	e.runs = append(e.runs, r)
	if len(e.runs) > maxRuns {
		e.runs = e.runs[len(e.runs)-maxRuns:]
	}
	e.mu.Unlock()
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("session: encoding run %s: %w", r.RunID, err)
	}
	f, err := os.OpenFile(e.runsPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("session: recording run %s: %w", r.RunID, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("session: recording run %s: %w", r.RunID, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("session: recording run %s: %w", r.RunID, err)
	}
	return nil
}

// Runs returns the run history, oldest first.
func (e *Engine) Runs() []RunRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]RunRecord(nil), e.runs...)
}
