package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
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
