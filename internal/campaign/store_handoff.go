package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
)

// reachedStates are the ledger states of a send that reached, or may have
// reached, LinkedIn: a prospect with one of them in a campaign has been
// contacted by that sender and its thread is there
// (docs/campaigns.md#senders).
const reachedStates = `('intent', 'dispatched', 'confirmed', 'unknown')`

// uncontacted lists, in id order, the live enrollments of one sender in a
// campaign that no send of theirs reached or may have reached LinkedIn.
func (s *Service) uncontacted(ctx context.Context, tx *sql.Tx, campaignID, accountID string) ([]string, error) {
	return s.enrollmentIDs(ctx, tx, `campaign_id = $1 AND account_id = $2 AND state IN `+liveStates+`
		AND NOT EXISTS (SELECT 1 FROM sends sd WHERE sd.campaign_id = enrollments.campaign_id
		                AND sd.prospect_id = enrollments.prospect_id AND sd.state IN `+reachedStates+`)`,
		campaignID, accountID)
}

// connectedOf returns, in the given order, those of ids whose account is
// connected now.
func connectedOf(ctx context.Context, tx *sql.Tx, ids []string) ([]string, error) {
	var out []string
	for _, a := range ids {
		st, err := accountStatus(ctx, tx, a)
		if err != nil {
			return nil, err
		}
		if st == account.StatusConnected {
			out = append(out, a)
		}
	}
	return out, nil
}

// moveEnrollment gives an enrollment to sender to. A pending one stays
// pending; one under way keeps its step, is due now (the policy decides
// anew for its new sender, so whatever parked it no longer does), and is
// active or soft-paused as its new sender's status allows.
func moveEnrollment(ctx context.Context, tx *sql.Tx, enrollmentID, to string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE enrollments
		   SET account_id = $2,
		       state = CASE WHEN state = 'pending' THEN 'pending'
		                    WHEN (SELECT a.status FROM linkedin_accounts a WHERE a.id = $2) = 'connected' THEN 'active'
		                    ELSE 'soft_paused' END,
		       next_action_at = CASE WHEN state = 'pending' THEN next_action_at ELSE $3 END,
		       parked_by = NULL, updated_at = $3
		 WHERE id = $1`, enrollmentID, to, now); err != nil {
		return fmt.Errorf("moving enrollment %s to sender %s: %w", enrollmentID, to, err)
	}
	return nil
}

// staleSender is a campaign sender that has not been connected since
// DisconnectedAt, with its workspace's hand-off delay.
type staleSender struct {
	CampaignID, AccountID string
	DisconnectedAt        time.Time
	HandoffHours          int
}

// staleSenders lists the current senders of running and paused campaigns
// that are not connected, with when they stopped being connected and
// their workspace's sender_handoff_hours; the caller compares the times
// (no engine-specific interval arithmetic in SQL).
func (s *Service) staleSenders(ctx context.Context, q db.Querier) ([]staleSender, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT ca.campaign_id, a.id, a.disconnected_at, w.sender_handoff_hours
		  FROM campaign_accounts ca
		  JOIN campaigns c ON c.id = ca.campaign_id
		  JOIN linkedin_accounts a ON a.id = ca.account_id
		  JOIN workspaces w ON w.id = c.workspace_id
		 WHERE ca.removed_at IS NULL AND c.status IN ('running', 'paused')
		   AND a.status <> 'connected' AND a.disconnected_at IS NOT NULL
		 ORDER BY ca.campaign_id, a.id`)
	if err != nil {
		return nil, fmt.Errorf("listing disconnected senders: %w", err)
	}
	defer rows.Close()
	var out []staleSender
	for rows.Next() {
		var st staleSender
		if err := rows.Scan(&st.CampaignID, &st.AccountID, &st.DisconnectedAt, &st.HandoffHours); err != nil {
			return nil, fmt.Errorf("listing disconnected senders: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// EndedInMailFreeSender is the ended_reason of a prospect at an InMail
// step whose sender is a Free account that already wrote to it, or whose
// campaign has no connected paid sender to take the step
// (docs/campaigns.md#senders).
const EndedInMailFreeSender = "inmail_free_sender"

// HandOffInMail is what happens to an enrollment due at an InMail step
// while its sender is a Free account, which can never send one, in the
// caller's transaction: when no invitation or message of its sender
// reached or may have reached the prospect (a profile view starts no
// conversation), it goes to the least loaded connected paid sender of the
// campaign and is due now there; otherwise, or when there is no such
// sender, it ends with EndedInMailFreeSender. It returns the new sender,
// "" when the enrollment ended.
func (s *Service) HandOffInMail(ctx context.Context, tx *sql.Tx, enrollmentID string, now time.Time) (string, error) {
	var campaignID, from string
	var contacted int
	if err := tx.QueryRowContext(ctx, `
		SELECT e.campaign_id, e.account_id,
		       (SELECT count(*) FROM sends sd WHERE sd.campaign_id = e.campaign_id AND sd.prospect_id = e.prospect_id
		           AND sd.action <> 'view_profile' AND sd.state IN `+reachedStates+`)
		  FROM enrollments e WHERE e.id = $1`, enrollmentID).Scan(&campaignID, &from, &contacted); err != nil {
		return "", fmt.Errorf("reading enrollment %s: %w", enrollmentID, err)
	}
	var paid []string
	if contacted == 0 {
		rows, err := tx.QueryContext(ctx, `
			SELECT a.id FROM campaign_accounts ca JOIN linkedin_accounts a ON a.id = ca.account_id
			 WHERE ca.campaign_id = $1 AND ca.removed_at IS NULL AND a.id <> $2
			   AND a.status = 'connected' AND a.tier <> 'free'
			 ORDER BY ca.position, a.id`, campaignID, from)
		if err != nil {
			return "", fmt.Errorf("reading paid senders of campaign %s: %w", campaignID, err)
		}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				rows.Close()
				return "", fmt.Errorf("reading paid senders of campaign %s: %w", campaignID, err)
			}
			paid = append(paid, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("reading paid senders of campaign %s: %w", campaignID, err)
		}
	}
	if len(paid) == 0 {
		return "", s.End(ctx, tx, enrollmentID, EndedInMailFreeSender, now)
	}
	loads, err := s.senderLoads(ctx, tx, campaignID, paid)
	if err != nil {
		return "", err
	}
	to := leastLoaded(loads, paid)
	return to, moveEnrollment(ctx, tx, enrollmentID, to, now)
}

// WaitingBySender counts, per sender, a campaign's prospects whose
// sequence is not over (pending, active or soft-paused): for a sender
// that is down, the prospects waiting for it to reconnect.
func (s *Service) WaitingBySender(ctx context.Context, q db.Querier, campaignID string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT account_id, count(*) FROM enrollments
		WHERE campaign_id = $1 AND state IN `+liveStates+` GROUP BY account_id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("counting waiting prospects of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, fmt.Errorf("counting waiting prospects of campaign %s: %w", campaignID, err)
		}
		out[a] = n
	}
	return out, rows.Err()
}

// ParkedBy counts a campaign's live enrollments one gate parked, and when
// the first of them is due (the diagnosis names per-person holds this way).
func (s *Service) ParkedBy(ctx context.Context, q db.Querier, campaignID, gate string) (int, time.Time, error) {
	var (
		n     int
		first db.NullTime
	)
	if err := q.QueryRowContext(ctx, `SELECT count(*), min(next_action_at) FROM enrollments
		WHERE campaign_id = $1 AND state = 'active' AND parked_by = $2`, campaignID, gate).Scan(&n, &first); err != nil {
		return 0, time.Time{}, fmt.Errorf("counting prospects of campaign %s parked by %s: %w", campaignID, gate, err)
	}
	return n, first.Time, nil
}
