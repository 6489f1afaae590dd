package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/web"
)

func TestFormActionNamesExactOrigins(t *testing.T) {
	t.Parallel()
	k := startKeel(t, db.SQLite)
	opts := func(origins ...string) web.Options {
		return web.Options{DB: k.App.DB, Accounts: k.App.Accounts, Campaigns: k.App.Campaigns, Connect: k.App.Connect,
			FormActionOrigins: origins}
	}
	ui, err := web.New(opts("https://account.unipile.com"))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ui.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://account.unipile.com;") {
		t.Fatalf("CSP %q", csp)
	}
	for _, bad := range []string{"*", "https://*.unipile.com", "https://a.example/path", "https://a.example; script-src *", "ftp://x"} {
		if _, err := web.New(opts(bad)); err == nil {
			t.Errorf("origin %q accepted", bad)
		}
	}
}

// Connect leads to a hosted-auth link on another origin: a redirect when
// the CSP names that origin, otherwise a page with a plain link (a form's
// redirect to an origin form-action does not name would be blocked).
func TestConnectToAnUnlistedOriginShowsALink(t *testing.T) {
	t.Parallel()
	k := startKeel(t, db.SQLite)
	f := fake.New(fake.Options{APIKey: "fake-key-0123456789"})
	if err := f.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := connect.New(connect.Options{DB: k.App.DB, Accounts: k.App.Accounts, Client: client, PublicURL: k.Base})
	if err != nil {
		t.Fatal(err)
	}
	fu, _ := url.Parse(f.URL())
	origin := fu.Scheme + "://" + fu.Host
	for _, c := range []struct {
		origins []string
		want    int
	}{{nil, http.StatusOK}, {[]string{origin}, http.StatusSeeOther}} {
		ui, err := web.New(web.Options{DB: k.App.DB, Accounts: k.App.Accounts, Campaigns: k.App.Campaigns, Connect: conn,
			FormActionOrigins: c.origins})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(ui.Handler())
		cl := newClient(t)
		tok := signIn(t, &keel{App: k.App, Web: ui, Base: srv.URL}, cl)
		resp, body := post(t, cl, srv.URL+"/accounts/connect", url.Values{"csrf_token": {tok}})
		srv.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("origins %v: %d\n%s", c.origins, resp.StatusCode, body)
		}
		if c.want == http.StatusOK && !strings.Contains(body, `<a href="`+origin) {
			t.Fatalf("no link to the wizard:\n%s", body)
		}
		if c.want == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), origin) {
			t.Fatalf("redirect to %q", resp.Header.Get("Location"))
		}
	}
}
