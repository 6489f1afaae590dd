// Package jobs runs Keel's background work on River, on either engine:
// River's database/sql driver for PostgreSQL and its SQLite driver for the
// embedded default. Both take *sql.Tx, so jobs can be enqueued inside the
// same transactions as the changes that cause them.
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

	"github.com/keel-outreach/keel/internal/db"
)

// DefaultPollInterval is how often workers look for new jobs; PostgreSQL
// through database/sql has no LISTEN, and SQLite has no notifications.
const DefaultPollInterval = time.Second

func driver(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Engine == db.Postgres {
		return riverdatabasesql.New(d.SQL)
	}
	return riversqlite.New(d.SQL)
}

// Migrate applies River's own schema migrations (idempotent).
func Migrate(ctx context.Context, d *db.DB) error {
	m, err := rivermigrate.New(driver(d), nil)
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
	Logger       *slog.Logger
}

// Queue is River bound to Keel's database.
type Queue struct {
	client  *river.Client[*sql.Tx]
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
	cfg := &river.Config{Logger: opts.Logger, PollOnly: true, FetchPollInterval: opts.PollInterval,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter}
	working := opts.Workers != nil && opts.MaxWorkers > 0
	if working {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.MaxWorkers}}
		cfg.PeriodicJobs = opts.PeriodicJobs
	}
	client, err := river.NewClient(driver(opts.DB), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating job queue client: %w", err)
	}
	q := &Queue{client: client, working: working}
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
