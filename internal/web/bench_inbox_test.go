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
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/workspace"
)

// BenchmarkInboxPage renders /inbox (its first page, and the same page
// filtered to unread) straight through the UI handler for a workspace of
// 50 senders with 10 and with 10,000 conversations, so the figure is
// server time and the ratio shows what the table's size costs
// (docs/benchmarks.md).
func BenchmarkInboxPage(b *testing.B) {
	for _, e := range dbtest.Engines {
		for _, n := range []int{10, 10000} {
			b.Run(fmt.Sprintf("%s/%d", e, n), func(b *testing.B) {
				k := startKeel(b, e)
				ctx := context.Background()
				ws, err := workspace.Create(ctx, k.App.DB.SQL, "bench", "Bench", k.App.Clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				now := k.App.Clock.Now()
				err = k.App.DB.InTx(ctx, func(tx *sql.Tx) error {
					var accs []string
					for i := 0; i < 50; i++ {
						a, err := k.App.Accounts.Create(ctx, tx, account.NewAccount{WorkspaceID: ws.ID,
							ProviderAccountID: fmt.Sprintf("bench-%02d", i), Name: fmt.Sprintf("Sender %02d", i), Status: account.StatusConnected})
						if err != nil {
							return err
						}
						accs = append(accs, a.ID)
					}
					for i := 0; i < n; i++ {
						if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, workspace_id, account_id, provider_chat_id,
							attendee_provider_id, attendee_name, last_message_at, last_message_text, unread, created_at, updated_at)
							VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
							fmt.Sprintf("cnv_%06d", i), ws.ID, accs[i%len(accs)], fmt.Sprintf("chat-%06d", i), fmt.Sprintf("ACoAA%06d", i),
							fmt.Sprintf("Person %06d", i), now.Add(-time.Duration(i)*time.Minute), "Thanks, let's talk next week", i%7, now); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := user.Create(ctx, k.App.DB.SQL, ws.ID, testEmail, testPassword, now); err != nil {
					b.Fatal(err)
				}
				h := k.Web.Handler()
				cookie := benchSignIn(b, h)
				paths := []string{"/inbox", "/inbox?unread=1"}
				want := min(n, web.InboxPageSize)
				b.ResetTimer()
				start := time.Now()
				for i := 0; b.Loop(); i++ {
					req := httptest.NewRequest("GET", paths[i%len(paths)], nil)
					req.AddCookie(cookie)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `<tr id="conv-`) < want*6/7-1 {
						b.Fatalf("render: %d, %d rows", rec.Code, strings.Count(rec.Body.String(), `<tr id="conv-`))
					}
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/render")
			})
		}
	}
}
