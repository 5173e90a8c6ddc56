package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// ErrorsSuffix ends the name of the relation that holds a quarantining
// source's bad rows: contacts__errors for the source contacts.
const ErrorsSuffix = "__errors"

// quarantineConnector is the connector option value that marks a
// <source>__errors relation in the catalog; its "source" option names the
// source.
const quarantineConnector = "quarantine"

// ErrorsObject returns the catalog object of the relation holding the bad
// rows of the quarantining source named source: a read-only source whose
// columns are connector.QuarantineFields (source_file, line, column_name,
// reason, raw).
func ErrorsObject(source string) catalog.Object {
	var cols catalog.Schema
	for _, f := range connector.QuarantineFields() {
		cols = append(cols, catalog.Column{Name: f.Name, Type: f.Type, NotNull: f.NotNull})
	}
	return catalog.Object{
		Kind:    catalog.ObjectSource,
		Name:    source + ErrorsSuffix,
		Columns: cols,
		Options: map[string]string{"connector": quarantineConnector, "source": source},
	}
}

// isErrorsObject reports whether o is a <source>__errors relation, and
// names its source.
func isErrorsObject(o *catalog.Object) (string, bool) {
	if o.Kind != catalog.ObjectSource || o.Options["connector"] != quarantineConnector {
		return "", false
	}
	return o.Options["source"], true
}

// quarantines reports whether a CREATE SOURCE/STREAM statement's options
// ask for on_error = 'quarantine'.
func quarantines(opts []parser.Option) bool {
	for _, o := range opts {
		if o.Key.Name == "on_error" && strings.EqualFold(strings.TrimSpace(o.Value), "quarantine") {
			return true
		}
	}
	return false
}

// CompileOptions configure CompileScript.
type CompileOptions struct {
	// Params and LookupEnv give parameter values (see parser.Options).
	Params    map[string]string
	LookupEnv func(string) (string, bool)
	// Infer infers the schema of sources declared without columns (nil:
	// they stay without columns).
	Infer planner.InferFunc
	// Registry is the function registry (nil: planner.NewRegistry()).
	Registry *planner.Registry
	// Temporary are objects visible to the script besides base's (a
	// session's temporary views); they shadow base's objects of the same
	// name.
	Temporary []catalog.Object
	// Session is what current_user, version() and the like answer.
	Session planner.SessionInfo
}

// CompileScript parses src and binds every statement against a copy of base
// (nil: an empty catalog) with the temporary objects added, so neither is
// changed. It also makes the <source>__errors relation of every
// quarantining source the script creates visible to the statements, as the
// engine registers it when it creates the source. Diagnostics of parsing
// and binding come together, sorted by position.
func CompileScript(ctx context.Context, src *parser.Source, base *catalog.Catalog, opts CompileOptions) (*planner.Program, parser.Diagnostics) {
	script, diags := parser.Parse(src, parser.Options{Params: opts.Params, LookupEnv: opts.LookupEnv})
	if script == nil {
		return &planner.Program{Source: src}, diags
	}
	snap, err := compileCatalog(ctx, base, opts.Temporary, script)
	if err != nil {
		diags = append(diags, &parser.Diagnostic{Source: src, Severity: parser.SevError, Code: "58030",
			Message: fmt.Sprintf("reading the catalog: %v", err)})
		return &planner.Program{Source: src}, diags
	}
	prog, bdiags := planner.BindScript(ctx, script, snap, planner.CompileOptions{
		Params: opts.Params, LookupEnv: opts.LookupEnv, Infer: opts.Infer, Registry: opts.Registry,
		Session: opts.Session,
	})
	diags = append(diags, bdiags...)
	diags.Sort()
	return prog, diags
}

// compileCatalog builds the catalog a script is bound against: a copy of
// base, the temporary objects, and the __errors relations of the
// quarantining sources the script creates.
func compileCatalog(ctx context.Context, base *catalog.Catalog, temps []catalog.Object, script *parser.Script) (*catalog.Catalog, error) {
	snap := catalog.NewMemory()
	if base != nil {
		// The system tables are in every catalog already.
		for _, o := range base.List(catalog.ObjectSource, catalog.ObjectStream, catalog.ObjectSink,
			catalog.ObjectTable, catalog.ObjectView, catalog.ObjectPipeline) {
			if _, err := snap.Create(ctx, o, catalog.CreateOrReplace); err != nil {
				return nil, err
			}
		}
	}
	for _, o := range temps {
		if old, ok := snap.Lookup(o.Name); ok && old.Kind != o.Kind {
			if _, err := snap.Drop(ctx, old.Kind, old.Name, true); err != nil {
				return nil, err
			}
		}
		if _, err := snap.Create(ctx, o, catalog.CreateOrReplace); err != nil {
			return nil, err
		}
	}
	for _, st := range script.Stmts {
		cs, ok := st.(*parser.CreateSource)
		if !ok || !quarantines(cs.Options) {
			continue
		}
		eo := ErrorsObject(cs.Name.String())
		if _, exists := snap.Lookup(eo.Name); exists {
			continue
		}
		if _, err := snap.Create(ctx, eo, catalog.CreateNew); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// inferFunc is the planner's schema inference through the connector.
func (e *Engine) inferFunc() planner.InferFunc {
	return e.conn.InferCatalogSchema
}
