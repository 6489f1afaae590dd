package account

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/db"
)

// Premium features as Unipile reports them on a LinkedIn account
// (connection_params.im.premiumFeatures).
const (
	FeaturePremium        = "premium"
	FeatureSalesNavigator = "sales_navigator"
	FeatureRecruiter      = "recruiter"
)

// parseFeatures reads the stored form (",a,b,"; "," is none) into a
// non-nil list.
func parseFeatures(s string) []string {
	out := []string{}
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// formatFeatures keeps the known features, sorted and deduplicated, in
// the stored form the database's tier guard matches with LIKE.
func FormatFeatures(features []string) string {
	var keep []string
	for _, f := range features {
		f = strings.ToLower(strings.TrimSpace(f))
		if (f == FeaturePremium || f == FeatureSalesNavigator || f == FeatureRecruiter) && !slices.Contains(keep, f) {
			keep = append(keep, f)
		}
	}
	slices.Sort(keep)
	return "," + strings.Join(keep, ",") + strings.Repeat(",", min(len(keep), 1))
}

// TierSupported reports whether the reported features allow tier t: free
// always; premium with any paid feature (Sales Navigator and Recruiter
// seats include Premium's); sales_navigator and recruiter with their own.
// The linkedin_accounts_tier_guard trigger holds the same rule.
func TierSupported(t Tier, features []string) bool {
	switch t {
	case TierFree:
		return true
	case TierPremium:
		return len(parseFeatures(FormatFeatures(features))) > 0
	}
	return slices.Contains(features, string(t))
}

// describeFeatures is how an error names what the provider reports.
func describeFeatures(features []string) string {
	if len(features) == 0 {
		return "free (no premium features)"
	}
	return "having " + strings.Join(features, ", ")
}

// RecordProviderFeatures stores the premium features the provider reported
// for an account (a health check when the report changed, a hosted-auth
// connect) and when. It changes
// nothing else: a tier set before stays, and is only checked when it is
// next changed.
func RecordProviderFeatures(ctx context.Context, q db.Querier, accountID string, features []string, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE linkedin_accounts SET provider_features = $2, provider_features_at = $3 WHERE id = $1`,
		accountID, FormatFeatures(features), at); err != nil {
		return fmt.Errorf("recording the provider's features of account %s: %w", accountID, err)
	}
	return nil
}

// TierChange is one recorded change of an account's tier.
type TierChange struct {
	From      Tier      `json:"from"`
	To        Tier      `json:"to"`
	ChangedBy string    `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
	// ProviderFeatures is what the provider reported at the time; nil
	// when it had reported nothing, so the change was taken on trust.
	ProviderFeatures []string `json:"provider_premium_features"`
}

// TierChanges lists an account's tier changes, oldest first.
func TierChanges(ctx context.Context, q db.Querier, accountID string) ([]TierChange, error) {
	rows, err := q.QueryContext(ctx, `SELECT from_tier, to_tier, changed_by, changed_at, provider_features
		FROM account_tier_changes WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing tier changes of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []TierChange
	for rows.Next() {
		var c TierChange
		var at db.NullTime
		var feats *string
		if err := rows.Scan(&c.From, &c.To, &c.ChangedBy, &at, &feats); err != nil {
			return nil, fmt.Errorf("reading tier changes of account %s: %w", accountID, err)
		}
		c.ChangedAt = at.Time.UTC()
		if feats != nil {
			c.ProviderFeatures = parseFeatures(*feats)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
