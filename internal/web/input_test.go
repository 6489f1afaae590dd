package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
)

// stepsJSON encodes steps as the editor's textarea holds them.
func stepsJSON(t *testing.T, steps []campaign.Step) string {
	t.Helper()
	b, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFormsRefuseControlCharactersInline(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		steps := []campaign.Step{{ID: "s1", Type: campaign.StepInvite, Note: "Hi {{first_name}}"},
			{ID: "s2", Type: campaign.StepMessage, Text: "Thanks,\t{{first_name}}!\r\nBye\n"}}
		form := func(name string, steps []campaign.Step) url.Values {
			return url.Values{"csrf_token": {tok}, "name": {name}, "account_ids": {acc.ID}, "steps": {stepsJSON(t, steps)},
				"late_accept_policy": {"follow_up"}, "cap_invite": {"20"}, "cap_message": {"20"}, "cap_inmail": {"5"},
				"cap_view_profile": {"20"}}
		}
		count := func() int {
			list, err := k.App.Campaigns.List(ctx, k.App.DB.SQL, campaign.ListOptions{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}

		// Tab and line breaks in a message text are kept.
		resp, body := post(t, c, k.Base+"/campaigns/new", form("Q1 founders", steps))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		id := strings.TrimPrefix(resp.Header.Get("Location"), "/campaigns/")
		stored, err := k.App.Campaigns.Get(ctx, k.App.DB.SQL, "", id)
		if err != nil || stored.Steps[1].Text != steps[1].Text {
			t.Fatalf("stored %v %+v", err, stored.Steps)
		}

		badNote := append([]campaign.Step(nil), steps...)
		badNote[0].Note = "Hi\x00 {{first_name}}"
		badText := append([]campaign.Step(nil), steps...)
		badText[1].Text = "ring \a"
		for _, c2 := range []struct {
			name   string
			values url.Values
			want   string // the inline error
		}{
			{"NULInName", form("Q1\x00founders", steps), `<div id="name-err"><p class="field-error">contains a NUL byte`},
			{"BellInName", form("Q1\afounders", steps), `<div id="name-err"><p class="field-error">contains the control character U&#43;0007`},
			{"NULInNote", form("Q1", badNote), `<p class="field-error">steps[0].note: contains a NUL byte`},
			{"BellInText", form("Q1", badText), `<p class="field-error">steps[1].text: contains the control character U&#43;0007`},
		} {
			before := count()
			resp, body := post(t, c, k.Base+"/campaigns/new", c2.values)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c2.want) {
				t.Errorf("create %s: %d, want 422 with %s in\n%s", c2.name, resp.StatusCode, c2.want, body)
			}
			if n := count(); n != before {
				t.Errorf("create %s stored a campaign", c2.name)
			}
			resp, body = post(t, c, k.Base+"/campaigns/"+id+"/edit", c2.values)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c2.want) {
				t.Errorf("edit %s: %d, want 422 with %s in\n%s", c2.name, resp.StatusCode, c2.want, body)
			}
			if now, err := k.App.Campaigns.Get(ctx, k.App.DB.SQL, "", id); err != nil || now.Name != stored.Name ||
				now.Steps[0].Note != stored.Steps[0].Note || now.Steps[1].Text != stored.Steps[1].Text {
				t.Errorf("edit %s changed the campaign: %v %+v", c2.name, err, now)
			}
		}

		// Account settings: the time zone's inline error.
		resp, body = post(t, c, k.Base+"/accounts/"+acc.ID, mergeSettings(acc, url.Values{"csrf_token": {tok},
			"timezone": {"Europe/Paris\x00"}}))
		if resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(body, `<p class="field-error" id="timezone-err">contains a NUL byte`) {
			t.Errorf("settings: %d\n%s", resp.StatusCode, body)
		}
		if got, err := k.App.Accounts.Get(ctx, k.App.DB.SQL, "", acc.ID); err != nil || got.Timezone != acc.Timezone {
			t.Errorf("settings changed: %v %q", err, got.Timezone)
		}

		// CSV upload: the bad row is invalid naming its column; the good one imports.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf_token", tok)
		fw, _ := mw.CreateFormFile("csv", "p.csv")
		_, _ = io.WriteString(fw, "linkedin_url,first_name\nhttps://www.linkedin.com/in/ok-person,Ok\nhttps://www.linkedin.com/in/bad-person,B\x00d\n")
		_ = mw.Close()
		req, _ := http.NewRequest("POST", k.Base+"/campaigns/"+id+"/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		iresp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		iresp.Body.Close()
		// POST-redirect-GET: the result is on the campaign page.
		if iresp.StatusCode != http.StatusSeeOther || iresp.Header.Get("Location") != "/campaigns/"+id+"#import-result" {
			t.Errorf("import: %d %q", iresp.StatusCode, iresp.Header.Get("Location"))
		}
		icode, ib, _ := get(t, c, k.Base+"/campaigns/"+id)
		if icode != http.StatusOK || !strings.Contains(ib, "1 imported, 1 skipped") ||
			!strings.Contains(ib, "first_name contains a NUL byte") {
			t.Errorf("import: %d\n%s", icode, ib)
		}

		// Sign-in with a NUL is a wrong sign-in, not an error.
		lc := newClient(t)
		_, _, ltok := get(t, lc, k.Base+"/login")
		for _, f := range []url.Values{
			{"workspace": {"demo\x00"}, "email": {testEmail}},
			{"workspace": {"demo"}, "email": {testEmail + "\x00"}},
		} {
			f.Set("csrf_token", ltok)
			f.Set("password", testPassword)
			if resp, body := post(t, lc, k.Base+"/login", f); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("sign-in %v: %d %s", f, resp.StatusCode, body)
			}
		}

		// Paths and queries.
		for _, p := range []string{"/campaigns/%00", "/campaigns/" + id + "%00/edit", "/accounts/%07"} {
			if code, _, _ := get(t, c, k.Base+p); code != http.StatusNotFound {
				t.Errorf("GET %s: %d", p, code)
			}
		}
		if resp, _ := post(t, c, k.Base+"/alerts/x%00/ack", url.Values{"csrf_token": {tok}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("ack with a NUL id: %d", resp.StatusCode)
		}
		if resp, _ := post(t, c, k.Base+"/campaigns/"+id+"%00/edit", form("x", steps)); resp.StatusCode != http.StatusNotFound {
			t.Errorf("edit with a NUL id: %d", resp.StatusCode)
		}
		for _, p := range []string{"/campaigns?after=%00", "/accounts?after=x%00"} {
			if code, _, _ := get(t, c, k.Base+p); code != http.StatusBadRequest {
				t.Errorf("GET %s: %d", p, code)
			}
		}
	})
}

func TestStaticServesNoListings(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		for p, want := range map[string]int{"/static/": 404, "/static": 404, "/static/style.css": 200, "/static/./": 404} {
			resp, err := c.Get(k.Base + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code := resp.StatusCode
			if code >= 300 && code < 400 {
				// A redirect to the directory is fine as long as the
				// directory itself lists nothing.
				code = 404
				if loc := resp.Header.Get("Location"); loc != "" {
					r2, err := c.Get(k.Base + loc)
					if err != nil {
						t.Fatal(err)
					}
					b, _ = io.ReadAll(r2.Body)
					r2.Body.Close()
					code = r2.StatusCode
				}
			}
			if code != want || strings.Contains(string(b), "style.css</a>") {
				t.Errorf("GET %s: %d, want %d\n%s", p, code, want, b)
			}
		}
	})
}

func TestCSPHasNoWildcards(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		c := newClient(t)
		tok := signIn(t, k, c)
		accs := demoAccounts(t, k)
		check := func(what string, h http.Header) {
			t.Helper()
			csp := h.Get("Content-Security-Policy")
			if csp == "" || strings.Contains(csp, "*") || !strings.Contains(csp, "form-action 'self';") {
				t.Errorf("%s: CSP %q", what, csp)
			}
		}
		for _, p := range []string{"/login", "/accounts", "/accounts/" + accs[0].ID, "/campaigns", "/campaigns/new",
			"/alerts", "/static/style.css", "/static/", "/no-such-page", "/campaigns/%00"} {
			resp, err := c.Get(k.Base + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			check("GET "+p, resp.Header)
		}
		// A refused form and a redirecting one carry it too.
		resp, _ := post(t, c, k.Base+"/accounts/"+accs[0].ID, mergeSettings(accs[0], url.Values{"csrf_token": {tok}, "timezone": {"Mars/Olympus"}}))
		check("422 settings", resp.Header)
		resp, _ = post(t, c, k.Base+"/accounts/connect", url.Values{"csrf_token": {tok}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("connect: %d", resp.StatusCode)
		}
		check("connect redirect", resp.Header)
	})
}

func TestAccountPageShowsTheTierCheck(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		c := newClient(t)
		tok := signIn(t, k, c)
		acc := demoAccounts(t, k)[0]
		if err := account.RecordProviderFeatures(ctx, k.App.DB.SQL, acc.ID, []string{}, k.App.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		target := account.TierRecruiter
		if acc.Tier == target {
			target = account.TierSalesNavigator
		}
		resp, body := post(t, c, k.Base+"/accounts/"+acc.ID, mergeSettings(acc, url.Values{"csrf_token": {tok}, "tier": {string(target)}}))
		if resp.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(body, `<p class="field-error" id="tier-err">the provider reports this account as free`) ||
			!strings.Contains(body, "Unipile reports a free account.") {
			t.Fatalf("tier above the report: %d\n%s", resp.StatusCode, body)
		}
		resp, _ = post(t, c, k.Base+"/accounts/"+acc.ID, mergeSettings(acc, url.Values{"csrf_token": {tok}, "tier": {"free"},
			"cap_inmail_daily": {"0"}, "cap_invite_daily": {"20"}, "cap_invite_weekly": {"100"}}))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("down to free: %d", resp.StatusCode)
		}
		got, err := k.App.Accounts.Get(ctx, k.App.DB.SQL, "", acc.ID)
		if acc.Tier != account.TierFree && (err != nil || got.TierChangedBy != "user:"+testEmail) {
			t.Fatalf("tier change not attributed: %v %+v", err, got)
		}
	})
}
