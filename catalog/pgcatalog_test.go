package catalog

import "testing"

func TestPGCatalogLookup(t *testing.T) {
	c := NewMemory()
	for name, want := range map[string]string{
		"pg_class":                  "pg_catalog.pg_class",
		"PG_CATALOG.PG_NAMESPACE":   "pg_catalog.pg_namespace",
		"pipelines":                 "etl.pipelines",
		"information_schema.tables": "information_schema.tables",
	} {
		o, ok := c.Lookup(name)
		if !ok || o.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, o.Name, ok, want)
		}
	}
	if o, ok := c.Lookup("tables"); ok {
		t.Errorf("Lookup(tables) found %s: information_schema is not on the search path", o.Name)
	}
	seen := map[int64]string{}
	for _, r := range PGRelations() {
		if prev, dup := seen[r.OID]; dup {
			t.Errorf("OID %d of %s is also %s's", r.OID, r.QualifiedName(), prev)
		}
		seen[r.OID] = r.QualifiedName()
		if got, want := RelationVisible(r.OID), r.Schema != InfoSchema; got != want {
			t.Errorf("RelationVisible(%s) = %v", r.QualifiedName(), got)
		}
		if r.OID >= FirstUserOID {
			t.Errorf("%s has OID %d in the range of etlc objects", r.QualifiedName(), r.OID)
		}
	}
}

func TestDerivedOID(t *testing.T) {
	// The OID of an object is a function of its name only: these values
	// must never change, or clients that cached them see other objects.
	for _, tc := range []struct {
		kind, name string
		want       int64
	}{
		{"rel", "public.orders", DerivedOID("rel", "PUBLIC.Orders")},
		{"rel", "public.orders", 1194730105},
		{"rel", "etl.pipelines", 742377896},
		{"index", "public.orders_pkey", 194694025},
	} {
		if got := DerivedOID(tc.kind, tc.name); got != tc.want {
			t.Errorf("DerivedOID(%s, %s) = %d, want %d", tc.kind, tc.name, got, tc.want)
		}
		if got := DerivedOID(tc.kind, tc.name); got < FirstUserOID || got >= 1<<31 || !RelationVisible(got) {
			t.Errorf("DerivedOID(%s, %s) = %d out of range", tc.kind, tc.name, got)
		}
	}
}
