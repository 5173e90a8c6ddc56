package planner

import (
	"encoding/json"
	"fmt"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// MarshalJSON encodes the program for `etlc compile -o plan.json`. The
// encoding is deterministic: the same script gives the same bytes (object
// keys sorted, no timestamps, constants in their SQL spelling).
func (p *Program) MarshalJSON() ([]byte, error) {
	stmts := make([]any, 0, len(p.Statements))
	for i, s := range p.Statements {
		m := stmtJSON(p.Source, s)
		if i < len(p.ParamTypes) && len(p.ParamTypes[i]) > 0 {
			ts := make([]string, len(p.ParamTypes[i]))
			for j, t := range p.ParamTypes[i] {
				ts[j] = t.String()
			}
			m["params"] = ts
		}
		stmts = append(stmts, m)
	}
	out := map[string]any{"statements": stmts}
	if p.Source != nil {
		out["source"] = p.Source.Name
	}
	return json.Marshal(out)
}

func stmtJSON(src *parser.Source, s BoundStmt) map[string]any {
	m := map[string]any{}
	if s.Parsed() != nil && src != nil {
		pos := src.Position(s.Parsed().StmtSpan().Start)
		m["line"], m["col"] = pos.Line, pos.Col
	}
	switch s := s.(type) {
	case *QueryStmt:
		m["kind"], m["plan"] = "select", nodeJSON(s.Plan)
	case *InsertStmt:
		m["kind"], m["overwrite"], m["columns"], m["plan"] = "insert", s.Overwrite, s.Columns, nodeJSON(s.Plan)
		m["target"] = objectJSON(s.Target)
	case *CreateStmt:
		m["kind"], m["object"], m["mode"] = "create", objectJSON(s.Object), int(s.Mode)
		if s.Query != nil {
			m["query"] = nodeJSON(s.Query)
		}
	case *PipelineStmt:
		m["kind"], m["object"], m["mode"] = "create_pipeline", objectJSON(s.Object), int(s.Mode)
		if s.Insert != nil {
			m["insert"] = stmtJSON(src, s.Insert)
		}
		if s.Source != nil {
			m["source"] = nodeJSON(s.Source)
		}
		var exps []any
		for _, e := range s.Expectations {
			exps = append(exps, map[string]any{"name": e.Name, "cond": exprJSON(e.Cond), "action": e.Action.String(), "over_output": e.OverOutput})
		}
		m["expectations"] = exps
		if s.Insert != nil && s.Insert.Plan != nil {
			state := []any{}
			for _, l := range StateLayouts(s.Insert.Plan) {
				state = append(state, l)
			}
			m["state"] = state
		}
	case *ValidateStmt:
		m["kind"], m["name"], m["plan"] = "validate", s.Name, nodeJSON(s.Plan)
	case *AssertStmt:
		m["kind"], m["cond"], m["message"] = "assert", exprJSON(s.Cond), s.Message
	case *MergeStmt:
		m["kind"], m["target"], m["source"], m["on"] = "merge", objectJSON(s.Target), nodeJSON(s.Source), exprJSON(s.On)
		var acts []any
		for _, a := range s.Actions {
			acts = append(acts, map[string]any{
				"matched": a.Matched, "cond": exprJSON(a.Cond), "action": int(a.Kind),
				"set_columns": a.SetColumns, "set_values": exprsJSON(a.SetValues),
				"insert_columns": a.InsertColumns, "insert_values": exprsJSON(a.InsertValues),
			})
		}
		m["actions"] = acts
	case *CreateIndexStmt:
		m["kind"], m["index"], m["if_not_exists"] = "create_index", indexJSON(s.Index), s.IfNotExists
		if s.Table != nil {
			m["table"] = s.Table.Name
		}
	case *DropIndexStmt:
		m["kind"], m["names"] = "drop_index", s.Names
	case *DropStmt:
		var objs []any
		for _, o := range s.Objects {
			objs = append(objs, objectJSON(o))
		}
		m["kind"], m["objects"] = "drop", objs
	case *ExplainStmt:
		m["kind"], m["analyze"] = "explain", s.Analyze
		if s.Inner != nil {
			m["stmt"] = stmtJSON(src, s.Inner)
		}
	case *DeclareStmt:
		m["kind"], m["name"], m["type"] = "declare", s.Stmt.Name.Name, s.Type.String()
	case *UtilityStmt:
		m["kind"], m["stmt"] = "utility", fmt.Sprintf("%T", s.Stmt)
		if s.Object != nil {
			m["object"] = s.Object.Name
		}
	}
	return m
}

func objectJSON(o *catalog.Object) any {
	if o == nil {
		return nil
	}
	cols := make([]any, len(o.Columns))
	for i, c := range o.Columns {
		cols[i] = map[string]any{"name": c.Name, "type": c.Type.String(), "not_null": c.NotNull}
	}
	m := map[string]any{"kind": o.Kind.String(), "name": o.Name, "columns": cols, "options": o.Options}
	if o.Watermark != nil {
		m["watermark"] = map[string]any{"column": o.Watermark.Column, "expr": o.Watermark.Expr}
	}
	if len(o.PrimaryKey) > 0 {
		m["primary_key"] = o.PrimaryKey
	}
	for i, c := range o.Columns {
		if c.Default != "" {
			cols[i].(map[string]any)["default"] = c.Default
		}
	}
	if len(o.Indexes) > 0 {
		ixs := make([]any, len(o.Indexes))
		for i, ix := range o.Indexes {
			ixs[i] = indexJSON(ix)
		}
		m["indexes"] = ixs
	}
	if len(o.Checks) > 0 {
		cks := make([]any, len(o.Checks))
		for i, c := range o.Checks {
			cks[i] = map[string]any{"name": c.Name, "expr": c.Expr}
		}
		m["checks"] = cks
	}
	return m
}

func indexJSON(ix catalog.Index) map[string]any {
	m := map[string]any{"name": ix.Name, "columns": ix.Columns, "unique": ix.Unique}
	if ix.Prefix != nil {
		m["prefix"] = ix.Prefix
	}
	if ix.Primary {
		m["primary"] = true
	}
	return m
}

func columnsJSON(cols []Column) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = map[string]any{"name": c.Name, "qualifier": c.Qualifier, "type": c.Type.String(), "nullable": c.Nullable}
	}
	return out
}

func sortKeysJSON(keys []SortKey) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"expr": exprJSON(k.Expr), "desc": k.Desc, "nulls_first": k.NullsFirst}
	}
	return out
}

func nodeJSON(n Node) any {
	if n == nil {
		return nil
	}
	m := map[string]any{"columns": columnsJSON(n.Schema())}
	if l, _, ok := stateOf(n); ok {
		m["state_fingerprint"] = l.Fingerprint
	}
	switch n := n.(type) {
	case *Scan:
		m["op"], m["object"], m["alias"], m["stream"] = "scan", n.Object.Name, n.Alias, n.Stream
		if n.Cols != nil {
			m["cols"] = n.Cols
		}
		if len(n.Filters) > 0 {
			m["prune_by"] = exprsJSON(n.Filters)
		}
		if len(n.PartitionFilters) > 0 {
			m["partitions_by"] = exprsJSON(n.PartitionFilters)
		}
	case *Values:
		rows := make([]any, len(n.Rows))
		for i, r := range n.Rows {
			rows[i] = exprsJSON(r)
		}
		m["op"], m["rows"] = "values", rows
	case *Filter:
		m["op"], m["cond"] = "filter", exprJSON(n.Cond)
	case *Project:
		m["op"], m["exprs"] = "project", exprsJSON(n.Exprs)
	case *Aggregate:
		aggs := make([]any, len(n.Aggs))
		for i, a := range n.Aggs {
			aggs[i] = map[string]any{"fn": a.Fn.Name, "args": exprsJSON(a.Args), "distinct": a.Distinct,
				"filter": exprJSON(a.Filter), "order_by": sortKeysJSON(a.OrderBy), "type": a.T.String()}
		}
		m["op"], m["group_by"], m["aggs"] = "aggregate", exprsJSON(n.GroupBy), aggs
		if w := n.Window; w != nil {
			m["window"] = map[string]any{"kind": w.Kind.String(), "time": exprJSON(w.Time), "size": exprJSON(w.Size),
				"slide": exprJSON(w.Slide), "gap": exprJSON(w.Gap)}
		}
	case *Join:
		m["op"], m["kind"], m["cond"] = "join", n.Kind.String(), exprJSON(n.Cond)
		if n.BuildLeft {
			m["build"] = "left"
		}
	case *Sort:
		m["op"], m["keys"] = "sort", sortKeysJSON(n.Keys)
	case *Limit:
		m["op"], m["count"], m["offset"] = "limit", exprJSON(n.Count), exprJSON(n.Offset)
	case *SetOp:
		m["op"], m["kind"], m["all"] = "setop", n.Kind.String(), n.All
	case *Distinct:
		m["op"] = "distinct"
	case *Expect:
		checks := make([]any, len(n.Checks))
		for i, c := range n.Checks {
			checks[i] = map[string]any{"name": c.Name, "cond": exprJSON(c.Cond), "action": c.Action.String()}
		}
		m["op"], m["pipeline"], m["checks"] = "expect", n.Pipeline, checks
	case *Window:
		fns := make([]any, len(n.Funcs))
		for i, f := range n.Funcs {
			fm := map[string]any{"fn": f.Fn.Name, "args": exprsJSON(f.Args), "distinct": f.Distinct,
				"partition_by": exprsJSON(f.PartitionBy), "order_by": sortKeysJSON(f.OrderBy), "type": f.T.String()}
			if f.Frame != nil {
				fm["frame"] = f.Frame.String()
			}
			fns[i] = fm
		}
		m["op"], m["funcs"] = "window", fns
	case *ProjectSet:
		fns := make([]any, len(n.Funcs))
		for i, f := range n.Funcs {
			fns[i] = map[string]any{"fn": f.Name, "args": exprsJSON(f.Args), "type": f.T.String()}
		}
		m["op"], m["funcs"] = "project_set", fns
	case *CTERef:
		m["op"], m["name"], m["alias"], m["view"] = "cte", n.Name, n.Alias, n.View
	case *RecursiveCTE:
		m["op"], m["name"], m["id"], m["all"] = "recursive_cte", n.Name, n.ID, n.All
	case *WorkTable:
		m["op"], m["name"], m["id"] = "work_table", n.Name, n.ID
	}
	var children []any
	for _, c := range n.Children() {
		children = append(children, nodeJSON(c))
	}
	if len(children) > 0 {
		m["inputs"] = children
	}
	return m
}

func exprsJSON(es []Expr) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = exprJSON(e)
	}
	return out
}

func exprJSON(e Expr) any {
	if e == nil {
		return nil
	}
	m := map[string]any{"type": e.Type().String()}
	switch x := e.(type) {
	case *ColRef:
		m["op"], m["index"], m["name"] = "col", x.Index, x.Name
	case *OuterRef:
		m["op"], m["depth"], m["index"], m["name"] = "outer", x.Depth, x.Index, x.Name
	case *Const:
		m["op"], m["value"] = "const", x.String()
	case *Param:
		m["op"], m["index"] = "param", x.Index
	case *Call:
		m["op"], m["fn"], m["args"] = "call", x.Name, exprsJSON(x.Args)
	case *Cast:
		m["op"], m["arg"], m["try"], m["implicit"] = "cast", exprJSON(x.Arg), x.Try, x.Implicit
	case *Case:
		whens := make([]any, len(x.Whens))
		for i, w := range x.Whens {
			whens[i] = map[string]any{"cond": exprJSON(w.Cond), "result": exprJSON(w.Result)}
		}
		m["op"], m["whens"], m["else"] = "case", whens, exprJSON(x.Else)
	case *Subquery:
		m["op"], m["kind"], m["plan"], m["arg"], m["cmp"], m["not"], m["correlated"], m["id"] =
			"subquery", x.Kind.String(), nodeJSON(x.Plan), exprJSON(x.Arg), x.Op, x.Not, x.Correlated, x.ID
	default:
		m["op"] = fmt.Sprintf("%T", e)
	}
	return m
}
