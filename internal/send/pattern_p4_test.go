package send_test

import (
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// P4: an accept that no webhook reports is found by the relations poll
// within one poll period (10 minutes), and the follow-up goes at once,
// subject only to the account's spacing. Before that the diagnosis shows
// the prospect waiting for its condition, clearing at its timeout.
func TestPatternP4AcceptWithoutWebhookIsFoundWithinTenMinutes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 104)
		sa := s.addAccount(t, "Poller", account.TierPremium, "UTC", 5)
		camp := s.addCampaign(t, "p4", []campaign.Step{{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "168h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks for connecting"}}, 20, []string{sa.acc.ID})
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, 5*time.Minute)
		// Twenty prospects: the day's invitations are spread over the
		// window (about 27 minutes apart), which must not hold the follow-up.
		invs := s.fake.Invitations(sa.provider)
		if len(invs) != 1 {
			t.Fatalf("invitations: %+v", invs)
		}
		invitedAt := invs[0].SentAt
		r := s.diagnosis(t, camp.ID)
		if !r.Sending || r.NextActionAt == nil || !r.NextActionAt.After(s.clock.Now()) {
			t.Fatalf("sending, with the next invitation later: %+v", r)
		}
		f := mustFinding(t, r, "pacing")
		if f.ClearsAt == nil || !strings.Contains(f.Message, "spread over the window") {
			t.Fatalf("the invitations' spread: %+v", f)
		}
		_ = invitedAt

		// The person accepts; no webhook arrives. The poll task runs every
		// minute (each account in its own minute of ten) between passes.
		if err := s.fake.Accept(invs[0].ID); err != nil {
			t.Fatal(err)
		}
		accepted := s.clock.Now()
		var stampedAt time.Time
		for now := accepted; now.Before(accepted.Add(30 * time.Minute)); now = s.clock.Advance(time.Minute) {
			if n, err := s.engine.PollRelations(s.ctx); err != nil {
				t.Fatal(err)
			} else if n > 0 && stampedAt.IsZero() {
				stampedAt = now
			}
			if _, err := s.engine.RunPass(s.ctx); err != nil {
				t.Fatal(err)
			}
			if countCalls(s.fake, sa.provider, fake.ActionStartChat, accepted) > 0 {
				break
			}
		}
		if stampedAt.IsZero() || stampedAt.Sub(accepted) >= send.RelationsPollEvery {
			t.Fatalf("the accept at %v was stamped at %v, want within %v", accepted, stampedAt, send.RelationsPollEvery)
		}
		msgs := 0
		var sentAt time.Time
		for _, c := range s.fake.Calls() {
			if c.Action == fake.ActionStartChat && c.AccountID == sa.provider && c.Applied {
				msgs++
				sentAt = c.Time
			}
		}
		// The follow-up waits at most for the spacing (3 minutes at most
		// after the invitation, long past) and the next pass.
		if msgs != 1 || sentAt.Sub(stampedAt) > time.Minute {
			t.Fatalf("follow-up: %d sent, at %v for an accept stamped at %v", msgs, sentAt, stampedAt)
		}
	})
}
