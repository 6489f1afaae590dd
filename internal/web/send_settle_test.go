package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestCampaignPageSettlesUnknownSends: a send whose outcome is unknown is
// listed on its campaign page with Settle buttons; "Not sent" settles it
// as the signed-in person, and it leaves the list.
func TestCampaignPageSettlesUnknownSends(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		q := k.App.DB.SQL
		ws, err := workspace.BySlug(ctx, q, app.DemoWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		a, err := k.App.Accounts.Create(ctx, q, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-settle-web", Name: "Settle", Status: account.StatusConnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		name := "settle-web"
		cp, err := k.App.Campaigns.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID},
			Steps: []campaign.Step{{ID: "m1", Type: campaign.StepInMail, Subject: "Hi", Text: "Hello"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Campaigns.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAsettlewebperson"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Campaigns.Start(ctx, ws.ID, cp.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Campaigns.Pause(ctx, ws.ID, cp.ID); err != nil {
			t.Fatal(err)
		}
		var enID, prID string
		if err := q.QueryRow(`SELECT id, prospect_id FROM enrollments WHERE campaign_id = $1`, cp.ID).Scan(&enID, &prID); err != nil {
			t.Fatal(err)
		}
		// The scheduler may have claimed the step before the pause: then
		// that row is the one made unknown.
		id := "snd_web"
		var existing string
		if err := q.QueryRow(`SELECT id FROM sends WHERE campaign_id = $1`, cp.ID).Scan(&existing); err == nil {
			id = existing
		} else if _, err := q.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
			step_id, action, state, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, 'm1', 'inmail', 'intent', $7)`,
			id, ws.ID, a.ID, cp.ID, enID, prID, k.App.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE sends SET state = 'dispatched', dispatched_at = $2 WHERE id = $1 AND state = 'intent'`, id, k.App.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE sends SET state = 'unknown', error = 'lost' WHERE id = $1 AND state = 'dispatched'`, id); err != nil {
			t.Fatal(err)
		}
		c := newClient(t)
		signIn(t, k, c)
		status, body, csrf := get(t, c, k.Base+"/campaigns/"+cp.ID)
		if status != 200 || !strings.Contains(body, `action="/sends/`+id+`/settle"`) || !strings.Contains(body, "unknown_outcomes") && !strings.Contains(body, "settle each as sent or not sent") {
			t.Fatalf("campaign page: %d %s", status, body)
		}
		resp, text := post(t, c, k.Base+"/sends/"+id+"/settle", url.Values{"csrf_token": {csrf}, "outcome": {"perhaps"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad outcome: %d %s", resp.StatusCode, text)
		}
		resp, _ = post(t, c, k.Base+"/sends/"+id+"/settle", url.Values{"csrf_token": {csrf}, "outcome": {"not_sent"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("settling: %d", resp.StatusCode)
		}
		var state, by string
		if err := q.QueryRow(`SELECT state, settled_by FROM sends WHERE id = $1`, id).Scan(&state, &by); err != nil || state != "failed" || by != testEmail {
			t.Fatalf("after settling: %s %q %v", state, by, err)
		}
		if _, body, _ := get(t, c, k.Base+"/campaigns/"+cp.ID); strings.Contains(body, `action="/sends/`+id+`/settle"`) {
			t.Fatal("a settled send is still offered for settling")
		}
	})
}
