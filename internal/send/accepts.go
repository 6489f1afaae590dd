package send

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/unipile"
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
		if err := e.emit(ctx, tx, sig.WorkspaceID, "linkedin.invite_accepted", EventData{AccountID: sig.AccountID,
			EnrollmentID: id, ProspectID: prospects[0], ProviderID: sig.ProviderID, Source: sig.Source}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func (e *Engine) stampOne(ctx context.Context, tx *sql.Tx, enrollmentID string) error {
	now := e.opts.Clock.Now()
	en, err := e.lockEnrollmentAny(ctx, tx, enrollmentID)
	if err != nil {
		return err
	}
	if !en.acceptedAt.Valid {
		if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET accepted_at = $2, updated_at = $2 WHERE id = $1`, enrollmentID, now); err != nil {
			return fmt.Errorf("stamping accept on %s: %w", enrollmentID, err)
		}
		en.acceptedAt = sql.NullTime{Time: now, Valid: true}
	}
	camp, err := e.readCampaign(ctx, tx, en.campaignID)
	if err != nil {
		return err
	}
	cur, _ := campaign.StepByID(camp.Steps, en.stepID)
	switch {
	case en.state == string(campaign.EnrollmentActive) && cur.Type == campaign.StepIfAccepted:
		return e.moveTo(ctx, tx, camp, en, cur.Then, now, 0)
	case en.state == string(campaign.EnrollmentEnded) && cur.Type == campaign.StepIfAccepted &&
		strings.HasPrefix(en.endedReason.String, "condition "+cur.ID+" ") && camp.LateAcceptPolicy == campaign.LateAcceptFollowUp:
		// A late accept with follow_up: the prospect resumes at the
		// condition's then-branch, exactly as authored.
		if err := e.opts.Campaigns.ResumeLateAcceptTx(ctx, tx, camp.ID, enrollmentID, now); err != nil {
			return err
		}
		return e.moveTo(ctx, tx, camp, en, cur.Then, now, 0)
	}
	return nil
}

// ReplySignal says a person wrote to an account.
type ReplySignal struct {
	WorkspaceID string
	AccountID   string
	ProviderID  string
}

// StampReplied records a reply on the matching enrollments of the account
// (once). With stop-on-reply the sequence stops there (state replied); a
// prospect waiting on if_replied moves to its then-branch.
func (e *Engine) StampReplied(ctx context.Context, tx *sql.Tx, sig ReplySignal) (int, error) {
	if sig.ProviderID == "" {
		return 0, nil
	}
	now := e.opts.Clock.Now()
	rows, err := tx.QueryContext(ctx, `SELECT en.id FROM enrollments en JOIN prospects p ON p.id = en.prospect_id
		WHERE p.workspace_id = $1 AND p.provider_id = $2 AND en.account_id = $3 AND en.replied_at IS NULL`,
		sig.WorkspaceID, sig.ProviderID, sig.AccountID)
	if err != nil {
		return 0, fmt.Errorf("matching reply: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		en, err := e.lockEnrollmentAny(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		state := en.state
		if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET replied_at = $2, updated_at = $2 WHERE id = $1 AND replied_at IS NULL`, id, now); err != nil {
			return 0, fmt.Errorf("stamping reply on %s: %w", id, err)
		}
		if err := e.emit(ctx, tx, sig.WorkspaceID, "linkedin.reply_received", EventData{AccountID: sig.AccountID, CampaignID: en.campaignID,
			EnrollmentID: id, ProspectID: en.prospectID, ProviderID: sig.ProviderID}); err != nil {
			return 0, err
		}
		live := state == string(campaign.EnrollmentActive) || state == string(campaign.EnrollmentSoftPaused)
		if !live {
			continue
		}
		camp, err := e.readCampaign(ctx, tx, en.campaignID)
		if err != nil {
			return 0, err
		}
		cur, _ := campaign.StepByID(camp.Steps, en.stepID)
		switch {
		case camp.StopOnReply:
			if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET state = 'replied', next_action_at = NULL, updated_at = $2 WHERE id = $1`, id, now); err != nil {
				return 0, fmt.Errorf("stopping %s on reply: %w", id, err)
			}
			if _, err := e.opts.Campaigns.CompleteIfFinished(ctx, tx, en.campaignID); err != nil {
				return 0, err
			}
		case state == string(campaign.EnrollmentActive) && cur.Type == campaign.StepIfReplied:
			en.repliedAt = sql.NullTime{Time: now, Valid: true}
			if err := e.moveTo(ctx, tx, camp, en, cur.Then, now, 0); err != nil {
				return 0, err
			}
		}
	}
	return len(ids), nil
}

// PollRelations reads the first page of each connected account's
// relations and stamps accepts it finds: the safety net for a missed
// new_relation webhook, one call per account per run (run it about every
// 30 minutes).
func (e *Engine) PollRelations(ctx context.Context) (int, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, `SELECT DISTINCT a.id, a.workspace_id, a.provider_account_id
		FROM linkedin_accounts a JOIN enrollments en ON en.account_id = a.id
		WHERE a.status = 'connected' AND en.state IN ('active', 'soft_paused', 'ended') AND en.accepted_at IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("listing accounts to poll: %w", err)
	}
	type acc struct{ id, ws, provider string }
	var list []acc
	for rows.Next() {
		var a acc
		if err := rows.Scan(&a.id, &a.ws, &a.provider); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, a)
	}
	rows.Close()
	stamped := 0
	for _, a := range list {
		page, err := e.opts.Client.ListRelations(ctx, a.provider, unipile.PageOptions{Limit: 100})
		if err != nil {
			e.opts.Logger.Warn("polling relations", "account", a.id, "error", err)
			continue
		}
		err = e.opts.DB.InTx(ctx, func(tx *sql.Tx) error {
			for _, r := range page.Items {
				n, err := e.StampAccepted(ctx, tx, AcceptSignal{WorkspaceID: a.ws, AccountID: a.id, ProviderID: r.MemberID.String(),
					Slug: r.PublicIdentifier, Source: "relations_poll"})
				if err != nil {
					return err
				}
				stamped += n
			}
			return nil
		})
		if err != nil {
			return stamped, err
		}
	}
	return stamped, nil
}

// NoteChatSeen handles our own message appearing in a chat with a
// prospect we invited with a note and never messaged: LinkedIn opens that
// chat, holding the note, when the invitation is accepted — an accept
// signal when the relation webhook is late or lost.
func (e *Engine) NoteChatSeen(ctx context.Context, tx *sql.Tx, workspaceID, accountID string, attendees []string) (int, error) {
	stamped := 0
	for _, pid := range attendees {
		if pid == "" {
			continue
		}
		var invited, messaged int
		err := tx.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN s.action = 'invite' AND s.with_note = $4 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN s.action IN ('message', 'inmail') THEN 1 ELSE 0 END), 0)
			FROM sends s JOIN prospects p ON p.id = s.prospect_id
			WHERE p.workspace_id = $1 AND p.provider_id = $2 AND s.account_id = $3 AND s.state = 'confirmed'`,
			workspaceID, pid, accountID, true).Scan(&invited, &messaged)
		if err != nil {
			return stamped, fmt.Errorf("checking invite-note chat: %w", err)
		}
		if invited == 0 || messaged > 0 {
			continue
		}
		n, err := e.StampAccepted(ctx, tx, AcceptSignal{WorkspaceID: workspaceID, AccountID: accountID, ProviderID: pid, Source: "invite_note_chat"})
		if err != nil {
			return stamped, err
		}
		stamped += n
	}
	return stamped, nil
}
