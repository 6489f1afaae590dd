package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/workspace"
)

// prospectCampaign makes a started-then-paused campaign of workspace
// wsID with three named prospects at its first step (paused, so the
// scheduler leaves them where they are); it returns the campaign and its
// enrollments by first name.
func prospectCampaign(t *testing.T, k *keel, wsID, slug string) (campaign.Campaign, map[string]campaign.Enrollment) {
	t.Helper()
	ctx := context.Background()
	q := k.App.DB.SQL
	a, err := k.App.Accounts.Create(ctx, q, account.NewAccount{WorkspaceID: wsID, ProviderAccountID: "p-prospects-" + slug, Name: "Sender " + slug,
		Status: account.StatusConnected, Tier: account.TierPremium})
	if err != nil {
		t.Fatal(err)
	}
	name := "Prospects " + slug
	cp, err := k.App.Campaigns.Create(ctx, wsID, campaign.Input{Name: &name, AccountIDs: []string{a.ID}, Steps: []campaign.Step{
		{ID: "inv", Type: campaign.StepInvite},
		{ID: "wait", Type: campaign.StepWait, Duration: "24h"},
		{ID: "msg", Type: campaign.StepMessage, Text: "Hello {{first_name}}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rows := []campaign.ProspectRow{
		{Row: 1, LinkedInURL: "https://www.linkedin.com/in/ada-" + slug, FirstName: "Ada", LastName: "Lovelace"},
		{Row: 2, LinkedInURL: "https://www.linkedin.com/in/grace-" + slug, FirstName: "Grace", LastName: "Hopper"},
		{Row: 3, LinkedInURL: "https://www.linkedin.com/in/alan-" + slug, FirstName: "Alan", LastName: "Turing"},
	}
	if res, err := k.App.Campaigns.Import(ctx, cp.ID, wsID, rows); err != nil || res.Imported != 3 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if _, err := k.App.Campaigns.Start(ctx, wsID, cp.ID); err != nil {
		t.Fatal(err)
	}
	if cp, err = k.App.Campaigns.Pause(ctx, wsID, cp.ID); err != nil {
		t.Fatal(err)
	}
	ens, err := k.App.Campaigns.ListEnrollments(ctx, q, wsID, cp.ID, campaign.EnrollmentListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]campaign.Enrollment{}
	for _, e := range ens {
		by[e.FirstName] = e
	}
	return cp, by
}

// TestCampaignPageProspectList: the campaign page lists its prospects
// with search and state/step filters; pause, resume, skip and remove are
// CSRF-protected POSTs that redirect back to the same filtered page with
// a message; another workspace's prospects answer 404; the CSV export
// keeps the filters; the campaigns list counts the prospects
// (docs/surfaces.md#the-campaign-page).
func TestCampaignPageProspectList(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		ws, err := workspace.BySlug(ctx, k.App.DB.SQL, app.DemoWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		cp, ens := prospectCampaign(t, k, ws.ID, "mine")
		other, err := workspace.Create(ctx, k.App.DB.SQL, "other-ws", "", k.App.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		ocp, oens := prospectCampaign(t, k, other.ID, "theirs")

		c := newClient(t)
		tok := signIn(t, k, c)
		page := k.Base + "/campaigns/" + cp.ID

		code, body, _ := get(t, c, page+"?q=GRACE")
		if code != http.StatusOK || !strings.Contains(body, "Grace Hopper") || strings.Contains(body, "Alan Turing") {
			t.Fatalf("search by name: %d\n%s", code, body)
		}
		if _, body, _ = get(t, c, page+"?q=alan-mine"); !strings.Contains(body, "Alan Turing") || strings.Contains(body, "Ada Lovelace") {
			t.Fatalf("search by URL:\n%s", body)
		}
		if _, body, _ = get(t, c, page+"?state=active&step=inv"); strings.Count(body, `<tr id="p-`) != 3 {
			t.Fatalf("state and step filter: %d rows", strings.Count(body, `<tr id="p-`))
		}
		if _, body, _ = get(t, c, page+"?step=msg"); strings.Count(body, `<tr id="p-`) != 0 || !strings.Contains(body, "No prospects match") {
			t.Fatalf("step filter: %d rows", strings.Count(body, `<tr id="p-`))
		}

		act := func(eid, op, ret string, withToken bool) *http.Response {
			t.Helper()
			form := url.Values{"return": {ret}}
			if withToken {
				form.Set("csrf_token", tok)
			}
			resp, _ := post(t, c, page+"/prospects/"+eid+"/"+op, form)
			return resp
		}
		state := func(eid string) (string, string, string) {
			t.Helper()
			var st, step, parked, reason *string
			if err := k.App.DB.SQL.QueryRow(`SELECT state, step_id, parked_by, ended_reason FROM enrollments WHERE id = $1`, eid).
				Scan(&st, &step, &parked, &reason); err != nil {
				t.Fatal(err)
			}
			s := func(p *string) string {
				if p == nil {
					return ""
				}
				return *p
			}
			return s(st), s(step), s(parked) + s(reason)
		}

		grace := ens["Grace"].ID
		if resp := act(grace, "pause", "", false); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("pause without CSRF: %d", resp.StatusCode)
		}
		if st, _, _ := state(grace); st != "active" {
			t.Fatalf("a refused pause changed the prospect: %s", st)
		}
		ret := "/campaigns/" + cp.ID + "?q=grace"
		resp := act(grace, "pause", ret, true)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != ret+"#prospects" {
			t.Fatalf("pause: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if st, _, hold := state(grace); st != "soft_paused" || hold != campaign.HeldByPerson {
			t.Fatalf("paused: %s %s", st, hold)
		}
		if _, body, _ = get(t, c, k.Base+ret); !strings.Contains(body, "Prospect paused.") || !strings.Contains(body, "Paused by a person") {
			t.Fatalf("after pause:\n%s", body)
		}
		// Resuming the campaign does not release a prospect a person held.
		if _, err := k.App.Campaigns.Resume(ctx, ws.ID, cp.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Campaigns.Pause(ctx, ws.ID, cp.ID); err != nil {
			t.Fatal(err)
		}
		if st, _, hold := state(grace); st != "soft_paused" || hold != campaign.HeldByPerson {
			t.Fatalf("the campaign's resume released the hold: %s %s", st, hold)
		}
		// A return address elsewhere is not followed.
		if resp := act(grace, "resume", "https://evil.example/", true); resp.Header.Get("Location") != "/campaigns/"+cp.ID+"#prospects" {
			t.Fatalf("resume went to %q", resp.Header.Get("Location"))
		}
		if st, _, hold := state(grace); st != "active" || hold != "" {
			t.Fatalf("resumed: %s %s", st, hold)
		}

		alan := ens["Alan"].ID
		if resp := act(alan, "skip", "", true); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("skip: %d", resp.StatusCode)
		}
		if st, step, _ := state(alan); st != "active" || step != "wait" {
			t.Fatalf("skipped: %s at %s", st, step)
		}

		ada := ens["Ada"].ID
		act(ada, "remove", "", true)
		if st, _, reason := state(ada); st != "ended" || reason != campaign.EndedRemoved {
			t.Fatalf("removed: %s %s", st, reason)
		}
		act(ada, "remove", "", true)
		if _, body, _ = get(t, c, page); !strings.Contains(body, "Not done: this prospect&#39;s sequence is already over") {
			t.Fatalf("second remove:\n%s", body)
		}
		if !strings.Contains(body, "Ended: removed") {
			t.Fatalf("removed row:\n%s", body)
		}

		// Another workspace's prospect, through either campaign: 404, untouched.
		theirs := oens["Ada"].ID
		for _, u := range []string{page + "/prospects/" + theirs + "/remove", k.Base + "/campaigns/" + ocp.ID + "/prospects/" + theirs + "/remove"} {
			resp, _ := post(t, c, u, url.Values{"csrf_token": {tok}})
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: %d", u, resp.StatusCode)
			}
		}
		if st, _, _ := state(theirs); st != "active" {
			t.Fatalf("another workspace's prospect changed: %s", st)
		}
		if code, _, _ := get(t, c, k.Base+"/campaigns/"+ocp.ID+"/prospects.csv"); code != http.StatusNotFound {
			t.Fatalf("another workspace's export: %d", code)
		}

		// The export keeps the filter.
		eresp, err := c.Get(page + "/prospects.csv?state=active")
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(eresp.Body).ReadAll()
		eresp.Body.Close()
		if err != nil || eresp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(recs) != 3 || recs[0][2] != "first_name" {
			t.Fatalf("export: %v %q %v", err, eresp.Header.Get("Content-Type"), recs)
		}
		for _, r := range recs[1:] {
			if r[7] != "active" || r[2] == "Ada" {
				t.Fatalf("export row: %v", r)
			}
		}

		if _, body, _ = get(t, c, k.Base+"/campaigns"); !strings.Contains(body, "3 / 2 / 1") {
			t.Fatalf("campaigns list counts:\n%s", body)
		}
	})
}
