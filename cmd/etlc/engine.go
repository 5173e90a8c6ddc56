package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/etlc/etlc/exec/connector"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/optimizer"
	"github.com/etlc/etlc/parser"
)

// codeInternal is the SQLSTATE of an internal error.
const codeInternal = "XX000"

// compileScript compiles one script against a fresh in-memory catalog, with
// the given --param values and environment lookup (for ETL_PARAM_<NAME>).
// It returns the script's diagnostics, sorted by position, and, when
// wantPlan is set and the script has no errors, its plan as JSON (encoding
// the plan costs about as much as compiling, so it is done only for -o). A panic inside the compiler becomes
// an internal-error diagnostic at the top of the script, so the other
// scripts are still compiled and no stack dump reaches the user.
//
// It is session.CompileScript, as `etlc run` compiles, with the environment
// added: the parser reads ETL_PARAM_<NAME> through lookupEnv, then the
// planner binds the script (the <source>__errors relations of quarantining
// sources included).
func compileScript(ctx context.Context, src *parser.Source, params map[string]string, lookupEnv func(string) (string, bool), wantPlan bool) (json.RawMessage, parser.Diagnostics) {
	return guard(src, func() (json.RawMessage, parser.Diagnostics) {
		files := connector.NewFileConnector(connector.Config{})
		prog, ds := session.CompileScript(ctx, src, nil, session.CompileOptions{
			Params: params, LookupEnv: lookupEnv, Infer: files.InferCatalogSchema,
		})
		if !wantPlan || ds.HasErrors() {
			return nil, ds
		}
		plan, err := json.Marshal(prog)
		if err != nil {
			panic(fmt.Sprintf("encoding the plan: %v", err))
		}
		phys, err := session.PhysicalPlans(ctx, prog, files, nil)
		if err != nil {
			panic(fmt.Sprintf("optimizing the plan: %v", err))
		}
		if plan, err = addPhysical(plan, phys); err != nil {
			panic(fmt.Sprintf("encoding the plan: %v", err))
		}
		return plan, ds
	})
}

// addPhysical adds to each statement of a program's plan JSON that runs a
// query its optimized plan, as "physical": the operators with their
// estimated rows and cost (optimizer.PhysicalOp). The rest of the
// document, the "state" layouts of pipelines that --check-compat reads
// included, stays as it was.
func addPhysical(plan json.RawMessage, phys []*optimizer.PhysicalOp) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(plan, &doc); err != nil {
		return nil, err
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(doc["statements"], &stmts); err != nil {
		return nil, err
	}
	for i, p := range phys {
		if p == nil || i >= len(stmts) {
			continue
		}
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		stmts[i]["physical"] = raw
	}
	raw, err := json.Marshal(stmts)
	if err != nil {
		return nil, err
	}
	doc["statements"] = raw
	return json.Marshal(doc)
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
