package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/etlc/etlc/planner"
)

// planPipeline is a pipeline as the plan JSON of `etlc compile -o` holds
// it: its name, where it is, and the state layouts of its stateful
// operators.
type planPipeline struct {
	file      string
	line, col int
	name      string
	state     []planner.StateLayout
}

// pipelinesOfPlan returns the pipelines of one script's plan JSON.
func pipelinesOfPlan(file string, raw json.RawMessage) ([]planPipeline, error) {
	var plan struct {
		Statements []struct {
			Kind   string `json:"kind"`
			Line   int    `json:"line"`
			Col    int    `json:"col"`
			Object struct {
				Name string `json:"name"`
			} `json:"object"`
			State []planner.StateLayout `json:"state"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil {
		return nil, fmt.Errorf("the plan of %s: %w", file, err)
	}
	var out []planPipeline
	for _, s := range plan.Statements {
		if s.Kind == "create_pipeline" {
			out = append(out, planPipeline{file: file, line: s.Line, col: s.Col, name: s.Object.Name, state: s.State})
		}
	}
	return out, nil
}

// readOldPlans reads the pipelines of a plans document written by
// `etlc compile -o`, by pipeline name.
func readOldPlans(path string) (map[string]planPipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	var doc struct {
		Plans map[string]json.RawMessage `json:"plans"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Plans == nil {
		if err == nil {
			err = fmt.Errorf("no \"plans\" object")
		}
		return nil, fmt.Errorf("%s is not a plan written by etlc compile -o: %w", path, err)
	}
	out := map[string]planPipeline{}
	files := make([]string, 0, len(doc.Plans))
	for f := range doc.Plans {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		ps, err := pipelinesOfPlan(f, doc.Plans[f])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, p := range ps {
			out[p.name] = p
		}
	}
	return out, nil
}

// checkCompat compares the pipelines of the new plans with those of the old
// plans document and reports, for each pipeline in both, whether it can
// resume from the old one's state. It returns whether all can.
func checkCompat(w io.Writer, oldPath string, names []string, plans map[string]json.RawMessage) (bool, error) {
	old, err := readOldPlans(oldPath)
	if err != nil {
		return false, err
	}
	ok := true
	for _, name := range names {
		ps, err := pipelinesOfPlan(name, plans[name])
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			prev, found := old[p.name]
			if !found {
				fmt.Fprintf(w, "%s:%d:%d: pipeline %q is new: no state to resume\n", p.file, p.line, p.col, p.name)
				continue
			}
			bad := planner.CompareState(p.name, prev.state, p.state)
			for _, b := range bad {
				fmt.Fprintf(w, "%s:%d:%d: error: %s\n", p.file, p.line, p.col, b)
			}
			if len(bad) > 0 {
				ok = false
				fmt.Fprintf(w, "  hint: start the changed pipeline with a fresh data directory (its state), or keep the old state layout\n")
				continue
			}
			fmt.Fprintf(w, "%s:%d:%d: pipeline %q can resume from the state of %s (%d stateful operator(s))\n",
				p.file, p.line, p.col, p.name, oldPath, len(p.state))
		}
	}
	return ok, nil
}
