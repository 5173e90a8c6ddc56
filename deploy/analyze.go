package deploy

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/parser"
)

// ResourceKind tells what a Resource names.
type ResourceKind int

// The kinds of data a script reads or writes.
const (
	// ResourceTable is a managed table in the data directory, by name.
	ResourceTable ResourceKind = iota
	// ResourcePath is a file path or prefix (local or s3://) of a source,
	// stream or sink.
	ResourcePath
)

// Resource is a piece of data a script reads or writes: a managed table or
// a path (a directory prefix when it ends in "/").
type Resource struct {
	Kind ResourceKind
	// Name is the table's name, or the path with its glob part cut off
	// ("s3://b/raw/*.csv" is "s3://b/raw/").
	Name string
}

// String returns "table dim_contact" or "path s3://b/raw/".
func (r Resource) String() string {
	if r.Kind == ResourceTable {
		return "table " + r.Name
	}
	return "path " + r.Name
}

// overlaps reports whether a read of r sees what a write of w wrote: the
// same table, or paths of which one is the other or a directory prefix of it.
func (r Resource) overlaps(w Resource) bool {
	if r.Kind != w.Kind {
		return false
	}
	if r.Kind == ResourceTable || r.Name == w.Name {
		return r.Name == w.Name
	}
	short, long := r.Name, w.Name
	if len(short) > len(long) {
		short, long = long, short
	}
	if !strings.HasPrefix(long, short) {
		return false
	}
	return strings.HasSuffix(short, "/") || long[len(short)] == '/'
}

// GlueTable is a sink registered in the AWS Glue Data Catalog.
type GlueTable struct {
	Database, Table string
	// Location is the sink's path.
	Location string
}

// Script is a script prepared for deployment: its text, its parameters and
// the data it reads and writes.
type Script struct {
	// File is the script's path as given; Base its file name.
	File, Base string
	// Name is the DNS-1123 label made from the file name
	// (initial_load.sql is initial-load), the name of its Kubernetes
	// objects and Argo step.
	Name string
	Text string
	// Params are the script's parameters with their resolved values,
	// sorted by name.
	Params []parser.Param
	// Reads are the resources the script reads before it writes them
	// itself (its inputs); Writes every resource it writes. Both sorted.
	Reads, Writes []Resource
	// SourcePaths and SinkPaths are the paths of every source or stream the
	// script defines and of every sink it writes, for the IAM policy
	// (sorted, unique); ErrorPaths the errors_path of its sources.
	SourcePaths, SinkPaths, ErrorPaths []string
	// Glue lists the sinks registered in the Glue Data Catalog.
	Glue []GlueTable
	// Streaming is true when the script creates or starts a pipeline: it
	// runs until stopped.
	Streaming bool
}

// Analyze parses a script (parameters from opts) and works out what it
// reads and writes. Scripts with errors are refused with their diagnostics
// rendered as text.
func Analyze(file, text string, opts parser.Options) (*Script, error) {
	src := parser.NewSource(file, text)
	parsed, diags := parser.Parse(src, opts)
	a := &analysis{
		objects: map[string]object{},
		written: map[Resource]bool{},
		reads:   map[Resource]bool{},
		writes:  map[Resource]bool{},
	}
	for _, st := range parsed.Stmts {
		diags = append(diags, a.stmt(st, src)...)
	}
	if diags.HasErrors() {
		var b strings.Builder
		if err := parser.Render(&b, diags, parser.RenderOptions{}); err != nil {
			return nil, err
		}
		return nil, &ScriptError{File: file, Text: strings.TrimRight(b.String(), "\n")}
	}
	base := filepath.Base(file)
	s := &Script{
		File: file, Base: base, Name: dnsLabel(strings.TrimSuffix(base, filepath.Ext(base))), Text: text,
		Reads: sortedResources(a.reads), Writes: sortedResources(a.writes),
		SourcePaths: sortedUnique(a.sourcePaths), SinkPaths: sortedUnique(a.sinkPaths),
		ErrorPaths: sortedUnique(a.errorPaths), Glue: a.glue, Streaming: a.streaming,
	}
	for _, p := range parsed.Params {
		s.Params = append(s.Params, p)
	}
	slices.SortFunc(s.Params, func(x, y parser.Param) int { return strings.Compare(x.Name, y.Name) })
	if s.Name == "" {
		return nil, fmt.Errorf("%s: the file name gives no usable Kubernetes name: rename it with letters or digits", file)
	}
	return s, nil
}

// ScriptError is a script that does not compile; Text is its diagnostics.
type ScriptError struct {
	File string
	Text string
}

func (e *ScriptError) Error() string { return e.Text }

// object is what a name means inside a script.
type object struct {
	kind parser.ObjectKind
	// path for sources, streams and sinks.
	path string
	// refs are the relations a view's query names.
	refs []parser.ObjectName
}

// analysis follows a script's statements in order.
type analysis struct {
	objects map[string]object
	// written holds what earlier statements wrote: a later read of it
	// reads the script's own output, not an input.
	written       map[Resource]bool
	reads, writes map[Resource]bool
	sourcePaths   []string
	sinkPaths     []string
	errorPaths    []string
	glue          []GlueTable
	streaming     bool
}

// stmt records what one statement defines, reads and writes.
func (a *analysis) stmt(st parser.Stmt, src *parser.Source) parser.Diagnostics {
	switch s := st.(type) {
	case *parser.CreateSource:
		opts, diags := catalog.ValidateOptions(s.Kind, s.Name, s.Options, src)
		a.objects[key(s.Name)] = object{kind: s.Kind, path: opts["path"]}
		if p := opts["path"]; p != "" {
			a.sourcePaths = append(a.sourcePaths, p)
		}
		if p := opts["errors_path"]; p != "" {
			a.errorPaths = append(a.errorPaths, p)
		}
		return diags
	case *parser.CreateSink:
		opts, diags := catalog.ValidateOptions(parser.KindSink, s.Name, s.Options, src)
		a.objects[key(s.Name)] = object{kind: parser.KindSink, path: opts["path"]}
		if opts["catalog"] == "glue" {
			a.glue = append(a.glue, GlueTable{Database: opts["database"], Table: opts["table"], Location: opts["path"]})
		}
		return diags
	case *parser.CreateTable:
		a.objects[key(s.Name)] = object{kind: parser.KindTable}
		if s.As != nil {
			a.read(queryRefs(s.As.Node), 0)
			a.write(s.Name)
		}
	case *parser.CreateView:
		a.objects[key(s.Name)] = object{kind: parser.KindView, refs: queryRefs(s.Query.Node)}
	case *parser.CreatePipeline:
		a.streaming = true
		if s.Insert != nil {
			a.insert(s.Insert)
		}
	case *parser.PipelineCmd:
		if s.Action == parser.PipelineStart {
			a.streaming = true
		}
	case *parser.Insert:
		a.insert(s)
	case *parser.Merge:
		var refs []parser.ObjectName
		if s.Source.Name != nil {
			refs = append(refs, *s.Source.Name)
		}
		if s.Source.Query != nil {
			refs = append(refs, queryRefs(s.Source.Query.Node)...)
		}
		refs = append(refs, exprRefs(s.On)...)
		for _, c := range s.Clauses {
			if c.Cond != nil {
				refs = append(refs, exprRefs(*c.Cond)...)
			}
			for _, set := range c.Sets {
				refs = append(refs, exprRefs(set.Value)...)
			}
			for _, v := range c.Values {
				refs = append(refs, exprRefs(v)...)
			}
		}
		// MERGE reads its target before it changes it.
		refs = append(refs, s.Target)
		a.read(refs, 0)
		a.write(s.Target)
	case *parser.Validate:
		a.read(queryRefs(s.Query.Node), 0)
	case *parser.Assert:
		a.read(exprRefs(s.Cond), 0)
	case *parser.Select:
		a.read(queryRefs(s.Query.Node), 0)
	case *parser.Explain:
		// EXPLAIN plans without running; EXPLAIN ANALYZE runs.
		if s.Analyze {
			return a.stmt(s.Stmt, src)
		}
	}
	return nil
}

// insert records an INSERT: its query's reads, then the write of its target.
func (a *analysis) insert(s *parser.Insert) {
	if s.Query != nil {
		a.read(queryRefs(s.Query.Node), 0)
	}
	for _, row := range s.Values {
		for _, e := range row {
			a.read(exprRefs(e), 0)
		}
	}
	a.write(s.Target)
}

// resource returns what a name refers to when read or written, and false
// for names that are no data of their own (system tables).
func (a *analysis) resource(n parser.ObjectName) (Resource, bool) {
	switch n.Schema.Name {
	case "etl", "pg_catalog", "information_schema":
		return Resource{}, false
	}
	o, ok := a.objects[key(n)]
	if !ok {
		return Resource{Kind: ResourceTable, Name: key(n)}, true
	}
	switch o.kind {
	case parser.KindSource, parser.KindStream, parser.KindSink:
		if o.path == "" {
			return Resource{}, false
		}
		return Resource{Kind: ResourcePath, Name: pathPrefix(o.path, o.kind == parser.KindSink)}, true
	}
	return Resource{Kind: ResourceTable, Name: key(n)}, true
}

// read records the reads of the named relations: a view stands for what
// its query reads, <source>__errors for the source.
func (a *analysis) read(names []parser.ObjectName, depth int) {
	if depth > 64 {
		return
	}
	for _, n := range names {
		o, ok := a.objects[key(n)]
		if ok && o.kind == parser.KindView {
			a.read(o.refs, depth+1)
			continue
		}
		if base, found := strings.CutSuffix(n.Name.Name, "__errors"); !ok && found && n.Schema.Name == "" {
			if so, ok := a.objects[base]; ok && (so.kind == parser.KindSource || so.kind == parser.KindStream) {
				continue // the quarantine of a source this script reads
			}
		}
		r, ok := a.resource(n)
		if !ok || a.written[r] {
			continue
		}
		a.reads[r] = true
	}
}

// write records a write of a sink or table.
func (a *analysis) write(n parser.ObjectName) {
	r, ok := a.resource(n)
	if !ok {
		return
	}
	if o, ok := a.objects[key(n)]; ok && o.kind == parser.KindSink && o.path != "" {
		a.sinkPaths = append(a.sinkPaths, o.path)
	}
	a.written[r] = true
	a.writes[r] = true
}

// key is the name objects are looked up by.
func key(n parser.ObjectName) string {
	if n.Schema.Name != "" && n.Schema.Name != "public" {
		return n.Schema.Name + "." + n.Name.Name
	}
	return n.Name.Name
}

// pathPrefix cuts a path's glob part off, leaving the directory prefix the
// pattern lies in; s3a:// is s3://, local paths are cleaned. dir says the
// path is a directory (a sink's), which then ends in "/".
func pathPrefix(p string, dir bool) string {
	p = strings.TrimSpace(p)
	if rest, ok := strings.CutPrefix(p, "s3a://"); ok {
		p = "s3://" + rest
	}
	if i := strings.IndexAny(p, "*?[{"); i >= 0 {
		p = p[:strings.LastIndex(p[:i], "/")+1]
		dir = true
	}
	if !strings.HasPrefix(p, "s3://") && p != "" {
		trailing := strings.HasSuffix(p, "/")
		p = path.Clean(p)
		if trailing && p != "/" {
			p += "/"
		}
	}
	if dir && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// refCollector collects the table names a query or expression names,
// leaving out its own CTEs.
type refCollector struct {
	names []parser.ObjectName
	ctes  map[string]bool
}

func (c *refCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.WithClause:
		for _, cte := range x.CTEs {
			c.ctes[cte.Name.L] = true
		}
	case *ast.TableName:
		if x.Schema.L == "" && c.ctes[x.Name.L] {
			break
		}
		c.names = append(c.names, parser.ObjectName{
			Schema: parser.Ident{Name: x.Schema.L},
			Name:   parser.Ident{Name: x.Name.L},
		})
	}
	return n, false
}

func (c *refCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// queryRefs returns the relations a query names.
func queryRefs(n ast.Node) []parser.ObjectName {
	if n == nil {
		return nil
	}
	c := &refCollector{ctes: map[string]bool{}}
	n.Accept(c)
	return c.names
}

// exprRefs returns the relations an expression's subqueries name.
func exprRefs(e parser.Expr) []parser.ObjectName {
	if e.Node == nil {
		return nil
	}
	return queryRefs(e.Node)
}

// dnsLabel turns a file name into a DNS-1123 label: lower case, letters,
// digits and '-', at most 63 characters.
func dnsLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	for strings.Contains(out, "--") {
		out = strings.ReplaceAll(out, "--", "-")
	}
	out = strings.Trim(out, "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}

func sortedResources(m map[Resource]bool) []Resource {
	out := make([]Resource, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y Resource) int {
		if x.Kind != y.Kind {
			return int(x.Kind) - int(y.Kind)
		}
		return strings.Compare(x.Name, y.Name)
	})
	return out
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// errNoScripts is returned when a command gets no script.
var errNoScripts = errors.New("no script given")
