package planner

import (
	"context"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// CompileScript parses src and binds every statement in order against cat
// (nil: an empty catalog). Without opts.Apply the catalog is not changed.
// The diagnostics of both steps are returned together, sorted by position;
// a script with errors still yields the statements that could be bound.
func CompileScript(ctx context.Context, src *parser.Source, cat *catalog.Catalog, opts CompileOptions) (*Program, parser.Diagnostics) {
	script, pdiags := parser.Parse(src, parser.Options{Params: opts.Params, LookupEnv: opts.LookupEnv})
	if script == nil {
		return &Program{Source: src}, pdiags
	}
	prog, bdiags := BindScript(ctx, script, cat, opts)
	all := append(append(parser.Diagnostics{}, pdiags...), bdiags...)
	all.Sort()
	return prog, all
}
