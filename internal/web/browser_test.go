package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/db"
)

// ChromiumPath is Debian's Chromium; the browser tests use nothing else and
// never download a browser.
const ChromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile, or skips the
// test when Chromium is missing (fails it under KEEL_REQUIRE_BROWSER=1).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("KEEL_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%s is missing but KEEL_REQUIRE_BROWSER=1: install Debian's chromium package", ChromiumPath)
		}
		t.Skipf("browser tests skipped: %s is missing (apt-get install chromium; set KEEL_REQUIRE_BROWSER=1 to make this a failure)", ChromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// artifacts is where screenshots go: $KEEL_ARTIFACTS_DIR, else a temporary
// directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KEEL_ARTIFACTS_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100) /* 100 = PNG */)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		t.Fatalf("%s: %v\npage:\n%s", what, err, html)
	}
}

// value runs one action that returns something.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// submit clicks a button or link that loads a new page and returns once that
// page has loaded. A wait that follows can then never be met by the page the
// click replaced: a plain click returns at once, and an element that is on
// both pages (a preview, a flash) would be read from the old one while it
// unloads.
func submit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			return fmt.Errorf("clicking %s and loading the page it opens: %w", sel, err)
		}
		return nil
	})
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(value(t, ctx, "reading "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func TestBrowser(t *testing.T) {
	ctx := browser(t)
	k := startKeel(t, db.SQLite)
	dir := artifacts(t)

	t.Run("SignInAndReconnect", func(t *testing.T) {
		run(t, ctx, "signing in",
			chromedp.Navigate(k.Base+"/login"),
			chromedp.SetValue(chromedp.CSS("#workspace"), app.DemoWorkspace),
			chromedp.SetValue(chromedp.CSS("#email"), testEmail),
			chromedp.SetValue(chromedp.CSS("#password"), testPassword),
			submit("#sign-in"),
			chromedp.WaitVisible(chromedp.CSS("table.accounts")),
		)
		if got := textOf(t, ctx, ".sandbox"); !strings.Contains(got, "Sandbox mode: no real LinkedIn traffic") {
			t.Fatalf("sandbox banner: %q", got)
		}
		if got := textOf(t, ctx, ".pill.ok"); got != "Connected" {
			t.Fatalf("green pill: %q", got)
		}
		if got := textOf(t, ctx, ".pill.bad"); got != "Reconnect needed" {
			t.Fatalf("reconnect pill: %q", got)
		}
		screenshot(t, ctx, dir, "01-accounts-reconnect-needed")
		run(t, ctx, "opening the hosted page",
			submit(`tr:has(.pill.bad) button.reconnect`),
			chromedp.WaitVisible(chromedp.CSS("#approve")),
		)
		loc := value(t, ctx, "reading the hosted page's address", chromedp.Location())
		if !strings.Contains(loc, app.SandboxPrefix+"/hosted/") {
			t.Fatalf("Reconnect opened %s, not the sandbox hosted page", loc)
		}
		screenshot(t, ctx, dir, "02-sandbox-hosted-page")
		run(t, ctx, "approving", submit("#approve"),
			chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
		deadline := time.Now().Add(30 * time.Second)
		for {
			run(t, ctx, "reloading accounts",
				chromedp.Navigate(k.Base+"/accounts"),
				chromedp.WaitVisible(chromedp.CSS("table.accounts")),
			)
			bad := value(t, ctx, "counting pills", chromedp.Evaluate[int](`document.querySelectorAll('.pill.bad').length`))
			ok := value(t, ctx, "counting pills", chromedp.Evaluate[int](`document.querySelectorAll('.pill.ok').length`))
			if bad == 0 && ok == 3 {
				break
			}
			if time.Now().After(deadline) {
				screenshot(t, ctx, dir, "03-accounts-not-green")
				t.Fatalf("the pill did not turn green: %d green, %d reconnect-needed", ok, bad)
			}
			run(t, ctx, "waiting", chromedp.Sleep(200*time.Millisecond))
		}
		screenshot(t, ctx, dir, "03-accounts-all-connected")
	})

	t.Run("CampaignEditorImportStart", func(t *testing.T) {
		bad := `[{"id": "invite", "type": "invite", "note": "Hi {{first_name}}, I hear you like {{favorite_color}}."}]`
		good := `[{"id": "invite", "type": "invite", "note": "Hi {{first_name}}, glad to connect."}]`
		run(t, ctx, "filling the editor",
			chromedp.Navigate(k.Base+"/campaigns/new"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SetValue(chromedp.CSS("#name"), "Browser campaign"),
			chromedp.Click(chromedp.CSS(`input[name="account_ids"]`)),
			chromedp.SetValue(chromedp.CSS("#steps"), bad),
			submit("#save"),
			chromedp.WaitVisible(chromedp.CSS("#steps-err")),
		)
		if got := textOf(t, ctx, "#steps-err"); !strings.Contains(got, "{{favorite_color}}") {
			t.Fatalf("inline steps error: %q", got)
		}
		screenshot(t, ctx, dir, "04-campaign-inline-error")
		run(t, ctx, "fixing and saving",
			chromedp.SetValue(chromedp.CSS("#steps"), good),
			submit("#save"),
			chromedp.WaitVisible(chromedp.CSS("#upload")),
		)
		csv := filepath.Join(t.TempDir(), "prospects.csv")
		if err := os.WriteFile(csv, []byte("linkedin_url,first_name\nhttps://www.linkedin.com/in/jane-doe,Jane\nnot a profile,Broken\nhttps://www.linkedin.com/in/john-roe,John\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "uploading",
			chromedp.SetUploadFiles(chromedp.CSS("#csv"), []string{csv}),
			submit("#upload"),
			chromedp.WaitVisible(chromedp.CSS("#import-result")),
		)
		if got := textOf(t, ctx, "#import-result .row-invalid"); !strings.Contains(got, "invalid") || len(strings.TrimSpace(got)) < 12 {
			t.Fatalf("the bad row is not shown with its error: %q", got)
		}
		if got := textOf(t, ctx, "#import-result p"); !strings.HasPrefix(got, "2 imported") {
			t.Fatalf("import summary: %q", got)
		}
		screenshot(t, ctx, dir, "05-import-rows")
		run(t, ctx, "starting",
			submit("#start"),
			chromedp.WaitVisible(chromedp.CSS("#pause")),
		)
		if got := textOf(t, ctx, "#status"); got != "running" {
			t.Fatalf("status after start: %q", got)
		}
		screenshot(t, ctx, dir, "06-campaign-running")
	})

	t.Run("PausedCampaignExplainsItself", func(t *testing.T) {
		run(t, ctx, "pausing",
			submit("#pause"),
			chromedp.WaitVisible(chromedp.CSS("#pause-chip")),
			chromedp.WaitVisible(chromedp.CSS("#diagnosis")),
		)
		if got := textOf(t, ctx, "#pause-chip"); got != "Paused by a person" {
			t.Fatalf("chip: %q", got)
		}
		if got := textOf(t, ctx, "#pause-explanation"); !strings.Contains(got, "Resume it to continue") {
			t.Fatalf("explanation: %q", got)
		}
		if got := textOf(t, ctx, "#diagnosis"); !strings.HasPrefix(got, "Not sending: Campaign paused by a person") || !strings.Contains(strings.ToLower(got), "blocking") {
			t.Fatalf("diagnosis panel: %q", got)
		}
		screenshot(t, ctx, dir, "07-campaign-paused")
	})

	// docs/sending.md#pending-invitations, docs/sending.md#withdrawals.
	t.Run("PendingInvitationSettings", func(t *testing.T) {
		acc := demoAccounts(t, k)[0]
		save := `form[action="/accounts/` + acc.ID + `"] button[type="submit"]`
		run(t, ctx, "typing out-of-range settings",
			chromedp.Navigate(k.Base+"/accounts/"+acc.ID),
			chromedp.WaitVisible(chromedp.CSS("#withdraw_after_days")),
			chromedp.SetValue(chromedp.CSS("#cap_invite_pending"), "701"),
			chromedp.SetValue(chromedp.CSS("#cap_withdraw_daily"), "101"),
			chromedp.SetValue(chromedp.CSS("#withdraw_after_days"), "5"),
			submit(save),
			chromedp.WaitVisible(chromedp.CSS("#withdraw_after_days-err")),
		)
		for sel, want := range map[string]string{"#cap_invite_pending-err": "hard ceiling of 700",
			"#cap_withdraw_daily-err": "hard ceiling of 100", "#withdraw_after_days-err": "0 (never) or 7–180 days"} {
			if got := textOf(t, ctx, sel); !strings.Contains(got, want) {
				t.Errorf("%s: %q, want it to say %q", sel, got, want)
			}
		}
		screenshot(t, ctx, dir, "08-pending-settings-errors")
		run(t, ctx, "saving settings in range",
			chromedp.SetValue(chromedp.CSS("#cap_invite_pending"), "500"),
			chromedp.SetValue(chromedp.CSS("#cap_withdraw_daily"), "40"),
			chromedp.SetValue(chromedp.CSS("#withdraw_after_days"), "0"),
			submit(save),
			chromedp.WaitVisible(chromedp.CSS(".flash")),
		)
		got, err := k.App.Accounts.Get(context.Background(), k.App.DB.SQL, "", acc.ID)
		if err != nil || got.Caps.InvitePending != 500 || got.Caps.WithdrawDaily != 40 || got.WithdrawAfterDays != 0 {
			t.Fatalf("saved: %v %+v, withdraw after %d", err, got.Caps, got.WithdrawAfterDays)
		}
	})
}
