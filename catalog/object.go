package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/etlc/etlc/parser"
)

// ObjectKind is the kind of a catalog object.
type ObjectKind int

// The object kinds. ObjectSystem is a built-in table of the etl schema whose
// rows the engine produces.
const (
	ObjectSource ObjectKind = iota
	ObjectStream
	ObjectSink
	ObjectTable
	ObjectView
	ObjectPipeline
	ObjectSystem
)

var objectKindNames = [...]string{"source", "stream", "sink", "table", "view", "pipeline", "system table"}

// String returns the kind in lower case as it reads in a message: "source",
// "view", "system table".
func (k ObjectKind) String() string {
	if k >= 0 && int(k) < len(objectKindNames) {
		return objectKindNames[k]
	}
	return fmt.Sprintf("ObjectKind(%d)", int(k))
}

// MarshalText encodes the kind as its name, for the catalog's JSON.
func (k ObjectKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(objectKindNames) {
		return nil, fmt.Errorf("catalog: cannot encode object kind %d", int(k))
	}
	return []byte(objectKindNames[k]), nil
}

// UnmarshalText decodes a kind written by MarshalText.
func (k *ObjectKind) UnmarshalText(b []byte) error {
	for i, n := range objectKindNames {
		if n == string(b) {
			*k = ObjectKind(i)
			return nil
		}
	}
	return fmt.Errorf("catalog: unknown object kind %q", b)
}

// ObjectKindOf returns the catalog kind of a parser object kind.
func ObjectKindOf(k parser.ObjectKind) ObjectKind {
	switch k {
	case parser.KindSource:
		return ObjectSource
	case parser.KindStream:
		return ObjectStream
	case parser.KindSink:
		return ObjectSink
	case parser.KindTable:
		return ObjectTable
	case parser.KindView:
		return ObjectView
	}
	return ObjectPipeline
}

// Watermark is a stream's WATERMARK FOR column AS expression, with the
// expression kept as SQL text.
type Watermark struct {
	Column string `json:"column"`
	Expr   string `json:"expr"`
}

// Object is a named catalog entry: a source, stream, sink, table, view,
// pipeline or system table.
type Object struct {
	Kind ObjectKind `json:"kind"`
	// Name is the object's name, folded to lower case unless it was quoted;
	// system tables are schema-qualified ("etl.pipelines").
	Name string `json:"name"`
	// Columns is the schema; empty for a pipeline, and for a source whose
	// schema is inferred when it is read.
	Columns Schema `json:"columns,omitempty"`
	// PrimaryKey names a table's PRIMARY KEY columns (also recorded, with
	// its name, as the Primary entry of Indexes).
	PrimaryKey []string `json:"primary_key,omitempty"`
	// Indexes are a table's keys and indexes: PRIMARY KEY, UNIQUE
	// constraints, CREATE [UNIQUE] INDEX.
	Indexes []Index `json:"indexes,omitempty"`
	// Checks are a table's CHECK constraints.
	Checks []Check `json:"checks,omitempty"`
	// Options are the validated WITH options, keys in lower case (see
	// ValidateOptions).
	Options   map[string]string `json:"options,omitempty"`
	Watermark *Watermark        `json:"watermark,omitempty"`
	// SQL is the text of the defining statement. For views and pipelines it
	// is the definition itself, parsed again when the object is used.
	SQL string `json:"sql,omitempty"`
	// Temporary objects (CREATE TEMPORARY VIEW) live in memory only and are
	// never written to disk.
	Temporary bool      `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Clone returns a deep copy of o, so that a caller may change it without
// affecting the catalog.
func (o Object) Clone() Object {
	o.Columns = slices.Clone(o.Columns)
	o.PrimaryKey = slices.Clone(o.PrimaryKey)
	if o.Indexes != nil {
		ix := make([]Index, len(o.Indexes))
		for i, x := range o.Indexes {
			x.Columns = slices.Clone(x.Columns)
			x.Prefix = slices.Clone(x.Prefix)
			ix[i] = x
		}
		o.Indexes = ix
	}
	o.Checks = slices.Clone(o.Checks)
	o.Options = maps.Clone(o.Options)
	if o.Watermark != nil {
		w := *o.Watermark
		o.Watermark = &w
	}
	return o
}

// catalogKey is the lookup key of a name: lower case, with the PostgreSQL
// default schema "public." dropped.
func catalogKey(name string) string {
	k := strings.ToLower(name)
	return strings.TrimPrefix(k, "public.")
}

// SystemSchema is the schema of the built-in system tables.
const SystemSchema = "etl"
