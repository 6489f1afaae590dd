package jobs_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
)

// stopArgs is the stop test's job: it runs until released or canceled.
type stopArgs struct{}

func (stopArgs) Kind() string { return "test_stop" }

type stopWorker struct {
	river.WorkerDefaults[stopArgs]
	started  chan struct{}
	release  chan struct{}
	canceled chan struct{}
}

func (w *stopWorker) Work(ctx context.Context, _ *river.Job[stopArgs]) error {
	close(w.started)
	select {
	case <-w.release:
		return nil
	case <-ctx.Done():
		close(w.canceled)
		return ctx.Err()
	}
}

// TestStopLetsRunningJobsFinish: the end of the context given to Start —
// what SIGTERM does to a process — stops fetching but lets a running job
// finish (a dispatch mid-call would otherwise lose its answer and wait for
// a person); only past StopGrace is its context canceled
// (docs/operations.md#stopping-a-process).
func TestStopLetsRunningJobsFinish(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		grace      time.Duration
		release    bool
		wantCancel bool
	}{
		{"RunningJobFinishesAfterTheSignal", time.Minute, true, false},
		{"RunningJobIsCanceledPastTheGrace", 200 * time.Millisecond, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := dbtest.Open(t, db.Postgres, dbtest.Options{})
			if err := jobs.Migrate(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			w := &stopWorker{started: make(chan struct{}), release: make(chan struct{}), canceled: make(chan struct{})}
			workers := river.NewWorkers()
			river.AddWorker(workers, w)
			q, err := jobs.New(jobs.Options{DB: d, Workers: workers, MaxWorkers: 2, PollInterval: 200 * time.Millisecond,
				StopGrace: tc.grace, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			runCtx, signal := context.WithCancel(context.Background())
			if err := q.Start(runCtx); err != nil {
				t.Fatal(err)
			}
			if err := d.InTx(context.Background(), func(tx *sql.Tx) error {
				_, err := q.Client().InsertTx(context.Background(), tx, stopArgs{}, nil)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			deadline := time.After(time.Minute)
			select {
			case <-w.started:
			case <-deadline:
				t.Fatal("the job never started")
			}
			signal()
			if tc.release {
				// Canceled at once (the old behaviour) would show here first.
				select {
				case <-w.canceled:
					t.Fatal("the running job was canceled by the signal")
				case <-time.After(300 * time.Millisecond):
				}
				close(w.release)
			}
			stopped := make(chan error, 1)
			go func() { stopped <- q.Stop(context.Background()) }()
			select {
			case err := <-stopped:
				if err != nil {
					t.Fatal(err)
				}
			case <-deadline:
				t.Fatal("the queue did not stop")
			}
			select {
			case <-w.canceled:
				if !tc.wantCancel {
					t.Fatal("the job was canceled")
				}
			default:
				if tc.wantCancel {
					t.Fatal("the job outlived the grace without being canceled")
				}
			}
			var state string
			if err := d.SQL.QueryRow(`SELECT state FROM river_job WHERE kind = 'test_stop'`).Scan(&state); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: "completed", false: "retryable"}[tc.release]; state != want && !(tc.wantCancel && state == "available") {
				t.Fatalf("job state %q, want %q", state, want)
			}
		})
	}
}
