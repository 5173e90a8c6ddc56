package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etlc/etlc/exec/session"
)

// ServerVersion is the server_version the gateway reports: the PostgreSQL
// version whose protocol and catalog it speaks, and its name.
const ServerVersion = "15.0 (etlc)"

// Config configures a Server.
type Config struct {
	// Engine runs the sessions' statements: the same engine as `etlc run`.
	Engine *session.Engine
	// Auth is how clients authenticate; Users holds the names and
	// passwords for every mode but AuthTrust.
	Auth  AuthMode
	Users map[string]string
	// TLS, when set, answers SSLRequest with 'S' and a TLS handshake;
	// without it SSL is refused ('N') and clients go on in plain text.
	TLS *tls.Config
	// Logger receives connection events and recovered panics (nil: none).
	Logger *slog.Logger
	// MaxMessageSize bounds one protocol message's body (0: 64 MiB).
	MaxMessageSize int
}

// Server is a PostgreSQL wire-protocol gateway to an Engine. Every
// connection has its own session, served in its own goroutine; a client
// that misbehaves ends its own session and never the server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	scram map[string]*scramCreds

	mu        sync.Mutex
	conns     map[uint32]*conn
	listeners map[net.Listener]struct{}
	nextPID   uint32
	closed    bool
	wg        sync.WaitGroup

	// panics counts the panics recovered in connection goroutines.
	panics atomic.Int64
}

// New returns a server for cfg. It derives the SCRAM credentials of the
// users once, so a connection does not pay for the key derivation.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("pgwire: no engine")
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 64 << 20
	}
	if cfg.Auth != AuthTrust && len(cfg.Users) == 0 {
		return nil, fmt.Errorf("pgwire: authentication %s needs at least one user", cfg.Auth)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, conns: map[uint32]*conn{}, listeners: map[net.Listener]struct{}{}}
	if cfg.Auth == AuthSCRAM {
		s.scram = map[string]*scramCreds{}
		for u, p := range cfg.Users {
			c, err := newSCRAMCreds(p)
			if err != nil {
				return nil, fmt.Errorf("pgwire: SCRAM credentials of %s: %w", u, err)
			}
			s.scram[u] = c
		}
	}
	return s, nil
}

// Listen opens a TCP listener on addr, refusing any address beyond
// loopback when the server does not authenticate its clients.
func (s *Server) Listen(ctx context.Context, addr string) (net.Listener, error) {
	if s.cfg.Auth == AuthTrust {
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pgwire: listen on %s: %w", addr, err)
	}
	return ln, nil
}

// checkLoopback reports an error unless addr's host is a loopback address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("pgwire: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("pgwire: refusing to listen on %s without authentication: use a loopback address (127.0.0.1) or --auth password|md5|scram with users", addr)
}

// Serve accepts connections on ln until ctx is done or Shutdown is
// called, each served in its own goroutine. It returns nil after a
// shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.Auth == AuthTrust {
		if err := checkLoopback(ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			delete(s.listeners, ln)
			s.mu.Unlock()
			if closed || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("pgwire: accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.ServeConn(ctx, nc)
		}()
	}
}

// Shutdown stops accepting connections, cancels the running statements,
// closes every connection and waits for their goroutines until ctx is
// done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	for _, c := range s.conns {
		c.cancelQuery()
		c.nc.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Panics is the number of panics recovered while serving connections:
// each ended one session. Tests assert it stays zero.
func (s *Server) Panics() int64 { return s.panics.Load() }

// ServeConn serves one client connection until it ends, then closes it. A
// panic ends the connection and is logged.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	c := &conn{srv: s, nc: nc, log: s.log.With("remote", nc.RemoteAddr().String())}
	defer func() {
		if r := recover(); r != nil {
			s.panics.Add(1)
			c.log.Error("pgwire: session ended by an internal error", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	defer c.close() // runs before the recovery above, so a panic in it is caught too
	if err := c.serve(ctx); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Debug("pgwire: session ended", "err", err)
	}
}

// register gives c a process id and secret key and makes it cancellable.
func (s *Server) register(c *conn) error {
	var secret [4]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("the server is shutting down")
	}
	for {
		s.nextPID++
		if _, taken := s.conns[s.nextPID]; !taken && s.nextPID != 0 {
			break
		}
	}
	c.pid, c.secret = s.nextPID, binary.BigEndian.Uint32(secret[:])
	s.conns[c.pid] = c
	return nil
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
}

// cancel cancels the running statement of the session with the key
// (pid, secret); a wrong key does nothing, as in PostgreSQL.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c == nil || len(secret) != 4 {
		return
	}
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], c.secret)
	if subtle.ConstantTimeCompare(want[:], secret) == 1 {
		c.cancelRequested()
	}
}

// ShutdownTimeout is how long ListenAndServe waits for sessions to end
// after its context is done.
const ShutdownTimeout = 10 * time.Second

// ListenAndServe listens on addr and serves until ctx is done (SIGINT or
// SIGTERM in `etlc serve`), then shuts down: running statements are
// cancelled and connections closed, waiting up to ShutdownTimeout. ready,
// when set, is called with the address once the server listens.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := s.Listen(ctx, addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	serveErr := s.Serve(ctx, ln)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("pgwire: shutdown: %w", err)
	}
	return serveErr
}
