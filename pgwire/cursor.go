package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/exec/session"
)

// SQL-level cursors, as psycopg2's named (server-side) cursors use them:
//
//	DECLARE name [BINARY] [[NO] SCROLL] CURSOR [WITH[OUT] HOLD] FOR query
//	FETCH [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name
//	CLOSE name | ALL
//
// DECLARE runs the query and keeps its batches; FETCH sends the next rows
// of them. (etlc's own DECLARE, of a script parameter, has no CURSOR.)
var (
	declareRE = regexp.MustCompile(`(?is)^\s*DECLARE\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s+((?:BINARY|INSENSITIVE|ASENSITIVE|SCROLL|NO\s+SCROLL)\s+)*CURSOR\s+(?:(?:WITH|WITHOUT)\s+HOLD\s+)?FOR\s+`)
	fetchRE   = regexp.MustCompile(`(?is)^\s*(FETCH|MOVE)\s+(?:(NEXT|FORWARD\s+ALL|FORWARD\s+\d+|FORWARD|ALL|\d+)\s+)?(?:(?:FROM|IN)\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$`)
	closeRE   = regexp.MustCompile(`(?is)^\s*CLOSE\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$`)
)

// cursor is a declared cursor's result.
type cursor struct {
	fields []pgproto3.FieldDescription
	recs   []arrow.Record
	binary bool
	// hold keeps the cursor past the end of its transaction block.
	hold bool
	rec  int
	row  int
}

func (cu *cursor) release() {
	for _, r := range cu.recs[cu.rec:] {
		if r != nil {
			r.Release()
		}
	}
	cu.recs = nil
}

// cursorName reads a cursor name as written: folded unless quoted.
func cursorName(s string) string {
	if strings.HasPrefix(s, `"`) {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// cursorStmt runs q when it is a cursor statement; handled is false
// otherwise.
func (c *conn) cursorStmt(ctx context.Context, q string) (handled bool, err error) {
	if m := declareRE.FindStringSubmatchIndex(q); m != nil {
		name := cursorName(q[m[2]:m[3]])
		binary := m[4] >= 0 && strings.Contains(strings.ToUpper(q[m[4]:m[5]]), "BINARY")
		hold := regexp.MustCompile(`(?i)\bWITH\s+HOLD\b`).MatchString(q[:m[1]])
		return true, c.declareCursor(ctx, name, binary, hold, q, m[1])
	}
	if m := fetchRE.FindStringSubmatch(q); m != nil {
		return true, c.fetchCursor(strings.ToUpper(m[1]), strings.ToUpper(strings.Join(strings.Fields(m[2]), " ")), cursorName(m[3]))
	}
	if m := closeRE.FindStringSubmatch(q); m != nil {
		if strings.EqualFold(m[1], "ALL") {
			for _, cu := range c.cursors {
				cu.release()
			}
			c.cursors = map[string]*cursor{}
		} else {
			name := cursorName(m[1])
			cu, ok := c.cursors[name]
			if !ok {
				return true, &codedError{code: "34000", msg: fmt.Sprintf("cursor %q does not exist", name)}
			}
			cu.release()
			delete(c.cursors, name)
		}
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("CLOSE CURSOR")})
		return true, nil
	}
	return false, nil
}

// declareCursor runs the query of DECLARE (which starts at offset at of
// q, positions of errors kept) and keeps its rows.
func (c *conn) declareCursor(ctx context.Context, name string, binary, hold bool, q string, at int) error {
	if _, ok := c.cursors[name]; ok {
		return &codedError{code: "42P03", msg: fmt.Sprintf("cursor %q already exists", name)}
	}
	b := []byte(q)
	for i := 0; i < at; i++ {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
	cu := &cursor{binary: binary, hold: hold}
	format := []int16{formatText}
	if binary {
		format = []int16{formatBinary}
	}
	got := false
	_, err := c.exec(ctx, string(b), session.ExecOptions{
		Results: func(ctx context.Context, _ *session.StmtInfo, rows array.RecordReader) error {
			got = true
			cu.fields = fieldsFromArrow(rows.Schema(), format)
			for rows.Next() {
				rec := rows.Record()
				rec.Retain()
				cu.recs = append(cu.recs, rec)
			}
			return rows.Err()
		},
	})
	if err != nil {
		cu.release()
		return err
	}
	if !got {
		return &codedError{code: "42P11", msg: "DECLARE CURSOR needs a query that returns rows"}
	}
	c.cursors[name] = cu
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("DECLARE CURSOR")})
	return nil
}

// fetchCursor sends (FETCH) or skips (MOVE) the next rows of a cursor.
func (c *conn) fetchCursor(verb, count, name string) error {
	cu, ok := c.cursors[name]
	if !ok {
		return &codedError{code: "34000", msg: fmt.Sprintf("cursor %q does not exist", name)}
	}
	limit := int64(1)
	switch {
	case count == "ALL" || count == "FORWARD ALL":
		limit = -1
	case strings.HasPrefix(count, "FORWARD "):
		limit, _ = strconv.ParseInt(strings.TrimPrefix(count, "FORWARD "), 10, 64)
	case count != "" && count != "NEXT" && count != "FORWARD":
		limit, _ = strconv.ParseInt(count, 10, 64)
	}
	format := []int16{formatText}
	if cu.binary {
		format = []int16{formatBinary}
	}
	if verb == "FETCH" {
		c.be.Send(&pgproto3.RowDescription{Fields: cu.fields})
	}
	var n int64
	for cu.rec < len(cu.recs) && (limit < 0 || n < limit) {
		rec := cu.recs[cu.rec]
		take := int64(rec.NumRows()) - int64(cu.row)
		if limit >= 0 && take > limit-n {
			take = limit - n
		}
		if verb == "FETCH" {
			if err := c.sendRecord(rec, format, cu.row, cu.row+int(take)); err != nil {
				return err
			}
		}
		n += take
		cu.row += int(take)
		if cu.row >= int(rec.NumRows()) {
			rec.Release()
			cu.recs[cu.rec] = nil
			cu.rec++
			cu.row = 0
		}
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(fmt.Sprintf("%s %d", verb, n))})
	return nil
}

// closeBlockCursors closes the cursors declared WITHOUT HOLD, at the end
// of a transaction block.
func (c *conn) closeBlockCursors() {
	for name, cu := range c.cursors {
		if !cu.hold {
			cu.release()
			delete(c.cursors, name)
		}
	}
}
