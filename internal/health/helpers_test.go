package health_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/health"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

// start is the fake clock's start in every test.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is one test's world: a database, the real client talking to the fake
// Unipile over 127.0.0.1, a fake clock shared by both, and the monitor.
type env struct {
	t        testing.TB
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	accounts *account.Service
	fake     *fake.Server
	client   *unipile.Client
	svc      *health.Service
	ws       workspace.Workspace
	logs     *syncBuffer
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testClient returns a client whose transport keeps enough idle
// connections for a concurrent sweep (the default keeps two per host, so
// every other check would open a new connection).
func testClient(t testing.TB, f *fake.Server, timeout time.Duration) *unipile.Client {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
	t.Cleanup(tr.CloseIdleConnections)
	c, err := unipile.New(unipile.Options{BaseURL: f.URL(), APIKey: f.APIKey(),
		HTTPClient: &http.Client{Transport: tr}, Timeout: timeout})
	if err != nil {
		t.Fatalf("building client: %v", err)
	}
	return c
}

func newEnv(t testing.TB, d *db.DB, cfg health.Config) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(start)
	f := fake.New(fake.Options{Clock: clk})
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting fake Unipile: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ws, err := workspace.Create(ctx, d.SQL, "acme", "Acme", clk.Now())
	if err != nil {
		t.Fatalf("creating workspace: %v", err)
	}
	e := &env{t: t, ctx: ctx, db: d, clock: clk, accounts: account.NewService(d, clk), fake: f,
		client: testClient(t, f, 10*time.Second), ws: ws, logs: &syncBuffer{}}
	e.svc = e.newService(cfg)
	return e
}

func (e *env) newService(cfg health.Config) *health.Service {
	e.t.Helper()
	svc, err := health.New(health.Options{DB: e.db, Accounts: e.accounts, Client: e.client, Clock: e.clock,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Config: cfg})
	if err != nil {
		e.t.Fatalf("building health service: %v", err)
	}
	return svc
}

var providerSeq atomic.Int64

// addAccounts creates n accounts known to both Keel (with status st) and
// the fake (source status OK).
func (e *env) addAccounts(n int, st account.Status) []account.Account {
	e.t.Helper()
	out := make([]account.Account, 0, n)
	for range n {
		pid := fmt.Sprintf("UNIPILE%08d", providerSeq.Add(1))
		e.fake.AddAccount(fake.AccountSpec{ID: pid})
		a, err := e.accounts.Create(e.ctx, e.db.SQL, account.NewAccount{
			WorkspaceID: e.ws.ID, ProviderAccountID: pid, Name: "Ada " + pid, Status: st, Tier: account.TierPremium})
		if err != nil {
			e.t.Fatalf("creating account: %v", err)
		}
		out = append(out, a)
	}
	return out
}

func (e *env) get(id string) account.Account {
	e.t.Helper()
	a, err := e.accounts.Get(e.ctx, e.db.SQL, "", id)
	if err != nil {
		e.t.Fatalf("reading account %s: %v", id, err)
	}
	return a
}

func (e *env) check(id string) health.Result {
	e.t.Helper()
	res, err := e.svc.Check(e.ctx, id)
	if err != nil {
		e.t.Fatalf("checking account %s: %v", id, err)
	}
	return res
}

func (e *env) runDue() health.Summary {
	e.t.Helper()
	sum, err := e.svc.RunDue(e.ctx)
	if err != nil {
		e.t.Fatalf("RunDue at %s: %v", e.clock.Now().Format(time.TimeOnly), err)
	}
	return sum
}

func (e *env) flip(id string, to account.Status, c account.Copy, src account.Source) {
	e.t.Helper()
	if _, err := e.accounts.Flip(e.ctx, account.FlipRequest{AccountID: id, To: to, Copy: &c,
		Reason: "test setup", Source: src, Actor: "test"}); err != nil {
		e.t.Fatalf("flipping %s to %s: %v", id, to, err)
	}
}

func (e *env) alerts(kind string) []alert.Alert {
	e.t.Helper()
	list, err := alert.List(e.ctx, e.db.SQL, alert.Filter{Kind: kind, OpenOnly: true})
	if err != nil {
		e.t.Fatalf("listing alerts: %v", err)
	}
	return list
}

func (e *env) lastAudit(id string) account.AuditEntry {
	e.t.Helper()
	trail, err := e.accounts.Audit(e.ctx, e.db.SQL, id)
	if err != nil || len(trail) == 0 {
		e.t.Fatalf("reading audit of %s: %v (%d rows)", id, err, len(trail))
	}
	return trail[len(trail)-1]
}

// calls counts the fake's logged calls of one action since seq.
func (e *env) calls(action string, sinceSeq int64) int {
	n := 0
	for _, c := range e.fake.Calls() {
		if c.Action == action && c.Seq > sinceSeq {
			n++
		}
	}
	return n
}

func (e *env) lastSeq() int64 {
	calls := e.fake.Calls()
	if len(calls) == 0 {
		return 0
	}
	return calls[len(calls)-1].Seq
}

// statusCounts tallies accounts by status and reports the largest strike
// count.
func (e *env) statusCounts() (map[account.Status]int, int) {
	e.t.Helper()
	list, err := e.accounts.List(e.ctx, e.db.SQL, account.ListOptions{})
	if err != nil {
		e.t.Fatalf("listing accounts: %v", err)
	}
	counts := map[account.Status]int{}
	maxStrikes := 0
	for _, a := range list {
		counts[a.Status]++
		maxStrikes = max(maxStrikes, a.Strikes)
	}
	return counts, maxStrikes
}
