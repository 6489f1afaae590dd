package web_test

// The sequence builder's live character counts in a real browser
// (docs/campaigns.md#the-sequence-builder): typing in a note or a message
// updates the count beside it, and a note past LinkedIn's limit shows as
// over, with builder.js served from the binary under the page's CSP.

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/db"
)

func TestBrowserBuilderCountsCharacters(t *testing.T) {
	ctx := browser(t)
	k := startKeel(t, db.SQLite)
	dir := artifacts(t)
	run(t, ctx, "signing in",
		chromedp.Navigate(k.Base+"/login"),
		chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
		chromedp.SetValue(chromedp.CSS("#email"), testEmail),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		submit("#sign-in"),
		chromedp.WaitVisible(chromedp.CSS("table.accounts")),
	)
	// The example sequence: an invitation (s0) and a message (s2).
	run(t, ctx, "opening the builder",
		chromedp.Navigate(k.Base+"/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#s0_note")),
	)
	// Emptied without an input event, as SetValue cannot set "".
	clear := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`document.querySelector('` + sel + `').value = ''`)
	}
	count := func(what, sel, want string) {
		t.Helper()
		run(t, ctx, what, chromedp.Poll[chromedp.Void](`document.querySelector('`+sel+` .count-n').textContent === '`+want+`'`,
			chromedp.WithPollingTimeout(10*time.Second)))
	}
	over := func(sel string) bool {
		return value(t, ctx, "reading "+sel, chromedp.Evaluate[bool](`document.querySelector('`+sel+`').classList.contains('over')`))
	}

	run(t, ctx, "typing a note",
		clear("#s0_note"),
		chromedp.SendKeys(chromedp.CSS("#s0_note"), "Hi {{first_name|there}}"),
	)
	count("the note's count follows the typing", "#s0_note-count", "23")
	if over("#s0_note-count") {
		t.Fatal("a 23-character note shows as over the limit")
	}

	run(t, ctx, "typing a note past the limit",
		chromedp.SetValue(chromedp.CSS("#s0_note"), strings.Repeat("x", 299)),
		chromedp.SendKeys(chromedp.CSS("#s0_note"), "yz"),
	)
	count("the note's count passes 300", "#s0_note-count", "301")
	if !over("#s0_note-count") {
		t.Fatal("a 301-character note does not show as over the limit")
	}
	screenshot(t, ctx, dir, "builder-count-over")
	run(t, ctx, "coming back under the limit", chromedp.SendKeys(chromedp.CSS("#s0_note"), "\b\b"))
	count("the note's count comes back to 299", "#s0_note-count", "299")
	if over("#s0_note-count") {
		t.Fatal("a 299-character note still shows as over the limit")
	}

	run(t, ctx, "typing a message",
		clear("#s2_text"),
		chromedp.SendKeys(chromedp.CSS("#s2_text"), "Thanks, Ada"),
	)
	count("the message's count follows the typing", "#s2_text-count", "11")
}
