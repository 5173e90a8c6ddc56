package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/catalog"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
	"github.com/etlc/etlc/planner"
)

// prepared is a statement of the extended protocol (Parse).
type prepared struct {
	query string
	// empty marks a query with no statement: Execute answers
	// EmptyQueryResponse.
	empty bool
	// copy marks a COPY statement: Execute runs the COPY sub-protocol.
	copy bool
	desc session.StmtDescription
	// paramOIDs are the parameter types: the client's where it gave one,
	// the planner's inference elsewhere.
	paramOIDs []uint32
	// declared are the types the client gave in Parse (0: none): with
	// the text, they key the session's plan cache.
	declared []uint32
}

// portal is a bound statement (Bind) ready to Execute.
type portal struct {
	stmt    *prepared
	params  []any
	formats []int16

	// A portal run with a row limit keeps its rows for the next Execute.
	ran  bool
	recs []arrow.Record
	rec  int // current record
	row  int // next row of recs[rec]
	sent int64
	tag  string
}

func (p *portal) release() {
	for _, r := range p.recs {
		if r != nil {
			r.Release()
		}
	}
	p.recs = nil
}

// fieldsFromArrow describes result columns from their Arrow schema.
func fieldsFromArrow(schema *arrow.Schema, formats []int16) []pgproto3.FieldDescription {
	out := make([]pgproto3.FieldDescription, schema.NumFields())
	for i, f := range schema.Fields() {
		t, err := catalog.FromArrow(f.Type)
		if err != nil {
			t = catalog.Null
		}
		out[i] = fieldDesc(f.Name, t, formatFor(formats, i))
	}
	return out
}

// fieldsFromPlan describes result columns from the planner's columns.
func fieldsFromPlan(cols []planner.Column, formats []int16) []pgproto3.FieldDescription {
	out := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		out[i] = fieldDesc(c.Name, c.Type, formatFor(formats, i))
	}
	return out
}

func fieldDesc(name string, t catalog.Type, format int16) pgproto3.FieldDescription {
	return pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: t.PGOID(), DataTypeSize: t.PGSize(),
		TypeModifier: t.PGTypeMod(), Format: format}
}

// parse handles Parse: the statement is compiled (not run) to check it and
// to infer its parameter and result types.
func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) error {
	if _, ok := c.stmts[m.Name]; ok && m.Name != "" {
		return &codedError{code: "42P05", msg: fmt.Sprintf("prepared statement %q already exists", m.Name)}
	}
	if c.txStatus == 'E' {
		if v := txVerb(m.Query); v != "COMMIT" && v != "ROLLBACK" && v != "ROLLBACK TO" {
			return errInFailedBlock
		}
	}
	ps := &prepared{query: m.Query, declared: append([]uint32(nil), m.ParameterOIDs...)}
	if parser.IsCopy(m.Query) {
		if _, diags := parser.ParseCopy(newSource(m.Query)); diags.HasErrors() {
			return diags
		}
		ps.copy = true
		ps.paramOIDs = []uint32{}
		c.stmts[m.Name] = ps
		c.be.Send(&pgproto3.ParseComplete{})
		return nil
	}
	descs, diags := c.sess.DescribeTyped(ctx, newSource(m.Query), ps.declared)
	if diags.HasErrors() {
		return diags
	}
	switch len(descs) {
	case 0:
		ps.empty = true
	case 1:
		ps.desc = descs[0]
	default:
		return &codedError{code: "42601", msg: "cannot insert multiple commands into a prepared statement"}
	}
	n := max(len(m.ParameterOIDs), len(ps.desc.ParamTypes))
	ps.paramOIDs = make([]uint32, n)
	for i := range n {
		if i < len(m.ParameterOIDs) && m.ParameterOIDs[i] != 0 {
			ps.paramOIDs[i] = m.ParameterOIDs[i]
			continue
		}
		oid := catalog.PGOIDText
		if i < len(ps.desc.ParamTypes) && ps.desc.ParamTypes[i].Kind != catalog.KindNull {
			oid = ps.desc.ParamTypes[i].PGOID()
		}
		ps.paramOIDs[i] = oid
	}
	c.stmts[m.Name] = ps
	c.be.Send(&pgproto3.ParseComplete{})
	return nil
}

// bind handles Bind: the parameters are decoded and a portal made.
func (c *conn) bind(m *pgproto3.Bind) error {
	ps, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return &codedError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
	}
	if _, ok := c.portals[m.DestinationPortal]; ok && m.DestinationPortal != "" {
		return &codedError{code: "42P03", msg: fmt.Sprintf("portal %q already exists", m.DestinationPortal)}
	}
	if len(m.Parameters) != len(ps.paramOIDs) {
		return &codedError{code: "08P01", msg: fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(ps.paramOIDs))}
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return &codedError{code: "08P01", msg: fmt.Sprintf("bind message has %d parameter formats but %d parameters", n, len(m.Parameters))}
	}
	params := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		if raw == nil {
			continue
		}
		if formatFor(m.ParameterFormatCodes, i) == formatBinary {
			v, err := decodeBinaryParam(ps.paramOIDs[i], raw)
			if err != nil {
				return &codedError{code: "22P03", msg: fmt.Sprintf("parameter $%d: incorrect binary data format: %v", i+1, err)}
			}
			params[i] = v
			continue
		}
		params[i] = textParam(ps.paramOIDs[i], string(raw))
	}
	if old := c.portals[m.DestinationPortal]; old != nil {
		old.release()
	}
	c.portals[m.DestinationPortal] = &portal{stmt: ps, params: params, formats: append([]int16(nil), m.ResultFormatCodes...)}
	c.be.Send(&pgproto3.BindComplete{})
	return nil
}

// describe handles Describe of a statement (parameter types, then the
// result columns or NoData) or of a portal (its result columns).
func (c *conn) describe(m *pgproto3.Describe) error {
	var ps *prepared
	var formats []int16
	switch m.ObjectType {
	case 'S':
		var ok bool
		if ps, ok = c.stmts[m.Name]; !ok {
			return &codedError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
		}
		c.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: ps.paramOIDs})
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			return &codedError{code: "34000", msg: fmt.Sprintf("portal %q does not exist", m.Name)}
		}
		ps, formats = p.stmt, p.formats
	default:
		return &codedError{code: "08P01", msg: fmt.Sprintf("invalid Describe object type %q", m.ObjectType)}
	}
	if ps.desc.Columns == nil {
		c.be.Send(&pgproto3.NoData{})
		return nil
	}
	c.be.Send(&pgproto3.RowDescription{Fields: fieldsFromPlan(ps.desc.Columns, formats)})
	return nil
}

// execute handles Execute: the portal's statement runs with its
// parameters and its rows are sent in the portal's formats. With a row
// limit, at most that many rows go out and PortalSuspended says more
// remain; the next Execute goes on from there.
func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return &codedError{code: "34000", msg: fmt.Sprintf("portal %q does not exist", m.Portal)}
	}
	if p.stmt.empty {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if c.txStatus == 'E' {
		switch txVerb(p.stmt.query) {
		case "ROLLBACK TO":
			// Runs: the session makes the block usable again.
		case "COMMIT", "ROLLBACK":
			c.sess.Rollback(ctx)
			c.endBlock()
			c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")})
			return nil
		default:
			return errInFailedBlock
		}
	}
	if p.stmt.copy {
		return c.copyStmt(ctx, p.stmt.query)
	}
	limit := int64(m.MaxRows)
	if p.ran {
		return c.resume(p, limit)
	}
	obs := &observer{c: c}
	opts := session.ExecOptions{Observer: obs, Params: p.params, ParamTypes: p.stmt.declared}
	if limit > 0 && p.stmt.desc.Columns != nil {
		opts.Results = func(ctx context.Context, _ *session.StmtInfo, rows array.RecordReader) error {
			if err := checkDescribed(p.stmt.desc.Columns, rows.Schema(), p.formats); err != nil {
				return err
			}
			for rows.Next() {
				rec := rows.Record()
				rec.Retain()
				p.recs = append(p.recs, rec)
			}
			return rows.Err()
		}
	} else {
		opts.Results = func(ctx context.Context, _ *session.StmtInfo, rows array.RecordReader) error {
			if err := checkDescribed(p.stmt.desc.Columns, rows.Schema(), p.formats); err != nil {
				return err
			}
			return c.sendRows(rows, p.formats, false)
		}
	}
	_, err := c.exec(ctx, p.stmt.query, opts)
	if err != nil {
		p.release()
		return err
	}
	p.ran, p.tag = true, obs.tag
	if limit > 0 && p.stmt.desc.Columns != nil {
		return c.resume(p, limit)
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}

// resume sends up to limit (0: all) of a portal's kept rows.
func (c *conn) resume(p *portal, limit int64) error {
	var n int64
	for p.rec < len(p.recs) {
		rec := p.recs[p.rec]
		left := int64(rec.NumRows()) - int64(p.row)
		take := left
		if limit > 0 && n+take > limit {
			take = limit - n
		}
		if err := c.sendRecord(rec, p.formats, p.row, p.row+int(take)); err != nil {
			return err
		}
		n += take
		p.sent += take
		p.row += int(take)
		if p.row >= int(rec.NumRows()) {
			rec.Release()
			p.recs[p.rec] = nil
			p.rec++
			p.row = 0
		}
		if limit > 0 && n >= limit {
			break
		}
	}
	if limit > 0 && n >= limit {
		// As PostgreSQL: a full batch suspends the portal even when it
		// happens to be the last; the next Execute completes it.
		c.be.Send(&pgproto3.PortalSuspended{})
		return nil
	}
	p.recs = nil
	tag := p.tag
	if strings.HasPrefix(tag, "SELECT ") {
		// The tag counts the rows of this Execute.
		tag = fmt.Sprintf("SELECT %d", n)
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// closeMsg handles Close of a statement or portal; closing one that does
// not exist is not an error.
func (c *conn) closeMsg(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		if p := c.portals[m.Name]; p != nil {
			p.release()
			delete(c.portals, m.Name)
		}
	default:
		return &codedError{code: "08P01", msg: fmt.Sprintf("invalid Close object type %q", m.ObjectType)}
	}
	c.be.Send(&pgproto3.CloseComplete{})
	return nil
}

// checkDescribed makes sure the rows a statement delivers are what its
// Describe promised: as many columns, and for each column in binary
// format the same type (a column of only NULLs fits any type). The client
// decodes binary values by the described type, so a mismatch would be
// garbage on its side: it is an error instead, PostgreSQL's for a prepared
// statement whose result changed (0A000), as after a DDL that changed the
// columns it reads.
func checkDescribed(cols []planner.Column, schema *arrow.Schema, formats []int16) error {
	if len(cols) != schema.NumFields() {
		return &codedError{code: "0A000", msg: fmt.Sprintf("cached plan must not change result type: the statement returns %d columns but was described with %d; prepare it again",
			schema.NumFields(), len(cols))}
	}
	for i, f := range schema.Fields() {
		if formatFor(formats, i) != formatBinary || f.Type.ID() == arrow.NULL {
			continue
		}
		t, err := catalog.FromArrow(f.Type)
		if err != nil || t.PGOID() != cols[i].Type.PGOID() {
			return &codedError{code: "0A000", msg: fmt.Sprintf("cached plan must not change result type: column %q was described as %s but returns %s; prepare the statement again",
				f.Name, cols[i].Type.PGName(), f.Type)}
		}
	}
	return nil
}

// zoneSuffix is a trailing UTC offset as pgJDBC appends it to dates and
// timestamps it sends as text: " +00", "+01:00", "-05".
var zoneSuffix = regexp.MustCompile(`\s*[+-]\d{2}(:?\d{2})?(:?\d{2})?$`)

// textParam adjusts a parameter sent as text for its type as PostgreSQL's
// input functions do: a DATE or TIMESTAMP (without time zone) ignores a
// time zone written after it.
func textParam(oid uint32, s string) string {
	switch oid {
	case catalog.PGOIDDate:
		if i := strings.IndexByte(s, ' '); i > 0 && zoneSuffix.MatchString(s[i:]) {
			return s[:i]
		}
	case catalog.PGOIDTimestamp:
		if len(s) > 19 && strings.ContainsAny(s[:11], "-/") {
			if loc := zoneSuffix.FindStringIndex(s); loc != nil && loc[0] >= 16 {
				return s[:loc[0]]
			}
		}
	}
	return s
}
