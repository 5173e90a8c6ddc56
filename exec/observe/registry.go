package observe

import (
	"context"
	"io"
	"sync"
)

// Collector produces metric families when metrics are scraped.
type Collector interface {
	Collect(ctx context.Context) []Family
}

// CollectorFunc is a function as a Collector.
type CollectorFunc func(ctx context.Context) []Family

// Collect implements Collector.
func (f CollectorFunc) Collect(ctx context.Context) []Family { return f(ctx) }

// Registry holds the collectors of one process (or one test). It is safe
// for concurrent use.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Register adds a collector.
func (r *Registry) Register(c Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, c)
}

// Gather collects the families of every collector.
func (r *Registry) Gather(ctx context.Context) []Family {
	r.mu.Lock()
	cs := append([]Collector(nil), r.collectors...)
	r.mu.Unlock()
	var out []Family
	for _, c := range cs {
		out = append(out, c.Collect(ctx)...)
	}
	return out
}

// WriteText gathers and writes every family in the text format.
func (r *Registry) WriteText(ctx context.Context, w io.Writer) error {
	return WriteText(w, r.Gather(ctx))
}
