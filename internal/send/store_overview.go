package send

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/policy"
)

// Overview is what the accounts overview needs from the ledger for every
// account of a workspace at once (docs/surfaces.md#accounts-overview):
// three grouped queries, whatever the number of accounts.
type Overview struct {
	// Today counts each account's counted sends of the UTC day, by action.
	Today map[string]map[policy.Action]int
	// AtPendingCap holds the accounts whose pending invitations, as the
	// limits' "pending" row counts them, reach their configured pending cap
	// (docs/sending.md#pending-invitations).
	AtPendingCap map[string]bool
	// Blocked is the latest end of each account's active cooldowns and
	// breakers (send_blocks with until after now).
	Blocked map[string]time.Time
}

// WorkspaceOverview reads Overview for every account of a workspace.
func WorkspaceOverview(ctx context.Context, q db.Querier, workspaceID string, now time.Time) (Overview, error) {
	o := Overview{Today: map[string]map[policy.Action]int{}, AtPendingCap: map[string]bool{}, Blocked: map[string]time.Time{}}
	rows, err := q.QueryContext(ctx, `SELECT account_id, action, count(*) FROM sends
		WHERE workspace_id = $1 AND claimed_at >= $2 AND state IN `+CountedStates+` GROUP BY account_id, action`,
		workspaceID, policy.UTCDayStart(now))
	if err != nil {
		return o, fmt.Errorf("counting today's sends of workspace %s: %w", workspaceID, err)
	}
	for rows.Next() {
		var (
			acc, act string
			n        int
		)
		if err := rows.Scan(&acc, &act, &n); err != nil {
			rows.Close()
			return o, fmt.Errorf("counting today's sends of workspace %s: %w", workspaceID, err)
		}
		if o.Today[acc] == nil {
			o.Today[acc] = map[policy.Action]int{}
		}
		o.Today[acc][policy.Action(act)] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("counting today's sends of workspace %s: %w", workspaceID, err)
	}
	// Grouped by account over the pending rows only, then compared with
	// each account's cap, read by id.
	rows, err = q.QueryContext(ctx, `SELECT p.account_id FROM (
			SELECT account_id, count(*) AS n FROM invitations WHERE state = 'pending' AND workspace_id = $1 GROUP BY account_id
			UNION ALL SELECT account_id, count(*) AS n FROM sends WHERE action = 'invite' AND state IN ('intent', 'dispatched', 'unknown')
			AND workspace_id = $1 GROUP BY account_id) p
		JOIN linkedin_accounts a ON a.id = p.account_id
		GROUP BY p.account_id, a.cap_invite_pending HAVING a.cap_invite_pending > 0 AND sum(p.n) >= a.cap_invite_pending`, workspaceID)
	if err != nil {
		return o, fmt.Errorf("counting pending invitations of workspace %s: %w", workspaceID, err)
	}
	for rows.Next() {
		var acc string
		if err := rows.Scan(&acc); err != nil {
			rows.Close()
			return o, fmt.Errorf("counting pending invitations of workspace %s: %w", workspaceID, err)
		}
		o.AtPendingCap[acc] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("counting pending invitations of workspace %s: %w", workspaceID, err)
	}
	// send_blocks has no workspace column; the account ids come from the
	// workspace's accounts by id, read-only.
	rows, err = q.QueryContext(ctx, `SELECT b.account_id, b.until FROM send_blocks b
		WHERE b.until > $2 AND b.account_id IN (SELECT id FROM linkedin_accounts WHERE workspace_id = $1)`, workspaceID, now)
	if err != nil {
		return o, fmt.Errorf("reading the cooldowns of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			acc   string
			until time.Time
		)
		if err := rows.Scan(&acc, &until); err != nil {
			return o, fmt.Errorf("reading the cooldowns of workspace %s: %w", workspaceID, err)
		}
		if until.After(o.Blocked[acc]) {
			o.Blocked[acc] = until.UTC()
		}
	}
	return o, rows.Err()
}
