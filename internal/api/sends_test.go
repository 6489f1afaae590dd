package api

import (
	"context"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestSendsListAndSettleAreWorkspaceScoped: the unknown sends of one
// workspace are listed and settled only with its token; bad input is 422
// naming the field and changes nothing; a settled send is 409.
func TestSendsListAndSettleAreWorkspaceScoped(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		client, err := unipile.New(unipile.Options{BaseURL: "http://127.0.0.1:1", APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		sender, err := send.New(send.Options{DB: d, Accounts: accounts, Campaigns: camps, Client: client, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		type tenantInfo struct{ ws, secret, sendID string }
		mk := func(slug string) tenantInfo {
			ws, err := workspace.Create(ctx, d.SQL, slug, "", c.Now())
			if err != nil {
				t.Fatal(err)
			}
			_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
			if err != nil {
				t.Fatal(err)
			}
			a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-" + slug, Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				t.Fatal(err)
			}
			name := "c-" + slug
			cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
				Steps: []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAperson" + slug + "xxxxxxxx"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := camps.Start(ctx, ws.ID, cp.ID); err != nil {
				t.Fatal(err)
			}
			var enID, prID string
			if err := d.SQL.QueryRow(`SELECT id, prospect_id FROM enrollments WHERE campaign_id = $1`, cp.ID).Scan(&enID, &prID); err != nil {
				t.Fatal(err)
			}
			id := "snd_" + slug
			now := c.Now()
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
				step_id, action, state, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, 'm1', 'inmail', 'intent', $7)`,
				id, ws.ID, a.ID, cp.ID, enID, prID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1`, id, now); err != nil {
				t.Fatal(err)
			}
			if _, err := d.SQL.ExecContext(ctx, `UPDATE sends SET state = 'unknown', error = 'lost' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			return tenantInfo{ws: ws.ID, secret: secret, sendID: id}
		}
		ta, tb := mk("alpha"), mk("beta")
		srv := newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Campaigns: camps, Sender: sender, Clock: c}))
		t.Cleanup(srv.Close)
		b := &campaignBundle{srv: srv}

		if status, body, _ := b.call(t, "GET", "/api/v1/sends?state=sent", ta.secret, "", nil); status != 422 || body["errors"] == nil {
			t.Fatalf("listing another state: %d %v", status, body)
		}
		status, body, _ := b.call(t, "GET", "/api/v1/sends?state=unknown", ta.secret, "", nil)
		items, _ := body["items"].([]any)
		if status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != ta.sendID {
			t.Fatalf("alpha's unknown sends: %d %v", status, body)
		}
		if status, _, _ := b.call(t, "POST", "/api/v1/sends/"+ta.sendID+"/settle", tb.secret, "", map[string]any{"outcome": "sent"}); status != 404 {
			t.Fatalf("beta settling alpha's send: %d", status)
		}
		for _, bad := range []any{map[string]any{}, map[string]any{"outcome": "maybe"}, map[string]any{"outcome": 1}} {
			status, body, _ := b.call(t, "POST", "/api/v1/sends/"+ta.sendID+"/settle", ta.secret, "", bad)
			errs, _ := body["errors"].([]any)
			if status != 422 || len(errs) != 1 || errs[0].(map[string]any)["field"] != "outcome" {
				t.Fatalf("bad settlement %v: %d %v", bad, status, body)
			}
		}
		var state string
		if err := d.SQL.QueryRow(`SELECT state FROM sends WHERE id = $1`, ta.sendID).Scan(&state); err != nil || state != "unknown" {
			t.Fatalf("a refused settlement changed the send: %s %v", state, err)
		}
		status, body, _ = b.call(t, "POST", "/api/v1/sends/"+ta.sendID+"/settle", ta.secret, "", map[string]any{"outcome": "sent"})
		if status != 200 || body["state"] != "confirmed" || body["settled_by"] == "" || body["settled_at"] == nil {
			t.Fatalf("settling: %d %v", status, body)
		}
		if status, _, _ := b.call(t, "POST", "/api/v1/sends/"+ta.sendID+"/settle", ta.secret, "", map[string]any{"outcome": "not_sent"}); status != 409 {
			t.Fatalf("settling twice: %d", status)
		}
		status, body, _ = b.call(t, "GET", "/api/v1/sends?state=unknown", tb.secret, "", nil)
		if items, _ := body["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != tb.sendID {
			t.Fatalf("beta's unknown sends: %d %v", status, body)
		}
	})
}
