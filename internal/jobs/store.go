package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
)

// AcquireTask takes task's lease for owner at now, for timing.HeldLease,
// creating its row on first use, unless a live lease of another pass holds
// it. It records the start of a pass and reports whether owner may run it.
func AcquireTask(ctx context.Context, d *db.DB, task, owner string, timing PeriodicTiming, now time.Time) (bool, error) {
	now = clock.Normalize(now)
	until := clock.Normalize(now.Add(timing.HeldLease()))
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

// RenewTask extends owner's lease of task, taken at started, to
// timing.HeldLease after now — never past started plus timing.Lease, so a
// pass stuck past its timeout still loses the lease on time. It reports
// whether owner still held the lease (it may have expired and gone to
// another pass, which keeps it).
func RenewTask(ctx context.Context, d *db.DB, task, owner string, timing PeriodicTiming, started, now time.Time) (bool, error) {
	until := clock.Normalize(now.Add(timing.HeldLease()))
	if last := clock.Normalize(started.Add(timing.Lease())); until.After(last) {
		until = last
	}
	res, err := d.SQL.ExecContext(ctx, `UPDATE periodic_task_runs SET lease_until = $3
		WHERE task = $1 AND lease_owner = $2 AND lease_until > $4`, task, owner, until, clock.Normalize(now))
	if err != nil {
		return false, fmt.Errorf("extending the lease of periodic task %s: %w", task, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("extending the lease of periodic task %s: %w", task, err)
	}
	return n == 1, nil
}

// FinishTask ends owner's pass of task at now: a nil runErr records a
// completed pass, anything else its error. The lease is given back if owner
// still holds it (it may have expired and gone to another pass).
func FinishTask(ctx context.Context, d *db.DB, task, owner string, now time.Time, runErr error) error {
	var finished, msg any = clock.Normalize(now), nil
	if runErr != nil {
		// Cut on a character boundary: PostgreSQL refuses invalid UTF-8.
		finished, msg = nil, strings.ToValidUTF8(truncate(runErr.Error(), maxTaskError), "")
	}
	if _, err := d.SQL.ExecContext(ctx, `UPDATE periodic_task_runs
		SET last_finished_at = COALESCE($3, last_finished_at), last_error = $4,
			lease_until = CASE WHEN lease_owner = $2 THEN NULL ELSE lease_until END,
			lease_owner = CASE WHEN lease_owner = $2 THEN NULL ELSE lease_owner END
		WHERE task = $1`, task, owner, finished, msg); err != nil {
		return fmt.Errorf("recording the end of periodic task %s: %w", task, err)
	}
	return nil
}

// maxTaskError bounds the error text a heartbeat keeps.
const maxTaskError = 500

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// taskRunColumns and scanTaskRun read one heartbeat row.
const taskRunColumns = `task, every_ms, created_at, last_started_at, last_finished_at, COALESCE(last_error, ''), lease_until`

func scanTaskRun(row interface{ Scan(...any) error }) (TaskRun, error) {
	var r TaskRun
	var everyMS int64
	var created, started, finished, lease db.NullTime
	if err := row.Scan(&r.Task, &everyMS, &created, &started, &finished, &r.LastError, &lease); err != nil {
		return TaskRun{}, err
	}
	r.Every = time.Duration(everyMS) * time.Millisecond
	r.CreatedAt, r.LastStartedAt, r.LastFinishedAt, r.LeaseUntil = created.Time, started.Time, finished.Time, lease.Time
	return r, nil
}

// TaskRuns reads every task's heartbeat row, by task.
func TaskRuns(ctx context.Context, q db.Querier) (map[string]TaskRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+taskRunColumns+` FROM periodic_task_runs`)
	if err != nil {
		return nil, fmt.Errorf("reading periodic task heartbeats: %w", err)
	}
	defer rows.Close()
	out := map[string]TaskRun{}
	for rows.Next() {
		r, err := scanTaskRun(rows)
		if err != nil {
			return nil, fmt.Errorf("reading periodic task heartbeats: %w", err)
		}
		out[r.Task] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading periodic task heartbeats: %w", err)
	}
	return out, nil
}

// TaskRunOf reads one task's heartbeat row (nil if the task never started).
func TaskRunOf(ctx context.Context, q db.Querier, task string) (*TaskRun, error) {
	r, err := scanTaskRun(q.QueryRowContext(ctx, `SELECT `+taskRunColumns+` FROM periodic_task_runs WHERE task = $1`, task))
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the heartbeat of periodic task %s: %w", task, err)
	}
	return &r, nil
}

// QueueDepth counts the job queue's jobs by state, plus one row "all", for
// the metrics scrape.
func QueueDepth(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 1, `SELECT state, count(*) FROM river_job GROUP BY state UNION ALL SELECT 'all', count(*) FROM river_job`)
	if err != nil {
		return nil, fmt.Errorf("counting queued jobs: %w", err)
	}
	return out, nil
}
