package send_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// salesNavCampaign starts a campaign invite → if_accepted (3 days) →
// message whose one prospect is imported by a Sales Navigator lead URL.
func salesNavCampaign(t *testing.T, s *sim, acc simAccount, lead string) campaign.Campaign {
	t.Helper()
	name := "p13"
	c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{acc.acc.ID}, Steps: []campaign.Step{
		{ID: "i1", Type: campaign.StepInvite},
		{ID: "c1", Type: campaign.StepIfAccepted, Within: "72h", Then: "m1", Else: campaign.End},
		{ID: "m1", Type: campaign.StepMessage, Text: "Thanks for connecting"}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, []campaign.ProspectRow{{Row: 1,
		LinkedInURL: "https://www.linkedin.com/sales/lead/" + lead + ",NAME_SEARCH,abcd", FirstName: "Lea"}})
	if err != nil || res.Imported != 1 {
		t.Fatalf("importing: %+v %v", res, err)
	}
	if c, err = s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}

func hasFinding(r diagnose.Report, code string) bool {
	_, ok := finding(r, code)
	return ok
}

func finding(r diagnose.Report, code string) (diagnose.Finding, bool) {
	for _, f := range r.Findings {
		if f.Code == code {
			return f, true
		}
	}
	return diagnose.Finding{}, false
}

// TestPatternP13SalesNavigatorAcceptIsMatched: a prospect imported by a
// Sales Navigator lead URL (whose URN is not the member id accepts carry)
// is invited; the accept, by webhook or by the relations poll, is matched
// through the member id kept at invite time and the follow-up is sent.
func TestPatternP13SalesNavigatorAcceptIsMatched(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"webhook", "poll"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				s := newSim(t, d, 13)
				sa := s.addAccount(t, "Nav", account.TierPremium, "UTC", 5)
				lead := "ACwAAAlead13" + via
				camp := salesNavCampaign(t, s, sa, lead)
				s.clock.Set(simStart.Add(9 * time.Hour))
				s.runFor(t, time.Hour)
				invs := s.fake.Invitations(sa.provider)
				if len(invs) != 1 {
					t.Fatalf("invitations: %+v", invs)
				}
				if invs[0].ProviderID == lead {
					t.Fatal("the fake must answer a member id for a Sales Navigator lead, not the lead id")
				}
				if err := s.fake.Accept(invs[0].ID); err != nil {
					t.Fatal(err)
				}
				switch via {
				case "webhook":
					// What the new_relation webhook carries: the member id, handle and URL.
					rel := relationOf(t, s, sa)
					if err := d.InTx(s.ctx, func(tx *sql.Tx) error {
						return s.engine.RelationEvent(s.ctx, tx, s.ws.ID, sa.acc.ID, unipile.NewRelationEvent{Event: "new_relation",
							UserProviderID: rel.MemberID, UserPublicIdentifier: rel.PublicIdentifier, UserProfileURL: rel.PublicProfileURL})
					}); err != nil {
						t.Fatal(err)
					}
				case "poll":
					// The poll task runs every minute; the account's turn comes
					// within one poll period.
					if n := s.pollUntilStamped(t); n != 1 {
						t.Fatalf("polling stamped %d", n)
					}
				}
				mark := s.clock.Now()
				s.runFor(t, 30*time.Minute)
				if n := countCalls(s.fake, sa.provider, fake.ActionStartChat, mark); n != 1 {
					t.Fatalf("follow-ups after the accept: %d", n)
				}
				if state, _ := enrollmentState(t, s); state != "completed" {
					t.Fatalf("state after the follow-up: %s", state)
				}
				r, err := diagnose.Campaign(s.ctx, diagnose.Deps{DB: d, Accounts: s.accounts, Campaigns: s.camps}, s.ws.ID, camp.ID, s.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if hasFinding(r, "unmatched_accepts") {
					t.Fatalf("a matched accept is not unmatched: %+v", r.Findings)
				}
			})
		})
	}
}

// TestPatternP13UnmatchedAcceptIsKept: an accept that matches no prospect
// is stored once, raises one alert for the day with the count, and shows
// in the diagnosis of a campaign waiting on if_accepted.
func TestPatternP13UnmatchedAcceptIsKept(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 14)
		sa := s.addAccount(t, "Nav", account.TierPremium, "UTC", 5)
		camp := salesNavCampaign(t, s, sa, "ACwAAAleadUnmatched")
		s.clock.Set(simStart.Add(9 * time.Hour))
		s.runFor(t, time.Hour)
		deps := diagnose.Deps{DB: d, Accounts: s.accounts, Campaigns: s.camps}
		r, err := diagnose.Campaign(s.ctx, deps, s.ws.ID, camp.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if hasFinding(r, "unmatched_accepts") {
			t.Fatal("no accept yet")
		}
		// A stranger's accept arrives twice (webhook, then the poll finds it).
		stranger := s.fake.AddPerson(fake.Person{PublicIdentifier: "someone-else"})
		if _, err := s.fake.AddRelation(sa.provider, stranger); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := d.InTx(s.ctx, func(tx *sql.Tx) error {
				return s.engine.RelationEvent(s.ctx, tx, s.ws.ID, sa.acc.ID, unipile.NewRelationEvent{Event: "new_relation",
					UserProviderID: unipile.FlexString(stranger), UserPublicIdentifier: "someone-else"})
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.engine.PollRelations(s.ctx); err != nil {
			t.Fatal(err)
		}
		var stored, alerts int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM unmatched_accepts`).Scan(&stored); err != nil || stored != 1 {
			t.Fatalf("unmatched accepts stored: %d %v", stored, err)
		}
		if err := d.SQL.QueryRow(`SELECT count(*) FROM admin_alerts WHERE kind = 'unmatched_accepts' AND acknowledged_at IS NULL`).Scan(&alerts); err != nil || alerts != 1 {
			t.Fatalf("open unmatched_accepts alerts: %d %v", alerts, err)
		}
		r, err = diagnose.Campaign(s.ctx, deps, s.ws.ID, camp.ID, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		f, ok := finding(r, "unmatched_accepts")
		if want := s.clock.Now().Add(diagnose.UnmatchedWindow); !ok || f.ClearsAt == nil || !f.ClearsAt.Equal(want) || !strings.Contains(f.Message, "1 accepted invitation") {
			t.Fatalf("the diagnosis must show the unmatched accept, clearing when it ages out (%v): %+v", want, r.Findings)
		}
		// A week later it is out of the window.
		r, err = diagnose.Campaign(s.ctx, deps, s.ws.ID, camp.ID, want(s).Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if hasFinding(r, "unmatched_accepts") {
			t.Fatalf("an unmatched accept older than the window is no longer shown: %+v", r.Findings)
		}
		if state, _ := enrollmentState(t, s); state != "active" {
			t.Fatalf("the prospect must still wait: %s", state)
		}
	})
}

// want is when an unmatched accept seen now leaves the diagnosis.
func want(s *sim) time.Time { return s.clock.Now().Add(diagnose.UnmatchedWindow) }

// relationOf is the account's one relation as the provider lists it.
func relationOf(t *testing.T, s *sim, sa simAccount) unipile.Relation {
	t.Helper()
	page, err := s.client.ListRelations(s.ctx, sa.provider, unipile.PageOptions{Limit: 10})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("relations: %+v %v", page, err)
	}
	return page.Items[0]
}
