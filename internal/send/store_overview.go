package send

import (
	"context"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// Overview is what the accounts overview's attention summary needs from
// the ledger for every account of a workspace at once
// (docs/surfaces.md#accounts-overview): two queries, whatever the number of
// accounts. Today's usage is read per page (LimitsFor) or, for the usage
// sort, in the page's own query (UsageJoin).
type Overview struct {
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
	o := Overview{AtPendingCap: map[string]bool{}, Blocked: map[string]time.Time{}}
	// Grouped by account over the pending rows only, then compared with
	// each account's cap, read by id.
	rows, err := q.QueryContext(ctx, `SELECT p.account_id FROM (
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
	// send_blocks has no workspace column. The active blocks are few (one
	// per account and action at most), so they are read first and each
	// one's account is checked by id; CROSS JOIN keeps that order on
	// SQLite, whose planner otherwise walked the workspace's 10,000
	// accounts (docs/benchmarks.md#accounts-page-with-10000-accounts-issue-6).
	rows, err = q.QueryContext(ctx, `SELECT b.account_id, b.until FROM send_blocks b CROSS JOIN linkedin_accounts a
		WHERE a.id = b.account_id AND a.workspace_id = $1 AND b.until > $2`, workspaceID, now)
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
