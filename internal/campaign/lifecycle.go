package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

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
}

// senders reads the current senders of a campaign with their statuses.
func (s *Service) senders(ctx context.Context, tx *sql.Tx, campaignID string) ([]sender, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT a.id, a.workspace_id, a.status, a.last_error
		  FROM campaign_accounts ca JOIN linkedin_accounts a ON a.id = ca.account_id
		 WHERE ca.campaign_id = $1 AND ca.removed_at IS NULL
		 ORDER BY ca.position, a.id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading senders of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []sender
	for rows.Next() {
		var sd sender
		var lastErr sql.NullString
		if err := rows.Scan(&sd.AccountID, &sd.WorkspaceID, &sd.Status, &lastErr); err != nil {
			return nil, fmt.Errorf("reading senders of campaign %s: %w", campaignID, err)
		}
		sd.LastError = lastErr.String
		out = append(out, sd)
	}
	return out, rows.Err()
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
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', paused_reason = NULL, updated_at = $2 WHERE id = $1`,
			c.ID, now); err != nil {
			return fmt.Errorf("starting campaign %s: %w", c.ID, err)
		}
		c.Status, c.PausedReason, c.UpdatedAt = StatusRunning, "", now
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

	var live int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND state IN `+liveStates,
		c.ID).Scan(&live); err != nil {
		return nil, fmt.Errorf("counting enrollable prospects of campaign %s: %w", c.ID, err)
	}
	if live == 0 {
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM enrollments WHERE campaign_id = $1`, c.ID).Scan(&done); err != nil {
			return nil, fmt.Errorf("counting prospects of campaign %s: %w", c.ID, err)
		}
		msg := "the campaign has no prospect to contact: import prospects (CSV or JSON with a linkedin_url or provider_id) first"
		if done > 0 {
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
				var missing int
				var example sql.NullString
				if err := tx.QueryRowContext(ctx, `
					SELECT count(*), min(COALESCE(p.linkedin_url, p.sales_nav_id, p.provider_id))
					  FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
					 WHERE e.campaign_id = $1 AND e.state IN `+liveStates+` AND NOT (`+s.customFieldCond(2)+`)`,
					c.ID, s.customFieldArg(v)).Scan(&missing, &example); err != nil {
					return nil, fmt.Errorf("checking variable %s of campaign %s: %w", v, c.ID, err)
				}
				if missing == 0 {
					continue
				}
				errs = append(errs, FieldError{Field: fmt.Sprintf("steps[%d].%s", i, tf[0]), Message: fmt.Sprintf(
					"variable {{%s}} in step %s has no value for %d of %d prospects (e.g. %s): import that column for them, or write {{%s|fallback}}",
					v, st.ID, missing, live, example.String, v)})
			}
		}
	}
	return errs, nil
}

// senderConnected is true in an enrollments UPDATE when the row's sender is
// connected: its prospects are active, the others' soft-paused.
const senderConnected = `(SELECT a.status FROM linkedin_accounts a WHERE a.id = enrollments.account_id) = 'connected'`

// ResumeLateAcceptTx brings back an enrollment that ended at an
// if-accepted condition when the accept arrives late (late_accept_policy
// follow_up): active, or soft-paused if its sender is not connected, as
// activate would leave it; and its campaign, if it completed meanwhile,
// runs again (Reconcile pauses a running campaign with no connected
// sender). The caller moves the enrollment to the condition's then-branch.
func (s *Service) ResumeLateAcceptTx(ctx context.Context, tx *sql.Tx, campaignID, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments
		   SET state = CASE WHEN `+senderConnected+` THEN 'active' ELSE 'soft_paused' END,
		       ended_reason = NULL, next_action_at = $2, updated_at = $2
		 WHERE id = $1`, enrollmentID, now); err != nil {
		return fmt.Errorf("resuming late accept %s: %w", enrollmentID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', updated_at = $2 WHERE id = $1 AND status = 'completed'`,
		campaignID, now); err != nil {
		return fmt.Errorf("reopening campaign %s for a late accept: %w", campaignID, err)
	}
	return nil
}

// activate puts a campaign's live enrollments in the state their sender
// allows: pending ones start at the first step, due now; a connected
// sender's prospects are active, the others' soft-paused.
func (s *Service) activate(ctx context.Context, tx *sql.Tx, c Campaign, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE enrollments
		   SET state = CASE WHEN `+senderConnected+` THEN 'active' ELSE 'soft_paused' END,
		       step_id = $2, next_action_at = $3, updated_at = $3
		 WHERE campaign_id = $1 AND state = 'pending'`, c.ID, FirstStepID(c.Steps), now); err != nil {
		return fmt.Errorf("activating pending enrollments of campaign %s: %w", c.ID, err)
	}
	// Enrollments already under way: bring any that disagree with their
	// sender's status into line (a flip's consequence normally did).
	if _, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'active', next_action_at = COALESCE(next_action_at, $2), updated_at = $2
		 WHERE campaign_id = $1 AND state = 'soft_paused' AND `+senderConnected, c.ID, now); err != nil {
		return fmt.Errorf("reactivating enrollments of campaign %s: %w", c.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'soft_paused', updated_at = $2
		 WHERE campaign_id = $1 AND state = 'active' AND NOT `+senderConnected, c.ID, now); err != nil {
		return fmt.Errorf("soft-pausing enrollments of campaign %s: %w", c.ID, err)
	}
	return nil
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
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'paused', paused_reason = 'manual', updated_at = $2 WHERE id = $1`,
			c.ID, now); err != nil {
			return fmt.Errorf("pausing campaign %s: %w", c.ID, err)
		}
		c.Status, c.PausedReason, c.UpdatedAt = StatusPaused, ReasonManual, now
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

// PauseTx pauses a running campaign for a reason Keel itself found
// (high_failure_rate, template_error) inside the caller's transaction. It
// reports whether the campaign was running (and is now paused).
func (s *Service) PauseTx(ctx context.Context, tx *sql.Tx, campaignID string, reason PausedReason) (bool, error) {
	if !reason.Valid() {
		return false, fmt.Errorf("pausing campaign %s: unknown reason %q", campaignID, reason)
	}
	res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'paused', paused_reason = $2, updated_at = $3
		WHERE id = $1 AND status = 'running'`, campaignID, string(reason), s.clock.Now())
	if err != nil {
		return false, fmt.Errorf("pausing campaign %s (%s): %w", campaignID, reason, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
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
		if _, err := tx.ExecContext(ctx, `
			UPDATE enrollments SET state = 'ended', ended_reason = $2, next_action_at = NULL, updated_at = $3
			 WHERE campaign_id = $1 AND state IN `+liveStates, c.ID, EndedCampaignArchived, now); err != nil {
			return fmt.Errorf("ending enrollments of archived campaign %s: %w", c.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'archived', paused_reason = NULL, updated_at = $2 WHERE id = $1`,
			c.ID, now); err != nil {
			return fmt.Errorf("archiving campaign %s: %w", c.ID, err)
		}
		c.Status, c.PausedReason, c.UpdatedAt = StatusArchived, "", now
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

// CompleteIfFinished marks a running campaign completed once none of its
// prospects is still in the sequence. It reports whether it did.
func (s *Service) CompleteIfFinished(ctx context.Context, tx *sql.Tx, campaignID string) (bool, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE campaigns SET status = 'completed', updated_at = $2
		 WHERE id = $1 AND status = 'running'
		   AND EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1)
		   AND NOT EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1 AND state IN `+liveStates+`)`,
		campaignID, s.clock.Now())
	if err != nil {
		return false, fmt.Errorf("completing campaign %s: %w", campaignID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

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

func accountStatus(ctx context.Context, tx *sql.Tx, accountID string) (account.Status, error) {
	var status account.Status
	if err := tx.QueryRowContext(ctx, `SELECT status FROM linkedin_accounts WHERE id = $1`, accountID).Scan(&status); err != nil {
		return "", fmt.Errorf("reading status of account %s: %w", accountID, err)
	}
	return status, nil
}

// lockSenderCampaigns locks, in id order, the running and paused
// campaigns the account is a current sender of. A fixed order (campaign
// rows before their enrollments, campaigns by id) keeps concurrent flips
// and starts from deadlocking on PostgreSQL.
func (s *Service) lockSenderCampaigns(ctx context.Context, tx *sql.Tx, accountID string) ([]Campaign, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT `+campaignColumns+` FROM campaigns
		 WHERE id IN (SELECT campaign_id FROM campaign_accounts WHERE account_id = $1 AND removed_at IS NULL)
		   AND status IN ('running', 'paused')
		 ORDER BY id`+s.db.LockForUpdate(), accountID)
	if err != nil {
		return nil, fmt.Errorf("locking campaigns of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("locking campaigns of account %s: %w", accountID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

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
		res, err := tx.ExecContext(ctx, `
			UPDATE enrollments SET state = 'soft_paused', updated_at = $3
			 WHERE campaign_id = $1 AND account_id = $2 AND state = 'active'`, c.ID, accountID, now)
		if err != nil {
			return eff, fmt.Errorf("soft-pausing enrollments of account %s in campaign %s: %w", accountID, c.ID, err)
		}
		n, _ := res.RowsAffected()
		eff.SoftPaused += int(n)
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
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'paused', paused_reason = $2, updated_at = $3 WHERE id = $1`,
			c.ID, string(reason), now); err != nil {
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
// kept time, or now). Campaigns paused for an account reason
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
		res, err := tx.ExecContext(ctx, `
			UPDATE enrollments SET state = 'active', next_action_at = COALESCE(next_action_at, $3), updated_at = $3
			 WHERE campaign_id = $1 AND account_id = $2 AND state = 'soft_paused'`, c.ID, accountID, now)
		if err != nil {
			return eff, fmt.Errorf("reactivating enrollments of account %s in campaign %s: %w", accountID, c.ID, err)
		}
		n, _ := res.RowsAffected()
		eff.Reactivated += int(n)
		if c.Status != StatusPaused || !c.PausedReason.AccountCaused() {
			continue
		}
		if err := s.activate(ctx, tx, c, now); err != nil {
			return eff, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', paused_reason = NULL, updated_at = $2 WHERE id = $1`,
			c.ID, now); err != nil {
			return eff, fmt.Errorf("resuming campaign %s for account %s: %w", c.ID, accountID, err)
		}
		eff.Resumed = append(eff.Resumed, c.ID)
	}
	return eff, nil
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
	rows, err := tx.QueryContext(ctx, `
		SELECT DISTINCT e.account_id, a.status
		  FROM enrollments e JOIN linkedin_accounts a ON a.id = e.account_id
		  JOIN campaigns c ON c.id = e.campaign_id AND c.status IN ('running', 'paused')
		 WHERE (e.state = 'soft_paused' AND a.status = 'connected')
		    OR (e.state = 'active' AND a.status <> 'connected')
		UNION
		SELECT DISTINCT ca.account_id, a.status
		  FROM campaigns c JOIN campaign_accounts ca ON ca.campaign_id = c.id AND ca.removed_at IS NULL
		  JOIN linkedin_accounts a ON a.id = ca.account_id
		 WHERE (c.status = 'paused' AND c.paused_reason IN ('account_disconnected', 'account_restricted', 'account_error', 'needs_verification')
		        AND a.status = 'connected')
		    OR (c.status = 'running' AND NOT EXISTS (
		          SELECT 1 FROM campaign_accounts ca2 JOIN linkedin_accounts a2 ON a2.id = ca2.account_id
		           WHERE ca2.campaign_id = c.id AND ca2.removed_at IS NULL AND a2.status = 'connected'))`)
	if err != nil {
		return eff, fmt.Errorf("finding campaign leftovers of account flips: %w", err)
	}
	type acct struct {
		id     string
		status account.Status
	}
	var todo []acct
	for rows.Next() {
		var a acct
		if err := rows.Scan(&a.id, &a.status); err != nil {
			rows.Close()
			return eff, fmt.Errorf("finding campaign leftovers of account flips: %w", err)
		}
		todo = append(todo, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return eff, fmt.Errorf("finding campaign leftovers of account flips: %w", err)
	}
	if len(todo) == 0 {
		return eff, nil
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].id < todo[j].id })
	// Lock every campaign involved at once, in id order: a flip locks its
	// account and then its campaigns in id order, so taking campaigns one
	// account at a time here could cross a flip's order and deadlock.
	args := make([]any, len(todo))
	for i, a := range todo {
		args[i] = a.id
	}
	lock, err := tx.QueryContext(ctx, `SELECT id FROM campaigns
		 WHERE id IN (SELECT campaign_id FROM campaign_accounts WHERE account_id IN (`+placeholders(1, len(args))+`) AND removed_at IS NULL)
		   AND status IN ('running', 'paused')
		 ORDER BY id`+s.db.LockForUpdate(), args...)
	if err != nil {
		return eff, fmt.Errorf("locking campaigns to reconcile: %w", err)
	}
	lock.Close()
	if err := lock.Err(); err != nil {
		return eff, fmt.Errorf("locking campaigns to reconcile: %w", err)
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
