package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/etlc/etlc/parser"
)

// codeInternal is the SQLSTATE of an internal error.
const codeInternal = "XX000"

// compileScript compiles one script with the given --param values and
// environment lookup. It returns the script's plan as JSON (nil when the
// script has errors) and its diagnostics. A panic inside the compiler
// becomes an internal-error diagnostic at the top of the script, so the
// other scripts are still compiled and no stack dump reaches the user.
func compileScript(ctx context.Context, src *parser.Source, params map[string]string, lookupEnv func(string) (string, bool)) (json.RawMessage, parser.Diagnostics) {
	return guard(src, func() (json.RawMessage, parser.Diagnostics) {
		_, ds := parser.Parse(src, parser.Options{Params: params, LookupEnv: lookupEnv})
		return nil, ds
	})
}

// guard runs compile and turns a panic in it into a single internal-error
// diagnostic at the top of src, with no plan.
func guard(src *parser.Source, compile func() (json.RawMessage, parser.Diagnostics)) (plan json.RawMessage, ds parser.Diagnostics) {
	defer func() {
		if r := recover(); r != nil {
			plan = nil
			ds = parser.Diagnostics{{
				Source:   src,
				Severity: parser.SevError,
				Code:     codeInternal,
				Message:  fmt.Sprintf("internal error while compiling this script: %v", r),
				Hint:     "this is a bug in etlc; please report it with this script",
			}}
		}
	}()
	return compile()
}
