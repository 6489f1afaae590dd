package health_test

import (
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/health"
)

// A health check stores the premium features Unipile reports, so a tier
// change is checked against a recent report.
func TestCheckRecordsProviderFeatures(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, health.Config{})
		a := e.addAccounts(1, account.StatusConnected)[0]
		if got := e.get(a.ID); got.ProviderFeatures != nil {
			t.Fatalf("features before any check: %v", got.ProviderFeatures)
		}
		e.check(a.ID)
		got := e.get(a.ID)
		// The fake reports no premium features for an account without an
		// InMail seat: a free account, though Keel had it as premium.
		if got.ProviderFeatures == nil || len(got.ProviderFeatures) != 0 || got.ProviderFeaturesAt == nil ||
			!got.ProviderFeaturesAt.Equal(e.clock.Now()) {
			t.Fatalf("features after a check: %v at %v", got.ProviderFeatures, got.ProviderFeaturesAt)
		}
		if got.Tier != account.TierPremium {
			t.Fatalf("a check changed the tier: %s", got.Tier)
		}
		_, err := e.accounts.UpdateSettings(e.ctx, e.ws.ID, a.ID, account.SettingsPatch{Tier: ptr(account.TierRecruiter), Actor: "test"})
		if err == nil {
			t.Fatal("recruiter accepted on an account the provider reports as free")
		}
	})
}

func ptr[T any](v T) *T { return &v }
