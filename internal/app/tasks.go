package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/jobs"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
)

// TaskArgs is a periodic housekeeping job: its Task names a registered
// function (webhook inbox, stuck-connecting watcher, campaign scheduler…).
type TaskArgs struct {
	Task string `json:"task"`
	// Startup marks the pass a process inserts as it starts: it waits for a
	// held lease (perhaps a dead pass's) instead of skipping.
	Startup bool `json:"startup,omitempty"`
}

// Kind is the River job kind.
func (TaskArgs) Kind() string { return "keel_task" }

// DispatchArgs asks for one claimed send to be dispatched.
type DispatchArgs struct {
	SendID string `json:"send_id"`
}

// Kind is the River job kind.
func (DispatchArgs) Kind() string { return "send_dispatch" }

// task is one periodic task: how often it runs, how long a pass may take
// (zero: the usual jobs.TimingFor its interval) and what a pass does.
type task struct {
	every   time.Duration
	timeout time.Duration
	run     func(ctx context.Context) error
}

// timing is how the task's passes are timed.
func (t task) timing() jobs.PeriodicTiming {
	if t.timeout <= 0 {
		return jobs.TimingFor(t.every)
	}
	return jobs.PeriodicTiming{Every: t.every, Timeout: t.timeout}
}

// leasePoll is how often a start-up job looks whether a dead pass's lease
// has expired.
const leasePoll = 250 * time.Millisecond

// maxStartupWait bounds how long a start-up job waits for a held lease: it
// holds one of the process's workers meanwhile. A lease that runs longer
// is left to the next interval's pass.
const maxStartupWait = time.Minute

// startupWait is how long a start-up pass of t may wait for its lease.
func (t task) startupWait() time.Duration { return min(t.timing().Lease(), maxStartupWait) }

// tasks are the periodic jobs of a worker process. Unless it says
// otherwise, a pass may take three quarters of its interval (jobs.TimingFor).
func (a *App) tasks() map[string]task {
	tasks := a.workerTasks()
	if a.Sandbox != nil {
		// Demo prospects accept and reply now and then (docs/inbox.md).
		var turn atomic.Int64
		tasks["sandbox_activity"] = task{every: 5 * time.Minute, run: func(ctx context.Context) error {
			a.sandboxActivity(int(turn.Add(1)))
			return nil
		}}
	}
	return tasks
}

// workerTasks are the periodic jobs every worker process runs.
func (a *App) workerTasks() map[string]task {
	return map[string]task{
		// A sweep runs every tenth of the check interval but works through
		// whatever accounts are due, which on a large fleet takes longer
		// than that; so it is bounded by the check interval instead (a
		// sweep cut short hands the accounts it did not check back due).
		"health_sweep": {every: health.SweepPeriod(a.Health.Config()), timeout: a.Health.Config().Interval * 3 / 4, run: func(ctx context.Context) error {
			sum, err := a.Health.RunDue(ctx)
			for outcome, n := range sum.Outcomes {
				a.Metrics.Checks.WithLabelValues(string(outcome)).Add(float64(n))
			}
			return err
		}},
		"webhook_inbox": {every: 30 * time.Second, run: func(ctx context.Context) error {
			_, err := a.Webhooks.ProcessPending(ctx)
			return err
		}},
		// The watch also records abandoned reconnects (docs/accounts.md#failed-reconnects).
		"connecting_watch": {every: time.Minute, run: func(ctx context.Context) error {
			err := a.Connect.WatchConnecting(ctx)
			_, ferr := a.Connect.RecordAbandoned(ctx)
			return errors.Join(err, ferr)
		}},
		"outbound_deliver": {every: 15 * time.Second, run: func(ctx context.Context) error {
			_, err := a.Outbound.DeliverDue(ctx)
			return err
		}},
		jobs.TaskCampaignScheduler: {every: a.Config.SchedulerInterval, run: func(ctx context.Context) error {
			sum, err := a.Sender.RunPass(ctx)
			a.Metrics.Claims.Add(float64(sum.Claimed))
			for gate, n := range sum.Deferrals {
				a.Metrics.Deferrals.WithLabelValues(gate).Add(float64(n))
			}
			return err
		}},
		"send_reconcile": {every: 5 * time.Minute, run: func(ctx context.Context) error {
			if _, err := a.Sender.DispatchPending(ctx); err != nil {
				return err
			}
			_, err := a.Sender.ReconcileUnknown(ctx)
			return err
		}},
		// Every minute, each account in its own minute of ten (send.RelationsPollEvery).
		"relations_poll": {every: time.Minute, run: func(ctx context.Context) error {
			_, err := a.Sender.PollRelations(ctx)
			return err
		}},
		// Each connected account's sent list is read a few times a day,
		// jittered (docs/sending.md#pending-invitations).
		"invitation_sync": {every: 5 * time.Minute, run: func(ctx context.Context) error {
			_, err := a.Sender.SyncInvitations(ctx)
			return err
		}},
		// Each connected account's chats and messages are read once, one
		// request per account per run (docs/inbox.md#backfill).
		"inbox_backfill": {every: time.Minute, run: func(ctx context.Context) error {
			_, err := a.Inbox.Backfill(ctx)
			return err
		}},
		// Where the provider reports an InMail balance, a positive one lifts
		// the credits breaker (docs/sending.md#inmail-credits).
		"inmail_balance_check": {every: 24 * time.Hour, run: func(ctx context.Context) error {
			_, err := a.Sender.CheckInMailBalances(ctx)
			return err
		}},
		"campaign_sweep": {every: 15 * time.Minute, run: func(ctx context.Context) error {
			if err := a.DB.InTx(ctx, func(tx *sql.Tx) error {
				_, err := a.Campaigns.Reconcile(ctx, tx)
				return err
			}); err != nil {
				return err
			}
			// Count deltas piled up by single-row changes are summed
			// (docs/storage.md#enrollment-state-counts,
			// docs/storage.md#enrollment-step-counts,
			// docs/storage.md#campaign-send-counts).
			if err := a.DB.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := a.Campaigns.FoldStateCounts(ctx, tx, ""); err != nil {
					return err
				}
				if _, err := a.Campaigns.FoldStepCounts(ctx, tx, ""); err != nil {
					return err
				}
				_, err := send.FoldSendCounts(ctx, tx, "")
				return err
			}); err != nil {
				return err
			}
			// Senders disconnected past the workspace's hand-off delay
			// give their not-yet-contacted prospects to the campaign's
			// connected senders (docs/campaigns.md#senders); idempotent.
			_, err := a.Campaigns.HandOffStale(ctx)
			return err
		}},
	}
}

// taskWorker runs periodic passes. A pass first takes its task's lease in
// the database (jobs.AcquireTask): a pass whose lease another live pass
// holds ends at once, so passes of one task never overlap, on any number
// of processes; a pass whose process died holds its lease only until it
// expires. River's uniqueness therefore need not (and must not) hold
// across a running job: a job left running by a killed process would block
// every later pass until River's rescuer took it.
type taskWorker struct {
	river.WorkerDefaults[TaskArgs]
	tasks map[string]task
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
	hook  func(ctx context.Context, task string)
}

// Timeout lets a start-up job wait out a dead pass's lease, then run a pass
// bounded by the task's own timeout (which Work applies to the pass).
func (w *taskWorker) Timeout(job *river.Job[TaskArgs]) time.Duration {
	t, ok := w.tasks[job.Args.Task]
	if !ok {
		return 0 // River's default
	}
	return t.jobTimeout()
}

// jobTimeout is the longest a job of t runs: a start-up wait, then a pass.
func (t task) jobTimeout() time.Duration { return t.startupWait() + leasePoll + t.timing().Timeout }

func (w *taskWorker) Work(ctx context.Context, job *river.Job[TaskArgs]) error {
	name := job.Args.Task
	t, ok := w.tasks[name]
	if !ok {
		return fmt.Errorf("unknown task %q", name)
	}
	owner := fmt.Sprintf("job %d", job.ID)
	started := w.clock.Now()
	got, err := jobs.AcquireTask(ctx, w.db, name, owner, t.timing(), started)
	if err == nil && !got && job.Args.Startup {
		got, err = w.waitForLease(ctx, name, owner, t)
	}
	if err != nil {
		return err
	}
	if !got {
		w.log.Debug("periodic task already running elsewhere; pass skipped", "task", name)
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, t.timing().Timeout)
	defer cancel()
	stopRenewing := w.renewLease(name, owner, t.timing(), w.clock.Now())
	defer stopRenewing()
	if w.hook != nil {
		w.hook(pctx, name)
	}
	runErr := t.run(pctx)
	// The pass's context may be over; its end is recorded regardless.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer fcancel()
	if err := jobs.FinishTask(fctx, w.db, name, owner, w.clock.Now(), runErr); err != nil {
		return fmt.Errorf("task %s: %w", name, errors.Join(runErr, err))
	}
	if runErr != nil {
		return fmt.Errorf("task %s: %w", name, runErr)
	}
	return nil
}

// renewLease extends a running pass's lease every jobs.LeaseHeartbeat
// while this process lives, until the returned stop is called; a process
// that dies stops extending it, and the lease runs out within
// timing.HeldLease (docs/operations.md#periodic-work). A task whose whole
// Lease is no longer than its held lease needs no extending.
func (w *taskWorker) renewLease(name, owner string, timing jobs.PeriodicTiming, started time.Time) (stop func()) {
	if timing.HeldLease() >= timing.Lease() {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(jobs.LeaseHeartbeat)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			// Its own context: the pass's may be over while it unwinds.
			ctx, cancel := context.WithTimeout(context.Background(), jobs.LeaseHeartbeat)
			held, err := jobs.RenewTask(ctx, w.db, name, owner, timing, started, w.clock.Now())
			cancel()
			switch {
			case err != nil:
				w.log.Warn("extending a periodic task's lease", "task", name, "error", err)
			case !held:
				return // expired and taken, or given back: nothing left to extend
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// waitForLease keeps trying to take the lease, for a start-up job (the
// holder may be a pass of a process that just died), if it expires within
// the task's start-up wait.
func (w *taskWorker) waitForLease(ctx context.Context, name, owner string, t task) (bool, error) {
	run, err := jobs.TaskRunOf(ctx, w.db.SQL, name)
	if err != nil || run == nil || run.LeaseUntil.Sub(w.clock.Now()) > t.startupWait() {
		return false, err
	}
	giveUp := time.NewTimer(t.startupWait() + leasePoll)
	defer giveUp.Stop()
	tick := time.NewTicker(leasePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case <-giveUp.C:
			return false, nil
		case <-tick.C:
		}
		got, err := jobs.AcquireTask(ctx, w.db, name, owner, t.timing(), w.clock.Now())
		if err != nil || got {
			return got, err
		}
	}
}

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	dispatch func(ctx context.Context, sendID string) error
}

func (w *dispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	return w.dispatch(ctx, job.Args.SendID)
}

// periodicJobs turns the registered tasks into River periodic jobs; the
// elected leader inserts them. They are unique per task and interval
// bucket only, so a job left running by a dead process does not block the
// next interval's job (the task's lease keeps passes apart).
func periodicJobs(tasks map[string]task) []*river.PeriodicJob {
	var out []*river.PeriodicJob
	for _, name := range taskNames(tasks) {
		name := name
		every := tasks[name].every
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return TaskArgs{Task: name}, periodicInsertOpts(every) },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	return out
}

// periodicInsertOpts: one attempt (the next interval's pass is the retry),
// unique per task among waiting and running jobs of one interval bucket.
// River requires `running` among the states; the bucket is what keeps a
// dead running job from blocking later intervals.
func periodicInsertOpts(every time.Duration) *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByPeriod: max(every, time.Second), // River's least period
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
}

// startupJobs are one pass of every task, inserted by every working process
// as it starts (a restarted process need not wait to lead); a pass whose
// lease is held waits for it to expire (Startup).
func startupJobs(tasks map[string]task) []river.InsertManyParams {
	var out []river.InsertManyParams
	for _, name := range taskNames(tasks) {
		out = append(out, river.InsertManyParams{Args: TaskArgs{Task: name, Startup: true}, InsertOpts: &river.InsertOpts{MaxAttempts: 1}})
	}
	return out
}

// rescueAfter is when River takes a running job for dead: after the longest
// any job may run (a task's start-up wait plus its timeout, or River's
// default job timeout for other jobs), with a minute to spare. A task's own
// lease, not the rescuer, is what lets its next pass run after a crash; the
// rescuer only tidies dead jobs away and retries dead dispatches.
func rescueAfter(tasks map[string]task) time.Duration {
	longest := river.JobTimeoutDefault
	for _, t := range tasks {
		longest = max(longest, t.jobTimeout())
	}
	return longest + time.Minute
}

func taskNames(tasks map[string]task) []string {
	names := make([]string, 0, len(tasks))
	for n := range tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// enqueueDispatch inserts a dispatch job inside the claim's transaction.
func (a *App) enqueueDispatch(ctx context.Context, tx *sql.Tx, sendID string) error {
	_, err := a.Queue.Client().InsertTx(ctx, tx, DispatchArgs{SendID: sendID}, &river.InsertOpts{MaxAttempts: 3})
	return err
}

// onRelation feeds the new_relation webhook into the sender's accept
// detection, inside the webhook's processing transaction.
func (a *App) onRelation(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.NewRelationEvent) error {
	return a.Sender.RelationEvent(ctx, tx, acct.WorkspaceID, acct.ID, ev)
}

// onMessage feeds the messaging webhook into the sender: replies, the
// reconciliation of unknown sends by chat, and the invite-note chat.
func (a *App) onMessage(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.MessageEvent) error {
	// The message is kept for the inbox first, so the reply event can name
	// its conversation (docs/inbox.md).
	conversationID, err := a.Inbox.Record(ctx, tx, acct, ev)
	if err != nil {
		return err
	}
	return a.Sender.MessageEvent(ctx, tx, acct.WorkspaceID, acct.ID, conversationID, ev)
}

// stalledTasks describes, by name, each periodic task that has gone too
// long without a completed pass (jobs.Stalled): readiness reports them.
func (a *App) stalledTasks(ctx context.Context) (map[string]string, error) {
	runs, err := jobs.TaskRuns(ctx, a.DB.SQL)
	if err != nil {
		return nil, err
	}
	now := a.Clock.Now()
	out := map[string]string{}
	for _, name := range taskNames(a.periodic) {
		var run *jobs.TaskRun
		if r, ok := runs[name]; ok {
			run = &r
		}
		s := jobs.Stalled(run, a.periodic[name].timing(), a.started, now)
		switch {
		case !s.Stale:
		case s.LastCompleted.IsZero():
			out[name] = "no completed pass since " + s.Since.UTC().Format(time.RFC3339)
		default:
			out[name] = "last completed pass " + s.LastCompleted.UTC().Format(time.RFC3339)
		}
	}
	return out, nil
}

// periodicReadiness is readiness's periodic_tasks check: "ok", or
// "stalled: " and the stalled tasks, described under stalled_tasks in body.
func (a *App) periodicReadiness(ctx context.Context, body map[string]any) string {
	stalled, err := a.stalledTasks(ctx)
	switch {
	case err != nil:
		return "unknown"
	case len(stalled) == 0:
		return "ok"
	}
	body["stalled_tasks"] = stalled
	return "stalled: " + strings.Join(slices.Sorted(maps.Keys(stalled)), ", ")
}
