package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"
)

// Exit codes of etlc.
const (
	// exitOK: every script compiled without errors.
	exitOK = 0
	// exitErrors: a script has errors (they were reported), or an internal error.
	exitErrors = 1
	// exitUsage: bad command line, unreadable input or unwritable output.
	exitUsage = 2
)

// system is what a command may touch of the process: standard streams and
// the environment. main passes the real ones; tests pass buffers and maps.
type system struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// lookupEnv reads an environment variable (ETL_PARAM_<NAME>, NO_COLOR, TERM).
	lookupEnv func(string) (string, bool)
	// isTerminal reports whether a writer is a terminal, for --color=auto.
	isTerminal func(io.Writer) bool
}

// getenv returns the variable's value or "".
func (s *system) getenv(name string) string {
	if s.lookupEnv == nil {
		return ""
	}
	v, _ := s.lookupEnv(name)
	return v
}

// ioError is an input or output problem (an unreadable script, an
// unwritable -o file): exit code 2 like a usage error, but the message is
// not followed by a pointer to --help.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// exitError ends a command with a code after it has reported why.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run executes the etlc command line args (without the program name) and
// returns the process exit code. Every command's logic runs in-process, so
// tests call run directly.
func run(ctx context.Context, args []string, sys *system) int {
	root := newRootCmd(sys)
	root.SetArgs(args)
	root.SetIn(sys.stdin)
	root.SetOut(sys.stdout)
	root.SetErr(sys.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(sys.stderr, "etlc: %v\n", err)
	var ie *ioError
	if errors.As(err, &ie) {
		return exitUsage
	}
	// Everything else is about how etlc was invoked: an unknown command or
	// flag, a bad flag value, a missing argument.
	if cmd, _, ferr := root.Find(args); ferr == nil {
		fmt.Fprintf(sys.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	} else {
		fmt.Fprintln(sys.stderr, "Run 'etlc --help' for usage.")
	}
	return exitUsage
}

// newRootCmd builds the etlc command tree.
func newRootCmd(sys *system) *cobra.Command {
	root := &cobra.Command{
		Use:   "etlc",
		Short: "etlc is a SQL-first ETL engine",
		Long: `etlc is a SQL-first ETL engine: a job is one script of sources, sinks,
managed tables, transforms, MERGE, VALIDATE and streaming pipelines.
etlc compile checks such scripts without data, server or network; etlc run
runs them against a data directory (batch statements; streaming pipelines
are not run yet).

Exit codes: see each command's help and docs/cli.md.`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a subcommand, etlc prints its help.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newVersionCmd(), newCompileCmd(sys), newRunCmd(sys), newServeCmd(sys), newDeployCmd(sys))
	return root
}

// versionString is the text `etlc version` prints.
func versionString() string {
	return fmt.Sprintf("etlc %s (revision %s, %s %s/%s)", version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print etlc's version and revision",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionString())
			return err
		},
	}
}
