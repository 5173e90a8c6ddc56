package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// SessionInfo is what the PostgreSQL connect-time functions answer:
// current_user, current_database(), pg_backend_pid(), version().
type SessionInfo struct {
	User     string
	Database string
	PID      int32
	// ServerVersion is the PostgreSQL version the gateway reports
	// (server_version), e.g. "16.0".
	ServerVersion string
}

func (si SessionInfo) user() string {
	if si.User == "" {
		return "etl"
	}
	return si.User
}

func (si SessionInfo) database() string {
	if si.Database == "" {
		return "etl"
	}
	return si.Database
}

// pgMacro is a PostgreSQL catalog function written as an SQL expression
// over etlc's emulated catalog: __a1, __a2, ... stand for the arguments.
type pgMacro struct {
	minArgs, maxArgs int
	sql              string
}

// pgMacros are the functions PostgreSQL clients call on connect and in
// their metadata queries. Each expands, at bind time, to the expression
// that computes it from the catalog relations (see catalog.PGRelations), so
// it runs with the same operators as any query.
func pgMacros(si SessionInfo) map[string]pgMacro {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	version := "15.0"
	if f := strings.Fields(si.ServerVersion); len(f) > 0 {
		version = f[0]
	}
	privilege := pgMacro{1, 4, "TRUE"}
	// etlc does not account storage per relation: sizes are unknown (NULL).
	relSize := pgMacro{1, 2, "CASE WHEN __a1 IS NULL THEN NULL ELSE NULL::bigint END"}
	return map[string]pgMacro{
		"version":           {0, 0, q("PostgreSQL " + version + " on etlc, a PostgreSQL-compatible gateway (wire protocol and catalog emulation)")},
		"current_database":  {0, 0, q(si.database())},
		"current_catalog":   {0, 0, q(si.database())},
		"current_user":      {0, 0, q(si.user())},
		"session_user":      {0, 0, q(si.user())},
		"current_role":      {0, 0, q(si.user())},
		"user":              {0, 0, q(si.user())},
		"current_schema":    {0, 0, q(catalog.PublicSchema)},
		"current_schemas":   {1, 1, "CASE WHEN __a1 THEN __etl_array('pg_catalog', 'public', 'etl') ELSE __etl_array('public', 'etl') END"},
		"pg_backend_pid":    {0, 0, fmt.Sprintf("%d", si.PID)},
		"pg_is_in_recovery": {0, 0, "FALSE"},
		"pg_table_is_visible": {1, 1, fmt.Sprintf("CASE WHEN __a1 IS NULL THEN NULL ELSE (__a1 < %d OR __a1 > %d) END",
			catalog.OIDInfoSchemaFirst, catalog.OIDInfoSchemaLast)},
		"pg_type_is_visible":     {1, 1, "CASE WHEN __a1 IS NULL THEN NULL ELSE TRUE END"},
		"pg_function_is_visible": {1, 1, "CASE WHEN __a1 IS NULL THEN NULL ELSE TRUE END"},
		"format_type": {2, 2, `CASE WHEN __a1 IS NULL THEN NULL
			WHEN __a1 = 1043 AND __a2 > 4 THEN concat('character varying(', __a2 - 4, ')')
			WHEN __a1 = 1042 AND __a2 > 4 THEN concat('character(', __a2 - 4, ')')
			WHEN __a1 = 1700 AND __a2 >= 4 THEN concat('numeric(', (__a2 - 4) DIV 65536, ',', (__a2 - 4) % 65536, ')')
			ELSE coalesce((SELECT __t.typdisplay FROM pg_catalog.pg_type __t WHERE __t.oid = __a1), '???') END`},
		"pg_get_expr":              {2, 3, "__a1"},
		"pg_get_userbyid":          {1, 1, "CASE WHEN __a1 IS NULL THEN NULL WHEN __a1 = 10 THEN " + q(si.user()) + " ELSE concat('unknown (OID=', __a1, ')') END"},
		"pg_encoding_to_char":      {1, 1, "CASE WHEN __a1 = 6 THEN 'UTF8' WHEN __a1 = 0 THEN 'SQL_ASCII' ELSE '' END"},
		"has_table_privilege":      privilege,
		"has_schema_privilege":     privilege,
		"has_database_privilege":   privilege,
		"has_column_privilege":     privilege,
		"has_function_privilege":   privilege,
		"has_any_column_privilege": privilege,
		"obj_description":          {1, 2, "(SELECT __d.description FROM pg_catalog.pg_description __d WHERE __d.objoid = __a1 AND __d.objsubid = 0 LIMIT 1)"},
		"col_description":          {2, 2, "(SELECT __d.description FROM pg_catalog.pg_description __d WHERE __d.objoid = __a1 AND __d.objsubid = __a2 LIMIT 1)"},
		"shobj_description":        {2, 2, "CASE WHEN __a1 IS NULL THEN NULL ELSE NULL::text END"},
		"pg_get_indexdef":          {1, 1, "(SELECT __i.indexdef FROM pg_catalog.pg_index __i WHERE __i.indexrelid = __a1)"},
		// pg_get_indexdef(index, column, pretty): the column's name for a
		// column number above 0, the whole definition for 0.
		"__pg_get_indexdef_col": {2, 3, `CASE WHEN __a2 IS NULL THEN NULL
			WHEN __a2 = 0 THEN (SELECT __i.indexdef FROM pg_catalog.pg_index __i WHERE __i.indexrelid = __a1)
			ELSE (SELECT __t.attname FROM pg_catalog.pg_attribute __t WHERE __t.attrelid = __a1 AND __t.attnum = __a2) END`},
		"pg_get_constraintdef": {1, 2, "(SELECT __c.condef FROM pg_catalog.pg_constraint __c WHERE __c.oid = __a1)"},
		"pg_get_viewdef": {1, 2, `(SELECT __v.definition FROM pg_catalog.pg_views __v
			JOIN pg_catalog.pg_class __r ON __r.relname = __v.viewname WHERE __r.oid = __a1 AND __r.relkind = 'v')`},
		"quote_ident":   {1, 1, `CASE WHEN __a1 REGEXP '^[a-z_][a-z0-9_$]*$' THEN __a1 ELSE concat('"', replace(__a1, '"', '""'), '"') END`},
		"quote_literal": {1, 1, `CASE WHEN __a1 IS NULL THEN NULL ELSE concat('''', replace(__a1, '''', ''''''), '''') END`},
		"pg_size_pretty": {1, 1, `CASE WHEN __a1 IS NULL THEN NULL
			WHEN abs(__a1) < 10240 THEN concat(__a1, ' bytes')
			WHEN abs(__a1) < 10485760 THEN concat(round(__a1 / 1024), ' kB')
			WHEN abs(__a1) < 10737418240 THEN concat(round(__a1 / 1048576), ' MB')
			ELSE concat(round(__a1 / 1073741824), ' GB') END`},
		"current_setting": {1, 2, "(SELECT __s.setting FROM pg_catalog.pg_settings __s WHERE __s.name = lower(__a1))"},
		// The output of a regclass and a regtype value: the name (of an
		// emulated catalog relation, qualified), or the OID when none has it.
		"__etl_regclass_out": {1, 1, `CASE WHEN __a1 IS NULL THEN NULL ELSE coalesce((SELECT CASE
			WHEN __c.relnamespace = ` + fmt.Sprint(catalog.OIDInfoSchemaNS) + ` THEN concat('information_schema.', __c.relname)
			ELSE __c.relname END FROM pg_catalog.pg_class __c WHERE __c.oid = __a1), concat('', __a1)) END`},
		"__etl_regtype_out": {1, 1, `CASE WHEN __a1 IS NULL THEN NULL
			ELSE coalesce((SELECT __t.typdisplay FROM pg_catalog.pg_type __t WHERE __t.oid = __a1), concat('', __a1)) END`},
		"pg_get_partkeydef":      {1, 1, "CASE WHEN __a1 IS NULL THEN NULL ELSE NULL::text END"},
		"pg_relation_size":       relSize,
		"pg_total_relation_size": relSize,
		"pg_table_size":          relSize,
		"pg_indexes_size":        relSize,
	}
}

// PGFunctionNames lists the PostgreSQL catalog functions the binder
// implements besides the registry's, sorted, for pg_proc.
func PGFunctionNames() []string {
	m := pgMacros(SessionInfo{})
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// bindPGMacro binds a call of one of the pgMacros; ok is false when name
// is not one of them.
func (b *binder) bindPGMacro(c exprCtx, n *ast.FuncCallExpr, name string, p int) (Expr, bool) {
	if b.macros == nil {
		b.macros = pgMacros(b.session)
	}
	if name == "pg_get_indexdef" && len(n.Args) > 1 {
		name = "__pg_get_indexdef_col"
	}
	m, ok := b.macros[name]
	if !ok {
		return nil, false
	}
	if len(n.Args) < m.minArgs || len(n.Args) > m.maxArgs {
		want := fmt.Sprint(m.minArgs)
		if m.maxArgs != m.minArgs {
			want = fmt.Sprintf("%d to %d", m.minArgs, m.maxArgs)
		}
		b.errorf(p, parser.CodeUndefinedFunc, "", "function %s takes %s arguments, not %d", name, want, len(n.Args))
		return bad(), true
	}
	e, err := macroExpr(m.sql, n.Args)
	if err != nil {
		b.errorf(p, "XX000", "", "expanding %s: %v", name, err)
		return bad(), true
	}
	return b.bindExpr(c, e, p), true
}

// macroExpr parses a macro's SQL and puts the argument nodes in place of
// __a1, __a2, ...; the macro's own nodes carry no position, so anything
// reported about them is reported at the call.
func macroExpr(sql string, args []ast.ExprNode) (ast.ExprNode, error) {
	script, diags := parser.Parse(parser.NewSource("macro", "SELECT "+sql), parser.Options{})
	if diags.HasErrors() || script == nil || len(script.Stmts) != 1 {
		return nil, fmt.Errorf("macro does not parse: %v", diags)
	}
	sel, ok := script.Stmts[0].(*parser.Select)
	if !ok || sel.Query == nil {
		return nil, fmt.Errorf("macro is not a query")
	}
	st, ok := sel.Query.Node.(*ast.SelectStmt)
	if !ok || st.Fields == nil || len(st.Fields.Fields) != 1 {
		return nil, fmt.Errorf("macro is not one expression")
	}
	v := &macroSubst{args: args}
	out, _ := st.Fields.Fields[0].Expr.Accept(v)
	return out.(ast.ExprNode), nil
}

// macroSubst replaces __aN column references with argument N and clears
// the positions of the macro's own expression nodes.
type macroSubst struct {
	args []ast.ExprNode
}

// Enter does not skip the argument nodes' children: they are not visited,
// because Leave returns them in place of the reference.
func (v *macroSubst) Enter(n ast.Node) (ast.Node, bool) {
	return n, false
}

// Leave returns the argument for an __aN reference.
func (v *macroSubst) Leave(n ast.Node) (ast.Node, bool) {
	if cn, ok := n.(*ast.ColumnNameExpr); ok && cn.Name.Table.L == "" && strings.HasPrefix(cn.Name.Name.L, "__a") {
		var i int
		if _, err := fmt.Sscanf(cn.Name.Name.L, "__a%d", &i); err == nil && i >= 1 && i <= len(v.args) {
			return v.args[i-1], true
		}
	}
	if e, ok := n.(ast.ExprNode); ok {
		e.SetOriginTextPosition(0)
	}
	return n, true
}

// regOutput gives a select list item that is a cast to regclass or
// regtype (x::regclass) the text PostgreSQL shows for such a value: the
// relation's or the type's name rather than the OID. The item becomes
// text; inside expressions a regclass stays the OID it stands for.
func (b *binder) regOutput(c exprCtx, n ast.ExprNode, e Expr, p int) (Expr, bool) {
	fc, ok := n.(*ast.FuncCallExpr)
	if !ok || fc.FnName.L != "__etl_cast" || len(fc.Args) != 2 || isBad(e) || !e.Type().IsInteger() {
		return nil, false
	}
	k, ok := b.bindExpr(c, fc.Args[1], p).(*Const)
	if !ok {
		return nil, false
	}
	var macro string
	switch s, _ := k.Value.(string); strings.ToUpper(s) {
	case "REGCLASS":
		macro = "__etl_regclass_out"
	case "REGTYPE":
		macro = "__etl_regtype_out"
	default:
		return nil, false
	}
	return b.bindPGMacro(c, &ast.FuncCallExpr{FnName: ast.NewCIStr(macro), Args: []ast.ExprNode{fc}}, macro, p)
}

// regCast binds a cast to one of PostgreSQL's OID alias types (regclass,
// regtype, regproc, regnamespace, regrole) or to oid. A quoted name is
// looked up now and becomes the object's OID; anything else is an OID
// already and stays a BIGINT. ok is false for other types.
func (b *binder) regCast(arg Expr, typ string, p int) (Expr, bool) {
	switch typ {
	case "OID", "REGCLASS", "REGTYPE", "REGPROC", "REGPROCEDURE", "REGNAMESPACE", "REGROLE", "XID", "CID", "TID":
	default:
		return nil, false
	}
	if isBad(arg) {
		return arg, true
	}
	k, isConst := arg.(*Const)
	if !isConst || k.lit != litString || typ == "OID" {
		if arg.Type().Kind == catalog.KindNull {
			return &Const{T: catalog.Int64}, true
		}
		if arg.Type().IsInteger() {
			if arg.Type() == catalog.Int64 {
				return arg, true
			}
			return &Cast{Arg: arg, T: catalog.Int64}, true
		}
		return b.coerce(arg, catalog.Int64, p, typ), true
	}
	text := strings.TrimSpace(k.Value.(string))
	if oid, err := parseOIDText(text); err == nil {
		return &Const{Value: oid, T: catalog.Int64}, true
	}
	pos := b.posOf(arg, p)
	switch typ {
	case "REGCLASS":
		name := foldQualified(text)
		obj, found := b.cat.lookup(name)
		if !found || obj.Kind == catalog.ObjectPipeline {
			b.errorf(pos, parser.CodeUndefinedTable, "", "relation %q does not exist", text)
			return bad(), true
		}
		return &Const{Value: RelationOID(obj.Name), T: catalog.Int64}, true
	case "REGTYPE":
		name := strings.ToLower(strings.TrimPrefix(strings.ToLower(text), "pg_catalog."))
		if oid, ok := pgTypeOIDs[name]; ok {
			return &Const{Value: oid, T: catalog.Int64}, true
		}
		t, err := catalog.ParseTypeString(strings.ToUpper(name))
		if err != nil {
			b.errorf(pos, parser.CodeUndefinedObject, "", "type %q does not exist", text)
			return bad(), true
		}
		return &Const{Value: int64(t.PGOID()), T: catalog.Int64}, true
	case "REGPROC", "REGPROCEDURE":
		name := strings.ToLower(strings.TrimPrefix(strings.ToLower(text), "pg_catalog."))
		if i := strings.IndexByte(name, '('); i >= 0 {
			name = name[:i]
		}
		if _, ok := b.reg.Lookup(name); !ok {
			if b.macros == nil {
				b.macros = pgMacros(b.session)
			}
			if _, ok := b.macros[name]; !ok {
				b.errorf(pos, parser.CodeUndefinedFunc, "", "function %q does not exist", text)
				return bad(), true
			}
		}
		return &Const{Value: catalog.DerivedOID("proc", name), T: catalog.Int64}, true
	case "REGNAMESPACE":
		switch strings.ToLower(text) {
		case catalog.PGCatalogSchema:
			return &Const{Value: catalog.OIDPGCatalogNS, T: catalog.Int64}, true
		case catalog.PublicSchema:
			return &Const{Value: catalog.OIDPublicNS, T: catalog.Int64}, true
		case catalog.InfoSchema:
			return &Const{Value: catalog.OIDInfoSchemaNS, T: catalog.Int64}, true
		case catalog.SystemSchema:
			return &Const{Value: catalog.OIDEtlNS, T: catalog.Int64}, true
		}
		b.errorf(pos, "3F000", "", "schema %q does not exist", text)
		return bad(), true
	case "REGROLE":
		return &Const{Value: catalog.OIDOwner, T: catalog.Int64}, true
	}
	return b.coerce(arg, catalog.Int64, p, typ), true
}

// parseOIDText reads a number written as a regclass/regtype value.
func parseOIDText(s string) (int64, error) {
	var n int64
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int64(r-'0')
		if n >= 1<<32 {
			return 0, fmt.Errorf("out of range")
		}
	}
	return n, nil
}

// foldQualified folds a possibly qualified, possibly quoted name as
// PostgreSQL reads a regclass literal: unquoted parts to lower case.
func foldQualified(s string) string {
	var parts []string
	for _, part := range strings.Split(s, ".") {
		part = strings.TrimSpace(part)
		if len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"' {
			parts = append(parts, strings.ReplaceAll(part[1:len(part)-1], `""`, `"`))
			continue
		}
		parts = append(parts, strings.ToLower(part))
	}
	return strings.Join(parts, ".")
}

// RelationOID is the pg_class OID of the relation named name (as the
// catalog names it): PostgreSQL's fixed OID for an emulated catalog
// relation, the OID derived from the qualified name for an etlc object.
func RelationOID(name string) int64 {
	if catalog.IsPGCatalogName(name) {
		for _, r := range catalog.PGRelations() {
			if strings.EqualFold(r.QualifiedName(), name) {
				return r.OID
			}
		}
	}
	schema, rel := catalog.SchemaOf(name)
	return catalog.DerivedOID("rel", schema+"."+rel)
}

// pgTypeOIDs are PostgreSQL's type names (pg_type.typname and the names
// format_type prints) with their fixed OIDs, for ::regtype.
var pgTypeOIDs = map[string]int64{
	"bool": 16, "boolean": 16, "bytea": 17, "char": 18, `"char"`: 18, "name": 19, "int8": 20, "bigint": 20,
	"int2": 21, "smallint": 21, "int4": 23, "integer": 23, "int": 23, "regproc": 24, "text": 25, "oid": 26,
	"json": 114, "float4": 700, "real": 700, "float8": 701, "double precision": 701, "unknown": 705,
	"bpchar": 1042, "character": 1042, "varchar": 1043, "character varying": 1043, "date": 1082,
	"time": 1083, "time without time zone": 1083, "timestamp": 1114, "timestamp without time zone": 1114,
	"timestamptz": 1184, "timestamp with time zone": 1184, "interval": 1186, "numeric": 1700,
	"regclass": 2205, "regtype": 2206, "record": 2249, "void": 2278, "jsonb": 3802,
}
