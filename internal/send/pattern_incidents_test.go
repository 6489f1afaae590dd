package send_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// incident is a provider fault switched on at a moment of the simulation.
type incident struct {
	at    time.Duration // after simStart
	fault fake.Fault
	what  string
}

// TestPatternsThreeWeeksOfIncidents runs three senders and two campaigns
// (prospects imported by member id and by profile URL) for 21 simulated
// days while the provider has incidents: bursts of 5xx, a burst of 404s
// with the burst guard open, answers lost after the action was applied,
// connections dropped before it was, and requests that hang. The
// scheduler, the relations poll and the reconciliation run as their tasks
// do. At the end, no prospect failed or used a try because of an incident,
// every unknown outcome is resolved or parked where a person can settle it,
// every accept that matched no prospect is stored with an alert, and the
// safety limits held throughout (docs/campaigns.md#field-patterns).
func TestPatternsThreeWeeksOfIncidents(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		days, perCampaign := 21, 120
		// PostgreSQL runs four days (the same paths; see TestSimulatedThreeWeeks).
		if testing.Short() || raceEnabled || d.Engine == db.Postgres {
			days, perCampaign = 4, 30
		}
		if raceEnabled && d.Engine == db.SQLite {
			days = 2 // pure-Go SQLite under the race detector is ~30× slower
		}
		s := newSim(t, d, 17)
		a := s.addAccount(t, "Ada", account.TierPremium, "UTC", 5)
		b := s.addAccount(t, "Bea", account.TierPremium, "Europe/Paris", 5)
		c := s.addAccount(t, "Cy", account.TierSalesNavigator, "America/New_York", 5)
		ids := []string{a.acc.ID, b.acc.ID, c.acc.ID}
		alpha := s.addMixedCampaign(t, "alpha", []campaign.Step{
			{ID: "i1", Type: campaign.StepInvite},
			{ID: "c1", Type: campaign.StepIfAccepted, Within: "168h", Then: "m1", Else: campaign.End},
			{ID: "m1", Type: campaign.StepMessage, Text: "Thanks for connecting, {{first_name}}"},
		}, perCampaign, ids)
		beta := s.addMixedCampaign(t, "beta", []campaign.Step{
			{ID: "v1", Type: campaign.StepViewProfile},
			{ID: "n1", Type: campaign.StepInMail, Subject: "Hello", Text: "A question, {{first_name}}"},
		}, perCampaign, []string{c.acc.ID})

		day := 24 * time.Hour
		incidents := sortedIncidents([]incident{
			{9*time.Hour + 20*time.Minute, fake.Fault{Action: fake.ActionInvite, Status: http.StatusServiceUnavailable, Times: 15}, "503 burst on invitations"},
			{day + 14*time.Hour, fake.Fault{Action: fake.ActionViewProfile, Status: http.StatusInternalServerError, Times: 10}, "500 burst on profile views"},
			{2*day + 9*time.Hour, fake.Fault{Action: fake.ActionInMail, Effect: fake.EffectLost, Times: 3}, "InMail answers lost after delivery"},
			{2*day + 11*time.Hour, fake.Fault{Action: fake.ActionInvite, Effect: fake.EffectDrop, Times: 4}, "invitations dropped before delivery"},
			{3*day + 10*time.Hour, fake.Fault{Action: fake.ActionStartChat, Effect: fake.EffectLost, Times: 3}, "message answers lost after delivery"},
			{day + 13*time.Hour, fake.Fault{Action: fake.ActionInvite, Status: http.StatusNotFound, Times: 20}, "404 burst on invitations"},
			{8*day + 10*time.Hour, fake.Fault{Action: fake.ActionStartChat, Status: http.StatusBadGateway, Times: 8}, "502 burst on messages"},
			{2*day + 15*time.Hour, fake.Fault{Action: fake.ActionInvite, Effect: fake.EffectHang, Times: 3}, "invitations that hang"},
		})
		// The burst guard opens over the 404 burst, for two hours.
		guardFrom, guardTo := simStart.Add(day+13*time.Hour), simStart.Add(day+15*time.Hour)

		rng := rand.New(rand.NewPCG(3, 4))
		end := simStart.Add(time.Duration(days) * day)
		next, strangers := 0, 0
		for now := s.clock.Now(); now.Before(end); now = s.clock.Advance(time.Minute) {
			for next < len(incidents) && !now.Before(simStart.Add(incidents[next].at)) {
				if _, err := s.fake.InjectFault(incidents[next].fault); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %s", now.Format("Mon 15:04"), incidents[next].what)
				next++
			}
			switch {
			case now.Equal(guardFrom):
				s.exec(t, `UPDATE health_guard SET state = 'open', trips = trips + 1, opened_at = $1, reopen_at = $2 WHERE id = 1`, guardFrom, guardTo)
			case now.Equal(guardTo):
				s.exec(t, `UPDATE health_guard SET state = 'closed', opened_at = NULL, reopen_at = NULL, probes_ok = 0 WHERE id = 1`)
			}
			if _, err := s.engine.RunPass(s.ctx); err != nil {
				t.Fatalf("pass at %v: %v", now, err)
			}
			if _, err := s.engine.PollRelations(s.ctx); err != nil {
				t.Fatalf("poll at %v: %v", now, err)
			}
			if now.Minute()%5 == 0 {
				if _, err := s.engine.DispatchPending(s.ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := s.engine.ReconcileUnknown(s.ctx); err != nil {
					t.Fatal(err)
				}
			}
			if now.Minute() == 30 {
				// Some invitees accept (no webhook: the poll finds them), and
				// now and then someone Keel never invited connects.
				for _, sa := range s.senders {
					for _, inv := range s.fake.Invitations(sa.provider) {
						if inv.State == "pending" && rng.IntN(12) == 0 {
							_ = s.fake.Accept(inv.ID)
						}
					}
				}
				if now.Hour() == 12 && days > 4 || now.Hour() == 12 && now.Day()%2 == 0 {
					strangers++
					p := s.fake.AddPerson(fake.Person{PublicIdentifier: fmt.Sprintf("stranger-%d", strangers), FirstName: "S"})
					if _, err := s.fake.AddRelation(a.provider, p); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		// The last reconciliation runs once the provider is quiet.
		if _, err := s.engine.ReconcileUnknown(s.ctx); err != nil {
			t.Fatal(err)
		}
		if next != len(incidents) && days >= 21 {
			t.Fatalf("only %d of %d incidents were injected", next, len(incidents))
		}

		totals := s.check(t)
		var failedEnr, tries, paused, unknownLeft, parked, unmatched, unmatchedDays, alertDays, incidentRows, reconciled int
		s.scan(t, `SELECT count(*) FROM enrollments WHERE state = 'failed'`, &failedEnr)
		s.scan(t, `SELECT COALESCE(SUM(failures), 0) FROM enrollments`, &tries)
		s.scan(t, `SELECT count(*) FROM campaigns WHERE status = 'paused'`, &paused)
		s.scan(t, `SELECT count(*) FROM sends WHERE state IN ('unknown', 'dispatched') AND parked_at IS NULL`, &unknownLeft)
		s.scan(t, `SELECT count(*) FROM sends WHERE state = 'unknown' AND parked_at IS NOT NULL`, &parked)
		s.scan(t, `SELECT count(*) FROM sends WHERE state = 'failed' AND error_kind NOT IN ('permanent_recipient', 'already_done')`, &incidentRows)
		s.scan(t, `SELECT count(*) FROM sends WHERE state = 'confirmed' AND dispatched_at IS NOT NULL AND finished_at > dispatched_at`, &reconciled)
		s.scan(t, `SELECT count(*) FROM unmatched_accepts`, &unmatched)
		s.scan(t, `SELECT count(DISTINCT `+dayOf(d, "seen_at")+`) FROM unmatched_accepts`, &unmatchedDays)
		s.scan(t, `SELECT count(DISTINCT `+dayOf(d, "created_at")+`) FROM admin_alerts WHERE kind = 'unmatched_accepts'`, &alertDays)
		listed, err := send.ListUnknown(s.ctx, s.d.SQL, s.ws.ID, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d days: actions %v; incident failures absorbed %d; reconciled %d; parked for a person %d (listed %d); unmatched accepts %d on %d days, alerts on %d days",
			days, totals, incidentRows, reconciled, parked, len(listed), unmatched, unmatchedDays, alertDays)
		if failedEnr != 0 || tries != 0 {
			t.Errorf("incidents failed %d prospects and used %d tries", failedEnr, tries)
		}
		if paused != 0 {
			t.Errorf("%d campaigns paused during provider incidents", paused)
		}
		if unknownLeft != 0 {
			t.Errorf("%d unknown outcomes neither resolved nor parked for a person", unknownLeft)
		}
		if len(listed) != parked {
			t.Errorf("%d parked unknown outcomes, %d listed for settling", parked, len(listed))
		}
		if unmatchedDays != alertDays {
			t.Errorf("unmatched accepts on %d days, alerts on %d", unmatchedDays, alertDays)
		}
		if incidentRows == 0 || totals["invite"] == 0 {
			t.Fatalf("the simulation proved nothing: %d incident failures, actions %v", incidentRows, totals)
		}
		if days >= 21 && (unmatched == 0 || totals["message"] == 0 || totals["inmail"] == 0) {
			t.Fatalf("three weeks without unmatched accepts (%d), messages or InMails: %v", unmatched, totals)
		}
		for _, cid := range []string{alpha.ID, beta.ID} {
			r := s.diagnosis(t, cid)
			if len(r.Findings) == 0 || r.Headline == "" {
				t.Fatalf("campaign %s has no diagnosis: %+v", cid, r)
			}
		}
	})
}

// addMixedCampaign is addCampaign with every third prospect imported by
// its profile URL instead of its member id.
func (s *sim) addMixedCampaign(t *testing.T, name string, steps []campaign.Step, prospects int, accountIDs []string) campaign.Campaign {
	t.Helper()
	inv, msg, inm, view := 100, 150, 50, 100
	c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: accountIDs, Steps: steps,
		DailyCaps: &campaign.CapsInput{Invite: &inv, Message: &msg, InMail: &inm, ViewProfile: &view}})
	if err != nil {
		t.Fatalf("creating campaign: %v", err)
	}
	rows := make([]campaign.ProspectRow, prospects)
	for i := range rows {
		pid := fmt.Sprintf("ACoAA%s%05d", name, i)
		slug := fmt.Sprintf("%s-person-%d", name, i)
		s.fake.AddPerson(fake.Person{ProviderID: pid, PublicIdentifier: slug, FirstName: fmt.Sprintf("P%d", i)})
		rows[i] = campaign.ProspectRow{Row: i + 1, ProviderID: pid, FirstName: fmt.Sprintf("P%d", i)}
		if i%3 == 0 {
			rows[i] = campaign.ProspectRow{Row: i + 1, LinkedInURL: "https://www.linkedin.com/in/" + slug, FirstName: fmt.Sprintf("P%d", i)}
		}
	}
	if res, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, rows); err != nil || res.Imported != prospects {
		t.Fatalf("importing prospects: %+v %v", res, err)
	}
	if c, err = s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
		t.Fatalf("starting campaign: %v", err)
	}
	return c
}

func (s *sim) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := s.d.SQL.ExecContext(s.ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (s *sim) scan(t *testing.T, q string, dest any) {
	t.Helper()
	if err := s.d.SQL.QueryRowContext(s.ctx, q).Scan(dest); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dayOf is an expression for the UTC day of a timestamp column.
func dayOf(d *db.DB, col string) string {
	if d.Engine == db.Postgres {
		return "date_trunc('day', " + col + " AT TIME ZONE 'UTC')"
	}
	return "substr(" + col + ", 1, 10)"
}

func sortedIncidents(list []incident) []incident {
	sort.Slice(list, func(i, j int) bool { return list[i].at < list[j].at })
	return list
}
