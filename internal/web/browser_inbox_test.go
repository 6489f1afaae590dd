package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestBrowserInbox: a prospect's reply, emitted by the fake Unipile as a
// webhook, appears in the inbox with its campaign and ends that person's
// sequence; a reply typed in the thread makes exactly one provider call
// (docs/inbox.md).
func TestBrowserInbox(t *testing.T) {
	ctx := browser(t)
	k := startKeel(t, db.SQLite)
	dir := artifacts(t)
	bg := context.Background()
	q := k.App.DB.SQL
	ws, err := workspace.BySlug(bg, q, app.DemoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	accs, err := k.App.Accounts.List(bg, q, account.ListOptions{WorkspaceID: ws.ID})
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
	name := "Inbox campaign"
	cp, err := k.App.Campaigns.Create(bg, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{sender.ID},
		Steps: []campaign.Step{{ID: "invite", Type: campaign.StepInvite}, {ID: "wait", Type: campaign.StepIfAccepted, Within: "168h", Then: "hello", Else: campaign.End},
			{ID: "hello", Type: campaign.StepMessage, Text: "Hi {{first_name}}"}}})
	if err != nil {
		t.Fatal(err)
	}
	k.App.Sandbox.AddPerson(fake.Person{ProviderID: "ACoAAjanereplies", FirstName: "Jane", LastName: "Replies"})
	if _, err := k.App.Campaigns.Import(bg, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAjanereplies", FirstName: "Jane"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Campaigns.Start(bg, ws.ID, cp.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.App.Sandbox.IncomingMessage(sender.ProviderAccountID, "ACoAAjanereplies", "Happy to talk — what do you have in mind?"); err != nil {
		t.Fatal(err)
	}
	// The webhook goes through Keel's durable inbox: wait for its effects.
	var state string
	for deadline := time.Now().Add(90 * time.Second); ; {
		if err := q.QueryRow(`SELECT e.state FROM enrollments e WHERE e.campaign_id = $1`, cp.ID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		var convs int
		if err := q.QueryRow(`SELECT count(*) FROM conversations WHERE campaign_id = $1`, cp.ID).Scan(&convs); err != nil {
			t.Fatal(err)
		}
		if state == "replied" && convs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the reply: enrollment %s, %d conversations of the campaign", state, convs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The reply event names the conversation, for integrators' inboxes.
	var convID, body string
	if err := q.QueryRow(`SELECT id FROM conversations WHERE campaign_id = $1`, cp.ID).Scan(&convID); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(`SELECT body FROM outbound_events WHERE type = 'linkedin.reply_received'`).Scan(&body); err != nil ||
		!strings.Contains(body, `"conversation_id":"`+convID+`"`) {
		t.Fatalf("the reply event %s (%v) does not name conversation %s", body, err, convID)
	}
	run(t, ctx, "signing in",
		chromedp.Navigate(k.Base+"/login"),
		chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
		chromedp.SetValue(chromedp.CSS("#email"), testEmail),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		submit("#sign-in"),
		chromedp.WaitVisible(chromedp.CSS("table.accounts")),
	)
	run(t, ctx, "opening the inbox", chromedp.Navigate(k.Base+"/inbox"), chromedp.WaitVisible(chromedp.CSS("#conversations tbody tr.unread")))
	row := textOf(t, ctx, "#conversations tbody tr.unread")
	if !strings.Contains(row, "Jane Replies") || !strings.Contains(row, name) || !strings.Contains(row, "Happy to talk") {
		t.Fatalf("inbox row: %q", row)
	}
	screenshot(t, ctx, dir, "inbox-01-list")
	run(t, ctx, "opening the thread", submit("#conversations tbody tr.unread a"), chromedp.WaitVisible(chromedp.CSS("#thread")))
	if got := textOf(t, ctx, "#thread"); !strings.Contains(got, "what do you have in mind?") {
		t.Fatalf("thread: %q", got)
	}
	// While the thread is open, the person writes again: the page shows it
	// without a reload (its script reads the thread every second here), and
	// the text typed in the reply box stays.
	run(t, ctx, "typing", chromedp.SetValue(chromedp.CSS("#text"), "Let's talk Tuesday at 10."))
	if _, _, err := k.App.Sandbox.IncomingMessage(sender.ProviderAccountID, "ACoAAjanereplies", "PS: mornings suit me best."); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(textOf(t, ctx, "#thread"), "mornings suit me best"); {
		if time.Now().After(deadline) {
			t.Fatalf("the new message never showed in the open thread: %q", textOf(t, ctx, "#thread"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := value(t, ctx, "the reply box", chromedp.Value(chromedp.CSS("#text"))); got != "Let's talk Tuesday at 10." {
		t.Fatalf("the reply box lost its text: %q", got)
	}
	run(t, ctx, "replying",
		chromedp.SetValue(chromedp.CSS("#text"), "Let's talk Tuesday at 10."),
		submit("#send-reply"),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	screenshot(t, ctx, dir, "inbox-02-replied")
	// The reply is dispatched by the job queue: wait for its record.
	var replyState string
	for deadline := time.Now().Add(60 * time.Second); ; {
		if err := q.QueryRow(`SELECT state FROM sends WHERE action = 'reply'`).Scan(&replyState); err != nil {
			t.Fatalf("the reply's ledger row: %v", err)
		}
		if replyState == "confirmed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply is still %s", replyState)
		}
		time.Sleep(100 * time.Millisecond)
	}
	sent := 0
	for _, c := range k.App.Sandbox.Calls() {
		if c.Action == fake.ActionSendMessage && c.Applied {
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("the reply made %d provider calls, want 1", sent)
	}

	// A second reply whose answer is lost after the provider applied it
	// (as when the process dies between the call and its record): it is
	// reconciled from the chat, not sent again.
	k.App.Sandbox.LoseResponses(fake.ActionSendMessage, 1)
	run(t, ctx, "replying again",
		chromedp.SetValue(chromedp.CSS("#text"), "Or Wednesday, if that suits you better."),
		submit("#send-reply"),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, err := k.App.Sender.ReconcileUnknown(bg); err != nil {
			t.Fatal(err)
		}
		var confirmed int
		if err := q.QueryRow(`SELECT count(*) FROM sends WHERE action = 'reply' AND state = 'confirmed'`).Scan(&confirmed); err != nil {
			t.Fatal(err)
		}
		if confirmed == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d replies confirmed", confirmed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	sent = 0
	for _, c := range k.App.Sandbox.Calls() {
		if c.Action == fake.ActionSendMessage && c.Applied {
			sent++
		}
	}
	if sent != 2 {
		t.Fatalf("two replies made %d provider calls, want 2", sent)
	}
	run(t, ctx, "reloading the thread", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#thread")))
	screenshot(t, ctx, dir, "inbox-03-two-replies")
}
