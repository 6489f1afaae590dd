package account

import (
	"slices"
	"strings"
	"time"
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
