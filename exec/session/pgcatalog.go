package session

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/planner"
)

// The PostgreSQL catalog emulation: the rows of the pg_catalog and
// information_schema relations (catalog.PGRelations), built from etlc's
// catalog, the function registry and the engine's live sessions each time a
// statement reads them.
//
// Relation kinds (pg_class.relkind): views are 'v'; sources, streams,
// sinks, managed tables, <source>__errors relations and the etl.* system
// tables are 'r' (ordinary tables), so psql's \dt lists them and \d
// describes them; the emulated catalog relations are 'r', or 'v' where
// PostgreSQL defines a view. Pipelines are not relations. Every index of a
// managed table (PRIMARY KEY, UNIQUE, CREATE [UNIQUE] INDEX) shows as an
// index relation ('i') and a pg_index row; a PRIMARY KEY or UNIQUE
// constraint also as a pg_constraint row.

// relEntry is one relation of pg_class.
type relEntry struct {
	oid     int64
	nsp     int64
	schema  string
	name    string
	kind    string // relkind
	cols    catalog.Schema
	obj     *catalog.Object // nil for the emulated catalog's own relations
	indexes []relIndex
	desc    string
	def     string // a view's definition
}

// relIndex is one index of a relation.
type relIndex struct {
	name       string
	oid        int64
	conOID     int64 // the constraint's, for a PRIMARY KEY or UNIQUE constraint
	cols       []int // attnums
	unique     bool
	primary    bool
	constraint bool
}

// def is pg_get_indexdef's text.
func (ix relIndex) def(r relEntry) string {
	u := ""
	if ix.unique {
		u = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX %s ON %s.%s USING btree (%s)", u, catalog.QuoteIdent(ix.name), r.schema,
		catalog.QuoteIdent(r.name), ix.colNames(r))
}

// conDef is pg_get_constraintdef's text.
func (ix relIndex) conDef(r relEntry) string {
	if ix.primary {
		return "PRIMARY KEY (" + ix.colNames(r) + ")"
	}
	return "UNIQUE (" + ix.colNames(r) + ")"
}

func (ix relIndex) colNames(r relEntry) string {
	names := make([]string, len(ix.cols))
	for i, k := range ix.cols {
		names[i] = catalog.QuoteIdent(r.cols[k-1].Name)
	}
	return strings.Join(names, ", ")
}

// attnums is the int2[] of the index's columns.
func (ix relIndex) attnums() []any {
	out := make([]any, len(ix.cols))
	for i, k := range ix.cols {
		out[i] = int64(k)
	}
	return out
}

// sessionInfo is what pg_stat_activity and the connect-time functions show
// of a session: set by the gateway (SetClientInfo) and by Exec.
type sessionInfo struct {
	pid          int32
	user         string
	database     string
	clientAddr   string
	clientPort   int32
	backendStart time.Time
	state        string
	query        string
	queryStart   time.Time
	stateChange  time.Time
	appName      string
}

// ClientInfo describes the client of a wire session, for pg_stat_activity
// and the functions current_user, current_database and pg_backend_pid.
type ClientInfo struct {
	PID        int32
	User       string
	Database   string
	ClientAddr string
	ClientPort int32
}

// SetClientInfo records who the session's client is and registers the
// session in pg_stat_activity until Close.
func (s *Session) SetClientInfo(ci ClientInfo) {
	now := time.Now().UTC()
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	s.info = sessionInfo{pid: ci.PID, user: ci.User, database: ci.Database, clientAddr: ci.ClientAddr,
		clientPort: ci.ClientPort, backendStart: now, state: "idle", stateChange: now,
		appName: s.settings["application_name"]}
	if s.eng.live == nil {
		s.eng.live = map[*Session]bool{}
	}
	s.eng.live[s] = true
}

// setActivity records the state of the session's statement ("active" with
// its text, or "idle") and its application_name, which a SET may have
// changed. Only the session's own goroutine calls it.
func (s *Session) setActivity(state, query string) {
	now := time.Now().UTC()
	app := s.settings["application_name"]
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	s.info.state, s.info.stateChange, s.info.appName = state, now, app
	if state == "active" {
		s.info.query, s.info.queryStart = query, now
	}
}

// userName is the session's user: the wire client's, else "etl".
func (s *Session) userName() string {
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	if s.info.user != "" {
		return s.info.user
	}
	return "etl"
}

// databaseName is the session's database: the wire client's, else "etl".
func (s *Session) databaseName() string {
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	if s.info.database != "" {
		return s.info.database
	}
	return "etl"
}

// sessionInfo is what the planner's connect-time functions answer.
func (s *Session) sessionInfo() planner.SessionInfo {
	s.eng.mu.Lock()
	pid := s.info.pid
	s.eng.mu.Unlock()
	return planner.SessionInfo{User: s.userName(), Database: s.databaseName(), PID: pid,
		ServerVersion: s.settings["server_version"]}
}

// relations lists every relation pg_class shows, in OID order.
func (f *scanFactory) relations(ctx context.Context) []relEntry {
	eng := f.r.s.eng
	var out []relEntry
	for _, r := range catalog.PGRelations() {
		nsp := catalog.OIDPGCatalogNS
		if r.Schema == catalog.InfoSchema {
			nsp = catalog.OIDInfoSchemaNS
		}
		kind := "r"
		if r.View {
			kind = "v"
		}
		out = append(out, relEntry{oid: r.OID, nsp: nsp, schema: r.Schema, name: r.Name, kind: kind, cols: r.Columns})
	}
	for _, o := range eng.cat.List() {
		if o.Kind == catalog.ObjectPipeline || catalog.IsPGCatalogName(o.Name) {
			continue
		}
		o := o
		schema, name := catalog.SchemaOf(o.Name)
		nsp := catalog.OIDPublicNS
		if schema == catalog.SystemSchema {
			nsp = catalog.OIDEtlNS
		}
		e := relEntry{oid: catalog.DerivedOID("rel", schema+"."+name), nsp: nsp, schema: schema, name: name,
			kind: "r", cols: o.Columns, obj: &o, desc: describeObject(&o)}
		if o.Kind == catalog.ObjectView {
			e.kind = "v"
			e.def = viewDefinition(o.SQL)
		}
		if len(e.cols) == 0 && (o.Kind == catalog.ObjectSource || o.Kind == catalog.ObjectStream) {
			// A source declared without columns: its schema as inferred
			// from its files (none when they cannot be read now).
			if cols, err := eng.inferFunc()(ctx, o.Options); err == nil {
				e.cols = cols
			}
		}
		e.indexes = relIndexes(&o, schema, name, e.cols)
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].oid < out[j].oid })
	return out
}

// relIndexes lists the indexes of an object: its Indexes, and a primary
// key recorded only as PrimaryKey (named <table>_pkey).
func relIndexes(o *catalog.Object, schema, name string, cols catalog.Schema) []relIndex {
	attnums := func(names []string) []int {
		var out []int
		for _, k := range names {
			for i, c := range cols {
				if strings.EqualFold(c.Name, k) {
					out = append(out, i+1)
				}
			}
		}
		return out
	}
	var out []relIndex
	hasPrimary := false
	for _, ix := range o.Indexes {
		hasPrimary = hasPrimary || ix.Primary
		ri := relIndex{name: ix.Name, oid: catalog.DerivedOID("index", schema+"."+ix.Name), cols: attnums(ix.Columns),
			unique: ix.Unique || ix.Primary, primary: ix.Primary, constraint: ix.Constraint || ix.Primary}
		if ri.constraint {
			ri.conOID = catalog.DerivedOID("constraint", schema+"."+ix.Name)
		}
		if len(ri.cols) == len(ix.Columns) {
			out = append(out, ri)
		}
	}
	if !hasPrimary {
		if k := attnums(o.PrimaryKey); len(k) > 0 {
			n := name + "_pkey"
			out = append(out, relIndex{name: n, oid: catalog.DerivedOID("index", schema+"."+n),
				conOID: catalog.DerivedOID("constraint", schema+"."+n), cols: k, unique: true, primary: true, constraint: true})
		}
	}
	// The primary key first, then by name, as psql lists them.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].primary != out[j].primary {
			return out[i].primary
		}
		return out[i].name < out[j].name
	})
	return out
}

// describeObject is the comment pg_description gives an etlc object: its
// kind and where its data lives.
func describeObject(o *catalog.Object) string {
	if src, ok := isErrorsObject(o); ok {
		return "bad rows of source " + src
	}
	var parts []string
	switch o.Kind {
	case catalog.ObjectSource, catalog.ObjectStream, catalog.ObjectSink:
		parts = append(parts, optOr(o.Options, "connector", "file"))
		role := connector.RoleSource
		if o.Kind == catalog.ObjectSink {
			role = connector.RoleSink
		}
		if f, ok := formatOf(o.Options, role).(string); ok {
			parts = append(parts, f)
		}
		if p := o.Options["path"]; p != "" {
			parts = append(parts, p)
		}
	case catalog.ObjectTable:
		return "managed table (stored in the data directory)"
	case catalog.ObjectSystem:
		return "etlc system table"
	}
	if len(parts) == 0 {
		return o.Kind.String()
	}
	return o.Kind.String() + ": " + strings.Join(parts, ", ")
}

// viewDefinition is the query of a stored CREATE VIEW statement.
func viewDefinition(sql string) string {
	u := strings.ToUpper(sql)
	if i := strings.Index(u, " AS "); i >= 0 && strings.HasPrefix(strings.TrimSpace(u), "CREATE") {
		return strings.TrimSpace(sql[i+4:])
	}
	return sql
}

// pgType is one row of pg_type.
type pgType struct {
	oid      int64
	name     string
	display  string
	len      int64
	byval    bool
	category string
	elem     int64
	array    int64
	coll     int64
	pref     bool
	typtype  string
}

// pgTypes are the types of pg_type: every type etlc's columns map to, the
// types the catalog itself uses, and their array types.
func pgTypes() []pgType {
	base := []pgType{
		{oid: 16, name: "bool", display: "boolean", len: 1, byval: true, category: "B", array: 1000, pref: true},
		{oid: 17, name: "bytea", display: "bytea", len: -1, category: "U", array: 1001},
		{oid: 18, name: "char", display: `"char"`, len: 1, byval: true, category: "Z", array: 1002},
		{oid: 19, name: "name", display: "name", len: 64, category: "S", array: 1003, coll: 950},
		{oid: 20, name: "int8", display: "bigint", len: 8, byval: true, category: "N", array: 1016},
		{oid: 21, name: "int2", display: "smallint", len: 2, byval: true, category: "N", array: 1005},
		{oid: 23, name: "int4", display: "integer", len: 4, byval: true, category: "N", array: 1007},
		{oid: 24, name: "regproc", display: "regproc", len: 4, byval: true, category: "N", array: 1008},
		{oid: 25, name: "text", display: "text", len: -1, category: "S", array: 1009, coll: 100, pref: true},
		{oid: 26, name: "oid", display: "oid", len: 4, byval: true, category: "N", array: 1028, pref: true},
		{oid: 114, name: "json", display: "json", len: -1, category: "U", array: 199},
		{oid: 700, name: "float4", display: "real", len: 4, byval: true, category: "N", array: 1021},
		{oid: 701, name: "float8", display: "double precision", len: 8, byval: true, category: "N", array: 1022, pref: true},
		{oid: 705, name: "unknown", display: "unknown", len: -2, category: "X", typtype: "p"},
		{oid: 1042, name: "bpchar", display: "character", len: -1, category: "S", array: 1014, coll: 100},
		{oid: 1043, name: "varchar", display: "character varying", len: -1, category: "S", array: 1015, coll: 100},
		{oid: 1082, name: "date", display: "date", len: 4, byval: true, category: "D", array: 1182},
		{oid: 1083, name: "time", display: "time without time zone", len: 8, byval: true, category: "D", array: 1183},
		{oid: 1114, name: "timestamp", display: "timestamp without time zone", len: 8, byval: true, category: "D", array: 1115},
		{oid: 1184, name: "timestamptz", display: "timestamp with time zone", len: 8, byval: true, category: "D", array: 1185, pref: true},
		{oid: 1186, name: "interval", display: "interval", len: 16, category: "T", array: 1187, pref: true},
		{oid: 1700, name: "numeric", display: "numeric", len: -1, category: "N", array: 1231},
		{oid: 2205, name: "regclass", display: "regclass", len: 4, byval: true, category: "N", array: 2210},
		{oid: 2206, name: "regtype", display: "regtype", len: 4, byval: true, category: "N", array: 2211},
		{oid: 2249, name: "record", display: "record", len: -1, category: "P", array: 2287, typtype: "p"},
		{oid: 2278, name: "void", display: "void", len: 4, byval: true, category: "P", typtype: "p"},
		{oid: 3802, name: "jsonb", display: "jsonb", len: -1, category: "U", array: 3807},
	}
	out := make([]pgType, 0, 2*len(base))
	for _, t := range base {
		if t.typtype == "" {
			t.typtype = "b"
		}
		out = append(out, t)
		if t.array != 0 {
			out = append(out, pgType{oid: t.array, name: "_" + t.name, display: t.display + "[]", len: -1,
				category: "A", elem: t.oid, coll: t.coll, typtype: "b"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].oid < out[j].oid })
	return out
}

// pgCatalogRows builds the rows of one emulated relation, as Go values in
// the order of its columns.
func (f *scanFactory) pgCatalogRows(ctx context.Context, obj *catalog.Object) ([][]any, error) {
	s := f.r.s
	user, db := s.userName(), s.databaseName()
	var rows [][]any
	add := func(vals ...any) { rows = append(rows, vals) }
	name := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(obj.Name), catalog.PGCatalogSchema+"."), catalog.InfoSchema+".")
	info := strings.HasPrefix(strings.ToLower(obj.Name), catalog.InfoSchema+".")
	needRels := map[string]bool{"pg_class": true, "pg_attribute": true, "pg_index": true, "pg_constraint": true,
		"pg_description": true, "pg_tables": true, "pg_views": true, "pg_indexes": true, "tables": true,
		"columns": true, "views": true, "table_constraints": true, "key_column_usage": true, "pg_stat_user_tables": true}
	var rels []relEntry
	if needRels[name] {
		rels = f.relations(ctx)
	}
	yesNo := func(b bool) string {
		if b {
			return "YES"
		}
		return "NO"
	}
	switch {
	case !info && name == "pg_namespace":
		add(catalog.OIDPGCatalogNS, catalog.PGCatalogSchema, catalog.OIDOwner, nil)
		add(catalog.OIDPublicNS, catalog.PublicSchema, catalog.OIDOwner, nil)
		add(catalog.OIDInfoSchemaNS, catalog.InfoSchema, catalog.OIDOwner, nil)
		add(catalog.OIDEtlNS, catalog.SystemSchema, catalog.OIDOwner, nil)
	case !info && name == "pg_class":
		for _, r := range rels {
			am := catalog.OIDHeapAM
			if r.kind == "v" {
				am = 0
			}
			add(r.oid, r.name, r.nsp, int64(0), int64(0), catalog.OIDOwner, am, r.oid, int64(0), int64(0), float64(-1),
				int64(0), int64(0), len(r.indexes) > 0, false, "p", r.kind, int64(len(r.cols)), int64(0),
				false, false, false, false, false, true, "d", false, int64(0), nil, nil, nil)
			for _, ix := range r.indexes {
				add(ix.oid, ix.name, r.nsp, int64(0), int64(0), catalog.OIDOwner, catalog.OIDBtreeAM, ix.oid,
					int64(0), int64(0), float64(-1), int64(0), int64(0), false, false, "p", "i", int64(len(ix.cols)),
					int64(0), false, false, false, false, false, true, "n", false, int64(0), nil, nil, nil)
			}
		}
	case !info && name == "pg_attribute":
		for _, r := range rels {
			for i, c := range r.cols {
				add(r.oid, c.Name, int64(c.Type.PGOID()), int64(-1), int64(c.Type.PGSize()), int64(i+1), int64(0),
					int64(-1), int64(c.Type.PGTypeMod()), c.Type.PGSize() > 0 && c.Type.PGSize() <= 8, "i", storageOf(c.Type), "",
					c.NotNull, false, false, "", "", false, true, int64(0), collationOf(c.Type), nil, nil, nil)
			}
			for _, ix := range r.indexes {
				for i, k := range ix.cols {
					c := r.cols[k-1]
					add(ix.oid, c.Name, int64(c.Type.PGOID()), int64(-1), int64(c.Type.PGSize()), int64(i+1), int64(0),
						int64(-1), int64(c.Type.PGTypeMod()), c.Type.PGSize() > 0 && c.Type.PGSize() <= 8, "i", storageOf(c.Type), "",
						c.NotNull, false, false, "", "", false, true, int64(0), collationOf(c.Type), nil, nil, nil)
				}
			}
		}
	case !info && name == "pg_type":
		for _, t := range pgTypes() {
			delim := ","
			add(t.oid, t.name, catalog.OIDPGCatalogNS, catalog.OIDOwner, t.len, t.byval, t.typtype, t.category, t.pref,
				true, delim, int64(0), nil, t.elem, t.array, t.name+"in", t.name+"out", t.name+"recv", t.name+"send",
				"-", "-", "-", "i", "p", false, int64(0), int64(-1), int64(0), t.coll, nil, nil, nil, t.display)
		}
	case !info && name == "pg_database":
		add(catalog.OIDDatabase, db, catalog.OIDOwner, int64(6), "c", false, true, int64(-1), int64(0), int64(0),
			int64(1663), "C.UTF-8", "C.UTF-8", nil, nil, nil)
	case !info && name == "pg_proc":
		seen := map[string]bool{}
		for _, fn := range s.eng.reg.Funcs() {
			for _, n := range append([]string{fn.Name}, fn.Aliases...) {
				if strings.HasPrefix(n, "__") || seen[n] {
					continue
				}
				seen[n] = true
				kind := "f"
				if fn.Kind != 0 {
					kind = map[bool]string{true: "a", false: "w"}[fn.Kind == 1]
				}
				add(catalog.DerivedOID("proc", n), n, catalog.OIDPGCatalogNS, catalog.OIDOwner, int64(12), float64(1),
					float64(0), int64(0), "-", kind, false, false, false, false, "i", "s", int64(0), int64(0),
					int64(25), "", nil, nil, nil, nil, nil, n, nil, nil, nil, nil)
			}
		}
		for _, n := range planner.PGFunctionNames() {
			if seen[n] {
				continue
			}
			seen[n] = true
			add(catalog.DerivedOID("proc", n), n, catalog.OIDPGCatalogNS, catalog.OIDOwner, int64(12), float64(1),
				float64(0), int64(0), "-", "f", false, false, false, false, "s", "s", int64(0), int64(0),
				int64(25), "", nil, nil, nil, nil, nil, n, nil, nil, nil, nil)
		}
	case !info && name == "pg_index":
		for _, r := range rels {
			for _, ix := range r.indexes {
				n := int64(len(ix.cols))
				coll, class, opt := make([]any, n), make([]any, n), make([]any, n)
				for i, k := range ix.cols {
					coll[i], class[i], opt[i] = collationOf(r.cols[k-1].Type), int64(0), int64(0)
				}
				add(ix.oid, r.oid, n, n, ix.unique, false, ix.primary, false, true, false,
					true, false, true, true, false, ix.attnums(), coll, class, opt, nil, nil, ix.def(r))
			}
		}
	case !info && name == "pg_indexes":
		for _, r := range rels {
			for _, ix := range r.indexes {
				add(r.schema, r.name, ix.name, nil, ix.def(r))
			}
		}
	case !info && name == "pg_constraint":
		for _, r := range rels {
			for _, ix := range r.indexes {
				if !ix.constraint {
					continue
				}
				typ := "u"
				if ix.primary {
					typ = "p"
				}
				add(ix.conOID, ix.name, r.nsp, typ, false, false, true, r.oid, int64(0), ix.oid, int64(0),
					int64(0), " ", " ", " ", true, int64(0), true, ix.attnums(), nil, nil, nil, nil,
					nil, nil, nil, ix.conDef(r))
			}
		}
	case !info && name == "pg_description":
		for _, r := range rels {
			if r.desc != "" {
				add(r.oid, int64(1259), int64(0), r.desc)
			}
		}
	case !info && name == "pg_am":
		add(catalog.OIDHeapAM, "heap", "heap_tableam_handler", "t")
		add(catalog.OIDBtreeAM, "btree", "bthandler", "i")
	case !info && name == "pg_collation":
		add(int64(100), "default", catalog.OIDPGCatalogNS, catalog.OIDOwner, "d", true, int64(-1), nil, nil, nil, nil)
		add(int64(950), "C", catalog.OIDPGCatalogNS, catalog.OIDOwner, "c", true, int64(-1), "C", "C", nil, nil)
		add(int64(951), "POSIX", catalog.OIDPGCatalogNS, catalog.OIDOwner, "c", true, int64(-1), "POSIX", "POSIX", nil, nil)
	case !info && name == "pg_tablespace":
		add(int64(1663), "pg_default", catalog.OIDOwner, nil, nil)
		add(int64(1664), "pg_global", catalog.OIDOwner, nil, nil)
	case !info && name == "pg_language":
		add(int64(12), "internal", catalog.OIDOwner, false, false, int64(0), int64(0), int64(0), nil)
		add(int64(14), "sql", catalog.OIDOwner, false, true, int64(0), int64(0), int64(0), nil)
	case !info && name == "pg_tables":
		for _, r := range rels {
			if r.kind == "r" {
				add(r.schema, r.name, user, nil, len(r.indexes) > 0, false, false, false)
			}
		}
	case !info && name == "pg_views":
		for _, r := range rels {
			if r.kind == "v" && r.obj != nil {
				add(r.schema, r.name, user, r.def)
			}
		}
	case !info && name == "pg_stat_user_tables":
		for _, r := range rels {
			if r.obj != nil && r.kind == "r" && r.schema == catalog.PublicSchema {
				add(r.oid, r.schema, r.name, nil, nil, nil, nil, nil, nil, nil, nil, nil) // etlc keeps no access statistics
			}
		}
	case !info && name == "pg_roles":
		add(user, true, true, true, true, true, false, int64(-1), "********", nil, true, nil, catalog.OIDOwner)
	case !info && name == "pg_user":
		add(user, catalog.OIDOwner, true, true, false, true, "********", nil, nil)
	case !info && name == "pg_settings":
		settings := map[string]string{}
		for k, v := range s.settings {
			settings[k] = v
		}
		if _, ok := settings["server_version_num"]; !ok {
			settings["server_version_num"] = versionNum(settings["server_version"])
		}
		names := make([]string, 0, len(settings))
		for k := range settings {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			add(k, settings[k], nil, "Client Connection Defaults", "", nil, "user", "string", "session",
				nil, nil, nil, nil, settings[k], nil, nil, false)
		}
	case !info && name == "pg_stat_activity":
		s.eng.mu.Lock()
		live := make([]sessionInfo, 0, len(s.eng.live))
		for ls := range s.eng.live {
			live = append(live, ls.info)
		}
		s.eng.mu.Unlock()
		sort.Slice(live, func(i, j int) bool { return live[i].pid < live[j].pid })
		for _, si := range live {
			addr := any(nil)
			port := any(nil)
			if si.clientAddr != "" {
				addr, port = si.clientAddr, int64(si.clientPort)
			}
			add(catalog.OIDDatabase, si.database, int64(si.pid), nil, catalog.OIDOwner, si.user, si.appName,
				addr, nil, port, si.backendStart, nil, timeOrNil(si.queryStart), si.stateChange, nil, nil, si.state,
				nil, nil, nil, si.query, "client backend")
		}
	case info && name == "schemata":
		for _, n := range []string{catalog.PGCatalogSchema, catalog.PublicSchema, catalog.InfoSchema, catalog.SystemSchema} {
			add(db, n, user, nil, nil, nil, nil)
		}
	case info && name == "tables":
		for _, r := range rels {
			typ := "BASE TABLE"
			if r.kind == "v" {
				typ = "VIEW"
			}
			insertable := r.obj != nil && (r.obj.Kind == catalog.ObjectTable || r.obj.Kind == catalog.ObjectSink)
			add(db, r.schema, r.name, typ, nil, nil, nil, nil, nil, yesNo(insertable), "NO", nil)
		}
	case info && name == "columns":
		for _, r := range rels {
			for i, c := range r.cols {
				add(infoColumnRow(db, r, i, c, yesNo)...)
			}
		}
	case info && name == "views":
		for _, r := range rels {
			if r.kind == "v" {
				add(db, r.schema, r.name, r.def, "NONE", "NO", "NO", "NO", "NO", "NO")
			}
		}
	case info && name == "table_constraints":
		for _, r := range rels {
			for _, ix := range r.indexes {
				if ix.constraint {
					typ := map[bool]string{true: "PRIMARY KEY", false: "UNIQUE"}[ix.primary]
					add(db, r.schema, ix.name, db, r.schema, r.name, typ, "NO", "NO", "YES", nil)
				}
			}
		}
	case info && name == "key_column_usage":
		for _, r := range rels {
			for _, ix := range r.indexes {
				if !ix.constraint {
					continue
				}
				for i, k := range ix.cols {
					add(db, r.schema, ix.name, db, r.schema, r.name, r.cols[k-1].Name, int64(i+1), nil)
				}
			}
		}
	default:
		// Relations etlc has nothing for: policies, triggers, rules,
		// publications, extensions, inheritance, ... are empty.
	}
	return rows, nil
}

// versionNum is server_version_num for a server_version: 16.0 is 160000.
func versionNum(v string) string {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return ""
	}
	return fmt.Sprintf("%d%04d", major, minor)
}

// infoColumnRow is one row of information_schema.columns.
func infoColumnRow(db string, r relEntry, i int, c catalog.Column, yesNo func(bool) string) []any {
	t := c.Type
	var charLen, octLen, numPrec, numRadix, numScale, dtPrec any
	switch t.Kind {
	case catalog.KindString:
		if t.Length > 0 {
			charLen, octLen = int64(t.Length), int64(4*t.Length)
		} else {
			octLen = int64(1073741824)
		}
	case catalog.KindInt8, catalog.KindInt16:
		numPrec, numRadix, numScale = int64(16), int64(2), int64(0)
	case catalog.KindInt32:
		numPrec, numRadix, numScale = int64(32), int64(2), int64(0)
	case catalog.KindInt64:
		numPrec, numRadix, numScale = int64(64), int64(2), int64(0)
	case catalog.KindFloat32:
		numPrec, numRadix = int64(24), int64(2)
	case catalog.KindFloat64:
		numPrec, numRadix = int64(53), int64(2)
	case catalog.KindDecimal:
		numPrec, numRadix, numScale = int64(t.Precision), int64(10), int64(t.Scale)
	case catalog.KindDate:
		dtPrec = int64(0)
	case catalog.KindTime, catalog.KindTimestamp, catalog.KindTimestampTZ, catalog.KindInterval:
		dtPrec = int64(6)
	}
	dataType := infoDataType(t)
	var collName any
	if t.Kind == catalog.KindString {
		collName = nil
	}
	return []any{db, r.schema, r.name, c.Name, int64(i + 1), nil, yesNo(!c.NotNull), dataType, charLen, octLen,
		numPrec, numRadix, numScale, dtPrec, nil, nil, nil, nil, nil, nil, nil, collName, nil, nil, nil,
		db, catalog.PGCatalogSchema, t.PGName(), nil, nil, nil, nil, fmt.Sprint(i + 1), "NO", "NO", nil, nil,
		nil, nil, nil, nil, "NEVER", nil, yesNo(r.obj != nil && r.obj.Kind == catalog.ObjectTable)}
}

// infoDataType is information_schema.columns.data_type: the SQL standard
// name of a type.
func infoDataType(t catalog.Type) string {
	switch t.PGOID() {
	case catalog.PGOIDBpchar:
		return "character"
	case catalog.PGOIDVarchar:
		return "character varying"
	}
	for _, pt := range pgTypes() {
		if pt.oid == int64(t.PGOID()) {
			return pt.display
		}
	}
	return t.PGName()
}

// storageOf is pg_attribute.attstorage: plain for fixed-width types, main
// for numeric, extended for the other variable-length types.
func storageOf(t catalog.Type) string {
	switch {
	case t.PGSize() != -1:
		return "p"
	case t.PGOID() == catalog.PGOIDNumeric:
		return "m"
	}
	return "x"
}

// collationOf is pg_attribute.attcollation: the default collation for
// text types, none for others.
func collationOf(t catalog.Type) int64 {
	if t.Kind == catalog.KindString {
		return 100
	}
	return 0
}
