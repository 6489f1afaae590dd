package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
)

// TestNotifiedQueueKeepsTransactionalEnqueue: on PostgreSQL a job enqueued
// in a database/sql transaction reaches a worker through the notification
// its commit delivers, long before the next poll; a job enqueued in a
// transaction that rolls back never exists (docs/operations.md#job-queue).
func TestNotifiedQueueKeepsTransactionalEnqueue(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.Postgres, dbtest.Options{})
	ctx := context.Background()
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	started := make(chan time.Time, 4)
	workers := river.NewWorkers()
	river.AddWorker(workers, &pickupWorker{started: started})
	// A poll interval far beyond the test's wait: only a notification
	// can bring the job in time.
	const poll = time.Minute
	q, err := jobs.New(jobs.Options{DB: d, Workers: workers, MaxWorkers: 2, PollInterval: poll,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	enqueue := func() error {
		return d.InTx(ctx, func(tx *sql.Tx) error {
			_, err := q.Client().InsertTx(ctx, tx, pickupArgs{}, nil)
			return err
		})
	}
	// A first job, waited for, gets the producer past its start-up fetch:
	// the later job can then only be found by a notification (or a poll a
	// minute away).
	if err := enqueue(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(poll / 2):
		t.Fatal("the first job was not picked up")
	}

	t.Run("RolledBackEnqueueLeavesNoJob", func(t *testing.T) {
		errUndo := errors.New("undo")
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := q.Client().InsertTx(ctx, tx, pickupArgs{}, nil); err != nil {
				return err
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			t.Fatal(err)
		}
		var n int
		if err := d.SQL.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'bench_pickup'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("jobs after the first and a rolled-back enqueue: %d (want the first only) %v", n, err)
		}
	})
	t.Run("CommittedEnqueueIsPickedUpWithoutPolling", func(t *testing.T) {
		// River sends at most one insert notification per queue per fetch
		// cooldown, and the inserts above (the rolled-back one included)
		// used this one's: past it, the next insert notifies again. This
		// waits out a rate limit, not for work.
		time.Sleep(2 * river.FetchCooldownDefault)
		if err := enqueue(); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		select {
		case at := <-started:
			if wait := at.Sub(committed); wait > poll/2 {
				t.Fatalf("picked up after %v: by polling, not by notification", wait)
			}
		case <-time.After(poll / 2):
			t.Fatal("the committed job was not picked up before the next poll")
		}
	})
}
