package planner

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// CompileOptions configure CompileScript and BindScript.
type CompileOptions struct {
	// Params are the --param values, passed to the parser.
	Params map[string]string
	// LookupEnv looks up ETL_PARAM_<NAME> variables for the parser (nil:
	// no environment).
	LookupEnv func(key string) (string, bool)
	// Infer infers the schema of sources declared without columns; nil
	// leaves such sources without columns.
	Infer InferFunc
	// Registry is the function registry; nil means NewRegistry().
	Registry *Registry
	// Session is what current_user, current_database(), version() and
	// pg_backend_pid() answer.
	Session SessionInfo
	// Apply writes the script's CREATE and DROP statements through to the
	// catalog as they are bound. Without it the catalog is never changed:
	// the script is bound against a scratch view of it.
	Apply bool
}

// Program is a bound script: every statement in order.
type Program struct {
	Source     *parser.Source
	Statements []BoundStmt
	// ParamTypes[i] are the types of the parameters ($1 or the first ?, at
	// index 0, ...) of Statements[i], for the wire protocol's parameter
	// description; nil when the statement has none.
	ParamTypes [][]catalog.Type
}

// BindScript binds every statement of a parsed script in order against
// cat (which may be nil for an empty catalog), each statement seeing the
// objects the ones before it created. Binding goes on after an error, so
// the diagnostics cover every statement; a failed CREATE still registers
// what could be resolved, so later statements do not report it again.
func BindScript(ctx context.Context, script *parser.Script, cat *catalog.Catalog, opts CompileOptions) (*Program, parser.Diagnostics) {
	reg := opts.Registry
	if reg == nil {
		reg = NewRegistry()
	}
	if cat == nil {
		cat = catalog.NewMemory()
	}
	b := &binder{
		ctx:   ctx,
		reg:   reg,
		cat:   newScratch(cat, opts.Apply),
		src:   script.Source,
		infer: opts.Infer,
		pos:   map[Expr]int{},
		views: map[string]Node{},

		expanding:     map[string]bool{},
		unknownSchema: map[string]bool{},
		session:       opts.Session,
	}
	prog := &Program{Source: script.Source}
	for _, s := range script.Stmts {
		if err := ctx.Err(); err != nil {
			b.errorf(s.StmtSpan().Start, "57014", "", "compilation canceled: %v", err)
			break
		}
		if bs := b.bindSafely(s); bs != nil {
			prog.Statements = append(prog.Statements, bs)
			prog.ParamTypes = append(prog.ParamTypes, b.paramTypes())
		}
	}
	b.diags.Sort()
	return prog, b.diags
}

// bindSafely binds one statement, turning a panic (from the binder or the
// TiDB AST) into a diagnostic at the statement.
func (b *binder) bindSafely(s parser.Stmt) (out BoundStmt) {
	defer func() {
		if r := recover(); r != nil {
			b.errorf(s.StmtSpan().Start, "XX000", "this is a bug in etlc; please report it with the statement",
				"internal error while binding the statement: %v", r)
			out = nil
		}
	}()
	return b.bindStmt(s)
}

// FormatStmt renders a bound statement for golden tests and EXPLAIN: a
// header line naming the statement, then its plans indented.
func FormatStmt(s BoundStmt) string {
	var sb strings.Builder
	plan := func(label string, n Node) {
		if n == nil {
			return
		}
		if label != "" {
			sb.WriteString(label + ":\n")
		}
		for _, l := range strings.Split(strings.TrimRight(Format(n), "\n"), "\n") {
			sb.WriteString("  " + l + "\n")
		}
	}
	switch s := s.(type) {
	case *QueryStmt:
		sb.WriteString("SELECT\n")
		plan("", s.Plan)
	case *InsertStmt:
		verb := "INSERT INTO"
		if s.Overwrite {
			verb = "INSERT OVERWRITE"
		}
		fmt.Fprintf(&sb, "%s %s (%s)\n", verb, objName(s.Target), targetCols(s.Target, s.Columns))
		plan("", s.Plan)
	case *CreateStmt:
		fmt.Fprintf(&sb, "CREATE %s %s %s\n", strings.ToUpper(s.Object.Kind.String()), s.Object.Name, s.Object.Columns)
		plan("", s.Query)
	case *PipelineStmt:
		fmt.Fprintf(&sb, "CREATE PIPELINE %s\n", s.Object.Name)
		for _, e := range s.Expectations {
			cond := "<error>"
			if e.Cond != nil {
				cond = e.Cond.String()
			}
			over := "source rows"
			if e.OverOutput {
				over = "output rows"
			}
			act := e.Action.String()
			if act == "" {
				act = "COUNT"
			}
			fmt.Fprintf(&sb, "  EXPECT %s %s ON VIOLATION %s (over %s)\n", e.Name, cond, act, over)
		}
		if s.Insert != nil {
			for _, l := range strings.Split(strings.TrimRight(FormatStmt(s.Insert), "\n"), "\n") {
				sb.WriteString("  " + l + "\n")
			}
		}
	case *ValidateStmt:
		fmt.Fprintf(&sb, "VALIDATE %s\n", s.Name)
		plan("", s.Plan)
	case *AssertStmt:
		cond := "<error>"
		if s.Cond != nil {
			cond = s.Cond.String()
		}
		fmt.Fprintf(&sb, "ASSERT %s, %q\n", cond, s.Message)
		for _, sq := range collectSubqueries(s.Cond) {
			plan(fmt.Sprintf("  Subquery %d %s", sq.ID, sq.Kind), sq.Plan)
		}
	case *MergeStmt:
		fmt.Fprintf(&sb, "MERGE INTO %s ON %s\n", objName(s.Target), exprOrErr(s.On))
		for _, a := range s.Actions {
			m := "WHEN MATCHED"
			if !a.Matched {
				m = "WHEN NOT MATCHED"
			}
			if a.Cond != nil {
				m += " AND " + a.Cond.String()
			}
			switch a.Kind {
			case parser.MergeUpdate:
				var sets []string
				for i, c := range a.SetColumns {
					sets = append(sets, fmt.Sprintf("%s = %s", colName(s.Target, c), exprOrErr(a.SetValues[i])))
				}
				m += " THEN UPDATE SET " + strings.Join(sets, ", ")
			case parser.MergeDelete:
				m += " THEN DELETE"
			case parser.MergeInsert:
				var cols []string
				for _, c := range a.InsertColumns {
					cols = append(cols, colName(s.Target, c))
				}
				m += " THEN INSERT (" + strings.Join(cols, ", ") + ") VALUES (" + joinExprs(a.InsertValues) + ")"
			}
			sb.WriteString("  " + m + "\n")
		}
		plan("  USING", s.Source)
	case *CreateIndexStmt:
		table := "<error>"
		if s.Table != nil {
			table = s.Table.Name
		}
		fmt.Fprintf(&sb, "CREATE INDEX %s ON %s\n", s.Index, table)
	case *DropIndexStmt:
		fmt.Fprintf(&sb, "DROP INDEX %s\n", strings.Join(s.Names, ", "))
	case *DropStmt:
		var names []string
		for _, o := range s.Objects {
			names = append(names, o.Name)
		}
		fmt.Fprintf(&sb, "DROP %s %s\n", s.Stmt.Kind, strings.Join(names, ", "))
	case *ExplainStmt:
		sb.WriteString("EXPLAIN\n")
		if s.Inner != nil {
			for _, l := range strings.Split(strings.TrimRight(FormatStmt(s.Inner), "\n"), "\n") {
				sb.WriteString("  " + l + "\n")
			}
		}
	case *DeclareStmt:
		fmt.Fprintf(&sb, "DECLARE %s %s\n", s.Stmt.Name.Name, s.Type)
	case *UtilityStmt:
		fmt.Fprintf(&sb, "%T\n", s.Stmt)
	}
	return sb.String()
}

func exprOrErr(e Expr) string {
	if e == nil {
		return "<error>"
	}
	return e.String()
}

func objName(o *catalog.Object) string {
	if o == nil {
		return "<unknown>"
	}
	return o.Name
}

func colName(o *catalog.Object, i int) string {
	if o == nil || i < 0 || i >= len(o.Columns) {
		return "?"
	}
	return o.Columns[i].Name
}

func targetCols(o *catalog.Object, idx []int) string {
	parts := make([]string, len(idx))
	for i, c := range idx {
		parts[i] = colName(o, c)
	}
	return strings.Join(parts, ", ")
}

func collectSubqueries(e Expr) []*Subquery {
	var out []*Subquery
	WalkExpr(e, func(x Expr) bool {
		if s, ok := x.(*Subquery); ok {
			out = append(out, s)
		}
		return true
	})
	return out
}
