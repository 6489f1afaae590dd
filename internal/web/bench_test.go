package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/workspace"
)

// BenchmarkAccountsPage10k renders /accounts (the first page and a page
// deep in the keyset) for a workspace of 10,000 accounts, straight through
// the UI handler, so the figure is server time only.
func BenchmarkAccountsPage10k(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			k := startKeel(b, e)
			ctx := context.Background()
			ws, err := workspace.Create(ctx, k.App.DB.SQL, "bench", "Bench", k.App.Clock.Now())
			if err != nil {
				b.Fatal(err)
			}
			var ids []string
			err = k.App.DB.InTx(ctx, func(tx *sql.Tx) error {
				for i := 0; i < 10000; i++ {
					a, err := k.App.Accounts.Create(ctx, tx, account.NewAccount{WorkspaceID: ws.ID,
						ProviderAccountID: fmt.Sprintf("bench-%05d", i), Name: fmt.Sprintf("Bench %05d", i), Status: account.StatusConnected})
					if err != nil {
						return err
					}
					ids = append(ids, a.ID)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := user.Create(ctx, k.App.DB.SQL, ws.ID, testEmail, testPassword, k.App.Clock.Now()); err != nil {
				b.Fatal(err)
			}
			h := k.Web.Handler()
			cookie := benchSignIn(b, h)
			paths := []string{"/accounts", "/accounts?after=" + ids[5000]}
			b.ResetTimer()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				req := httptest.NewRequest("GET", paths[i%len(paths)], nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `class="pill ok"`) != web.PageSize {
					b.Fatalf("render: %d", rec.Code)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/render")
		})
	}
}

func benchSignIn(b *testing.B, h http.Handler) *http.Cookie {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	anon := rec.Result().Cookies()[0]
	m := csrfPattern.FindStringSubmatch(rec.Body.String())
	form := url.Values{"csrf_token": {m[1]}, "workspace": {"bench"}, "email": {testEmail}, "password": {testPassword}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(anon)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		b.Fatalf("sign-in: %d %s", rec.Code, rec.Body.String())
	}
	return rec.Result().Cookies()[0]
}
