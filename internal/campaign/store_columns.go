package campaign

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/db"
)

// hasColumn reports whether some prospect imported into the campaign (in
// any state) has the custom column name: the check behind FallbackOnly at
// Start (docs/campaigns.md#variables-and-fallbacks).
func (s *Service) hasColumn(ctx context.Context, q db.Querier, campaignID, name string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM enrollments e JOIN prospects p ON p.id = e.prospect_id
		WHERE e.campaign_id = $1 AND `+s.db.JSONFieldIsSet("p.custom_fields", 2)+` LIMIT 1) x`,
		campaignID, s.db.JSONFieldArg(name)).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for column %s in the prospects of campaign %s: %w", name, campaignID, err)
	}
	return n > 0, nil
}
