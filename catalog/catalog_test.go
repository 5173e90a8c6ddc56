package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
)

// sampleObjects is one object of each creatable kind, as the engine would
// build them from CREATE statements.
func sampleObjects() []Object {
	at := time.Date(2024, 5, 1, 12, 30, 0, 123456000, time.UTC)
	return []Object{
		{
			Kind: ObjectSource, Name: "contacts",
			Columns: Schema{{Name: "id", Type: Int32, NotNull: true}, {Name: "name", Type: String}, {Name: "state", Type: Type{Kind: KindString, Length: 2, Fixed: true}}},
			Options: map[string]string{"connector": "file", "path": "s3://b/raw/*.csv", "format": "csv", "delimiter": "\t"},
			SQL:     "CREATE SOURCE contacts (id INT NOT NULL, name VARCHAR, state CHAR(2)) WITH (...)", CreatedAt: at,
		},
		{
			Kind: ObjectStream, Name: "orders",
			Columns:   Schema{{Name: "order_id", Type: Int64}, {Name: "amount", Type: Decimal(12, 2)}, {Name: "ts", Type: Timestamp}},
			Options:   map[string]string{"connector": "file", "path": "incoming/orders/", "format": "json"},
			Watermark: &Watermark{Column: "ts", Expr: "ts - INTERVAL '5 seconds'"}, CreatedAt: at,
		},
		{Kind: ObjectSink, Name: "snapshot", Options: map[string]string{"path": "out/", "format": "parquet", "partition_by": "state"}, CreatedAt: at},
		{Kind: ObjectTable, Name: `Dim Contact`, Columns: Schema{{Name: "id", Type: Int32, NotNull: true}, {Name: "doc", Type: JSON}}, PrimaryKey: []string{"id"}, CreatedAt: at},
		{Kind: ObjectView, Name: "staged", SQL: "SELECT id, name FROM contacts WHERE email IS NOT NULL", CreatedAt: at},
		{Kind: ObjectPipeline, Name: "revenue", Options: map[string]string{"checkpoint_interval": "10s"}, SQL: "INSERT INTO snapshot SELECT * FROM STREAM orders", CreatedAt: at},
	}
}

func mustCreate(t *testing.T, c *Catalog, o Object, mode CreateMode) {
	t.Helper()
	if ok, err := c.Create(context.Background(), o, mode); err != nil || !ok {
		t.Fatalf("Create(%s %s) = %v, %v", o.Kind, o.Name, ok, err)
	}
}

func userObjects(c *Catalog) []Object {
	return c.List(ObjectSource, ObjectStream, ObjectSink, ObjectTable, ObjectView, ObjectPipeline)
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range sampleObjects() {
		mustCreate(t, c, o, CreateNew)
	}
	mustCreate(t, c, Object{Kind: ObjectView, Name: "scratch", SQL: "SELECT 1", Temporary: true}, CreateNew)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	got := userObjects(c)
	want := sampleObjects()
	// List sorts by lower-case name.
	byName := map[string]Object{}
	for _, o := range want {
		byName[o.Name] = o
	}
	order := []string{"contacts", "Dim Contact", "orders", "revenue", "snapshot", "staged"}
	if len(got) != len(order) {
		t.Fatalf("reopened catalog has %d objects, want %d: %+v", len(got), len(order), got)
	}
	for i, name := range order {
		if !reflect.DeepEqual(got[i], byName[name]) {
			t.Errorf("object %d after reopen:\n got %+v\nwant %+v", i, got[i], byName[name])
		}
	}
	if _, ok := c.Lookup("scratch"); ok {
		t.Error("temporary view survived a reopen")
	}

	// A drop is durable too, and so is a temporary view that replaces a
	// stored one: the stored one is gone.
	if ok, err := c.Drop(ctx, ObjectStream, "ORDERS", false); err != nil || !ok {
		t.Fatalf("Drop(orders) = %v, %v", ok, err)
	}
	mustCreate(t, c, Object{Kind: ObjectView, Name: "staged", SQL: "SELECT 2", Temporary: true}, CreateOrReplace)
	if o, _ := c.Lookup("staged"); o.SQL != "SELECT 2" || !o.Temporary {
		t.Errorf("temporary replacement = %+v", o)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.Lookup("orders"); ok {
		t.Error("dropped stream came back after reopen")
	}
	if o, ok := c.Lookup("staged"); ok {
		t.Errorf("view replaced by a temporary one came back after reopen: %+v", o)
	}
	if o, ok := c.Lookup("dim contact"); !ok || o.Name != "Dim Contact" {
		t.Errorf("Lookup(dim contact) = %+v, %v", o, ok)
	}
}

func TestOpenRejectsOtherLayout(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(filepath.Join(dir, "catalog"), &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte(metaVersion), []byte("9"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), dir)
	want := fmt.Sprintf(`catalog: loading %s: catalog layout version "9", this etlc reads "1"`, filepath.Join(dir, "catalog"))
	if err == nil || err.Error() != want {
		t.Errorf("Open = %v, want %s", err, want)
	}
}

func TestOpenRejectsCorruptObject(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(filepath.Join(dir, "catalog"), &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte(objPrefix+"x"), []byte(`{"kind":"gadget","name":"x"}`), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), dir)
	want := fmt.Sprintf(`catalog: loading %s: object obj/x: catalog: unknown object kind "gadget"`, filepath.Join(dir, "catalog"))
	if err == nil || err.Error() != want {
		t.Errorf("Open = %v, want %s", err, want)
	}
}

func TestCreateModes(t *testing.T) {
	ctx := context.Background()
	c := NewMemory()
	v1 := Object{Kind: ObjectView, Name: "staged", SQL: "SELECT 1"}
	v2 := Object{Kind: ObjectView, Name: "STAGED", SQL: "SELECT 2"}
	mustCreate(t, c, v1, CreateNew)

	_, err := c.Create(ctx, v2, CreateNew)
	var oe *ObjectError
	if !errors.Is(err, ErrExists) || !errors.As(err, &oe) || oe.Code != CodeDuplicateTable || err.Error() != `view "staged" already exists` {
		t.Errorf("Create existing = %v", err)
	}
	if ok, err := c.Create(ctx, v2, CreateIfNotExists); ok || err != nil {
		t.Errorf("Create IF NOT EXISTS = %v, %v", ok, err)
	}
	if o, _ := c.Lookup("staged"); o.SQL != "SELECT 1" {
		t.Errorf("IF NOT EXISTS changed the view: %q", o.SQL)
	}
	mustCreate(t, c, v2, CreateOrReplace)
	if o, _ := c.Lookup("staged"); o.SQL != "SELECT 2" || o.Name != "STAGED" {
		t.Errorf("OR REPLACE gave %+v", o)
	}
	if o, _ := c.Lookup("staged"); o.CreatedAt.IsZero() || o.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want a UTC time stamp", o.CreatedAt)
	}

	_, err = c.Create(ctx, Object{Kind: ObjectTable, Name: "staged"}, CreateOrReplace)
	if !errors.Is(err, ErrWrongKind) || err.Error() != `"STAGED" is a view, not a table` {
		t.Errorf("replace view by table = %v", err)
	}
	_, err = c.Create(ctx, Object{Kind: ObjectPipeline, Name: "staged"}, CreateNew)
	if !errors.As(err, &oe) || oe.Code != CodeDuplicateObject {
		t.Errorf("pipeline over view = %v", err)
	}

	for _, tc := range []struct {
		obj  Object
		err  error
		msg  string
		code string
	}{
		{Object{Kind: ObjectTable, Name: "etl.mine"}, ErrSystemObject, `schema "etl" is reserved for system tables`, CodeInsufficientPriv},
		{Object{Kind: ObjectTable, Name: "ETL.pipelines"}, ErrSystemObject, `schema "etl" is reserved for system tables`, CodeInsufficientPriv},
		{Object{Kind: ObjectSystem, Name: "etl.more"}, ErrSystemObject, `cannot create system table "etl.more"`, CodeInsufficientPriv},
		{Object{Kind: ObjectTable, Name: "sales.orders"}, ErrBadName, `schema "sales" does not exist`, CodeInvalidSchema},
		{Object{Kind: ObjectTable, Name: " "}, ErrBadName, `empty object name`, "42602"},
	} {
		_, err := c.Create(ctx, tc.obj, CreateOrReplace)
		if !errors.Is(err, tc.err) || !errors.As(err, &oe) || oe.Code != tc.code || err.Error() != tc.msg {
			t.Errorf("Create(%q) = %v, want %s [%s]", tc.obj.Name, err, tc.msg, tc.code)
		}
	}

	// public.x is x.
	mustCreate(t, c, Object{Kind: ObjectTable, Name: "public.facts"}, CreateNew)
	if _, ok := c.Lookup("facts"); !ok {
		t.Error("public.facts is not found as facts")
	}
	if o, ok := c.Lookup("PUBLIC.FACTS"); !ok || o.Name != "facts" {
		t.Errorf("Lookup(PUBLIC.FACTS) = %+v, %v; want the table named facts", o, ok)
	}

	// The catalog hands out copies.
	o, _ := c.Lookup("etl.pipelines")
	o.Columns[0].Name = "changed"
	if o2, _ := c.Lookup("etl.pipelines"); o2.Columns[0].Name != "name" {
		t.Error("changing a looked-up object changed the catalog")
	}
}

func TestDrop(t *testing.T) {
	ctx := context.Background()
	c := NewMemory()
	for _, o := range sampleObjects() {
		mustCreate(t, c, o, CreateNew)
	}
	var oe *ObjectError
	for _, tc := range []struct {
		kind     ObjectKind
		name     string
		ifExists bool
		err      error
		msg      string
		code     string
	}{
		{ObjectTable, "nothing", false, ErrNotFound, `table "nothing" does not exist`, CodeUndefinedTable},
		{ObjectPipeline, "nothing", false, ErrNotFound, `pipeline "nothing" does not exist`, CodeUndefinedObject},
		{ObjectView, "contacts", false, ErrWrongKind, `"contacts" is a source, not a view`, CodeWrongObjectType},
		{ObjectView, "contacts", true, ErrWrongKind, `"contacts" is a source, not a view`, CodeWrongObjectType},
		{ObjectTable, "etl.pipelines", true, ErrSystemObject, `cannot drop system table "etl.pipelines"`, CodeInsufficientPriv},
	} {
		ok, err := c.Drop(ctx, tc.kind, tc.name, tc.ifExists)
		if ok || !errors.Is(err, tc.err) || !errors.As(err, &oe) || oe.Code != tc.code || err.Error() != tc.msg {
			t.Errorf("Drop(%s %s) = %v, %v, want %s [%s]", tc.kind, tc.name, ok, err, tc.msg, tc.code)
		}
	}
	if ok, err := c.Drop(ctx, ObjectTable, "nothing", true); ok || err != nil {
		t.Errorf("Drop IF EXISTS of nothing = %v, %v", ok, err)
	}
	if ok, err := c.Drop(ctx, ObjectSource, "Contacts", false); !ok || err != nil {
		t.Errorf("Drop(Contacts) = %v, %v", ok, err)
	}
	if _, ok := c.Lookup("contacts"); ok {
		t.Error("dropped source still found")
	}
}

func TestSystemTables(t *testing.T) {
	c := NewMemory()
	sys := c.List(ObjectSystem)
	var names []string
	for _, o := range sys {
		if !IsPGCatalogName(o.Name) {
			names = append(names, o.Name)
		}
	}
	want := []string{"etl.expectations", "etl.pipelines", "etl.runs", "etl.sinks", "etl.sources", "etl.stats"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("system tables = %v, want %v", names, want)
	}
	o, ok := c.Lookup("ETL.Pipelines")
	if !ok {
		t.Fatal("etl.pipelines not found")
	}
	if got := o.Columns.String(); got != "(name VARCHAR NOT NULL, state VARCHAR NOT NULL, started_at TIMESTAMPTZ, rows_in BIGINT NOT NULL, rows_out BIGINT NOT NULL, watermark TIMESTAMP, lag_ms BIGINT, last_checkpoint TIMESTAMPTZ, checkpoint_age_ms BIGINT, error VARCHAR)" {
		t.Errorf("etl.pipelines schema = %s", got)
	}
	o, _ = c.Lookup("etl.expectations")
	if got := o.Columns.String(); got != "(pipeline VARCHAR NOT NULL, constraint_name VARCHAR NOT NULL, action VARCHAR NOT NULL, passed BIGINT NOT NULL, dropped BIGINT NOT NULL, failed BIGINT NOT NULL, quarantined BIGINT NOT NULL)" {
		t.Errorf("etl.expectations schema = %s", got)
	}
	if len(userObjects(c)) != 0 {
		t.Error("a new catalog has user objects")
	}
	if got := len(c.List()); got != len(want)+len(PGRelations()) {
		t.Errorf("List() of a new catalog has %d objects, want %d", got, len(want))
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := c.Create(ctx, Object{Kind: ObjectView, Name: "v"}, CreateNew); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close = %v", err)
	}
	if _, err := c.Drop(ctx, ObjectView, "v", true); !errors.Is(err, ErrClosed) {
		t.Errorf("Drop after Close = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewMemory().Create(cctx, Object{Kind: ObjectView, Name: "v"}, CreateNew); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled context = %v", err)
	}
}

// TestConcurrency hammers one persistent catalog from several goroutines;
// run it with -race.
func TestConcurrency(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				name := fmt.Sprintf("t%d_%d", w, i)
				o := Object{Kind: ObjectTable, Name: name, Columns: Schema{{Name: "id", Type: Int64}}, Options: map[string]string{"format": "parquet"}}
				if _, err := c.Create(ctx, o, CreateNew); err != nil {
					errs <- err
					return
				}
				// Everyone races on one shared name too.
				if _, err := c.Create(ctx, Object{Kind: ObjectView, Name: "shared", SQL: name}, CreateOrReplace); err != nil {
					errs <- err
					return
				}
				if got, ok := c.Lookup(name); !ok || got.Options["format"] != "parquet" {
					errs <- fmt.Errorf("Lookup(%s) = %+v, %v", name, got, ok)
					return
				}
				_ = c.List(ObjectTable)
				if i%2 == 1 {
					if _, err := c.Drop(ctx, ObjectTable, name, false); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := len(c.List(ObjectTable)), workers*rounds/2; got != want {
		t.Errorf("%d tables left, want %d", got, want)
	}
	if _, ok := c.Lookup("shared"); !ok {
		t.Error("shared view missing")
	}
}
