package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// StateLayout describes the state a stateful operator of a streaming plan
// keeps (in Pebble, between checkpoints): what its keys and values are.
// A changed pipeline can resume from an old checkpoint only when each of
// its stateful operators has the layout the old one had. Layouts are part
// of the plan JSON of `etlc compile -o` (a pipeline's "state"), so that
// `etlc compile --check-compat old-plan.json new.sql` can compare them.
type StateLayout struct {
	// ID names the operator within its pipeline: its kind and its number
	// among the operators of that kind, in plan order from the root
	// ("aggregate#1", "join#1").
	ID string `json:"id"`
	// Op is the operator: window aggregate, aggregate, stream join,
	// distinct, deduplicate.
	Op string `json:"op"`
	// Keys are the state's keys: group keys, join keys, or the distinct
	// columns, each as "expression TYPE" with column positions left out.
	Keys []string `json:"keys"`
	// Values are what is kept per key: aggregate states ("sum(DECIMAL(12,2))
	// DECIMAL(38,2)"), the buffered rows of each join side, or a
	// deduplication's order and candidate rows.
	Values []string `json:"values"`
	// Window is the group window ("TUMBLE size=INTERVAL '00:01:00'"), ""
	// for none.
	Window string `json:"window,omitempty"`
	// Form is how a window aggregate keeps its state: "partial aggregates"
	// (per TUMBLE window and group key, see PartialWindow), "partial
	// aggregates per pane" (a HOP window's: per pane of gcd(size, slide)
	// and group key, merged into windows at emission) or "rows" (the input
	// rows of the open windows); "" for the other operators.
	Form string `json:"form,omitempty"`
	// Fingerprint is a hash of Op, Keys, Values, Window and Form.
	Fingerprint string `json:"fingerprint"`
}

// PartialAggCall reports whether an aggregate call splits into partial
// aggregates that merge (count, sum, min, max, and avg of a number), so
// that a stream keeps one partial state per group instead of its rows.
func PartialAggCall(a *AggCall) bool {
	if a.Distinct || len(a.OrderBy) > 0 {
		return false
	}
	switch a.Fn.Name {
	case "count", "sum", "min", "max":
		return true
	case "avg":
		return len(a.Args) == 1 && a.Args[0].Type().IsNumeric()
	}
	return false
}

// PartialWindow reports whether a window aggregation over a stream keeps
// partial aggregates per (window, group key): a TUMBLE or HOP window whose
// aggregates are all PartialAggCall. SESSION windows, whose windows merge,
// and aggregates that need all rows (DISTINCT, percentiles, string_agg)
// keep the input rows of the open windows.
func PartialWindow(a *Aggregate) bool {
	if a.Window == nil || a.Window.Kind == Session {
		return false
	}
	for _, c := range a.Aggs {
		if !PartialAggCall(c) {
			return false
		}
	}
	return true
}

// colPos matches the position suffix of a column reference (amount#2).
var colPos = regexp.MustCompile(`#\d+`)

// layoutExpr is an expression as a state layout shows it: its SQL with
// column positions removed, and its type.
func layoutExpr(e Expr) string {
	if e == nil {
		return ""
	}
	return colPos.ReplaceAllString(e.String(), "") + " " + e.Type().String()
}

func rowLayout(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " " + c.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// StateLayouts returns the layouts of the stateful operators of plan n that
// run over a stream (an operator over a batch input keeps no state between
// checkpoints): aggregates, joins of two streams, DISTINCT, deduplication
// (ROW_NUMBER() over a stream). Operators are
// listed in plan order from the root.
func StateLayouts(n Node) []StateLayout {
	var out []StateLayout
	counts := map[string]int{}
	var walk func(Node)
	walk = func(n Node) {
		if n == nil {
			return
		}
		if l, kind, ok := stateOf(n); ok {
			counts[kind]++
			l.ID = fmt.Sprintf("%s#%d", kind, counts[kind])
			out = append(out, l)
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(n)
	return out
}

// stateOf returns the state layout of one node, its kind for IDs, and
// whether it keeps state over a stream.
func stateOf(n Node) (StateLayout, string, bool) {
	var l StateLayout
	switch x := n.(type) {
	case *Aggregate:
		if !hasStream(x.Input) {
			return l, "", false
		}
		l.Op = "aggregate"
		if w := x.Window; w != nil {
			l.Op = "window aggregate"
			switch w.Kind {
			case Tumble:
				l.Window = "TUMBLE size=" + w.Size.String()
			case Hop:
				l.Window = "HOP slide=" + w.Slide.String() + " size=" + w.Size.String()
			case Session:
				l.Window = "SESSION gap=" + w.Gap.String()
			}
			l.Window += " time=" + layoutExpr(w.Time)
			l.Form = "rows"
			switch {
			case PartialWindow(x) && w.Kind == Hop:
				// Since pane-based HOP windows, not the partial aggregates
				// per window that earlier versions kept.
				l.Form = "partial aggregates per pane"
			case PartialWindow(x):
				l.Form = "partial aggregates"
			}
		}
		for _, g := range x.GroupBy {
			l.Keys = append(l.Keys, layoutExpr(g))
		}
		for _, a := range x.Aggs {
			ts := make([]string, len(a.Args))
			for i, e := range a.Args {
				ts[i] = e.Type().String()
			}
			d := ""
			if a.Distinct {
				d = "DISTINCT "
			}
			v := fmt.Sprintf("%s(%s%s) %s", a.Fn.Name, d, strings.Join(ts, ", "), a.T)
			if a.Filter != nil {
				v += " FILTER"
			}
			l.Values = append(l.Values, v)
		}
		l.Fingerprint = fingerprint(l)
		return l, "aggregate", true
	case *Join:
		if !hasStream(x.Left) || !hasStream(x.Right) {
			return l, "", false
		}
		l.Op = "stream join"
		if x.Kind == LeftJoin {
			// It also keeps which left rows matched.
			l.Op = "stream left join"
		}
		if x.Cond != nil {
			l.Keys = []string{layoutExpr(x.Cond)}
		}
		l.Values = []string{"left " + rowLayout(x.Left.Schema()), "right " + rowLayout(x.Right.Schema())}
		l.Fingerprint = fingerprint(l)
		return l, "join", true
	case *Window:
		if !hasStream(x.Input) {
			return l, "", false
		}
		l.Op = "deduplicate"
		for _, f := range x.Funcs {
			for _, k := range f.PartitionBy {
				l.Keys = append(l.Keys, layoutExpr(k))
			}
			for _, o := range f.OrderBy {
				l.Values = append(l.Values, "first by "+layoutExpr(o.Expr))
			}
		}
		l.Values = append(l.Values, "rows "+rowLayout(x.Input.Schema()))
		l.Fingerprint = fingerprint(l)
		return l, "dedup", true
	case *Distinct:
		if !hasStream(x.Input) {
			return l, "", false
		}
		l.Op = "distinct"
		l.Keys = []string{rowLayout(x.Input.Schema())}
		l.Fingerprint = fingerprint(l)
		return l, "distinct", true
	}
	return l, "", false
}

// fingerprint hashes a layout's content (not its ID).
func fingerprint(l StateLayout) string {
	h := sha256.New()
	fmt.Fprintf(h, "op=%s\n", l.Op)
	for _, k := range l.Keys {
		fmt.Fprintf(h, "key=%s\n", k)
	}
	for _, v := range l.Values {
		fmt.Fprintf(h, "value=%s\n", v)
	}
	fmt.Fprintf(h, "window=%s\n", l.Window)
	if l.Form != "" {
		fmt.Fprintf(h, "form=%s\n", l.Form)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// StateIncompatibility says why a pipeline cannot resume from the state of
// an earlier version of it.
type StateIncompatibility struct {
	Pipeline string
	// Operator is the operator's ID ("aggregate#1") and Op its kind.
	Operator, Op string
	Reason       string
}

func (e StateIncompatibility) String() string {
	return fmt.Sprintf("pipeline %q: %s (%s) cannot resume from the old state: %s", e.Pipeline, e.Operator, e.Op, e.Reason)
}

// CompareState compares the stateful operators of an old and a new version
// of a pipeline, matched by ID, and returns why the new one could not
// resume from the old one's checkpoints (nil when it can).
func CompareState(pipeline string, old, new []StateLayout) []StateIncompatibility {
	var out []StateIncompatibility
	byID := map[string]StateLayout{}
	for _, l := range new {
		byID[l.ID] = l
	}
	seen := map[string]bool{}
	list := func(xs []string) string { return "[" + strings.Join(xs, ", ") + "]" }
	for _, o := range old {
		seen[o.ID] = true
		n, ok := byID[o.ID]
		if !ok {
			out = append(out, StateIncompatibility{pipeline, o.ID, o.Op, "the new pipeline has no such operator; its state would be lost"})
			continue
		}
		if o.Fingerprint == n.Fingerprint {
			continue
		}
		var why []string
		if o.Op != n.Op {
			why = append(why, fmt.Sprintf("the operator changed from %s to %s", o.Op, n.Op))
		}
		if o.Window != n.Window {
			why = append(why, fmt.Sprintf("the window changed from %s to %s", orNone(o.Window), orNone(n.Window)))
		}
		if o.Form != n.Form {
			why = append(why, fmt.Sprintf("the state changed from %s to %s", orNone(o.Form), orNone(n.Form)))
		}
		if !slices.Equal(o.Keys, n.Keys) {
			why = append(why, fmt.Sprintf("the state keys changed from %s to %s", list(o.Keys), list(n.Keys)))
		}
		if !slices.Equal(o.Values, n.Values) {
			why = append(why, fmt.Sprintf("the state values changed from %s to %s", list(o.Values), list(n.Values)))
		}
		if len(why) == 0 {
			why = append(why, fmt.Sprintf("the state fingerprint changed from %s to %s", o.Fingerprint, n.Fingerprint))
		}
		out = append(out, StateIncompatibility{pipeline, o.ID, n.Op, strings.Join(why, "; ")})
	}
	for _, n := range new {
		if !seen[n.ID] {
			out = append(out, StateIncompatibility{pipeline, n.ID, n.Op, "the old pipeline had no such operator, so there is no state to resume it from"})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
