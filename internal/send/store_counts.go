package send

// A campaign's stats and answer counts read from campaign_send_counts, the
// deltas the database's own triggers append beside the ledger
// (docs/storage.md#campaign-send-counts), instead of from a scan of the
// campaign's ledger joined with its enrollments.

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keel-outreach/keel/internal/db"
)

// sendCount is one summed count of a campaign.
type sendCount struct {
	scope, key, action, measure string
	n                           int
}

// campaignSendCounts reads a campaign's summed counts, in (scope, key,
// action, measure) order; zero sums are left out.
func campaignSendCounts(ctx context.Context, q db.Querier, campaignID string) ([]sendCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT scope, key, action, measure, SUM(n) FROM campaign_send_counts
		WHERE campaign_id = $1 GROUP BY scope, key, action, measure HAVING SUM(n) <> 0
		ORDER BY scope, key, action, measure`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reading the send counts of campaign %s: %w", campaignID, err)
	}
	defer rows.Close()
	var out []sendCount
	for rows.Next() {
		var c sendCount
		if err := rows.Scan(&c.scope, &c.key, &c.action, &c.measure, &c.n); err != nil {
			return nil, fmt.Errorf("reading the send counts of campaign %s: %w", campaignID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the send counts of campaign %s: %w", campaignID, err)
	}
	return out, nil
}

// FoldSendCounts replaces the count deltas of a campaign (of every
// campaign with more than one delta of a count, when campaignID is empty)
// by their sums, in tx, and reports how many deltas it removed. It sums
// exactly the rows its DELETE removed, so deltas appended meanwhile by
// other transactions stay and no count moves.
func FoldSendCounts(ctx context.Context, tx *sql.Tx, campaignID string) (int, error) {
	query, args := `DELETE FROM campaign_send_counts WHERE campaign_id = $1
		RETURNING campaign_id, scope, key, action, measure, n`, []any{campaignID}
	if campaignID == "" {
		query, args = `DELETE FROM campaign_send_counts WHERE campaign_id IN (
			SELECT campaign_id FROM campaign_send_counts GROUP BY campaign_id, scope, key, action, measure HAVING count(*) > 1)
			RETURNING campaign_id, scope, key, action, measure, n`, nil
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("folding send counts: %w", err)
	}
	type key struct{ campaign, scope, key, action, measure string }
	sums := map[key]int64{}
	var keys []key
	deleted := 0
	for rows.Next() {
		var k key
		var n int64
		if err := rows.Scan(&k.campaign, &k.scope, &k.key, &k.action, &k.measure, &n); err != nil {
			rows.Close()
			return 0, fmt.Errorf("folding send counts: %w", err)
		}
		if _, seen := sums[k]; !seen {
			keys = append(keys, k)
		}
		sums[k] += n
		deleted++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("folding send counts: %w", err)
	}
	for _, k := range keys {
		if sums[k] == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_send_counts (campaign_id, scope, key, action, measure, n)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.campaign, k.scope, k.key, k.action, k.measure, sums[k]); err != nil {
			return 0, fmt.Errorf("folding send counts: %w", err)
		}
	}
	return deleted, nil
}
