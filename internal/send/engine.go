package send

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Defaults of the engine.
const (
	DefaultBatchSize = 500
	// InFlightRecheck is when an enrollment whose send is in flight is
	// looked at again if nothing moved it.
	InFlightRecheck = 10 * time.Minute
	// RetryBackoff is the wait after an external failure, per failure.
	RetryBackoff = 30 * time.Minute
	// IncidentRetry and IncidentRetryMax bound the backoff of a prospect
	// deferred by a provider or Keel incident (IncidentBackoff).
	IncidentRetry    = 5 * time.Minute
	IncidentRetryMax = 2 * time.Hour
	// FailureRateWindow and FailureRateThreshold decide high_failure_rate:
	// at least FailureRateMin of the last FailureRateWindow finished sends
	// of a campaign failed on provider errors.
	FailureRateWindow = 20
	FailureRateMin    = 10
)

// Enqueue schedules the dispatch of a claimed send inside the claim's
// transaction (a River insert). With none, the engine dispatches inline.
type Enqueue func(ctx context.Context, tx *sql.Tx, sendID string) error

// Options configures the Engine.
type Options struct {
	DB        *db.DB
	Accounts  *account.Service
	Campaigns *campaign.Service
	Client    *unipile.Client
	Clock     clock.Clock
	Logger    *slog.Logger
	// MinSpacing is the installation's least gap between two actions of
	// one account (KEEL_MIN_SPACING); account settings never go below it.
	MinSpacing time.Duration
	// Pacing, when set, replaces every account's pacing settings: tests
	// and simulations that need many sends in little real time.
	Pacing *policy.Pacing
	// BatchSize caps the due enrollments one pass looks at.
	BatchSize int
	// Enqueue, when set, hands dispatches to the job queue.
	Enqueue Enqueue
	// Seed makes pacing jitter repeatable in simulations (0: random).
	Seed uint64
	// Emit, when set, records an outbound event inside the transaction of
	// the change it reports (outbound.Service.Emit).
	Emit func(ctx context.Context, tx *sql.Tx, workspaceID, eventType string, data any) error
	// Parallel is how many accounts a pass works at once when dispatch goes
	// through Enqueue (DefaultParallel on PostgreSQL; SQLite has one writer).
	Parallel int
}

// DefaultMinSpacing is the installation's least gap between two actions of
// one account when none is configured (docs/sending.md#pacing).
const DefaultMinSpacing = 60 * time.Second

// InFlightMargin is added to the provider client's timeout to bound how
// long after its dispatch a send may still be in its call (and its answer
// on its way to the ledger). Only past that does the reconciliation sweep
// take a dispatched send for one a crash left behind; before it, the call
// may still be running in a live process, and reading Unipile then can
// miss what the provider is about to apply (docs/operations.md#what-a-crash-leaves-behind).
const InFlightMargin = 30 * time.Second

// DefaultParallel is the pass concurrency on PostgreSQL.
const DefaultParallel = 8

// Engine is the scheduler and dispatcher: the only code that sends.
type Engine struct {
	opts Options
	mu   sync.Mutex
	rng  *rand.Rand
	// lockDueSQL is lockDueQuery for the engine's database, built once.
	lockDueSQL string
}

// New builds an Engine.
func New(opts Options) (*Engine, error) {
	if opts.DB == nil || opts.Accounts == nil || opts.Campaigns == nil || opts.Client == nil {
		return nil, errors.New("send: DB, Accounts, Campaigns and Client are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MinSpacing <= 0 {
		opts.MinSpacing = DefaultMinSpacing
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 1
		if opts.DB.HasRowLocks() {
			// Concurrent claims need row locks to stay apart; SQLite
			// has one writer, so more workers would only queue.
			opts.Parallel = DefaultParallel
		}
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Engine{opts: opts, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		lockDueSQL: lockDueQuery(opts.DB)}, nil
}

// inCallSince is the earliest dispatch time of a send that may still be in
// its provider call at now: the client's timeout plus InFlightMargin ago.
func (e *Engine) inCallSince(now time.Time) time.Time {
	timeout := unipile.DefaultTimeout
	if e.opts.Client != nil {
		timeout = e.opts.Client.Timeout()
	}
	return now.Add(-timeout - InFlightMargin)
}

// mayBeInCall reports whether a dispatched send may still be in its
// provider call at now, in this process or another. The one rule for it:
// Dispatch leaves such a row alone and the sweep does not list it.
func (e *Engine) mayBeInCall(row sendRow, now time.Time) bool {
	return row.state == StateDispatched && !row.dispatchedAt.Before(e.inCallSince(now))
}

// ErrNoProvider is returned by an engine built with NewLedgerOnly when
// asked for work that needs the provider.
var ErrNoProvider = errors.New("send: this engine has no provider client")

// NewLedgerOnly builds an Engine for ledger work that calls no provider
// (settling a send by hand from the CLI, which may run without Unipile
// credentials). Anything that would call the provider returns
// ErrNoProvider.
func NewLedgerOnly(opts Options) (*Engine, error) {
	opts.Client = nil
	if opts.DB == nil || opts.Accounts == nil || opts.Campaigns == nil {
		return nil, errors.New("send: DB, Accounts and Campaigns are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Engine{opts: opts, rng: rand.New(rand.NewPCG(1, 2)), lockDueSQL: lockDueQuery(opts.DB)}, nil
}

// emit records an outbound event when an emitter is configured.
func (e *Engine) emit(ctx context.Context, tx *sql.Tx, workspaceID, eventType string, data any) error {
	if e.opts.Emit == nil {
		return nil
	}
	return e.opts.Emit(ctx, tx, workspaceID, eventType, data)
}

// EventData is the payload of the events the sender emits.
type EventData struct {
	AccountID    string `json:"account_id"`
	CampaignID   string `json:"campaign_id,omitempty"`
	EnrollmentID string `json:"enrollment_id"`
	ProspectID   string `json:"prospect_id"`
	ProviderID   string `json:"provider_id,omitempty"`
	Action       string `json:"action,omitempty"`
	ChatID       string `json:"chat_id,omitempty"`
	Source       string `json:"source,omitempty"`
	// ConversationID is the inbox conversation of a reply (docs/inbox.md).
	ConversationID string `json:"conversation_id,omitempty"`
}

// draw takes the random numbers one decision uses.
func (e *Engine) draw() policy.Draw {
	e.mu.Lock()
	defer e.mu.Unlock()
	return policy.Draw{Gap: e.rng.Float64(), Spread: e.rng.Float64()}
}

// PerAccountPerPass is how many due enrollments of one account a pass
// looks at.
const PerAccountPerPass = 3

// PassSummary counts what a scheduler pass did.
type PassSummary struct {
	Due      int
	Claimed  int
	Deferred int
	Advanced int
	Skipped  int
	// Deferrals counts deferrals by gate code.
	Deferrals map[string]int
}

// RunPass looks at every due enrollment once: it advances waits and
// conditions, and claims sends through every gate (or defers the
// enrollment to when its gate clears, creating no job).
func (e *Engine) RunPass(ctx context.Context) (PassSummary, error) {
	now := e.opts.Clock.Now()
	sum := PassSummary{Deferrals: map[string]int{}}
	// Each account acts at most once per spacing interval, so a pass only
	// needs the first few due enrollments of each account; the rest stay
	// due, untouched, until their account's turn comes.
	list, err := e.dueEnrollments(ctx, now, PerAccountPerPass, e.opts.BatchSize)
	if err != nil {
		return sum, err
	}
	// Waits and condition timeouts advance at their own due time, not at
	// their account's next pacing slot, and never stand behind its due
	// actions (docs/sending.md#pacing).
	timedList, err := e.dueTimedSteps(ctx, now, e.opts.BatchSize)
	if err != nil {
		return sum, err
	}
	// Withdrawals of stale invitations go first on their account: they
	// free the pending slots invitations wait for
	// (docs/sending.md#withdrawals).
	withdrawals, err := e.dueWithdrawals(ctx, now, e.opts.BatchSize)
	if err != nil {
		return sum, err
	}
	pacing, err := e.pacing(ctx)
	if err != nil {
		return sum, err
	}
	timed := map[string][]string{}
	seen := map[string]bool{}
	for _, d := range timedList {
		timed[d.account] = append(timed[d.account], d.id)
		seen[d.id] = true
	}
	sum.Due = len(list)
	// Accounts are independent (each claim locks only its account's
	// pacing row), so with a job queue to dispatch, several accounts are
	// worked at once; one account's enrollments stay in order on one worker.
	var order []string
	byAccount := map[string][]string{}
	for _, d := range list {
		if _, ok := byAccount[d.account]; !ok {
			order = append(order, d.account)
		}
		if !seen[d.id] {
			byAccount[d.account] = append(byAccount[d.account], d.id)
		}
	}
	for _, d := range timedList {
		if _, ok := byAccount[d.account]; !ok {
			order = append(order, d.account)
			byAccount[d.account] = nil
		}
	}
	withdraw := map[string]string{}
	for _, w := range withdrawals {
		withdraw[w.account] = w.id
		if _, ok := byAccount[w.account]; !ok {
			order = append(order, w.account)
			byAccount[w.account] = nil
		}
	}
	sum.Due += len(timedList) + len(withdrawals)
	parallel := e.opts.Parallel
	if e.opts.Enqueue == nil {
		parallel = 1
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for acc := range work {
				if err := e.passAccount(ctx, acc, timed[acc], withdraw[acc], byAccount[acc], pacing[acc], now, &mu, &sum); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, acc := range order {
		work <- acc
	}
	close(work)
	wg.Wait()
	return sum, firstErr
}

// passAccount works one account's due enrollments for this pass: its due
// waits and conditions first, whatever its pacing, then its due actions,
// stopping after its first claim: the next one must wait for pacing anyway.
func (e *Engine) passAccount(ctx context.Context, acc string, timed []string, withdrawal string, ids []string, nextAllowed, now time.Time, mu *sync.Mutex, sum *PassSummary) error {
	count := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	for _, id := range timed {
		res, err := e.process(ctx, id, now)
		if err != nil {
			return err
		}
		if res.kind == resultAdvanced {
			count(func() { sum.Advanced++ })
		} else {
			count(func() { sum.Skipped++ })
		}
	}
	if nextAllowed.After(now) {
		count(func() { sum.Skipped += len(ids); sum.Deferrals[GatePacing] += len(ids) })
		return nil
	}
	if withdrawal != "" {
		res, err := e.processWithdrawal(ctx, withdrawal, now)
		if err != nil {
			return err
		}
		switch res.kind {
		case resultClaimed:
			count(func() { sum.Claimed++; sum.Skipped += len(ids) })
			if e.opts.Enqueue == nil {
				return e.Dispatch(ctx, res.sendID)
			}
			return nil
		case resultDeferred:
			count(func() { sum.Deferred++; sum.Deferrals[res.code]++ })
		case resultSkipped:
			if res.code == policy.CodePacing {
				count(func() { sum.Skipped += len(ids) + 1; sum.Deferrals[GatePacing] += len(ids) })
				return nil
			}
		}
	}
	for i, id := range ids {
		res, err := e.process(ctx, id, now)
		if err != nil {
			return err
		}
		switch res.kind {
		case resultClaimed:
			count(func() { sum.Claimed++; sum.Skipped += len(ids) - i - 1 })
			if e.opts.Enqueue == nil {
				return e.Dispatch(ctx, res.sendID)
			}
			return nil
		case resultDeferred:
			count(func() { sum.Deferred++; sum.Deferrals[res.code]++ })
		case resultAdvanced:
			count(func() { sum.Advanced++ })
		default:
			count(func() { sum.Skipped++ })
		}
	}
	return nil
}

type resultKind int

const (
	resultSkipped resultKind = iota
	resultClaimed
	resultDeferred
	resultAdvanced
)

type processResult struct {
	kind   resultKind
	sendID string
	code   string
}

type enrollmentRow struct {
	id, workspaceID, campaignID, prospectID, accountID, stepID string
	nextActionAt                                               time.Time
	acceptedAt, repliedAt                                      sql.NullTime
	failures                                                   int
	// account is the sending account, read with the enrollment.
	account account.Account
	// existingSend is the state of a live (not failed or cancelled) send
	// of the current step, if any (lockDue only).
	existingSend sql.NullString
	// state and endedReason are read by lockEnrollmentAny.
	state       string
	endedReason string
}

// accountColumns is an account's columns under the alias a.
var accountColumns = account.Columns("a")

// campaignColumns is what sending needs of a campaign (not its senders),
// read under the alias c; campaignScan receives it.
const campaignColumns = `c.id, c.workspace_id, c.status, c.steps, c.cap_invite, c.cap_message, c.cap_inmail,
	c.cap_view_profile, c.stop_on_reply, c.late_accept_policy`

type campaignScan struct {
	c     campaign.Campaign
	steps string
}

func (cs *campaignScan) dest() []any {
	c := &cs.c
	return []any{&c.ID, &c.WorkspaceID, &c.Status, &cs.steps, &c.DailyCaps.Invite, &c.DailyCaps.Message,
		&c.DailyCaps.InMail, &c.DailyCaps.ViewProfile, &c.StopOnReply, &c.LateAcceptPolicy}
}

func (cs *campaignScan) campaign() (campaign.Campaign, error) {
	if err := json.Unmarshal([]byte(cs.steps), &cs.c.Steps); err != nil {
		return cs.c, fmt.Errorf("reading steps of campaign %s: %w", cs.c.ID, err)
	}
	return cs.c, nil
}

// process handles one due enrollment in one transaction.
func (e *Engine) process(ctx context.Context, enrollmentID string, now time.Time) (processResult, error) {
	var res processResult
	err := e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
		res = processResult{}
		en, camp, err := e.lockDue(ctx, tx, enrollmentID)
		if err != nil || en == nil || en.nextActionAt.After(now) || camp.Status != campaign.StatusRunning {
			return err
		}
		step, ok := campaign.StepByID(camp.Steps, en.stepID)
		if !ok {
			return e.endEnrollment(ctx, tx, en, "step "+en.stepID+" no longer exists in the campaign", now)
		}
		switch step.Type {
		case campaign.StepWait:
			res.kind = resultAdvanced
			return e.moveTo(ctx, tx, camp, en, nextAfter(camp.Steps, step.ID), now, 0)
		case campaign.StepIfAccepted, campaign.StepIfReplied:
			res.kind = resultAdvanced
			if conditionMet(step, en) {
				return e.moveTo(ctx, tx, camp, en, step.Then, now, 0)
			}
			if step.Else == campaign.End {
				return e.endEnrollment(ctx, tx, en, fmt.Sprintf("condition %s (%s) not met within %s", step.ID, step.Type, step.Within), now)
			}
			return e.moveTo(ctx, tx, camp, en, step.Else, now, 0)
		}
		action := actionOf(step.Type)
		// A step already claimed is never claimed again (the unique index
		// would refuse it anyway); an in-flight one is looked at later.
		switch {
		case en.existingSend.Valid && en.existingSend.String == string(StateConfirmed):
			res.kind = resultAdvanced
			return e.moveTo(ctx, tx, camp, en, nextAfter(camp.Steps, step.ID), now, 0)
		case en.existingSend.Valid:
			res.kind = resultSkipped
			return e.deferTo(ctx, tx, en.id, now.Add(InFlightRecheck), now)
		}
		v, err := e.decide(ctx, tx, camp, en, step, action, now)
		if err != nil {
			return err
		}
		if v.Code == policy.CodeDoNotContact {
			// Listed after the import, or between the listing and this
			// claim: never sent to, and never looked at again
			// (docs/contacts.md#do-not-contact).
			res = processResult{kind: resultAdvanced, code: v.Code}
			return e.endEnrollment(ctx, tx, en, campaign.EndedDoNotContact, now)
		}
		if v.Code == policy.CodeRecentlyWithdrawn {
			// A wait of this person alone: the others at this step go on.
			res = processResult{kind: resultDeferred, code: v.Code}
			return e.opts.Campaigns.Park(ctx, tx, en.id, v.Code, v.Until, now)
		}
		if v.Code == policy.CodePacing && !v.ThisActionOnly {
			// The account's spacing: its next slot comes soon, for any action.
			res = processResult{kind: resultSkipped, code: v.Code}
			return nil
		}
		if v.Code == policy.CodeFreeInMail {
			// A Free sender can never send this step: the step goes
			// through a paid sender of the campaign, or the prospect ends
			// with a clear reason, rather than being deferred for ever
			// (docs/campaigns.md#senders).
			res = processResult{kind: resultDeferred, code: v.Code}
			to, err := e.opts.Campaigns.HandOffInMail(ctx, tx, en.id, now)
			if err != nil || to != "" {
				return err
			}
			_, err = e.opts.Campaigns.CompleteIfFinished(ctx, tx, en.campaignID)
			return err
		}
		if !v.Allowed {
			// The spread holds only this action type: parking the group
			// keeps it from standing in front of other actions of the
			// account (docs/sending.md#pacing). Every due enrollment of this account at this step waits on
			// the same gate: defer them together, so none is looked at
			// again before the gate can have cleared.
			res = processResult{kind: resultDeferred, code: v.Code}
			return e.opts.Campaigns.DeferGroup(ctx, tx, campaign.StepGroup{AccountID: en.accountID, CampaignID: en.campaignID, StepID: en.stepID}, v.Code,
				policy.Recheck(v, now), now)
		}
		if campaign.NeedsValues(step) {
			// Never "Hi , …": a prospect lacking a value the step uses
			// (no fallback) is held, not sent and not failed; the others
			// go on (docs/campaigns.md#holds).
			prospect, err := e.opts.Campaigns.GetProspect(ctx, tx, en.prospectID)
			if err != nil {
				return err
			}
			if reason := campaign.HoldReason(step, prospect); reason != "" {
				res = processResult{kind: resultDeferred, code: campaign.HoldCode}
				return e.opts.Campaigns.Hold(ctx, tx, en.id, reason, now)
			}
		}
		sendID := id.New("snd")
		withNote := step.Type == campaign.StepInvite && strings.TrimSpace(step.Note) != ""
		err = e.claim(ctx, tx, claimWrite{sendID: sendID, en: en, action: action, withNote: withNote,
			nextAllowed: now.Add(v.Gap), spreadUntil: v.SpreadUntil, recheck: now.Add(InFlightRecheck), now: now})
		if db.IsUniqueViolation(err) {
			res.kind = resultSkipped
			return nil
		}
		if err != nil {
			return err
		}
		if err := e.enqueue(ctx, tx, sendID); err != nil {
			return err
		}
		res = processResult{kind: resultClaimed, sendID: sendID}
		return nil
	})
	return res, err
}

// enqueue hands a claimed send to the job queue in the claim's
// transaction; without a queue the caller dispatches it inline.
func (e *Engine) enqueue(ctx context.Context, tx *sql.Tx, sendID string) error {
	if e.opts.Enqueue == nil {
		return nil
	}
	if err := e.opts.Enqueue(ctx, tx, sendID); err != nil {
		return fmt.Errorf("enqueueing dispatch of %s: %w", sendID, err)
	}
	return nil
}

// claimWrite is what a claim writes: the ledger row, the account's next
// allowed action time, and when the enrollment is looked at again.
type claimWrite struct {
	sendID      string
	en          *enrollmentRow
	action      policy.Action
	withNote    bool
	nextAllowed time.Time
	// spreadUntil holds the next action of the same type (zero: none).
	spreadUntil  time.Time
	recheck, now time.Time
}

func conditionMet(step campaign.Step, en *enrollmentRow) bool {
	if step.Type == campaign.StepIfAccepted {
		return en.acceptedAt.Valid
	}
	return en.repliedAt.Valid
}

// nextAfter is the step after current (its success branch), or End.
func nextAfter(steps []campaign.Step, current string) string {
	next, err := campaign.NextStepID(steps, current, true)
	if err != nil || next == "" {
		return campaign.End
	}
	return next
}

func actionOf(t campaign.StepType) policy.Action {
	a, _ := policy.StepAction(t)
	return a
}

// moveTo puts an enrollment on a step (or ends it) and sets when it is due:
// a wait waits, a condition waits for its signal until its timeout (or goes
// on at once when the signal already came), an action is due now.
func (e *Engine) moveTo(ctx context.Context, tx *sql.Tx, camp campaign.Campaign, en *enrollmentRow, target string, now time.Time, depth int) error {
	if target == campaign.End || target == "" {
		if err := e.opts.Campaigns.Complete(ctx, tx, en.id, now); err != nil {
			return err
		}
		_, err := e.opts.Campaigns.CompleteIfFinished(ctx, tx, camp.ID)
		return err
	}
	step, ok := campaign.StepByID(camp.Steps, target)
	if !ok || depth > len(camp.Steps) {
		return e.endEnrollment(ctx, tx, en, "step "+target+" does not exist", now)
	}
	next := now
	switch step.Type {
	case campaign.StepWait:
		next = now.Add(step.WaitDuration())
	case campaign.StepIfAccepted, campaign.StepIfReplied:
		if conditionMet(step, en) {
			en.stepID = step.ID
			return e.moveTo(ctx, tx, camp, en, step.Then, now, depth+1)
		}
		next = now.Add(step.WithinDuration())
	}
	if err := e.opts.Campaigns.Advance(ctx, tx, en.id, step.ID, next, now); err != nil {
		return err
	}
	en.stepID = step.ID
	return nil
}

// deferTo makes an active enrollment due again at until.
func (e *Engine) deferTo(ctx context.Context, tx *sql.Tx, enrollmentID string, until, now time.Time) error {
	return e.opts.Campaigns.Defer(ctx, tx, enrollmentID, until, now)
}

// endEnrollment ends a prospect's sequence early and completes the
// campaign if it was the last one in it.
func (e *Engine) endEnrollment(ctx context.Context, tx *sql.Tx, en *enrollmentRow, reason string, now time.Time) error {
	if err := e.opts.Campaigns.End(ctx, tx, en.id, reason, now); err != nil {
		return err
	}
	_, err := e.opts.Campaigns.CompleteIfFinished(ctx, tx, en.campaignID)
	return err
}

// Verdict codes, as the scheduler's pass summary counts them.
const (
	GateNotConnected = policy.CodeNotConnected
	GatePacing       = policy.CodePacing
)

// PacingOf is the pacing the engine applies to an account: its settings
// raised to the installation's floor, or the engine's override.
func (e *Engine) PacingOf(a account.Account) policy.Pacing {
	if e.opts.Pacing != nil {
		return *e.opts.Pacing
	}
	return policy.ForAccount(a.Pacing, e.opts.MinSpacing)
}

// decide asks the one policy (docs/sending.md#one-policy) about a claim, on
// the snapshot read inside the claim's transaction.
func (e *Engine) decide(ctx context.Context, tx *sql.Tx, camp campaign.Campaign, en *enrollmentRow, step campaign.Step, action policy.Action, now time.Time) (policy.Verdict, error) {
	snap, err := e.claimSnapshot(ctx, tx, &camp, en, step, action, now)
	if err != nil {
		return policy.Verdict{}, err
	}
	return policy.Decide(snap, now, e.draw()), nil
}

// claimSnapshot reads a claim's snapshot. It locks the account's pacing
// row first, so concurrent claims for one account are serialised and its
// counts (account and campaign share, both per account) cannot be
// overtaken.
func (e *Engine) claimSnapshot(ctx context.Context, tx *sql.Tx, camp *campaign.Campaign, en *enrollmentRow, step campaign.Step, action policy.Action, now time.Time) (policy.Snapshot, error) {
	p, err := lockPacing(ctx, tx, en.accountID, action, now)
	if err != nil {
		return policy.Snapshot{}, err
	}
	return readSnapshot(ctx, tx, SnapshotRequest{Account: en.account, Campaign: camp, Action: action,
		WithNote: step.Type == campaign.StepInvite && strings.TrimSpace(step.Note) != "", Pacing: e.PacingOf(en.account), Now: now,
		ProspectID: en.prospectID}, p)
}

// forEach calls fn on every item, at most workers at once, and returns the
// first error (the other items are still worked: each is independent).
func forEach[T any](workers int, items []T, fn func(T) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan T)
	for range min(workers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if err := fn(it); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	return firstErr
}
