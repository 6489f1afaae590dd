package send

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
)

// AcceptSignal says a person accepted an invitation sent by an account. All
// four detection paths (new_relation webhook, relations polling, the
// invite-note chat, an "already connected" answer) build one and call
// StampAccepted, so an accept is detected and acted on exactly once.
type AcceptSignal struct {
	WorkspaceID string
	AccountID   string
	// ProviderID is the person's member id; Slug their public /in/ handle.
	// Either may be empty; Sales Navigator URNs match neither, so imports
	// keep the slug (field failure P13).
	ProviderID string
	Slug       string
	Source     string
}

// StampAccepted records an accept on the matching enrollments of the
// account and moves any waiting on if_accepted to its then-branch. A late
// accept (the wait already timed out) follows the campaign's late-accept
// policy. A signal matching more than one prospect is ambiguous: nothing is
// stamped and an alert is raised. It returns how many enrollments it
// stamped.
func (e *Engine) StampAccepted(ctx context.Context, tx *sql.Tx, sig AcceptSignal) (int, error) {
	now := e.opts.Clock.Now()
	slug := strings.ToLower(strings.TrimSpace(sig.Slug))
	if sig.ProviderID == "" && slug == "" {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM prospects WHERE workspace_id = $1
		AND ((provider_id = $2 AND $2 <> '') OR (public_slug = $3 AND $3 <> ''))`, sig.WorkspaceID, sig.ProviderID, slug)
	if err != nil {
		return 0, fmt.Errorf("matching accept: %w", err)
	}
	var prospects []string
	for rows.Next() {
		var pid string
		if err := rows.Scan(&pid); err != nil {
			rows.Close()
			return 0, err
		}
		prospects = append(prospects, pid)
	}
	rows.Close()
	switch {
	case len(prospects) == 0:
		return 0, nil
	case len(prospects) > 1:
		_, _, err := alert.Raise(ctx, tx, now, alert.New{WorkspaceID: sig.WorkspaceID, Kind: alert.KindAmbiguousAccept, Severity: alert.Warning,
			SubjectType: "account", SubjectID: sig.AccountID, DedupeKey: "ambiguous_accept:" + sig.AccountID + ":" + sig.ProviderID + ":" + slug,
			Message: fmt.Sprintf("An accepted invitation (member %q, handle %q) matches %d prospects; none was advanced. Merge the duplicates.", sig.ProviderID, slug, len(prospects))})
		return 0, err
	}
	if sig.ProviderID != "" {
		// Remember the member id: later steps address the person by it.
		if _, err := tx.ExecContext(ctx, `UPDATE prospects SET provider_id = $2 WHERE id = $1 AND provider_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM prospects o WHERE o.workspace_id = $3 AND o.provider_id = $2)`, prospects[0], sig.ProviderID, sig.WorkspaceID); err != nil {
			return 0, fmt.Errorf("recording member id: %w", err)
		}
	}
	erows, err := tx.QueryContext(ctx, `SELECT id FROM enrollments WHERE prospect_id = $1 AND account_id = $2 AND accepted_at IS NULL`, prospects[0], sig.AccountID)
	if err != nil {
		return 0, fmt.Errorf("finding enrollments to stamp: %w", err)
	}
	var ids []string
	for erows.Next() {
		var id string
		if err := erows.Scan(&id); err != nil {
			erows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	erows.Close()
	for _, id := range ids {
		if err := e.stampOne(ctx, tx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func (e *Engine) stampOne(ctx context.Context, tx *sql.Tx, enrollmentID string) error {
	now := e.opts.Clock.Now()
	var state, endedReason sql.NullString
	var step sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT state, step_id, ended_reason FROM enrollments WHERE id = $1`+e.opts.DB.ForUpdate(), enrollmentID).
		Scan(&state, &step, &endedReason); err != nil {
		return fmt.Errorf("locking enrollment %s: %w", enrollmentID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET accepted_at = $2, updated_at = $2 WHERE id = $1 AND accepted_at IS NULL`, enrollmentID, now); err != nil {
		return fmt.Errorf("stamping accept on %s: %w", enrollmentID, err)
	}
	en, err := e.lockEnrollmentAny(ctx, tx, enrollmentID)
	if err != nil {
		return err
	}
	camp, err := e.opts.Campaigns.Get(ctx, tx, "", en.campaignID)
	if err != nil {
		return err
	}
	cur, _ := campaign.StepByID(camp.Steps, step.String)
	switch {
	case state.String == string(campaign.EnrollmentActive) && cur.Type == campaign.StepIfAccepted:
		return e.moveTo(ctx, tx, camp, en, cur.Then, now, 0)
	case state.String == string(campaign.EnrollmentEnded) && cur.Type == campaign.StepIfAccepted &&
		strings.HasPrefix(endedReason.String, "condition "+cur.ID+" ") && camp.LateAcceptPolicy == campaign.LateAcceptFollowUp:
		// A late accept with follow_up: the prospect resumes at the
		// condition's then-branch, exactly as authored.
		if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'active', ended_reason = NULL, next_action_at = $2, updated_at = $2 WHERE id = $1`,
			enrollmentID, now); err != nil {
			return fmt.Errorf("resuming late accept %s: %w", enrollmentID, err)
		}
		return e.moveTo(ctx, tx, camp, en, cur.Then, now, 0)
	}
	return nil
}
