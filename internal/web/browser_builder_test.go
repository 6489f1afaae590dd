package web_test

// The sequence builder in a real browser (docs/campaigns.md#the-sequence-builder):
// a four-step sequence built and previewed without typing JSON, a labelled
// error, import, start, and a held prospect whose reason shows on the
// campaign page (docs/campaigns.md#holds).

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
)

func TestBrowserSequenceBuilder(t *testing.T) {
	ctx := browser(t)
	// A Monday, 11:00 in Paris: inside the default sending window.
	c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	k := startKeelWith(t, db.SQLite, c)
	dir := artifacts(t)

	run(t, ctx, "signing in",
		chromedp.Navigate(k.Base+"/login"),
		chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
		chromedp.SetValue(chromedp.CSS("#email"), testEmail),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		submit("#sign-in"),
		chromedp.WaitVisible(chromedp.CSS("table.accounts")),
	)

	// Start from the example and clear it with the Remove buttons.
	run(t, ctx, "opening the builder",
		chromedp.Navigate(k.Base+"/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#step-3")),
		chromedp.SetValue(chromedp.CSS("#name"), "Builder campaign"),
	)
	if !value(t, ctx, "choosing a connected sender", chromedp.Evaluate[bool](`(() => {
		for (const l of document.querySelectorAll('label.check')) {
			if (l.textContent.includes('(connected)')) { l.querySelector('input').checked = true; return true }
		}
		return false })()`)) {
		t.Fatal("no connected sender to choose")
	}
	screenshot(t, ctx, dir, "builder-01-example")
	for _, gone := range []string{"#step-3", "#step-2", "#step-1"} {
		run(t, ctx, "removing a step",
			submit(`#step-1 button[value="remove:0"]`),
			chromedp.WaitNotPresent(chromedp.CSS(gone)),
		)
	}

	// Invitation with a note, if accepted within 7 days, message, wait.
	run(t, ctx, "adding an invitation",
		submit("#add-invite"),
		chromedp.WaitVisible(chromedp.CSS("#s0_note")),
		chromedp.SetValue(chromedp.CSS("#s0_note"), "Hi {{first_name}}, I enjoyed your work at {{company|your company}}."),
		submit("#add-if_accepted"),
		chromedp.WaitVisible(chromedp.CSS("#s1_days")),
		chromedp.SetValue(chromedp.CSS("#s1_days"), "7"),
		submit("#add-message"),
		chromedp.WaitVisible(chromedp.CSS("#s2_text")),
		chromedp.SetValue(chromedp.CSS("#s2_text"), "Thanks for connecting, {{first_name|there}}!"),
		submit("#add-wait"),
		chromedp.WaitVisible(chromedp.CSS("#s3_days")),
		chromedp.SetValue(chromedp.CSS("#s3_days"), "2"),
		submit("#refresh-preview"),
		chromedp.WaitVisible(chromedp.CSS("#preview-1")),
	)
	if got := textOf(t, ctx, "#preview-1"); !strings.Contains(got, "Hi Ada, I enjoyed your work at Analytical Engines.") {
		t.Fatalf("preview for Ada: %q", got)
	}
	if got := textOf(t, ctx, "#s0_note-count"); !strings.HasPrefix(got, "67 of 300 characters") {
		t.Fatalf("note count: %q", got)
	}
	if got := value(t, ctx, "reading the then-branch", chromedp.Evaluate[string](`document.querySelector('#s1_then').value`)); got != "next" {
		t.Fatalf("then-branch: %q", got)
	}
	screenshot(t, ctx, dir, "builder-02-four-steps-preview")
	run(t, ctx, "previewing a prospect with no first name",
		chromedp.SetValue(chromedp.CSS("#preview"), "sample-no-first-name"),
		submit("#refresh-preview"),
		chromedp.WaitVisible(chromedp.CSS("#preview-1 .held")),
	)
	if got := textOf(t, ctx, "#preview-1 .held"); !strings.Contains(got, "first_name is empty and the template has no fallback") {
		t.Fatalf("held preview: %q", got)
	}
	if got := textOf(t, ctx, "#preview-3"); !strings.Contains(got, "Thanks for connecting, there!") {
		t.Fatalf("fallback preview: %q", got)
	}
	screenshot(t, ctx, dir, "builder-03-preview-held")

	// An over-long note: the error is in the builder's words, beside the
	// field and in the summary; nothing is saved.
	long := "Hi {{first_name}}, " + strings.Repeat("x", 293)
	run(t, ctx, "saving an over-long note",
		chromedp.SetValue(chromedp.CSS("#s0_note"), long),
		submit("#save"),
		chromedp.WaitVisible(chromedp.CSS("#error-summary")),
	)
	want := "Step 1 (Invitation): the note is 312 characters; LinkedIn allows 300"
	if got := textOf(t, ctx, "#error-summary"); !strings.Contains(got, want) {
		t.Fatalf("summary: %q", got)
	}
	if got := textOf(t, ctx, "#step-1 .field-error"); !strings.Contains(got, "the note is 312 characters") {
		t.Fatalf("inline: %q", got)
	}
	if got := textOf(t, ctx, "#s0_note-count"); !strings.HasPrefix(got, "312 of 300") {
		t.Fatalf("count: %q", got)
	}
	screenshot(t, ctx, dir, "builder-04-labelled-error")
	if list, _ := k.App.Campaigns.List(context.Background(), k.App.DB.SQL, campaign.ListOptions{}); len(list) != 0 {
		t.Fatalf("a refused form saved a campaign: %d", len(list))
	}
	run(t, ctx, "saving",
		chromedp.SetValue(chromedp.CSS("#s0_note"), "Hi {{first_name}}, I enjoyed your work at {{company|your company}}."),
		submit("#save"),
		chromedp.WaitVisible(chromedp.CSS("#upload")),
	)
	list, err := k.App.Campaigns.List(context.Background(), k.App.DB.SQL, campaign.ListOptions{})
	if err != nil || len(list) != 1 {
		t.Fatalf("campaigns: %v %d", err, len(list))
	}
	cp := list[0]
	if len(cp.Steps) != 4 || cp.Steps[1].Type != campaign.StepIfAccepted || cp.Steps[1].WithinDuration() != 7*24*time.Hour ||
		cp.Steps[1].Then != cp.Steps[2].ID || cp.Steps[1].Else != campaign.End || cp.Steps[3].WaitDuration() != 48*time.Hour {
		t.Fatalf("stored steps: %+v", cp.Steps)
	}

	// Import (the first row has no first name), start, one scheduler pass.
	csv := filepath.Join(t.TempDir(), "prospects.csv")
	if err := os.WriteFile(csv, []byte("linkedin_url,first_name,company\nhttps://www.linkedin.com/in/no-name-person,,Acme\nhttps://www.linkedin.com/in/jane-doe,Jane,Acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "importing and starting",
		chromedp.SetUploadFiles(chromedp.CSS("#csv"), []string{csv}),
		submit("#upload"),
		chromedp.WaitVisible(chromedp.CSS("#import-result")),
	)
	screenshot(t, ctx, dir, "builder-05-imported")
	run(t, ctx, "starting", submit("#start"), chromedp.WaitVisible(chromedp.CSS("#pause")))
	// Scheduler passes on the fake clock, ten minutes apart (invitations
	// are spread over the window), until the prospect without a first
	// name is held: it is looked at when its step's slot comes.
	for i := 0; ; i++ {
		if _, err := k.App.Sender.RunPass(context.Background()); err != nil {
			t.Fatal(err)
		}
		n, _, err := k.App.Campaigns.ParkedBy(context.Background(), k.App.DB.SQL, cp.ID, campaign.HoldCode)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if i == 40 {
			t.Fatal("the prospect without a first name was never held")
		}
		c.Advance(10 * time.Minute)
	}
	run(t, ctx, "reloading the campaign",
		chromedp.Navigate(k.Base+"/campaigns/"+cp.ID),
		chromedp.WaitVisible(chromedp.CSS(`#diagnosis li[data-code="prospects_held"]`)),
	)
	if got := textOf(t, ctx, `#diagnosis li[data-code="prospects_held"]`); !strings.Contains(got, "1 prospect held") {
		t.Fatalf("held finding: %q", got)
	}
	if got := textOf(t, ctx, "#status"); got != "running" {
		t.Fatalf("status: %q", got)
	}
	screenshot(t, ctx, dir, "builder-06-running-with-hold")

	// The running campaign's edit page says what can change and offers a
	// pause; a change that needs one is refused with that sentence.
	run(t, ctx, "editing while running",
		chromedp.Navigate(k.Base+"/campaigns/"+cp.ID+"/edit"),
		chromedp.WaitVisible(chromedp.CSS("#running-notice")),
		chromedp.SetValue(chromedp.CSS("#s3_days"), "5"),
		submit("#save"),
		chromedp.WaitVisible(chromedp.CSS("#error-summary")),
	)
	if got := textOf(t, ctx, "#error-summary"); !strings.Contains(got, "pause it to change step 4 (Wait)'s timing or branches") {
		t.Fatalf("live edit refusal: %q", got)
	}
	if got := textOf(t, ctx, "#preview-1"); !strings.Contains(got, "first_name is empty and the template has no fallback") {
		t.Fatalf("the held prospect's preview: %q", got)
	}
	screenshot(t, ctx, dir, "builder-07-running-edit-refused")
	run(t, ctx, "renaming live",
		chromedp.Navigate(k.Base+"/campaigns/"+cp.ID+"/edit"),
		chromedp.WaitVisible(chromedp.CSS("#running-notice")),
		chromedp.SetValue(chromedp.CSS("#name"), "Builder campaign (renamed)"),
		submit("#save"),
		chromedp.WaitVisible(chromedp.CSS("#upload")),
	)
	if got := textOf(t, ctx, "h1"); got != "Builder campaign (renamed)" {
		t.Fatalf("live rename: %q", got)
	}
}
