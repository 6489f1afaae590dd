package outbound_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/workspace"
)

// receiver is a loopback webhook receiver that verifies every signature.
type receiver struct {
	t      *testing.T
	clock  clock.Clock
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	status   int // answered while failing > 0
	failing  int
	got      []received
	badSigns int
}

type received struct {
	eventID string
	body    map[string]any
}

func newReceiver(t *testing.T, c clock.Clock) *receiver {
	r := &receiver{t: t, clock: c, status: http.StatusInternalServerError}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := outbound.Verify(r.secret, req.Header.Get(outbound.SignatureHeader), body, r.clock.Now(), 5*time.Minute); err != nil {
			r.badSigns++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		if m["id"] != req.Header.Get(outbound.EventIDHeader) {
			t.Errorf("body id %v != header %q", m["id"], req.Header.Get(outbound.EventIDHeader))
		}
		r.got = append(r.got, received{eventID: req.Header.Get(outbound.EventIDHeader), body: m})
		if r.failing > 0 {
			r.failing--
			w.WriteHeader(r.status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type fixture struct {
	d     *db.DB
	clock *clock.Fake
	svc   *outbound.Service
	logs  *syncBuffer
	ws    workspace.Workspace
	other workspace.Workspace
}

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

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The receivers are httptest servers on loopback, which only an
	// explicit allow-list lets deliveries reach.
	svc := outbound.New(outbound.Options{DB: d, Clock: c, Timeout: 5 * time.Second, Logger: logger,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	ws, err := workspace.Create(ctx, d.SQL, "alpha", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := workspace.Create(ctx, d.SQL, "beta", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{d: d, clock: c, svc: svc, logs: logs, ws: ws, other: other}
}

func (f *fixture) emit(t *testing.T, wsID, typ string, data any) {
	t.Helper()
	if err := f.d.InTx(context.Background(), func(tx *sql.Tx) error {
		return f.svc.Emit(context.Background(), tx, wsID, typ, data)
	}); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.SQL.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetriesBackoffAndRecovery(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		rcv := newReceiver(t, f.clock)
		ep, secret, err := f.svc.CreateEndpoint(ctx, f.ws.ID, rcv.srv.URL+"/hook", nil)
		if err != nil {
			t.Fatal(err)
		}
		rcv.secret = secret
		rcv.failing = 4
		f.emit(t, f.ws.ID, outbound.EventReplyReceived, map[string]string{"chat_id": "c1"})

		var gaps []time.Duration
		for attempt := 1; attempt <= 5; attempt++ {
			n, err := f.svc.DeliverDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("attempt %d: DeliverDue sent %d, want 1", attempt, n)
			}
			// Nothing else is due right now.
			if n, err := f.svc.DeliverDue(ctx); err != nil || n != 0 {
				t.Fatalf("second DeliverDue at the same instant sent %d (%v), want 0", n, err)
			}
			list, err := f.svc.ListDeliveries(ctx, f.ws.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 {
				t.Fatalf("got %d deliveries, want 1", len(list))
			}
			dl := list[0]
			if dl.Attempts != attempt || dl.EndpointID != ep.ID {
				t.Fatalf("attempt %d: delivery %+v", attempt, dl)
			}
			if attempt < 5 {
				if dl.State != outbound.StatePending || dl.NextAttemptAt == nil || dl.LastStatusCode == nil || *dl.LastStatusCode != 500 {
					t.Fatalf("attempt %d: delivery %+v, want pending after a 500", attempt, dl)
				}
				gap := dl.NextAttemptAt.Sub(f.clock.Now())
				gaps = append(gaps, gap)
				// Just before the retry is due nothing is sent.
				f.clock.Advance(gap - time.Second)
				if n, err := f.svc.DeliverDue(ctx); err != nil || n != 0 {
					t.Fatalf("DeliverDue before the backoff elapsed sent %d (%v)", n, err)
				}
				f.clock.Advance(time.Second)
			} else if dl.State != outbound.StateDelivered || dl.DeliveredAt == nil || dl.NextAttemptAt != nil {
				t.Fatalf("after recovery: delivery %+v, want delivered", dl)
			}
		}
		want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
		for i := range want {
			if gaps[i] != want[i] {
				t.Fatalf("backoff gaps %v, want %v", gaps, want)
			}
			if i > 0 && gaps[i] != 2*gaps[i-1] {
				t.Fatalf("backoff gaps %v do not double", gaps)
			}
		}
		got := rcv.received()
		if len(got) != 5 || rcv.badSigns != 0 {
			t.Fatalf("receiver got %d requests (%d bad signatures), want 5 good", len(got), rcv.badSigns)
		}
		for _, r := range got {
			if r.eventID != got[0].eventID || r.body["id"] != got[0].eventID {
				t.Fatalf("event id changed between attempts: %q vs %q", r.eventID, got[0].eventID)
			}
			if r.body["type"] != outbound.EventReplyReceived || r.body["created_at"] == nil {
				t.Fatalf("body %v", r.body)
			}
			if data, _ := r.body["data"].(map[string]any); data["chat_id"] != "c1" {
				t.Fatalf("data %v", r.body["data"])
			}
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_delivery_attempts`); n != 5 {
			t.Fatalf("%d attempts logged, want 5", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_delivery_attempts WHERE status_code = 500 AND error IS NOT NULL`); n != 4 {
			t.Fatalf("%d failed attempts logged, want 4", n)
		}
		if strings.Contains(f.logs.String(), secret) {
			t.Fatal("the endpoint secret appears in the log")
		}
		if !strings.Contains(f.logs.String(), "will retry") {
			t.Fatalf("retries were not logged: %s", f.logs.String())
		}
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		rcv := newReceiver(t, f.clock)
		_, secret, err := f.svc.CreateEndpoint(ctx, f.ws.ID, rcv.srv.URL, []string{outbound.EventMessageSent})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secret = secret
		rcv.failing = 1000
		f.emit(t, f.ws.ID, outbound.EventMessageSent, map[string]int{"n": 1})
		for i := 1; i <= outbound.MaxAttempts; i++ {
			if n, err := f.svc.DeliverDue(ctx); err != nil || n != 1 {
				t.Fatalf("attempt %d: sent %d (%v)", i, n, err)
			}
			f.clock.Advance(outbound.Backoff(i))
		}
		f.clock.Advance(24 * time.Hour)
		if n, err := f.svc.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("after giving up: sent %d (%v)", n, err)
		}
		list, err := f.svc.ListDeliveries(ctx, f.ws.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].State != outbound.StateFailed || list[0].Attempts != outbound.MaxAttempts || list[0].LastError == "" {
			t.Fatalf("deliveries %+v, want one failed after %d attempts", list, outbound.MaxAttempts)
		}
		if got := len(rcv.received()); got != outbound.MaxAttempts {
			t.Fatalf("receiver got %d requests, want %d", got, outbound.MaxAttempts)
		}
		if strings.Contains(f.logs.String(), secret) {
			t.Fatal("the endpoint secret appears in the log")
		}
	})
}

func TestRolledBackEmitLeavesNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		rcv := newReceiver(t, f.clock)
		if _, _, err := f.svc.CreateEndpoint(ctx, f.ws.ID, rcv.srv.URL, nil); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			if err := f.svc.Emit(ctx, tx, f.ws.ID, outbound.EventInviteAccepted, map[string]string{"x": "y"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_events`); n != 0 {
			t.Fatalf("%d events after rollback", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_deliveries`); n != 0 {
			t.Fatalf("%d deliveries after rollback", n)
		}
		if n, err := f.svc.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("DeliverDue sent %d (%v) after rollback", n, err)
		}
		if len(rcv.received()) != 0 {
			t.Fatal("a rolled-back event was sent")
		}
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			return f.svc.Emit(ctx, tx, f.ws.ID, "linkedin.nope", nil)
		}); err == nil {
			t.Fatal("Emit accepted an unknown event type")
		}
	})
}

func TestFiltersWorkspacesAndAccountFlips(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		all, accountsOnly, otherWS := newReceiver(t, f.clock), newReceiver(t, f.clock), newReceiver(t, f.clock)
		var err error
		if _, all.secret, err = f.svc.CreateEndpoint(ctx, f.ws.ID, all.srv.URL, nil); err != nil {
			t.Fatal(err)
		}
		if _, accountsOnly.secret, err = f.svc.CreateEndpoint(ctx, f.ws.ID, accountsOnly.srv.URL,
			[]string{outbound.EventAccountDisconnected, outbound.EventAccountConnected, outbound.EventAccountConnected}); err != nil {
			t.Fatal(err)
		}
		if _, otherWS.secret, err = f.svc.CreateEndpoint(ctx, f.other.ID, otherWS.srv.URL, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateEndpoint(ctx, f.ws.ID, all.srv.URL, nil); !errors.Is(err, outbound.ErrConflict) {
			t.Fatalf("duplicate URL: %v, want ErrConflict", err)
		}

		accounts := account.NewService(d, f.clock)
		accounts.OnFlip("outbound", f.svc.OnAccountFlip)
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: f.ws.ID, ProviderAccountID: "p1", Name: "Ada", Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		cp := account.TerminalCredentials()
		if _, err := accounts.Flip(ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusDisconnected, Copy: &cp,
			Reason: "credentials", Source: account.SourceWebhook, Actor: "system"}); err != nil {
			t.Fatal(err)
		}
		if _, err := accounts.Flip(ctx, account.FlipRequest{AccountID: a.ID, To: account.StatusConnected,
			Reason: "reconnected", Source: account.SourceWebhook, Actor: "system"}); err != nil {
			t.Fatal(err)
		}
		f.emit(t, f.ws.ID, outbound.EventMessageSent, map[string]string{"m": "1"})

		if _, err := f.svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		types := func(r *receiver) []string {
			var out []string
			for _, g := range r.received() {
				out = append(out, g.body["type"].(string))
			}
			slices.Sort(out) // deliveries carry no ordering guarantee
			return out
		}
		if got := strings.Join(types(all), ","); got != "linkedin.account_connected,linkedin.account_disconnected,linkedin.message_sent" {
			t.Fatalf("catch-all endpoint got %s", got)
		}
		if got := strings.Join(types(accountsOnly), ","); got != "linkedin.account_connected,linkedin.account_disconnected" {
			t.Fatalf("filtered endpoint got %s", got)
		}
		if got := types(otherWS); len(got) != 0 {
			t.Fatalf("another workspace's endpoint got %v", got)
		}
		var data map[string]any
		for _, g := range all.received() {
			if g.body["type"] == outbound.EventAccountDisconnected {
				data = g.body["data"].(map[string]any)
			}
		}
		if data["account_id"] != a.ID || data["previous_status"] != "connected" || data["status"] != "disconnected" {
			t.Fatalf("disconnect data %v", data)
		}

		// Another workspace cannot delete an endpoint; its owner can, and a
		// deleted endpoint gets nothing more.
		eps, err := f.svc.ListEndpoints(ctx, f.ws.ID)
		if err != nil || len(eps) != 2 {
			t.Fatalf("ListEndpoints = %v, %v", eps, err)
		}
		if eps[0].URL != all.srv.URL {
			eps[0], eps[1] = eps[1], eps[0]
		}
		if err := f.svc.DeleteEndpoint(ctx, f.other.ID, eps[0].ID); !errors.Is(err, outbound.ErrNotFound) {
			t.Fatalf("cross-workspace delete: %v", err)
		}
		if err := f.svc.DeleteEndpoint(ctx, f.ws.ID, eps[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteEndpoint(ctx, f.ws.ID, eps[0].ID); !errors.Is(err, outbound.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_endpoints WHERE id = $1 AND secret = ''`, eps[0].ID); n != 1 {
			t.Fatal("a deleted endpoint kept its secret")
		}
		f.emit(t, f.ws.ID, outbound.EventMessageSent, nil)
		if _, err := f.svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(all.received()); got != 3 {
			t.Fatalf("deleted endpoint received %d requests, want still 3", got)
		}
		if all.badSigns+accountsOnly.badSigns+otherWS.badSigns != 0 {
			t.Fatal("a signature did not verify")
		}
	})
}

func TestValidation(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		for _, u := range []string{"", "ftp://x.example/", "http://", "https://user:pw@x.example/", "not a url", "/relative", "https://x.example/#frag"} {
			var ve *outbound.ValidationError
			if _, _, err := f.svc.CreateEndpoint(ctx, f.ws.ID, u, nil); !errors.As(err, &ve) || ve.Field != "url" {
				t.Errorf("url %q: %v, want a url ValidationError", u, err)
			}
		}
		var ve *outbound.ValidationError
		if _, _, err := f.svc.CreateEndpoint(ctx, f.ws.ID, "https://x.example/h", []string{"linkedin.bogus"}); !errors.As(err, &ve) || ve.Field != "events" {
			t.Errorf("unknown event: %v", err)
		}
	})
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"evt_1"}`)
	h := outbound.Sign("s3cret", now, body)
	if err := outbound.Verify("s3cret", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
	}{
		"wrong secret": {"other", h, body, now},
		"tampered":     {"s3cret", h, []byte(`{"id":"evt_2"}`), now},
		"stale":        {"s3cret", h, body, now.Add(10 * time.Minute)},
		"future":       {"s3cret", h, body, now.Add(-10 * time.Minute)},
		"empty":        {"s3cret", "", body, now},
		"no v1":        {"s3cret", "t=1", body, now},
	} {
		if err := outbound.Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); !errors.Is(err, outbound.ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
}
