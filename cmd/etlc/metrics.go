package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/etlc/etlc/exec/observe"
	"github.com/etlc/etlc/exec/session"
)

// startMetrics starts the /metrics, /healthz and /readyz server of `etlc
// run` and `etlc serve` on addr, with the engine's figures and the ready
// checks "catalog" (the catalog is open) plus extra. It returns the server
// (the caller closes it) or an error when addr cannot be listened on.
func startMetrics(addr string, eng *session.Engine, extra map[string]observe.ReadyCheck) (*observe.Server, error) {
	reg := observe.NewRegistry()
	reg.Register(eng.Metrics())
	srv := observe.NewServer(reg)
	srv.AddReadyCheck("catalog", eng.CheckCatalog)
	for n, c := range extra {
		srv.AddReadyCheck(n, c)
	}
	if err := srv.Start(addr); err != nil {
		return nil, err
	}
	return srv, nil
}

// stopMetrics closes a metrics server started by startMetrics (nil: none).
func stopMetrics(srv *observe.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Close(ctx)
}

// gatewayCheck is the ready check of `etlc serve`: the gateway listens and
// accepts a TCP connection.
type gatewayCheck struct {
	mu   sync.Mutex
	addr string
}

func (g *gatewayCheck) set(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addr = addr
}

func (g *gatewayCheck) check(ctx context.Context) error {
	g.mu.Lock()
	addr := g.addr
	g.mu.Unlock()
	if addr == "" {
		return errors.New("the gateway is not listening yet")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("the gateway does not accept connections on %s: %w", addr, err)
	}
	return c.Close()
}
