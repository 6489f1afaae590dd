package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
)

// TaskCampaignScheduler is the periodic task that runs campaign scheduler
// passes; the campaign diagnosis reads its heartbeat.
const TaskCampaignScheduler = "campaign_scheduler"

// StaleIntervals is how many of its intervals a task may go without
// completing a pass before readiness and the diagnosis call it stalled.
const StaleIntervals = 3

// PeriodicTiming is how one periodic task is run. See docs/operations.md
// ("Periodic work") for why the numbers relate as they do.
type PeriodicTiming struct {
	// Every is how often a pass is scheduled.
	Every time.Duration
	// Timeout bounds one pass: its context ends then.
	Timeout time.Duration
}

// TimingFor is the usual timing of a task run every `every`: a pass may
// take three quarters of its interval, so a pass cut short has ended before
// the next one is due, and the lease of a pass whose process died expires
// before then too (Lease).
func TimingFor(every time.Duration) PeriodicTiming {
	return PeriodicTiming{Every: every, Timeout: every * 3 / 4}
}

// Lease is how long a pass holds its task: its timeout plus a sixth, so a
// pass whose context was canceled has time to unwind and give the lease
// back itself. Only a pass whose process died lets it expire.
func (p PeriodicTiming) Lease() time.Duration { return p.Timeout + p.Timeout/6 }

// StaleAfter is how long the task may go without a completed pass before it
// counts as stalled: StaleIntervals intervals, or longer where a dead pass's
// lease plus two intervals is longer, so that one crash alone never reads
// as a stall.
func (p PeriodicTiming) StaleAfter() time.Duration {
	return max(StaleIntervals*p.Every, p.Lease()+2*p.Every)
}

// TaskRun is a periodic task's heartbeat row.
type TaskRun struct {
	Task           string
	Every          time.Duration
	CreatedAt      time.Time
	LastStartedAt  time.Time // zero if no pass started
	LastFinishedAt time.Time // zero if no pass completed
	LastError      string
	LeaseUntil     time.Time // zero when no pass holds the task
}

// AcquireTask takes task's lease for owner at now, creating its row on
// first use, unless a live lease of another pass holds it. It records the
// start of a pass and reports whether owner may run it.
func AcquireTask(ctx context.Context, d *db.DB, task, owner string, timing PeriodicTiming, now time.Time) (bool, error) {
	now = clock.Normalize(now)
	until := clock.Normalize(now.Add(timing.Lease()))
	res, err := d.SQL.ExecContext(ctx, `INSERT INTO periodic_task_runs
			(task, every_ms, created_at, last_started_at, lease_owner, lease_until)
		VALUES ($1, $2, $3, $3, $4, $5)
		ON CONFLICT (task) DO UPDATE SET every_ms = excluded.every_ms, last_started_at = excluded.last_started_at,
			lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
		WHERE periodic_task_runs.lease_until IS NULL OR periodic_task_runs.lease_until <= excluded.last_started_at`,
		task, timing.Every.Milliseconds(), now, owner, until)
	if err != nil {
		return false, fmt.Errorf("taking the lease of periodic task %s: %w", task, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("taking the lease of periodic task %s: %w", task, err)
	}
	return n == 1, nil
}

// FinishTask ends owner's pass of task at now: a nil runErr records a
// completed pass, anything else its error. The lease is given back if owner
// still holds it (it may have expired and gone to another pass).
func FinishTask(ctx context.Context, d *db.DB, task, owner string, now time.Time, runErr error) error {
	now = clock.Normalize(now)
	var err error
	if runErr == nil {
		_, err = d.SQL.ExecContext(ctx, `UPDATE periodic_task_runs SET last_finished_at = $3, last_error = NULL,
				lease_until = CASE WHEN lease_owner = $2 THEN NULL ELSE lease_until END,
				lease_owner = CASE WHEN lease_owner = $2 THEN NULL ELSE lease_owner END
			WHERE task = $1`, task, owner, now)
	} else {
		msg := runErr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err = d.SQL.ExecContext(ctx, `UPDATE periodic_task_runs SET last_error = $3,
				lease_until = CASE WHEN lease_owner = $2 THEN NULL ELSE lease_until END,
				lease_owner = CASE WHEN lease_owner = $2 THEN NULL ELSE lease_owner END
			WHERE task = $1`, task, owner, msg)
	}
	if err != nil {
		return fmt.Errorf("recording the end of periodic task %s: %w", task, err)
	}
	return nil
}

// TaskLeaseUntil is when the lease on task ends (zero when none is held).
func TaskLeaseUntil(ctx context.Context, q db.Querier, task string) (time.Time, error) {
	var until db.NullTime
	err := q.QueryRowContext(ctx, `SELECT lease_until FROM periodic_task_runs WHERE task = $1`, task).Scan(&until)
	if err != nil && !db.IsNoRows(err) {
		return time.Time{}, fmt.Errorf("reading the lease of periodic task %s: %w", task, err)
	}
	return until.Time, nil
}

// TaskRuns reads every task's heartbeat row, by task.
func TaskRuns(ctx context.Context, q db.Querier) (map[string]TaskRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT task, every_ms, created_at, last_started_at, last_finished_at,
		COALESCE(last_error, ''), lease_until FROM periodic_task_runs`)
	if err != nil {
		return nil, fmt.Errorf("reading periodic task heartbeats: %w", err)
	}
	defer rows.Close()
	out := map[string]TaskRun{}
	for rows.Next() {
		var r TaskRun
		var everyMS int64
		var created, started, finished, lease db.NullTime
		if err := rows.Scan(&r.Task, &everyMS, &created, &started, &finished, &r.LastError, &lease); err != nil {
			return nil, fmt.Errorf("reading periodic task heartbeats: %w", err)
		}
		r.Every = time.Duration(everyMS) * time.Millisecond
		r.CreatedAt, r.LastStartedAt, r.LastFinishedAt, r.LeaseUntil = created.Time, started.Time, finished.Time, lease.Time
		out[r.Task] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading periodic task heartbeats: %w", err)
	}
	return out, nil
}

// TaskRunOf reads one task's heartbeat row (nil if the task never started).
func TaskRunOf(ctx context.Context, q db.Querier, task string) (*TaskRun, error) {
	var r TaskRun
	var everyMS int64
	var created, started, finished, lease db.NullTime
	err := q.QueryRowContext(ctx, `SELECT task, every_ms, created_at, last_started_at, last_finished_at,
		COALESCE(last_error, ''), lease_until FROM periodic_task_runs WHERE task = $1`, task).
		Scan(&r.Task, &everyMS, &created, &started, &finished, &r.LastError, &lease)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the heartbeat of periodic task %s: %w", task, err)
	}
	r.Every = time.Duration(everyMS) * time.Millisecond
	r.CreatedAt, r.LastStartedAt, r.LastFinishedAt, r.LeaseUntil = created.Time, started.Time, finished.Time, lease.Time
	return &r, nil
}

// Staleness says whether a task has gone too long without a completed pass.
type Staleness struct {
	Stale bool
	// Since is what the wait is counted from: the last completed pass, or
	// when passes began to be expected if none completed since.
	Since time.Time
	// LastCompleted is the last completed pass (zero if none ever did).
	LastCompleted time.Time
}

// Stalled judges a task at now. run is its heartbeat row (nil if the task
// never started anywhere); watchedSince is when the caller began expecting
// passes (its process's start), or zero when it cannot say. Without a row
// and without watchedSince nothing is known, so nothing is stale: a fresh
// installation is not stalled.
func Stalled(run *TaskRun, timing PeriodicTiming, watchedSince, now time.Time) Staleness {
	var s Staleness
	switch {
	case run != nil && !run.LastFinishedAt.IsZero():
		s.Since, s.LastCompleted = run.LastFinishedAt, run.LastFinishedAt
	case run != nil:
		s.Since = run.CreatedAt
	}
	// A process that only just started has not had the time to run the
	// task, whatever happened before it started.
	if watchedSince.After(s.Since) {
		s.Since = watchedSince
	}
	if s.Since.IsZero() {
		return s
	}
	s.Stale = now.Sub(s.Since) > timing.StaleAfter()
	return s
}
