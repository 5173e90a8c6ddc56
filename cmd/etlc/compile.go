package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlc/etlc/parser"
)

// stdinName is the name diagnostics and plans use for a script read from
// standard input ("-").
const stdinName = "<stdin>"

// compileFlags are the flags of `etlc compile`.
type compileFlags struct {
	params []string
	format string
	output string
	color  string
	compat string
}

func newCompileCmd(sys *system) *cobra.Command {
	f := &compileFlags{}
	cmd := &cobra.Command{
		Use:   "compile FILE... | -",
		Short: "Check ETL scripts and optionally write their plans",
		Long: `compile parses, binds and plans every script given ("-" reads one from
standard input) without reading data, contacting a server or the network.
It reports every diagnostic of every script, sorted by file and position,
and exits 0 when no script has errors (warnings are allowed), 1 when some
script has errors, 2 on bad usage or an unreadable file.

Parameters (${name} in a script) take their value from --param name=value,
then from the environment variable ETL_PARAM_<NAME> (upper case), then from
the script's DECLARE name TYPE DEFAULT value.

With -o FILE, when no script has errors, compile writes one JSON document
{"plans": {"<file>": <plan>, ...}} with the plan of every script keyed by the
file name as given on the command line; "-o -" writes it to standard output.
Each statement that runs a query also has "physical": the optimized plan
that would run, each operator with the estimated rows and cost EXPLAIN
shows (estimated from the files' Parquet footers and sizes; no data is
read). The file is replaced atomically and left untouched when there are
errors.

Diagnostics go to standard error in text form; with --format json they go
to standard output as one JSON array.

With --check-compat OLD.json, compile also checks that every pipeline of
the scripts that is in OLD.json (a plans document an earlier compile -o
wrote) could resume from the old pipeline's checkpointed state: each
stateful operator (window and other stream aggregates, stream joins,
DISTINCT over a stream) must keep the same state layout (keys, aggregate
states, window kind and size). Each pipeline is reported on standard
error; compile exits 1 naming the operator and the change when one could
not resume.`,
		Example: `  etlc compile examples/scd2/scd2_job.sql
  etlc compile --param bucket=my-bucket --format json jobs/*.sql
  etlc compile -o plans.json jobs/*.sql
  etlc compile --check-compat deployed-plan.json job.sql
  cat job.sql | etlc compile -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("compile needs at least one script: a file, or - for standard input")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompile(cmd.Context(), sys, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.params, "param", "p", nil, "set parameter `name=value` (repeatable; overrides ETL_PARAM_<NAME> and DECLARE defaults)")
	fl.StringVar(&f.format, "format", "text", "diagnostics format: text or json")
	fl.StringVarP(&f.output, "output", "o", "", "write the plans as one JSON `file` (\"-\" for standard output)")
	fl.StringVar(&f.color, "color", "auto", "color text diagnostics: auto, always or never")
	fl.StringVar(&f.compat, "check-compat", "", "check that the scripts' pipelines can resume from the state of those in the plan `file` (written by compile -o)")
	return cmd
}

// input is one script to compile.
type input struct {
	name string
	text string
}

// runCompile is `etlc compile`: it returns nil when every script compiled
// without errors, an *exitError after reporting diagnostics, or an error
// describing a usage problem (exit code 2).
func runCompile(ctx context.Context, sys *system, f *compileFlags, args []string) error {
	params, err := parseParams(f.params)
	if err != nil {
		return err
	}
	opts := parser.RenderOptions{}
	switch f.format {
	case "text":
	case "json":
		opts.Format = parser.RenderJSON
	default:
		return fmt.Errorf("invalid --format %q: want text or json", f.format)
	}
	switch f.color {
	case "auto":
		opts.Color = sys.isTerminal != nil && sys.isTerminal(sys.stderr) &&
			sys.getenv("NO_COLOR") == "" && sys.getenv("TERM") != "dumb"
	case "always":
		opts.Color = true
	case "never":
	default:
		return fmt.Errorf("invalid --color %q: want auto, always or never", f.color)
	}
	if f.output == "-" && opts.Format == parser.RenderJSON {
		return errors.New("-o - and --format json both write to standard output: write the plans to a file")
	}

	inputs, err := readInputs(ctx, sys.stdin, args)
	if err != nil {
		return &ioError{err}
	}

	var all parser.Diagnostics
	plans := make(map[string]json.RawMessage, len(inputs))
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("compile interrupted: %w", err)
		}
		src := parser.NewSource(in.name, in.text)
		plan, ds := compileScript(ctx, src, params, sys.lookupEnv, f.output != "" || f.compat != "")
		all = append(all, ds...)
		plans[in.name] = plan
	}
	all.Sort()

	diagOut := sys.stderr
	if opts.Format == parser.RenderJSON {
		diagOut = sys.stdout
	}
	if err := parser.Render(diagOut, all, opts); err != nil {
		return &ioError{fmt.Errorf("writing diagnostics: %w", err)}
	}
	if all.HasErrors() {
		return &exitError{code: exitErrors}
	}
	if f.compat != "" {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.name
		}
		ok, err := checkCompat(sys.stderr, f.compat, names, plans)
		if err != nil {
			return &ioError{err}
		}
		if !ok {
			return &exitError{code: exitErrors}
		}
	}
	if f.output != "" {
		if err := writePlans(sys.stdout, f.output, plans); err != nil {
			return &ioError{err}
		}
	}
	return nil
}

// parseParams turns --param name=value flags into a map keyed by the lower
// case name (parameter names are case-insensitive); a later flag for the
// same name wins.
func parseParams(flags []string) (map[string]string, error) {
	params := make(map[string]string, len(flags))
	for _, p := range flags {
		name, value, ok := strings.Cut(p, "=")
		if !ok || !validParamName(name) {
			return nil, fmt.Errorf("invalid --param %q: want name=value, where name is a letter or '_' followed by letters, digits or '_'", p)
		}
		params[strings.ToLower(name)] = value
	}
	return params, nil
}

// validParamName reports whether s is an identifier [A-Za-z_][A-Za-z0-9_]*.
func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// readInputs reads every script named in args, "-" meaning stdin (at most
// once), s3://bucket/key an object on S3 (how a pod deployed with
// `etlc deploy --script-uri` finds its script). A file named twice is compiled once. Any unreadable file is a usage
// error naming every file that could not be read.
func readInputs(ctx context.Context, stdin io.Reader, args []string) ([]input, error) {
	var (
		inputs   []input
		problems []string
		seen     = map[string]bool{}
	)
	for _, a := range args {
		name := a
		if a == "-" {
			name = stdinName
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		var (
			data []byte
			err  error
		)
		if a == "-" {
			if stdin == nil {
				err = errors.New("no standard input")
			} else {
				data, err = io.ReadAll(stdin)
			}
		} else if strings.HasPrefix(a, "s3://") || strings.HasPrefix(a, "s3a://") {
			data, err = readS3Script(ctx, a)
		} else {
			data, err = os.ReadFile(a)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("cannot read %s: %v", name, unwrapPathError(err)))
			continue
		}
		inputs = append(inputs, input{name: name, text: string(data)})
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\netlc: "))
	}
	return inputs, nil
}

// unwrapPathError drops the operation and path that *os.PathError repeats,
// since the message already names the file.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writePlans writes the plans document to path ("-": stdout). A file is
// written to a temporary name in the same directory and renamed into place,
// so readers never see a half-written plan.
func writePlans(stdout io.Writer, path string, plans map[string]json.RawMessage) error {
	data, err := encodePlans(plans)
	if err != nil {
		return err
	}
	if path == "-" {
		if _, err := stdout.Write(data); err != nil {
			return fmt.Errorf("writing plans: %w", err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	return nil
}

// encodePlans returns the plans document {"plans": {name: plan, ...}} with
// names in sorted order, indented by two spaces. It indents each plan in
// place rather than encoding the document as a whole, which would first
// re-validate and compact every (large) plan.
func encodePlans(plans map[string]json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n  \"plans\": {")
	for i, name := range slices.Sorted(maps.Keys(plans)) {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(name)
		if err != nil {
			return nil, fmt.Errorf("encoding plans: %w", err)
		}
		b.WriteString("\n    ")
		b.Write(key)
		b.WriteString(": ")
		if err := json.Indent(&b, plans[name], "    ", "  "); err != nil {
			return nil, fmt.Errorf("encoding the plan of %s: %w", name, err)
		}
	}
	if len(plans) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("}\n}\n")
	return b.Bytes(), nil
}
