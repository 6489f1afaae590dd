package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestBrowserCampaignPage: a campaign whose prospects accepted and
// replied shows the right people counts and rates on its page and in the
// campaigns list; the prospect list filters and removes a prospect; a CSV
// import lands on the campaign page, which reloads without a 405
// (docs/surfaces.md#the-campaign-page).
func TestBrowserCampaignPage(t *testing.T) {
	ctx := browser(t)
	k := startKeel(t, db.SQLite)
	dir := artifacts(t)
	bg := context.Background()
	q := k.App.DB.SQL
	ws, err := workspace.BySlug(bg, q, app.DemoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	a, err := k.App.Accounts.Create(bg, q, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-browser-page", Name: "Ada Sender",
		Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	name := "Results campaign"
	cp, err := k.App.Campaigns.Create(bg, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID}, Steps: []campaign.Step{
		{ID: "inv", Type: campaign.StepInvite},
		{ID: "acc", Type: campaign.StepIfAccepted, Within: "168h", Then: "msg", Else: campaign.End},
		{ID: "msg", Type: campaign.StepMessage, Text: "Thanks {{first_name}}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []campaign.ProspectRow
	for i := 0; i < 10; i++ {
		rows = append(rows, campaign.ProspectRow{Row: i + 1, LinkedInURL: fmt.Sprintf("https://www.linkedin.com/in/person-%d", i),
			FirstName: fmt.Sprintf("Person%d", i), LastName: "Example"})
	}
	if _, err := k.App.Campaigns.Import(bg, cp.ID, ws.ID, rows); err != nil {
		t.Fatal(err)
	}
	ens, err := k.App.Campaigns.ListEnrollments(bg, q, ws.ID, cp.ID, campaign.EnrollmentListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Simulated results: 8 invited two days ago, 4 accepted, those 4
	// messaged yesterday, 2 replied after the message.
	now := k.App.Clock.Now()
	confirm := func(en campaign.Enrollment, step, action string, at time.Time) {
		t.Helper()
		if _, err := q.Exec(`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
			claimed_at, dispatched_at, finished_at, chat_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'confirmed', $9, $9, $9, 'chat')`,
			"snd_b_"+en.ID+"_"+step, ws.ID, a.ID, cp.ID, en.ID, en.ProspectID, step, action, at); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func(fn func(context.Context, *sql.Tx, string, time.Time) error, id string, at time.Time) {
		t.Helper()
		if err := k.App.DB.InTx(bg, func(tx *sql.Tx) error { return fn(bg, tx, id, at) }); err != nil {
			t.Fatal(err)
		}
	}
	for i, en := range ens[:8] {
		confirm(en, "inv", "invite", now.Add(-48*time.Hour))
		if i < 4 {
			stamp(k.App.Campaigns.MarkAccepted, en.ID, now.Add(-30*time.Hour))
			confirm(en, "msg", "message", now.Add(-24*time.Hour))
		}
		if i < 2 {
			stamp(k.App.Campaigns.MarkReplied, en.ID, now.Add(-2*time.Hour))
		}
	}

	run(t, ctx, "signing in",
		chromedp.Navigate(k.Base+"/login"),
		chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
		chromedp.SetValue(chromedp.CSS("#email"), testEmail),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		submit("#sign-in"),
		chromedp.WaitVisible(chromedp.CSS("table.accounts")),
	)
	run(t, ctx, "opening the campaign",
		chromedp.Navigate(k.Base+"/campaigns/"+cp.ID),
		chromedp.WaitVisible(chromedp.CSS("#funnel")),
	)
	if got := textOf(t, ctx, "#headline"); got == "" {
		t.Fatal("no diagnosis headline on top")
	}
	for sel, want := range map[string]string{
		"#funnel-inv .sent": "8", "#funnel-inv .accepted": "4", "#funnel-inv .acceptance-rate": "50%",
		"#funnel-inv .replied": "2", "#funnel-inv .reply-rate": "25%",
		"#funnel-msg .sent": "4", "#funnel-msg .accepted": "—", "#funnel-msg .replied": "2", "#funnel-msg .reply-rate": "50%",
	} {
		if got := strings.TrimSpace(textOf(t, ctx, sel)); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if got := textOf(t, ctx, "#totals"); !strings.HasPrefix(got, "10 prospects: 10 in progress, 0 finished") {
		t.Errorf("totals: %q", got)
	}
	if got := textOf(t, ctx, "#senders tbody tr"); !strings.Contains(got, "Ada Sender") || !strings.Contains(got, "invite 0/") {
		t.Errorf("sender row: %q", got)
	}
	screenshot(t, ctx, dir, "campaign-page-results")

	run(t, ctx, "searching the prospects",
		chromedp.SetValue(chromedp.CSS("#pq"), "person-3"),
		submit("#filter"),
	)
	// submit returned once the filtered page (a GET form's answer) loaded.
	loc := value(t, ctx, "reading the address", chromedp.Location())
	n := value(t, ctx, "counting rows", chromedp.Evaluate[int](`document.querySelectorAll('#prospect-list tbody tr[id^="p-"]').length`))
	if !strings.Contains(loc, "q=person-3") || n != 1 {
		t.Fatalf("search kept %d rows at %s", n, loc)
	}
	run(t, ctx, "removing the prospect",
		submit(`#prospect-list button[aria-label^="Remove"]`),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if got := textOf(t, ctx, "p.flash"); got != "Prospect removed from the campaign." {
		t.Fatalf("flash: %q", got)
	}
	if got := textOf(t, ctx, "#prospect-list tbody tr .note"); got != "Ended: removed" {
		t.Fatalf("removed row: %q", got)
	}
	if got := value(t, ctx, "reading the search box", chromedp.Evaluate[string](`document.querySelector('#pq').value`)); got != "person-3" {
		t.Fatalf("the filter was lost: %q", got)
	}
	screenshot(t, ctx, dir, "campaign-page-prospect-removed")

	run(t, ctx, "opening the campaigns list",
		chromedp.Navigate(k.Base+"/campaigns"),
		chromedp.WaitVisible(chromedp.CSS("#campaign-list")),
	)
	row := "#c-" + cp.ID
	if got := textOf(t, ctx, row+" .acceptance"); got != "50%" {
		t.Errorf("list acceptance: %q", got)
	}
	if got := textOf(t, ctx, row+" .reply"); got != "25%" {
		t.Errorf("list replies: %q", got)
	}
	if got := textOf(t, ctx, row+" .prospects"); got != "10 / 9 / 1" {
		t.Errorf("list prospects: %q", got)
	}
	screenshot(t, ctx, dir, "campaigns-list")

	csv := filepath.Join(t.TempDir(), "more.csv")
	if err := os.WriteFile(csv, []byte("linkedin_url,first_name\nhttps://www.linkedin.com/in/new-person,New\nnot a profile,Broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "importing",
		chromedp.Navigate(k.Base+"/campaigns/"+cp.ID),
		chromedp.WaitVisible(chromedp.CSS("#upload")),
		chromedp.SetUploadFiles(chromedp.CSS("#csv"), []string{csv}),
		submit("#upload"),
		chromedp.WaitVisible(chromedp.CSS("#import-result")),
	)
	loc = value(t, ctx, "reading the address", chromedp.Location())
	if strings.Contains(loc, "/import") {
		t.Fatalf("the import left the browser on %s", loc)
	}
	if got := textOf(t, ctx, "#import-result p"); !strings.HasPrefix(got, "1 imported, 1 skipped") {
		t.Fatalf("import result: %q", got)
	}
	run(t, ctx, "reloading", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#funnel")))
	if got := value(t, ctx, "reading the title", chromedp.Title()); !strings.Contains(got, name) {
		t.Fatalf("after reload: %q", got)
	}
}
