package stream_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/exec/stream"
	"github.com/etlc/etlc/parser"
)

// harness drives one pipeline step by step with a fake clock.
type harness struct {
	t       *testing.T
	dir     string
	eng     *session.Engine
	now     time.Time
	name    string
	p       *session.PipelineRun
	printed map[string]bool
}

func (h *harness) clock() time.Time { return h.now }

func (h *harness) open(ctx context.Context) error {
	s := h.eng.NewSession(session.Options{Params: map[string]string{"dir": h.dir}})
	p, err := s.OpenPipeline(ctx, h.name, session.PipelineOptions{Now: h.clock, CheckpointInterval: time.Hour})
	if err != nil {
		return err
	}
	h.p = p
	return nil
}

// newOutput returns the sink's rows in files not shown before, sorted.
func (h *harness) newOutput() string {
	var lines []string
	filepath.WalkDir(filepath.Join(h.dir, "out"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "_") || strings.HasPrefix(d.Name(), ".") ||
			strings.Contains(path, "/_") || h.printed[path] {
			return nil
		}
		h.printed[path] = true
		data, _ := os.ReadFile(path)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (h *harness) status() string {
	var st stream.Snapshot
	for _, s := range h.eng.PipelineStatus() {
		if s.Name == h.name {
			st = s
		}
	}
	wm := "none"
	if !st.Watermark.IsZero() {
		wm = st.Watermark.Format("2006-01-02 15:04:05")
	}
	if st.InputEnded {
		wm = "end of input"
	}
	return fmt.Sprintf("watermark %s; in %d, out %d, late %d; files %d; checkpoints %d", wm, st.RowsIn, st.RowsOut, st.LateRows, st.Files, st.Checkpoints)
}

// TestEventTime runs the golden event-time tests in testdata/: windows of
// each kind, watermarks, late rows, idle partitions, session merging,
// emit = 'update' and a restart from a checkpoint.
//
//	setup               the input is a script (${dir} is the test directory); the
//	                    last CREATE PIPELINE is the one driven
//	file name=REL       writes the input as in/REL (written aside, then renamed)
//	clock advance=DUR   moves the fake wall clock
//	poll                reads the new files
//	checkpoint [final]  takes a checkpoint (final: the input ends); prints the
//	                    sink rows it published
//	query               runs the input (SQL) and prints its rows
//	restart             closes the pipeline and opens it again from its checkpoint
//	state               prints the committed operator state's entries by kind
func TestEventTime(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		ctx := context.Background()
		dir := t.TempDir()
		eng, err := session.Open(ctx, filepath.Join(dir, "data"), session.Config{})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, dir: dir, eng: eng, now: time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC), printed: map[string]bool{}}
		defer func() {
			if h.p != nil {
				h.p.Close()
			}
			eng.Close()
		}()
		if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
			t.Fatal(err)
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if h.p == nil && d.Cmd != "setup" && d.Cmd != "file" && d.Cmd != "clock" {
				return "error: no pipeline is open"
			}
			switch d.Cmd {
			case "setup":
				s := eng.NewSession(session.Options{Params: map[string]string{"dir": dir}})
				defer s.Close()
				src := parser.NewSource("setup.sql", d.Input)
				run, err := s.Exec(ctx, src, session.ExecOptions{})
				if run != nil {
					defer run.Release()
				}
				if err != nil {
					return "error: " + err.Error()
				}
				names := session.Pipelines(src, map[string]string{"dir": dir}, nil)
				if len(names) == 0 {
					return "error: the setup creates no pipeline"
				}
				h.name = names[len(names)-1]
				if err := h.open(ctx); err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "file":
				var name string
				d.ScanArgs(t, "name", &name)
				p := filepath.Join(dir, "in", name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				tmp := filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p))
				if err := os.WriteFile(tmp, []byte(d.Input), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, p); err != nil {
					t.Fatal(err)
				}
				return "ok"
			case "clock":
				var adv string
				d.ScanArgs(t, "advance", &adv)
				dur, err := time.ParseDuration(adv)
				if err != nil {
					t.Fatal(err)
				}
				h.now = h.now.Add(dur)
				return "ok"
			case "poll":
				n, waiting, err := h.p.Poll(ctx)
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("read %d, waiting %d; %s", n, waiting, h.status())
			case "checkpoint":
				if err := h.p.Checkpoint(ctx, d.HasArg("final")); err != nil {
					return "error: " + err.Error()
				}
				out := h.newOutput()
				if out != "" {
					out += "\n"
				}
				return out + h.status()
			case "query":
				s := eng.NewSession(session.Options{})
				defer s.Close()
				run, err := s.Exec(ctx, parser.NewSource("query.sql", d.Input), session.ExecOptions{})
				if err != nil {
					return "error: " + err.Error()
				}
				defer run.Release()
				var sb strings.Builder
				for _, st := range run.Statements {
					for _, rec := range st.Records {
						for i := 0; i < int(rec.NumRows()); i++ {
							for c := 0; c < int(rec.NumCols()); c++ {
								if c > 0 {
									sb.WriteString("|")
								}
								v, ok := session.FormatValue(rec.Column(c), i)
								if !ok {
									v = "NULL"
								}
								sb.WriteString(v)
							}
							sb.WriteString("\n")
						}
					}
				}
				return sb.String()
			case "state":
				n, err := h.p.StateEntries()
				if err != nil {
					return "error: " + err.Error()
				}
				var parts []string
				for k, v := range n {
					parts = append(parts, fmt.Sprintf("%s %d", k, v))
				}
				sort.Strings(parts)
				if len(parts) == 0 {
					return "no state"
				}
				return strings.Join(parts, "; ")
			case "restart":
				if err := h.p.Close(); err != nil {
					return "error: " + err.Error()
				}
				h.p = nil
				if err := h.open(ctx); err != nil {
					return "error: " + err.Error()
				}
				return h.status()
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}
