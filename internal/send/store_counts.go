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

// into stores a step's or a sender's count in the field its measure names.
func (c sendCount) into(sent, accepted, replied *int) {
	switch c.measure {
	case "sent":
		*sent = c.n
	case "accepted":
		*accepted = c.n
	case "replied":
		*replied = c.n
	}
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
	return db.FoldDeltas(ctx, tx, sendCountsTable, campaignID)
}

// sendCountsTable is campaign_send_counts as a delta table.
var sendCountsTable = db.DeltaTable{Name: "campaign_send_counts", Keys: []string{"campaign_id", "scope", "key", "action", "measure"}}
