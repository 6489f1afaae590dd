package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// Enrollment state (state, step_id, next_action_at, ended_reason,
// last_error, failures, accepted_at, replied_at) is written only by this
// package. The sender moves prospects through their sequence by calling
// the exported functions here inside its own transactions; each is one
// statement, as the sender's own statements were before.

// LockedEnrollment is an enrollment read under its row lock.
type LockedEnrollment struct {
	ID, WorkspaceID, CampaignID, ProspectID, AccountID string
	// StepID is empty before the campaign starts the enrollment.
	StepID string
	State  EnrollmentState
	// NextActionAt is zero when nothing is scheduled.
	NextActionAt          time.Time
	AcceptedAt, RepliedAt sql.NullTime
	Failures              int
	EndedReason           string
}

// LockEnrollment reads an enrollment in any state and locks it until tx
// ends (PostgreSQL; SQLite's write transaction already excludes others).
func (s *Service) LockEnrollment(ctx context.Context, tx *sql.Tx, enrollmentID string) (LockedEnrollment, error) {
	var (
		r      LockedEnrollment
		step   sql.NullString
		next   sql.NullTime
		reason sql.NullString
	)
	err := tx.QueryRowContext(ctx, `SELECT id, workspace_id, campaign_id, prospect_id, account_id, step_id,
		next_action_at, accepted_at, replied_at, failures, state, ended_reason FROM enrollments WHERE id = $1`+s.db.LockForUpdate(), enrollmentID).
		Scan(&r.ID, &r.WorkspaceID, &r.CampaignID, &r.ProspectID, &r.AccountID, &step, &next, &r.AcceptedAt, &r.RepliedAt, &r.Failures,
			&r.State, &reason)
	if err != nil {
		return r, fmt.Errorf("locking enrollment %s: %w", enrollmentID, err)
	}
	r.StepID, r.NextActionAt, r.EndedReason = step.String, next.Time, reason.String
	return r, nil
}

// EnrollmentStep reads where an enrollment stands, without a lock.
func (s *Service) EnrollmentStep(ctx context.Context, tx *sql.Tx, enrollmentID string) (state EnrollmentState, stepID string, err error) {
	var step sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT state, step_id FROM enrollments WHERE id = $1`, enrollmentID).Scan(&state, &step); err != nil {
		return "", "", fmt.Errorf("reading enrollment %s: %w", enrollmentID, err)
	}
	return state, step.String, nil
}

// ProspectsMatching lists the workspace's prospects one of whose ids is
// the person's: the member id against the imported provider id, the
// Sales Navigator lead id and the member id resolved at invite time; the
// handle against the imported /in/ handle and the resolved one (either
// argument may be empty; empty matches nothing). See
// docs/campaigns.md#matching-accepts.
func (s *Service) ProspectsMatching(ctx context.Context, tx *sql.Tx, workspaceID, providerID, slug string) ([]string, error) {
	return s.ids(ctx, tx, "matching prospect", `SELECT id FROM prospects WHERE workspace_id = $1
		AND (($2 <> '' AND (provider_id = $2 OR member_id = $2 OR sales_nav_id = $2))
		  OR ($3 <> '' AND (public_slug = $3 OR public_handle = $3)))`, workspaceID, providerID, slug)
}

// RecordProviderID remembers a prospect's member id when it has none and
// no other prospect of the workspace has it: later steps address the
// person by it.
func (s *Service) RecordProviderID(ctx context.Context, tx *sql.Tx, workspaceID, prospectID, providerID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE prospects SET provider_id = $2 WHERE id = $1 AND provider_id IS NULL
		AND NOT EXISTS (SELECT 1 FROM prospects o WHERE o.workspace_id = $3 AND o.provider_id = $2)`, prospectID, providerID, workspaceID); err != nil {
		return fmt.Errorf("recording member id: %w", err)
	}
	return nil
}

// RecordResolved keeps the member id and /in/ handle the provider resolved
// for a prospect when Keel addressed them (either may be empty: kept as
// it was), so an accept naming the person either way finds them.
func (s *Service) RecordResolved(ctx context.Context, tx *sql.Tx, prospectID, memberID, handle string, now time.Time) error {
	if memberID == "" && handle == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE prospects SET member_id = COALESCE($2, member_id),
		public_handle = COALESCE($3, public_handle), updated_at = $4 WHERE id = $1`,
		prospectID, db.NullIfEmpty(memberID), db.NullIfEmpty(strings.ToLower(handle)), now); err != nil {
		return fmt.Errorf("recording the resolved ids of prospect %s: %w", prospectID, err)
	}
	return nil
}

// NotAccepted lists the enrollments of a prospect on one sender account
// that have no accept recorded yet.
func (s *Service) NotAccepted(ctx context.Context, tx *sql.Tx, prospectID, accountID string) ([]string, error) {
	return s.ids(ctx, tx, "finding enrollments to stamp",
		`SELECT id FROM enrollments WHERE prospect_id = $1 AND account_id = $2 AND accepted_at IS NULL`, prospectID, accountID)
}

// NotReplied lists the enrollments on one sender account of the
// workspace's prospect with the member id that have no reply recorded yet.
func (s *Service) NotReplied(ctx context.Context, tx *sql.Tx, workspaceID, providerID, accountID string) ([]string, error) {
	return s.ids(ctx, tx, "matching reply", `SELECT en.id FROM enrollments en JOIN prospects p ON p.id = en.prospect_id
		WHERE p.workspace_id = $1 AND (p.provider_id = $2 OR p.member_id = $2) AND en.account_id = $3 AND en.replied_at IS NULL`,
		workspaceID, providerID, accountID)
}

// LiveOfPersonElsewhere lists the live enrollments in the workspace of the
// prospect(s) with the member id on senders other than accountID: a
// message from the person to any sender stops them
// (docs/contacts.md#reply-stops-everything).
func (s *Service) LiveOfPersonElsewhere(ctx context.Context, tx *sql.Tx, workspaceID, providerID, accountID string) ([]string, error) {
	return s.ids(ctx, tx, "matching reply in the workspace", `SELECT en.id FROM enrollments en JOIN prospects p ON p.id = en.prospect_id
		WHERE p.workspace_id = $1 AND (p.provider_id = $2 OR p.member_id = $2) AND en.workspace_id = $1
		  AND en.account_id <> $3 AND en.state IN `+liveStates+` ORDER BY en.id`,
		workspaceID, providerID, accountID)
}

// ids runs a query of one text column and collects it.
func (s *Service) ids(ctx context.Context, tx *sql.Tx, what, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// MarkAccepted records that the prospect accepted the invitation.
func (s *Service) MarkAccepted(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET accepted_at = $2, updated_at = $2 WHERE id = $1`, enrollmentID, now); err != nil {
		return fmt.Errorf("stamping accept on %s: %w", enrollmentID, err)
	}
	return nil
}

// MarkReplied records the prospect's first reply (a later one keeps it).
func (s *Service) MarkReplied(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET replied_at = $2, updated_at = $2 WHERE id = $1 AND replied_at IS NULL`, enrollmentID, now); err != nil {
		return fmt.Errorf("stamping reply on %s: %w", enrollmentID, err)
	}
	return nil
}

// StopOnReply ends the sequence of a prospect who replied (state
// replied). The caller then asks CompleteIfFinished.
func (s *Service) StopOnReply(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'replied', next_action_at = NULL, parked_by = NULL, updated_at = $2 WHERE id = $1`, enrollmentID, now); err != nil {
		return fmt.Errorf("stopping %s on reply: %w", enrollmentID, err)
	}
	return nil
}

// Complete marks a prospect through the whole sequence. The caller then
// asks CompleteIfFinished.
func (s *Service) Complete(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'completed', next_action_at = NULL, parked_by = NULL, updated_at = $2 WHERE id = $1`, enrollmentID, now); err != nil {
		return fmt.Errorf("completing enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// Advance puts an enrollment on a step, due at due.
func (s *Service) Advance(ctx context.Context, tx *sql.Tx, enrollmentID, stepID string, due, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET step_id = $2, next_action_at = $3, parked_by = NULL, updated_at = $4 WHERE id = $1`,
		enrollmentID, stepID, due, now); err != nil {
		return fmt.Errorf("moving enrollment %s to step %s: %w", enrollmentID, stepID, err)
	}
	return nil
}

// DeferStatement is the UPDATE that Defer runs, with the enrollment id,
// the new due time and now bound to the numbered parameters given. The
// sender's claim on PostgreSQL embeds it in the one statement that also
// writes the ledger row and the account's pacing (writable CTEs), so a
// claim stays one round trip while its enrollment write is still spelled
// here.
func DeferStatement(idParam, untilParam, nowParam int) string {
	return fmt.Sprintf(`UPDATE enrollments SET next_action_at = $%d, parked_by = NULL, updated_at = $%d WHERE id = $%d AND state = 'active'`,
		untilParam, nowParam, idParam)
}

// deferSQL is DeferStatement for Defer's own arguments.
var deferSQL = DeferStatement(1, 2, 3)

// Defer makes an active enrollment due again at until (a send in flight,
// a recheck); an enrollment no longer active is left. The enrollment is
// then parked by nothing: a change of settings does not bring it forward
// (docs/sending.md#re-evaluation). A closed gate parks with DeferGroup.
// The claim's statement on PostgreSQL (DeferStatement) writes the same.
func (s *Service) Defer(ctx context.Context, tx *sql.Tx, enrollmentID string, until, now time.Time) error {
	if _, err := tx.ExecContext(ctx, deferSQL, enrollmentID, until, now); err != nil {
		return fmt.Errorf("deferring enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// StepGroup names the active enrollments of one sender at one step of a
// campaign: those a closed sending gate holds together.
type StepGroup struct {
	AccountID, CampaignID, StepID string
}

// DeferGroup parks every due active enrollment of the group until the
// time the gate (its code, e.g. "window") would clear, so none is looked
// at before then — unless something that can lift the gate changes first:
// Reevaluate makes enrollments parked here due again
// (docs/sending.md#re-evaluation).
func (s *Service) DeferGroup(ctx context.Context, tx *sql.Tx, g StepGroup, gate string, until, now time.Time) error {
	if gate == "" {
		return fmt.Errorf("deferring enrollments at step %s: the gate's code is required", g.StepID)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET next_action_at = $4, parked_by = $6, updated_at = $5
		WHERE account_id = $1 AND campaign_id = $2 AND step_id = $3 AND state = 'active' AND next_action_at <= $5`,
		g.AccountID, g.CampaignID, g.StepID, until, now, gate); err != nil {
		return fmt.Errorf("deferring enrollments at step %s: %w", g.StepID, err)
	}
	return nil
}

// Park makes one active enrollment due at until, parked by gate (a
// policy code), as DeferGroup parks a group: Reevaluate brings it forward
// when something that can lift the gate changes, e.g. an InMail top-up
// after the provider answered "no credits" (docs/sending.md#re-evaluation).
func (s *Service) Park(ctx context.Context, tx *sql.Tx, enrollmentID, gate string, until, now time.Time) error {
	if gate == "" {
		return fmt.Errorf("parking enrollment %s: the gate's code is required", enrollmentID)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET next_action_at = $2, parked_by = $4, updated_at = $3
		WHERE id = $1 AND state = 'active'`, enrollmentID, until, now, gate); err != nil {
		return fmt.Errorf("parking enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// HoldCode is the parked_by of a prospect held because a variable its
// current step uses is empty for them and the template has no fallback
// (docs/campaigns.md#holds).
const HoldCode = "template_variable_missing"

// HoldRecheck is how long a hold lasts when nothing lifts it sooner: the
// prospect is looked at again then, and held again if still empty.
// Editing the campaign or re-importing prospects lifts holds at once.
const HoldRecheck = 30 * 24 * time.Hour

// Hold parks one active enrollment whose step cannot be rendered for its
// prospect (HoldReason), with the reason in last_error, until
// now+HoldRecheck. Nothing is sent and nothing fails; the campaign keeps
// running for everyone else (docs/campaigns.md#holds).
func (s *Service) Hold(ctx context.Context, tx *sql.Tx, enrollmentID, reason string, now time.Time) error {
	if reason == "" {
		return fmt.Errorf("holding enrollment %s: a reason is required", enrollmentID)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET next_action_at = $2, parked_by = $4, last_error = $5, updated_at = $3
		WHERE id = $1 AND state = 'active'`, enrollmentID, now.Add(HoldRecheck), now, HoldCode, reason); err != nil {
		return fmt.Errorf("holding enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// End stops a prospect's sequence early for the visible reason. The
// caller then asks CompleteIfFinished.
func (s *Service) End(ctx context.Context, tx *sql.Tx, enrollmentID, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'ended', ended_reason = $2, next_action_at = NULL, parked_by = NULL, updated_at = $3 WHERE id = $1`,
		enrollmentID, reason, now); err != nil {
		return fmt.Errorf("ending enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// Fail stops a live prospect's sequence on a provider error (state
// failed), counting the failure up to MaxFailures. The caller then asks
// CompleteIfFinished.
func (s *Service) Fail(ctx context.Context, tx *sql.Tx, enrollmentID, lastError string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'failed', last_error = $2, next_action_at = NULL, parked_by = NULL,
		failures = CASE WHEN failures < 3 THEN failures + 1 ELSE failures END, updated_at = $3
		WHERE id = $1 AND state IN ('active', 'soft_paused')`, enrollmentID, lastError, now); err != nil {
		return fmt.Errorf("failing enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// CountFailure uses one of an active prospect's tries on an external
// failure and makes it due again at retryAt.
func (s *Service) CountFailure(ctx context.Context, tx *sql.Tx, enrollmentID, lastError string, retryAt, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET failures = failures + 1, last_error = $2,
		next_action_at = $3, parked_by = NULL, updated_at = $4 WHERE id = $1 AND state = 'active'`,
		enrollmentID, lastError, retryAt, now); err != nil {
		return fmt.Errorf("counting failure of enrollment %s: %w", enrollmentID, err)
	}
	return nil
}

// senderConnected is true in an enrollments UPDATE when the row's sender is
// connected: its prospects are active, the others' soft-paused.
const senderConnected = `(SELECT a.status FROM linkedin_accounts a WHERE a.id = enrollments.account_id) = 'connected'`

// ResumeLateAcceptTx brings back an enrollment that ended at an
// if-accepted condition when the accept arrives late (late_accept_policy
// follow_up): active, or soft-paused if its sender is not connected, as
// activate would leave it; and its campaign, if it completed meanwhile,
// runs again (Reconcile pauses a running campaign with no connected
// sender). The caller then moves the enrollment to the condition's
// then-branch. A person who is live in another enrollment of the
// workspace, or who replied in one, is not brought back
// (docs/contacts.md#one-live-sequence): resumed is false then and nothing
// changed.
func (s *Service) ResumeLateAcceptTx(ctx context.Context, tx *sql.Tx, campaignID, enrollmentID string, now time.Time) (resumed bool, err error) {
	res, err := tx.ExecContext(ctx, `UPDATE enrollments
		   SET state = CASE WHEN `+senderConnected+` THEN 'active' ELSE 'soft_paused' END,
		       ended_reason = NULL, ended_at = NULL, next_action_at = $2, parked_by = NULL, updated_at = $2
		 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM enrollments o
		        WHERE o.workspace_id = enrollments.workspace_id AND o.prospect_id = enrollments.prospect_id
		          AND o.id <> enrollments.id AND (o.state IN `+liveStates+` OR o.replied_at IS NOT NULL))`, enrollmentID, now)
	if err != nil {
		return false, fmt.Errorf("resuming late accept %s: %w", enrollmentID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', updated_at = $2 WHERE id = $1 AND status = 'completed'`,
		campaignID, now); err != nil {
		return false, fmt.Errorf("reopening campaign %s for a late accept: %w", campaignID, err)
	}
	return true, nil
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
		 WHERE campaign_id = $1 AND state = 'soft_paused' AND `+notHeldByPerson+` AND `+senderConnected, c.ID, now); err != nil {
		return fmt.Errorf("reactivating enrollments of campaign %s: %w", c.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'soft_paused', updated_at = $2
		 WHERE campaign_id = $1 AND state = 'active' AND NOT `+senderConnected, c.ID, now); err != nil {
		return fmt.Errorf("soft-pausing enrollments of campaign %s: %w", c.ID, err)
	}
	return nil
}

// endLive ends every enrollment of a campaign whose sequence is not over,
// for reason.
func endLive(ctx context.Context, tx *sql.Tx, campaignID, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'ended', ended_reason = $2, next_action_at = NULL, parked_by = NULL, updated_at = $3
		 WHERE campaign_id = $1 AND state IN `+liveStates, campaignID, reason, now)
	return err
}

// softPauseSender soft-pauses the active enrollments of one sender in a
// campaign (step and due time kept) and counts them.
func softPauseSender(ctx context.Context, tx *sql.Tx, campaignID, accountID string, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'soft_paused', updated_at = $3
		 WHERE campaign_id = $1 AND account_id = $2 AND state = 'active'`, campaignID, accountID, now)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// reactivateSender makes the soft-paused enrollments of one sender in a
// campaign active again (due at their kept time, or now) and counts them.
func reactivateSender(ctx context.Context, tx *sql.Tx, campaignID, accountID string, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE enrollments SET state = 'active', next_action_at = COALESCE(next_action_at, $3), updated_at = $3
		 WHERE campaign_id = $1 AND account_id = $2 AND state = 'soft_paused' AND `+notHeldByPerson, campaignID, accountID, now)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Scope names the enrollments a change can concern: one sender's
// (AccountID), one campaign's (CampaignID), or, with both, one sender's in
// one campaign. ParkedBy, when set, narrows it to the enrollments one gate
// parked (an acceptance frees only what the pending cap held).
type Scope struct {
	AccountID, CampaignID string
	ParkedBy              string
}

// Reevaluate makes the active enrollments in scope that a closed gate
// parked (DeferGroup) due at now, in the caller's transaction, because
// something that can lift the gate changed: the next scheduler pass asks
// the gates again instead of waiting for a time computed on the old
// settings (docs/sending.md#re-evaluation). Waits, condition timeouts and
// in-flight rechecks are not parked by a gate and keep their times.
// Soft-paused enrollments keep their parking until they are active again.
// It returns how many enrollments it made due.
func (s *Service) Reevaluate(ctx context.Context, tx *sql.Tx, sc Scope, now time.Time) (int, error) {
	if sc.AccountID == "" && sc.CampaignID == "" {
		return 0, fmt.Errorf("re-evaluating parked enrollments: an account or a campaign is required")
	}
	// Only the scope's columns are named, so the sender or campaign index
	// finds the rows.
	// A hold (HoldCode) is lifted only when asked for by name: no gate or
	// setting can fill an empty variable; an edit or an import can. Its
	// sentence goes with it.
	query, args := `UPDATE enrollments SET next_action_at = $1, parked_by = NULL,
		last_error = CASE WHEN parked_by = '`+HoldCode+`' THEN NULL ELSE last_error END, updated_at = $1
		WHERE state = 'active' AND parked_by IS NOT NULL AND next_action_at > $1`, []any{now}
	if sc.ParkedBy == "" {
		query += ` AND parked_by <> '` + HoldCode + `'`
	}
	if sc.AccountID != "" {
		args = append(args, sc.AccountID)
		query += fmt.Sprintf(` AND account_id = $%d`, len(args))
	}
	if sc.CampaignID != "" {
		args = append(args, sc.CampaignID)
		query += fmt.Sprintf(` AND campaign_id = $%d`, len(args))
	}
	if sc.ParkedBy != "" {
		args = append(args, sc.ParkedBy)
		query += fmt.Sprintf(` AND parked_by = $%d`, len(args))
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("re-evaluating parked enrollments: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// LatestCampaignOf is the campaign of a prospect's live sequence, else of
// their latest one ("" when they were never enrolled): the campaign a
// conversation with them belongs to.
func (s *Service) LatestCampaignOf(ctx context.Context, q db.Querier, prospectID string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT campaign_id FROM enrollments WHERE prospect_id = $1
		ORDER BY CASE WHEN state IN `+liveStates+` THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1`, prospectID).Scan(&id)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("finding the campaign of prospect %s: %w", prospectID, err)
	}
	return id, nil
}
