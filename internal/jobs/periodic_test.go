package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/jobs"
)

var t0 = time.Date(2026, 3, 2, 14, 2, 0, 0, time.UTC)

// TestTaskLease: one pass holds a task at a time, on both engines; a pass
// that never finishes (its process died) holds it only until its lease
// expires; a pass that outlived its lease records its completion but does
// not release its successor's lease.
func TestTaskLease(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		timing := jobs.TimingFor(2 * time.Second)
		acquire := func(owner string, at time.Time) bool {
			t.Helper()
			ok, err := jobs.AcquireTask(ctx, d, "campaign_scheduler", owner, timing, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire("job 1", t0) {
			t.Fatal("the first pass did not get the lease")
		}
		if acquire("job 2", t0.Add(timing.Lease()-time.Millisecond)) {
			t.Fatal("a second pass got the lease while the first still held it")
		}
		// Job 1's process died: its lease expires.
		expired := t0.Add(timing.Lease())
		if !acquire("job 3", expired) {
			t.Fatal("the lease of a dead pass did not expire")
		}
		// Job 1 was only slow after all: its completion counts, the lease
		// stays job 3's.
		if err := jobs.FinishTask(ctx, d, "campaign_scheduler", "job 1", expired.Add(time.Millisecond), nil); err != nil {
			t.Fatal(err)
		}
		run, err := jobs.TaskRunOf(ctx, d.SQL, "campaign_scheduler")
		if err != nil || run == nil {
			t.Fatalf("heartbeat: %+v %v", run, err)
		}
		if !run.LastFinishedAt.Equal(expired.Add(time.Millisecond)) || !run.LeaseUntil.Equal(expired.Add(timing.Lease())) {
			t.Fatalf("after a late finish: %+v", run)
		}
		if run.Every != 2*time.Second || !run.CreatedAt.Equal(t0) || !run.LastStartedAt.Equal(expired) {
			t.Fatalf("heartbeat row: %+v", run)
		}
		if acquire("job 4", expired.Add(time.Second)) {
			t.Fatal("job 1's finish released job 3's lease")
		}
		// A failed pass gives the lease back but is no completed pass.
		if err := jobs.FinishTask(ctx, d, "campaign_scheduler", "job 3", expired.Add(2*time.Second), errors.New("boom")); err != nil {
			t.Fatal(err)
		}
		if run, _ = jobs.TaskRunOf(ctx, d.SQL, "campaign_scheduler"); !run.LeaseUntil.IsZero() || run.LastError != "boom" ||
			!run.LastFinishedAt.Equal(expired.Add(time.Millisecond)) {
			t.Fatalf("after a failed pass: %+v", run)
		}
		if !acquire("job 5", expired.Add(2*time.Second)) {
			t.Fatal("a released lease was not taken")
		}
		if err := jobs.FinishTask(ctx, d, "campaign_scheduler", "job 5", expired.Add(3*time.Second), nil); err != nil {
			t.Fatal(err)
		}
		runs, err := jobs.TaskRuns(ctx, d.SQL)
		if err != nil {
			t.Fatal(err)
		}
		if r := runs["campaign_scheduler"]; !r.LeaseUntil.IsZero() || r.LastError != "" || !r.LastFinishedAt.Equal(expired.Add(3*time.Second)) {
			t.Fatalf("after a completed pass: %+v", r)
		}
	})
}

// TestTaskRunRules: raw SQL cannot write a heartbeat row that contradicts
// itself, on either engine.
func TestTaskRunRules(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.SQL.ExecContext(ctx, `INSERT INTO periodic_task_runs (task, every_ms, created_at) VALUES ('ok_task', 1000, $1)`, t0); err != nil {
			t.Fatal(err)
		}
		later := t0.Add(time.Minute)
		attacks := map[string]struct {
			q    string
			args []any
		}{
			"periodic_task_runs_lease_chk":         {`UPDATE periodic_task_runs SET last_started_at = $1, lease_owner = 'x' WHERE task = 'ok_task'`, []any{later}},
			"periodic_task_runs_lease_owner_chk":   {`UPDATE periodic_task_runs SET last_started_at = $1, lease_owner = '', lease_until = $2 WHERE task = 'ok_task'`, []any{later, later.Add(time.Second)}},
			"periodic_task_runs_lease_started_chk": {`UPDATE periodic_task_runs SET last_started_at = $1, lease_owner = 'x', lease_until = $1 WHERE task = 'ok_task'`, []any{later}},
			"periodic_task_runs_finished_chk":      {`UPDATE periodic_task_runs SET last_finished_at = $1 WHERE task = 'ok_task'`, []any{later}},
			"periodic_task_runs_every_chk":         {`UPDATE periodic_task_runs SET every_ms = 0 WHERE task = 'ok_task'`, nil},
			"periodic_task_runs_task_chk":          {`INSERT INTO periodic_task_runs (task, every_ms, created_at) VALUES ('Bad task', 1000, $1)`, []any{t0}},
		}
		for name, a := range attacks {
			_, err := d.SQL.ExecContext(ctx, a.q, a.args...)
			if !db.ViolatesConstraint(err, name) {
				t.Errorf("%s: got %v, want a refusal naming %s", a.q, err, name)
			}
		}
		if _, err := d.SQL.ExecContext(ctx, `INSERT INTO periodic_task_runs (task, every_ms, created_at) VALUES ('', 1000, $1)`, t0); !db.ViolatesConstraint(err, "periodic_task_runs_task_chk") {
			t.Errorf("empty task name: %v", err)
		}
	})
}

// TestStalled: a task is stalled after three intervals without a completed
// pass (longer where a dead pass's lease would otherwise read as a stall),
// never on a fresh installation, and never before a just-started process
// has had its intervals.
func TestStalled(t *testing.T) {
	t.Parallel()
	timing := jobs.TimingFor(time.Minute)
	done := &jobs.TaskRun{Task: "campaign_scheduler", Every: time.Minute, CreatedAt: t0.Add(-time.Hour), LastFinishedAt: t0}
	neverDone := &jobs.TaskRun{Task: "campaign_scheduler", Every: time.Minute, CreatedAt: t0, LastStartedAt: t0}
	cases := []struct {
		name    string
		run     *jobs.TaskRun
		timing  jobs.PeriodicTiming
		watched time.Time
		now     time.Time
		stale   bool
	}{
		{"fresh install, nothing known", nil, timing, time.Time{}, t0.Add(time.Hour), false},
		{"fresh process, within three intervals", nil, timing, t0, t0.Add(3 * time.Minute), false},
		{"no pass ever, three intervals after the process started", nil, timing, t0, t0.Add(3*time.Minute + time.Second), true},
		{"completed three intervals ago", done, timing, time.Time{}, t0.Add(3 * time.Minute), false},
		{"completed over three intervals ago", done, timing, time.Time{}, t0.Add(3*time.Minute + time.Second), true},
		{"process restarted after a long stop", done, timing, t0.Add(24 * time.Hour), t0.Add(24*time.Hour + time.Minute), false},
		{"first pass hangs", neverDone, timing, time.Time{}, t0.Add(3*time.Minute + time.Second), true},
		{"long timeout: a dead pass's lease is not a stall",
			done, jobs.PeriodicTiming{Every: 30 * time.Second, Timeout: 4 * time.Minute}, time.Time{}, t0.Add(5 * time.Minute), false},
		{"long timeout: stalled past lease and two intervals",
			done, jobs.PeriodicTiming{Every: 30 * time.Second, Timeout: 4 * time.Minute}, time.Time{}, t0.Add(5*time.Minute + 41*time.Second), true},
	}
	for _, c := range cases {
		got := jobs.Stalled(c.run, c.timing, c.watched, c.now)
		if got.Stale != c.stale {
			t.Errorf("%s: stale = %v, want %v (%+v)", c.name, got.Stale, c.stale, got)
		}
	}
}

// TestTimingFor: a pass ends, and a dead pass's lease expires, before the
// next interval's pass is due.
func TestTimingFor(t *testing.T) {
	t.Parallel()
	for _, every := range []time.Duration{time.Second, 2 * time.Second, 15 * time.Second, time.Minute, 30 * time.Minute} {
		p := jobs.TimingFor(every)
		if !(p.Timeout < p.Lease() && p.Lease() < every) {
			t.Errorf("every %v: timeout %v, lease %v", every, p.Timeout, p.Lease())
		}
		if p.StaleAfter() != 3*every {
			t.Errorf("every %v: stale after %v", every, p.StaleAfter())
		}
	}
}

// TestLongTaskLeaseIsHeldByHeartbeat: a 5-minute task's pass takes its
// lease for three heartbeats, not its whole 4⅜-minute Lease; renewing
// extends it for its owner only and never past the start plus Lease; a
// pass whose process died (no renewal) loses it after HeldLease
// (docs/operations.md#periodic-work).
func TestLongTaskLeaseIsHeldByHeartbeat(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		timing := jobs.TimingFor(5 * time.Minute)
		if timing.HeldLease() != 3*jobs.LeaseHeartbeat || timing.HeldLease() >= timing.Lease() {
			t.Fatalf("held lease %v, lease %v", timing.HeldLease(), timing.Lease())
		}
		if short := jobs.TimingFor(time.Second); short.HeldLease() != short.Lease() {
			t.Fatalf("a 1 s task holds %v of its %v lease", short.HeldLease(), short.Lease())
		}
		const task = "reconcile_unknown"
		acquire := func(owner string, at time.Time) bool {
			t.Helper()
			ok, err := jobs.AcquireTask(ctx, d, task, owner, timing, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		renew := func(owner string, started, at time.Time) bool {
			t.Helper()
			ok, err := jobs.RenewTask(ctx, d, task, owner, timing, started, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		leaseUntil := func() time.Time {
			t.Helper()
			run, err := jobs.TaskRunOf(ctx, d.SQL, task)
			if err != nil || run == nil {
				t.Fatalf("heartbeat row: %+v %v", run, err)
			}
			return run.LeaseUntil
		}
		if !acquire("job 1", t0) || !leaseUntil().Equal(t0.Add(timing.HeldLease())) {
			t.Fatalf("the first pass's lease: until %v", leaseUntil())
		}
		// A live pass renews every heartbeat: nobody else gets the task.
		at := t0
		for i := 0; i < 6; i++ {
			at = at.Add(jobs.LeaseHeartbeat)
			if !renew("job 1", t0, at) || !leaseUntil().Equal(at.Add(timing.HeldLease())) {
				t.Fatalf("renewal %d at %v: until %v", i, at, leaseUntil())
			}
			if acquire("job 2", at.Add(time.Second)) {
				t.Fatalf("another pass took a renewed lease at %v", at)
			}
		}
		if renew("job 2", t0, at) {
			t.Fatal("a pass that never held the lease renewed it")
		}
		// A pass stuck past its timeout, renewing on, cannot renew past
		// start + Lease.
		late := t0.Add(timing.Lease() - time.Second)
		for at = at.Add(jobs.LeaseHeartbeat); at.Before(late); at = at.Add(jobs.LeaseHeartbeat) {
			if !renew("job 1", t0, at) {
				t.Fatalf("renewal at %v lost the lease", at)
			}
		}
		if !renew("job 1", t0, late) || !leaseUntil().Equal(t0.Add(timing.Lease())) {
			t.Fatalf("a late renewal: until %v, want the start plus the lease %v", leaseUntil(), t0.Add(timing.Lease()))
		}
		if !acquire("job 3", t0.Add(timing.Lease())) {
			t.Fatal("a stuck pass's lease did not end at the start plus the lease")
		}
		// Job 3's process dies right after taking it: no renewal, and the
		// lease is free a held lease later — not a whole Lease later.
		died := t0.Add(timing.Lease())
		if acquire("job 4", died.Add(timing.HeldLease()-time.Millisecond)) {
			t.Fatal("the dead pass's lease ended early")
		}
		if !acquire("job 4", died.Add(timing.HeldLease())) {
			t.Fatal("the dead pass's lease outlived its held lease")
		}
		if renew("job 3", died, died.Add(timing.HeldLease()+time.Second)) {
			t.Fatal("the dead pass renewed a lease another pass holds")
		}
	})
}
