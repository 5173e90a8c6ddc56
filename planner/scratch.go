package planner

import (
	"context"
	"sort"
	"strings"

	"github.com/etlc/etlc/catalog"
)

// InferFunc infers the schema of a source declared without columns from its
// validated WITH options (the exec connector layer provides the real one).
type InferFunc func(ctx context.Context, opts map[string]string) (catalog.Schema, error)

// scratchCatalog is the catalog as a script sees it while it is compiled:
// the base catalog plus the objects the script created, minus the ones it
// dropped. The base catalog is only changed when apply is set.
type scratchCatalog struct {
	base    *catalog.Catalog
	objs    map[string]*catalog.Object
	dropped map[string]bool
	apply   bool
}

func newScratch(base *catalog.Catalog, apply bool) *scratchCatalog {
	return &scratchCatalog{base: base, objs: map[string]*catalog.Object{}, dropped: map[string]bool{}, apply: apply}
}

func catalogKey(name string) string {
	return strings.TrimPrefix(strings.ToLower(name), "public.")
}

func (s *scratchCatalog) lookup(name string) (*catalog.Object, bool) {
	k := catalogKey(name)
	if o, ok := s.objs[k]; ok {
		return o, true
	}
	if s.dropped[k] || s.base == nil {
		return nil, false
	}
	o, ok := s.base.Lookup(k)
	if !ok {
		return nil, false
	}
	return &o, true
}

// names lists every object name, for "did you mean" hints.
func (s *scratchCatalog) names() []string {
	set := map[string]bool{}
	if s.base != nil {
		for _, o := range s.base.List() {
			// The PostgreSQL catalog emulation is left out of hints.
			if !s.dropped[catalogKey(o.Name)] && !catalog.IsPGCatalogName(o.Name) {
				set[o.Name] = true
			}
		}
	}
	for _, o := range s.objs {
		set[o.Name] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// put records a created (or replaced) object.
func (s *scratchCatalog) put(ctx context.Context, o *catalog.Object, mode catalog.CreateMode) error {
	k := catalogKey(o.Name)
	s.objs[k] = o
	delete(s.dropped, k)
	if s.apply && s.base != nil {
		if _, err := s.base.Create(ctx, *o, mode); err != nil {
			return err
		}
	}
	return nil
}

// learn records what the script learned about an existing object (the
// columns of a sink without declared columns, from its first INSERT); the
// base catalog is not changed.
func (s *scratchCatalog) learn(o *catalog.Object) {
	s.objs[catalogKey(o.Name)] = o
}

func (s *scratchCatalog) drop(ctx context.Context, o *catalog.Object) error {
	k := catalogKey(o.Name)
	delete(s.objs, k)
	s.dropped[k] = true
	if s.apply && s.base != nil {
		if _, err := s.base.Drop(ctx, o.Kind, o.Name, true); err != nil {
			return err
		}
	}
	return nil
}
