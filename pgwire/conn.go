package pgwire

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/parser"
)

// errProtocol is a message the protocol does not allow where it came.
var errProtocol = errors.New("protocol violation")

// conn is one client connection and its session.
type conn struct {
	srv *Server
	nc  net.Conn
	be  *pgproto3.Backend
	log *slog.Logger

	pid, secret uint32
	user        string
	database    string
	sess        *session.Session
	// txStatus is what ReadyForQuery reports: 'I' idle, 'T' in a
	// transaction block, 'E' in a failed one.
	txStatus byte
	// txDDL counts the statements of the open block that changed the
	// catalog: ROLLBACK does not undo them.
	txDDL int
	// reported are the setting values last sent in ParameterStatus.
	reported map[string]string

	stmts   map[string]*prepared
	portals map[string]*portal
	cursors map[string]*cursor
	// skipToSync discards extended-protocol messages after an error until
	// the next Sync.
	skipToSync bool

	// rowBuf is reused to encode DataRows.
	rowBuf []byte

	qmu      sync.Mutex
	qcancel  context.CancelFunc
	canceled bool // a CancelRequest cancelled the running statement
}

// reportedSettings are the settings a client is told of (ParameterStatus)
// at startup and whenever they change: the display name and the session's
// setting name.
var reportedSettings = [][2]string{
	{"server_version", "server_version"},
	{"server_encoding", "server_encoding"},
	{"client_encoding", "client_encoding"},
	{"DateStyle", "datestyle"},
	{"TimeZone", "timezone"},
	{"IntervalStyle", "intervalstyle"},
	{"integer_datetimes", "integer_datetimes"},
	{"standard_conforming_strings", "standard_conforming_strings"},
	{"application_name", "application_name"},
}

// serve runs the connection: startup, authentication, then the message
// loop until the client terminates or the connection fails.
func (c *conn) serve(ctx context.Context) error {
	c.be = pgproto3.NewBackend(c.nc, c.nc)
	c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageSize)
	startup, err := c.startup()
	if err != nil || startup == nil {
		return err
	}
	if err := c.srv.register(c); err != nil {
		c.sendFatal("57P03", "the server is shutting down", "")
		return err
	}
	defer c.srv.unregister(c)
	c.user = startup.Parameters["user"]
	c.database = startup.Parameters["database"]
	if c.database == "" {
		c.database = c.user
	}
	if startup.ProtocolVersion != pgproto3.ProtocolVersion30 {
		var unknown []string
		for k := range startup.Parameters {
			if strings.HasPrefix(k, "_pq_.") {
				unknown = append(unknown, k)
			}
		}
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
	}
	if c.user == "" {
		c.sendFatal("28000", "no PostgreSQL user name specified in startup packet", "")
		return errProtocol
	}
	if err := c.authenticate(c.user); err != nil {
		if errors.Is(err, errAuth) {
			c.sendFatal("28P01", fmt.Sprintf("password authentication failed for user %q", c.user), "")
		} else {
			c.sendFatal("08P01", "authentication failed: "+err.Error(), "")
		}
		return err
	}
	c.be.Send(&pgproto3.AuthenticationOk{})
	settings := map[string]string{"server_version": ServerVersion}
	for k, v := range parseOptions(startup.Parameters["options"]) {
		settings[k] = v
	}
	for k, v := range startup.Parameters {
		switch k {
		case "user", "database", "options", "replication", "client_encoding":
		default:
			if !strings.HasPrefix(k, "_pq_.") {
				settings[strings.ToLower(k)] = v
			}
		}
	}
	c.sess = c.srv.cfg.Engine.NewSession(session.Options{Settings: settings})
	ci := session.ClientInfo{PID: int32(c.pid), User: c.user, Database: c.database}
	if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		ci.ClientAddr, ci.ClientPort = a.IP.String(), int32(a.Port)
	}
	c.sess.SetClientInfo(ci)
	c.reported = map[string]string{}
	c.reportSettings()
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: secretBytes(c.secret)})
	c.txStatus = 'I'
	c.stmts = map[string]*prepared{}
	c.portals = map[string]*portal{}
	c.cursors = map[string]*cursor{}
	c.sendReady()
	if err := c.be.Flush(); err != nil {
		return err
	}
	c.log.Debug("pgwire: session started", "user", c.user, "database", c.database, "pid", c.pid)
	return c.loop(ctx)
}

func secretBytes(s uint32) []byte {
	return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}

// startup reads the startup packets: SSL and GSS encryption requests, a
// CancelRequest (served, then the connection ends: nil message), or the
// StartupMessage.
func (c *conn) startup() (*pgproto3.StartupMessage, error) {
	tlsDone := false
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS == nil || tlsDone {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return nil, err
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return nil, err
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.Handshake(); err != nil {
				return nil, fmt.Errorf("TLS handshake: %w", err)
			}
			tlsDone = true
			c.nc = tc
			c.be = pgproto3.NewBackend(tc, tc)
			c.be.SetMaxBodyLen(c.srv.cfg.MaxMessageSize)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return nil, nil
		case *pgproto3.StartupMessage:
			sm := *m
			return &sm, nil
		default:
			return nil, fmt.Errorf("%w: unexpected startup message %T", errProtocol, msg)
		}
	}
}

// close releases the session and its portals.
func (c *conn) close() {
	for _, p := range c.portals {
		p.release()
	}
	c.portals = nil
	for _, cu := range c.cursors {
		cu.release()
	}
	c.cursors = nil
	if c.sess != nil {
		c.sess.Close()
	}
}

// loop reads and answers messages until Terminate or a failure.
func (c *conn) loop(ctx context.Context) error {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !isEOF(err) {
				c.sendFatal("08P01", "invalid message: "+err.Error(), "")
			}
			return err
		}
		if c.skipToSync {
			if _, ok := msg.(*pgproto3.Sync); !ok {
				if _, ok := msg.(*pgproto3.Terminate); !ok {
					continue
				}
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(ctx, m.String)
			c.sendReady()
			err = c.be.Flush()
		case *pgproto3.Parse:
			c.extended(c.parse(ctx, m))
		case *pgproto3.Bind:
			c.extended(c.bind(m))
		case *pgproto3.Describe:
			c.extended(c.describe(m))
		case *pgproto3.Execute:
			c.extended(c.execute(ctx, m))
		case *pgproto3.Close:
			c.extended(c.closeMsg(m))
		case *pgproto3.Sync:
			c.skipToSync = false
			c.sendReady()
			err = c.be.Flush()
		case *pgproto3.Flush:
			err = c.be.Flush()
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Outside COPY these are ignored, as PostgreSQL does.
		default:
			c.sendError(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "0A000",
				Message: fmt.Sprintf("message %T is not supported", msg)})
			c.sendReady()
			err = c.be.Flush()
		}
		if err != nil {
			return err
		}
	}
}

func isEOF(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "EOF") || errors.Is(err, net.ErrClosed))
}

// extended finishes an extended-protocol message: an error is sent and
// the messages up to the next Sync are skipped.
func (c *conn) extended(err error) {
	if err == nil {
		return
	}
	c.sendError(c.errorResponse(err, ""))
	c.skipToSync = true
}

// sendReady sends ReadyForQuery with the transaction status.
func (c *conn) sendReady() {
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus})
}

func (c *conn) sendError(e *pgproto3.ErrorResponse) {
	if c.txStatus == 'T' {
		c.txStatus = 'E'
		if c.sess != nil && !c.sess.InBlock() {
			// The failing statement ended the block: a COMMIT that
			// could not publish (40001) rolled it back.
			c.endBlock()
		}
	}
	c.be.Send(e)
}

// sendFatal sends a FATAL error and flushes it: the connection ends.
func (c *conn) sendFatal(code, msg, hint string) {
	c.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg, Hint: hint})
	c.be.Flush()
}

// reportSettings sends ParameterStatus for every reported setting whose
// value changed since it was last sent.
func (c *conn) reportSettings() {
	for _, s := range reportedSettings {
		v, _ := c.sess.Setting(s[1])
		if s[1] == "client_encoding" || s[1] == "server_encoding" {
			v = "UTF8"
		}
		if old, ok := c.reported[s[0]]; ok && old == v {
			continue
		}
		c.reported[s[0]] = v
		c.be.Send(&pgproto3.ParameterStatus{Name: s[0], Value: v})
	}
}

// cancelQuery cancels the running statement, if any.
func (c *conn) cancelQuery() {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.qcancel != nil {
		c.qcancel()
	}
}

// cancelRequested cancels the running statement for a CancelRequest.
func (c *conn) cancelRequested() {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.qcancel != nil {
		c.canceled = true
		c.qcancel()
	}
}

// wasCanceled reports whether a CancelRequest stopped the last statement.
func (c *conn) wasCanceled() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.canceled
}

// exec runs a script in the session with a context a CancelRequest can
// cancel, then reports changed settings.
func (c *conn) exec(ctx context.Context, src string, opts session.ExecOptions) (*session.Run, error) {
	qctx, cancel := context.WithCancel(ctx)
	if d := c.statementTimeout(); d > 0 {
		qctx, cancel = context.WithTimeoutCause(ctx, d, errStatementTimeout)
	}
	c.qmu.Lock()
	c.qcancel, c.canceled = cancel, false
	c.qmu.Unlock()
	defer func() {
		c.qmu.Lock()
		c.qcancel = nil
		c.qmu.Unlock()
		cancel()
	}()
	run, err := c.sess.Exec(qctx, newSource(src), opts)
	run.Release()
	c.reportSettings()
	return run, err
}

// observer follows the statements of one Exec for the connection: it
// keeps the transaction status and, in the simple protocol, sends each
// statement's CommandComplete as it finishes.
type observer struct {
	c    *conn
	send bool
	tag  string
}

// StatementStarted implements session.Observer.
func (o *observer) StatementStarted(*session.StmtInfo) {}

// StatementProgress implements session.Observer.
func (o *observer) StatementProgress(*session.StmtInfo, session.Progress) {}

// StatementFinished implements session.Observer.
func (o *observer) StatementFinished(res *session.StmtResult) {
	if res.Err != nil {
		return
	}
	o.tag = res.Tag
	if o.tag == "" {
		o.tag = res.Info.Kind
	}
	o.c.noteTxStatement(res.Info.Kind)
	if o.send {
		o.c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(o.tag)})
	}
}

// simpleQuery runs a Query message: every statement in it, each with its
// rows and CommandComplete; an error stops the rest. Several statements
// run in one implicit transaction, as in PostgreSQL: an error undoes the
// writes of the statements before it (see session.ExecOptions.Implicit).
func (c *conn) simpleQuery(ctx context.Context, q string) {
	if c.txStatus == 'E' {
		rest, run := c.failedBlock(ctx, q)
		if !run {
			return
		}
		q = rest
	}
	if parser.IsCopy(q) {
		if err := c.copyStmt(ctx, q); err != nil {
			c.sendError(c.errorResponse(err, q))
		}
		return
	}
	if handled, err := c.cursorStmt(ctx, q); handled {
		if err != nil {
			c.sendError(c.errorResponse(err, q))
		}
		return
	}
	obs := &observer{c: c, send: true}
	run, err := c.exec(ctx, q, session.ExecOptions{
		Observer: obs,
		// Several statements in one message are one transaction.
		Implicit: true,
		Results: func(ctx context.Context, _ *session.StmtInfo, rows array.RecordReader) error {
			return c.sendRows(rows, nil, true)
		},
	})
	if err != nil {
		c.sendError(c.errorResponse(err, q))
		return
	}
	if run.Count == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
	}
}

// formatFor returns the format of column i from a Bind's result format
// codes: none means text, one applies to every column.
func formatFor(formats []int16, i int) int16 {
	switch {
	case len(formats) == 0:
		return formatText
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return formatText
}

// sendRows sends the rows of a result: RowDescription first when desc,
// then a DataRow per row, flushing after every batch.
func (c *conn) sendRows(rows array.RecordReader, formats []int16, desc bool) error {
	if desc {
		c.be.Send(&pgproto3.RowDescription{Fields: fieldsFromArrow(rows.Schema(), formats)})
	}
	for rows.Next() {
		if err := c.sendRecord(rows.Record(), formats, 0, -1); err != nil {
			return err
		}
		if err := c.be.Flush(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sendRecord sends rows [from, to) of rec as DataRows (to < 0: to the
// end). The rows are encoded straight into one buffer, column encoders
// chosen once per batch, and handed to the backend in chunks.
func (c *conn) sendRecord(rec arrow.Record, formats []int16, from, to int) error {
	if to < 0 {
		to = int(rec.NumRows())
	}
	cols := rec.Columns()
	encs := make([]valueEncoder, len(cols))
	for j, col := range cols {
		if col.DataType().ID() != arrow.NULL {
			encs[j] = encoderFor(col, formatFor(formats, j))
		}
	}
	const chunk = 256 << 10
	buf := c.rowBuf[:0]
	for i := from; i < to; i++ {
		start := len(buf)
		buf = append(buf, 'D', 0, 0, 0, 0)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(cols)))
		for j, col := range cols {
			if encs[j] == nil || col.IsNull(i) {
				buf = append(buf, 0xff, 0xff, 0xff, 0xff)
				continue
			}
			at := len(buf)
			buf = append(buf, 0, 0, 0, 0)
			var err error
			if buf, err = encs[j](buf, i); err != nil {
				return &codedError{code: "0A000", msg: fmt.Sprintf("column %q: %v", rec.ColumnName(j), err)}
			}
			binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
		}
		binary.BigEndian.PutUint32(buf[start+1:], uint32(len(buf)-start-1))
		if len(buf) >= chunk {
			// A full chunk goes straight to the connection, after what the
			// backend holds: no copy into its buffer.
			if err := c.be.Flush(); err != nil {
				return err
			}
			if _, err := c.nc.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		c.be.Send(rawMessages(buf))
	}
	c.rowBuf = buf[:0]
	return nil
}

// codedError is an error the gateway itself raises, with its SQLSTATE.
type codedError struct {
	code string
	msg  string
}

func (e *codedError) Error() string { return e.msg }

// parseOptions reads the startup packet's options parameter, as libpq's
// PGOPTIONS and JDBC's options send it: "-c name=value" or
// "--name=value" words, with backslash escaping a space.
func parseOptions(opts string) map[string]string {
	out := map[string]string{}
	var words []string
	var cur strings.Builder
	for i := 0; i < len(opts); i++ {
		switch ch := opts[i]; {
		case ch == '\\' && i+1 < len(opts):
			i++
			cur.WriteByte(opts[i])
		case ch == ' ' || ch == '\t':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(ch)
		}
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-c" && i+1 < len(words):
			i++
			w = words[i]
		case strings.HasPrefix(w, "-c"):
			w = w[2:]
		case strings.HasPrefix(w, "--"):
			w = w[2:]
		default:
			continue
		}
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			out[strings.ToLower(strings.ReplaceAll(k, "-", "_"))] = v
		}
	}
	return out
}

// errStatementTimeout is the cause of a statement stopped by
// statement_timeout.
var errStatementTimeout = errors.New("canceling statement due to statement timeout")

// statementTimeout is the session's statement_timeout setting: a number
// of milliseconds, or a number with a unit (ms, s, min, h); 0 means none.
func (c *conn) statementTimeout() time.Duration {
	v, ok := c.sess.Setting("statement_timeout")
	if !ok {
		return 0
	}
	v = strings.Trim(strings.TrimSpace(v), "'")
	num := strings.TrimRightFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.TrimSpace(v[len(num):])
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	switch unit {
	case "", "ms":
		return time.Duration(n) * time.Millisecond
	case "s":
		return time.Duration(n) * time.Second
	case "min":
		return time.Duration(n) * time.Minute
	case "h":
		return time.Duration(n) * time.Hour
	}
	return 0
}
