package send_test

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// A listed person is never sent to: adding the entry ends their
// enrollment at once, and one listed behind the addition's back (an
// import racing the addition, made here by a raw insert) is ended by the
// claim's verdict instead of being sent to.
func TestDoNotContactIsNeverSentTo(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 5)
		sa := s.addAccount(t, "Acct DNC", account.TierPremium, "UTC", 8)
		// The campaign starts outside the window, so nothing goes before
		// the listing.
		c := s.addCampaign(t, "dnc", []campaign.Step{{ID: "v1", Type: campaign.StepViewProfile}, {ID: "m1", Type: campaign.StepInvite}}, 3, []string{sa.acc.ID})
		res, err := s.camps.AddDNC(s.ctx, s.ws.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAdnc00000", Reason: "asked"}})
		if err != nil || res.Ended != 1 {
			t.Fatalf("adding the entry: %+v %v", res, err)
		}
		if _, err := d.SQL.ExecContext(s.ctx, `INSERT INTO do_not_contact (id, workspace_id, provider_id, reason, created_at, created_by)
			VALUES ('dnc_raced', $1, 'ACoAAdnc00001', '', $2, 'cli')`, s.ws.ID, s.clock.Now()); err != nil {
			t.Fatal(err)
		}
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 3*time.Hour)
		sent := map[string]int{}
		for _, call := range s.fake.Calls() {
			if call.Recipient != "" {
				sent[call.Recipient]++
			}
		}
		if sent["ACoAAdnc00000"] != 0 || sent["ACoAAdnc00001"] != 0 || sent["ACoAAdnc00002"] == 0 {
			t.Fatalf("calls per person: %v (the listed two must have none, the third some)", sent)
		}
		list, err := s.camps.ListEnrollments(s.ctx, d.SQL, s.ws.ID, c.ID, campaign.EnrollmentListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			listed := e.ProviderID != "ACoAAdnc00002"
			if listed != (e.State == campaign.EnrollmentEnded && e.EndedReason == campaign.EndedDoNotContact) {
				t.Errorf("enrollment of %s: %s (%s)", e.ProviderID, e.State, e.EndedReason)
			}
		}
	})
}
