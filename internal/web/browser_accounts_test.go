package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestBrowserAccounts: with 300 accounts, one click on the summary's
// "need reconnect" filters the overview to exactly those; a settings form
// with six bad fields shows all six errors at once under a summary whose
// links lead to the fields (docs/surfaces.md#accounts-overview,
// docs/surfaces.md#forms).
func TestBrowserAccounts(t *testing.T) {
	ctx := browser(t)
	k := startKeel(t, db.SQLite)
	dir := artifacts(t)
	bg := context.Background()
	ws, err := workspace.BySlug(bg, k.App.DB.SQL, app.DemoWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	if err := k.App.DB.InTx(bg, func(tx *sql.Tx) error {
		for i := range 297 {
			a, err := k.App.Accounts.Create(bg, tx, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: fmt.Sprintf("many-%03d", i),
				Name: fmt.Sprintf("Sender %03d", i), Status: account.StatusConnected})
			if err != nil {
				return err
			}
			created = append(created, a.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cp := account.TerminalCredentials()
	for _, id := range created[:11] {
		if _, err := k.App.Accounts.Flip(bg, account.FlipRequest{AccountID: id, To: account.StatusDisconnected, Copy: &cp,
			Reason: "test", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
	}
	// The demo's own broken account makes twelve.
	const needReconnect = 12

	run(t, ctx, "signing in",
		chromedp.Navigate(k.Base+"/login"),
		chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
		chromedp.SetValue(chromedp.CSS("#email"), testEmail),
		chromedp.SetValue(chromedp.CSS("#password"), testPassword),
		submit("#sign-in"),
		chromedp.WaitVisible(chromedp.CSS("table.accounts")),
	)

	t.Run("SummaryFiltersInOneClick", func(t *testing.T) {
		if got := textOf(t, ctx, "#att-needs_reconnect"); got != fmt.Sprintf("%d need reconnect", needReconnect) {
			t.Fatalf("summary item: %q", got)
		}
		if got := textOf(t, ctx, "#showing"); !strings.Contains(got, "Showing 1–50 of 300") {
			t.Fatalf("range: %q", got)
		}
		screenshot(t, ctx, dir, "accounts-01-overview-300")
		run(t, ctx, "clicking the summary item",
			submit("#att-needs_reconnect"),
			chromedp.WaitVisible(chromedp.CSS(`#att-needs_reconnect[aria-current]`)),
		)
		loc := value(t, ctx, "reading the address", chromedp.Location())
		if !strings.HasSuffix(loc, "/accounts?status=needs_reconnect") {
			t.Fatalf("address after the click: %s", loc)
		}
		rows := value(t, ctx, "counting rows", chromedp.Evaluate[int](`document.querySelectorAll('table.accounts tbody tr[data-account]').length`))
		bad := value(t, ctx, "counting pills", chromedp.Evaluate[int](`document.querySelectorAll('table.accounts tbody .pill.bad').length`))
		if rows != needReconnect || bad != needReconnect {
			t.Fatalf("filtered: %d rows, %d reconnect pills; want %d", rows, bad, needReconnect)
		}
		if got := value(t, ctx, "reading the status filter", chromedp.Value(chromedp.CSS("#f-status"))); got != "needs_reconnect" {
			t.Fatalf("the status select shows %q", got)
		}
		screenshot(t, ctx, dir, "accounts-02-needs-reconnect")
	})

	t.Run("SixErrorsAtOnce", func(t *testing.T) {
		run(t, ctx, "filling six bad fields",
			chromedp.Navigate(k.Base+"/accounts/"+created[20]),
			chromedp.WaitVisible(chromedp.CSS("#save-settings")),
			chromedp.SetValue(chromedp.CSS("#cap_invite_daily"), "lots"),
			chromedp.SetValue(chromedp.CSS("#cap_invite_weekly"), "99999"),
			chromedp.SetValue(chromedp.CSS("#cap_message_daily"), "-1"),
			chromedp.SetValue(chromedp.CSS("#pacing_min_gap_seconds"), "soon"),
			chromedp.SetValue(chromedp.CSS("#start"), "25:00"),
			chromedp.SetValue(chromedp.CSS("#withdraw_after_days"), "5000"),
			submit("#save-settings"),
			chromedp.WaitVisible(chromedp.CSS("#error-summary")),
		)
		if got := textOf(t, ctx, "#error-summary h2"); got != "6 problems to fix before saving" {
			t.Fatalf("summary heading: %q", got)
		}
		links := value(t, ctx, "counting summary links", chromedp.Evaluate[int](`document.querySelectorAll('#error-summary li a').length`))
		fieldErrs := value(t, ctx, "counting field errors", chromedp.Evaluate[int](`document.querySelectorAll('form .field-error').length`))
		invalid := value(t, ctx, "counting invalid inputs", chromedp.Evaluate[int](`document.querySelectorAll('form [aria-invalid=true]').length`))
		if links != 6 || fieldErrs != 6 || invalid != 6 {
			t.Fatalf("%d summary links, %d field errors, %d invalid inputs; want 6 each", links, fieldErrs, invalid)
		}
		if got := value(t, ctx, "reading a kept value", chromedp.Value(chromedp.CSS("#cap_invite_daily"))); got != "lots" {
			t.Fatalf("the value as typed is lost: %q", got)
		}
		screenshot(t, ctx, dir, "accounts-03-six-errors")
		run(t, ctx, "following a summary link",
			chromedp.Click(chromedp.CSS(`#error-summary a[href="#withdraw_after_days"]`)))
		if loc := value(t, ctx, "reading the address", chromedp.Location()); !strings.HasSuffix(loc, "#withdraw_after_days") {
			t.Fatalf("the summary link led to %s", loc)
		}
	})

	t.Run("SandboxLoginBackToKeel", func(t *testing.T) {
		broken := created[0]
		run(t, ctx, "opening the hosted page from the account page",
			chromedp.Navigate(k.Base+"/accounts/"+broken),
			submit(`form[action$="/reconnect"] button`),
			chromedp.WaitVisible(chromedp.CSS("#fail")),
		)
		if got := textOf(t, ctx, ".brand"); got != "Keel" {
			t.Fatalf("the sandbox page is not dressed as Keel: brand %q", got)
		}
		run(t, ctx, "failing the login", submit("#fail"), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		if got := textOf(t, ctx, `p[role="status"]`); !strings.Contains(got, "Login failed") {
			t.Fatalf("after Fail: %q", got)
		}
		screenshot(t, ctx, dir, "accounts-05-sandbox-login-failed")
		run(t, ctx, "going back to Keel",
			submit("#back-to-keel"),
			chromedp.WaitVisible(chromedp.CSS("#save-settings")),
		)
		if loc := value(t, ctx, "reading the address", chromedp.Location()); !strings.HasSuffix(loc, "/accounts/"+broken) {
			t.Fatalf("Back to Keel led to %s", loc)
		}
	})

	t.Run("NotFoundPage", func(t *testing.T) {
		run(t, ctx, "opening an unknown path",
			chromedp.Navigate(k.Base+"/no/such/page"),
			chromedp.WaitVisible(chromedp.CSS("#err-home")),
		)
		if got := textOf(t, ctx, "h1"); got != "Page not found" {
			t.Fatalf("404 heading: %q", got)
		}
		if n := value(t, ctx, "counting nav links", chromedp.Evaluate[int](`document.querySelectorAll('nav[aria-label=Main] a').length`)); n < 5 {
			t.Fatalf("404 page has %d navigation links", n)
		}
		screenshot(t, ctx, dir, "accounts-04-not-found")
	})
}
