// Package planner binds parsed etlc statements to typed logical plans: it
// resolves names against the catalog, types every expression through the
// function registry (overloads, implicit casts, decimal result types),
// builds the logical operator tree the optimizer rewrites, and reports every
// problem as a positioned diagnostic with a hint.
//
// The contract the optimizer and exec build on is in four files: expr.go
// (bound expressions and the canonical Go value of every constant), plan.go
// (logical operators and their output schemas), registry.go and
// functions.go (the function registry, a data table exec asserts it
// implements), and stmt.go (bound statements). CompileScript (compile.go)
// parses and binds a script; BindScript binds an already parsed one.
//
// Choices worth knowing:
//
//   - Types follow the catalog's rules (catalog/typerules.go), with one
//     difference: two exact numbers of which one is a DECIMAL meet at the
//     larger scale (integer digits give way past 38), so a comparison never
//     rounds a side.
//   - Literals take the type their context asks for, at compile time: '2000-01-01'
//     next to a TIMESTAMP is a TIMESTAMP constant (a bad one is an error at
//     the literal), an integer literal next to a DECIMAL(15,2) is that
//     DECIMAL, 0.06 is DECIMAL(2,2). A text column is never silently read as
//     a date: that needs a CAST.
//   - DATE ± INTERVAL is a TIMESTAMP, except that a constant interval of whole
//     days and months keeps a DATE (Call.T says which).
//   - Derived tables are inlined; CTEs and views are CTERef nodes whose Plan
//     is shared by every reference.
//   - Subqueries stay Subquery expressions. OuterRef.Depth counts query
//     levels outwards from the query that contains the Subquery expression;
//     Index is a column of that query's input row where the subquery is
//     evaluated (its group keys when it sits above an aggregate).
//   - Pipeline expectations are bound over the INSERT query's FROM rows, or,
//     when they do not bind there, over its output rows (Expectation).
//   - Parameters ($n or ?) are typed by their context; Program.ParamTypes has
//     one type per parameter number, TEXT when nothing typed it.
//   - Compilation never changes the catalog unless CompileOptions.Apply is
//     set: statements see the objects earlier statements created through a
//     scratch layer over it.
package planner
