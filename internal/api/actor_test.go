package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestChangesRecordWhoMadeThem: campaign writes, account settings and
// do-not-contact removals made through the API name the token.
func TestChangesRecordWhoMadeThem(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		ws, err := workspace.Create(ctx, d.SQL, "acme", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		tok, secret, err := token.Issue(ctx, d.SQL, token.New{WorkspaceID: ws.ID, Role: role.Admin}, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		acc, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-acme", Status: account.StatusConnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(New(Options{DB: d, Accounts: accounts, Campaigns: camps, Clock: c}))
		defer srv.Close()
		do := func(method, path, body string) (int, string) {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		want := `"token:` + tok.ID + `"`
		status, body := do("POST", "/api/v1/campaigns", `{"name":"Q1","account_ids":["`+acc.ID+`"],"steps":[{"id":"s1","type":"invite"}]}`)
		if status != 201 && status != 200 || !strings.Contains(body, `"updated_by":`+want) {
			t.Fatalf("create: %d %s", status, body)
		}
		list, err := camps.List(ctx, d.SQL, campaign.ListOptions{WorkspaceID: ws.ID})
		if err != nil || len(list) != 1 {
			t.Fatalf("campaigns: %+v %v", list, err)
		}
		if _, err := camps.Import(ctx, list[0].ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAprospect"}}); err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"start", "pause", "resume"} {
			// Keel's own write in between shows the next one is recorded anew.
			if _, err := d.SQL.ExecContext(ctx, `UPDATE campaigns SET updated_by = 'keel' WHERE id = $1`, list[0].ID); err != nil {
				t.Fatal(err)
			}
			status, body := do("POST", "/api/v1/campaigns/"+list[0].ID+"/"+op, "")
			if status != 200 || !strings.Contains(body, `"updated_by":`+want) {
				t.Fatalf("%s: %d %s", op, status, body)
			}
		}
		status, body = do("PATCH", "/api/v1/accounts/"+acc.ID, `{"timezone":"Europe/Paris"}`)
		if status != 200 || !strings.Contains(body, `"settings_updated_by":`+want) {
			t.Fatalf("account settings: %d %s", status, body)
		}
		dnc, err := camps.AddDNC(ctx, ws.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAlisted"}})
		if err != nil || dnc.Added != 1 {
			t.Fatalf("listing: %+v %v", dnc, err)
		}
		if status, body := do("DELETE", "/api/v1/do-not-contact/"+dnc.Rows[0].ID, ""); status != 204 && status != 200 {
			t.Fatalf("removal: %d %s", status, body)
		}
		var by, entry string
		if err := d.SQL.QueryRowContext(ctx, `SELECT removed_by, entry FROM do_not_contact_removals WHERE entry_id = $1`, dnc.Rows[0].ID).Scan(&by, &entry); err != nil ||
			by != "token:"+tok.ID || entry != "ACoAAlisted" {
			t.Fatalf("removal record: %q %q %v", by, entry, err)
		}
	})
}
