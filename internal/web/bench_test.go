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
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/workspace"
)

// BenchmarkAccountsPage10k renders the accounts overview for a workspace
// of 10,000 accounts (300 needing a reconnect, 200 cooling down, 2,000
// tagged, 2,000 with sends today), straight through the UI handler, so the
// figure is server time only: every render reads all 10,000 for the
// attention summary, filters and sorts them, and builds one page of 50
// rows (docs/surfaces.md#accounts-overview).
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
			now := k.App.Clock.Now()
			cp := account.TerminalCredentials()
			for _, id := range ids[:300] {
				if _, err := k.App.Accounts.Flip(ctx, account.FlipRequest{AccountID: id, To: account.StatusDisconnected, Copy: &cp,
					Reason: "bench", Source: account.SourceWebhook}); err != nil {
					b.Fatal(err)
				}
			}
			for _, id := range ids[300:500] {
				if err := send.SetBlock(ctx, k.App.DB.SQL, send.Block{AccountID: id, Action: policy.ActionInvite,
					Kind: policy.BlockCooldown, Until: now.Add(5 * time.Hour), Reason: "bench"}, now); err != nil {
					b.Fatal(err)
				}
			}
			for i, id := range ids[:2000] {
				if err := k.App.Accounts.AddTag(ctx, ws.ID, id, fmt.Sprintf("client-%d", i%20), "bench"); err != nil {
					b.Fatal(err)
				}
			}
			benchLedgerToday(b, k, ws.ID, ids[500:2500])
			// Statistics as a database in use has them (autovacuum's
			// analyze): a bulk load in one go leaves the planner guessing.
			if _, err := k.App.DB.SQL.ExecContext(ctx, `ANALYZE`); err != nil {
				b.Fatal(err)
			}
			if _, err := user.Create(ctx, k.App.DB.SQL, ws.ID, testEmail, testPassword, k.App.Clock.Now()); err != nil {
				b.Fatal(err)
			}
			h := k.Web.Handler()
			cookie := benchSignIn(b, h)
			b.ResetTimer()
			for _, bc := range []struct {
				name  string
				paths []string
			}{
				{"pages", []string{"/accounts", "/accounts?page=100", "/accounts?sort=status", "/accounts?status=needs_reconnect&page=2",
					"/accounts?status=cooling_down", "/accounts?tag=client-3&q=bench"}},
				{"usage-sort", []string{"/accounts?sort=usage", "/accounts?sort=usage&page=50"}},
			} {
				b.Run(bc.name, func(b *testing.B) {
					start := time.Now()
					for i := 0; b.Loop(); i++ {
						path := bc.paths[i%len(bc.paths)]
						req := httptest.NewRequest("GET", path, nil)
						req.AddCookie(cookie)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<tr id="acc-`) != web.PageSize ||
							!strings.Contains(rec.Body.String(), "300 need reconnect") {
							b.Fatalf("render %s: %d", path, rec.Code)
						}
					}
					b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/render")
				})
			}
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

// benchLedgerToday gives each of accs sends today, so the usage sort has
// something to order: one invitation each, and a message for every third
// (3,000 ledger rows of one campaign, claimed from the start of the UTC
// day).
func benchLedgerToday(b *testing.B, k *keel, wsID string, accs []string) {
	b.Helper()
	ctx := context.Background()
	name := "bench ledger"
	cp, err := k.App.Campaigns.Create(ctx, wsID, campaign.Input{Name: &name, AccountIDs: accs[:1], Steps: []campaign.Step{
		{ID: "i", Type: campaign.StepInvite}, {ID: "m", Type: campaign.StepMessage, Text: "hi"}}})
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]campaign.ProspectRow, len(accs))
	for i := range rows {
		rows[i] = campaign.ProspectRow{Row: i + 1, LinkedInURL: fmt.Sprintf("https://www.linkedin.com/in/bench-ledger-%d", i)}
	}
	if _, err := k.App.Campaigns.Import(ctx, cp.ID, wsID, rows); err != nil {
		b.Fatal(err)
	}
	ens, err := k.App.Campaigns.ListEnrollments(ctx, k.App.DB.SQL, wsID, cp.ID, campaign.EnrollmentListOptions{})
	if err != nil || len(ens) != len(accs) {
		b.Fatalf("enrollments: %d %v", len(ens), err)
	}
	day := policy.UTCDayStart(k.App.Clock.Now())
	err = k.App.DB.InTx(ctx, func(tx *sql.Tx) error {
		n := 0
		for i, en := range ens {
			for _, st := range []struct{ step, action string }{{"i", "invite"}, {"m", "message"}} {
				if st.step == "m" && i%3 != 0 {
					continue
				}
				n++
				if _, err := tx.ExecContext(ctx, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id,
					step_id, action, state, claimed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'intent', $9)`,
					fmt.Sprintf("snd_bench_%d", n), wsID, accs[i], cp.ID, en.ID, en.ProspectID, st.step, st.action,
					day.Add(time.Duration(n)*time.Millisecond)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
