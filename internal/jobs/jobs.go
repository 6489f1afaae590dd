// Package jobs runs Keel's background work on River, on either engine:
// River's database/sql driver for PostgreSQL and its SQLite driver for the
// embedded default. Both take *sql.Tx, so jobs can be enqueued inside the
// same transactions as the changes that cause them.
//
// On PostgreSQL the queue is woken by notifications rather than by polling
// alone (docs/operations.md#job-queue): an insert's pg_notify is part of
// the enqueueing transaction, so it is delivered when (and only if) that
// transaction commits, and a pgx LISTEN connection taken from the same pool
// that serves database/sql hands it to the workers. Every query, inserts
// included, still goes through database/sql.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"riverqueue.com/riverui"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
)

// DefaultPollInterval is how often workers look for new jobs when nothing
// wakes them: SQLite has no notifications, and on PostgreSQL polling is
// the fallback should a notification be missed (a LISTEN connection being
// re-established).
const DefaultPollInterval = time.Second

// driver is River's driver for d. With listen set, a PostgreSQL driver also
// listens for notifications on a connection of d's pgx pool (one
// connection per working queue, taken out of the pool for good; the pool
// opens another in its place).
func driver(d *db.DB, listen bool) riverdriver.Driver[*sql.Tx] {
	if d.Engine == db.Postgres {
		if listen && d.Pool != nil {
			return riverdatabasesql.NewWithPgxListener(d.SQL, d.Pool)
		}
		return riverdatabasesql.New(d.SQL)
	}
	return riversqlite.New(d.SQL)
}

// Migrate applies River's own schema migrations (idempotent).
func Migrate(ctx context.Context, d *db.DB) error {
	m, err := rivermigrate.New(driver(d, false), nil)
	if err != nil {
		return fmt.Errorf("preparing job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating job queue: %w", err)
	}
	return nil
}

// Options configures a Queue.
type Options struct {
	DB *db.DB
	// Workers holds the job workers; nil makes an insert-only queue.
	Workers *river.Workers
	// PeriodicJobs are scheduled by the elected leader process.
	PeriodicJobs []*river.PeriodicJob
	// StartupJobs are inserted each time a working queue starts, whether or
	// not this process leads: after a crash, leadership stays with the dead
	// process for River's leader TTL, and periodic work should not wait
	// for it.
	StartupJobs []river.InsertManyParams
	// RescueStuckJobsAfter is how long a job may stay running before River
	// takes it for dead (retried, or discarded at its last attempt); it must
	// exceed every worker's timeout. Zero keeps River's default (an hour).
	RescueStuckJobsAfter time.Duration
	// MaxWorkers is the number of concurrent jobs in this process; 0 makes
	// an insert-only queue (KEEL_WORKERS=0).
	MaxWorkers int
	// PollInterval overrides DefaultPollInterval.
	PollInterval time.Duration
	// PollOnly keeps a PostgreSQL queue from listening for notifications:
	// it finds new jobs only by polling. For a connection pooler that
	// cannot hold a LISTEN (PgBouncer in transaction mode), and for the
	// pickup-latency benchmark's comparison.
	PollOnly bool
	// StopGrace is how long a stop — Stop, or the end of the context given
	// to Start — lets running jobs finish before their contexts are
	// canceled. Zero means DefaultStopGrace. A dispatch canceled mid-call
	// cannot know whether Unipile acted, and its send waits for a person
	// (docs/operations.md#stopping-a-process); a call takes well under a
	// second, so a short grace saves nearly every one.
	StopGrace time.Duration
	Logger    *slog.Logger
}

// DefaultStopGrace is Options.StopGrace's default: shorter than the
// process's own shutdown bound, so jobs are canceled (and their outcomes
// recorded) before the process exits.
const DefaultStopGrace = 15 * time.Second

// Queue is River bound to Keel's database.
type Queue struct {
	client  *river.Client[*sql.Tx]
	engine  db.Engine
	working bool
	startup []river.InsertManyParams
	running atomic.Bool
}

// New builds a queue; Start runs its workers.
func New(opts Options) (*Queue, error) {
	if opts.DB == nil {
		return nil, errors.New("jobs: DB is required")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	working := opts.Workers != nil && opts.MaxWorkers > 0
	// Only a working queue listens: an insert-only one has nothing to wake
	// (its inserts still notify, in their transactions). SQLite's driver
	// runs in one process with one connection and is left to poll.
	listen := working && !opts.PollOnly && opts.DB.Engine == db.Postgres
	// Without a soft-stop timeout, River treats the end of Start's context
	// (SIGTERM) as a hard stop and cancels running jobs at once.
	cfg := &river.Config{Logger: opts.Logger, PollOnly: !listen, FetchPollInterval: opts.PollInterval,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter, SoftStopTimeout: opts.StopGrace}
	if working {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.MaxWorkers}}
		cfg.PeriodicJobs = opts.PeriodicJobs
	}
	client, err := river.NewClient(driver(opts.DB, listen), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating job queue client: %w", err)
	}
	q := &Queue{client: client, engine: opts.DB.Engine, working: working}
	if working {
		q.startup = opts.StartupJobs
	}
	return q, nil
}

// Client exposes River for enqueueing.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// Start runs the workers (a no-op for an insert-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		q.running.Store(true)
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("starting job queue: %w", err)
	}
	if len(q.startup) > 0 {
		if _, err := q.client.InsertMany(ctx, q.startup); err != nil {
			return fmt.Errorf("inserting start-up jobs: %w", err)
		}
	}
	q.running.Store(true)
	return nil
}

// Stop waits for running jobs to finish (or ctx to end).
func (q *Queue) Stop(ctx context.Context) error {
	q.running.Store(false)
	if !q.working {
		return nil
	}
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("stopping job queue: %w", err)
	}
	return nil
}

// Running reports whether Start succeeded and Stop has not been called;
// readiness uses it.
func (q *Queue) Running() bool { return q.running.Load() }

// UIPrefix is where River's web UI is mounted (docs/operations.md#job-queue).
const UIPrefix = "/riverui"

// UI builds River's web UI and its JSON API over this queue, to be served
// under UIPrefix; the caller guards who may reach it and starts it (its
// caches run until Start's context ends). It is offered on PostgreSQL only.
func (q *Queue) UI(logger *slog.Logger) (*riverui.Handler, error) {
	if q.engine != db.Postgres {
		return nil, errors.New("jobs: the queue UI needs PostgreSQL")
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(q.client, nil),
		Logger: logging.OrDiscard(logger), Prefix: UIPrefix})
	if err != nil {
		return nil, fmt.Errorf("building the queue UI: %w", err)
	}
	return h, nil
}
