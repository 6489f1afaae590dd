package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/webhook"
	"github.com/keel-outreach/keel/internal/workspace"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const secret = "test-webhook-secret-0123456789"

// env is one database, a receiver mounted on a loopback HTTP server, and a
// workspace to put accounts in.
type env struct {
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	accounts *account.Service
	ws       workspace.Workspace
	rc       *webhook.Receiver
	srv      *httptest.Server
}

func newEnv(t testing.TB, d *db.DB, adjust ...func(*webhook.Options)) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	accts := account.NewService(d, clk)
	ws, err := workspace.Create(ctx, d.SQL, "acme", "Acme", clk.Now())
	if err != nil {
		t.Fatalf("creating workspace: %v", err)
	}
	opts := webhook.Options{DB: d, Accounts: accts, Clock: clk, Secret: secret}
	for _, f := range adjust {
		f(&opts)
	}
	rc, err := webhook.NewReceiver(opts)
	if err != nil {
		t.Fatalf("building receiver: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(webhook.Path, rc)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		_ = rc.Close()
	})
	return &env{ctx: ctx, db: d, clock: clk, accounts: accts, ws: ws, rc: rc, srv: srv}
}

var providerSeq atomic.Int64

// newAccount creates an account with a fresh provider id (or the given one).
func (e *env) newAccount(t testing.TB, status account.Status, providerID ...string) account.Account {
	t.Helper()
	pid := fmt.Sprintf("prov-%06d", providerSeq.Add(1))
	if len(providerID) > 0 {
		pid = providerID[0]
	}
	a, err := e.accounts.Create(e.ctx, e.db.SQL, account.NewAccount{
		WorkspaceID: e.ws.ID, ProviderAccountID: pid, Name: "Ada", Status: status})
	if err != nil {
		t.Fatalf("creating account: %v", err)
	}
	return a
}

func (e *env) get(t *testing.T, id string) account.Account {
	t.Helper()
	a, err := e.accounts.Get(e.ctx, e.db.SQL, "", id)
	if err != nil {
		t.Fatalf("reading account: %v", err)
	}
	return a
}

// post sends body to the receiver over HTTP with the given secret header
// ("" sends none) and returns the status.
func (e *env) post(t *testing.T, body, sec string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+webhook.Path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	// Unipile labels JSON bodies form-encoded unless told otherwise.
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sec != "" {
		req.Header.Set(webhook.HeaderSecret, sec)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting webhook: %v", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

func (e *env) mustPost(t *testing.T, body string) {
	t.Helper()
	if got := e.post(t, body, secret); got != http.StatusOK {
		t.Fatalf("delivery answered %d, want 200: %s", got, body)
	}
}

func (e *env) process(t *testing.T) {
	t.Helper()
	e.rc.Wait()
	if _, err := e.rc.ProcessPending(e.ctx); err != nil {
		t.Fatalf("processing: %v", err)
	}
}

func (e *env) entries(t *testing.T) []webhook.Entry {
	t.Helper()
	es, err := webhook.Entries(e.ctx, e.db.SQL, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func (e *env) inboxCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.SQL.QueryRowContext(e.ctx, `SELECT count(*) FROM webhook_inbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// flipsTo counts audit rows of an account that flipped it to status.
func (e *env) flipsTo(t *testing.T, accountID string, to account.Status) int {
	t.Helper()
	audit, err := e.accounts.Audit(e.ctx, e.db.SQL, accountID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range audit {
		if a.From != "" && a.To == to {
			n++
		}
	}
	return n
}

func statusBody(providerID, message string) string {
	return fmt.Sprintf(`{"AccountStatus":{"account_id":%q,"account_type":"LINKEDIN","message":%q}}`, providerID, message)
}

// startFake runs the fake Unipile on loopback with fast retries and returns
// it with a real client.
func startFake(t *testing.T, clk clock.Clock) (*fake.Server, *unipile.Client) {
	t.Helper()
	srv := fake.New(fake.Options{APIKey: "fake-key-0123456789", Clock: clk, RetryBackoff: time.Millisecond})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	c, err := unipile.New(unipile.Options{BaseURL: srv.URL(), APIKey: srv.APIKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func waitIdle(t *testing.T, f *fake.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}
