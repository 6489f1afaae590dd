package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/web"
)

func forEngines(t *testing.T, fn func(t *testing.T, k *keel)) {
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, startKeel(t, e))
		})
	}
}

func demoAccounts(t *testing.T, k *keel) []account.Account {
	t.Helper()
	accs, err := k.App.Accounts.List(context.Background(), k.App.DB.SQL, account.ListOptions{})
	if err != nil || len(accs) != 3 {
		t.Fatalf("demo accounts: %v %d", err, len(accs))
	}
	return accs
}

func TestPostWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		ctx := context.Background()
		for name, form := range map[string]url.Values{
			"missing": {"timezone": {"Europe/Paris"}},
			"wrong":   {"timezone": {"Europe/Paris"}, "csrf_token": {tok + "x"}},
		} {
			form = mergeSettings(acc, form)
			resp, _ := post(t, c, k.Base+"/accounts/"+acc.ID, form)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s token: status %d, want 403", name, resp.StatusCode)
			}
			got, err := k.App.Accounts.Get(ctx, k.App.DB.SQL, "", acc.ID)
			if err != nil || got.Timezone != acc.Timezone {
				t.Fatalf("%s token changed the account: %v %q", name, err, got.Timezone)
			}
			resp, _ = post(t, c, k.Base+"/campaigns/new", url.Values{"name": {"x"}, "steps": {"[]"}, "csrf_token": form["csrf_token"]})
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s token on campaign create: status %d", name, resp.StatusCode)
			}
			cs, err := k.App.Campaigns.List(ctx, k.App.DB.SQL, campaign.ListOptions{})
			if err != nil || len(cs) != 0 {
				t.Fatalf("a refused form created a campaign: %v %d", err, len(cs))
			}
		}
		// The sign-in form is protected too.
		fresh := newClient(t)
		resp, _ := post(t, fresh, k.Base+"/login", url.Values{"workspace": {"demo"}, "email": {testEmail}, "password": {testPassword}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("sign-in without a token: %d", resp.StatusCode)
		}
		// With the token the same change goes through.
		resp, _ = post(t, c, k.Base+"/accounts/"+acc.ID, mergeSettings(acc, url.Values{"timezone": {"Europe/Paris"}, "csrf_token": {tok}}))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("valid form: %d", resp.StatusCode)
		}
		if got, _ := k.App.Accounts.Get(ctx, k.App.DB.SQL, "", acc.ID); got.Timezone != "Europe/Paris" {
			t.Fatalf("valid form did not save: %q", got.Timezone)
		}
	})
}

// mergeSettings fills a settings form with the account's current values.
func mergeSettings(a account.Account, over url.Values) url.Values {
	f := url.Values{"tier": {string(a.Tier)}, "timezone": {a.Timezone}, "days": a.Window.Days, "start": {a.Window.Start},
		"end": {a.Window.End}, "cap_invite_daily": {itoa(a.Caps.InviteDaily)}, "cap_invite_weekly": {itoa(a.Caps.InviteWeekly)},
		"cap_message_daily": {itoa(a.Caps.MessageDaily)}, "cap_inmail_daily": {itoa(a.Caps.InMailDaily)},
		"cap_view_profile_daily": {itoa(a.Caps.ViewProfileDaily)},
		"pacing_min_gap_seconds": {itoa(a.Pacing.MinGapSeconds)}, "pacing_max_gap_seconds": {itoa(a.Pacing.MaxGapSeconds)},
		"cap_invite_pending": {itoa(a.Caps.InvitePending)}, "cap_withdraw_daily": {itoa(a.Caps.WithdrawDaily)},
		"withdraw_after_days": {itoa(a.WithdrawAfterDays)}}
	if a.Pacing.SpreadOverWindow {
		f["pacing_spread"] = []string{"on"}
	}
	for k, v := range over {
		f[k] = v
	}
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestWrongPasswordsAreRateLimited(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		_, _, tok := get(t, c, k.Base+"/login")
		try := func(email, password string) (int, string) {
			resp, body := post(t, c, k.Base+"/login", url.Values{"csrf_token": {tok}, "workspace": {"demo"},
				"email": {email}, "password": {password}})
			return resp.StatusCode, body
		}
		for i := 0; i < web.LoginFailures; i++ {
			if code, _ := try(testEmail, "wrong password "+strconv.Itoa(i)); code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d, want 401", i+1, code)
			}
		}
		code, body := try(testEmail, testPassword)
		if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins for this email; try again at ") {
			t.Fatalf("after %d failures: %d, want 429 with a message", web.LoginFailures, code)
		}
		// Another email from the same address is not held back.
		if code, _ := try("someone@example.com", "whatever-password"); code != http.StatusUnauthorized {
			t.Fatalf("another email: %d, want 401", code)
		}
		if strings.Contains(k.Logs.String(), testPassword) || strings.Contains(k.Logs.String(), "wrong password") {
			t.Fatal("passwords reached the log")
		}
	})
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	k := startKeel(t, db.SQLite)
	for _, secure := range []bool{false, true} {
		ui, err := web.New(web.Options{DB: k.App.DB, Accounts: k.App.Accounts, Campaigns: k.App.Campaigns,
			Connect: k.App.Connect, Clock: k.App.Clock, SecureCookies: secure})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		ui.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("cookies: %v", cookies)
		}
		ck := cookies[0]
		if ck.Name != web.CookieName || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure || ck.Path != "/" {
			t.Fatalf("cookie flags (secure=%v): %+v", secure, ck)
		}
		if len(ck.Value) < 43 {
			t.Fatalf("session id too short: %d characters", len(ck.Value))
		}
	}
	// Signing in replaces the pre-sign-in session id.
	c := newClient(t)
	get(t, c, k.Base+"/login")
	u, _ := url.Parse(k.Base)
	before := c.Jar.Cookies(u)[0].Value
	signIn(t, k, c)
	if after := c.Jar.Cookies(u)[0].Value; after == before {
		t.Fatal("the session id was not rotated at sign-in")
	}
	if strings.Contains(k.Logs.String(), before) {
		t.Fatal("a session id reached the log")
	}
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		tok := signIn(t, k, c)
		accs := demoAccounts(t, k)
		for _, p := range []string{"/accounts", "/accounts/" + accs[0].ID, "/campaigns", "/campaigns/new", "/alerts"} {
			code, body, _ := get(t, c, k.Base+p)
			if code != 200 || !strings.Contains(body, "Sandbox mode: no real LinkedIn traffic") {
				t.Fatalf("%s: %d, sandbox banner missing or error:\n%s", p, code, body)
			}
		}
		_, body, _ := get(t, c, k.Base+"/accounts")
		if n := strings.Count(body, `class="pill ok"`); n != 2 {
			t.Fatalf("green pills: %d", n)
		}
		if n := strings.Count(body, "Reconnect needed"); n != 1 {
			t.Fatalf("reconnect-needed pills: %d", n)
		}
		// Inline validation of account settings.
		resp, body := post(t, c, k.Base+"/accounts/"+accs[0].ID, mergeSettings(accs[0], url.Values{"csrf_token": {tok},
			"timezone": {"Mars/Olympus"}, "cap_invite_daily": {"500"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "is not an IANA timezone") ||
			!regexp.MustCompile(`hard ceiling of \d+`).MatchString(body) {
			t.Fatalf("settings validation: %d\n%s", resp.StatusCode, body)
		}
		// Pacing: each bad field shown at the field, nothing saved; a good
		// form saves all three (an unchecked box turns spreading off).
		resp, body = post(t, c, k.Base+"/accounts/"+accs[0].ID, mergeSettings(accs[0], url.Values{"csrf_token": {tok},
			"pacing_min_gap_seconds": {"ninety"}, "pacing_max_gap_seconds": {"4000"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="pacing_min_gap_seconds-err">enter a whole number of seconds`) {
			t.Fatalf("pacing validation (number): %d\n%s", resp.StatusCode, body)
		}
		resp, body = post(t, c, k.Base+"/accounts/"+accs[0].ID, mergeSettings(accs[0], url.Values{"csrf_token": {tok},
			"pacing_min_gap_seconds": {"300"}, "pacing_max_gap_seconds": {"4000"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="pacing_max_gap_seconds-err">4000 s is above the longest gap`) ||
			!strings.Contains(body, `value="4000"`) {
			t.Fatalf("pacing validation (range): %d\n%s", resp.StatusCode, body)
		}
		if got, _ := k.App.Accounts.Get(context.Background(), k.App.DB.SQL, "", accs[0].ID); got.Pacing != accs[0].Pacing {
			t.Fatalf("a refused form changed pacing: %+v", got.Pacing)
		}
		form := mergeSettings(accs[0], url.Values{"csrf_token": {tok}, "pacing_min_gap_seconds": {"300"}, "pacing_max_gap_seconds": {"600"}})
		delete(form, "pacing_spread")
		if resp, body = post(t, c, k.Base+"/accounts/"+accs[0].ID, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("pacing form: %d\n%s", resp.StatusCode, body)
		}
		if got, _ := k.App.Accounts.Get(context.Background(), k.App.DB.SQL, "", accs[0].ID); got.Pacing != (account.Pacing{MinGapSeconds: 300, MaxGapSeconds: 600}) {
			t.Fatalf("pacing saved as %+v", got.Pacing)
		}
		// Signed-out visitors go to the sign-in page.
		code, _, _ := get(t, newClient(t), k.Base+"/campaigns")
		if code != http.StatusSeeOther {
			t.Fatalf("signed-out: %d", code)
		}
		// The app's own paths are not the UI's.
		rec := httptest.NewRecorder()
		k.Web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/accounts", nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("UI answered an API path: %d", rec.Code)
		}
	})
}
