package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

type obLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *obLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *obLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type obBundle struct {
	srv          *httptest.Server
	svc          *outbound.Service
	d            *db.DB
	clock        *clock.Fake
	logs         *obLog
	wsA          string
	tokA, tokB   string
	rawResponses []string
}

func newOutboundBundle(t *testing.T, d *db.DB) *obBundle {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	logs := &obLog{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := &obBundle{d: d, clock: c, logs: logs}
	mk := func(slug string) (string, string) {
		ws, err := workspace.Create(ctx, d.SQL, slug, "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ws.ID, secret
	}
	b.wsA, b.tokA = mk("alpha")
	_, b.tokB = mk("beta")
	// The receivers are httptest servers on loopback, which deliveries
	// reach only through an explicit allow-list.
	b.svc = outbound.New(outbound.Options{DB: d, Clock: c, Timeout: 5 * time.Second, Logger: logger,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	// Built by hand so the test does not depend on New wiring the routes.
	s := &Server{opts: Options{DB: d, Clock: c, Logger: logger}, mux: http.NewServeMux()}
	s.registerOutboundRoutes(b.svc)
	b.srv = newValidatedServer(t, s)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *obBundle) call(t *testing.T, method, path, tok string, body any) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.rawResponses = append(b.rawResponses, string(raw))
	return resp.StatusCode, string(raw), resp.Header
}

func TestOutboundWebhookRoutes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := newOutboundBundle(t, d)

		var (
			mu      sync.Mutex
			secret  string
			verify  []error
			calls   int
			failing = 1
		)
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			calls++
			verify = append(verify, outbound.Verify(secret, r.Header.Get(outbound.SignatureHeader), body, b.clock.Now(), time.Minute))
			if failing > 0 {
				failing--
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rcv.Close)

		// Validation: bad URL and unknown event are 422 problem+json.
		for _, body := range []map[string]any{
			{"url": "ftp://x.example/"},
			{"url": "not a url"},
			{"url": rcv.URL, "events": []string{"linkedin.bogus"}},
		} {
			code, raw, h := b.call(t, "POST", "/api/v1/webhooks", b.tokA, body)
			if code != http.StatusUnprocessableEntity || h.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("POST %v = %d %s (%s), want 422 problem+json", body, code, raw, h.Get("Content-Type"))
			}
		}
		if code, _, _ := b.call(t, "POST", "/api/v1/webhooks", "", map[string]any{"url": rcv.URL}); code != http.StatusUnauthorized {
			t.Fatalf("unauthenticated POST = %d", code)
		}

		code, raw, _ := b.call(t, "POST", "/api/v1/webhooks", b.tokA, map[string]any{"url": rcv.URL, "events": []string{"linkedin.message_sent"}})
		if code != http.StatusCreated {
			t.Fatalf("create = %d %s", code, raw)
		}
		var created struct {
			ID     string   `json:"id"`
			URL    string   `json:"url"`
			Events []string `json:"events"`
			Secret string   `json:"secret"`
		}
		if err := json.Unmarshal([]byte(raw), &created); err != nil {
			t.Fatal(err)
		}
		if created.ID == "" || created.URL != rcv.URL || len(created.Events) != 1 || len(created.Secret) < 32 {
			t.Fatalf("created %s", raw)
		}
		mu.Lock()
		secret = created.Secret
		mu.Unlock()
		b.rawResponses = nil // from here on, no response may carry the secret

		if code, raw, _ := b.call(t, "POST", "/api/v1/webhooks", b.tokA, map[string]any{"url": rcv.URL}); code != http.StatusConflict {
			t.Fatalf("duplicate = %d %s", code, raw)
		}

		code, raw, _ = b.call(t, "GET", "/api/v1/webhooks", b.tokA, nil)
		if code != http.StatusOK || !strings.Contains(raw, created.ID) {
			t.Fatalf("list = %d %s", code, raw)
		}
		if code, raw, _ := b.call(t, "GET", "/api/v1/webhooks", b.tokB, nil); code != http.StatusOK || strings.Contains(raw, created.ID) {
			t.Fatalf("other workspace list = %d %s", code, raw)
		}

		// An event, a failed attempt, a retry that succeeds.
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			return b.svc.Emit(ctx, tx, b.wsA, outbound.EventMessageSent, map[string]string{"chat_id": "c9"})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(outbound.Backoff(1))
		if _, err := b.svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if calls != 2 {
			t.Fatalf("receiver called %d times, want 2", calls)
		}
		for _, err := range verify {
			if err != nil {
				t.Fatalf("signature: %v", err)
			}
		}
		mu.Unlock()

		code, raw, _ = b.call(t, "GET", "/api/v1/webhooks/deliveries", b.tokA, nil)
		var deliveries listResponse[outbound.Delivery]
		if err := json.Unmarshal([]byte(raw), &deliveries); err != nil || code != http.StatusOK {
			t.Fatalf("deliveries = %d %s", code, raw)
		}
		if len(deliveries.Items) != 1 || deliveries.Items[0].State != outbound.StateDelivered || deliveries.Items[0].Attempts != 2 {
			t.Fatalf("deliveries %s", raw)
		}
		if code, raw, _ := b.call(t, "GET", "/api/v1/webhooks/deliveries", b.tokB, nil); code != http.StatusOK || strings.Contains(raw, created.ID) || strings.Contains(raw, deliveries.Items[0].ID) {
			t.Fatalf("other workspace deliveries = %d %s", code, raw)
		}
		if code, _, _ := b.call(t, "GET", "/api/v1/webhooks/deliveries?limit=0", b.tokA, nil); code != http.StatusBadRequest {
			t.Fatalf("limit=0 = %d", code)
		}

		// Another workspace cannot delete it; the owner can, once.
		if code, _, _ := b.call(t, "DELETE", "/api/v1/webhooks/"+created.ID, b.tokB, nil); code != http.StatusNotFound {
			t.Fatalf("other workspace delete = %d", code)
		}
		if code, _, _ := b.call(t, "DELETE", "/api/v1/webhooks/"+created.ID, b.tokA, nil); code != http.StatusNoContent {
			t.Fatalf("delete = %d", code)
		}
		if code, _, _ := b.call(t, "DELETE", "/api/v1/webhooks/"+created.ID, b.tokA, nil); code != http.StatusNotFound {
			t.Fatalf("second delete = %d", code)
		}
		if code, raw, _ := b.call(t, "GET", "/api/v1/webhooks", b.tokA, nil); code != http.StatusOK || strings.Contains(raw, created.ID) {
			t.Fatalf("list after delete = %d %s", code, raw)
		}

		for _, r := range b.rawResponses {
			if strings.Contains(r, created.Secret) {
				t.Fatalf("a response after creation carries the secret: %s", r)
			}
		}
		if strings.Contains(b.logs.String(), created.Secret) {
			t.Fatal("the secret appears in the log")
		}
		if !strings.Contains(b.logs.String(), "webhook delivery failed") {
			t.Fatalf("the failed attempt was not logged: %s", b.logs.String())
		}
	})
}

func TestOutboundWebhookRoutesUnconfigured(t *testing.T) {
	s := &Server{opts: Options{}, mux: http.NewServeMux()}
	s.registerOutboundRoutes(nil)
	want := []string{"POST /api/v1/webhooks", "GET /api/v1/webhooks", "DELETE /api/v1/webhooks/{id}", "GET /api/v1/webhooks/deliveries"}
	if got := strings.Join(s.Routes(), "|"); got != strings.Join(want, "|") {
		t.Fatalf("routes %s", got)
	}
}

// A workspace cannot aim webhooks at loopback, private or metadata
// addresses: registration answers 422 naming url with the class of
// address, and nothing is stored.
func TestOutboundWebhookRefusesPrivateDestinations(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newOutboundBundle(t, d)
		strict := outbound.New(outbound.Options{DB: d, Clock: b.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		s := &Server{opts: Options{DB: d, Clock: b.clock}, mux: http.NewServeMux()}
		s.registerOutboundRoutes(strict)
		b.srv = newValidatedServer(t, s)
		t.Cleanup(b.srv.Close)
		for url, want := range map[string]string{
			"http://127.0.0.1:5432/":                   "refused: loopback address",
			"http://127.0.0.1:1/":                      "refused: loopback address",
			"http://169.254.169.254/latest/meta-data/": "refused: link-local address",
			"https://10.0.0.1/hook":                    "refused: private address",
			"http://[::1]:8080/hook":                   "refused: loopback address",
		} {
			code, raw, h := b.call(t, "POST", "/api/v1/webhooks", b.tokA, map[string]any{"url": url})
			// errors lists each bad field, as every 422 of the API does.
			var problem struct {
				Errors []fieldError `json:"errors"`
			}
			_ = json.Unmarshal([]byte(raw), &problem)
			if code != http.StatusUnprocessableEntity || h.Get("Content-Type") != "application/problem+json" ||
				len(problem.Errors) != 1 || problem.Errors[0] != (fieldError{Field: "url", Message: want}) {
				t.Errorf("POST %s = %d %s, want 422 with url: %q", url, code, raw, want)
			}
		}
		var n int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM outbound_endpoints`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d endpoints stored (%v), want 0", n, err)
		}
	})
}

// The delivery log a tenant reads classifies failures and carries no dial
// error: it must not tell which internal ports are open.
func TestOutboundDeliveryLogHidesDialErrors(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := newOutboundBundle(t, d)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String() + "/"
		ln.Close()
		if code, raw, _ := b.call(t, "POST", "/api/v1/webhooks", b.tokA, map[string]any{"url": closed}); code != http.StatusCreated {
			t.Fatalf("create = %d %s", code, raw)
		}
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			return b.svc.Emit(ctx, tx, b.wsA, outbound.EventMessageSent, nil)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		code, raw, _ := b.call(t, "GET", "/api/v1/webhooks/deliveries", b.tokA, nil)
		if code != http.StatusOK || !strings.Contains(raw, `"last_error":"connection failed"`) {
			t.Fatalf("deliveries = %d %s, want last_error \"connection failed\"", code, raw)
		}
		for _, leak := range []string{"dial", "refused", "connect:", ln.Addr().String()} {
			if strings.Contains(raw, leak) {
				t.Fatalf("the delivery log reveals %q: %s", leak, raw)
			}
		}
	})
}
