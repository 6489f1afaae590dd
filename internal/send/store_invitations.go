package send

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
	"github.com/keel-outreach/keel/internal/policy"
)

// This file is the sender's door to the invitations an account has
// outstanding (docs/sending.md#pending-invitations) and to the reads of
// the sent list's reconciliation.

// openInvitations is the SQL of what counts as pending for a claim: the
// account's pending invitations and its invitations in flight (claimed,
// dispatched or of unknown outcome), which may be pending a moment later.
const pendingCountSQL = `(SELECT count(*) FROM invitations i WHERE i.account_id = $1 AND i.state = 'pending')
	+ (SELECT count(*) FROM sends f WHERE f.account_id = $1 AND f.action = 'invite' AND f.state IN ('intent', 'dispatched', 'unknown'))`

// pendingOf reads an account's pending count and when its oldest
// withdrawable invitation is due for withdrawal (zero: none).
func pendingOf(ctx context.Context, q db.Querier, accountID string) (int, time.Time, error) {
	var (
		n     int
		frees db.NullTime
	)
	err := q.QueryRowContext(ctx, `SELECT `+pendingCountSQL+`,
		(SELECT min(w.withdraw_at) FROM invitations w WHERE w.account_id = $1 AND w.state = 'pending' AND w.withdraw_at IS NOT NULL)`, accountID).Scan(&n, &frees)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("counting pending invitations of account %s: %w", accountID, err)
	}
	return n, frees.Time, nil
}

// PendingCounts counts the pending invitations of several accounts (the
// limits of a page of accounts), in flight included.
func PendingCounts(ctx context.Context, q db.Querier, accountIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(accountIDs))
	marks := make([]string, len(accountIDs))
	for i, a := range accountIDs {
		args[i] = a
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	in := strings.Join(marks, ", ")
	rows, err := q.QueryContext(ctx, `SELECT account_id, count(*) FROM invitations WHERE state = 'pending' AND account_id IN (`+in+`) GROUP BY account_id
		UNION ALL SELECT account_id, count(*) FROM sends WHERE action = 'invite' AND state IN ('intent', 'dispatched', 'unknown')
		AND account_id IN (`+in+`) GROUP BY account_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("counting pending invitations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			acc string
			n   int
		)
		if err := rows.Scan(&acc, &n); err != nil {
			return nil, fmt.Errorf("counting pending invitations: %w", err)
		}
		out[acc] += n
	}
	return out, rows.Err()
}

// withdrawnUntil is when LinkedIn's re-invite wait for a prospect ends:
// ReinviteWait after their last withdrawn invitation or the provider's
// last already_invited_recently answer (zero: none). Prospects are rows of
// one workspace, so this holds across the workspace's campaigns.
func withdrawnUntil(ctx context.Context, q db.Querier, prospectID string) (time.Time, error) {
	var last, refused db.NullTime
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT max(closed_at) FROM invitations WHERE prospect_id = $1 AND state = 'withdrawn'),
		(SELECT max(finished_at) FROM sends WHERE prospect_id = $1 AND action = 'invite' AND state = 'failed' AND error_kind = $2)`,
		prospectID, errorKindRecentlyInvited).Scan(&last, &refused)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading withdrawals of prospect %s: %w", prospectID, err)
	}
	t := last.Time
	if refused.Time.After(t) {
		t = refused.Time
	}
	if t.IsZero() {
		return t, nil
	}
	return t.UTC().Add(policy.ReinviteWait), nil
}

// errorKindRecentlyInvited is the error_kind of an invitation LinkedIn
// refused with already_invited_recently.
const errorKindRecentlyInvited = "recently_invited"

// openInvitation records a confirmed invitation as pending, due for
// withdrawal after the account's withdraw_after_days. ref is the
// provider's invitation id when known. A row the sent list's
// reconciliation made for it meanwhile (as made outside Keel) is replaced.
func openInvitation(ctx context.Context, tx *sql.Tx, sendID, ref string) error {
	var (
		ws, acc, prospect string
		sent              db.NullTime
		days              int
	)
	err := tx.QueryRowContext(ctx, `SELECT s.workspace_id, s.account_id, s.prospect_id, COALESCE(s.dispatched_at, s.claimed_at), a.withdraw_after_days
		FROM sends s JOIN linkedin_accounts a ON a.id = s.account_id WHERE s.id = $1 AND s.action = 'invite'`, sendID).
		Scan(&ws, &acc, &prospect, &sent, &days)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading invitation %s: %w", sendID, err)
	}
	sentAt := sent.Time.UTC()
	if ref != "" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE account_id = $1 AND provider_invitation_id = $2 AND send_id IS NULL`, acc, ref); err != nil {
			return fmt.Errorf("adopting invitation %s: %w", ref, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO invitations (id, workspace_id, account_id, send_id, prospect_id, provider_invitation_id, sent_at, withdraw_at)
		VALUES ($1, $2, $3, $1, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
		sendID, ws, acc, prospect, db.NullIfEmpty(ref), sentAt.UTC(), nullTime(withdrawAt(sentAt, days))); err != nil {
		return fmt.Errorf("recording invitation %s as pending: %w", sendID, err)
	}
	return nil
}

// withdrawAt is when an invitation sent at sentAt is due for withdrawal
// under withdraw_after_days days (zero: never).
func withdrawAt(sentAt time.Time, days int) time.Time {
	if days <= 0 {
		return time.Time{}
	}
	return sentAt.UTC().Add(time.Duration(days) * 24 * time.Hour)
}

// closeWithdrawn records that the invitation a confirmed withdrawal
// (sendID) withdrew is withdrawn; it reports the invitation's account.
func closeWithdrawn(ctx context.Context, tx *sql.Tx, withdrawalID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET state = 'withdrawn', closed_at = $2, withdraw_at = NULL
		WHERE state IN ('pending', 'gone') AND send_id = (SELECT i.id FROM sends w JOIN sends i ON i.campaign_id = w.campaign_id
			AND i.step_id = w.step_id AND i.prospect_id = w.prospect_id AND i.account_id = w.account_id
			AND i.action = 'invite' AND i.state = 'confirmed' AND i.state NOT IN ('failed', 'cancelled') WHERE w.id = $1)`, withdrawalID, now); err != nil {
		return fmt.Errorf("recording withdrawal %s: %w", withdrawalID, err)
	}
	return nil
}

// closeAccepted closes an account's pending invitations to a person as
// accepted: Keel's to the prospect, and any made outside Keel to the
// member id. It reports how many it closed.
func closeAccepted(ctx context.Context, tx *sql.Tx, accountID, prospectID, memberID string, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET state = 'accepted', closed_at = $4, withdraw_at = NULL
		WHERE account_id = $1 AND state = 'pending' AND ((prospect_id = $2 AND $2 <> '') OR (invited_provider_id = $3 AND $3 <> ''))`,
		accountID, prospectID, memberID, now)
	if err != nil {
		return 0, fmt.Errorf("closing accepted invitations of account %s: %w", accountID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// invitationRow is a pending invitation as a withdrawal or a
// reconciliation needs it.
type invitationRow struct {
	id, workspaceID, accountID             string
	sendID, prospectID, providerInvitation string
	invitedProviderID                      string
	campaignID, enrollmentID, stepID       string
	memberID, providerID, slug, handle     string
	state                                  string
	sentAt                                 time.Time
	withdrawAt                             time.Time
}

const invitationColumns = `i.id, i.workspace_id, i.account_id, COALESCE(i.send_id, ''), COALESCE(i.prospect_id, ''),
	COALESCE(i.provider_invitation_id, ''), COALESCE(i.invited_provider_id, ''),
	COALESCE(s.campaign_id, ''), COALESCE(s.enrollment_id, ''), COALESCE(s.step_id, ''),
	COALESCE(p.member_id, ''), COALESCE(p.provider_id, ''), COALESCE(p.public_slug, ''), COALESCE(p.public_handle, ''),
	i.state, i.sent_at, i.withdraw_at`

const invitationFrom = ` FROM invitations i LEFT JOIN sends s ON s.id = i.send_id LEFT JOIN prospects p ON p.id = i.prospect_id`

func scanInvitation(row interface{ Scan(...any) error }) (invitationRow, error) {
	var (
		r  invitationRow
		wa db.NullTime
	)
	err := row.Scan(&r.id, &r.workspaceID, &r.accountID, &r.sendID, &r.prospectID, &r.providerInvitation, &r.invitedProviderID,
		&r.campaignID, &r.enrollmentID, &r.stepID, &r.memberID, &r.providerID, &r.slug, &r.handle, &r.state, &r.sentAt, &wa)
	r.sentAt, r.withdrawAt = r.sentAt.UTC(), wa.Time
	return r, err
}

// lockInvitation reads (and locks) one invitation.
func (e *Engine) lockInvitation(ctx context.Context, tx *sql.Tx, invitationID string) (invitationRow, error) {
	r, err := scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.id = $1`+e.opts.DB.LockForUpdateOf("i"), invitationID))
	if err != nil {
		return r, fmt.Errorf("locking invitation %s: %w", invitationID, err)
	}
	return r, nil
}

// invitationOfWithdrawal reads the invitation a withdrawal withdraws.
func invitationOfWithdrawal(ctx context.Context, q db.Querier, withdrawalID string) (invitationRow, error) {
	r, err := scanInvitation(q.QueryRowContext(ctx, `SELECT `+invitationColumns+invitationFrom+`
		JOIN sends w ON w.campaign_id = s.campaign_id AND w.step_id = s.step_id AND w.prospect_id = s.prospect_id AND w.account_id = s.account_id
		WHERE w.id = $1 AND s.action = 'invite' AND s.state = 'confirmed' AND s.state NOT IN ('failed', 'cancelled')`, withdrawalID))
	if err != nil {
		return r, fmt.Errorf("reading the invitation of withdrawal %s: %w", withdrawalID, err)
	}
	return r, nil
}

// pendingInvitations lists an account's pending invitations, oldest first.
func pendingInvitations(ctx context.Context, tx *sql.Tx, accountID string) ([]invitationRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+invitationColumns+invitationFrom+` WHERE i.account_id = $1 AND i.state = 'pending' ORDER BY i.sent_at, i.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing pending invitations of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []invitationRow
	for rows.Next() {
		r, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("listing pending invitations of account %s: %w", accountID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// setWithdrawAt sets when an invitation is next looked at for withdrawal
// (zero: never).
func setWithdrawAt(ctx context.Context, tx *sql.Tx, invitationID string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET withdraw_at = $2 WHERE id = $1 AND state = 'pending' AND send_id IS NOT NULL`,
		invitationID, nullTime(at)); err != nil {
		return fmt.Errorf("scheduling withdrawal of invitation %s: %w", invitationID, err)
	}
	return nil
}

// closeGone closes an invitation the provider no longer lists (accepted,
// declined or withdrawn outside Keel).
func closeGone(ctx context.Context, tx *sql.Tx, invitationID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET state = 'gone', closed_at = $2, withdraw_at = NULL WHERE id = $1 AND state = 'pending'`,
		invitationID, now); err != nil {
		return fmt.Errorf("closing invitation %s: %w", invitationID, err)
	}
	return nil
}

// markSeen records that the sent list shows an invitation, with the ids
// the list gives for it.
func markSeen(ctx context.Context, tx *sql.Tx, invitationID, providerInvitation, invited string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET seen_at = $2,
		provider_invitation_id = COALESCE(provider_invitation_id, $3), invited_provider_id = COALESCE(invited_provider_id, $4) WHERE id = $1`,
		invitationID, now, db.NullIfEmpty(providerInvitation), db.NullIfEmpty(invited)); err != nil {
		return fmt.Errorf("marking invitation %s seen: %w", invitationID, err)
	}
	return nil
}

// addOutside records an invitation made outside Keel that the sent list
// shows.
func addOutside(ctx context.Context, tx *sql.Tx, workspaceID, accountID, providerInvitation, invited string, sentAt, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO invitations (id, workspace_id, account_id, provider_invitation_id, invited_provider_id, sent_at, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		id.New("inv"), workspaceID, accountID, providerInvitation, db.NullIfEmpty(invited), sentAt.UTC(), now); err != nil {
		return fmt.Errorf("recording an invitation made outside Keel: %w", err)
	}
	return nil
}

// dueWithdrawal is an invitation due for withdrawal and its account.
type dueWithdrawal struct{ id, account string }

// dueWithdrawals lists the invitations due for withdrawal at now, the
// oldest due of each account first, at most limit.
func (e *Engine) dueWithdrawals(ctx context.Context, now time.Time, limit int) ([]dueWithdrawal, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, `SELECT id, account_id FROM invitations
		WHERE withdraw_at IS NOT NULL AND withdraw_at <= $1 ORDER BY withdraw_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("listing due withdrawals: %w", err)
	}
	defer rows.Close()
	var out []dueWithdrawal
	seen := map[string]bool{}
	for rows.Next() {
		var d dueWithdrawal
		if err := rows.Scan(&d.id, &d.account); err != nil {
			return nil, fmt.Errorf("listing due withdrawals: %w", err)
		}
		if !seen[d.account] {
			seen[d.account] = true
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// claimWithdrawal writes a withdrawal's claim: the ledger row (of the
// invitation's campaign, step and prospect), the account's pacing, and
// when the invitation is looked at again if nothing settles it.
func claimWithdrawal(ctx context.Context, tx *sql.Tx, sendID string, inv invitationRow, nextAllowed, spreadUntil, recheck, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
		step_id, action, state, with_note, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'withdraw', 'intent', $8, $9)`,
		sendID, inv.workspaceID, inv.accountID, inv.campaignID, inv.enrollmentID, inv.prospectID, inv.stepID, false, now); err != nil {
		if db.IsUniqueViolation(err) {
			return err
		}
		return fmt.Errorf("claiming withdrawal of invitation %s: %w", inv.id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_pacing SET next_allowed_at = $2, spread_withdraw_until = $3 WHERE account_id = $1`,
		inv.accountID, nextAllowed, nullTime(spreadUntil)); err != nil {
		return fmt.Errorf("pacing account %s: %w", inv.accountID, err)
	}
	return setWithdrawAt(ctx, tx, inv.id, recheck)
}

// failedWithdrawals counts the failed withdrawals of an invitation's
// step (their backoff).
func failedWithdrawals(ctx context.Context, tx *sql.Tx, inv invitationRow) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sends WHERE campaign_id = $1 AND step_id = $2 AND prospect_id = $3
		AND action = 'withdraw' AND state = 'failed'`, inv.campaignID, inv.stepID, inv.prospectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting failed withdrawals of invitation %s: %w", inv.id, err)
	}
	return n, nil
}

// rescheduleWithdrawals sets when each of an account's pending Keel
// invitations is due for withdrawal under withdraw_after_days days (after
// a settings change, or for rows opened before the setting existed).
func rescheduleWithdrawals(ctx context.Context, tx *sql.Tx, accountID string, days int, onlyUnset bool) error {
	q := `SELECT id, sent_at FROM invitations WHERE account_id = $1 AND state = 'pending' AND send_id IS NOT NULL`
	if onlyUnset {
		q += ` AND withdraw_at IS NULL`
	}
	rows, err := tx.QueryContext(ctx, q, accountID)
	if err != nil {
		return fmt.Errorf("rescheduling withdrawals of account %s: %w", accountID, err)
	}
	type item struct {
		id string
		at time.Time
	}
	var items []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.id, &it.at); err != nil {
			rows.Close()
			return fmt.Errorf("rescheduling withdrawals of account %s: %w", accountID, err)
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rescheduling withdrawals of account %s: %w", accountID, err)
	}
	for _, it := range items {
		if err := setWithdrawAt(ctx, tx, it.id, withdrawAt(it.at, days)); err != nil {
			return err
		}
	}
	return nil
}

// syncRow is an account whose sent list is due for reading.
type syncRow struct{ id, workspaceID, provider string }

// accountsToSync lists connected accounts whose sent list is due at now
// (never read, or next_at passed), at most limit, the longest due first.
func (e *Engine) accountsToSync(ctx context.Context, now time.Time, limit int) ([]syncRow, error) {
	rows, err := e.opts.DB.SQL.QueryContext(ctx, `SELECT a.id, a.workspace_id, a.provider_account_id FROM linkedin_accounts a
		LEFT JOIN invitation_syncs y ON y.account_id = a.id
		WHERE a.status = 'connected' AND (y.next_at IS NULL OR y.next_at <= $1)
		ORDER BY y.next_at IS NOT NULL, y.next_at, a.id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("listing accounts to reconcile invitations of: %w", err)
	}
	defer rows.Close()
	var out []syncRow
	for rows.Next() {
		var r syncRow
		if err := rows.Scan(&r.id, &r.workspaceID, &r.provider); err != nil {
			return nil, fmt.Errorf("listing accounts to reconcile invitations of: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// recordSync stores when an account's sent list was read, what it held,
// and when it is read next.
func recordSync(ctx context.Context, q db.Querier, accountID string, listed, outside int, errText string, now, next time.Time) error {
	var err error
	if errText != "" {
		_, err = q.ExecContext(ctx, `INSERT INTO invitation_syncs (account_id, next_at, last_error) VALUES ($1, $2, $3)
			ON CONFLICT (account_id) DO UPDATE SET next_at = excluded.next_at, last_error = excluded.last_error`, accountID, next, errText)
	} else {
		_, err = q.ExecContext(ctx, `INSERT INTO invitation_syncs (account_id, next_at, synced_at, listed, outside) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account_id) DO UPDATE SET next_at = excluded.next_at, synced_at = excluded.synced_at,
			listed = excluded.listed, outside = excluded.outside, last_error = NULL`, accountID, next, now, listed, outside)
	}
	if err != nil {
		return fmt.Errorf("recording the invitation reconciliation of account %s: %w", accountID, err)
	}
	return nil
}

// PendingAt is an account's outstanding invitations as the forecast
// needs them: how many stay pending whatever happens (made outside Keel,
// in flight, or never withdrawn), and when each of Keel's others is due
// for withdrawal.
type PendingAt struct {
	Stuck int
	Frees []time.Time
}

// PendingOutstanding reads an account's PendingAt.
func PendingOutstanding(ctx context.Context, q db.Querier, accountID string) (PendingAt, error) {
	var p PendingAt
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sends WHERE account_id = $1 AND action = 'invite'
		AND state IN ('intent', 'dispatched', 'unknown')`, accountID).Scan(&p.Stuck); err != nil {
		return p, fmt.Errorf("counting invitations in flight of account %s: %w", accountID, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT withdraw_at FROM invitations WHERE account_id = $1 AND state = 'pending' ORDER BY withdraw_at`, accountID)
	if err != nil {
		return p, fmt.Errorf("reading pending invitations of account %s: %w", accountID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var at db.NullTime
		if err := rows.Scan(&at); err != nil {
			return p, fmt.Errorf("reading pending invitations of account %s: %w", accountID, err)
		}
		if at.Valid {
			p.Frees = append(p.Frees, at.Time.UTC())
		} else {
			p.Stuck++
		}
	}
	return p, rows.Err()
}
