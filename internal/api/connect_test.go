package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// The connect and sync routes, served by the real connect service against
// the fake Unipile: a hosted-auth link and a sync report (their answers
// are validated against the OpenAPI document like every API test's), and
// 503 problems when connecting is not configured.
func TestConnectAndSyncOverHTTP(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	f := fake.New(fake.Options{APIKey: "fake-key-0123456789", Clock: clk, RetryBackoff: time.Millisecond})
	if err := f.Start(""); err != nil {
		t.Fatal(err)
	}
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	accounts := account.NewService(d, clk)
	ws, err := workspace.Create(ctx, d.SQL, "acme", "Acme", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	callbacks := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(func() {
		_ = f.Close()
		callbacks.Close()
	})
	svc, err := connect.New(connect.Options{DB: d, Accounts: accounts, Client: client, PublicURL: callbacks.URL, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	configured := newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Clock: clk, Connect: svc,
		Sync: func(ctx context.Context, workspaceID string) (any, error) { return svc.Sync(ctx, workspaceID) }}))
	t.Cleanup(configured.Close)
	bare := newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Clock: clk}))
	t.Cleanup(bare.Close)
	post := func(srv *httptest.Server, path string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}

	t.Run("ConnectAnswersTheHostedAuthLink", func(t *testing.T) {
		status, body := post(configured, "/api/v1/accounts/connect")
		if url, _ := body["url"].(string); status != 200 || !strings.HasPrefix(url, "http") {
			t.Fatalf("connect: %d %v", status, body)
		}
	})
	t.Run("ReconnectAnswersTheHostedAuthLink", func(t *testing.T) {
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-reconnect", Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		status, body := post(configured, "/api/v1/accounts/"+a.ID+"/reconnect")
		if url, _ := body["url"].(string); status != 200 || !strings.HasPrefix(url, "http") {
			t.Fatalf("reconnect: %d %v", status, body)
		}
	})
	t.Run("SyncAnswersItsReport", func(t *testing.T) {
		status, body := post(configured, "/api/v1/accounts/sync")
		if _, ok := body["items"].([]any); status != 200 || !ok {
			t.Fatalf("sync: %d %v", status, body)
		}
	})
	t.Run("UnconfiguredAnswers503Problems", func(t *testing.T) {
		for _, path := range []string{"/api/v1/accounts/connect", "/api/v1/accounts/sync"} {
			if status, body := post(bare, path); status != 503 || body["status"] != 503.0 {
				t.Fatalf("%s without connect: %d %v", path, status, body)
			}
		}
	})
}
