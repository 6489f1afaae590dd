package app

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile"
)

// TaskArgs is a periodic housekeeping job: its Task names a registered
// function (webhook inbox, stuck-connecting watcher, campaign scheduler…).
type TaskArgs struct {
	Task string `json:"task"`
}

// Kind is the River job kind.
func (TaskArgs) Kind() string { return "keel_task" }

// DispatchArgs asks for one claimed send to be dispatched.
type DispatchArgs struct {
	SendID string `json:"send_id"`
}

// Kind is the River job kind.
func (DispatchArgs) Kind() string { return "send_dispatch" }

type task struct {
	every time.Duration
	run   func(ctx context.Context) error
}

type taskWorker struct {
	river.WorkerDefaults[TaskArgs]
	tasks map[string]task
}

func (w *taskWorker) Work(ctx context.Context, job *river.Job[TaskArgs]) error {
	t, ok := w.tasks[job.Args.Task]
	if !ok {
		return fmt.Errorf("unknown task %q", job.Args.Task)
	}
	if err := t.run(ctx); err != nil {
		return fmt.Errorf("task %s: %w", job.Args.Task, err)
	}
	return nil
}

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	dispatch func(ctx context.Context, sendID string) error
}

func (w *dispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	return w.dispatch(ctx, job.Args.SendID)
}

// periodicJobs turns the registered tasks into River periodic jobs; the
// elected leader inserts them, unique per task while one is waiting.
func periodicJobs(tasks map[string]task) []*river.PeriodicJob {
	names := make([]string, 0, len(tasks))
	for n := range tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*river.PeriodicJob
	for _, name := range names {
		name := name
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(tasks[name].every),
			func() (river.JobArgs, *river.InsertOpts) {
				return TaskArgs{Task: name}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true,
					ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
			}, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	return out
}

// enqueueDispatch inserts a dispatch job inside the claim's transaction.
func (a *App) enqueueDispatch(ctx context.Context, tx *sql.Tx, sendID string) error {
	_, err := a.Queue.Client().InsertTx(ctx, tx, DispatchArgs{SendID: sendID}, &river.InsertOpts{MaxAttempts: 3})
	return err
}

// onRelation feeds the new_relation webhook into the one accept-stamping
// function, inside the webhook's processing transaction.
func (a *App) onRelation(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.NewRelationEvent) error {
	_, err := a.Sender.StampAccepted(ctx, tx, send.AcceptSignal{WorkspaceID: acct.WorkspaceID, AccountID: acct.ID,
		ProviderID: ev.UserProviderID.String(), Slug: ev.UserPublicIdentifier, Source: "webhook"})
	return err
}

// onMessage feeds the messaging webhook: a message from someone else is a
// reply; our own message in a chat with a prospect we only invited with a
// note is the chat LinkedIn opens on acceptance.
func (a *App) onMessage(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.MessageEvent) error {
	if !ev.FromSelf() {
		if ev.Sender == nil {
			return nil
		}
		_, err := a.Sender.StampReplied(ctx, tx, send.ReplySignal{WorkspaceID: acct.WorkspaceID, AccountID: acct.ID,
			ProviderID: ev.Sender.AttendeeProviderID.String()})
		return err
	}
	var attendees []string
	for _, at := range ev.Attendees {
		attendees = append(attendees, at.AttendeeProviderID.String())
	}
	_, err := a.Sender.NoteChatSeen(ctx, tx, acct.WorkspaceID, acct.ID, attendees)
	return err
}
