package campaign_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/workspace"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var fixtureSeq atomic.Int64

type fixture struct {
	ctx       context.Context
	db        *db.DB
	clock     *clock.Fake
	accounts  *account.Service
	campaigns *campaign.Service
	ws, other workspace.Workspace
	a, b      account.Account // senders of ws
	foreign   account.Account // an account of the other workspace
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(start)
	f := &fixture{ctx: ctx, db: d, clock: c, accounts: account.NewService(d, c), campaigns: campaign.NewService(d, c)}
	// Flips carry their campaign consequences, as the application wires it.
	f.accounts.OnFlip("campaigns", f.campaigns.OnAccountFlip)
	// Subtests share one database per engine, so every fixture has its
	// own workspaces and provider ids.
	n := fixtureSeq.Add(1)
	var err error
	if f.ws, err = workspace.Create(ctx, d.SQL, fmt.Sprintf("acme-%d", n), "", c.Now()); err != nil {
		t.Fatal(err)
	}
	if f.other, err = workspace.Create(ctx, d.SQL, fmt.Sprintf("other-%d", n), "", c.Now()); err != nil {
		t.Fatal(err)
	}
	mk := func(ws workspace.Workspace, name string) account.Account {
		a, err := f.accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("u-%s-%d", name, n),
			Name: name, Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	f.a, f.b, f.foreign = mk(f.ws, "a"), mk(f.ws, "b"), mk(f.other, "z")
	return f
}

func ptr[T any](v T) *T { return &v }

func simpleSteps() []campaign.Step {
	return []campaign.Step{
		{ID: "s1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"},
		{ID: "s2", Type: campaign.StepIfAccepted, Within: "168h", Then: "s3", Else: "end"},
		{ID: "s3", Type: campaign.StepMessage, Text: "Thanks, {{first_name}}"},
	}
}

func (f *fixture) create(t *testing.T, accounts ...account.Account) campaign.Campaign {
	t.Helper()
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	c, err := f.campaigns.Create(f.ctx, f.ws.ID, campaign.Input{Name: ptr("Q1 founders"), AccountIDs: ids, Steps: simpleSteps()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) importCSV(t *testing.T, c campaign.Campaign, body string) campaign.ImportResult {
	t.Helper()
	rows, err := campaign.ParseCSV(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.campaigns.Import(f.ctx, c.ID, f.ws.ID, rows)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) enrollments(t *testing.T, c campaign.Campaign) []campaign.Enrollment {
	t.Helper()
	list, err := f.campaigns.ListEnrollments(f.ctx, f.db.SQL, f.ws.ID, c.ID, campaign.EnrollmentListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (f *fixture) get(t *testing.T, c campaign.Campaign) campaign.Campaign {
	t.Helper()
	got, err := f.campaigns.Get(f.ctx, f.db.SQL, f.ws.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *fixture) disconnect(t *testing.T, a account.Account, to account.Status) {
	t.Helper()
	cp := account.TerminalCredentials()
	if _, err := f.accounts.Flip(f.ctx, account.FlipRequest{AccountID: a.ID, To: to, Copy: &cp,
		Reason: "test", Source: account.SourceWebhook}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) reconnect(t *testing.T, a account.Account) {
	t.Helper()
	if _, err := f.accounts.Flip(f.ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusConnected,
		Reason: "OK", Source: account.SourceHealthCheck}); err != nil {
		t.Fatal(err)
	}
}

// states counts enrollments per account and state.
func states(list []campaign.Enrollment) map[string]int {
	out := map[string]int{}
	for _, e := range list {
		out[e.AccountID+":"+string(e.State)]++
	}
	return out
}

func fieldErrors(t *testing.T, err error) []campaign.FieldError {
	t.Helper()
	var ve *campaign.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("expected a ValidationError, got %v", err)
	}
	return ve.Errors
}

func hasField(errs []campaign.FieldError, field, contains string) bool {
	for _, e := range errs {
		if e.Field == field && strings.Contains(e.Message, contains) {
			return true
		}
	}
	return false
}

func TestCampaigns(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		t.Run("CreateValidatesInline", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			steps := simpleSteps()
			steps[0].Note = strings.Repeat("x", 301)
			steps[1].Else = ""
			_, err := f.campaigns.Create(f.ctx, f.ws.ID, campaign.Input{Name: ptr(" "),
				AccountIDs: []string{f.a.ID, f.foreign.ID, f.a.ID}, Steps: steps,
				DailyCaps: &campaign.CapsInput{Invite: ptr(0), Message: ptr(500)}})
			errs := fieldErrors(t, err)
			for _, want := range [][2]string{
				{"name", "required"},
				{"account_ids[1]", "no LinkedIn account"},
				{"account_ids[2]", "listed twice"},
				{"steps[0].note", "LinkedIn allows 300"},
				{"steps[1].else", "required"},
				{"daily_caps.invite", "is 0 but step s1"},
				{"daily_caps.message", "hard ceiling"},
			} {
				if !hasField(errs, want[0], want[1]) {
					t.Errorf("missing %s: …%s… in %v", want[0], want[1], errs)
				}
			}
		})

		t.Run("CreateAppliesDefaultsAndRoundTrips", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a, f.b)
			got := f.get(t, c)
			if got.Status != campaign.StatusDraft || got.PausedReason != "" || !got.StopOnReply ||
				got.LateAcceptPolicy != campaign.LateAcceptFollowUp || got.DailyCaps != campaign.DefaultDailyCaps ||
				len(got.Steps) != 3 || strings.Join(got.AccountIDs, ",") != f.a.ID+","+f.b.ID || !got.CreatedAt.Equal(start) {
				t.Fatalf("%+v", got)
			}
			if _, err := f.campaigns.Get(f.ctx, f.db.SQL, f.other.ID, c.ID); !errors.Is(err, campaign.ErrNotFound) {
				t.Fatalf("another workspace reads the campaign: %v", err)
			}
		})

		t.Run("ListIsWorkspaceScopedAndPaged", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c1, c2 := f.create(t, f.a), f.create(t, f.b)
			page1, err := f.campaigns.List(f.ctx, f.db.SQL, campaign.ListOptions{WorkspaceID: f.ws.ID, Limit: 1})
			if err != nil || len(page1) != 1 {
				t.Fatalf("%v %v", page1, err)
			}
			page2, err := f.campaigns.List(f.ctx, f.db.SQL, campaign.ListOptions{WorkspaceID: f.ws.ID, After: page1[0].ID})
			if err != nil || len(page2) != 1 {
				t.Fatalf("%v %v", page2, err)
			}
			// Ids made in the same millisecond sort randomly; the pages must
			// still hold each campaign once, with its own sender.
			senders := map[string]string{page1[0].ID: page1[0].AccountIDs[0], page2[0].ID: page2[0].AccountIDs[0]}
			if senders[c1.ID] != f.a.ID || senders[c2.ID] != f.b.ID {
				t.Fatalf("%v", senders)
			}
			none, err := f.campaigns.List(f.ctx, f.db.SQL, campaign.ListOptions{WorkspaceID: f.other.ID})
			if err != nil || len(none) != 0 {
				t.Fatalf("other workspace sees %v %v", none, err)
			}
		})

		t.Run("CSVImportReportsRowsAndImportsTheGoodOnes", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			res := f.importCSV(t, c, "linkedin_url,provider_id,first_name,last_name,company,Role\n"+
				"https://www.linkedin.com/in/ada,,Ada,Lovelace,Analytical,CTO\n"+
				"https://www.linkedin.com/company/keel,,Bad,Row,,\n"+
				"linkedin.com/in/ADA/,,Ada again,,,\n"+
				"https://www.linkedin.com/sales/lead/ACwAAAkRj2wBnv8JZ7W0Q,NAME_SEARCH,x,,,,\n"+
				"\"https://www.linkedin.com/sales/lead/ACwAAAkRj2wBnv8JZ7W0Q,NAME_SEARCH,x\",,Grace,Hopper,Navy,\n"+
				",ACoAAB1234567890abcdef,Linus,,,\n"+
				",,No,Identifier,,\n")
			want := []string{"imported", "invalid", "duplicate", "invalid", "imported", "imported", "invalid"}
			for i, r := range res.Rows {
				if r.Row != i+1 || r.Status != want[i] || (r.Status != "imported") != (r.Error != "") {
					t.Errorf("row %d: %+v, want %s", i+1, r, want[i])
				}
			}
			if res.Imported != 3 || res.Skipped != 4 || len(res.Rows) != 7 {
				t.Fatalf("%+v", res)
			}
			if !strings.Contains(res.Rows[1].Error, "not a profile URL") || !strings.Contains(res.Rows[2].Error, "same prospect as row 1") ||
				!strings.Contains(res.Rows[3].Error, "cells but the header has") || !strings.Contains(res.Rows[6].Error, "needs a linkedin_url or a provider_id") {
				t.Fatalf("unclear reasons: %+v", res.Rows)
			}
			list := f.enrollments(t, c)
			if len(list) != 3 {
				t.Fatalf("%d enrollments", len(list))
			}
			byName := map[string]campaign.Enrollment{}
			for _, e := range list {
				byName[e.FirstName] = e
				if e.State != campaign.EnrollmentPending || e.StepID != "" || e.NextActionAt != nil || e.AccountID != f.a.ID {
					t.Errorf("draft import should be pending on the only sender: %+v", e)
				}
			}
			if byName["Ada"].LinkedInURL != "https://www.linkedin.com/in/ada" ||
				byName["Grace"].LinkedInURL != "https://www.linkedin.com/sales/lead/ACwAAAkRj2wBnv8JZ7W0Q" ||
				byName["Linus"].ProviderID != "ACoAAB1234567890abcdef" {
				t.Fatalf("%+v", byName)
			}
			p, err := f.campaigns.GetProspect(f.ctx, f.db.SQL, byName["Grace"].ProspectID)
			if err != nil || p.SalesNavID != "ACwAAAkRj2wBnv8JZ7W0Q" || p.PublicSlug != "" {
				t.Fatalf("sales navigator prospect: %+v %v", p, err)
			}

			again := f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/ada\n")
			if again.Imported != 0 || again.Rows[0].Status != "duplicate" || again.Rows[0].Error != "already in this campaign" {
				t.Fatalf("re-import: %+v", again)
			}
		})

		t.Run("ProspectIsSharedAcrossCampaignsAndMerged", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c1, c2 := f.create(t, f.a), f.create(t, f.a)
			f.importCSV(t, c1, "linkedin_url,first_name,team\nhttps://www.linkedin.com/in/ada,Ada,R&D\n")
			// The person's sequence in c1 ends and the workspace's cool-off
			// is none, so c2 may take the same prospect
			// (docs/contacts.md#recontact-cooloff).
			if _, err := f.campaigns.Archive(f.ctx, f.ws.ID, c1.ID); err != nil {
				t.Fatal(err)
			}
			if err := workspace.SetRecontact(f.ctx, f.db.SQL, f.ws.ID, workspace.Recontact{CooloffDays: 0}); err != nil {
				t.Fatal(err)
			}
			res := f.importCSV(t, c2, "linkedin_url,provider_id,company\nhttps://www.linkedin.com/in/ada,ACoAAB999999999999,Analytical\n")
			if res.Imported != 1 {
				t.Fatalf("%+v", res)
			}
			e1, e2 := f.enrollments(t, c1)[0], f.enrollments(t, c2)[0]
			if e1.ProspectID != e2.ProspectID {
				t.Fatal("one person became two prospects")
			}
			p, err := f.campaigns.GetProspect(f.ctx, f.db.SQL, e1.ProspectID)
			if err != nil || p.FirstName != "Ada" || p.Company != "Analytical" || p.ProviderID != "ACoAAB999999999999" || p.Custom["team"] != "R&D" {
				t.Fatalf("merge: %+v %v", p, err)
			}
			conflicting := f.importCSV(t, c2, "linkedin_url,provider_id\nhttps://www.linkedin.com/in/ada,ACoAAB000000000000\n")
			if conflicting.Rows[0].Status != "invalid" || !strings.Contains(conflicting.Rows[0].Error, "provider_id") {
				t.Fatalf("%+v", conflicting)
			}
		})

		t.Run("ImportIntoAnotherWorkspacesCampaignIsNotFound", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			if _, err := f.campaigns.Import(f.ctx, c.ID, f.other.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAx"}}); !errors.Is(err, campaign.ErrNotFound) {
				t.Fatalf("%v", err)
			}
		})

		t.Run("StartRefusedWithoutEnrollableProspect", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			_, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID)
			errs := fieldErrors(t, err)
			if !hasField(errs, "prospects", "no prospect to contact: import prospects") {
				t.Fatalf("%v", errs)
			}
			if got := f.get(t, c); got.Status != campaign.StatusDraft {
				t.Fatalf("refused start changed the campaign: %+v", got)
			}
		})

		t.Run("ResumeRefusedWhenTheOneProspectFinished", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/ada\n")
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.campaigns.Pause(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.SQL.Exec(`UPDATE enrollments SET state = 'failed', last_error = 'x', next_action_at = NULL WHERE campaign_id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			_, err := f.campaigns.Resume(f.ctx, f.ws.ID, c.ID)
			errs := fieldErrors(t, err)
			// One prospect is worded as one, never "all 1 prospects".
			if !hasField(errs, "prospects", "the campaign's one prospect has finished its sequence") {
				t.Fatalf("%v", errs)
			}
		})

		t.Run("StartActivatesPendingEnrollmentsDueNow", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/ada\nhttps://www.linkedin.com/in/bob\n")
			f.clock.Advance(time.Minute)
			got, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID)
			if err != nil || got.Status != campaign.StatusRunning {
				t.Fatalf("%+v %v", got, err)
			}
			for _, e := range f.enrollments(t, c) {
				if e.State != campaign.EnrollmentActive || e.StepID != "s1" || e.NextActionAt == nil || !e.NextActionAt.Equal(start.Add(time.Minute)) {
					t.Fatalf("%+v", e)
				}
			}
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); !errors.Is(err, campaign.ErrConflict) {
				t.Fatalf("starting a running campaign: %v", err)
			}
			// Prospects imported into a running campaign start at once.
			f.importCSV(t, c, "linkedin_url\nhttps://www.linkedin.com/in/cy\n")
			if n := states(f.enrollments(t, c))[f.a.ID+":active"]; n != 3 {
				t.Fatalf("%d active", n)
			}
		})

		t.Run("CustomFieldsAreTemplateVariables", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			steps := simpleSteps()
			steps[2].Text = "How is {{role}} at {{company}}?"
			_, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Steps: steps})
			if errs := fieldErrors(t, err); !hasField(errs, "steps[2].text", "unknown variable {{role}} in step s3") {
				t.Fatalf("before import: %v", errs)
			}
			f.importCSV(t, c, "linkedin_url,role\nhttps://www.linkedin.com/in/ada,CTO\nhttps://www.linkedin.com/in/bob,\n")
			if _, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Steps: steps}); err != nil {
				t.Fatalf("after import, role is a column: %v", err)
			}
			_, err = f.campaigns.Start(f.ctx, f.ws.ID, c.ID)
			if errs := fieldErrors(t, err); !hasField(errs, "steps[2].text", "{{role}} in step s3 has no value for 1 of 2 prospects (e.g. https://www.linkedin.com/in/bob)") {
				t.Fatalf("start: %v", errs)
			}
			f.importCSV(t, c, "linkedin_url,role\nhttps://www.linkedin.com/in/cy,CEO\n")
			steps[2].Text = "How is {{role|the team}}?"
			if _, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Steps: steps}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatalf("with a fallback every prospect can be rendered: %v", err)
			}
			var ada campaign.Enrollment
			for _, e := range f.enrollments(t, c) {
				if e.LinkedInURL == "https://www.linkedin.com/in/ada" {
					ada = e
				}
			}
			p, err := f.campaigns.GetProspect(f.ctx, f.db.SQL, ada.ProspectID)
			if err != nil {
				t.Fatal(err)
			}
			if text, err := campaign.Render(steps[2].Text, p); err != nil || text != "How is CTO?" {
				t.Fatalf("%q %v", text, err)
			}
		})

		t.Run("UpdateWhileRunningOnlyWhatIsSafe", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			f.importCSV(t, c, "linkedin_url,first_name\nhttps://www.linkedin.com/in/ada,Ada\n")
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			// Live: the name, the shares, and the text of a step nobody
			// reached (docs/campaigns.md#editing-a-running-campaign).
			later := simpleSteps()
			later[2].Text = "Thanks for connecting, {{first_name|there}}"
			later[1].Within = "7 days" // the same duration, written in days
			got, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Name: ptr("renamed live"), Steps: later,
				DailyCaps: &campaign.CapsInput{Invite: ptr(5)}})
			if err != nil || got.Name != "renamed live" || got.Status != campaign.StatusRunning || got.DailyCaps.Invite != 5 || got.Steps[2].Text != later[2].Text {
				t.Fatalf("live edit: %+v %v", got, err)
			}
			reached := simpleSteps()
			reached[0].Note = "Hello {{first_name}}"
			for name, in := range map[string]campaign.Input{
				"stop on reply":      {StopOnReply: ptr(false)},
				"text of step 1":     {Steps: reached},
				"number of steps":    {Steps: simpleSteps()[:1]},
				"timing of a branch": {Steps: append(simpleSteps()[:1], campaign.Step{ID: "s2", Type: campaign.StepIfAccepted, Within: "3d", Then: "s3", Else: "end"}, simpleSteps()[2])},
			} {
				_, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, in)
				var serr *campaign.StateError
				if !errors.As(err, &serr) || !strings.Contains(serr.Message, "pause it to change") {
					t.Errorf("%s while running: %v", name, err)
				}
			}
			if now, err := f.campaigns.Get(f.ctx, f.db.SQL, "", c.ID); err != nil || now.Steps[0].Note != "Hi {{first_name}}" || !now.StopOnReply {
				t.Fatalf("a refused live edit changed the campaign: %+v %v", now, err)
			}
			if _, err := f.campaigns.Pause(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			got, err = f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Name: ptr("new"), StopOnReply: ptr(false)})
			if err != nil || got.Name != "new" || got.StopOnReply || got.Status != campaign.StatusPaused || got.PausedReason != campaign.ReasonManual {
				t.Fatalf("%+v %v", got, err)
			}
			_, err = f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{Steps: []campaign.Step{{ID: "v", Type: campaign.StepViewProfile}}})
			if errs := fieldErrors(t, err); !hasField(errs, "steps", "step s1 cannot be removed: 1 prospect(s) are at it") {
				t.Fatalf("%v", errs)
			}
		})

		t.Run("ProspectsSpreadOverSenders", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a, f.b)
			var b strings.Builder
			b.WriteString("provider_id\n")
			for i := 0; i < 7; i++ {
				fmt.Fprintf(&b, "ACoAAspread%02d\n", i)
			}
			f.importCSV(t, c, b.String())
			got := states(f.enrollments(t, c))
			if got[f.a.ID+":pending"] != 4 || got[f.b.ID+":pending"] != 3 {
				t.Fatalf("%v", got)
			}
			// The next prospect goes to the less loaded sender.
			f.importCSV(t, c, "provider_id\nACoAAspread99\n")
			if got := states(f.enrollments(t, c)); got[f.b.ID+":pending"] != 4 {
				t.Fatalf("%v", got)
			}
		})

		t.Run("OneOfTwoSendersDisconnectingSoftPausesOnlyItsEnrollments", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a, f.b)
			f.importCSV(t, c, "provider_id\nACoAAone\nACoAAtwo\nACoAAthree\nACoAAfour\n")
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Hour)
			f.disconnect(t, f.a, account.StatusDisconnected)
			if got := f.get(t, c); got.Status != campaign.StatusRunning {
				t.Fatalf("a sender is still connected, the campaign must run: %+v", got)
			}
			list := f.enrollments(t, c)
			if got := states(list); got[f.a.ID+":soft_paused"] != 2 || got[f.b.ID+":active"] != 2 {
				t.Fatalf("%v", got)
			}
			for _, e := range list {
				if e.NextActionAt == nil || !e.NextActionAt.Equal(start) || e.StepID != "s1" {
					t.Fatalf("soft pause must keep step and due time: %+v", e)
				}
			}

			f.disconnect(t, f.b, account.StatusRestricted)
			if got := f.get(t, c); got.Status != campaign.StatusPaused || got.PausedReason != campaign.ReasonAccountRestricted {
				t.Fatalf("no sender connected: %+v", got)
			}
			if got := states(f.enrollments(t, c)); got[f.a.ID+":soft_paused"] != 2 || got[f.b.ID+":soft_paused"] != 2 {
				t.Fatalf("%v", got)
			}
			if _, err := f.campaigns.Resume(f.ctx, f.ws.ID, c.ID); !errors.Is(err, campaign.ErrConflict) ||
				!strings.Contains(err.Error(), "resumes by itself") {
				t.Fatalf("resume with no connected sender: %v", err)
			}

			f.reconnect(t, f.a)
			if got := f.get(t, c); got.Status != campaign.StatusRunning || got.PausedReason != "" {
				t.Fatalf("account-caused pause must clear on reconnect: %+v", got)
			}
			if got := states(f.enrollments(t, c)); got[f.a.ID+":active"] != 2 || got[f.b.ID+":soft_paused"] != 2 {
				t.Fatalf("%v", got)
			}
			f.reconnect(t, f.b)
			if got := states(f.enrollments(t, c)); got[f.a.ID+":active"] != 2 || got[f.b.ID+":active"] != 2 {
				t.Fatalf("%v", got)
			}
		})

		t.Run("ManualAndHumanPausesDoNotResumeOnReconnect", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			manual, failing := f.create(t, f.a), f.create(t, f.a)
			// One person per campaign: a person is live in one sequence of
			// the workspace at a time (docs/contacts.md#one-live-sequence).
			for i, c := range []campaign.Campaign{manual, failing} {
				f.importCSV(t, c, fmt.Sprintf("provider_id\nACoAAsolo%d\n", i))
				if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.campaigns.Pause(f.ctx, f.ws.ID, manual.ID); err != nil {
				t.Fatal(err)
			}
			err := f.db.InTx(f.ctx, func(tx *sql.Tx) error {
				_, err := f.campaigns.PauseTx(f.ctx, tx, failing.ID, campaign.ReasonHighFailureRate)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			f.disconnect(t, f.a, account.StatusDisconnected)
			f.reconnect(t, f.a)
			if got := f.get(t, manual); got.PausedReason != campaign.ReasonManual {
				t.Fatalf("%+v", got)
			}
			if got := f.get(t, failing); got.PausedReason != campaign.ReasonHighFailureRate {
				t.Fatalf("%+v", got)
			}
			// Soft-paused enrollments follow their sender whatever the campaign does.
			if got := states(f.enrollments(t, manual)); got[f.a.ID+":active"] != 1 {
				t.Fatalf("%v", got)
			}
			if got, err := f.campaigns.Resume(f.ctx, f.ws.ID, failing.ID); err != nil || got.Status != campaign.StatusRunning {
				t.Fatalf("a person may resume high_failure_rate: %+v %v", got, err)
			}
		})

		t.Run("AccountFunctionsRefuseTheWrongAccountState", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			err := f.db.InTx(f.ctx, func(tx *sql.Tx) error {
				_, err := f.campaigns.PauseForAccount(f.ctx, tx, f.a.ID, campaign.ReasonAccountDisconnected)
				return err
			})
			if !errors.Is(err, campaign.ErrAccountConnected) {
				t.Fatalf("%v", err)
			}
			f.disconnect(t, f.a, account.StatusDisconnected)
			err = f.db.InTx(f.ctx, func(tx *sql.Tx) error {
				_, err := f.campaigns.ResumeAccountCaused(f.ctx, tx, f.a.ID)
				return err
			})
			if !errors.Is(err, campaign.ErrAccountNotConnected) {
				t.Fatalf("%v", err)
			}
		})

		t.Run("StartRefusedWhenNoSenderConnectedAndSoftPausesOthers", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a, f.b)
			f.importCSV(t, c, "provider_id\nACoAAone\nACoAAtwo\n")
			f.disconnect(t, f.a, account.StatusDisconnected)
			f.disconnect(t, f.b, account.StatusError)
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); !errors.Is(err, campaign.ErrConflict) ||
				!strings.Contains(err.Error(), "none of the campaign's sender accounts is connected") {
				t.Fatalf("%v", err)
			}
			f.reconnect(t, f.b)
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			if got := states(f.enrollments(t, c)); got[f.a.ID+":soft_paused"] != 1 || got[f.b.ID+":active"] != 1 {
				t.Fatalf("%v", got)
			}
		})

		t.Run("RemovingASenderMovesUncontactedAndEndsContacted", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a, f.b)
			f.importCSV(t, c, "provider_id\nACoAAone\nACoAAtwo\n")
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.campaigns.Pause(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			f.importCSV(t, c, "provider_id\nACoAAthree\nACoAAfour\n")
			// a's started prospect was invited (its thread is with a); its
			// pending one was not (docs/campaigns.md#senders).
			for _, e := range f.enrollments(t, c) {
				if e.AccountID == f.a.ID && e.State == campaign.EnrollmentActive {
					if _, err := f.db.SQL.ExecContext(f.ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id,
						prospect_id, step_id, action, state, claimed_at, dispatched_at, finished_at)
						VALUES ('snd_t', $1, $2, $3, $4, $5, $6, 'invite', 'confirmed', $7, $7, $7)`,
						f.ws.ID, f.a.ID, c.ID, e.ID, e.ProspectID, e.StepID, time.Now()); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := f.campaigns.Update(f.ctx, f.ws.ID, c.ID, campaign.Input{AccountIDs: []string{f.b.ID}})
			if err != nil || strings.Join(got.AccountIDs, ",") != f.b.ID {
				t.Fatalf("%+v %v", got, err)
			}
			list := f.enrollments(t, c)
			if s := states(list); s[f.a.ID+":ended"] != 1 || s[f.b.ID+":pending"] != 2 || s[f.b.ID+":active"] != 1 {
				t.Fatalf("%v", s)
			}
			for _, e := range list {
				if e.State == campaign.EnrollmentEnded && e.EndedReason != campaign.EndedSenderRemoved {
					t.Fatalf("%+v", e)
				}
			}
		})

		t.Run("ArchiveEndsLiveProspects", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			c := f.create(t, f.a)
			f.importCSV(t, c, "provider_id\nACoAAone\n")
			got, err := f.campaigns.Archive(f.ctx, f.ws.ID, c.ID)
			if err != nil || got.Status != campaign.StatusArchived {
				t.Fatalf("%+v %v", got, err)
			}
			if e := f.enrollments(t, c)[0]; e.State != campaign.EnrollmentEnded || e.EndedReason != campaign.EndedCampaignArchived {
				t.Fatalf("%+v", e)
			}
			if _, err := f.campaigns.Import(f.ctx, c.ID, f.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAtwo"}}); !errors.Is(err, campaign.ErrConflict) {
				t.Fatalf("import into archived: %v", err)
			}
		})

		t.Run("ReconcileRepairsMissedConsequences", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d)
			// A service without the flip consequence, as if the wiring had
			// missed it.
			bare := account.NewService(d, f.clock)
			c := f.create(t, f.a)
			f.importCSV(t, c, "provider_id\nACoAAone\n")
			if _, err := f.campaigns.Start(f.ctx, f.ws.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			cp := account.TerminalCredentials()
			if _, err := bare.Flip(f.ctx, account.FlipRequest{AccountID: f.a.ID, To: account.StatusDisconnected, Copy: &cp,
				Reason: "test", Source: account.SourceWebhook}); err != nil {
				t.Fatal(err)
			}
			var eff campaign.AccountEffect
			err := f.db.InTx(f.ctx, func(tx *sql.Tx) error {
				var err error
				eff, err = f.campaigns.Reconcile(f.ctx, tx)
				return err
			})
			if err != nil || eff.SoftPaused < 1 || len(eff.Paused) < 1 {
				t.Fatalf("%+v %v", eff, err)
			}
			if got := f.get(t, c); got.PausedReason != campaign.ReasonAccountDisconnected {
				t.Fatalf("%+v", got)
			}
			if got := states(f.enrollments(t, c)); got[f.a.ID+":soft_paused"] != 1 {
				t.Fatalf("%v", got)
			}
		})
	})
}
