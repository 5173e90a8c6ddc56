package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/stream"
)

// CodeObjectInUse is the SQLSTATE of START PIPELINE for a pipeline that
// runs already (PostgreSQL's object_in_use).
const CodeObjectInUse = "55006"

// pipelineManager runs an engine's streaming pipelines in the background:
// START PIPELINE over the wire, `etlc run` in the foreground (it waits for
// them), and a restarted gateway resuming what ran when it stopped.
type pipelineManager struct {
	mu   sync.Mutex
	runs map[string]*bgRun // by catalog key
	// desired is the state START and STOP over the wire asked for, by
	// catalog key: "running" or "stopped"; persisted in pipelines.json.
	desired map[string]string
	loaded  bool
}

// bgRun is one pipeline running in the background.
type bgRun struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done is closed
}

// desiredPath is the file that keeps which pipelines run.
func (e *Engine) desiredPath() string { return filepath.Join(e.dir, "pipelines.json") }

// loadDesired reads pipelines.json once; the caller holds m.mu.
func (e *Engine) loadDesired() error {
	m := &e.pm
	if m.loaded {
		return nil
	}
	m.desired = map[string]string{}
	data, err := os.ReadFile(e.desiredPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading the pipeline states: %w", err)
	default:
		if err := json.Unmarshal(data, &m.desired); err != nil {
			return fmt.Errorf("reading the pipeline states %s: %w", e.desiredPath(), err)
		}
	}
	m.loaded = true
	return nil
}

// setDesired records that pipeline name is to run (or not) when the
// gateway starts again; state "" forgets it. The file is replaced
// atomically.
func (e *Engine) setDesired(name, state string) error {
	m := &e.pm
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := e.loadDesired(); err != nil {
		return err
	}
	k := catalogKey(name)
	if state == "" {
		delete(m.desired, k)
	} else {
		m.desired[k] = state
	}
	data, err := json.MarshalIndent(m.desired, "", "  ")
	if err != nil {
		return err
	}
	tmp := e.desiredPath() + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving the pipeline states: %w", err)
	}
	if err := os.Rename(tmp, e.desiredPath()); err != nil {
		return fmt.Errorf("saving the pipeline states: %w", err)
	}
	return nil
}

// desiredState is the state START or STOP last asked for ("" if neither).
func (e *Engine) desiredState(name string) string {
	m := &e.pm
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.loadDesired() != nil {
		return ""
	}
	return m.desired[catalogKey(name)]
}

// StartPipeline opens the streaming pipeline name (binding its definition
// with the parameters of opts, recovering its last checkpoint) and runs it
// in the background until StopPipeline, StopPipelines, the end of its
// input (popts.UntilIdle) or an error. Opening errors are returned; a
// pipeline that runs already is an error with code CodeObjectInUse.
func (e *Engine) StartPipeline(ctx context.Context, name string, opts Options, popts PipelineOptions) error {
	_, err := e.startPipeline(ctx, name, opts, popts)
	return err
}

// startPipeline is StartPipeline; it returns the run, to wait for.
func (e *Engine) startPipeline(ctx context.Context, name string, opts Options, popts PipelineOptions) (*bgRun, error) {
	obj, err := e.lookupPipeline(name)
	if err != nil {
		return nil, err
	}
	k := catalogKey(obj.Name)
	m := &e.pm
	m.mu.Lock()
	if r := m.runs[k]; r != nil {
		m.mu.Unlock()
		return nil, &codeError{code: CodeObjectInUse, msg: fmt.Sprintf("pipeline %q is already running", obj.Name),
			detail: "STOP PIPELINE " + obj.Name + " stops it"}
	}
	// Reserve the name while the pipeline opens.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &bgRun{name: obj.Name, cancel: cancel, done: make(chan struct{})}
	if m.runs == nil {
		m.runs = map[string]*bgRun{}
	}
	m.runs[k] = r
	m.mu.Unlock()

	s := e.NewSession(opts)
	p, err := s.OpenPipeline(ctx, obj.Name, popts)
	if err != nil {
		s.Close()
		m.mu.Lock()
		delete(m.runs, k)
		m.mu.Unlock()
		cancel()
		r.err = err
		close(r.done)
		return nil, err
	}
	go func() {
		defer s.Close()
		err := runRecovered(runCtx, p.Run)
		if cerr := p.Close(); err == nil {
			err = cerr
		}
		cancel()
		if err != nil {
			e.mu.Lock()
			if st := e.pipes[k]; st != nil {
				st.Fail(err)
			}
			e.mu.Unlock()
		}
		m.mu.Lock()
		if m.runs[k] == r {
			delete(m.runs, k)
		}
		r.err = err
		m.mu.Unlock()
		close(r.done)
	}()
	return r, nil
}

// runRecovered runs fn, turning a panic into an error: a pipeline's
// goroutine must not take the gateway down.
func runRecovered(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &internalError{msg: fmt.Sprintf("pipeline panicked: %v", v), stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// run returns the background run of a pipeline, nil when it does not run.
func (e *Engine) run(name string) *bgRun {
	m := &e.pm
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runs[catalogKey(name)]
}

// StopPipeline stops the background run of pipeline name: it takes a last
// checkpoint (publishing what it read) and ends. It reports whether the
// pipeline was running, and the error the run ended with, if any.
func (e *Engine) StopPipeline(ctx context.Context, name string) (bool, error) {
	r := e.run(name)
	if r == nil {
		return false, nil
	}
	r.cancel()
	return true, r.wait(ctx)
}

// wait waits for the run to end and returns its error.
func (r *bgRun) wait(ctx context.Context) error {
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitPipeline waits until the background run of pipeline name ends
// (its input drained with UntilIdle, an error, or a stop) and returns the
// error it ended with. A pipeline that does not run returns nil at once.
func (e *Engine) WaitPipeline(ctx context.Context, name string) error {
	r := e.run(name)
	if r == nil {
		return nil
	}
	return r.wait(ctx)
}

// RunningPipelines returns the names of the pipelines running in the
// background, sorted.
func (e *Engine) RunningPipelines() []string {
	m := &e.pm
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.runs {
		out = append(out, r.name)
	}
	sort.Strings(out)
	return out
}

// StopPipelines stops every background run, each with a last checkpoint,
// and waits for them (a gateway shutting down, SIGTERM). What START asked
// for stays recorded, so that ResumePipelines starts them again.
func (e *Engine) StopPipelines(ctx context.Context) error {
	var errs []error
	for _, name := range e.RunningPipelines() {
		if _, err := e.StopPipeline(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("pipeline %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// RunPipelines starts the pipelines names in the background and waits
// for all of them, as `etlc run` does: until ctx is done (each then takes
// a last checkpoint and stops) or, with popts.UntilIdle, until their
// streams are drained. It returns each pipeline's error, in order.
func (e *Engine) RunPipelines(ctx context.Context, names []string, opts Options, popts PipelineOptions) []error {
	errs := make([]error, len(names))
	runs := make([]*bgRun, len(names))
	for i, name := range names {
		runs[i], errs[i] = e.startPipeline(ctx, name, opts, popts)
	}
	stop := context.AfterFunc(ctx, func() {
		for _, r := range runs {
			if r != nil {
				r.cancel()
			}
		}
	})
	defer stop()
	for i, r := range runs {
		if r != nil {
			errs[i] = r.wait(context.Background())
		}
	}
	return errs
}

// ResumePipelines starts, in the background, every pipeline that START
// PIPELINE over the wire left running (pipelines.json): a gateway
// restarted picks up where it stopped, each pipeline from its last
// checkpoint. Pipelines are opened with the parameters of opts. A
// pipeline that cannot start is reported and left out; the others run.
func (e *Engine) ResumePipelines(ctx context.Context, opts Options) error {
	m := &e.pm
	m.mu.Lock()
	if err := e.loadDesired(); err != nil {
		m.mu.Unlock()
		return err
	}
	var names []string
	for k, st := range m.desired {
		if st == pipelineRunning {
			names = append(names, k)
		}
	}
	m.mu.Unlock()
	sort.Strings(names)
	var errs []error
	for _, k := range names {
		obj, ok := e.cat.Lookup(k)
		if !ok || obj.Kind != catalog.ObjectPipeline {
			e.setDesired(k, "")
			continue
		}
		if err := e.StartPipeline(ctx, obj.Name, opts, PipelineOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("resuming pipeline %s: %w", obj.Name, err))
		}
	}
	return errors.Join(errs...)
}

// The states START and STOP record.
const (
	pipelineRunning = "running"
	pipelineStopped = "stopped"
)

// dropPipeline stops a pipeline that runs and removes its state: the
// checkpoints, buffered rows and figures (DROP PIPELINE). The error a
// run ended with does not keep it from being dropped.
func (e *Engine) dropPipeline(ctx context.Context, name string) error {
	if _, err := e.StopPipeline(ctx, name); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	e.mu.Lock()
	delete(e.pipes, catalogKey(name))
	e.mu.Unlock()
	e.forgetExpectations(name)
	if err := e.setDesired(name, ""); err != nil {
		return err
	}
	if err := os.RemoveAll(e.pipelineDir(name)); err != nil {
		return fmt.Errorf("removing the state of pipeline %q: %w", name, err)
	}
	return nil
}

// startBackground runs START PIPELINE for a streaming pipeline in the
// gateway: it runs in the background, with this session's parameters, and
// runs again when the gateway restarts.
func (s *Session) startBackground(ctx context.Context, name string) error {
	opts := Options{Params: s.params, LookupEnv: s.env}
	if err := s.eng.StartPipeline(ctx, name, opts, PipelineOptions{}); err != nil {
		return err
	}
	return s.eng.setDesired(name, pipelineRunning)
}

// stopBackground runs STOP PIPELINE in the gateway: the pipeline takes a
// last checkpoint and stops, and stays stopped across restarts. Stopping a
// pipeline that does not run only records that.
func (s *Session) stopBackground(ctx context.Context, name string) error {
	_, err := s.eng.StopPipeline(ctx, name)
	if serr := s.eng.setDesired(name, pipelineStopped); err == nil {
		err = serr
	}
	return err
}

// lastCheckpoint returns the figures of a pipeline this process does not
// run, from its last checkpoint (ok false when it has none). The state is
// read under the manager's lock, so that a START does not find it locked
// by the reading; a pipeline being started shows as starting.
func (e *Engine) lastCheckpoint(name string) (stream.Snapshot, bool) {
	m := &e.pm
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runs[catalogKey(name)] != nil {
		return stream.Snapshot{Name: name, State: stream.StateStarting}, true
	}
	snap, ok, err := stream.LastCheckpoint(name, e.pipelineDir(name))
	return snap, err == nil && ok
}
