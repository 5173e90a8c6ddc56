package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/etlc/etlc/exec/observe"
	"github.com/etlc/etlc/exec/session"
	"github.com/etlc/etlc/pgwire"
)

// serveFlags are the flags of `etlc serve`.
type serveFlags struct {
	listen        string
	dataDir       string
	auth          string
	users         []string
	usersFile     string
	tlsCert       string
	tlsKey        string
	tlsSelfSigned bool
	verbose       bool
	metricsAddr   string
	threads       int
}

func newServeCmd(sys *system) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the data directory over the PostgreSQL wire protocol",
		Long: `serve runs a PostgreSQL-compatible gateway: psql, drivers and BI tools connect
to it and run the same statements as etlc run, against the same data
directory (--data-dir, default ./.etlc).

Authentication (--auth): trust (the default; only on a loopback address),
password (clear text: use TLS), md5 or scram (SCRAM-SHA-256). Users come
from --user name:password (repeatable) and --users-file (one name:password
a line). TLS: --tls-cert and --tls-key, or --tls-self-signed for a
certificate generated in memory; without either, clients that ask for SSL
are told no and go on in plain text.

BEGIN, COMMIT and ROLLBACK are accepted, but every statement commits on its
own: there are no multi-statement transactions. SIGINT or SIGTERM stop the
server: running statements are cancelled and connections closed, and every
streaming pipeline takes a last checkpoint and stops.

START PIPELINE runs a streaming pipeline (one that reads FROM STREAM) in
the background of the server, its state and checkpoints in the data
directory; STOP PIPELINE takes a last checkpoint and stops it, and a later
START resumes from there. Pipelines running when the server stops run
again when it starts.`,
		Example: `  etlc serve --data-dir /var/lib/etlc
  etlc serve --listen 0.0.0.0:5432 --auth scram --user etl:secret --tls-self-signed
  psql -h 127.0.0.1 -p 5432 -U etl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), sys, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:5432", "address to listen on")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "data directory (catalog, managed tables, run history)")
	fl.StringVar(&f.auth, "auth", "trust", "authentication: trust, password, md5 or scram")
	fl.StringArrayVar(&f.users, "user", nil, "a user as name:password (repeatable)")
	fl.StringVar(&f.usersFile, "users-file", "", "file of users, one name:password a line")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fl.BoolVar(&f.tlsSelfSigned, "tls-self-signed", false, "serve TLS with a self-signed certificate generated at start")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every connection")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz and /readyz on `host:port` (default: off)")
	fl.IntVar(&f.threads, "threads", runtime.NumCPU(), "worker threads of a query's parallel pipelines (a session's SET threads overrides it)")
	return cmd
}

// runServe wires the flags to a pgwire.Server and serves until ctx is
// done.
func runServe(ctx context.Context, sys *system, f *serveFlags) error {
	mode, err := pgwire.ParseAuthMode(f.auth)
	if err != nil {
		return err
	}
	users := map[string]string{}
	for _, u := range f.users {
		if err := pgwire.ParseUser(users, u); err != nil {
			return err
		}
	}
	if f.usersFile != "" {
		if err := pgwire.LoadUsers(users, f.usersFile); err != nil {
			return &ioError{err: err}
		}
	}
	var tc *tls.Config
	switch {
	case f.tlsSelfSigned && (f.tlsCert != "" || f.tlsKey != ""):
		return fmt.Errorf("--tls-self-signed and --tls-cert/--tls-key exclude each other")
	case f.tlsSelfSigned:
		host, _, _ := net.SplitHostPort(f.listen)
		if tc, err = pgwire.SelfSignedTLS(host); err != nil {
			return err
		}
	case f.tlsCert != "" || f.tlsKey != "":
		if f.tlsCert == "" || f.tlsKey == "" {
			return fmt.Errorf("--tls-cert and --tls-key go together")
		}
		if tc, err = pgwire.LoadTLS(f.tlsCert, f.tlsKey); err != nil {
			return &ioError{err: err}
		}
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(sys.stderr, &slog.HandlerOptions{Level: level}))
	if f.threads < 1 || f.threads > 256 {
		return fmt.Errorf("invalid --threads %d: want 1 to 256", f.threads)
	}
	eng, err := session.Open(ctx, f.dataDir, session.Config{Threads: f.threads})
	if err != nil {
		return &ioError{err: err}
	}
	defer eng.Close()
	srv, err := pgwire.New(pgwire.Config{Engine: eng, Auth: mode, Users: users, TLS: tc, Logger: log})
	if err != nil {
		return err
	}
	// Pipelines that START PIPELINE left running run again, each from
	// its last checkpoint; one that cannot start is logged (etl.pipelines
	// shows its error) and the gateway serves all the same.
	if err := eng.ResumePipelines(ctx, session.Options{}); err != nil {
		log.Error("etlc serve: resuming pipelines", "error", err)
	}
	if names := eng.RunningPipelines(); len(names) > 0 {
		log.Info("etlc serve: pipelines resumed", "pipelines", strings.Join(names, ","))
	}
	var gw gatewayCheck
	if f.metricsAddr != "" {
		msrv, err := startMetrics(f.metricsAddr, eng, map[string]observe.ReadyCheck{"gateway": gw.check})
		if err != nil {
			return err
		}
		defer stopMetrics(msrv)
		log.Info("etlc serve: metrics", "metrics_addr", msrv.Addr())
	}
	err = srv.ListenAndServe(ctx, f.listen, func(addr net.Addr) {
		gw.set(addr.String())
		log.Info("etlc serve: listening", "addr", addr.String(), "data_dir", eng.Dir(), "auth", mode.String(), "tls", tc != nil)
	})
	// Every pipeline takes a last checkpoint and stops; START PIPELINE's
	// record of them is kept, so that the next serve resumes them.
	if names := eng.RunningPipelines(); len(names) > 0 {
		if perr := eng.StopPipelines(context.WithoutCancel(ctx)); perr != nil {
			log.Error("etlc serve: stopping pipelines", "error", perr)
		} else {
			log.Info("etlc serve: pipelines stopped", "pipelines", strings.Join(names, ","))
		}
	}
	if err != nil {
		return &ioError{err: err}
	}
	log.Info("etlc serve: stopped")
	return nil
}
