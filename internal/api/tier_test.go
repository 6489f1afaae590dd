package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

func TestTierIsCheckedAgainstTheProvider(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := newInputBundle(t, d)
		path := "/api/v1/accounts/" + b.accountID
		var tokenID string
		if err := d.SQL.QueryRow(`SELECT id FROM api_tokens`).Scan(&tokenID); err != nil {
			t.Fatal(err)
		}
		changes := func() []account.TierChange {
			t.Helper()
			list, err := account.TierChanges(ctx, d.SQL, b.accountID)
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		patchTier := func(tier string) (int, map[string]any) {
			t.Helper()
			return b.sendJSON(t, "PATCH", path, map[string]any{"tier": tier})
		}
		report := func(features ...string) {
			t.Helper()
			if err := account.RecordProviderFeatures(ctx, d.SQL, b.accountID, features, time.Now()); err != nil {
				t.Fatal(err)
			}
		}

		// Nothing reported: raising the tier is allowed, and recorded with who.
		status, acc := patchTier("premium")
		if status != http.StatusOK || acc["tier"] != "premium" || acc["tier_changed_by"] != "token:"+tokenID ||
			acc["tier_changed_at"] == nil || acc["provider_premium_features"] != nil {
			t.Fatalf("premium without a report: %d %v", status, acc)
		}
		if c := changes(); len(c) != 1 || c[0].From != "free" || c[0].To != "premium" || c[0].ChangedBy != "token:"+tokenID ||
			c[0].ProviderFeatures != nil {
			t.Fatalf("changes %+v", c)
		}

		// The provider reports a free account: no paid tier.
		report()
		if _, acc := b.sendJSON(t, "GET", path, nil); acc["provider_premium_features"] == nil ||
			len(acc["provider_premium_features"].([]any)) != 0 {
			t.Fatalf("reported features not shown: %v", acc)
		}
		for _, tier := range []string{"sales_navigator", "recruiter"} {
			status, prob := patchTier(tier)
			detail, _ := prob["detail"].(string)
			if status != http.StatusUnprocessableEntity || !namesField(prob, "tier") ||
				!strings.Contains(detail, "the provider reports this account as free") {
				t.Fatalf("%s on a free account: %d %v", tier, status, prob)
			}
		}
		if _, acc := b.sendJSON(t, "GET", path, nil); acc["tier"] != "premium" || len(changes()) != 1 {
			t.Fatalf("a refused tier changed something: %v %+v", acc, changes())
		}
		// Lowering it is always allowed (and the caps follow).
		if status, acc := patchTier("free"); status != http.StatusOK || acc["tier"] != "free" {
			t.Fatalf("down to free: %d %v", status, acc)
		}
		if status, _ := patchTier("premium"); status != http.StatusUnprocessableEntity {
			t.Fatalf("back to premium on a free account: %d", status)
		}

		// A Sales Navigator seat allows premium and sales_navigator, not recruiter.
		report("sales_navigator", "bogus")
		for tier, want := range map[string]int{"premium": 200, "sales_navigator": 200, "recruiter": 422} {
			if status, prob := patchTier(tier); status != want {
				t.Fatalf("%s with sales_navigator: %d %v", tier, status, prob)
			}
		}
		c := changes()
		if last := c[len(c)-1]; len(c) != 4 || strings.Join(last.ProviderFeatures, ",") != "sales_navigator" {
			t.Fatalf("changes %+v", c)
		}

		// The database holds the rule and the record against raw SQL.
		_, err := d.SQL.Exec(`UPDATE linkedin_accounts SET tier = 'recruiter' WHERE id = $1`, b.accountID)
		if !db.ViolatesConstraint(err, "linkedin_accounts_tier_reported_chk") {
			t.Fatalf("raw tier above the report: %v", err)
		}
		if _, err := d.SQL.Exec(`UPDATE linkedin_accounts SET tier = 'free', cap_inmail_daily = 0 WHERE id = $1`, b.accountID); err != nil {
			t.Fatal(err)
		}
		c = changes()
		if last := c[len(c)-1]; len(c) != 5 || last.To != "free" || !strings.HasPrefix(last.ChangedBy, "unattributed") {
			t.Fatalf("a raw tier change was not recorded: %+v", c)
		}
		for _, q := range []string{`UPDATE account_tier_changes SET changed_by = 'x'`, `DELETE FROM account_tier_changes`} {
			if _, err := d.SQL.Exec(q); !db.ViolatesConstraint(err, "account_tier_changes_append_only") {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if n := len(changes()); n != 5 {
			t.Fatalf("%d changes after the refused edits", n)
		}
		// The stored report keeps the form the tier trigger matches against
		// (",a,b," or "," for none).
		for _, bad := range []string{",sales_navigator", "premium,", ""} {
			if _, err := d.SQL.Exec(`UPDATE linkedin_accounts SET provider_features = $1 WHERE id = $2`, bad, b.accountID); !db.ViolatesConstraint(err, "linkedin_accounts_provider_features_chk") {
				t.Fatalf("provider_features %q: %v", bad, err)
			}
		}
	})
}
