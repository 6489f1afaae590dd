package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
)

// TestAccountsRowShowsTheNextAction: the overview's row of a sender of a
// running campaign says its next action and when; a sender with nothing
// scheduled says "—" (docs/surfaces.md#accounts-overview).
func TestAccountsRowShowsTheNextAction(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		signIn(t, k, c)
		wsID := demoAccounts(t, k)[0].WorkspaceID
		mk := func(name string) account.Account {
			a, err := k.App.Accounts.Create(ctx, k.App.DB.SQL, account.NewAccount{WorkspaceID: wsID, ProviderAccountID: "p-next-" + name,
				Name: name, Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Europe/Paris"})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		busy, idle := mk("Nextrow Busy"), mk("Nextrow Idle")
		name := "Next action"
		cp, err := k.App.Campaigns.Create(ctx, wsID, campaign.Input{Name: &name, AccountIDs: []string{busy.ID},
			Steps: []campaign.Step{{ID: "inv", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Campaigns.Import(ctx, cp.ID, wsID, []campaign.ProspectRow{{Row: 1, LinkedInURL: "https://www.linkedin.com/in/nextrow-1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Campaigns.Start(ctx, wsID, cp.ID); err != nil {
			t.Fatal(err)
		}
		// Due in two days, so no scheduler pass of the test server takes it.
		at := k.App.Clock.Now().Add(48 * time.Hour).Truncate(time.Minute)
		if _, err := k.App.DB.SQL.ExecContext(ctx, `UPDATE enrollments SET next_action_at = $2 WHERE campaign_id = $1`, cp.ID, at); err != nil {
			t.Fatal(err)
		}
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := get(t, c, k.Base+"/accounts?q=nextrow")
		row := func(id string) string {
			i := strings.Index(body, `<tr id="acc-`+id+`"`)
			if i < 0 {
				t.Fatalf("no row for %s in\n%s", id, body)
			}
			j := strings.Index(body[i:], "</tr>")
			return body[i : i+j]
		}
		want := `<td class="next" title="` + at.UTC().Format("2006-01-02 15:04 UTC") + `">Invitation ` + at.In(paris).Format("Mon 2 Jan 15:04") + `</td>`
		if got := row(busy.ID); !strings.Contains(got, want) {
			t.Fatalf("the busy sender's row lacks %s:\n%s", want, got)
		}
		if got := row(idle.ID); !strings.Contains(got, `<td class="next" title="nothing scheduled">—</td>`) {
			t.Fatalf("the idle sender's row:\n%s", got)
		}
	})
}
