// Command etlc compiles and runs ETL jobs written in etlc SQL: `etlc
// compile` checks scripts (names, types, parameters, streaming rules)
// without data, network or server, and can write their plans as JSON for
// CI; `etlc run` runs them against a data directory with the engine of
// package exec/session.
//
// Exit codes of compile: 0 when every script compiled without errors
// (warnings allowed), 1 when a script has errors or etlc met an internal
// error, 2 when etlc was invoked wrongly or could not read its input or
// write its output. Of run: 0 when every statement ran, 1 when one failed,
// 2 for bad usage, unreadable input or compile errors.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version and revision are set at link time with
// -ldflags "-X main.version=... -X main.revision=..."; they are never
// written at run time.
var (
	version  = "dev"
	revision = "dev"
)

func main() {
	os.Exit(mainExit())
}

// mainExit runs etlc with the process's arguments, standard streams and
// environment, and turns a panic into an "internal error" message and exit
// code 1, so that no panic reaches the user as a Go stack dump.
func mainExit() (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			code = reportPanic(os.Stderr, r, os.Getenv("ETLC_TRACEBACK") != "", debug.Stack())
		}
	}()
	return run(ctx, os.Args[1:], &system{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		lookupEnv:  os.LookupEnv,
		isTerminal: isTerminal,
	})
}

// reportPanic writes the message for a recovered panic r and returns the exit
// code for it. The stack is shown only when asked for (ETLC_TRACEBACK set).
func reportPanic(w io.Writer, r any, traceback bool, stack []byte) int {
	fmt.Fprintf(w, "etlc: internal error: %v\n", r)
	fmt.Fprintln(w, "etlc: this is a bug in etlc; please report it with the script that triggered it (set ETLC_TRACEBACK=1 for a stack trace)")
	if traceback {
		w.Write(stack)
	}
	return exitErrors
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
