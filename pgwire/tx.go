package pgwire

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/parser"
)

// errInFailedBlock is PostgreSQL's answer to a statement in a failed
// transaction block.
var errInFailedBlock = &codedError{code: "25P02",
	msg: "current transaction is aborted, commands ignored until end of transaction block"}

// txVerb returns the transaction verb a statement starts with: BEGIN,
// COMMIT, ROLLBACK (with their synonyms folded) or ROLLBACK TO (to a
// savepoint), or "".
func txVerb(stmt string) string {
	f := strings.Fields(strings.ToUpper(strings.TrimLeft(stmt, " \t\r\n;(")))
	if len(f) == 0 {
		return ""
	}
	w := strings.TrimRight(f[0], ";")
	switch w {
	case "BEGIN":
		return "BEGIN"
	case "START":
		if len(f) > 1 && strings.HasPrefix(f[1], "TRANSACTION") {
			return "BEGIN"
		}
	case "COMMIT", "END":
		return "COMMIT"
	case "ROLLBACK", "ABORT":
		i := 1
		if len(f) > i && (f[i] == "WORK" || f[i] == "TRANSACTION") {
			i++
		}
		if len(f) > i && f[i] == "TO" {
			return "ROLLBACK TO"
		}
		return "ROLLBACK"
	}
	return ""
}

// failedBlock answers a query in a failed transaction block: COMMIT and
// ROLLBACK end the block (COMMIT reports ROLLBACK, as PostgreSQL does),
// ROLLBACK TO SAVEPOINT runs (the session makes the block usable again),
// anything else is refused with 25P02. It returns the text still to run
// (statements after the one that ended the block, or the whole query
// for ROLLBACK TO) and whether to run it.
func (c *conn) failedBlock(ctx context.Context, q string) (rest string, run bool) {
	spans := parser.Split(q)
	if len(spans) == 0 {
		return "", false
	}
	first := q[spans[0].Start:spans[0].End]
	switch txVerb(first) {
	case "ROLLBACK TO":
		return q, true
	case "COMMIT", "ROLLBACK":
		c.sess.Rollback(ctx)
		c.endBlock()
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")})
	default:
		c.sendError(c.errorResponse(errInFailedBlock, q))
		return "", false
	}
	if len(spans) == 1 {
		return "", false
	}
	// Blank what ran, keeping line breaks, so positions stay right.
	b := []byte(q)
	for i := 0; i < spans[1].Start; i++ {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
	return string(b), true
}

// endBlock ends a transaction block (the session has ended its own).
func (c *conn) endBlock() {
	c.txStatus = 'I'
	c.txDDL = 0
	c.closeBlockCursors()
}

// noteTxStatement follows the statements run: BEGIN opens a block,
// COMMIT and ROLLBACK close it. The session stages the block's writes
// until COMMIT; a statement that changed the catalog (CREATE, DROP) took
// effect at once and is counted, for the warning ROLLBACK gives.
func (c *conn) noteTxStatement(kind string) {
	switch v := txVerb(kind); v {
	case "BEGIN":
		if c.txStatus == 'I' {
			c.txStatus = 'T'
			c.txDDL = 0
		} else {
			c.warn("25001", "there is already a transaction in progress")
		}
		return
	case "COMMIT", "ROLLBACK":
		if c.txStatus == 'I' {
			c.warn("25P01", "there is no transaction in progress")
		}
	case "ROLLBACK TO":
		// The block is usable again.
		if c.txStatus == 'E' {
			c.txStatus = 'T'
		}
		return
	}
	switch txVerb(kind) {
	case "COMMIT":
		c.endBlock()
		return
	case "ROLLBACK":
		if c.txStatus == 'T' && c.txDDL > 0 {
			c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "25000",
				Message: fmt.Sprintf("ROLLBACK does not undo the %d CREATE or DROP statement(s) of this block", c.txDDL),
				Detail:  "etlc changes its catalog when a CREATE or DROP runs, also inside a transaction block; the block's data writes are rolled back"})
		}
		c.endBlock()
		return
	}
	if c.txStatus != 'T' {
		return
	}
	if w, _, _ := strings.Cut(strings.ToUpper(kind), " "); w == "CREATE" || w == "DROP" {
		c.txDDL++
	}
}

// warn sends a WARNING notice.
func (c *conn) warn(code, msg string) {
	c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: code, Message: msg})
}
