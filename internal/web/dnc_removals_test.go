package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

var removedRow = regexp.MustCompile(`(?s)<tr id="removed-([^"]+)">(.*?)</tr>`)

// TestDNCRemovalsOnThePage: the page's "Recently removed" section shows
// entries removed from the UI, over the API and from the CLI, newest
// first, each with who removed it and when; an empty state before any;
// the latest MaxDNCRemovalsShown only; never another workspace's.
func TestDNCRemovalsOnThePage(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		q := k.App.DB.SQL
		camps := k.App.Campaigns
		ws, err := workspace.BySlug(ctx, q, app.DemoWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		other, err := workspace.Create(ctx, q, "other-removals", "", k.App.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := camps.AddDNC(ctx, other.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAtheirs1"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "user:someone@other.example"), other.ID, theirs.Rows[0].ID); err != nil {
			t.Fatal(err)
		}
		added, err := camps.AddDNC(ctx, ws.ID, "cli", []campaign.DNCRow{{Row: 1, LinkedInURL: "https://www.linkedin.com/in/by-ui"},
			{Row: 2, ProviderID: "ACoAAbyapi123"}, {Row: 3, CompanyURL: "https://www.linkedin.com/company/by-cli"}})
		if err != nil || added.Added != 3 {
			t.Fatalf("adding: %+v %v", added, err)
		}
		c := newClient(t)
		signIn(t, k, c)
		status, body, csrf := get(t, c, k.Base+"/do-not-contact")
		if status != 200 || !strings.Contains(body, `<h2 id="removed">Recently removed</h2>`) ||
			!strings.Contains(body, "Nothing has been removed from the list.") || strings.Contains(body, "ACoAAtheirs1") {
			t.Fatalf("before any removal: %d %s", status, body)
		}

		// From the UI, then over the API, then as the CLI records it.
		if resp, _ := post(t, c, k.Base+"/do-not-contact/"+added.Rows[0].ID+"/remove", url.Values{"csrf_token": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove from the UI: %d", resp.StatusCode)
		}
		tok, secret, err := token.Create(ctx, q, ws.ID, "ci", k.App.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("DELETE", k.Base+"/api/v1/do-not-contact/"+added.Rows[1].ID, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("remove over the API: %d", resp.StatusCode)
		}
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "cli"), ws.ID, added.Rows[2].ID); err != nil {
			t.Fatal(err)
		}

		stored, err := camps.ListDNCRemovals(ctx, q, ws.ID, "", 0)
		if err != nil || len(stored) != 3 {
			t.Fatalf("stored removals: %+v %v", stored, err)
		}
		want := []struct{ id, entry, by string }{
			{added.Rows[2].ID, "https://www.linkedin.com/company/by-cli", "cli"},
			{added.Rows[1].ID, "ACoAAbyapi123", "token:" + tok.ID},
			{added.Rows[0].ID, "https://www.linkedin.com/in/by-ui", "user:" + testEmail},
		}
		_, body, _ = get(t, c, k.Base+"/do-not-contact")
		rows := removedRow.FindAllStringSubmatch(body, -1)
		if len(rows) != len(want) || strings.Contains(body, "Nothing has been removed") || strings.Contains(body, "someone@other.example") {
			t.Fatalf("removals shown: %v\n%s", rows, body)
		}
		for i, w := range want {
			when := stored[i].RemovedAt.Format("2006-01-02 15:04 UTC")
			if rows[i][1] != w.id || !strings.Contains(rows[i][2], "<td>"+w.entry+"</td>") || !strings.Contains(rows[i][2], "<td>"+w.by+"</td>") ||
				!strings.Contains(rows[i][2], "<td>"+when+"</td>") {
				t.Errorf("row %d: %s %s, want %+v at %s", i, rows[i][1], rows[i][2], w, when)
			}
		}

		// Past the page's share, the latest only and where the rest are.
		var more []campaign.DNCRow
		for i := range 20 {
			more = append(more, campaign.DNCRow{Row: i + 1, ProviderID: fmt.Sprintf("ACoAAmore%04d", i)})
		}
		res, err := camps.AddDNC(ctx, ws.ID, "cli", more)
		if err != nil || res.Added != 20 {
			t.Fatalf("adding more: %+v %v", res, err)
		}
		for _, r := range res.Rows {
			if err := camps.RemoveDNC(campaign.WithActor(ctx, "cli"), ws.ID, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, body, _ = get(t, c, k.Base+"/do-not-contact")
		rows = removedRow.FindAllStringSubmatch(body, -1)
		if len(rows) != 20 || strings.Contains(body, "removed-"+added.Rows[0].ID) ||
			!strings.Contains(body, "Showing the latest 20; <code>GET /api/v1/do-not-contact/removals</code>") {
			t.Fatalf("%d removals shown: %s", len(rows), body)
		}
		if unl := unlabelled(body); len(unl) != 0 {
			t.Errorf("unlabelled fields: %v", unl)
		}
	})
}
