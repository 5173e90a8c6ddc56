package catalog

import (
	"hash/fnv"
	"strings"
	"time"
)

// The schemas of the PostgreSQL catalog emulation (see PGCatalogObjects).
const (
	PGCatalogSchema = "pg_catalog"
	InfoSchema      = "information_schema"
	PublicSchema    = "public"
)

// Fixed OIDs of the emulated catalog. The namespaces pg_catalog and public
// and the bootstrap role have PostgreSQL's own OIDs; information_schema and
// etl get OIDs of their own below FirstUserOID.
const (
	OIDPGCatalogNS  int64 = 11
	OIDPublicNS     int64 = 2200
	OIDInfoSchemaNS int64 = 13000
	OIDEtlNS        int64 = 13001
	// OIDOwner is the role that owns every object: PostgreSQL's bootstrap
	// superuser OID. pg_roles shows it under the name of the connected user.
	OIDOwner int64 = 10
	// OIDDatabase is the one database.
	OIDDatabase int64 = 16384
	// FirstUserOID is where the OIDs derived from etlc object names start,
	// as PostgreSQL's first normal OID (16384) does.
	FirstUserOID int64 = 16385
	// OIDHeapAM and OIDBtreeAM are the access methods of pg_am.
	OIDHeapAM  int64 = 2
	OIDBtreeAM int64 = 403
)

// OID ranges of emulated relations (OIDInfoSchemaFirst to
// OIDInfoSchemaLast is information_schema): pg_catalog relations below
// OIDInfoSchemaFirst (PostgreSQL's own OIDs for its tables, 12xxx for its
// views), information_schema relations from OIDInfoSchemaFirst, and etlc
// objects (public and etl) from FirstUserOID. A relation is visible on the
// search path (pg_table_is_visible) unless it is in information_schema.
const (
	OIDInfoSchemaFirst int64 = 13002
	OIDInfoSchemaLast  int64 = 13999
)

// DerivedOID returns the OID of an etlc object: a hash of kind and the
// lower-case qualified name into [FirstUserOID, 2^31), so the same object
// has the same OID in every run and on every server, and OIDs fit a signed
// 32-bit integer as drivers expect. kind separates name spaces: "rel",
// "index", "constraint", "proc".
func DerivedOID(kind, qualifiedName string) int64 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(qualifiedName)))
	return FirstUserOID + int64(h.Sum32())%(1<<31-FirstUserOID)
}

// RelationVisible reports whether the relation with OID oid is found by an
// unqualified name, as pg_table_is_visible answers: everything but
// information_schema (whose OIDs form a range of their own).
func RelationVisible(oid int64) bool {
	return oid < OIDInfoSchemaFirst || oid > OIDInfoSchemaLast
}

// PGRelation is one relation of the emulated pg_catalog or
// information_schema: its name in the schema, its fixed OID, whether
// PostgreSQL defines it as a view, and its columns.
type PGRelation struct {
	Schema  string
	Name    string
	OID     int64
	View    bool
	Columns Schema
}

// QualifiedName is schema.name.
func (r PGRelation) QualifiedName() string { return r.Schema + "." + r.Name }

// pgColType maps the column type words of the relation table to etlc
// types: oid and reg* values are BIGINT, name and "char" are VARCHAR;
// arr is text[] (aclitem[], text[] options), int2arr is int2[] (also
// int2vector, whose subscripts etlc numbers from 1 like any array's), and
// oidarr is the BIGINT[] of oid[] and oidvector.
var pgColType = map[string]Type{
	"oid": Int64, "name": String, "text": String, "char": String, "bool": Bool,
	"int2": Int16, "int4": Int32, "int8": Int64, "float4": Float32, "float8": Float64,
	"tstz": TimestampTZ, "arr": ArrayOf(String), "int2arr": ArrayOf(Int16), "oidarr": ArrayOf(Int64),
}

func pgRel(schema, name string, oid int64, view bool, cols string) PGRelation {
	r := PGRelation{Schema: schema, Name: name, OID: oid, View: view}
	for _, f := range strings.Fields(cols) {
		n, t, _ := strings.Cut(f, ":")
		typ, ok := pgColType[t]
		if !ok {
			panic("catalog: bad emulated column type " + f)
		}
		r.Columns = append(r.Columns, Column{Name: n, Type: typ})
	}
	return r
}

// PGRelations returns the relations of the pg_catalog and
// information_schema emulation, freshly built on every call. The engine
// (exec/session) produces their rows from etlc's catalog; relations that
// etlc has no content for (policies, triggers, publications, ...) exist
// and are empty, as in a PostgreSQL database that uses none of them.
func PGRelations() []PGRelation {
	pg := func(name string, oid int64, cols string) PGRelation {
		return pgRel(PGCatalogSchema, name, oid, false, cols)
	}
	pgv := func(name string, oid int64, cols string) PGRelation {
		return pgRel(PGCatalogSchema, name, oid, true, cols)
	}
	is := func(name string, oid int64, cols string) PGRelation { return pgRel(InfoSchema, name, oid, true, cols) }
	return []PGRelation{
		pg("pg_namespace", 2615, "oid:oid nspname:name nspowner:oid nspacl:arr"),
		pg("pg_class", 1259, "oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid relam:oid "+
			"relfilenode:oid reltablespace:oid relpages:int4 reltuples:float4 relallvisible:int4 reltoastrelid:oid "+
			"relhasindex:bool relisshared:bool relpersistence:char relkind:char relnatts:int2 relchecks:int2 "+
			"relhasrules:bool relhastriggers:bool relhassubclass:bool relrowsecurity:bool relforcerowsecurity:bool "+
			"relispopulated:bool relreplident:char relispartition:bool relrewrite:oid relacl:arr reloptions:arr relpartbound:text"),
		pg("pg_attribute", 1249, "attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2 attnum:int2 "+
			"attndims:int4 attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char attstorage:char attcompression:char "+
			"attnotnull:bool atthasdef:bool atthasmissing:bool attidentity:char attgenerated:char attisdropped:bool "+
			"attislocal:bool attinhcount:int4 attcollation:oid attacl:arr attoptions:arr attfdwoptions:arr"),
		pg("pg_type", 1247, "oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool typtype:char "+
			"typcategory:char typispreferred:bool typisdefined:bool typdelim:char typrelid:oid typsubscript:text typelem:oid "+
			"typarray:oid typinput:text typoutput:text typreceive:text typsend:text typmodin:text typmodout:text "+
			"typanalyze:text typalign:char typstorage:char typnotnull:bool typbasetype:oid typtypmod:int4 typndims:int4 "+
			"typcollation:oid typdefaultbin:text typdefault:text typacl:arr typdisplay:text"),
		pg("pg_database", 1262, "oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool "+
			"datallowconn:bool datconnlimit:int4 datfrozenxid:int8 datminmxid:int8 dattablespace:oid datcollate:text "+
			"datctype:text daticulocale:text datcollversion:text datacl:arr"),
		pg("pg_proc", 1255, "oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 prorows:float4 "+
			"provariadic:oid prosupport:text prokind:char prosecdef:bool proleakproof:bool proisstrict:bool proretset:bool "+
			"provolatile:char proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid proargtypes:text "+
			"proallargtypes:oidarr proargmodes:arr proargnames:arr proargdefaults:text protrftypes:arr prosrc:text probin:text "+
			"prosqlbody:text proconfig:arr proacl:arr"),
		// pg_type.typdisplay, pg_index.indexdef and pg_constraint.condef
		// are etlc's: format_type, pg_get_indexdef and
		// pg_get_constraintdef read them.
		pg("pg_index", 2610, "indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool "+
			"indnullsnotdistinct:bool indisprimary:bool indisexclusion:bool indimmediate:bool indisclustered:bool "+
			"indisvalid:bool indcheckxmin:bool indisready:bool indislive:bool indisreplident:bool indkey:int2arr "+
			"indcollation:oidarr indclass:oidarr indoption:int2arr indexprs:text indpred:text indexdef:text"),
		pg("pg_constraint", 2606, "oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool "+
			"convalidated:bool conrelid:oid contypid:oid conindid:oid conparentid:oid confrelid:oid confupdtype:char "+
			"confdeltype:char confmatchtype:char conislocal:bool coninhcount:int4 connoinherit:bool conkey:int2arr "+
			"confkey:int2arr conpfeqop:oidarr conppeqop:oidarr conffeqop:oidarr confdelsetcols:int2arr conexclop:oidarr conbin:text condef:text"),
		pg("pg_description", 2609, "objoid:oid classoid:oid objsubid:int4 description:text"),
		pg("pg_am", 2601, "oid:oid amname:name amhandler:text amtype:char"),
		pg("pg_attrdef", 2604, "oid:oid adrelid:oid adnum:int2 adbin:text"),
		pg("pg_inherits", 2611, "inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool"),
		pg("pg_collation", 3456, "oid:oid collname:name collnamespace:oid collowner:oid collprovider:char "+
			"collisdeterministic:bool collencoding:int4 collcollate:text collctype:text colliculocale:text collversion:text"),
		pg("pg_extension", 3079, "oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool "+
			"extversion:text extconfig:oidarr extcondition:arr"),
		pg("pg_tablespace", 1213, "oid:oid spcname:name spcowner:oid spcacl:arr spcoptions:arr"),
		pg("pg_enum", 3501, "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name"),
		pg("pg_range", 3541, "rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid rngsubopc:oid "+
			"rngcanonical:text rngsubdiff:text"),
		pg("pg_trigger", 2620, "oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char "+
			"tgisinternal:bool tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid tgdeferrable:bool tginitdeferred:bool "+
			"tgnargs:int2 tgattr:int2arr tgargs:text tgqual:text tgoldtable:name tgnewtable:name"),
		pg("pg_rewrite", 2618, "oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool "+
			"ev_qual:text ev_action:text"),
		pg("pg_policy", 3256, "oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:oidarr "+
			"polqual:text polwithcheck:text"),
		pg("pg_statistic_ext", 3381, "oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid "+
			"stxstattarget:int4 stxkeys:int2arr stxkind:arr stxexprs:text"),
		pg("pg_publication", 6104, "oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool "+
			"pubdelete:bool pubtruncate:bool pubviaroot:bool"),
		pg("pg_publication_rel", 6106, "oid:oid prpubid:oid prrelid:oid prqual:text prattrs:text"),
		pg("pg_publication_namespace", 6237, "oid:oid pnpubid:oid pnnspid:oid"),
		pg("pg_foreign_table", 3118, "ftrelid:oid ftserver:oid ftoptions:arr"),
		pg("pg_foreign_server", 1417, "oid:oid srvname:name srvowner:oid srvfdw:oid srvtype:text srvversion:text "+
			"srvacl:arr srvoptions:arr"),
		pg("pg_foreign_data_wrapper", 2328, "oid:oid fdwname:name fdwowner:oid fdwhandler:oid fdwvalidator:oid "+
			"fdwacl:arr fdwoptions:arr"),
		pg("pg_depend", 2608, "classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char"),
		pg("pg_sequence", 2224, "seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 "+
			"seqcache:int8 seqcycle:bool"),
		pg("pg_event_trigger", 3466, "oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char evttags:arr"),
		pg("pg_partitioned_table", 3350, "partrelid:oid partstrat:char partnatts:int2 partdefid:oid partattrs:text "+
			"partclass:text partcollation:text partexprs:text"),
		pg("pg_shdescription", 2396, "objoid:oid classoid:oid description:text"),
		pg("pg_operator", 2617, "oid:oid oprname:name oprnamespace:oid oprowner:oid oprkind:char oprcanmerge:bool "+
			"oprcanhash:bool oprleft:oid oprright:oid oprresult:oid oprcom:oid oprnegate:oid oprcode:text oprrest:text oprjoin:text"),
		pg("pg_cast", 2605, "oid:oid castsource:oid casttarget:oid castfunc:oid castcontext:char castmethod:char"),
		pg("pg_language", 2612, "oid:oid lanname:name lanowner:oid lanispl:bool lanpltrusted:bool lanplcallfoid:oid "+
			"laninline:oid lanvalidator:oid lanacl:arr"),
		pg("pg_auth_members", 1261, "oid:oid roleid:oid member:oid grantor:oid admin_option:bool"),
		pg("pg_matviews", 12110, "schemaname:name matviewname:name matviewowner:name tablespace:name hasindexes:bool "+
			"ispopulated:bool definition:text"),
		pgv("pg_tables", 12100, "schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool "+
			"hasrules:bool hastriggers:bool rowsecurity:bool"),
		pgv("pg_views", 12101, "schemaname:name viewname:name viewowner:name definition:text"),
		pgv("pg_indexes", 12102, "schemaname:name tablename:name indexname:name tablespace:name indexdef:text"),
		pgv("pg_roles", 12103, "rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool "+
			"rolcanlogin:bool rolreplication:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:tstz "+
			"rolbypassrls:bool rolconfig:arr oid:oid"),
		pgv("pg_user", 12104, "usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool usebypassrls:bool "+
			"passwd:text valuntil:tstz useconfig:arr"),
		pgv("pg_settings", 12105, "name:text setting:text unit:text category:text short_desc:text extra_desc:text "+
			"context:text vartype:text source:text min_val:text max_val:text enumvals:arr boot_val:text reset_val:text "+
			"sourcefile:text sourceline:int4 pending_restart:bool"),
		pgv("pg_stat_activity", 12106, "datid:oid datname:name pid:int4 leader_pid:int4 usesysid:oid usename:name "+
			"application_name:text client_addr:text client_hostname:text client_port:int4 backend_start:tstz "+
			"xact_start:tstz query_start:tstz state_change:tstz wait_event_type:text wait_event:text state:text "+
			"backend_xid:text backend_xmin:text query_id:int8 query:text backend_type:text"),
		pgv("pg_sequences", 12107, "schemaname:name sequencename:name sequenceowner:name data_type:text start_value:int8 "+
			"min_value:int8 max_value:int8 increment_by:int8 cycle:bool cache_size:int8 last_value:int8"),
		pgv("pg_stat_user_tables", 12108, "relid:oid schemaname:name relname:name seq_scan:int8 seq_tup_read:int8 "+
			"idx_scan:int8 idx_tup_fetch:int8 n_tup_ins:int8 n_tup_upd:int8 n_tup_del:int8 n_live_tup:int8 n_dead_tup:int8"),

		is("schemata", 13002, "catalog_name:name schema_name:name schema_owner:name default_character_set_catalog:name "+
			"default_character_set_schema:name default_character_set_name:name sql_path:text"),
		is("tables", 13003, "table_catalog:name table_schema:name table_name:name table_type:text "+
			"self_referencing_column_name:name reference_generation:text user_defined_type_catalog:name "+
			"user_defined_type_schema:name user_defined_type_name:name is_insertable_into:text is_typed:text commit_action:text"),
		is("columns", 13004, "table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 "+
			"column_default:text is_nullable:text data_type:text character_maximum_length:int4 character_octet_length:int4 "+
			"numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 "+
			"interval_type:text interval_precision:int4 character_set_catalog:name character_set_schema:name "+
			"character_set_name:name collation_catalog:name collation_schema:name collation_name:name domain_catalog:name "+
			"domain_schema:name domain_name:name udt_catalog:name udt_schema:name udt_name:name scope_catalog:name "+
			"scope_schema:name scope_name:name maximum_cardinality:int4 dtd_identifier:name is_self_referencing:text "+
			"is_identity:text identity_generation:text identity_start:text identity_increment:text identity_maximum:text "+
			"identity_minimum:text identity_cycle:text is_generated:text generation_expression:text is_updatable:text"),
		is("views", 13005, "table_catalog:name table_schema:name table_name:name view_definition:text check_option:text "+
			"is_updatable:text is_insertable_into:text is_trigger_updatable:text is_trigger_deletable:text "+
			"is_trigger_insertable_into:text"),
		is("table_constraints", 13006, "constraint_catalog:name constraint_schema:name constraint_name:name "+
			"table_catalog:name table_schema:name table_name:name constraint_type:text is_deferrable:text "+
			"initially_deferred:text enforced:text nulls_distinct:text"),
		is("key_column_usage", 13007, "constraint_catalog:name constraint_schema:name constraint_name:name "+
			"table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4 "+
			"position_in_unique_constraint:int4"),
		is("routines", 13008, "specific_catalog:name specific_schema:name specific_name:name routine_catalog:name "+
			"routine_schema:name routine_name:name routine_type:text data_type:text"),
	}
}

// PGCatalogObjects returns the emulated pg_catalog and information_schema
// relations as system objects named schema.relation.
func PGCatalogObjects() []Object {
	out := make([]Object, len(pgCatalogObjects))
	for i, o := range pgCatalogObjects {
		out[i] = o.Clone()
	}
	return out
}

// pgCatalogObjects are built once: every catalog (and so every statement
// compiled against a snapshot) has them. Never written after init.
var pgCatalogObjects = func() []Object {
	rels := PGRelations()
	out := make([]Object, len(rels))
	for i, r := range rels {
		out[i] = Object{Kind: ObjectSystem, Name: r.QualifiedName(), Columns: r.Columns, CreatedAt: time.Unix(0, 0).UTC()}
	}
	return out
}()

// IsPGCatalogName reports whether a qualified object name is in the
// pg_catalog or information_schema emulation.
func IsPGCatalogName(name string) bool {
	k := strings.ToLower(name)
	return strings.HasPrefix(k, PGCatalogSchema+".") || strings.HasPrefix(k, InfoSchema+".")
}

// SchemaOf splits an object name into its schema (public when the name is
// unqualified) and its relation name.
func SchemaOf(name string) (schema, rel string) {
	if s, r, ok := strings.Cut(name, "."); ok {
		return s, r
	}
	return PublicSchema, name
}
