package expr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes of the errors expressions raise.
const (
	CodeNumericOutOfRange        = "22003" // integer out of range, numeric field overflow
	CodeDivisionByZero           = "22012"
	CodeInvalidText              = "22P02" // invalid input syntax for type ...
	CodeInvalidDatetime          = "22007" // invalid input syntax for a date/time type
	CodeDatetimeOverflow         = "22008" // date/time field value out of range
	CodeStringTooLong            = "22001" // value too long for type character varying(n)
	CodeSubstringError           = "22011" // negative substring length
	CodeInvalidParameter         = "22023" // bad function argument (unit, bit length, ...)
	CodeInvalidEscape            = "22025" // LIKE pattern ends with the escape character
	CodeInvalidRegexp            = "2201B"
	CodeInvalidLogArg            = "2201E" // logarithm of zero or a negative number
	CodeInvalidPowerArg          = "2201F" // square root of a negative number, bad power
	CodeCardinality              = "21000" // more than one row returned by a subquery
	CodeNullNotAllowed           = "22004"
	CodeCharacterNotInRepertoire = "22021"
	CodeInternal                 = "XX000"
)

// Error is a run-time expression error: a PostgreSQL-style message and
// SQLSTATE, where it happened (the operator or function with the offending
// values as SQL text) and the row of the batch passed to Eval.
type Error struct {
	// Code is the SQLSTATE.
	Code string
	// Msg is the message as PostgreSQL words it, e.g. "integer out of range".
	Msg string
	// Where is the failing operation with its values, e.g. "2147483647 + 1"
	// or "substring('abc', 1, -1)"; empty when Msg names the value already.
	Where string
	// Row is the index of the failing row in the record given to Eval, -1
	// when the error is not about one row.
	Row int
	// Err is the underlying error, if any (a regexp syntax error, ...).
	Err error
}

// Error returns the message followed by where it happened.
func (e *Error) Error() string {
	if e.Where == "" {
		return e.Msg
	}
	return e.Msg + " in " + e.Where
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// errorf makes a row-less error.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Row: -1}
}

// rowError attaches a row index to err when it is an *Error without one.
func rowError(err error, row int) error {
	var e *Error
	if errors.As(err, &e) && e.Row < 0 {
		c := *e
		c.Row = row
		return &c
	}
	return err
}

// mapRow translates the row index of an error raised over a sub-batch to
// the row of the parent batch.
func mapRow(err error, sel []int32) error {
	var e *Error
	if sel != nil && errors.As(err, &e) && e.Row >= 0 && e.Row < len(sel) {
		c := *e
		c.Row = int(sel[e.Row])
		return &c
	}
	return err
}
