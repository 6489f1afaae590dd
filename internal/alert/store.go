package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// Raise records an alert, or counts another occurrence of the open alert with
// the same dedupe key. It returns the alert's id and whether it is new. Call
// it inside the transaction of the change that caused it.
func Raise(ctx context.Context, q db.Querier, now time.Time, n New) (string, bool, error) {
	if n.Kind == "" || n.Message == "" {
		return "", false, errors.New("raising alert: kind and message are required")
	}
	if n.Severity == "" {
		n.Severity = Warning
	}
	if n.DedupeKey == "" {
		n.DedupeKey = n.Kind
		if n.SubjectID != "" {
			n.DedupeKey += ":" + n.SubjectType + ":" + n.SubjectID
		}
	}
	var alertID string
	var occurrences int
	err := q.QueryRowContext(ctx, `
		INSERT INTO admin_alerts (id, workspace_id, kind, severity, subject_type, subject_id,
			message, dedupe_key, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (dedupe_key) WHERE acknowledged_at IS NULL
		DO UPDATE SET occurrences = admin_alerts.occurrences + 1, last_seen_at = excluded.last_seen_at,
		              message = excluded.message
		RETURNING id, occurrences`,
		id.New("alr"), db.NullIfEmpty(n.WorkspaceID), n.Kind, string(n.Severity), db.NullIfEmpty(n.SubjectType),
		db.NullIfEmpty(n.SubjectID), n.Message, n.DedupeKey, now).Scan(&alertID, &occurrences)
	if err != nil {
		return "", false, fmt.Errorf("raising alert %s: %w", n.DedupeKey, err)
	}
	if occurrences == 1 {
		logRaised(q, alertID, n)
	}
	return alertID, occurrences == 1, nil
}

// Acknowledge closes an open alert. workspaceID, when set, is the
// workspace acting: it may acknowledge its own alerts only; other
// workspaces' alerts are ErrNotFound and installation-wide ones
// ErrInstallationWide, and nothing changes. An empty workspaceID is an
// installation operator, who may acknowledge any alert; by is then recorded
// with OperatorPrefix.
func Acknowledge(ctx context.Context, q db.Querier, now time.Time, alertID, workspaceID, by string) (Alert, error) {
	if strings.TrimSpace(by) == "" {
		by = "unknown"
	}
	query := `UPDATE admin_alerts SET acknowledged_at = $2, acknowledged_by = $3
	           WHERE id = $1 AND acknowledged_at IS NULL`
	args := []any{alertID, now, by}
	if workspaceID != "" {
		query += ` AND workspace_id = $4`
		args = append(args, workspaceID)
	} else if !strings.HasPrefix(by, OperatorPrefix) {
		args[2] = OperatorPrefix + by
	}
	a, err := scan(q.QueryRowContext(ctx, query+` RETURNING `+columns, args...))
	if db.IsNoRows(err) {
		// Unknown, another workspace's, installation-wide, or already
		// acknowledged: Get says which (an acknowledged alert is returned
		// as it stands).
		a, err := Get(ctx, q, alertID, workspaceID)
		if err == nil && workspaceID != "" && a.InstallationWide {
			return Alert{}, ErrInstallationWide
		}
		return a, err
	}
	if err != nil {
		return Alert{}, fmt.Errorf("acknowledging alert %s: %w", alertID, err)
	}
	return seenBy(a, workspaceID), nil
}

// Settle acknowledges a workspace's open alert about a condition that no
// longer holds (its dedupe key), recording who made it go away; an alert
// already acknowledged, or none, is left as it is.
func Settle(ctx context.Context, q db.Querier, now time.Time, workspaceID, dedupeKey, by string) error {
	if strings.TrimSpace(by) == "" {
		by = "unknown"
	}
	if _, err := q.ExecContext(ctx, `UPDATE admin_alerts SET acknowledged_at = $3, acknowledged_by = $4
		WHERE workspace_id = $1 AND dedupe_key = $2 AND acknowledged_at IS NULL`, workspaceID, dedupeKey, now, by); err != nil {
		return fmt.Errorf("settling alert %s: %w", dedupeKey, err)
	}
	return nil
}

// Get reads one alert visible to workspaceID (empty: any).
func Get(ctx context.Context, q db.Querier, alertID, workspaceID string) (Alert, error) {
	query := `SELECT ` + columns + ` FROM admin_alerts WHERE id = $1`
	args := []any{alertID}
	if workspaceID != "" {
		query += ` AND (workspace_id = $2 OR workspace_id IS NULL)`
		args = append(args, workspaceID)
	}
	a, err := scan(q.QueryRowContext(ctx, query, args...))
	if db.IsNoRows(err) {
		return Alert{}, ErrNotFound
	}
	if err != nil {
		return Alert{}, fmt.Errorf("reading alert %s: %w", alertID, err)
	}
	return seenBy(a, workspaceID), nil
}

// List returns alerts, newest first.
func List(ctx context.Context, q db.Querier, f Filter) ([]Alert, error) {
	query := `SELECT ` + columns + ` FROM admin_alerts WHERE 1 = 1`
	var args []any
	if f.WorkspaceID != "" {
		args = append(args, f.WorkspaceID)
		query += fmt.Sprintf(` AND (workspace_id = $%d OR workspace_id IS NULL)`, len(args))
	}
	if f.OpenOnly {
		query += ` AND acknowledged_at IS NULL`
	}
	if f.Kind != "" {
		args = append(args, f.Kind)
		query += fmt.Sprintf(` AND kind = $%d`, len(args))
	}
	if f.After != "" {
		args = append(args, f.After)
		query += fmt.Sprintf(` AND (created_at, id) < (SELECT created_at, id FROM admin_alerts WHERE id = $%d)`, len(args))
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		out = append(out, seenBy(a, f.WorkspaceID))
	}
	return out, rows.Err()
}

// CountOpen counts unacknowledged alerts by kind, for the metrics scrape.
func CountOpen(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 1, `SELECT kind, count(*) FROM admin_alerts WHERE acknowledged_at IS NULL GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("counting open alerts: %w", err)
	}
	return out, nil
}
