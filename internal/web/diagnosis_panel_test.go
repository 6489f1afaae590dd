package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/cli"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestBrowserPacingHeadline is issue 12's acceptance: a running campaign
// whose sender waits for its pacing shows the next time in the panel's
// headline, and the API and the CLI show the same time.
func TestBrowserPacingHeadline(t *testing.T) {
	ctx := browser(t)
	// A Monday, 11:00 in Paris: inside the default window, and the fake
	// clock never moves, so nothing claims after the pacing row is set.
	c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	k := startKeelWith(t, db.SQLite, c)
	dir := artifacts(t)
	bg := context.Background()

	ws, cpID, senderID, next := pacedCampaign(t, k, c)
	const headline = "Sending — next invitation from Grace Hopper at 14:32 (Europe/Paris)"

	run(t, ctx, "signing in",
		chromedp.Navigate(k.Base+"/login"),
		chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
		chromedp.SetValue(chromedp.CSS("#email"), testEmail),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		submit("#sign-in"),
		chromedp.WaitVisible(chromedp.CSS("table.accounts")),
	)
	for _, page := range []string{"/campaigns/" + cpID, "/accounts/" + senderID} {
		run(t, ctx, "opening "+page, chromedp.Navigate(k.Base+page), chromedp.WaitVisible(chromedp.CSS("#diag-headline")))
		if got := textOf(t, ctx, "#diag-headline"); got != headline {
			t.Fatalf("%s: headline %q, want %q", page, got, headline)
		}
		if got := textOf(t, ctx, "#next-action"); !strings.Contains(got, "14:32 (Europe/Paris)") || !strings.Contains(got, "2026-03-02 13:32 UTC") {
			t.Fatalf("%s: next action %q", page, got)
		}
		if got := textOf(t, ctx, `#diagnosis li[data-code="pacing"]`); !strings.Contains(got, "clears 14:32 (Europe/Paris)") {
			t.Fatalf("%s: pacing finding %q", page, got)
		}
		if strings.Contains(textOf(t, ctx, "#diagnosis"), "It is sending") {
			t.Fatalf("%s: the old heading is back", page)
		}
	}
	screenshot(t, ctx, dir, "08-account-pacing-headline")

	_, secret, err := token.Create(bg, k.App.DB.SQL, ws.ID, "browser", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, k.Base+"/api/v1/campaigns/"+cpID+"/diagnosis", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var diag struct {
		Sending      bool   `json:"sending"`
		NextActionAt string `json:"next_action_at"`
		Headline     string `json:"headline"`
	}
	err = json.NewDecoder(resp.Body).Decode(&diag)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API: %d %v", resp.StatusCode, err)
	}
	if !diag.Sending || diag.NextActionAt != next.UTC().Format(time.RFC3339) || diag.Headline != headline {
		t.Fatalf("API diagnosis: %+v, want next_action_at %s", diag, next.UTC().Format(time.RFC3339))
	}

	var out, errOut bytes.Buffer
	env := cli.Env{Getenv: func(k2 string) string {
		if k2 == "KEEL_DATABASE_URL" {
			return k.DBURL
		}
		return ""
	}, Stdout: &out, Stderr: &errOut, Clock: c}
	if code := cli.Run(bg, []string{"diagnose", "campaign", cpID}, env); code != cli.ExitOK {
		t.Fatalf("keel diagnose campaign: exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) < 2 || lines[0] != headline || lines[1] != "next action: 14:32 (Europe/Paris) = 2026-03-02 13:32 UTC" {
		t.Fatalf("CLI output:\n%s", out.String())
	}
}

// pacedCampaign is a running campaign of the demo workspace whose one
// sender, Grace Hopper in Europe/Paris, may act next at 14:32 Paris time
// (13:32 UTC): what a claim leaves in the pacing row.
func pacedCampaign(t *testing.T, k *keel, c *clock.Fake) (ws workspace.Workspace, campaignID, senderID string, next time.Time) {
	t.Helper()
	bg := context.Background()
	sql := k.App.DB.SQL
	ws, err := workspace.BySlug(bg, sql, app.DemoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	accs, err := k.App.Accounts.List(bg, sql, account.ListOptions{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	var sender account.Account
	for _, a := range accs {
		if a.Status == account.StatusConnected {
			sender = a
			break
		}
	}
	if sender.ID == "" {
		t.Fatalf("no connected demo account among %d", len(accs))
	}
	if _, err := sql.Exec(`UPDATE linkedin_accounts SET timezone = 'Europe/Paris', name = 'Grace Hopper' WHERE id = $1`, sender.ID); err != nil {
		t.Fatal(err)
	}
	name := "Paced campaign"
	cp, err := k.App.Campaigns.Create(bg, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{sender.ID}, Steps: []campaign.Step{
		{ID: "invite", Type: campaign.StepInvite},
		{ID: "wait", Type: campaign.StepIfAccepted, Within: "168h", Then: "hello", Else: campaign.End},
		{ID: "hello", Type: campaign.StepMessage, Text: "Hi {{first_name}}"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Campaigns.Import(bg, cp.ID, ws.ID, []campaign.ProspectRow{
		{Row: 1, ProviderID: "ACoAApacedone", FirstName: "One"}, {Row: 2, ProviderID: "ACoAApacedtwo", FirstName: "Two"},
		{Row: 3, ProviderID: "ACoAApacedthree", FirstName: "Three"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Campaigns.Start(bg, ws.ID, cp.ID); err != nil {
		t.Fatal(err)
	}
	// What a claim leaves behind: the sender may act again at 14:32 Paris.
	next = c.Now().Add(3*time.Hour + 32*time.Minute)
	if _, err := sql.Exec(`INSERT INTO account_pacing (account_id, next_allowed_at) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET next_allowed_at = excluded.next_allowed_at`, sender.ID, next); err != nil {
		t.Fatal(err)
	}
	return ws, cp.ID, sender.ID, next
}

// Without JavaScript too: the campaign and account pages lead their panel
// with the headline and show the next action in Paris time and UTC.
func TestDiagnosisPanelServerRendered(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
			k := startKeelWith(t, e, c)
			_, cpID, senderID, _ := pacedCampaign(t, k, c)
			hc := newClient(t)
			signIn(t, k, hc)
			for _, page := range []string{"/campaigns/" + cpID, "/accounts/" + senderID} {
				code, body, _ := get(t, hc, k.Base+page)
				if code != http.StatusOK {
					t.Fatalf("%s: %d", page, code)
				}
				for _, want := range []string{
					`<h2 id="diag-headline" class="headline sending">Sending — next invitation from Grace Hopper at 14:32 (Europe/Paris)</h2>`,
					`<time datetime="2026-03-02T13:32:00Z">14:32 (Europe/Paris)</time> <span class="muted">(2026-03-02 13:32 UTC)</span>`,
					`data-code="pacing"`,
				} {
					if !strings.Contains(body, want) {
						t.Fatalf("%s lacks %s:\n%s", page, want, body)
					}
				}
				if strings.Contains(body, "It is sending") || strings.Index(body, "diag-headline") > strings.Index(body, `data-code="pacing"`) {
					t.Fatalf("%s: the panel does not lead with the headline", page)
				}
			}
		})
	}
}
