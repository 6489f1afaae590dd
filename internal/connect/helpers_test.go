package connect_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a database, the fake Unipile on loopback sharing a fake clock, and
// the connect service with its callback mounted on a loopback server that
// the fake calls back.
type env struct {
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	accounts *account.Service
	ws       workspace.Workspace
	fake     *fake.Server
	client   *unipile.Client
	svc      *connect.Service
	srv      *httptest.Server
}

func newEnv(t *testing.T, d *db.DB, adjust ...func(*connect.Options)) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	f := fake.New(fake.Options{APIKey: "fake-key-0123456789", Clock: clk, RetryBackoff: time.Millisecond})
	if err := f.Start(""); err != nil {
		t.Fatal(err)
	}
	client, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	accts := account.NewService(d, clk)
	ws, err := workspace.Create(ctx, d.SQL, "acme", "Acme", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	opts := connect.Options{DB: d, Accounts: accts, Client: client, PublicURL: srv.URL, Clock: clk}
	for _, fn := range adjust {
		fn(&opts)
	}
	svc, err := connect.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(connect.CallbackPath, svc.CallbackHandler())
	t.Cleanup(func() {
		_ = f.Close() // stops deliveries before the receiving server goes
		srv.Close()
	})
	return &env{ctx: ctx, db: d, clock: clk, accounts: accts, ws: ws, fake: f, client: client, svc: svc, srv: srv}
}

func (e *env) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.fake.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *env) get(t *testing.T, id string) account.Account {
	t.Helper()
	a, err := e.accounts.Get(e.ctx, e.db.SQL, "", id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) create(t *testing.T, ws workspace.Workspace, pid string, st account.Status) account.Account {
	t.Helper()
	a, err := e.accounts.Create(e.ctx, e.db.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: pid, Name: "Ada", Status: st})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.SQL.QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// link returns the fake's record of the link behind a wizard URL.
func (e *env) link(t *testing.T, wizardURL string) fake.HostedLink {
	t.Helper()
	token := fake.TokenFromURL(wizardURL)
	for _, l := range e.fake.HostedLinks() {
		if l.Token == token {
			return l
		}
	}
	t.Fatalf("the fake has no link for %s", wizardURL)
	return fake.HostedLink{}
}

// postCallback POSTs body to url (a notify_url, or a forgery) and returns
// the status.
func (e *env) postCallback(t *testing.T, url, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env) calls(action, accountID string) int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Action == action && (accountID == "" || c.AccountID == accountID) {
			n++
		}
	}
	return n
}
