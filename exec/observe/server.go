package observe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// ReadyCheck is one condition of /readyz: nil when it holds.
type ReadyCheck func(ctx context.Context) error

// Server serves /metrics, /healthz and /readyz over HTTP.
type Server struct {
	reg      *Registry
	mu       sync.Mutex
	checks   map[string]ReadyCheck
	srv      *http.Server
	ln       net.Listener
	done     chan error
	once     sync.Once
	closeErr error
	// CheckTimeout bounds each ready check (default 2 s).
	CheckTimeout time.Duration
}

// NewServer returns a server of the registry's metrics with no ready
// checks (ready as soon as it listens).
func NewServer(reg *Registry) *Server {
	return &Server{reg: reg, checks: map[string]ReadyCheck{}, CheckTimeout: 2 * time.Second}
}

// AddReadyCheck adds (or replaces) a named ready check.
func (s *Server) AddReadyCheck(name string, c ReadyCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// Handler returns the HTTP handler of the three endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", s.metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", s.ready)
	return mux
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	var sb strings.Builder
	if err := s.reg.WriteText(r.Context(), &sb); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, sb.String())
}

// ready runs every check; 200 and "ok" when all hold, otherwise 503 and a
// line per failed check.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make(map[string]ReadyCheck, len(s.checks))
	for n, c := range s.checks {
		checks[n] = c
	}
	s.mu.Unlock()
	sort.Strings(names)
	var failed []string
	for _, n := range names {
		if err := s.runCheck(r.Context(), checks[n]); err != nil {
			failed = append(failed, n+": "+err.Error())
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(failed, "\n"))
		return
	}
	fmt.Fprintln(w, "ok")
}

// runCheck runs one check with the timeout, turning a panic into an error.
func (s *Server) runCheck(ctx context.Context, c ReadyCheck) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, s.CheckTimeout)
	defer cancel()
	return c(ctx)
}

// Start listens on addr (host:port; port 0 picks one) and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listening on %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan error, 1)
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops the server, waiting up to ctx for requests in flight. Later
// calls return the first call's result.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	s.once.Do(func() {
		err := s.srv.Shutdown(ctx)
		if serr := <-s.done; err == nil {
			err = serr
		}
		s.closeErr = err
	})
	return s.closeErr
}
