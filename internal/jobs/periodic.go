package jobs

import (
	"time"
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

// Lease is how long a pass may hold its task: its timeout plus a sixth, so
// a pass whose context was canceled has time to unwind and give the lease
// back itself. Only a pass whose process died lets it expire.
func (p PeriodicTiming) Lease() time.Duration { return p.Timeout + p.Timeout/6 }

// LeaseHeartbeat is how often a running pass extends its lease
// (RenewTask): a long task's lease is taken and extended HeldLease at a
// time, so the lease of a pass whose process died runs out within
// HeldLease instead of the whole Lease (docs/operations.md#periodic-work).
const LeaseHeartbeat = 10 * time.Second

// HeldLease is how far ahead of now a pass's lease reaches when it is
// taken or extended: three heartbeats, or the whole Lease when that is
// shorter (a short task's pass ends before it would need extending).
func (p PeriodicTiming) HeldLease() time.Duration { return min(p.Lease(), 3*LeaseHeartbeat) }

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
