package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestDNCRemovalsRoute: entries removed over the API, from the UI and from
// the CLI (their actors set as those surfaces set them) are listed newest
// first with who removed each, paged with the list's cursor and limit
// rules; a viewer reads them; another workspace's never appear.
func TestDNCRemovalsRoute(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		camps := campaign.NewService(d, c)
		issue := func(ws workspace.Workspace, r role.Role) (string, string) {
			tok, secret, err := token.Issue(ctx, d.SQL, token.New{WorkspaceID: ws.ID, Name: string(r), Role: r}, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			return tok.ID, secret
		}
		alpha, err := workspace.Create(ctx, d.SQL, "alpha", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		beta, err := workspace.Create(ctx, d.SQL, "beta", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		adminID, admin := issue(alpha, role.Admin)
		_, viewer := issue(alpha, role.Viewer)
		_, betaAdmin := issue(beta, role.Admin)
		srv := newValidatedServer(t, New(Options{DB: d, Campaigns: camps, Clock: c}))
		defer srv.Close()
		do := func(method, path, secret string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var out map[string]any
			_ = json.Unmarshal(raw, &out)
			return resp.StatusCode, out
		}

		added, err := camps.AddDNC(ctx, alpha.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAByAPI123"},
			{Row: 2, LinkedInURL: "https://www.linkedin.com/in/by-ui"}, {Row: 3, CompanyURL: "https://www.linkedin.com/company/by-cli"}})
		if err != nil || added.Added != 3 {
			t.Fatalf("adding: %+v %v", added, err)
		}
		theirs, err := camps.AddDNC(ctx, beta.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAATheirs12"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "user:bob@beta.example"), beta.ID, theirs.Rows[0].ID); err != nil {
			t.Fatal(err)
		}
		if status, res := do("GET", "/api/v1/do-not-contact/removals", admin); status != 200 || len(res["items"].([]any)) != 0 || res["next_cursor"] != nil {
			t.Fatalf("nothing removed yet: %d %v", status, res)
		}

		// One removal a minute: over the API, then as the UI and the CLI
		// record theirs.
		c.Advance(time.Minute)
		if status, res := do("DELETE", "/api/v1/do-not-contact/"+added.Rows[0].ID, admin); status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %v", status, res)
		}
		c.Advance(time.Minute)
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "user:ann@alpha.example"), alpha.ID, added.Rows[1].ID); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
		if err := camps.RemoveDNC(campaign.WithActor(ctx, "cli"), alpha.ID, added.Rows[2].ID); err != nil {
			t.Fatal(err)
		}
		want := []struct{ id, entry, by, at string }{
			{added.Rows[2].ID, "https://www.linkedin.com/company/by-cli", "cli", "2026-03-02T09:03:00Z"},
			{added.Rows[1].ID, "https://www.linkedin.com/in/by-ui", "user:ann@alpha.example", "2026-03-02T09:02:00Z"},
			{added.Rows[0].ID, "ACoAAByAPI123", "token:" + adminID, "2026-03-02T09:01:00Z"},
		}

		// Pages of two, read by the viewer.
		var got []any
		path := "/api/v1/do-not-contact/removals?limit=2"
		for range 3 {
			status, res := do("GET", path, viewer)
			if status != 200 {
				t.Fatalf("GET %s as a viewer: %d %v", path, status, res)
			}
			got = append(got, res["items"].([]any)...)
			next, _ := res["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/api/v1/do-not-contact/removals?limit=2&cursor=" + next
		}
		if len(got) != len(want) {
			t.Fatalf("removals over the pages: %v", got)
		}
		for i, w := range want {
			m := got[i].(map[string]any)
			if m["entry_id"] != w.id || m["entry"] != w.entry || m["removed_by"] != w.by || m["removed_at"] != w.at || m["created_by"] != "cli" {
				t.Errorf("removal %d: %v, want %+v", i, m, w)
			}
		}

		// Bad paging input: 400 naming the parameter, as the list does.
		for q, param := range map[string]string{"limit=0": "limit", "limit=x": "limit", "cursor=dnc_nope": "cursor",
			"cursor=" + theirs.Rows[0].ID: "cursor", "cursor=" + added.Rows[0].ID + "x": "cursor"} {
			status, res := do("GET", "/api/v1/do-not-contact/removals?"+q, admin)
			if detail, _ := res["detail"].(string); status != http.StatusBadRequest || !strings.HasPrefix(detail, param) {
				t.Errorf("?%s: %d %v", q, status, res)
			}
		}

		// Workspace B sees its own removal only; A's never.
		status, res := do("GET", "/api/v1/do-not-contact/removals", betaAdmin)
		items, _ := res["items"].([]any)
		if status != 200 || len(items) != 1 || items[0].(map[string]any)["removed_by"] != "user:bob@beta.example" {
			t.Fatalf("B's removals: %d %v", status, res)
		}
		// The literal segment is not an entry id, nor the reverse.
		if status, _ := do("DELETE", "/api/v1/do-not-contact/removals", admin); status != http.StatusNotFound {
			t.Fatalf("DELETE …/removals: %d", status)
		}
	})
}
