package outbound_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/workspace"
)

// fakeDNS answers host names from a table the test can change, so a name
// can resolve to a public address at registration and to loopback at
// delivery (DNS rebinding). Unknown names do not resolve.
type fakeDNS struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
}

func newFakeDNS(names map[string]string) *fakeDNS {
	f := &fakeDNS{names: map[string][]netip.Addr{}}
	for n, a := range names {
		f.set(n, a)
	}
	return f
}

func (f *fakeDNS) set(name string, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names[name] = nil
	for _, a := range addrs {
		f.names[name] = append(f.names[name], netip.MustParseAddr(a))
	}
}

func (f *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.names[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// quiet discards the service's log lines in tests that do not read them.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// countingServer is a loopback receiver that counts the requests reaching it.
func countingServer(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func workspaceFor(t *testing.T, d *db.DB, c clock.Clock) workspace.Workspace {
	t.Helper()
	ws, err := workspace.Create(context.Background(), d.SQL, "acme", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func urlError(t *testing.T, err error) string {
	t.Helper()
	var ve *outbound.ValidationError
	if !errors.As(err, &ve) || ve.Field != "url" {
		t.Fatalf("got %v, want a ValidationError on url", err)
	}
	return ve.Message
}

func TestRegistrationRefusesNonPublicDestinations(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws := workspaceFor(t, d, c)
		dns := newFakeDNS(map[string]string{
			"loop.example.test":   "127.0.0.1",
			"meta.example.test":   "169.254.169.254",
			"public.example.test": "203.0.113.7",
			"localhost":           "127.0.0.1",
		})
		dns.set("mixed.example.test", "203.0.113.8", "10.1.2.3")
		own := []string{"127.0.0.1:8080", "[::]:9090", "keel.example.test:443"}
		strict := outbound.New(outbound.Options{DB: d, Clock: c, Logger: quiet, Resolver: dns, OwnAddrs: own})
		for raw, want := range map[string]string{
			"http://127.0.0.1:5432/":                     outbound.RefusedLoopback,
			"http://127.0.0.1:1/":                        outbound.RefusedLoopback,
			"https://10.0.0.1/hook":                      outbound.RefusedPrivate,
			"https://192.168.1.20/hook":                  outbound.RefusedPrivate,
			"https://172.16.0.5/hook":                    outbound.RefusedPrivate,
			"https://100.64.0.1/hook":                    outbound.RefusedPrivate,
			"http://169.254.169.254/latest/meta-data/":   outbound.RefusedLinkLocal,
			"http://[::1]/hook":                          outbound.RefusedLoopback,
			"http://[::ffff:127.0.0.1]/hook":             outbound.RefusedLoopback,
			"http://[::ffff:a9fe:a9fe]/hook":             outbound.RefusedLinkLocal,
			"http://[fd12:3456::1]/hook":                 outbound.RefusedPrivate,
			"http://[fe80::1]/hook":                      outbound.RefusedLinkLocal,
			"http://224.0.0.1/hook":                      outbound.RefusedMulticast,
			"http://[ff02::1]/hook":                      outbound.RefusedMulticast,
			"http://0.0.0.0:8080/hook":                   outbound.RefusedUnspecified,
			"http://0.0.0.0/hook":                        outbound.RefusedUnspecified,
			"http://[::]/hook":                           outbound.RefusedUnspecified,
			"http://loop.example.test/hook":              outbound.RefusedLoopback,
			"http://LOOP.example.test./hook":             outbound.RefusedLoopback,
			"http://meta.example.test/latest/":           outbound.RefusedLinkLocal,
			"https://mixed.example.test/hook":            outbound.RefusedPrivate,
			"https://keel.example.test/webhooks/unipile": outbound.RefusedSelf,
			"https://nowhere.example.test/hook":          "host name does not resolve",
		} {
			_, _, err := strict.CreateEndpoint(ctx, ws.ID, raw, nil)
			if got := urlError(t, err); got != want {
				t.Errorf("%s: %q, want %q", raw, got, want)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_endpoints`); n != 0 {
			t.Fatalf("%d refused endpoints were stored", n)
		}
		if _, _, err := strict.CreateEndpoint(ctx, ws.ID, "https://public.example.test/hook", nil); err != nil {
			t.Fatalf("a public destination: %v", err)
		}

		// An allow-list admits the networks it covers, and nothing else;
		// Keel's own addresses stay refused even inside it.
		allowed := outbound.New(outbound.Options{DB: d, Clock: c, Logger: quiet, Resolver: dns, OwnAddrs: own,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
		for _, raw := range []string{"http://127.0.0.1:5432/", "https://10.0.0.1/hook", "http://loop.example.test/hook", "http://[::1]:8080/hook"} {
			if _, _, err := allowed.CreateEndpoint(ctx, ws.ID, raw, nil); err != nil {
				t.Errorf("%s inside the allow-list: %v", raw, err)
			}
		}
		for raw, want := range map[string]string{
			"https://192.168.1.20/hook":              outbound.RefusedPrivate,
			"http://169.254.169.254/":                outbound.RefusedLinkLocal,
			"http://127.0.0.1:8080/webhooks/unipile": outbound.RefusedSelf,
			"http://localhost:8080/webhooks/unipile": outbound.RefusedSelf,
			"http://127.0.0.1:9090/":                 outbound.RefusedSelf,
			"http://[::1]:9090/":                     outbound.RefusedSelf,
		} {
			_, _, err := allowed.CreateEndpoint(ctx, ws.ID, raw, nil)
			if got := urlError(t, err); got != want {
				t.Errorf("%s with an allow-list: %q, want %q", raw, got, want)
			}
		}
	})
}

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	got, err := outbound.ParseAllowList(" 10.0.0.0/8, ,192.168.1.7,fd00::/8 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "ten", "10.0.0.0/8,nope"} {
		if _, err := outbound.ParseAllowList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// deliverOnce emits one event and runs one delivery pass.
func deliverOnce(t *testing.T, d *db.DB, svc *outbound.Service, wsID string) {
	t.Helper()
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *sql.Tx) error {
		return svc.Emit(ctx, tx, wsID, outbound.EventMessageSent, map[string]string{"n": "1"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
}

func lastErrors(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.SQL.Query(`SELECT COALESCE(last_error, '') FROM outbound_deliveries ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestDeliveryRefusedAfterRebinding(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws := workspaceFor(t, d, c)
		srv, hits := countingServer(t, http.StatusNoContent)
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		dns := newFakeDNS(map[string]string{"rebind.example.test": "203.0.113.9"})
		svc := outbound.New(outbound.Options{DB: d, Clock: c, Logger: quiet, Resolver: dns, Timeout: 5 * time.Second})
		ep, _, err := svc.CreateEndpoint(ctx, ws.ID, "http://rebind.example.test:"+strconv.Itoa(port)+"/hook", nil)
		if err != nil {
			t.Fatalf("registering a name that resolves to a public address: %v", err)
		}
		// The name now answers with the loopback test server.
		dns.set("rebind.example.test", "127.0.0.1")
		deliverOnce(t, d, svc, ws.ID)
		if n := hits.Load(); n != 0 {
			t.Fatalf("the loopback server got %d requests after rebinding, want 0", n)
		}
		if got := lastErrors(t, d); len(got) != 1 || got[0] != outbound.RefusedLoopback {
			t.Fatalf("delivery errors %q, want %q", got, outbound.RefusedLoopback)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_delivery_attempts WHERE error = $1 AND status_code IS NULL`, outbound.RefusedLoopback); n != 1 {
			t.Fatalf("%d refused attempts logged, want 1", n)
		}
		// A refused destination is a permanent failure: a day of it
		// disables the endpoint.
		c.Advance(outbound.DisableAfter)
		deliverOnce(t, d, svc, ws.ID)
		eps, err := svc.ListEndpoints(ctx, ws.ID)
		if err != nil || len(eps) != 1 || eps[0].ID != ep.ID || eps[0].Active {
			t.Fatalf("endpoints %+v (%v), want %s disabled", eps, err, ep.ID)
		}
		if n := hits.Load(); n != 0 {
			t.Fatalf("the loopback server got %d requests, want 0", n)
		}

		// Keel's own address is refused at delivery too, even inside the
		// allow-list: the name rebinds to where Keel listens.
		own := srv.Listener.Addr().String()
		dns.set("self.example.test", "203.0.113.10")
		self := outbound.New(outbound.Options{DB: d, Clock: c, Logger: quiet, Resolver: dns, Timeout: 5 * time.Second,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, OwnAddrs: []string{own}})
		if _, _, err := self.CreateEndpoint(ctx, ws.ID, "http://self.example.test:"+strconv.Itoa(port)+"/", nil); err != nil {
			t.Fatal(err)
		}
		dns.set("self.example.test", "127.0.0.1")
		deliverOnce(t, d, self, ws.ID)
		if n := hits.Load(); n != 0 {
			t.Fatalf("Keel's own address got %d requests, want 0", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_deliveries WHERE last_error = $1`, outbound.RefusedSelf); n != 1 {
			t.Fatalf("deliveries %q: want one refused as Keel's own address", lastErrors(t, d))
		}
	})
}

func TestTenantVisibleErrorsCarryNoDialText(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws := workspaceFor(t, d, c)
		// A TLS handshake under -race on a loaded machine can take over a second.
		svc := outbound.New(outbound.Options{DB: d, Clock: c, Timeout: 5 * time.Second, Logger: quiet,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})

		// A port nobody listens on.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String() + "/"
		ln.Close()
		// A receiver that answers 500 with a revealing body.
		leaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "pq: password authentication failed for user postgres")
		}))
		t.Cleanup(leaky.Close)
		// One that hangs up without answering.
		hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
		t.Cleanup(hangup.Close)
		// One that never answers within the timeout.
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(slow.Close)
		t.Cleanup(func() { close(release) })
		// TLS with a certificate Keel does not trust, and plain HTTP spoken
		// to an https:// URL.
		tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(tlsSrv.Close)
		plain := "https://" + strings.TrimPrefix(leaky.URL, "http://") + "/plain"

		want := map[string]string{
			closed:           outbound.FailConnection,
			leaky.URL + "/":  "HTTP 500",
			hangup.URL + "/": outbound.FailConnection,
			slow.URL + "/":   outbound.FailTimeout,
			tlsSrv.URL + "/": outbound.FailTLS,
			plain:            outbound.FailTLS,
		}
		ids := map[string]string{}
		for raw := range want {
			ep, _, err := svc.CreateEndpoint(ctx, ws.ID, raw, nil)
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			ids[ep.ID] = raw
		}
		deliverOnce(t, d, svc, ws.ID)
		list, err := svc.ListDeliveries(ctx, ws.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(want) {
			t.Fatalf("%d deliveries, want %d", len(list), len(want))
		}
		for _, dl := range list {
			if got, w := dl.LastError, want[ids[dl.EndpointID]]; got != w {
				t.Errorf("%s: last_error %q, want %q", ids[dl.EndpointID], got, w)
			}
		}
		rows, err := d.SQL.Query(`SELECT COALESCE(error, '') FROM outbound_delivery_attempts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				t.Fatal(err)
			}
			for _, leak := range []string{"127.0.0.1", "dial", "refused", "EOF", "password", "x509", "certificate", "deadline"} {
				if strings.Contains(e, leak) {
					t.Errorf("attempt error %q reveals %q", e, leak)
				}
			}
		}
	})
}

func TestEndpointDisabledAfterADayOfPermanentFailures(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws := workspaceFor(t, d, c)
		var status atomic.Int64
		status.Store(http.StatusNotFound)
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(int(status.Load()))
		}))
		t.Cleanup(srv.Close)
		svc := outbound.New(outbound.Options{DB: d, Clock: c, Logger: quiet, Timeout: 5 * time.Second,
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		ep, _, err := svc.CreateEndpoint(ctx, ws.ID, srv.URL+"/hook", nil)
		if err != nil {
			t.Fatal(err)
		}
		failingSince := func() sql.NullTime {
			t.Helper()
			var v sql.NullTime
			if err := d.SQL.QueryRow(`SELECT failing_since FROM outbound_endpoints WHERE id = $1`, ep.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		active := func() outbound.Endpoint {
			t.Helper()
			eps, err := svc.ListEndpoints(ctx, ws.ID)
			if err != nil || len(eps) != 1 {
				t.Fatalf("endpoints %+v (%v)", eps, err)
			}
			return eps[0]
		}

		// Transient failures (5xx, 408, 429) do not start the run.
		for _, code := range []int{500, 408, 429} {
			status.Store(int64(code))
			deliverOnce(t, d, svc, ws.ID)
			if failingSince().Valid {
				t.Fatalf("HTTP %d started a run of permanent failures", code)
			}
		}
		// A 404 starts it; a success a while later ends it, so a 404 a day
		// after the first does not disable the endpoint.
		status.Store(http.StatusNotFound)
		deliverOnce(t, d, svc, ws.ID)
		if !failingSince().Valid {
			t.Fatal("a 404 did not start a run of permanent failures")
		}
		c.Advance(time.Hour)
		status.Store(http.StatusOK)
		deliverOnce(t, d, svc, ws.ID)
		if failingSince().Valid {
			t.Fatal("a success did not end the run")
		}
		status.Store(http.StatusGone)
		c.Advance(time.Hour)
		deliverOnce(t, d, svc, ws.ID) // the run starts again here
		start := c.Now()
		c.Advance(outbound.DisableAfter - time.Hour - time.Second)
		deliverOnce(t, d, svc, ws.ID)
		if e := active(); !e.Active || e.DisabledAt != nil {
			t.Fatalf("endpoint disabled before a day of permanent failures: %+v", e)
		}
		// One event now in backoff and one more pending at the moment the
		// run reaches a day: the due one is tried, disables the endpoint,
		// and the other is failed without a request.
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			return svc.Emit(ctx, tx, ws.ID, outbound.EventReplyReceived, nil)
		}); err != nil {
			t.Fatal(err)
		}
		c.Set(start.Add(outbound.DisableAfter))
		before := hits.Load()
		if _, err := svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := hits.Load() - before; got != 1 {
			t.Fatalf("%d requests in the disabling pass, want 1", got)
		}
		e := active()
		if e.Active || e.DisabledAt == nil || !strings.Contains(e.DisabledReason, "HTTP 410") {
			t.Fatalf("endpoint %+v, want disabled with a reason naming HTTP 410", e)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_deliveries WHERE state = $1`, outbound.StatePending); n != 0 {
			t.Fatalf("%d deliveries still pending on a disabled endpoint", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbound_deliveries WHERE last_error = $1`, outbound.FailEndpointDisabled); n == 0 {
			t.Fatal("no delivery says the endpoint was disabled")
		}
		// Nothing more is sent, and the alert is raised once.
		c.Advance(time.Hour)
		deliverOnce(t, d, svc, ws.ID)
		c.Advance(24 * time.Hour)
		if _, err := svc.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := hits.Load() - before; got != 1 {
			t.Fatalf("a disabled endpoint got %d more requests", got-1)
		}
		alerts, err := alert.List(ctx, d.SQL, alert.Filter{WorkspaceID: ws.ID, Kind: alert.KindWebhookEndpointDisabled})
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 1 || alerts[0].Occurrences != 1 || alerts[0].WorkspaceID != ws.ID || !strings.Contains(alerts[0].Message, ep.ID) {
			t.Fatalf("alerts %+v, want one for the workspace naming %s", alerts, ep.ID)
		}
	})
}

func TestDatabaseHoldsDisabledStateAndErrorVocabulary(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws := workspaceFor(t, d, c)
		svc := outbound.New(outbound.Options{DB: d, Clock: c, Logger: quiet, Resolver: newFakeDNS(map[string]string{"hooks.example.com": "203.0.113.10"})})
		ep, _, err := svc.CreateEndpoint(ctx, ws.ID, "https://hooks.example.com/k", nil)
		if err != nil {
			t.Fatal(err)
		}
		now := c.Now()
		for name, q := range map[string]string{
			"disabled without a reason":    `UPDATE outbound_endpoints SET active = $2, failing_since = $3, disabled_at = $3 WHERE id = $1`,
			"a reason without disabling":   `UPDATE outbound_endpoints SET active = $2, failing_since = $3, disabled_reason = 'x' WHERE id = $1`,
			"disabled but still active":    `UPDATE outbound_endpoints SET active = NOT $2, failing_since = $3, disabled_at = $3, disabled_reason = 'x' WHERE id = $1`,
			"disabled with no failure run": `UPDATE outbound_endpoints SET active = $2, disabled_at = $3, disabled_reason = 'x' WHERE id = $1`,
		} {
			_, err := d.SQL.ExecContext(ctx, q, ep.ID, false, now)
			if !db.ViolatesConstraint(err, "outbound_endpoints_disabled_chk") {
				t.Errorf("%s: %v, want outbound_endpoints_disabled_chk", name, err)
			}
		}
		if _, err := d.SQL.ExecContext(ctx, `UPDATE outbound_endpoints SET active = $2, failing_since = $3, disabled_at = $3, disabled_reason = 'x' WHERE id = $1`,
			ep.ID, false, now); err != nil {
			t.Fatalf("a consistent disabled state: %v", err)
		}

		if _, err := d.SQL.ExecContext(ctx, `UPDATE outbound_endpoints SET active = $2, failing_since = NULL, disabled_at = NULL, disabled_reason = NULL WHERE id = $1`, ep.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			return svc.Emit(ctx, tx, ws.ID, outbound.EventMessageSent, nil)
		}); err != nil {
			t.Fatal(err)
		}
		var deliveryID string
		if err := d.SQL.QueryRow(`SELECT id FROM outbound_deliveries`).Scan(&deliveryID); err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"dial tcp 127.0.0.1:5432: connect: connection refused", "EOF", "receiver answered HTTP 401", "HTTP 5000"} {
			_, err := d.SQL.ExecContext(ctx, `UPDATE outbound_deliveries SET last_error = $1 WHERE id = $2`, raw, deliveryID)
			if !db.ViolatesConstraint(err, "outbound_deliveries_error_vocabulary_chk") {
				t.Errorf("last_error %q: %v, want outbound_deliveries_error_vocabulary_chk", raw, err)
			}
			_, err = d.SQL.ExecContext(ctx, `INSERT INTO outbound_delivery_attempts (id, delivery_id, attempt, error, duration_ms, attempted_at)
				VALUES ('wha_x', $1, 1, $2, 0, $3)`, deliveryID, raw, now)
			if !db.ViolatesConstraint(err, "outbound_delivery_attempts_error_vocabulary_chk") {
				t.Errorf("attempt error %q: %v, want outbound_delivery_attempts_error_vocabulary_chk", raw, err)
			}
		}
		for _, ok := range []string{"HTTP 503", outbound.FailTimeout, outbound.RefusedSelf} {
			if _, err := d.SQL.ExecContext(ctx, `UPDATE outbound_deliveries SET last_error = $1 WHERE id = $2`, ok, deliveryID); err != nil {
				t.Errorf("last_error %q: %v", ok, err)
			}
		}
	})
}

// Delivery logs written before the vocabulary rule are rewritten to it by
// the migration: a status code becomes "HTTP <code>", anything else
// "connection failed".
func TestMigrationRewritesOldDeliveryErrors(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := dbtest.Open(t, e, dbtest.Options{MigrateTo: 13})
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			ws, err := workspace.Create(ctx, d.SQL, "acme", "", now)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`INSERT INTO outbound_endpoints (id, workspace_id, url, secret, created_at) VALUES ('whe_1', $1, 'http://127.0.0.1:5432/', '` + strings.Repeat("k", 64) + `', $2)`,
				`INSERT INTO outbound_events (id, workspace_id, type, body, created_at) VALUES ('evt_1', $1, 'linkedin.message_sent', '{}', $2)`,
				`INSERT INTO outbound_events (id, workspace_id, type, body, created_at) VALUES ('evt_2', $1, 'linkedin.message_sent', '{}', $2)`,
				`INSERT INTO outbound_deliveries (id, workspace_id, event_id, endpoint_id, state, attempts, next_attempt_at, last_error, created_at, updated_at)
					VALUES ('whd_1', $1, 'evt_1', 'whe_1', 'pending', 1, $2, 'Post "http://127.0.0.1:5432/": dial tcp 127.0.0.1:5432: connect: connection refused', $2, $2)`,
				`INSERT INTO outbound_deliveries (id, workspace_id, event_id, endpoint_id, state, attempts, last_status_code, last_error, created_at, updated_at)
					VALUES ('whd_2', $1, 'evt_2', 'whe_1', 'failed', 8, 401, 'receiver answered HTTP 401', $2, $2)`,
				`INSERT INTO outbound_delivery_attempts (id, delivery_id, attempt, error, duration_ms, attempted_at) SELECT 'wha_1', 'whd_1', 1, 'EOF', 3, $2 WHERE $1 <> ''`,
			} {
				if _, err := d.SQL.ExecContext(ctx, q, ws.ID, now); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := d.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]string{"whd_1": outbound.FailConnection, "whd_2": "HTTP 401"} {
				var got string
				if err := d.SQL.QueryRow(`SELECT last_error FROM outbound_deliveries WHERE id = $1`, id).Scan(&got); err != nil || got != want {
					t.Errorf("%s: last_error %q (%v), want %q", id, got, err, want)
				}
			}
			var got string
			if err := d.SQL.QueryRow(`SELECT error FROM outbound_delivery_attempts WHERE id = 'wha_1'`).Scan(&got); err != nil || got != outbound.FailConnection {
				t.Errorf("attempt error %q (%v), want %q", got, err, outbound.FailConnection)
			}
		})
	}
}
