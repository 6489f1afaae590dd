// Package app wires Keel's parts into a running process: the database,
// the services, the provider (real Unipile or the sandbox fake), the job
// queue and the HTTP surface. cmd/keel and the CLI only call into here.
package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/api"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/logging"
	"github.com/keel-outreach/keel/internal/metrics"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/webhook"
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
	// WorkerOnly runs jobs without serving HTTP (keel worker). It needs a
	// real provider: the sandbox lives inside keel serve.
	WorkerOnly bool
	// taskHook, set only by this package's tests, runs at the start of each
	// periodic pass (a test makes one hang to kill its process mid-pass).
	taskHook func(ctx context.Context, task string)
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

	Campaigns *campaign.Service
	Connect   *connect.Service
	Webhooks  *webhook.Receiver
	Sender    *send.Engine
	// Inbox keeps every sender's conversations (docs/inbox.md).
	Inbox    *inbox.Service
	Health   *health.Service
	Outbound *outbound.Service
	API      *api.Server
	// WebhookSecret is the secret Unipile must send; in sandbox mode one is
	// made up when none is configured.
	WebhookSecret string

	// Metrics is the process's Prometheus registry (served at /metrics).
	Metrics *metrics.Metrics

	out      io.Writer
	listener net.Listener
	mux      *http.ServeMux
	limiter  *api.RateLimiter
	// workerOnly: no HTTP listener (keel worker).
	workerOnly bool
	taskHook   func(ctx context.Context, task string)
	// periodic are the process's periodic tasks; started is when the
	// process opened (readiness does not call a task stalled before it
	// has had its intervals to run).
	periodic map[string]task
	started  time.Time
	// queueUI is River's web UI (PostgreSQL only); Run starts its caches.
	queueUI interface {
		http.Handler
		Start(ctx context.Context) error
	}
}

// ownAddrs are the host:port addresses Keel itself is reached at: its
// listen address and its public URL's. Outbound webhooks may not point
// there, even through the allow-list: a delivery to Keel's own receiver
// would be refused with 401 and retried to no end.
func ownAddrs(cfg config.Config) []string {
	own := []string{cfg.Addr}
	if host, port, err := outbound.URLHostPort(cfg.PublicURL); err == nil {
		own = append(own, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	return own
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
	opts.Logger = logging.OrDiscard(opts.Logger)
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	a := &App{Config: cfg, Clock: opts.Clock, Logger: opts.Logger, out: opts.Out, mux: http.NewServeMux(), started: opts.Clock.Now()}
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
	// No account's pacing may go below the installation's least gap.
	a.Accounts = account.NewService(d, a.Clock, account.WithMinGap(cfg.MinSpacing), account.WithLogger(a.Logger))
	alert.SetLogger(a.Logger)
	a.Metrics = metrics.New(d, a.Logger)
	a.limiter = api.NewRateLimiter(api.RateLimiterOptions{PerSecond: APIRatePerSecond, Burst: APIBurst, Clock: a.Clock})
	a.Campaigns = campaign.NewService(d, a.Clock)
	// Every status flip pauses or resumes the account's campaigns in the
	// flip's own transaction.
	a.Accounts.OnFlip("campaigns", a.Campaigns.OnAccountFlip)
	// A settings change the gates read makes the account's parked
	// prospects due again, in the change's own transaction
	// (docs/sending.md#re-evaluation).
	a.Accounts.OnSettingsChanged("campaigns", a.Campaigns.OnAccountSettings)
	// Account events go out only if the flip commits: they are written in
	// its transaction.
	a.Outbound = outbound.New(outbound.Options{DB: d, Clock: a.Clock, Logger: a.Logger,
		Allow: cfg.OutboundAllow, OwnAddrs: ownAddrs(cfg)})
	a.Accounts.OnFlip("outbound", a.Outbound.OnAccountFlip)

	a.workerOnly = opts.WorkerOnly
	a.taskHook = opts.taskHook
	if a.workerOnly && cfg.Sandbox() {
		d.Close()
		return nil, &config.Error{Var: "UNIPILE_DSN", Msg: "keel worker needs a Unipile provider (UNIPILE_DSN, UNIPILE_API_KEY); the sandbox provider lives inside keel serve"}
	}
	a.listener = opts.Listener
	if a.listener == nil && !a.workerOnly {
		if a.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
			d.Close()
			return nil, fmt.Errorf("listening on %s (KEEL_ADDR): %w", cfg.Addr, err)
		}
	}
	if err := a.setupProvider(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setupServices(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setupQueue(); err != nil {
		a.Close()
		return nil, err
	}
	a.routes()
	if !a.workerOnly {
		if err := a.mountUI(); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

func (a *App) setupServices() error {
	a.WebhookSecret = a.Config.WebhookSecret
	if a.WebhookSecret == "" {
		a.WebhookSecret = randomSecret()
	}
	hcfg := health.DefaultConfig()
	hcfg.Interval = a.Config.HealthInterval
	var err error
	a.Health, err = health.New(health.Options{DB: a.DB, Accounts: a.Accounts, Client: a.Provider, Clock: a.Clock,
		Logger: a.Logger, Config: hcfg})
	if err != nil {
		return fmt.Errorf("configuring the health monitor (KEEL_HEALTH_INTERVAL): %w", err)
	}
	// Whatever says an account works (a flip to connected, or a webhook or
	// hosted-auth reconnect for an account already connected) cancels
	// disconnects the limiter still holds for it, in the same transaction,
	// so a stale hold can never disconnect a healthy account. Every hold
	// stored before the evidence is older than it (CancelHeld cancels holds
	// requested strictly before).
	a.Accounts.OnConfirmedConnected("health_holds", func(ctx context.Context, tx *sql.Tx, accountID string, at time.Time) error {
		_, err := a.Health.CancelHeld(ctx, tx, accountID, at.Add(time.Microsecond))
		return err
	})
	// Provider-driven disconnects from every path go through the health
	// monitor's limiter, so a provider incident cannot disconnect the fleet.
	a.Connect, err = connect.New(connect.Options{DB: a.DB, Accounts: a.Accounts, Client: a.Provider,
		PublicURL: a.Config.PublicURL, Clock: a.Clock, Logger: a.Logger, Disconnect: a.Health.Disconnect})
	if err != nil {
		return fmt.Errorf("configuring hosted auth: %w", err)
	}
	a.Webhooks, err = webhook.NewReceiver(webhook.Options{DB: a.DB, Accounts: a.Accounts, Clock: a.Clock,
		Logger: a.Logger, Secret: a.WebhookSecret, DisconnectTx: a.Health.DisconnectTx,
		OnRelation: a.onRelation, OnMessage: a.onMessage})
	if err != nil {
		return fmt.Errorf("configuring the webhook receiver: %w", err)
	}
	a.Sender, err = send.New(send.Options{DB: a.DB, Accounts: a.Accounts, Campaigns: a.Campaigns, Client: a.Provider,
		Clock: a.Clock, Logger: a.Logger, MinSpacing: a.Config.MinSpacing,
		Enqueue: a.enqueueDispatch, Emit: a.Outbound.Emit})
	if err != nil {
		return fmt.Errorf("configuring the sender: %w", err)
	}
	// A changed withdraw_after_days moves every pending invitation's
	// withdrawal time, in the change's transaction (docs/sending.md#withdrawals).
	a.Accounts.OnSettingsChanged("invitations", a.Sender.OnAccountSettings)
	a.Inbox, err = inbox.New(inbox.Options{DB: a.DB, Campaigns: a.Campaigns, Client: a.Provider, Clock: a.Clock, Logger: a.Logger})
	if err != nil {
		return fmt.Errorf("configuring the inbox: %w", err)
	}
	a.API = api.New(api.Options{DB: a.DB, Accounts: a.Accounts, Campaigns: a.Campaigns, Connect: a.Connect,
		Sync:  func(ctx context.Context, workspaceID string) (any, error) { return a.Connect.Sync(ctx, workspaceID) },
		Clock: a.Clock, Logger: a.Logger, Outbound: a.Outbound, RateLimit: a.limiter, MinSpacing: a.Config.MinSpacing,
		Sender: a.Sender, Inbox: a.Inbox})
	return nil
}

// providerHTTP keeps enough idle connections for a health sweep's
// concurrent checks (the default keeps two per host).
func providerHTTP() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

func (a *App) setupProvider() error {
	if !a.Config.Sandbox() {
		c, err := unipile.New(unipile.Options{BaseURL: a.Config.UnipileDSN, APIKey: a.Config.UnipileAPIKey, HTTPClient: providerHTTP()})
		if err != nil {
			return fmt.Errorf("configuring Unipile (UNIPILE_DSN): %w", err)
		}
		a.Provider = c
		return nil
	}
	// The sandbox answers on this process's own listener, so hosted-auth
	// pages open in the same browser tab a user is already in.
	base := a.Config.PublicURL + SandboxPrefix
	a.Sandbox = fake.New(fake.Options{Clock: a.Clock, PublicURL: base, ReturnURL: a.Config.PublicURL + "/accounts/hosted-return"})
	a.mux.Handle(SandboxPrefix+"/", http.StripPrefix(SandboxPrefix, a.Sandbox.Handler()))
	c, err := unipile.New(unipile.Options{BaseURL: "http://" + a.listener.Addr().String() + SandboxPrefix, APIKey: a.Sandbox.APIKey(),
		HTTPClient: providerHTTP()})
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
	tasks := a.tasks()
	a.periodic = tasks
	river.AddWorker(workers, &taskWorker{tasks: tasks, db: a.DB, clock: a.Clock, log: a.Logger, hook: a.taskHook})
	river.AddWorker(workers, &dispatchWorker{dispatch: a.Sender.Dispatch})
	q, err := jobs.New(jobs.Options{DB: a.DB, Workers: workers, PeriodicJobs: periodicJobs(tasks),
		StartupJobs: startupJobs(tasks), RescueStuckJobsAfter: rescueAfter(tasks),
		MaxWorkers: a.Config.Workers, Logger: logging.Routine(a.Logger)})
	if err != nil {
		return err
	}
	a.Queue = q
	return nil
}

// Addr is the address the process listens on ("" for a worker).
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Run serves HTTP and runs workers until ctx ends, then stops gracefully.
func (a *App) Run(ctx context.Context) error {
	if a.workerOnly {
		return a.runWorker(ctx)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if a.queueUI != nil {
		// Its caches run until ctx ends; it must start before it serves.
		if err := a.queueUI.Start(ctx); err != nil {
			return fmt.Errorf("starting the queue UI: %w", err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	if a.Sandbox != nil {
		if err := a.seedSandbox(ctx); err != nil {
			_ = srv.Close()
			return fmt.Errorf("preparing sandbox data: %w", err)
		}
	}
	noUsers := false
	if a.Sandbox == nil {
		users, err := user.Count(ctx, a.DB.SQL)
		noUsers = err == nil && users == 0
	}
	// Unipile must know where to send account, relation and message events;
	// a failure here is logged, not fatal, and the next start tries again.
	if err := webhook.EnsureWebhooks(ctx, a.Provider, a.Config.PublicURL, a.WebhookSecret); err != nil {
		a.Logger.Warn("registering Unipile webhooks", "error", err)
		fmt.Fprintln(a.out, "warning: could not register Unipile webhooks; will retry at next start:", oneLine(err.Error()))
	}
	if err := a.Queue.Start(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	a.logBanner(noUsers)
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

// ResetPasswordCommand is how an operator sets a forgotten password; the
// start-up line names it.
const ResetPasswordCommand = "keel user reset-password --workspace SLUG --email E"

// CreateUserCommand is how an operator creates the first web UI user.
const CreateUserCommand = "keel user create --workspace SLUG --email E"

// logBanner writes the start-up line, one structured line like every
// other (docs/operations.md#logs): where Keel listens, where to sign in,
// and how to reset a password (or, with no user yet, how to create one;
// either command reads the password from standard input).
func (a *App) logBanner(noUsers bool) {
	attrs := []slog.Attr{slog.String("addr", a.Addr()), slog.String("engine", string(a.DB.Engine)),
		slog.String("sign_in", a.Config.PublicURL+"/login"), slog.String("reset_password", ResetPasswordCommand)}
	if noUsers {
		attrs = append(attrs, slog.String("create_user", CreateUserCommand))
	}
	if a.DB.Pool != nil {
		attrs = append(attrs, slog.Int("db_pool", int(a.DB.Pool.Config().MaxConns)))
	}
	a.Logger.LogAttrs(context.Background(), slog.LevelInfo, "Keel is listening", attrs...)
}

// runWorker runs the job queue only, until ctx ends.
func (a *App) runWorker(ctx context.Context) error {
	if err := a.Queue.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Keel worker running %d job workers (database: %s)\n", a.Config.Workers, a.DB.Engine)
	attrs := []any{"workers", a.Config.Workers, "engine", string(a.DB.Engine)}
	if a.DB.Pool != nil {
		// How many connections this process may hold (docs/operations.md#connections).
		attrs = append(attrs, "db_pool", int(a.DB.Pool.Config().MaxConns))
	}
	a.Logger.Info("worker running", attrs...)
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	return a.Queue.Stop(stopCtx)
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

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func randomSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
