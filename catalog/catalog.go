package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
)

// Errors a Catalog operation wraps; test for them with errors.Is. The
// *ObjectError that wraps them carries the message for people and the
// SQLSTATE.
var (
	ErrExists       = errors.New("catalog: object already exists")
	ErrNotFound     = errors.New("catalog: object not found")
	ErrWrongKind    = errors.New("catalog: object is of another kind")
	ErrSystemObject = errors.New("catalog: system objects cannot be changed")
	ErrBadName      = errors.New("catalog: invalid object name")
	ErrClosed       = errors.New("catalog: closed")
)

// ObjectError is a failed Create or Drop: Err is one of the Err* values,
// Message reads like PostgreSQL's (`source "contacts" already exists`), Code
// is the SQLSTATE.
type ObjectError struct {
	Err     error
	Code    string
	Message string
}

// Error returns the message.
func (e *ObjectError) Error() string { return e.Message }

// Unwrap returns the Err* value.
func (e *ObjectError) Unwrap() error { return e.Err }

// SQLSTATE codes of object errors.
const (
	CodeDuplicateTable   = "42P07"
	CodeDuplicateObject  = "42710"
	CodeUndefinedTable   = "42P01"
	CodeUndefinedObject  = "42704"
	CodeWrongObjectType  = "42809"
	CodeInsufficientPriv = "42501"
	CodeInvalidSchema    = "3F000"
)

// isRelation reports whether objects of kind k are queried like tables, so
// that their errors use PostgreSQL's relation codes.
func isRelation(k ObjectKind) bool { return k != ObjectPipeline }

// CreateMode says what Create does when the name is taken.
type CreateMode int

// The create modes: CREATE, CREATE OR REPLACE, CREATE ... IF NOT EXISTS.
const (
	CreateNew CreateMode = iota
	CreateOrReplace
	CreateIfNotExists
)

// Pebble key layout: every object is a JSON value under objPrefix + its
// lower-case name; metaVersion holds the layout version.
const (
	objPrefix     = "obj/"
	objUpperBound = "obj0" // the first key after every objPrefix key ('0' follows '/')
	metaVersion   = "meta/version"
	layoutVersion = "1"
)

// Catalog holds etlc's named objects. It is safe for concurrent use. A
// catalog from Open keeps its objects in a Pebble database and writes every
// change through before it returns; one from NewMemory lives in memory. The
// system tables of the etl schema are always present.
type Catalog struct {
	mu     sync.RWMutex
	objs   map[string]Object     // by catalogKey
	stats  map[string]TableStats // by catalogKey (stats.go)
	db     *pebble.DB            // nil: in memory
	closed bool
	now    func() time.Time
}

// NewMemory returns an empty in-memory catalog with the system tables.
func NewMemory() *Catalog {
	c := &Catalog{objs: make(map[string]Object), now: defaultNow}
	for _, o := range SystemObjects() {
		c.objs[catalogKey(o.Name)] = o
	}
	// Shared, not copied: Lookup and List return clones.
	for _, o := range pgCatalogObjects {
		c.objs[catalogKey(o.Name)] = o
	}
	return c
}

// defaultNow is the creation time stamp: UTC, microseconds, no monotonic
// reading, so that it survives a JSON round trip unchanged.
func defaultNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Open opens (creating if needed) the catalog stored in the Pebble database
// at dir/catalog and loads its objects.
func Open(ctx context.Context, dir string) (c *Catalog, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("catalog: opening %s: %v", dir, r)
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	path := filepath.Join(dir, "catalog")
	db, err := pebble.Open(path, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("catalog: opening %s: %w", path, err)
	}
	c = NewMemory()
	c.db = db
	if err := c.load(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("catalog: loading %s: %w", path, err)
	}
	return c, nil
}

// load reads the layout version (writing it into a new database) and every
// stored object.
func (c *Catalog) load(ctx context.Context) error {
	v, closer, err := c.db.Get([]byte(metaVersion))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if err := c.db.Set([]byte(metaVersion), []byte(layoutVersion), pebble.Sync); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		version := string(v)
		_ = closer.Close()
		if version != layoutVersion {
			return fmt.Errorf("catalog layout version %q, this etlc reads %q", version, layoutVersion)
		}
	}
	err = loadJSON(ctx, c.db, objPrefix, objUpperBound, "object", func(name string, o Object) { c.objs[name] = o })
	if err != nil {
		return err
	}
	return c.loadStats(ctx)
}

// loadJSON decodes each value stored in [prefix, upper) as a T and passes
// it to put with its key less the prefix; what names the values in errors.
func loadJSON[T any](ctx context.Context, db *pebble.DB, prefix, upper, what string, put func(key string, v T)) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(prefix), UpperBound: []byte(upper)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var v T
		if err := json.Unmarshal(it.Value(), &v); err != nil {
			return fmt.Errorf("%s %s: %w", what, it.Key(), err)
		}
		put(strings.TrimPrefix(string(it.Key()), prefix), v)
	}
	return it.Error()
}

// Close closes the database of a persistent catalog. Later calls to Create
// and Drop fail with ErrClosed; Close is idempotent.
func (c *Catalog) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.db != nil {
		if err := c.db.Close(); err != nil {
			return fmt.Errorf("catalog: closing: %w", err)
		}
	}
	return nil
}

// Lookup returns a copy of the object named name, compared without regard
// to case; "public.name" is the same as "name", system tables are named
// "etl.pipelines" and so on. An unqualified name that names no object of
// its own is looked up on the rest of the search path, pg_catalog then
// etl, so pg_class and pipelines are found as PostgreSQL would find them
// with search_path = public, etl.
func (c *Catalog) Lookup(name string) (Object, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k := catalogKey(name)
	o, ok := c.objs[k]
	if !ok && !strings.Contains(k, ".") {
		if o, ok = c.objs[PGCatalogSchema+"."+k]; !ok {
			o, ok = c.objs[SystemSchema+"."+k]
		}
	}
	if !ok {
		return Object{}, false
	}
	return o.Clone(), true
}

// List returns copies of the objects of the given kinds (all objects when
// none is given), sorted by name.
func (c *Catalog) List(kinds ...ObjectKind) []Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Object
	for _, o := range c.objs {
		if len(kinds) == 0 || slices.Contains(kinds, o.Kind) {
			out = append(out, o.Clone())
		}
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(catalogKey(a.Name), catalogKey(b.Name)) })
	return out
}

// checkName validates the name of an object to create or drop.
func checkName(name string) error {
	key := catalogKey(name)
	switch {
	case strings.TrimSpace(key) == "":
		return &ObjectError{Err: ErrBadName, Code: "42602", Message: "empty object name"}
	case strings.HasPrefix(key, SystemSchema+"."):
		return &ObjectError{Err: ErrSystemObject, Code: CodeInsufficientPriv,
			Message: fmt.Sprintf("schema %q is reserved for system tables", SystemSchema)}
	case strings.Contains(key, "."):
		schema, _, _ := strings.Cut(name, ".")
		return &ObjectError{Err: ErrBadName, Code: CodeInvalidSchema,
			Message: fmt.Sprintf("schema %q does not exist", schema)}
	}
	return nil
}

// Create adds obj. When the name (compared without case) is taken, mode
// decides: CreateNew fails with ErrExists, CreateIfNotExists leaves the
// existing object and reports false, CreateOrReplace replaces an object of
// the same kind and fails with ErrWrongKind for another kind. A zero
// CreatedAt is set to the current time. The result says whether obj was
// stored. A persistent catalog has written it to disk when Create returns
// (temporary objects excepted; a temporary object that replaces a stored one
// removes it from disk). A "public." prefix is dropped from the name.
func (c *Catalog) Create(ctx context.Context, obj Object, mode CreateMode) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if obj.Kind == ObjectSystem {
		return false, &ObjectError{Err: ErrSystemObject, Code: CodeInsufficientPriv,
			Message: fmt.Sprintf("cannot create system table %q", obj.Name)}
	}
	if err := checkName(obj.Name); err != nil {
		return false, err
	}
	obj = obj.Clone()
	if strings.HasPrefix(strings.ToLower(obj.Name), "public.") {
		obj.Name = obj.Name[len("public."):]
	}
	key := catalogKey(obj.Name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	old, exists := c.objs[key]
	if exists {
		switch {
		case mode == CreateIfNotExists:
			return false, nil
		case mode == CreateNew:
			code := CodeDuplicateObject
			if isRelation(obj.Kind) && isRelation(old.Kind) {
				code = CodeDuplicateTable
			}
			return false, &ObjectError{Err: ErrExists, Code: code,
				Message: fmt.Sprintf("%s %q already exists", old.Kind, old.Name)}
		case old.Kind != obj.Kind:
			return false, &ObjectError{Err: ErrWrongKind, Code: CodeWrongObjectType,
				Message: fmt.Sprintf("%q is a %s, not a %s", old.Name, old.Kind, obj.Kind)}
		}
	}
	if obj.CreatedAt.IsZero() {
		obj.CreatedAt = c.now()
	}
	if c.db != nil {
		var err error
		switch {
		case !obj.Temporary:
			var v []byte
			if v, err = json.Marshal(obj); err != nil {
				return false, fmt.Errorf("catalog: encoding %s %q: %w", obj.Kind, obj.Name, err)
			}
			err = c.db.Set([]byte(objPrefix+key), v, pebble.Sync)
		case exists && !old.Temporary:
			// A temporary object replaces a stored one: forget the stored one.
			err = c.db.Delete([]byte(objPrefix+key), pebble.Sync)
		}
		if err != nil {
			return false, fmt.Errorf("catalog: storing %s %q: %w", obj.Kind, obj.Name, err)
		}
	}
	if exists {
		// A replaced relation's data may differ: its statistics go.
		if err := c.dropStats(key); err != nil {
			return false, err
		}
	}
	c.objs[key] = obj
	return true, nil
}

// Drop removes the object named name, which must be of kind kind. A missing
// object is ErrNotFound unless ifExists, when Drop reports false; an object
// of another kind is ErrWrongKind either way, and system tables cannot be
// dropped.
func (c *Catalog) Drop(ctx context.Context, kind ObjectKind, name string, ifExists bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	key := catalogKey(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	old, exists := c.objs[key]
	switch {
	case !exists && ifExists:
		return false, nil
	case !exists:
		code := CodeUndefinedObject
		if isRelation(kind) {
			code = CodeUndefinedTable
		}
		return false, &ObjectError{Err: ErrNotFound, Code: code,
			Message: fmt.Sprintf("%s %q does not exist", kind, name)}
	case old.Kind == ObjectSystem:
		return false, &ObjectError{Err: ErrSystemObject, Code: CodeInsufficientPriv,
			Message: fmt.Sprintf("cannot drop system table %q", old.Name)}
	case old.Kind != kind:
		return false, &ObjectError{Err: ErrWrongKind, Code: CodeWrongObjectType,
			Message: fmt.Sprintf("%q is a %s, not a %s", old.Name, old.Kind, kind)}
	}
	if c.db != nil && !old.Temporary {
		if err := c.db.Delete([]byte(objPrefix+key), pebble.Sync); err != nil {
			return false, fmt.Errorf("catalog: dropping %s %q: %w", old.Kind, old.Name, err)
		}
	}
	delete(c.objs, key)
	if err := c.dropStats(key); err != nil {
		return false, err
	}
	return true, nil
}

// quietLogger keeps Pebble's informational messages off the user's
// terminal; a fatal condition becomes a panic, which Open recovers from.
type quietLogger struct{}

// Infof discards the message.
func (quietLogger) Infof(string, ...any) {}

// Fatalf panics with the message.
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
