package health_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func TestSweepPeriod(t *testing.T) {
	for interval, want := range map[time.Duration]time.Duration{
		0:                30 * time.Second, // the default interval
		time.Hour:        30 * time.Second,
		time.Minute:      6 * time.Second,
		5 * time.Second:  time.Second,
		30 * time.Second: 3 * time.Second,
	} {
		if got := health.SweepPeriod(health.Config{Interval: interval}); got != want {
			t.Errorf("SweepPeriod(interval %v) = %v, want %v", interval, got, want)
		}
	}
	jobs := health.PeriodicJobs(health.Config{})
	if len(jobs) != 1 {
		t.Fatalf("%d periodic jobs, want 1", len(jobs))
	}
	if (health.SweepArgs{}).Kind() != "health_sweep" {
		t.Fatalf("kind %q", (health.SweepArgs{}).Kind())
	}
}

// TestSweepJobOnRiver runs the sweep through a real River client on
// SQLite: the job kind is registered, unique while pending, and its worker
// checks the due accounts.
func TestSweepJobOnRiver(t *testing.T) {
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	e := newEnv(t, d, health.Config{})
	accs := e.addAccounts(3, account.StatusConnected)
	e.flip(accs[0].ID, account.StatusDisconnected, account.TerminalCredentials(), account.SourceWebhook)
	e.runDue() // schedules the accounts over the next interval
	e.clock.Advance(health.DefaultInterval)

	drv := riversqlite.New(d.SQL)
	migrator, err := rivermigrate.New(drv, nil)
	mustOK(t, err)
	_, err = migrator.Migrate(e.ctx, rivermigrate.DirectionUp, nil)
	mustOK(t, err)
	workers := river.NewWorkers()
	mustOK(t, health.AddWorkers(workers, e.svc))
	client, err := river.NewClient(drv, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:           workers,
		PollOnly:          true,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	mustOK(t, err)

	first, err := client.Insert(e.ctx, health.SweepArgs{}, nil)
	mustOK(t, err)
	second, err := client.Insert(e.ctx, health.SweepArgs{}, nil)
	mustOK(t, err)
	if first.UniqueSkippedAsDuplicate || !second.UniqueSkippedAsDuplicate {
		t.Fatalf("a second sweep was queued beside a pending one (skipped: %v, %v)",
			first.UniqueSkippedAsDuplicate, second.UniqueSkippedAsDuplicate)
	}

	events, unsubscribe := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer unsubscribe()
	mustOK(t, client.Start(e.ctx))
	defer func() { _ = client.Stop(e.ctx) }()
	select {
	case ev := <-events:
		if ev.Kind != river.EventKindJobCompleted || ev.Job.Kind != health.SweepKind {
			t.Fatalf("sweep job ended %s: %v", ev.Kind, ev.Job.Errors)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sweep job did not finish within 30s")
	}
	if n := e.calls(fake.ActionGetAccount, 0); n != 3 {
		t.Fatalf("%d account checks, want 3", n)
	}
	if got := e.get(accs[0].ID); got.Status != account.StatusConnected {
		t.Fatalf("the sweep job did not apply Unipile's OK: %s", got.Status)
	}
	// Once completed, the next period's sweep is not blocked.
	third, err := client.Insert(e.ctx, health.SweepArgs{}, nil)
	mustOK(t, err)
	if third.UniqueSkippedAsDuplicate {
		t.Fatal("a completed sweep blocks the next one")
	}
}
