package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

// rowIDs lists the account rows of an overview page, in order.
func rowIDs(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr id="acc-([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAccountsOverviewFilters: the attention summary counts over every
// account and each item filters; status, tag, name and sort are GET
// parameters; tags are set and removed by CSRF-checked POSTs, and a bad tag
// is refused at its field (docs/surfaces.md#accounts-overview,
// docs/accounts.md#tags).
func TestAccountsOverviewFilters(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		tok := signIn(t, k, c)
		// The demo has one account needing a reconnect and two connected
		// ones: flip one of those to need a reconnect too, put the other in
		// a cooldown, tag the broken one.
		var broken, flipped, cooling account.Account
		for _, a := range demoAccounts(t, k) {
			switch {
			case a.ReconnectNeeded():
				broken = a
			case flipped.ID == "":
				flipped = a
			default:
				cooling = a
			}
		}
		if broken.ID == "" || cooling.ID == "" {
			t.Fatal("the demo accounts changed: want one needing a reconnect and two connected")
		}
		cp := account.TerminalCredentials()
		if _, err := k.App.Accounts.Flip(ctx, account.FlipRequest{AccountID: flipped.ID, To: account.StatusDisconnected, Copy: &cp,
			Reason: "test", Source: account.SourceWebhook}); err != nil {
			t.Fatal(err)
		}
		now := k.App.Clock.Now()
		if err := send.SetBlock(ctx, k.App.DB.SQL, send.Block{AccountID: cooling.ID, Action: policy.ActionInvite,
			Kind: policy.BlockCooldown, Until: now.Add(5 * time.Hour), Reason: "test"}, now); err != nil {
			t.Fatal(err)
		}
		accs := []account.Account{flipped, cooling, broken}
		reconnect := []string{broken.ID, flipped.ID}
		if strings.ToLower(flipped.Name) < strings.ToLower(broken.Name) {
			reconnect = []string{flipped.ID, broken.ID}
		}

		// Tags: no CSRF token, nothing changes; a bad tag is a 422 at its
		// field; a good one is normalized and lands.
		resp, _ := post(t, c, k.Base+"/accounts/"+accs[2].ID+"/tags", url.Values{"tag": {"client-a"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("tag without CSRF: %d", resp.StatusCode)
		}
		resp, body := post(t, c, k.Base+"/accounts/"+accs[2].ID+"/tags", url.Values{"csrf_token": {tok}, "tag": {"no/slashes!"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="tag-err"`) {
			t.Fatalf("bad tag: %d\n%s", resp.StatusCode, body)
		}
		if tags, _ := account.TagsOf(ctx, k.App.DB.SQL, accs[2].ID); len(tags) != 0 {
			t.Fatalf("tags after refused posts: %v", tags)
		}
		resp, _ = post(t, c, k.Base+"/accounts/"+accs[2].ID+"/tags", url.Values{"csrf_token": {tok}, "tag": {" Client A "}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("tag: %d", resp.StatusCode)
		}
		if tags, _ := account.TagsOf(ctx, k.App.DB.SQL, accs[2].ID); len(tags) != 1 || tags[0] != "client-a" {
			t.Fatalf("tags: %v", tags)
		}

		code, body, _ := get(t, c, k.Base+"/accounts")
		if code != http.StatusOK {
			t.Fatalf("overview: %d", code)
		}
		for _, want := range []string{`id="att-needs_reconnect" href="/accounts?status=needs_reconnect">2 need reconnect</a>`,
			`id="att-cooling_down" href="/accounts?status=cooling_down">1 cooling down</a>`, `<option value="client-a">client-a</option>`,
			"Invitations today", " — ramp week 1 limits it to "} {
			if !strings.Contains(body, want) {
				t.Errorf("overview lacks %s", want)
			}
		}
		for q, want := range map[string][]string{
			"status=needs_reconnect": reconnect,
			"status=cooling_down":    {accs[1].ID},
			"tag=client-a":           {accs[2].ID},
			"q=" + url.QueryEscape(strings.ToUpper(accs[1].Name)): {accs[1].ID},
			"tag=nobody": nil,
		} {
			_, body, _ := get(t, c, k.Base+"/accounts?"+q)
			if got := rowIDs(body); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: rows %v, want %v", q, got, want)
			}
		}
		_, body, _ = get(t, c, k.Base+"/accounts?sort=status")
		if got := rowIDs(body); strings.Join(got, ",") != strings.Join(append(reconnect, cooling.ID), ",") {
			t.Errorf("sort=status: %v, want %v then %s", got, reconnect, cooling.ID)
		}

		resp, _ = post(t, c, k.Base+"/accounts/"+accs[2].ID+"/tags/remove", url.Values{"csrf_token": {tok}, "tag": {"client-a"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("untag: %d", resp.StatusCode)
		}
		if tags, _ := account.TagsOf(ctx, k.App.DB.SQL, accs[2].ID); len(tags) != 0 {
			t.Fatalf("tags after removal: %v", tags)
		}
	})
}

// TestAccountPageExplains: the account page shows the ramp schedule with
// the current week, what a strike is, and where tags are set.
func TestAccountPageExplains(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		code, body, _ := get(t, c, k.Base+"/accounts/"+acc.ID)
		if code != http.StatusOK {
			t.Fatalf("account page: %d", code)
		}
		for _, want := range []string{`<h2 id="ramp">Ramp schedule</h2>`, `class="current" aria-current="true"`,
			`the <strong>third strike disconnects it</strong>`, `<h2 id="campaigns">Campaigns using this account</h2>`,
			`<label for="tag">Add a tag</label>`, `<select id="timezone" name="timezone"`} {
			if !strings.Contains(body, want) {
				t.Errorf("account page lacks %s", want)
			}
		}
	})
}

// TestAccountSettingsAllErrorsAtOnce: six bad fields, non-numbers among
// range errors, are all named in one answer with the summary on top, and
// nothing is saved (docs/surfaces.md#forms).
func TestAccountSettingsAllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		resp, body := post(t, c, k.Base+"/accounts/"+acc.ID, mergeSettings(acc, url.Values{"csrf_token": {tok},
			"cap_invite_daily": {"lots"}, "cap_invite_weekly": {"99999"}, "cap_message_daily": {"-1"},
			"pacing_min_gap_seconds": {"soon"}, "start": {"25:00"}, "withdraw_after_days": {"5000"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("six bad fields: %d\n%s", resp.StatusCode, body)
		}
		if !strings.Contains(body, "6 problems to fix before saving") {
			t.Errorf("no summary of six problems:\n%s", body)
		}
		for _, id := range []string{"cap_invite_daily", "cap_invite_weekly", "cap_message_daily", "pacing_min_gap_seconds", "start", "withdraw_after_days"} {
			if !strings.Contains(body, `<a href="#`+id+`">`) || !strings.Contains(body, `id="`+id+`-err"`) {
				t.Errorf("%s: not in the summary or without its error", id)
			}
		}
		got, err := k.App.Accounts.Get(context.Background(), k.App.DB.SQL, "", acc.ID)
		if err != nil || got.Caps != acc.Caps || got.WithdrawAfterDays != acc.WithdrawAfterDays {
			t.Fatalf("something was saved: %v %+v", err, got.Caps)
		}
	})
}

// TestErrorPages: unknown paths and wrong methods answer Keel pages with
// the navigation; a JSON-only client gets problem+json
// (docs/surfaces.md#error-pages).
func TestErrorPages(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		anon := newClient(t)
		code, body, _ := get(t, anon, k.Base+"/no/such/page")
		if code != http.StatusNotFound || !strings.Contains(body, "<h1>Page not found</h1>") || !strings.Contains(body, `href="/login"`) {
			t.Fatalf("anonymous 404: %d\n%s", code, body)
		}
		c := newClient(t)
		signIn(t, k, c)
		code, body, _ = get(t, c, k.Base+"/no/such/page")
		if code != http.StatusNotFound || !strings.Contains(body, `<nav aria-label="Main">`) {
			t.Fatalf("signed-in 404: %d\n%s", code, body)
		}
		code, body, _ = get(t, c, k.Base+"/accounts/acc_missing")
		if code != http.StatusNotFound || !strings.Contains(body, `<nav aria-label="Main">`) {
			t.Fatalf("missing account: %d\n%s", code, body)
		}
		req, _ := http.NewRequest(http.MethodPut, k.Base+"/accounts", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(b), "<h1>Not possible here</h1>") ||
			!strings.Contains(string(b), `<nav aria-label="Main">`) {
			t.Fatalf("405: %d\n%s", resp.StatusCode, b)
		}
		req, _ = http.NewRequest(http.MethodGet, k.Base+"/no/such/page", nil)
		req.Header.Set("Accept", "application/json")
		resp, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("JSON 404: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}
