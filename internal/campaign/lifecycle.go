package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/keel-outreach/keel/internal/account"
)

// liveStates are the enrollment states of a prospect whose sequence is not
// over: what Start and Resume count as enrollable.
const liveStates = `('pending', 'active', 'soft_paused')`

// sender is one current sender of a campaign as the database has it now.
type sender struct {
	AccountID   string
	WorkspaceID string
	Status      account.Status
	LastError   string
	Tier        account.Tier
	Name        string
}

// Start moves a draft (or paused) campaign to running. It is refused, with
// a sentence saying what to do, when the campaign has no enrollable
// prospect (field failure P4), when a sender is not an account of the
// workspace, when a template variable has no value for some prospect, or
// when none of its senders is connected. Pending prospects become active
// at the first step, due now; those of a sender that is not connected
// become soft-paused instead and wait for it.
func (s *Service) Start(ctx context.Context, workspaceID, campaignID string) (Campaign, error) {
	return s.run(ctx, workspaceID, campaignID, "start", StatusDraft, StatusPaused)
}

// Resume moves a paused campaign back to running, whatever its pause
// reason, with the same checks as Start. An account-caused pause can be
// resumed only once a sender is connected again (and then resumes by
// itself through ResumeAccountCaused).
func (s *Service) Resume(ctx context.Context, workspaceID, campaignID string) (Campaign, error) {
	return s.run(ctx, workspaceID, campaignID, "resume", StatusPaused)
}

func (s *Service) run(ctx context.Context, workspaceID, campaignID, op string, from ...Status) (Campaign, error) {
	var out Campaign
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.read(ctx, tx, workspaceID, campaignID, true)
		if err != nil {
			return err
		}
		allowed := false
		for _, st := range from {
			allowed = allowed || c.Status == st
		}
		if !allowed {
			names := make([]string, len(from))
			for i, st := range from {
				names[i] = string(st)
			}
			return &StateError{CampaignID: c.ID, Op: op, Status: c.Status,
				Message: fmt.Sprintf("the campaign is %s; only a %s campaign can be %s", c.Status,
					strings.Join(names, " or "), pastTense(op))}
		}
		senders, err := s.senders(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		errs, err := s.preflight(ctx, tx, c, senders)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return &ValidationError{Errors: errs}
		}
		if free := freeOnlyInMail(c, senders); free != "" {
			return &StateError{CampaignID: c.ID, Op: op, Status: c.Status, Message: "the campaign has an InMail step but " + free +
				"; Free accounts cannot send InMails: add a Premium, Sales Navigator or Recruiter sender, or remove the InMail step"}
		}
		if !anyConnected(senders) {
			msg := "none of the campaign's sender accounts is connected (" + describeSenders(senders) + "); reconnect one first"
			if c.PausedReason.AccountCaused() {
				msg += "; the campaign then resumes by itself"
			}
			return &StateError{CampaignID: c.ID, Op: op, Status: c.Status, Message: msg}
		}
		now := s.clock.Now()
		if err := s.activate(ctx, tx, c, now); err != nil {
			return err
		}
		// A resume can lift what parked its prospects (a sender
		// reconnected meanwhile, settings changed while it was paused):
		// they are looked at again on the next pass
		// (docs/sending.md#re-evaluation).
		if _, err := s.Reevaluate(ctx, tx, Scope{CampaignID: c.ID}, now); err != nil {
			return err
		}
		if err := setRunning(ctx, tx, c.ID, now); err != nil {
			return fmt.Errorf("starting campaign %s: %w", c.ID, err)
		}
		c.Status, c.PausedReason, c.UpdatedAt, c.UpdatedBy = StatusRunning, "", now, actorOf(ctx)
		if err := s.loadSenders(ctx, tx, []*Campaign{&c}); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return out, nil
}

func pastTense(op string) string {
	switch op {
	case "start":
		return "started"
	case "resume":
		return "resumed"
	case "pause":
		return "paused"
	case "archive":
		return "archived"
	}
	return op + "ed"
}

// freeOnlyInMail says which senders are Free when the campaign has an
// InMail step and every sender is Free (nothing could ever send that
// step), and "" otherwise (docs/campaigns.md#senders).
func freeOnlyInMail(c Campaign, senders []sender) string {
	inmail := false
	for _, st := range c.Steps {
		inmail = inmail || st.Type == StepInMail
	}
	if !inmail || len(senders) == 0 {
		return ""
	}
	names := make([]string, len(senders))
	for i, sd := range senders {
		if sd.Tier != account.TierFree {
			return ""
		}
		names[i] = sd.AccountID
		if sd.Name != "" {
			names[i] = sd.Name + " (" + sd.AccountID + ")"
		}
	}
	if len(names) == 1 {
		return "its only sender, " + names[0] + ", is a Free account"
	}
	return "all its senders (" + strings.Join(names, ", ") + ") are Free accounts"
}

func anyConnected(senders []sender) bool {
	for _, sd := range senders {
		if sd.Status == account.StatusConnected {
			return true
		}
	}
	return false
}

func describeSenders(senders []sender) string {
	parts := make([]string, len(senders))
	for i, sd := range senders {
		parts[i] = sd.AccountID + " is " + string(sd.Status)
		if sd.LastError != "" {
			parts[i] += ": " + sd.LastError
		}
	}
	return strings.Join(parts, "; ")
}

// preflight lists what stops a campaign from running: senders outside
// the workspace, no enrollable prospect, template variables some
// enrollable prospect cannot fill.
func (s *Service) preflight(ctx context.Context, tx *sql.Tx, c Campaign, senders []sender) ([]FieldError, error) {
	var errs []FieldError
	if len(senders) == 0 {
		errs = append(errs, FieldError{Field: "account_ids", Message: "the campaign has no sender account; add one"})
	}
	for i, sd := range senders {
		// The foreign keys already make this impossible; checked again
		// because sending through another tenant's account must never
		// happen, whatever the schema's history.
		if sd.WorkspaceID != c.WorkspaceID {
			errs = append(errs, FieldError{Field: fmt.Sprintf("account_ids[%d]", i),
				Message: fmt.Sprintf("account %s does not belong to this workspace", sd.AccountID)})
		}
	}
	// Syntax and graph again (stored campaigns were validated on save);
	// variables are checked per prospect below.
	errs = append(errs, ValidateSteps(c.Steps, func(string) bool { return true })...)

	live, err := countLive(ctx, tx, c.ID)
	if err != nil {
		return nil, err
	}
	if live == 0 {
		done, err := countEnrolled(ctx, tx, c.ID)
		if err != nil {
			return nil, err
		}
		msg := "the campaign has no prospect to contact: import prospects (CSV or JSON with a linkedin_url or provider_id) first"
		switch {
		case done == 1:
			msg = "the campaign's one prospect has finished its sequence: import new prospects to run it again"
		case done > 1:
			msg = fmt.Sprintf("all %d prospects of the campaign have finished its sequence: import new prospects to run it again", done)
		}
		return append(errs, FieldError{Field: "prospects", Message: msg}), nil
	}

	for i, st := range c.Steps {
		for _, tf := range stepTemplates(st) {
			vars, err := TemplateVariables(tf[1])
			if err != nil {
				continue // reported by ValidateSteps
			}
			for _, v := range vars {
				if IsBuiltinVariable(v) {
					continue
				}
				missing, example, err := s.lackingField(ctx, tx, c.ID, v)
				if err != nil {
					return nil, err
				}
				if missing == 0 {
					continue
				}
				errs = append(errs, FieldError{Field: fmt.Sprintf("steps[%d].%s", i, tf[0]), Message: fmt.Sprintf(
					"variable {{%s}} in step %s has no value for %d of %d prospects (e.g. %s): import that column for them, or write {{%s|fallback}}",
					v, st.ID, missing, live, example, v)})
			}
		}
	}
	// A fallback no prospect can need is most often a mistyped column:
	// refused now that prospects are imported (the builder only warns
	// before).
	var lookErr error
	for _, fo := range FallbackOnlyVariables(c.Steps, func(name string) bool {
		if lookErr != nil {
			return true // the error is returned below
		}
		ok, err := s.hasColumn(ctx, tx, c.ID, name)
		lookErr = err
		return ok
	}) {
		errs = append(errs, FieldError{Field: fo.FieldPath(), Message: fo.Refusal()})
	}
	if lookErr != nil {
		return nil, lookErr
	}
	return errs, nil
}

// Pause pauses a running campaign by hand (reason manual). Pausing a
// campaign already paused for another reason makes the pause manual, so it
// no longer resumes by itself when an account reconnects.
func (s *Service) Pause(ctx context.Context, workspaceID, campaignID string) (Campaign, error) {
	var out Campaign
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.read(ctx, tx, workspaceID, campaignID, true)
		if err != nil {
			return err
		}
		if c.Status != StatusRunning && c.Status != StatusPaused {
			return &StateError{CampaignID: c.ID, Op: "pause", Status: c.Status,
				Message: fmt.Sprintf("the campaign is %s; only a running campaign can be paused", c.Status)}
		}
		now := s.clock.Now()
		if err := setPaused(ctx, tx, c.ID, ReasonManual, now); err != nil {
			return fmt.Errorf("pausing campaign %s: %w", c.ID, err)
		}
		c.Status, c.PausedReason, c.UpdatedAt, c.UpdatedBy = StatusPaused, ReasonManual, now, actorOf(ctx)
		if err := s.loadSenders(ctx, tx, []*Campaign{&c}); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return out, nil
}

// Archive retires a campaign that is not running (draft, paused or
// completed). Its prospects that had not finished end with ended_reason
// "campaign_archived".
func (s *Service) Archive(ctx context.Context, workspaceID, campaignID string) (Campaign, error) {
	var out Campaign
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := s.read(ctx, tx, workspaceID, campaignID, true)
		if err != nil {
			return err
		}
		if c.Status == StatusRunning || c.Status == StatusArchived {
			return &StateError{CampaignID: c.ID, Op: "archive", Status: c.Status,
				Message: fmt.Sprintf("the campaign is %s; pause it before archiving", c.Status)}
		}
		now := s.clock.Now()
		if err := endLive(ctx, tx, c.ID, EndedCampaignArchived, now); err != nil {
			return fmt.Errorf("ending enrollments of archived campaign %s: %w", c.ID, err)
		}
		if err := setArchived(ctx, tx, c.ID, now); err != nil {
			return fmt.Errorf("archiving campaign %s: %w", c.ID, err)
		}
		c.Status, c.PausedReason, c.UpdatedAt, c.UpdatedBy = StatusArchived, "", now, actorOf(ctx)
		if err := s.loadSenders(ctx, tx, []*Campaign{&c}); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return out, nil
}

// EndedCampaignArchived is the ended_reason of prospects still in a
// campaign's sequence when it is archived.
const EndedCampaignArchived = "campaign_archived"

// AccountEffect says what an account flip did to campaigns.
type AccountEffect struct {
	// SoftPaused counts enrollments soft-paused because their sender
	// stopped being connected.
	SoftPaused int
	// Reactivated counts soft-paused enrollments made active again.
	Reactivated int
	// Paused lists campaigns paused because none of their senders is
	// connected any more.
	Paused []string
	// Resumed lists account-paused campaigns running again.
	Resumed []string
}

// ErrAccountNotConnected: ResumeAccountCaused was called for an account
// that is not connected; nothing is resumed on uncertain state.
var ErrAccountNotConnected = errors.New("account is not connected")

// ErrAccountConnected: PauseForAccount was called for an account that is
// connected in the caller's transaction; its status must change first.
var ErrAccountConnected = errors.New("account is connected")

// PauseForAccount is the campaign side of an account ceasing to be
// connected; it runs inside the caller's transaction (the account flip's),
// using tx only. In every running or paused campaign the account sends
// for, the account's active enrollments become soft_paused (their step and
// due time are kept, so they continue where they were). A running campaign
// none of whose senders is connected any more is paused with reason; one
// that still has a connected sender keeps running on it. A campaign
// already paused keeps its reason. The account must already be
// non-connected in tx (else ErrAccountConnected): the flip comes first,
// its consequences after, in the same transaction.
func (s *Service) PauseForAccount(ctx context.Context, tx *sql.Tx, accountID string, reason PausedReason) (AccountEffect, error) {
	var eff AccountEffect
	if !reason.AccountCaused() {
		return eff, fmt.Errorf("pausing campaigns for account %s: %q is not an account reason", accountID, reason)
	}
	status, err := accountStatus(ctx, tx, accountID)
	if err != nil {
		return eff, err
	}
	if status == account.StatusConnected {
		return eff, fmt.Errorf("pausing campaigns for account %s: %w", accountID, ErrAccountConnected)
	}
	cs, err := s.lockSenderCampaigns(ctx, tx, accountID)
	if err != nil {
		return eff, err
	}
	now := s.clock.Now()
	for _, c := range cs {
		n, err := softPauseSender(ctx, tx, c.ID, accountID, now)
		if err != nil {
			return eff, fmt.Errorf("soft-pausing enrollments of account %s in campaign %s: %w", accountID, c.ID, err)
		}
		eff.SoftPaused += n
		if c.Status != StatusRunning {
			continue
		}
		senders, err := s.senders(ctx, tx, c.ID)
		if err != nil {
			return eff, err
		}
		if anyConnected(senders) {
			continue
		}
		if err := setPaused(ctx, tx, c.ID, reason, now); err != nil {
			return eff, fmt.Errorf("pausing campaign %s for account %s: %w", c.ID, accountID, err)
		}
		eff.Paused = append(eff.Paused, c.ID)
	}
	return eff, nil
}

// ResumeAccountCaused is the campaign side of an account becoming
// connected again; it runs inside the caller's transaction, using tx only.
// The account must already be connected in tx (else
// ErrAccountNotConnected). In every running or paused campaign the account
// sends for, its soft-paused enrollments become active again (due at their
// kept time, or now; those a gate parked are due now). Campaigns paused for an account reason
// (account_disconnected, account_restricted, account_error,
// needs_verification) run again, their pending prospects starting as Start
// would start them; campaigns paused by a person or for
// high_failure_rate/template_error stay paused.
func (s *Service) ResumeAccountCaused(ctx context.Context, tx *sql.Tx, accountID string) (AccountEffect, error) {
	var eff AccountEffect
	status, err := accountStatus(ctx, tx, accountID)
	if err != nil {
		return eff, err
	}
	if status != account.StatusConnected {
		return eff, fmt.Errorf("resuming campaigns of account %s (%s): %w", accountID, status, ErrAccountNotConnected)
	}
	cs, err := s.lockSenderCampaigns(ctx, tx, accountID)
	if err != nil {
		return eff, err
	}
	now := s.clock.Now()
	for _, c := range cs {
		n, err := reactivateSender(ctx, tx, c.ID, accountID, now)
		if err != nil {
			return eff, fmt.Errorf("reactivating enrollments of account %s in campaign %s: %w", accountID, c.ID, err)
		}
		eff.Reactivated += n
		if c.Status != StatusPaused || !c.PausedReason.AccountCaused() {
			continue
		}
		if err := s.activate(ctx, tx, c, now); err != nil {
			return eff, err
		}
		if err := setRunning(ctx, tx, c.ID, now); err != nil {
			return eff, fmt.Errorf("resuming campaign %s for account %s: %w", c.ID, accountID, err)
		}
		eff.Resumed = append(eff.Resumed, c.ID)
	}
	// A reconnect lifts the not-connected gate, and whatever else parked
	// the account's prospects may have cleared while it was away
	// (docs/sending.md#re-evaluation).
	if _, err := s.Reevaluate(ctx, tx, Scope{AccountID: accountID}, now); err != nil {
		return eff, err
	}
	return eff, nil
}

// OnAccountSettings is an account.SettingsHook: register it with
// account.Service.OnSettingsChanged so a change of what the gates read
// (tier, timezone, window, caps, pacing) makes the account's parked
// prospects due again in the same transaction
// (docs/sending.md#re-evaluation).
func (s *Service) OnAccountSettings(ctx context.Context, tx *sql.Tx, before, after account.Account) error {
	if !account.GatesChanged(before, after) {
		return nil
	}
	_, err := s.Reevaluate(ctx, tx, Scope{AccountID: after.ID}, s.clock.Now())
	return err
}

// OnAccountFlip is an account.Consequence: register it with
// account.Service.OnFlip so every status flip carries its campaign
// consequences in the same transaction. Becoming connected resumes what
// the account's absence paused; any other status pauses as
// PauseForAccount describes.
func (s *Service) OnAccountFlip(ctx context.Context, tx *sql.Tx, f account.Flipped) error {
	if f.After.Status == account.StatusConnected {
		_, err := s.ResumeAccountCaused(ctx, tx, f.After.ID)
		return err
	}
	_, err := s.PauseForAccount(ctx, tx, f.After.ID, ReasonForAccountStatus(f.After.Status))
	return err
}

// Reconcile repairs what a missed flip consequence could leave behind,
// inside the caller's transaction (tx only): soft-paused enrollments of
// connected senders, active enrollments of senders that are not connected,
// campaigns paused for an account reason that have a connected sender
// again, and running campaigns with no connected sender. The periodic
// sweep calls it.
func (s *Service) Reconcile(ctx context.Context, tx *sql.Tx) (AccountEffect, error) {
	var eff AccountEffect
	todo, err := flipLeftovers(ctx, tx)
	if err != nil {
		return eff, err
	}
	if len(todo) == 0 {
		return eff, nil
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].id < todo[j].id })
	// Lock every campaign involved at once, in id order: a flip locks its
	// account and then its campaigns in id order, so taking campaigns one
	// account at a time here could cross a flip's order and deadlock.
	ids := make([]string, len(todo))
	for i, a := range todo {
		ids[i] = a.id
	}
	if err := s.lockCampaignsOf(ctx, tx, ids); err != nil {
		return eff, err
	}
	for _, a := range todo {
		// Decide on the status as it is now, not as the scan saw it.
		status, err := accountStatus(ctx, tx, a.id)
		if err != nil {
			return eff, err
		}
		var e AccountEffect
		if status == account.StatusConnected {
			e, err = s.ResumeAccountCaused(ctx, tx, a.id)
		} else {
			e, err = s.PauseForAccount(ctx, tx, a.id, ReasonForAccountStatus(status))
		}
		if err != nil {
			return eff, err
		}
		eff.SoftPaused += e.SoftPaused
		eff.Reactivated += e.Reactivated
		eff.Paused = append(eff.Paused, e.Paused...)
		eff.Resumed = append(eff.Resumed, e.Resumed...)
	}
	return eff, nil
}
