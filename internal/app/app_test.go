package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSandbox runs a whole Keel process on loopback in sandbox mode.
func startSandbox(t *testing.T) (*App, string, *syncBuffer) {
	a, base, out, _ := startSandboxLogs(t)
	return a, base, out
}

func startSandboxLogs(t *testing.T) (*App, string, *syncBuffer, *syncBuffer) {
	return startSandboxWith(t, nil)
}

func startSandboxWith(t *testing.T, c clock.Clock) (*App, string, *syncBuffer, *syncBuffer) {
	t.Helper()
	return startSandboxOn(t, "sqlite:"+filepath.Join(t.TempDir(), "keel.db"), c)
}

// startSandboxOn is startSandboxWith on the database dbURL names.
func startSandboxOn(t *testing.T, dbURL string, c clock.Clock) (*App, string, *syncBuffer, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := config.Config{DatabaseURL: dbURL, Addr: addr,
		PublicURL: "http://" + addr, HealthInterval: time.Minute, SchedulerInterval: time.Minute,
		MinSpacing: time.Minute, Workers: 2, OutboundAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	out := &syncBuffer{}
	logs := &syncBuffer{}
	a, err := Open(context.Background(), cfg, Options{Out: out, Listener: ln, Clock: c,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		a.Close()
	})
	base := "http://" + addr
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(logs.String(), "Keel is listening") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready in time; output: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a, base, out, logs
}

func TestServeSandbox(t *testing.T) {
	t.Parallel()
	a, base, out := startSandbox(t)

	t.Run("SaysSandboxLoudly", func(t *testing.T) {
		if !strings.Contains(out.String(), "SANDBOX MODE") {
			t.Fatalf("start-up output: %s", out.String())
		}
	})
	t.Run("HealthAndReadiness", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(base + path)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %v %v", path, resp, err)
			}
			resp.Body.Close()
		}
	})
	t.Run("RegistersOneWebhookPerSource", func(t *testing.T) {
		hooks, err := a.Provider.AllWebhooks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(hooks) != 3 {
			t.Fatalf("webhooks registered with the provider: %+v", hooks)
		}
	})
	t.Run("DemoAccountsAndTokenWork", func(t *testing.T) {
		tok := ""
		for _, f := range strings.Fields(out.String()) {
			if strings.HasPrefix(f, "keel_") {
				tok = f
			}
		}
		req, _ := http.NewRequest("GET", base+"/api/v1/accounts", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Items []account.Account `json:"items"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Items) != 3 {
			t.Fatalf("demo accounts: %v %+v", err, body)
		}
		reconnect := 0
		for _, acc := range body.Items {
			if acc.ReconnectNeeded() {
				reconnect++
			}
		}
		if reconnect != 1 {
			t.Fatalf("the demo shows exactly one account needing a reconnect, got %d", reconnect)
		}
	})
}

func TestReconnectEndToEndOverHTTP(t *testing.T) {
	t.Parallel()
	a, base, out := startSandbox(t)
	tok := ""
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "keel_") {
			tok = f
		}
	}
	call := func(method, path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, body)
		}
		return body
	}
	var broken string
	for _, it := range call("GET", "/api/v1/accounts")["items"].([]any) {
		acc := it.(map[string]any)
		if acc["status"] == "disconnected" {
			broken = acc["id"].(string)
		}
	}
	if broken == "" {
		t.Fatal("the demo has no disconnected account")
	}
	link := call("POST", "/api/v1/accounts/"+broken+"/reconnect")["url"].(string)
	if !strings.Contains(link, SandboxPrefix+"/hosted/") {
		t.Fatalf("the sandbox link must open the sandbox page: %s", link)
	}
	// The page the user would open answers with the approve/fail form.
	resp, err := http.Get(link)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("hosted page: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := a.Sandbox.CompleteHostedAuth(fake.TokenFromURL(link), true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		acc := call("GET", "/api/v1/accounts/"+broken)
		if acc["status"] == "connected" {
			if acc["last_error"] != "" || acc["disconnected_at"] != nil || acc["strikes"] != float64(0) {
				t.Fatalf("reconnected account kept its markers: %v", acc)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("account not reconnected: %v", acc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	trail := call("GET", "/api/v1/accounts/"+broken+"/audit")["items"].([]any)
	newest := trail[0].(map[string]any)
	// The notify_url callback and the account_status webhook race; either
	// one flips the account, audited, and the other is a no-op.
	if newest["to"] != "connected" || (newest["source"] != "hosted_auth" && newest["source"] != "webhook") {
		t.Fatalf("the reconnect is not audited as a provider-evidenced flip: %v", newest)
	}
	connects := 0
	for _, it := range trail {
		if it.(map[string]any)["to"] == "connected" {
			connects++
		}
	}
	if connects != 2 { // the demo's initial connect, then this reconnect
		t.Fatalf("one reconnect must write one audit row: %v", trail)
	}
}

func TestMetricsRequestIDsRateLimitsAndNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	a, base, out, logs := startSandboxLogs(t)
	tok := ""
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "keel_") {
			tok = f
		}
	}
	get := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/metrics", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`keel_accounts{status="connected"} 2`, `keel_accounts{status="disconnected"} 1`,
		"keel_account_flips_total", "keel_burst_guard_open 0", "keel_queue_jobs", "keel_metrics_query_errors 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	resp = get("/api/v1/accounts", map[string]string{"Authorization": "Bearer " + tok, "X-Request-Id": "req-abc"})
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "req-abc" {
		t.Errorf("request id not echoed: %q", resp.Header.Get("X-Request-Id"))
	}
	// An outbound webhook endpoint gets a signed account event for a flip.
	got := make(chan error, 4)
	var hookSecret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- outbound.Verify(hookSecret, r.Header.Get(outbound.SignatureHeader), body, time.Now(), time.Minute)
	}))
	defer receiver.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/webhooks", strings.NewReader(`{"url": "`+receiver.URL+`/hook", "events": ["linkedin.account_disconnected"]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	hookSecret, _ = created["secret"].(string)
	if resp.StatusCode != http.StatusCreated || hookSecret == "" {
		t.Fatalf("creating an outbound endpoint: %d %v", resp.StatusCode, created)
	}
	list, _ := a.Accounts.List(context.Background(), a.DB.SQL, account.ListOptions{})
	for _, acc := range list {
		if acc.Status == account.StatusConnected {
			c := account.TerminalOperator()
			if _, err := a.Accounts.Flip(context.Background(), account.FlipRequest{AccountID: acc.ID, To: account.StatusDisconnected,
				Copy: &c, Reason: "test", Source: account.SourceOperator}); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	// The running app's own delivery pass may get there first (it runs
	// every 15 s); either way the receiver gets the event once it is due.
	if _, err := a.Outbound.DeliverDue(context.Background()); err != nil {
		t.Fatalf("delivering: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("the receiver could not verify the signature: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the flip's event was never delivered")
	}
	resp = get("/metrics", nil)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `keel_outbound_deliveries{state="delivered"} 1`) {
		t.Errorf("/metrics does not count the outbound delivery")
	}

	// Frozen time: the burst is exhausted whatever the machine's speed.
	frozen := time.Now()
	a.limiter.SetClock(clock.NewFake(frozen))
	limited := 0
	for i := 0; i < APIBurst+20; i++ {
		resp := get("/api/v1/alerts", map[string]string{"Authorization": "Bearer " + tok})
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited < 20 {
		t.Errorf("%d requests at one instant: %d limited, want at least 20", APIBurst+20, limited)
	}
	// A webhook with a wrong secret, then a right one: neither secret (nor
	// the API token, nor the provider key) may reach a log line.
	for _, secret := range []string{"wrong-secret-value", a.WebhookSecret} {
		req, _ := http.NewRequest("POST", base+"/webhooks/unipile", strings.NewReader(`{"event":"nothing"}`))
		req.Header.Set("X-Keel-Webhook-Secret", secret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	text := logs.String()
	if !strings.Contains(text, "req-abc") {
		t.Error("request logs do not carry the request id")
	}
	password := ""
	if i := strings.Index(out.String(), "password "); i >= 0 {
		password = strings.Fields(out.String()[i+len("password "):])[0]
	}
	if len(password) < 12 {
		t.Fatalf("the sandbox start-up output must say how to sign in: %s", out.String())
	}
	for name, secret := range map[string]string{"API token": tok, "webhook secret": a.WebhookSecret, "outbound secret": hookSecret, "demo password": password,
		"wrong secret": "wrong-secret-value", "provider key": a.Sandbox.APIKey()} {
		if secret != "" && strings.Contains(text, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// TestWhitespaceTokenVariantsShareOneBucket: however the Authorization
// header is spelled, one token draws from one bucket; requests that do not
// authenticate draw from their address's.
func TestWhitespaceTokenVariantsShareOneBucket(t *testing.T) {
	t.Parallel()
	// The app's clock is frozen, so no bucket refills during the test.
	_, base, out, _ := startSandboxWith(t, clock.NewFake(time.Now()))
	tok := ""
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "keel_") {
			tok = f
		}
	}
	if tok == "" {
		t.Fatal("no demo token printed")
	}
	variants := []string{"Bearer " + tok, "Bearer  " + tok, "Bearer " + tok + " ", "Bearer \t" + tok}
	codes := map[int]int{}
	for i := 0; i < 300; i++ {
		req, _ := http.NewRequest("GET", base+"/api/v1/alerts", nil)
		req.Header.Set("Authorization", variants[i%len(variants)])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusOK] != APIBurst || codes[http.StatusTooManyRequests] != 300-APIBurst {
		t.Fatalf("300 requests with %d spellings of one token: %v, want %d OK and the rest 429", len(variants), codes, APIBurst)
	}
	// Failed authentication is limited per address: a burst of bad tokens,
	// then 429 before any lookup.
	codes = map[int]int{}
	for i := 0; i < APIBurst+10; i++ {
		req, _ := http.NewRequest("GET", base+"/api/v1/alerts", nil)
		req.Header.Set("Authorization", "Bearer keel_wrong"+strconv.Itoa(i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusUnauthorized] != APIBurst || codes[http.StatusTooManyRequests] != 10 {
		t.Fatalf("%d requests with wrong tokens: %v, want %d 401 and 10 429", APIBurst+10, codes, APIBurst)
	}
}

// TestReconnectCancelsHeldDisconnects: a CREDENTIALS webhook beyond the
// mass-disconnect limit is held; an OK for that account afterwards makes the
// hold stale, and releasing holds later must not disconnect it.
func TestReconnectCancelsHeldDisconnects(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(time.Now())
	a, base, _, _ := startSandboxWith(t, c)
	ctx := context.Background()
	list, _ := a.Accounts.List(ctx, a.DB.SQL, account.ListOptions{})
	ws := list[0].WorkspaceID
	var connected []account.Account
	for i := 0; i < 7; i++ {
		acc, err := a.Accounts.Create(ctx, a.DB.SQL, account.NewAccount{WorkspaceID: ws, ProviderAccountID: fmt.Sprintf("held-%d", i), Status: account.StatusConnected})
		if err != nil {
			t.Fatal(err)
		}
		connected = append(connected, acc)
	}
	post := func(providerID, message string) {
		t.Helper()
		body := fmt.Sprintf(`{"AccountStatus":{"account_id":%q,"account_type":"LINKEDIN","message":%q}}`, providerID, message)
		req, _ := http.NewRequest("POST", base+"/webhooks/unipile", strings.NewReader(body))
		req.Header.Set("X-Keel-Webhook-Secret", a.WebhookSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("webhook: %v %v", resp, err)
		}
		resp.Body.Close()
		if _, err := a.Webhooks.ProcessPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Ten accounts: the limiter lets max(3, 5%) = 3 disconnects through.
	for _, acc := range connected[:4] {
		post(acc.ProviderAccountID, "CREDENTIALS")
	}
	held, err := a.Health.Held(ctx)
	if err != nil || len(held) != 1 {
		t.Fatalf("held disconnects: %+v %v", held, err)
	}
	heldAccount := held[0].AccountID
	var heldProvider string
	for _, acc := range connected {
		if acc.ID == heldAccount {
			heldProvider = acc.ProviderAccountID
		}
	}
	post(heldProvider, "OK")
	c.Advance(11 * time.Minute) // the limiter's window has room again
	if n, err := a.Health.ReleaseHeld(ctx); err != nil || n != 0 {
		t.Fatalf("released %d stale holds: %v", n, err)
	}
	got, _ := a.Accounts.Get(ctx, a.DB.SQL, "", heldAccount)
	if got.Status != account.StatusConnected {
		t.Fatalf("a stale hold disconnected a healthy account: %s", got.Status)
	}
}
