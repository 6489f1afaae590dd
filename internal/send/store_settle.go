package send

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// SQL of settling unknown outcomes by hand (docs/sending.md#settling-by-hand).

const sendInfoColumns = `id, COALESCE(campaign_id, ''), account_id, COALESCE(enrollment_id, ''), COALESCE(prospect_id, ''),
	COALESCE(step_id, ''), action, state, claimed_at, parked_at, error, settled_by, settled_at, COALESCE(conversation_id, ''),
	COALESCE(reply_text, '')`

func scanSendInfo(row interface{ Scan(...any) error }) (SendInfo, error) {
	var (
		s              SendInfo
		parked, settle db.NullTime
		errText, by    sql.NullString
	)
	if err := row.Scan(&s.ID, &s.CampaignID, &s.AccountID, &s.EnrollmentID, &s.ProspectID, &s.StepID, &s.Action, &s.State,
		&s.ClaimedAt, &parked, &errText, &by, &settle, &s.ConversationID, &s.Text); err != nil {
		return s, err
	}
	s.ClaimedAt = s.ClaimedAt.UTC()
	if parked.Valid {
		s.ParkedAt = timePtr(parked.Time.UTC())
	}
	if settle.Valid {
		s.SettledAt = timePtr(settle.Time.UTC())
	}
	s.Error, s.SettledBy = errText.String, by.String
	return s, nil
}

// sendWorkspace reads a send's workspace (ErrSendNotFound when none).
func sendWorkspace(ctx context.Context, tx *sql.Tx, sendID string) (string, error) {
	var ws string
	err := tx.QueryRowContext(ctx, `SELECT workspace_id FROM sends WHERE id = $1`, sendID).Scan(&ws)
	if db.IsNoRows(err) {
		return "", ErrSendNotFound
	}
	if err != nil {
		return "", fmt.Errorf("reading send %s: %w", sendID, err)
	}
	return ws, nil
}

// readSendInfo reads one send.
func readSendInfo(ctx context.Context, q db.Querier, sendID string) (SendInfo, error) {
	s, err := scanSendInfo(q.QueryRowContext(ctx, `SELECT `+sendInfoColumns+` FROM sends WHERE id = $1`, sendID))
	if err != nil {
		return s, fmt.Errorf("reading send %s: %w", sendID, err)
	}
	return s, nil
}

// Get reads one send of a workspace (ErrSendNotFound when the workspace
// has no such send).
func Get(ctx context.Context, q db.Querier, workspaceID, sendID string) (SendInfo, error) {
	s, err := scanSendInfo(q.QueryRowContext(ctx, `SELECT `+sendInfoColumns+` FROM sends WHERE id = $1 AND workspace_id = $2`, sendID, workspaceID))
	if db.IsNoRows(err) {
		return s, ErrSendNotFound
	}
	if err != nil {
		return s, fmt.Errorf("reading send %s: %w", sendID, err)
	}
	return s, nil
}

// settleSend closes an unknown send as a person settled it: confirmed
// (no chat id needed: the person saw it) or failed as not sent.
func settleSend(ctx context.Context, tx *sql.Tx, sendID string, to State, by string, now time.Time) error {
	var err error
	if to == StateConfirmed {
		_, err = tx.ExecContext(ctx, `UPDATE sends SET state = 'confirmed', finished_at = $2, parked_at = NULL,
			settled_by = $3, settled_at = $2 WHERE id = $1`, sendID, now, by)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE sends SET state = 'failed', error_kind = 'not_sent',
			error = 'settled by a person: not sent', finished_at = $2, parked_at = NULL, settled_by = $3, settled_at = $2
			WHERE id = $1`, sendID, now, by)
	}
	if err != nil {
		return fmt.Errorf("settling send %s: %w", sendID, err)
	}
	return nil
}

// ListUnknown lists a workspace's sends whose outcome is unknown (parked
// or still being reconciled), by id after the cursor, at most limit.
func ListUnknown(ctx context.Context, q db.Querier, workspaceID, after string, limit int) ([]SendInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sendInfoColumns+` FROM sends WHERE workspace_id = $1 AND state = 'unknown'
		AND id > $2 ORDER BY id LIMIT $3`, workspaceID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing unknown sends: %w", err)
	}
	defer rows.Close()
	var out []SendInfo
	for rows.Next() {
		s, err := scanSendInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("listing unknown sends: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CampaignUnknown lists a campaign's sends whose outcome is unknown,
// oldest claim first (the diagnosis and the campaign page).
func CampaignUnknown(ctx context.Context, q db.Querier, campaignID string) ([]SendInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sendInfoColumns+` FROM sends WHERE campaign_id = $1 AND state = 'unknown'
		ORDER BY claimed_at, id LIMIT 200`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("listing unknown sends of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []SendInfo
	for rows.Next() {
		s, err := scanSendInfo(rows)
		if err != nil {
			return nil, fmt.Errorf("listing unknown sends of campaign %s: %w", campaignID, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
