package health

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// LastCheck is when an account was last health-checked and how it went
// (docs/health.md).
type LastCheck struct {
	At      time.Time
	Outcome string
}

// LastChecks returns the last health check of each given account that was
// ever checked: one query for a page of the accounts overview.
func LastChecks(ctx context.Context, q db.Querier, accountIDs []string) (map[string]LastCheck, error) {
	out := make(map[string]LastCheck, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(accountIDs))
	marks := ""
	for i, a := range accountIDs {
		args[i] = a
		if i > 0 {
			marks += ", "
		}
		marks += fmt.Sprintf("$%d", i+1)
	}
	rows, err := q.QueryContext(ctx, `SELECT account_id, last_checked_at, last_outcome FROM account_health
		WHERE last_checked_at IS NOT NULL AND account_id IN (`+marks+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading last health checks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			acc     string
			at      time.Time
			outcome sql.NullString
		)
		if err := rows.Scan(&acc, &at, &outcome); err != nil {
			return nil, fmt.Errorf("reading last health checks: %w", err)
		}
		out[acc] = LastCheck{At: at.UTC(), Outcome: outcome.String}
	}
	return out, rows.Err()
}
