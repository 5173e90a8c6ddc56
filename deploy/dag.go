package deploy

import (
	"fmt"
	"slices"
	"strings"
)

// Edge says that script After runs after script Before because it reads
// what Before writes.
type Edge struct {
	Before, After string
	// Because are the resources After reads that Before writes.
	Because []Resource
}

// DAG is the order in which a set of scripts must run: a script that reads
// what another writes (the same table, the same path or a path under it)
// runs after it; scripts with no such relation run in parallel.
type DAG struct {
	// Scripts in the order given.
	Scripts []*Script
	// Deps maps a script's Name to the Names of the scripts it runs after,
	// sorted.
	Deps map[string][]string
	// Edges lists every dependency with its reason, sorted.
	Edges []Edge
}

// CycleError is a set of scripts each of which reads what the next writes,
// the last what the first writes: no order runs them.
type CycleError struct {
	// Files are the scripts of the cycle, in order, the first repeated at
	// the end.
	Files []string
	// Edges are the dependencies along the cycle.
	Edges []Edge
}

func (e *CycleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the scripts depend on each other in a cycle: %s", strings.Join(e.Files, " -> "))
	for _, ed := range e.Edges {
		names := make([]string, len(ed.Because))
		for i, r := range ed.Because {
			names[i] = r.String()
		}
		fmt.Fprintf(&b, "\n  %s reads %s, which %s writes", ed.After, strings.Join(names, ", "), ed.Before)
	}
	b.WriteString("\nhint: a script that reads its own output must write it first; split the scripts so data flows one way")
	return b.String()
}

// BuildDAG derives the run order of scripts from their data dependencies.
// Two scripts with the same Name are an error; a cycle is a *CycleError.
func BuildDAG(scripts []*Script) (*DAG, error) {
	if len(scripts) == 0 {
		return nil, errNoScripts
	}
	byName := map[string]*Script{}
	for _, s := range scripts {
		if o, ok := byName[s.Name]; ok {
			return nil, fmt.Errorf("%s and %s both make the step name %q: rename one of them", o.File, s.File, s.Name)
		}
		byName[s.Name] = s
	}
	d := &DAG{Scripts: scripts, Deps: map[string][]string{}}
	for _, after := range scripts {
		for _, before := range scripts {
			if before == after {
				continue
			}
			var because []Resource
			for _, r := range after.Reads {
				for _, w := range before.Writes {
					if r.overlaps(w) && !slices.Contains(because, r) {
						because = append(because, r)
					}
				}
			}
			if len(because) > 0 {
				d.Deps[after.Name] = append(d.Deps[after.Name], before.Name)
				d.Edges = append(d.Edges, Edge{Before: before.Name, After: after.Name, Because: because})
			}
		}
	}
	for n := range d.Deps {
		slices.Sort(d.Deps[n])
	}
	slices.SortFunc(d.Edges, func(x, y Edge) int {
		if c := strings.Compare(x.After, y.After); c != 0 {
			return c
		}
		return strings.Compare(x.Before, y.Before)
	})
	if cyc := d.findCycle(); cyc != nil {
		return nil, cyc
	}
	return d, nil
}

// findCycle returns a cycle of the dependency graph, or nil.
func (d *DAG) findCycle() *CycleError {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		state[n] = onPath
		stack = append(stack, n)
		for _, m := range d.Deps[n] {
			switch state[m] {
			case onPath:
				i := slices.Index(stack, m)
				found = append(slices.Clone(stack[i:]), m)
				return true
			case unseen:
				if visit(m) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return false
	}
	for _, s := range d.Scripts {
		if state[s.Name] == unseen && visit(s.Name) {
			break
		}
	}
	if found == nil {
		return nil
	}
	// found runs along "depends on" edges: a runs after b runs after c ...
	// Report it in data-flow order: the writer first.
	slices.Reverse(found)
	file := map[string]string{}
	for _, s := range d.Scripts {
		file[s.Name] = s.File
	}
	e := &CycleError{}
	for i, n := range found {
		e.Files = append(e.Files, file[n])
		if i > 0 {
			for _, ed := range d.Edges {
				if ed.Before == found[i-1] && ed.After == n {
					ed.Before, ed.After = file[ed.Before], file[ed.After]
					e.Edges = append(e.Edges, ed)
				}
			}
		}
	}
	return e
}

// Levels groups the scripts into waves: each runs after every script it
// depends on, in an earlier wave. Names within a wave are sorted.
func (d *DAG) Levels() [][]string {
	level := map[string]int{}
	var depth func(n string) int
	depth = func(n string) int {
		if l, ok := level[n]; ok {
			return l
		}
		l := 0
		for _, m := range d.Deps[n] {
			l = max(l, depth(m)+1)
		}
		level[n] = l
		return l
	}
	var out [][]string
	for _, s := range d.Scripts {
		l := depth(s.Name)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], s.Name)
	}
	for _, w := range out {
		slices.Sort(w)
	}
	return out
}
