// Package app wires Keel's parts into a running process: the database,
// the services, the provider (real Unipile or the sandbox fake), the job
// queue and the HTTP surface. cmd/keel and the CLI only call into here.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// SandboxPrefix is where the built-in fake Unipile is mounted in sandbox mode.
const SandboxPrefix = "/sandbox/unipile"

// ShutdownTimeout bounds a graceful stop.
const ShutdownTimeout = 20 * time.Second

// Options adjusts Open.
type Options struct {
	Logger *slog.Logger
	// Out receives the operator-facing start-up lines.
	Out   io.Writer
	Clock clock.Clock
	// Listener, when set, is used instead of listening on Config.Addr.
	Listener net.Listener
}

// App is one Keel process.
type App struct {
	Config   config.Config
	DB       *db.DB
	Clock    clock.Clock
	Logger   *slog.Logger
	Accounts *account.Service
	// Provider is the Unipile client (pointing at the sandbox in sandbox mode).
	Provider *unipile.Client
	// Sandbox is the in-process fake Unipile, nil with real credentials.
	Sandbox *fake.Server
	Queue   *jobs.Queue

	out      io.Writer
	listener net.Listener
	mux      *http.ServeMux
}

// Migrate opens the database, applies Keel's and the job queue's
// migrations, and returns what was done.
func Migrate(ctx context.Context, d *db.DB) (db.MigrateReport, error) {
	rep, err := d.Migrate(ctx)
	if err != nil {
		return rep, err
	}
	if err := jobs.Migrate(ctx, d); err != nil {
		return rep, err
	}
	return rep, nil
}

// Open prepares a process: database migrated, services built, listener
// bound. Run starts it.
func Open(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	a := &App{Config: cfg, Clock: opts.Clock, Logger: opts.Logger, out: opts.Out, mux: http.NewServeMux()}
	for _, w := range cfg.Warnings {
		a.Logger.Warn("configuration", "warning", w)
		fmt.Fprintln(a.out, "warning:", w)
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.DB = d
	rep, err := Migrate(ctx, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, w := range rep.Warnings() {
		a.Logger.Warn("migration", "warning", w)
		fmt.Fprintln(a.out, "warning:", w)
	}
	a.Accounts = account.NewService(d, a.Clock)

	a.listener = opts.Listener
	if a.listener == nil {
		if a.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
			d.Close()
			return nil, fmt.Errorf("listening on %s (KEEL_ADDR): %w", cfg.Addr, err)
		}
	}
	if err := a.setupProvider(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setupQueue(); err != nil {
		a.Close()
		return nil, err
	}
	a.routes()
	return a, nil
}

func (a *App) setupProvider() error {
	if !a.Config.Sandbox() {
		c, err := unipile.New(unipile.Options{BaseURL: a.Config.UnipileDSN, APIKey: a.Config.UnipileAPIKey})
		if err != nil {
			return fmt.Errorf("configuring Unipile (UNIPILE_DSN): %w", err)
		}
		a.Provider = c
		return nil
	}
	// The sandbox answers on this process's own listener, so hosted-auth
	// pages open in the same browser tab a user is already in.
	base := a.Config.PublicURL + SandboxPrefix
	a.Sandbox = fake.New(fake.Options{Clock: a.Clock, PublicURL: base})
	a.mux.Handle(SandboxPrefix+"/", http.StripPrefix(SandboxPrefix, a.Sandbox.Handler()))
	c, err := unipile.New(unipile.Options{BaseURL: "http://" + a.listener.Addr().String() + SandboxPrefix, APIKey: a.Sandbox.APIKey()})
	if err != nil {
		return fmt.Errorf("configuring the sandbox provider: %w", err)
	}
	a.Provider = c
	fmt.Fprintln(a.out, "SANDBOX MODE: no Unipile credentials (UNIPILE_DSN, UNIPILE_API_KEY) are set.")
	fmt.Fprintln(a.out, "SANDBOX MODE: Keel talks to its built-in fake Unipile; no real LinkedIn traffic is sent.")
	a.Logger.Warn("sandbox mode: built-in fake Unipile, no real LinkedIn traffic")
	return nil
}

func (a *App) setupQueue() error {
	workers := river.NewWorkers()
	var periodic []*river.PeriodicJob
	q, err := jobs.New(jobs.Options{DB: a.DB, Workers: workers, PeriodicJobs: periodic,
		MaxWorkers: a.Config.Workers, Logger: a.Logger})
	if err != nil {
		return err
	}
	a.Queue = q
	return nil
}

// Addr is the address the process listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Handler is the process's HTTP surface.
func (a *App) Handler() http.Handler { return a.mux }

func (a *App) routes() {
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	a.mux.HandleFunc("GET /readyz", a.readyz)
}

// readyz answers 200 only when the database is reachable, its migrations are
// current and the job queue runs.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok", "queue": "ok"}
	ready := true
	if err := a.DB.Ping(ctx); err != nil {
		checks["database"], ready = "unreachable", false
	}
	if pending, err := a.DB.Pending(ctx); err != nil || pending {
		checks["migrations"], ready = "pending", false
	}
	if !a.Queue.Running() {
		checks["queue"], ready = "stopped", false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ready, "checks": checks})
}

// Run serves HTTP and runs workers until ctx ends, then stops gracefully.
func (a *App) Run(ctx context.Context) error {
	if err := a.Queue.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: a.mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	fmt.Fprintf(a.out, "Keel is listening on http://%s (database: %s)\n", a.Addr(), a.DB.Engine)
	a.Logger.Info("serving", "addr", a.Addr(), "engine", string(a.DB.Engine))
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(stopCtx)
	if err := a.Queue.Stop(stopCtx); err != nil {
		a.Logger.Warn("stopping job queue", "error", err)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP: %w", serveErr)
	}
	return nil
}

// Close releases the process's resources.
func (a *App) Close() error {
	if a.Sandbox != nil {
		_ = a.Sandbox.Close()
	}
	if a.listener != nil {
		_ = a.listener.Close()
	}
	return a.DB.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
