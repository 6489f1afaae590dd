package account

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/db"
)

// ListBrief returns every account of a workspace with only what an
// overview of thousands needs to summarise, filter and sort them (docs/surfaces.md#accounts-overview):
// ID, WorkspaceID, Name, Status, LastError, Strikes, Tier, the daily caps, the pending cap and
// CreatedAt and RampStartedAt. Other fields are zero. Ordered by id.
func ListBrief(ctx context.Context, q db.Querier, workspaceID string) ([]Account, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, status, last_error, strikes, tier, cap_invite_daily, cap_message_daily,
		cap_inmail_daily, cap_view_profile_daily, cap_invite_pending, ramp_started_at, created_at
		FROM linkedin_accounts WHERE workspace_id = $1 ORDER BY id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("listing the accounts of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a := Account{WorkspaceID: workspaceID}
		var (
			lastError sql.NullString
			rampAt    sql.NullTime
		)
		if err := rows.Scan(&a.ID, &a.Name, &a.Status, &lastError, &a.Strikes, &a.Tier, &a.Caps.InviteDaily, &a.Caps.MessageDaily,
			&a.Caps.InMailDaily, &a.Caps.ViewProfileDaily, &a.Caps.InvitePending, &rampAt, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing the accounts of workspace %s: %w", workspaceID, err)
		}
		a.LastError, a.CreatedAt, a.RampStartedAt = lastError.String, a.CreatedAt.UTC(), a.CreatedAt.UTC()
		if rampAt.Valid {
			a.RampStartedAt = rampAt.Time.UTC()
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListByIDs reads whole accounts of a workspace by id (a page of the
// overview), in no particular order; ids not in the workspace are left
// out.
func (s *Service) ListByIDs(ctx context.Context, q db.Querier, workspaceID string, ids []string) ([]Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{workspaceID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+selectColumns+` FROM linkedin_accounts WHERE workspace_id = $1 AND id IN (`+
		strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %d accounts: %w", len(ids), err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := ScanWith(rows)
		if err != nil {
			return nil, fmt.Errorf("reading %d accounts: %w", len(ids), err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
