package pgwire

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// newSource names a query text received over the wire.
func newSource(text string) *parser.Source { return parser.NewSource("query", text) }

// errorResponse turns an error into an ErrorResponse with its SQLSTATE.
// Compile errors carry the position of the offending text in query (the
// 1-based character position clients such as psql draw their caret at);
// further errors of the same script go into the detail.
func (c *conn) errorResponse(err error, query string) *pgproto3.ErrorResponse {
	e := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "XX000", Message: err.Error()}
	var (
		ds parser.Diagnostics
		se *session.StmtError
		ce *codedError
		cp *copyErr
	)
	switch {
	case errors.As(err, &ds):
		var rest []string
		first := true
		for _, d := range ds {
			if d.Severity != parser.SevError {
				continue
			}
			if !first {
				rest = append(rest, d.Error())
				continue
			}
			first = false
			e.Code, e.Message, e.Hint = d.Code, d.Message, d.Hint
			if e.Code == "" {
				e.Code = parser.CodeSyntax
			}
			if d.Source != nil {
				query = d.Source.Text
			}
			if off := d.Span.Start; off >= 0 && off <= len(query) {
				e.Position = int32(utf8.RuneCountInString(query[:off]) + 1)
			}
		}
		if len(rest) > 0 {
			e.Detail = "further errors:\n" + strings.Join(rest, "\n")
		}
	case errors.As(err, &cp):
		e.Code, e.Message, e.Where = cp.code, cp.msg, cp.where
	case errors.As(err, &ce):
		// The gateway's own errors, also when a statement failed because
		// of one (its *session.StmtError wraps it).
		e.Code, e.Message = ce.code, ce.msg
	case errors.As(err, &se):
		e.Code, e.Message, e.Detail, e.Hint = se.Code, se.Message, se.Detail, se.Hint
		switch {
		case se.Code == "57014" && c.wasCanceled():
			e.Message = "canceling statement due to user request"
		case se.Code == "57014" && errors.Is(err, context.DeadlineExceeded):
			e.Message = errStatementTimeout.Error()
		}
		if e.Code == "" {
			e.Code = "XX000"
		}
	}
	return e
}
