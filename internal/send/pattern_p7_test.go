package send_test

import (
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// p7Enrollment is one enrollment as the P7 tests look at it.
type p7Enrollment struct {
	id, account, state, reason string
	contacted                  bool
}

func p7Enrollments(t *testing.T, s *sim, campaignID string) map[string]p7Enrollment {
	t.Helper()
	rows, err := s.d.SQL.QueryContext(s.ctx, `SELECT e.id, e.account_id, e.state, COALESCE(e.ended_reason, ''),
		(SELECT count(*) FROM sends sd WHERE sd.enrollment_id = e.id AND sd.state IN ('intent', 'dispatched', 'confirmed', 'unknown'))
		FROM enrollments e WHERE e.campaign_id = $1`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]p7Enrollment{}
	for rows.Next() {
		var e p7Enrollment
		var n int
		if err := rows.Scan(&e.id, &e.account, &e.state, &e.reason, &n); err != nil {
			t.Fatal(err)
		}
		e.contacted = n > 0
		out[e.id] = e
	}
	return out
}

// p7Setup runs a two-sender invitation campaign until the second sender
// (Acct MB) has invited one of its three prospects, then disconnects it.
func p7Setup(t *testing.T, s *sim) (a, b simAccount, c campaign.Campaign) {
	t.Helper()
	a = s.addAccount(t, "Acct MA", account.TierPremium, "UTC", 5)
	b = s.addAccount(t, "Acct MB", account.TierPremium, "UTC", 5)
	c = s.addCampaign(t, "p7", []campaign.Step{
		{ID: "i1", Type: campaign.StepInvite},
		{ID: "c1", Type: campaign.StepIfAccepted, Within: "168h", Then: "m1", Else: campaign.End},
		{ID: "m1", Type: campaign.StepMessage, Text: "Thanks {{first_name}}"},
	}, 6, []string{a.acc.ID, b.acc.ID})
	s.clock.Set(simStart.Add(9 * time.Hour))
	for i := 0; countCalls(s.fake, b.provider, fake.ActionInvite, simStart) == 0; i++ {
		if i > 120 {
			t.Fatal("Acct MB sent no invitation in two hours")
		}
		if _, err := s.engine.RunPass(s.ctx); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(time.Minute)
	}
	if n := countCalls(s.fake, b.provider, fake.ActionInvite, simStart); n != 1 {
		t.Fatalf("Acct MB sent %d invitations before its disconnect, want 1", n)
	}
	creds := account.TerminalCredentials()
	if _, err := s.accounts.Flip(s.ctx, account.FlipRequest{AccountID: b.acc.ID, To: account.StatusDisconnected, Copy: &creds,
		Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
		t.Fatal(err)
	}
	return a, b, c
}

func TestPatternP7RemovedSenderHandsOffUncontactedProspects(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 7)
		a, b, c := p7Setup(t, s)

		deps := diagnose.Deps{DB: s.d, Accounts: s.accounts, Campaigns: s.camps}
		rep, err := diagnose.Campaign(s.ctx, deps, s.ws.ID, c.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		var down *diagnose.Finding
		for i, f := range rep.Findings {
			if f.Code == diagnose.CodeSendersDown {
				down = &rep.Findings[i]
			}
		}
		want := "Sending on 1 of 2 senders; 3 prospects wait for Acct MB to reconnect."
		if down == nil || down.Message != want || down.Severity != diagnose.Limiting || down.ClearsAt != nil {
			t.Fatalf("senders_down finding = %+v, want %q (limiting, no clear time); all: %+v", down, want, rep.Findings)
		}
		if got, _ := s.camps.Get(s.ctx, s.d.SQL, "", c.ID); got.Status != campaign.StatusRunning {
			t.Fatalf("a campaign with a connected sender keeps running: %s", got.Status)
		}

		before := p7Enrollments(t, s, c.ID)
		var moving, staying []string
		for id, e := range before {
			if e.account != b.acc.ID {
				continue
			}
			if e.contacted {
				staying = append(staying, id)
			} else {
				moving = append(moving, id)
			}
		}
		if len(moving) != 2 || len(staying) != 1 {
			t.Fatalf("Acct MB has %d never-contacted and %d contacted prospects, want 2 and 1", len(moving), len(staying))
		}

		if _, err := s.camps.Pause(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.camps.Update(s.ctx, s.ws.ID, c.ID, campaign.Input{AccountIDs: []string{a.acc.ID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.camps.Resume(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		after := p7Enrollments(t, s, c.ID)
		for _, id := range moving {
			if e := after[id]; e.account != a.acc.ID || e.state != "active" {
				t.Fatalf("never-contacted prospect %s: %+v, want active with Acct MA", id, e)
			}
		}
		if e := after[staying[0]]; e.account != b.acc.ID || e.state != "ended" || e.reason != campaign.EndedSenderRemoved {
			t.Fatalf("contacted prospect: %+v, want ended sender_removed with Acct MB", e)
		}

		s.runFor(t, 3*time.Hour)
		after = p7Enrollments(t, s, c.ID)
		for _, id := range moving {
			if e := after[id]; !e.contacted || e.account != a.acc.ID {
				t.Fatalf("handed-off prospect %s was not invited by Acct MA: %+v", id, e)
			}
		}
	})
}

func TestPatternP7LongDisconnectHandsOffAfterTheWorkspaceDelay(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 8)
		a, b, c := p7Setup(t, s)
		handOff := func() int {
			t.Helper()
			n, err := s.camps.HandOffStale(s.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		s.clock.Advance(71 * time.Hour)
		if n := handOff(); n != 0 {
			t.Fatalf("%d prospects handed off before the 72 h default", n)
		}
		s.clock.Advance(2 * time.Hour)
		if n := handOff(); n != 2 {
			t.Fatalf("handed off %d prospects after 73 h, want Acct MB's 2 never-contacted ones", n)
		}
		if n := handOff(); n != 0 {
			t.Fatalf("a second sweep handed off %d more", n)
		}
		byAccount := map[string]int{}
		for _, e := range p7Enrollments(t, s, c.ID) {
			if e.state == "soft_paused" || e.state == "active" || e.state == "pending" {
				byAccount[e.account]++
			}
			if e.account == b.acc.ID && !e.contacted {
				t.Fatalf("a never-contacted prospect stayed with the disconnected sender: %+v", e)
			}
		}
		if byAccount[b.acc.ID] != 1 {
			t.Fatalf("Acct MB keeps %d live prospects, want its one contacted prospect", byAccount[b.acc.ID])
		}
		_ = a
		// A shorter workspace setting hands off sooner; the CHECK keeps it sane.
		if _, err := s.d.SQL.ExecContext(s.ctx, `UPDATE workspaces SET sender_handoff_hours = 0 WHERE id = $1`, s.ws.ID); err == nil {
			t.Fatal("sender_handoff_hours = 0 was accepted")
		}
	})
}
