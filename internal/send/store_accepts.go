package send

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// SQL of accept bridging (docs/campaigns.md#matching-accepts): unmatched
// accepts are kept once per account and person.

// firstInviteAt is when the account's first invitation from Keel reached
// (or may have reached) LinkedIn; ok is false when there is none.
func firstInviteAt(ctx context.Context, tx *sql.Tx, accountID string) (time.Time, bool, error) {
	var t db.NullTime
	err := tx.QueryRowContext(ctx, `SELECT MIN(claimed_at) FROM sends WHERE account_id = $1 AND action = 'invite'
		AND state IN ('dispatched', 'confirmed', 'unknown')`, accountID).Scan(&t)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading the first invitation of account %s: %w", accountID, err)
	}
	return t.Time.UTC(), t.Valid, nil
}

// recordUnmatchedAccept keeps an accept that matched no prospect; it
// reports whether it was new (a repeated accept of the same person on the
// same account is kept once).
func recordUnmatchedAccept(ctx context.Context, tx *sql.Tx, workspaceID, accountID, providerID, handle, source string, now time.Time) (bool, error) {
	key := providerID
	if key == "" {
		key = "handle:" + handle
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO unmatched_accepts (id, workspace_id, account_id, person_key, provider_id,
		public_handle, source, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (account_id, person_key) DO NOTHING`,
		id.New("uac"), workspaceID, accountID, key, db.NullIfEmpty(providerID), db.NullIfEmpty(handle), source, now)
	if err != nil {
		return false, fmt.Errorf("keeping an unmatched accept on account %s: %w", accountID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UnmatchedAcceptsSince counts the workspace's unmatched accepts seen
// since a moment, on the given accounts only when accountIDs is not nil.
func UnmatchedAcceptsSince(ctx context.Context, q db.Querier, workspaceID string, accountIDs []string, since time.Time) (int, error) {
	n, _, err := UnmatchedAccepts(ctx, q, workspaceID, accountIDs, since)
	return n, err
}

// UnmatchedAccepts counts the workspace's unmatched accepts seen since a
// moment (on the given accounts only when accountIDs is not nil) and
// reports when the oldest of them was seen.
func UnmatchedAccepts(ctx context.Context, q db.Querier, workspaceID string, accountIDs []string, since time.Time) (int, time.Time, error) {
	query := `SELECT COUNT(*), MIN(seen_at) FROM unmatched_accepts WHERE workspace_id = $1 AND seen_at >= $2`
	args := []any{workspaceID, since}
	if accountIDs != nil {
		if len(accountIDs) == 0 {
			return 0, time.Time{}, nil
		}
		ph := make([]string, len(accountIDs))
		for i, a := range accountIDs {
			args = append(args, a)
			ph[i] = "$" + strconv.Itoa(len(args))
		}
		query += ` AND account_id IN (` + strings.Join(ph, ", ") + `)`
	}
	var (
		n      int
		oldest db.NullTime
	)
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("counting unmatched accepts: %w", err)
	}
	return n, oldest.Time.UTC(), nil
}

// unknownChatSends lists the account's messages and InMails whose outcome
// is unknown (parked or not) to the workspace's person with the member id,
// oldest first. A dispatched row is left alone: its call may still be
// answered, and the sweep turns a crashed one into unknown.
func unknownChatSends(ctx context.Context, tx *sql.Tx, workspaceID, accountID, memberID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id FROM sends s JOIN prospects p ON p.id = s.prospect_id
		WHERE s.account_id = $1 AND s.action IN ('message', 'inmail') AND s.state = 'unknown'
		AND p.workspace_id = $2 AND (p.provider_id = $3 OR p.member_id = $3) ORDER BY s.claimed_at`, accountID, workspaceID, memberID)
	if err != nil {
		return nil, fmt.Errorf("finding unknown sends to %s: %w", memberID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("finding unknown sends to %s: %w", memberID, err)
		}
		ids = append(ids, s)
	}
	return ids, rows.Err()
}
