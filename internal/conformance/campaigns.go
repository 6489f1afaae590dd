package conformance

import (
	"context"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
)

// ExerciseCampaigns runs the campaign and enrollment rules against databases
// made by newDB: one enrollment per (campaign, prospect), even when a
// prospect is imported twice, and a sender's disconnect pauses its campaign
// inside the flip's transaction. The campaign package's own tests cover
// every database rule and lifecycle step on both engines.
func ExerciseCampaigns(ctx context.Context, t *testing.T, newDB NewDB) {
	t.Run("OneEnrollmentPerProspectAndDisconnectPauses", func(t *testing.T) {
		t.Parallel()
		b := setup(ctx, t, newDB)
		camps := campaign.NewService(b.db, b.clock)
		b.accounts.OnFlip("campaigns", camps.OnAccountFlip)
		a := b.newAccount(t, account.StatusConnected)
		name := "rules"
		c, err := camps.Create(ctx, b.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
			Steps: []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}}})
		if err != nil {
			t.Fatalf("creating campaign: %v", err)
		}
		row := campaign.ProspectRow{Row: 1, ProviderID: "ACoAAconformance1", FirstName: "Ada"}
		for i := 0; i < 2; i++ {
			if _, err := camps.Import(ctx, c.ID, b.ws.ID, []campaign.ProspectRow{row}); err != nil {
				t.Fatalf("importing (%d): %v", i+1, err)
			}
		}
		if n := countRows(ctx, t, b.db, `SELECT count(*) FROM enrollments WHERE campaign_id = $1`, c.ID); n != 1 {
			t.Fatalf("%d enrollments for one prospect imported twice", n)
		}
		_, err = b.db.SQL.ExecContext(ctx, `INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, created_at, updated_at)
			SELECT 'enr_twin', workspace_id, campaign_id, prospect_id, account_id, created_at, updated_at FROM enrollments WHERE campaign_id = $1`, c.ID)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("a second enrollment of the same prospect: %v", err)
		}
		if _, err := camps.Start(ctx, b.ws.ID, c.ID); err != nil {
			t.Fatalf("starting campaign: %v", err)
		}
		copyText := account.TerminalCredentials()
		if _, err := b.accounts.Flip(ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected, Copy: &copyText,
			Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
			t.Fatalf("disconnecting: %v", err)
		}
		got, err := camps.Get(ctx, b.db.SQL, "", c.ID)
		if err != nil || got.Status != campaign.StatusPaused || got.PausedReason != campaign.ReasonAccountDisconnected {
			t.Fatalf("campaign after its sender's disconnect: %s %s %v", got.Status, got.PausedReason, err)
		}
	})
}
