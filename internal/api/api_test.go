package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

type tenant struct {
	ws      workspace.Workspace
	secret  string
	account account.Account
	alertID string
}

type bundle struct {
	srv      *httptest.Server
	accounts *account.Service
	a, b     tenant
}

func setup(t *testing.T, d *db.DB) *bundle {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	accounts := account.NewService(d, c)
	mk := func(slug string) tenant {
		ws, err := workspace.Create(ctx, d.SQL, slug, "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-" + slug, Name: slug, Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		alertID, _, err := alert.Raise(ctx, d.SQL, c.Now(), alert.New{WorkspaceID: ws.ID, Kind: alert.KindStuckConnecting, Message: "m", SubjectType: "account", SubjectID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		return tenant{ws: ws, secret: secret, account: a, alertID: alertID}
	}
	b := &bundle{accounts: accounts, a: mk("alpha"), b: mk("beta")}
	b.srv = newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Clock: c}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bundle) do(t *testing.T, method, path, secret string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, nil)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, resp.Header
}

func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := setup(t, d)

		t.Run("MissingOrWrongTokenIsUnauthorizedProblem", func(t *testing.T) {
			for _, secret := range []string{"", "keel_nope", "garbage"} {
				status, body, h := b.do(t, "GET", "/api/v1/accounts", secret)
				if status != 401 || h.Get("Content-Type") != "application/problem+json" || body["status"] != float64(401) {
					t.Fatalf("token %q: %d %v %v", secret, status, h, body)
				}
			}
		})

		t.Run("TokenSeesOnlyItsWorkspace", func(t *testing.T) {
			status, body, _ := b.do(t, "GET", "/api/v1/accounts", b.a.secret)
			items, _ := body["items"].([]any)
			if status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != b.a.account.ID {
				t.Fatalf("list: %d %v", status, body)
			}
			for _, path := range []string{
				"/api/v1/accounts/" + b.b.account.ID,
				"/api/v1/accounts/" + b.b.account.ID + "/audit",
			} {
				if status, body, _ := b.do(t, "GET", path, b.a.secret); status != 404 {
					t.Fatalf("%s with another workspace's token: %d %v", path, status, body)
				}
			}
			if status, _, _ := b.do(t, "POST", "/api/v1/alerts/"+b.b.alertID+"/ack", b.a.secret); status != 404 {
				t.Fatalf("acknowledging another workspace's alert: %d", status)
			}
			_, body, _ = b.do(t, "GET", "/api/v1/alerts", b.a.secret)
			for _, it := range body["items"].([]any) {
				if it.(map[string]any)["id"] == b.b.alertID {
					t.Fatal("another workspace's alert is listed")
				}
			}
		})

		t.Run("AccountCarriesContractFields", func(t *testing.T) {
			status, body, _ := b.do(t, "GET", "/api/v1/accounts/"+b.a.account.ID, b.a.secret)
			if status != 200 {
				t.Fatalf("%d %v", status, body)
			}
			for _, k := range []string{"id", "provider_account_id", "name", "status", "last_error", "last_error_terminal",
				"disconnected_at", "disconnected_by", "strikes", "tier", "timezone", "created_at"} {
				if _, ok := body[k]; !ok {
					t.Errorf("account JSON lacks %q: %v", k, body)
				}
			}
		})

		t.Run("AuditIsNewestFirst", func(t *testing.T) {
			c := account.TerminalCredentials()
			if _, err := b.accounts.Flip(context.Background(), account.FlipRequest{AccountID: b.a.account.ID, To: account.StatusDisconnected,
				Copy: &c, Reason: "CREDENTIALS", Source: account.SourceWebhook}); err != nil {
				t.Fatal(err)
			}
			_, body, _ := b.do(t, "GET", "/api/v1/accounts/"+b.a.account.ID+"/audit", b.a.secret)
			items := body["items"].([]any)
			if len(items) != 2 || items[0].(map[string]any)["to"] != "disconnected" {
				t.Fatalf("audit: %v", body)
			}
		})

		t.Run("PaginationWithCursor", func(t *testing.T) {
			status, body, _ := b.do(t, "GET", "/api/v1/accounts?limit=0", b.a.secret)
			if status != 400 {
				t.Fatalf("limit=0: %d %v", status, body)
			}
			_, body, _ = b.do(t, "GET", "/api/v1/accounts?limit=1", b.a.secret)
			if _, ok := body["next_cursor"]; ok {
				t.Fatalf("one account, page of one: no next cursor expected: %v", body)
			}
		})

		t.Run("PatchValidatesAgainstTierCeilings", func(t *testing.T) {
			patch := func(body string) (int, map[string]any) {
				req, _ := http.NewRequest("PATCH", b.srv.URL+"/api/v1/accounts/"+b.a.account.ID, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+b.a.secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}
			status, body := patch(`{"caps": {"invite_daily": 31}}`)
			if status != 422 || !strings.Contains(body["detail"].(string), "ceiling of 30") {
				t.Fatalf("cap above the free ceiling: %d %v", status, body)
			}
			status, body = patch(`{"window": {"days": ["mon"], "start": "18:00", "end": "09:00"}}`)
			if status != 422 || !strings.Contains(body["detail"].(string), "window.end") {
				t.Fatalf("inverted window: %d %v", status, body)
			}
			if status, body = patch(`{"timezone": "Mars/Olympus"}`); status != 422 {
				t.Fatalf("bad timezone: %d %v", status, body)
			}
			if status, body = patch(`{"tier": "premium", "timezone": "Europe/Paris", "caps": {"invite_daily": 60, "inmail_daily": 5},
				"window": {"days": ["mon","tue"], "start": "08:30", "end": "24:00"}}`); status != 200 {
				t.Fatalf("valid patch: %d %v", status, body)
			}
			caps := body["caps"].(map[string]any)
			win := body["window"].(map[string]any)
			if body["tier"] != "premium" || caps["invite_daily"] != float64(60) || win["end"] != "24:00" || body["timezone"] != "Europe/Paris" {
				t.Fatalf("patched account: %v", body)
			}
			if status, body = patch(`{"tier": "free"}`); status != 200 || body["caps"].(map[string]any)["inmail_daily"] != float64(0) ||
				body["caps"].(map[string]any)["invite_daily"] != float64(30) {
				t.Fatalf("a lower tier must clamp caps: %d %v", status, body)
			}
			if status, _ = patch(`{"bogus": 1}`); status != 400 {
				t.Fatalf("unknown field: %d", status)
			}
			if status, _ = patch(`not json`); status != 400 {
				t.Fatalf("malformed body: %d", status)
			}
			req, _ := http.NewRequest("PATCH", b.srv.URL+"/api/v1/accounts/"+b.b.account.ID, strings.NewReader(`{"tier":"premium"}`))
			req.Header.Set("Authorization", "Bearer "+b.a.secret)
			if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 404 {
				t.Fatalf("patching another workspace's account: %d", resp.StatusCode)
			}
		})

		t.Run("AlertsPageWithCursor", func(t *testing.T) {
			ctx := context.Background()
			c := clock.NewFake(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC))
			for i := 0; i < 5; i++ {
				c.Advance(time.Minute)
				if _, _, err := alert.Raise(ctx, d.SQL, c.Now(), alert.New{WorkspaceID: b.a.ws.ID, Kind: "paging", Message: "m",
					DedupeKey: fmt.Sprintf("paging-%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			cursor := ""
			for pages := 0; pages < 10; pages++ {
				path := "/api/v1/alerts?limit=2"
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				status, body, _ := b.do(t, "GET", path, b.a.secret)
				if status != 200 {
					t.Fatalf("%s: %d %v", path, status, body)
				}
				for _, it := range body["items"].([]any) {
					id := it.(map[string]any)["id"].(string)
					if seen[id] {
						t.Fatalf("alert %s on two pages", id)
					}
					seen[id] = true
				}
				next, _ := body["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
			}
			if len(seen) != 6 { // five paging alerts and the fixture's one
				t.Fatalf("paged through %d alerts, want 6", len(seen))
			}
		})

		t.Run("UnknownRouteIsProblem", func(t *testing.T) {
			status, _, h := b.do(t, "GET", "/api/v1/nothing", b.a.secret)
			if status != 404 || !strings.Contains(h.Get("Content-Type"), "problem+json") {
				t.Fatalf("%d %v", status, h)
			}
		})
	})
}
