package send_test

// A prospect whose step would render an empty variable with no fallback is
// held — never sent "Hi , …", never failed — while the campaign goes on
// for everyone else (docs/campaigns.md#holds).

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func TestEmptyVariableHoldsOnlyThatProspect(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newSim(t, d, 7)
		sa := s.addAccount(t, "holder", account.TierPremium, "UTC", 8)
		name := "holds"
		steps := []campaign.Step{{ID: "invite", Type: campaign.StepInvite, Note: "Hi {{first_name}}, glad to connect."}}
		c, err := s.camps.Create(s.ctx, s.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{sa.acc.ID}, Steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		people := []struct{ pid, first string }{{"ACoAAhold00001", "Ada"}, {"ACoAAhold00002", ""}, {"ACoAAhold00003", "Grace"}}
		var rows []campaign.ProspectRow
		for i, p := range people {
			s.fake.AddPerson(fake.Person{ProviderID: p.pid, PublicIdentifier: "hold-" + p.pid[9:], FirstName: "X"})
			rows = append(rows, campaign.ProspectRow{Row: i + 1, ProviderID: p.pid, FirstName: p.first})
		}
		if res, err := s.camps.Import(s.ctx, c.ID, s.ws.ID, rows); err != nil || res.Imported != 3 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if _, err := s.camps.Start(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatalf("start: %v", err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		s.run(t, 1, rng)

		calls := func(pid string) int {
			n := 0
			for _, call := range s.fake.Calls() {
				if call.Recipient == pid || strings.Contains(call.Path, pid) {
					n++
				}
			}
			return n
		}
		if n := calls(people[1].pid); n != 0 {
			t.Fatalf("%d provider calls for the prospect with no first name", n)
		}
		invited := map[string]string{}
		for _, inv := range s.fake.Invitations(sa.provider) {
			invited[inv.ProviderID] = inv.Message
		}
		if invited[people[0].pid] != "Hi Ada, glad to connect." || invited[people[2].pid] != "Hi Grace, glad to connect." {
			t.Fatalf("the others were not invited as written: %v", invited)
		}
		for _, m := range invited {
			if strings.Contains(m, "Hi ,") {
				t.Fatalf("sent %q", m)
			}
		}
		held := heldEnrollment(t, s, c, people[1].pid)
		if held.State != campaign.EnrollmentActive || !strings.HasPrefix(held.HeldReason(), "first_name is empty and the template has no fallback") {
			t.Fatalf("held enrollment: %+v (%q)", held, held.HeldReason())
		}
		if got, err := s.camps.Get(s.ctx, d.SQL, "", c.ID); err != nil || got.Status != campaign.StatusRunning {
			t.Fatalf("the campaign stopped: %+v %v", got, err)
		}
		if f := mustFinding(t, s.diagnosis(t, c.ID), "prospects_held"); !strings.Contains(f.Message, "1 prospect held") {
			t.Fatalf("diagnosis: %+v", f)
		}

		// A fallback, added through a pause (prospects reached the step),
		// lifts the hold: the prospect is invited with it.
		if _, err := s.camps.Pause(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		steps[0].Note = "Hi {{first_name|there}}, glad to connect."
		if _, err := s.camps.Update(s.ctx, s.ws.ID, c.ID, campaign.Input{Steps: steps}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.camps.Resume(s.ctx, s.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		s.run(t, 2, rng)
		found := false
		for _, inv := range s.fake.Invitations(sa.provider) {
			found = found || (inv.ProviderID == people[1].pid && inv.Message == "Hi there, glad to connect.")
		}
		if !found {
			t.Fatalf("the held prospect was not invited with the fallback: %+v", s.fake.Invitations(sa.provider))
		}
		if e := heldEnrollment(t, s, c, people[1].pid); e.HeldReason() != "" {
			t.Fatalf("still held: %+v", e)
		}
	})
}

func heldEnrollment(t *testing.T, s *sim, c campaign.Campaign, pid string) campaign.Enrollment {
	t.Helper()
	list, err := s.camps.ListEnrollments(s.ctx, s.d.SQL, s.ws.ID, c.ID, campaign.EnrollmentListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if e.ProviderID == pid {
			return e
		}
	}
	t.Fatalf("no enrollment for %s", pid)
	return campaign.Enrollment{}
}
