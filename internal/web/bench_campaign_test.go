package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/workspace"
)

// seedBigCampaign makes a running two-sender campaign (invite, if
// accepted within 14 days a message) of n prospects in one statement per
// table: 60% waiting at the invitation (due in 30 days, so the sandbox
// scheduler leaves them), 10% invited and accepted waiting at the
// condition, 10% completed, 10% replied, 10% ended not accepted; 40%
// have a confirmed invitation, 20% a confirmed message.
func seedBigCampaign(tb testing.TB, k *keel, wsID, tag string, n int) campaign.Campaign {
	tb.Helper()
	ctx := context.Background()
	q := k.App.DB.SQL
	now := k.App.Clock.Now()
	var senders []string
	for _, p := range []string{"bench-a" + tag, "bench-b" + tag} {
		a, err := k.App.Accounts.Create(ctx, q, account.NewAccount{WorkspaceID: wsID, ProviderAccountID: p, Name: p,
			Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Europe/Paris"})
		if err != nil {
			tb.Fatal(err)
		}
		senders = append(senders, a.ID)
	}
	name := "Bench campaign"
	cp, err := k.App.Campaigns.Create(ctx, wsID, campaign.Input{Name: &name, AccountIDs: senders, Steps: []campaign.Step{
		{ID: "inv", Type: campaign.StepInvite},
		{ID: "acc", Type: campaign.StepIfAccepted, Within: "336h", Then: "msg", Else: campaign.End},
		{ID: "msg", Type: campaign.StepMessage, Text: "Hello {{first_name}}"},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	// Timestamps go in as literals in the engine's stored text form, so
	// one statement seeds a table on either engine.
	lit := func(t time.Time) string { return "'" + t.UTC().Format("2006-01-02 15:04:05.999999999-07:00") + "'" }
	if k.App.DB.Engine == db.Postgres {
		lit = func(t time.Time) string { return "'" + t.UTC().Format(time.RFC3339) + "'::timestamptz" }
	}
	must := func(query string, args ...any) {
		tb.Helper()
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
	}
	series := `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1) `
	nowS, future, invited := lit(now), lit(now.Add(30*24*time.Hour)), lit(now.Add(-72*time.Hour))
	sender := `CASE WHEN n % 2 = 0 THEN '` + senders[0] + `' ELSE '` + senders[1] + `' END`
	must(series+`INSERT INTO prospects (id, workspace_id, linkedin_url, public_slug, first_name, last_name, created_at, updated_at)
		SELECT 'bp_' || '`+tag+`' || n, '`+wsID+`', 'https://www.linkedin.com/in/bench-' || '`+tag+`' || n, 'bench-' || '`+tag+`' || n, 'First' || n, 'Last', `+nowS+`, `+nowS+` FROM g`, n)
	must(series+`INSERT INTO enrollments (id, workspace_id, campaign_id, prospect_id, account_id, state, step_id, next_action_at,
		ended_reason, accepted_at, replied_at, created_at, updated_at)
		SELECT 'be_' || '`+tag+`' || n, '`+wsID+`', '`+cp.ID+`', 'bp_' || '`+tag+`' || n, `+sender+`,
		       CASE WHEN n % 10 < 7 THEN 'active' WHEN n % 10 = 7 THEN 'completed' WHEN n % 10 = 8 THEN 'replied' ELSE 'ended' END,
		       CASE WHEN n % 10 < 6 THEN 'inv' WHEN n % 10 = 6 THEN 'acc' ELSE 'msg' END,
		       CASE WHEN n % 10 < 7 THEN `+future+` END,
		       CASE WHEN n % 10 = 9 THEN 'not_accepted' END,
		       CASE WHEN n % 10 BETWEEN 6 AND 8 THEN `+invited+` END,
		       CASE WHEN n % 10 = 8 THEN `+nowS+` END, `+nowS+`, `+nowS+` FROM g`, n)
	// The ledger spreads over 300 days, as a campaign of this size grows:
	// prospect n's invitation (and message a day later) falls in bucket
	// n % 60, 5 days apart, the newest 8 days ago; the last 7 days hold
	// what two senders may really send, 20 invitations a day each (the
	// rolling windows the policy reads are the ledger's last 7 and 30
	// days, and a week of 1,000 sends a sender is not one LinkedIn allows).
	for b := 0; b < 60; b++ {
		at := now.Add(-time.Duration((59-b)*5+8) * 24 * time.Hour)
		start := b
		if b == 0 {
			start = 60
		}
		bucket := `WITH RECURSIVE g(n) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT n + 60 FROM g WHERE n + 60 <= $2) `
		if b%10 >= 6 {
			must(bucket+`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
				claimed_at, dispatched_at, finished_at)
				SELECT 'bsi_' || '`+tag+`' || n, '`+wsID+`', `+sender+`, '`+cp.ID+`', 'be_' || '`+tag+`' || n, 'bp_' || '`+tag+`' || n, 'inv', 'invite', 'confirmed', `+
				lit(at)+`, `+lit(at)+`, `+lit(at)+` FROM g`, start, n)
		}
		if b%10 == 7 || b%10 == 8 {
			m := at.Add(24 * time.Hour)
			must(bucket+`INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
				claimed_at, dispatched_at, finished_at, chat_id)
				SELECT 'bsm_' || '`+tag+`' || n, '`+wsID+`', `+sender+`, '`+cp.ID+`', 'be_' || '`+tag+`' || n, 'bp_' || '`+tag+`' || n, 'msg', 'message', 'confirmed', `+
				lit(m)+`, `+lit(m)+`, `+lit(m)+`, 'chat-' || '`+tag+`' || n FROM g`, start, n)
		}
	}
	// Prospects with n % 60 of 1 (one sender) and 2 (the other) have no
	// sends above: 20 of each a day (fewer in a small campaign).
	perDay := min(20, n/60/7)
	for d := 0; perDay > 0 && d < 7; d++ {
		at := lit(now.Add(-time.Duration(d+1) * 24 * time.Hour))
		for _, r := range []int{1, 2} {
			first := r + 60*perDay*d
			must(`WITH RECURSIVE g(n) AS (SELECT CAST($1 AS INTEGER) UNION ALL SELECT n + 60 FROM g WHERE n + 60 <= $2)
				INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
				claimed_at, dispatched_at, finished_at)
				SELECT 'bsr_' || '`+tag+`' || n, '`+wsID+`', `+sender+`, '`+cp.ID+`', 'be_' || '`+tag+`' || n, 'bp_' || '`+tag+`' || n, 'inv', 'invite', 'confirmed', `+
				at+`, `+at+`, `+at+` FROM g`, first, first+60*(perDay-1))
		}
	}
	if _, err := q.ExecContext(ctx, `UPDATE campaigns SET status = 'running' WHERE id = $1`, cp.ID); err != nil {
		tb.Fatal(err)
	}
	// As an import and the campaign sweep do, sum the count deltas the
	// seed appended.
	if err := k.App.DB.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := k.App.Campaigns.FoldStateCounts(ctx, tx, cp.ID); err != nil {
			return err
		}
		if _, err := k.App.Campaigns.FoldStepCounts(ctx, tx, cp.ID); err != nil {
			return err
		}
		// And those of the ledger, as the campaign sweep does.
		_, err := send.FoldSendCounts(ctx, tx, cp.ID)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	// PostgreSQL's autovacuum visits a table after an insert of this size
	// (its insert threshold); the benchmark does so at once, so index-only
	// scans see an up-to-date visibility map as they would in a live
	// installation.
	stats := `ANALYZE`
	if k.App.DB.Engine == db.Postgres {
		stats = `VACUUM ANALYZE`
	}
	if _, err := q.ExecContext(ctx, stats); err != nil {
		tb.Fatal(err)
	}
	cp, err = k.App.Campaigns.Get(ctx, q, wsID, cp.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return cp
}

// BenchmarkCampaignPage100k renders a campaign page of 100,000 prospects
// (its first prospect page, and a page filtered by state and step)
// straight through the UI handler, so the figure is server time only.
// The forecast chart is computed once and reused for a minute (see
// docs/benchmarks.md); "cold" renders with that cache emptied each time.
func BenchmarkCampaignPage100k(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			k := startKeel(b, e)
			ctx := context.Background()
			ws, err := workspace.Create(ctx, k.App.DB.SQL, "bench", "Bench", k.App.Clock.Now())
			if err != nil {
				b.Fatal(err)
			}
			seedStart := time.Now()
			cp := seedBigCampaign(b, k, ws.ID, "", 100_000)
			b.Logf("seeded 100,000 prospects in %s", time.Since(seedStart).Round(time.Millisecond))
			if _, err := user.Create(ctx, k.App.DB.SQL, ws.ID, testEmail, testPassword, k.App.Clock.Now()); err != nil {
				b.Fatal(err)
			}
			h := k.Web.Handler()
			cookie := benchSignIn(b, h)
			paths := []string{"/campaigns/" + cp.ID, "/campaigns/" + cp.ID + "?state=active&step=acc"}
			render := func(path string) {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="funnel-inv"`) {
					b.Fatalf("render %s: %d", path, rec.Code)
				}
			}
			for _, mode := range []string{"warm", "cold"} {
				b.Run(mode, func(b *testing.B) {
					if mode == "warm" {
						// The page's per-minute figures are computed once
						// before the clock starts, as a page open for a
						// while has them.
						for _, p := range paths {
							render(p)
						}
					}
					start := time.Now()
					for i := 0; b.Loop(); i++ {
						if mode == "cold" {
							k.Web.ForgetCharts()
						}
						render(paths[i%len(paths)])
					}
					b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/render")
				})
			}
		})
	}
}

// BenchmarkCampaignsList30 renders /campaigns for 30 running campaigns of
// 1,000 prospects each: one diagnosis per row (no forecast), counts and
// rates one grouped query each for the page.
func BenchmarkCampaignsList30(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			k := startKeel(b, e)
			ctx := context.Background()
			ws, err := workspace.Create(ctx, k.App.DB.SQL, "bench", "Bench", k.App.Clock.Now())
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 30; i++ {
				seedBigCampaign(b, k, ws.ID, fmt.Sprintf("c%02d", i), 1000)
			}
			if _, err := user.Create(ctx, k.App.DB.SQL, ws.ID, testEmail, testPassword, k.App.Clock.Now()); err != nil {
				b.Fatal(err)
			}
			h := k.Web.Handler()
			cookie := benchSignIn(b, h)
			start := time.Now()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/campaigns", nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<tr id="c-`) != 30 {
					b.Fatalf("render: %d", rec.Code)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/render")
		})
	}
}
