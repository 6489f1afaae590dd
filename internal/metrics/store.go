package metrics

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/db"
)

// countSends counts send ledger rows by action and state. The ledger is
// the send package's; this read stays here only until that package's
// store offers it.
func countSends(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 2, `SELECT action, state, count(*) FROM sends GROUP BY action, state`)
	if err != nil {
		return nil, fmt.Errorf("counting sends: %w", err)
	}
	return out, nil
}
