// Package fake is an in-memory Unipile server that speaks the same v1 routes
// and payload shapes as the real API, for Keel's tests and its sandbox mode.
//
// State (accounts, invitations, relations, chats, webhooks, hosted-auth
// links) lives in memory behind one mutex. Test code drives it directly
// (AddAccount, SetAccountStatus, Accept, IncomingMessage, InjectFault…);
// other processes drive it over JSON admin routes under /_fake/ (see
// admin.go). Every API call is logged (Calls) with the account it concerned,
// the fake clock's time and whether its action was applied, so an outside
// checker can count sends per account, day and type and measure spacing.
//
// Webhooks registered through POST /api/v1/webhooks are delivered in
// goroutines, retried on any answer other than 200, and can be awaited with
// WaitIdle instead of sleeping.
package fake

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
)

// DefaultAPIKey is the key the fake expects when Options.APIKey is empty.
const DefaultAPIKey = "sandbox-api-key"

// DefaultAddr is where Start listens when given an empty address: loopback
// only, any free port.
const DefaultAddr = "127.0.0.1:0"

// Delivery defaults. Real Unipile retries five times with growing delays and
// waits 30 s for an answer; the fake keeps the count and shrinks the delay.
const (
	DefaultWebhookRetries = 5                     // retries after the first attempt
	DefaultRetryBackoff   = 10 * time.Millisecond // delay before the first retry
	DefaultWebhookTimeout = 30 * time.Second      // Unipile's documented patience
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// APIKey is the X-API-KEY every /api/ and /_fake/ request must carry;
	// empty means DefaultAPIKey.
	APIKey string
	// Clock stamps calls, invitations, messages and link expiry; nil means
	// the wall clock. Delays (latency, retries) always use real time.
	Clock clock.Clock
	// ReturnURL, when set, is where the hosted page's "Back to Keel" link
	// leads, with ?link=<the link's name> added (Keel names each link with
	// its own link id, so it can send the user to the account's page).
	ReturnURL string
	// PublicURL is the base used in hosted-auth links; empty means the
	// listening URL after Start, or the request's Host when mounted
	// in-process.
	PublicURL string
	// WebhookRetries is how many times a failed delivery is retried after
	// the first attempt (so 1+WebhookRetries attempts in all). Zero means
	// DefaultWebhookRetries; negative means no retries.
	WebhookRetries int
	// RetryBackoff is the delay before the first retry; the n-th retry
	// waits n times as long (an incremental delay, as Unipile describes).
	// Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// WebhookTimeout bounds one delivery attempt; zero means
	// DefaultWebhookTimeout.
	WebhookTimeout time.Duration
	// RelationWebhookDelay postpones new_relation deliveries after Accept
	// (real Unipile: up to 8 hours). Zero delivers at once.
	RelationWebhookDelay time.Duration
	// InviteDailyLimit, when positive, makes the fake answer 422
	// errors/limit_exceeded once an account has sent that many invitations
	// in the current UTC day (by Clock).
	InviteDailyLimit int
	// HTTPClient sends webhook and notify_url deliveries; nil means a
	// default client.
	HTTPClient *http.Client
}

// Server is the fake Unipile. Create it with New; it is safe for concurrent
// use.
type Server struct {
	opts    Options
	apiKey  string
	clock   clock.Clock
	hc      *http.Client
	handler http.Handler

	ctx    context.Context // canceled by Close; aborts hangs and deliveries
	cancel context.CancelFunc

	mu          sync.Mutex
	seq         int64
	accounts    map[string]*account
	acctOrder   []string
	people      map[string]*person // by provider id
	slugs       map[string]string  // public identifier → provider id
	salesNav    map[string]string  // Sales Navigator lead id → provider id
	invitations map[string]*invitation
	invOrder    []string
	relations   map[string][]*relation // by account id, oldest first
	chats       map[string]*chat
	chatOrder   []string
	webhooks    []*webhook
	links       map[string]*hostedLink
	calls       []*Call
	deliveries  []*Delivery
	queues      map[string]*deliveryQueue // by receiver
	faults      []*Fault
	holds       []*answerHold
	burst404    bool
	latency     time.Duration
	jitter      time.Duration // latency varies uniformly by ± jitter

	pending tracker
	bg      sync.WaitGroup

	lnMu    sync.Mutex
	srv     *http.Server
	baseURL string
	closed  bool
}

// New returns a Server with no accounts. Call Start to listen, or mount
// Handler in-process.
func New(opts Options) *Server {
	s := &Server{
		opts:        opts,
		apiKey:      opts.APIKey,
		clock:       opts.Clock,
		hc:          opts.HTTPClient,
		accounts:    map[string]*account{},
		people:      map[string]*person{},
		slugs:       map[string]string{},
		salesNav:    map[string]string{},
		invitations: map[string]*invitation{},
		relations:   map[string][]*relation{},
		chats:       map[string]*chat{},
		links:       map[string]*hostedLink{},
		queues:      map[string]*deliveryQueue{},
	}
	if s.apiKey == "" {
		s.apiKey = DefaultAPIKey
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.hc == nil {
		s.hc = &http.Client{}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.pending.init()
	s.handler = s.routes()
	return s
}

// APIKey returns the key clients must send.
func (s *Server) APIKey() string { return s.apiKey }

// Handler returns the fake's HTTP handler, for mounting in-process. Faults
// that drop connections abort the handler with http.ErrAbortHandler, which
// only a real http.Server recovers.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (DefaultAddr when empty) and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.closed {
		return errors.New("fake unipile: server is closed")
	}
	if s.srv != nil {
		return errors.New("fake unipile: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake unipile: listening on %s: %w", addr, err)
	}
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.baseURL = "http://" + ln.Addr().String()
	srv := s.srv
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		_ = srv.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return nil
}

// URL returns the base URL the server listens on ("http://127.0.0.1:port"),
// or "" before Start. Use it as the client's BaseURL.
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.baseURL
}

// Close stops listening, aborts hanging requests and pending deliveries, and
// waits for background work to end.
func (s *Server) Close() error {
	s.lnMu.Lock()
	if s.closed {
		s.lnMu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.lnMu.Unlock()
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	var err error
	if srv != nil {
		if cerr := srv.Close(); cerr != nil {
			err = fmt.Errorf("fake unipile: closing: %w", cerr)
		}
	}
	s.bg.Wait()
	return err
}

// publicBase is the base URL for links the fake hands out.
func (s *Server) publicBase(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	if u := s.URL(); u != "" {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// routes builds the mux: Unipile API, hosted-auth pages and admin routes.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern, action string, h func(*exchange)) {
		mux.Handle(pattern, s.api(action, h))
	}
	api("GET /api/v1/accounts", ActionListAccounts, s.handleListAccounts)
	api("GET /api/v1/accounts/{id}", ActionGetAccount, s.handleGetAccount)
	api("DELETE /api/v1/accounts/{id}", ActionDeleteAccount, s.handleDeleteAccount)
	api("POST /api/v1/accounts/{id}/restart", ActionRestartAccount, s.handleRestart)
	api("POST /api/v1/hosted/accounts/link", ActionHostedLink, s.handleHostedLink)
	api("POST /api/v1/webhooks", ActionCreateWebhook, s.handleCreateWebhook)
	api("GET /api/v1/webhooks", ActionListWebhooks, s.handleListWebhooks)
	api("DELETE /api/v1/webhooks/{id}", ActionDeleteWebhook, s.handleDeleteWebhook)
	api("GET /api/v1/users/me", ActionOwnProfile, s.handleOwnProfile)
	api("GET /api/v1/users/{identifier}", ActionViewProfile, s.handleProfile)
	api("POST /api/v1/users/invite", ActionInvite, s.handleInvite)
	api("GET /api/v1/users/invite/sent", ActionListSentInvitations, s.handleListSent)
	api("DELETE /api/v1/users/invite/sent/{id}", ActionCancelInvitation, s.handleCancelInvitation)
	api("GET /api/v1/users/relations", ActionListRelations, s.handleListRelations)
	api("POST /api/v1/chats", ActionStartChat, s.handleStartChat)
	api("GET /api/v1/chats", ActionListChats, s.handleListChats)
	api("POST /api/v1/chats/{id}/messages", ActionSendMessage, s.handleSendMessage)
	api("GET /api/v1/chats/{id}/messages", ActionListMessages, s.handleListMessages)
	api("GET /api/v1/linkedin/inmail_balance", ActionInMailBalance, s.handleInMailBalance)
	api("/api/", ActionUnknown, func(x *exchange) {
		x.writeError(http.StatusNotFound, "errors/resource_not_found", "", "No such route: "+x.r.Method+" "+x.r.URL.Path)
	})

	mux.HandleFunc("GET /hosted/{token}", s.handleHostedPage)
	mux.HandleFunc("POST /hosted/{token}", s.handleHostedDecision)

	s.adminRoutes(mux)
	return mux
}

// exchange is one API request in flight: the logged call and the fault, if
// any, that will swallow its response.
type exchange struct {
	s    *Server
	w    *statusWriter
	r    *http.Request
	call *Call
	lost *Fault
}

// statusWriter remembers the status written, for the call log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// api wraps an API handler with call logging and key checking.
func (s *Server) api(action string, h func(*exchange)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		s.mu.Lock()
		s.seq++
		call := &Call{
			Seq:       s.seq,
			Time:      s.clock.Now(),
			Method:    r.Method,
			Path:      r.URL.Path,
			Action:    action,
			AccountID: r.URL.Query().Get("account_id"),
		}
		s.calls = append(s.calls, call)
		s.mu.Unlock()
		// Runs on normal return and on the abort panic of a dropped
		// connection alike, so every call ends up with its final status.
		defer func() {
			s.mu.Lock()
			call.Status = sw.status
			s.mu.Unlock()
		}()
		x := &exchange{s: s, w: sw, r: r, call: call}
		if !s.checkKey(r) {
			x.writeError(http.StatusUnauthorized, "errors/missing_credentials", "", "")
			return
		}
		h(x)
	})
}

// checkKey compares X-API-KEY in constant time.
func (s *Server) checkKey(r *http.Request) bool {
	got := r.Header.Get("X-API-KEY")
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.apiKey)) == 1
}

// setAccount records which account the call concerns (before admit, so
// faults and the 404 burst can match on it).
func (x *exchange) setAccount(id string) {
	x.s.mu.Lock()
	x.call.AccountID = id
	x.s.mu.Unlock()
}

// setRecipient records the person the call targets.
func (x *exchange) setRecipient(id string) {
	x.s.mu.Lock()
	x.call.Recipient = id
	x.s.mu.Unlock()
}

// setAction refines the action once the body is known (e.g. InMail).
func (x *exchange) setAction(a string) {
	x.s.mu.Lock()
	x.call.Action = a
	x.s.mu.Unlock()
}

// markApplied records that the call's action took effect. Callers hold s.mu.
func (x *exchange) markApplied() { x.call.Applied = true }

// admit applies latency, the 404 burst and injected faults. It returns false
// when the request has been answered (or abandoned) by a fault. Hanging and
// dropping abort the handler, so they never return.
func (x *exchange) admit() bool {
	s := x.s
	s.mu.Lock()
	delay := s.latency
	if s.jitter > 0 {
		// Uniform in [latency-jitter, latency+jitter], never negative.
		delay += time.Duration(mrand.Int64N(int64(2*s.jitter)+1)) - s.jitter
		delay = max(delay, 0)
	}
	burst := s.burst404 && x.call.AccountID != ""
	var chosen *Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		match := !burst && f.matches(x.call)
		if match && f.Effect == EffectLatency {
			delay += time.Duration(f.Latency)
			f.Used++
		} else if match && chosen == nil {
			chosen = f
			f.Used++
		}
		if f.Times == 0 || f.Used < f.Times {
			kept = append(kept, f)
		}
	}
	for i := len(kept); i < len(s.faults); i++ {
		s.faults[i] = nil
	}
	s.faults = kept
	switch {
	case burst:
		x.call.Fault = "burst404"
	case chosen != nil:
		x.call.Fault = chosen.ID + ":" + string(chosen.Effect)
	}
	var snapshot Fault
	if chosen != nil {
		snapshot = *chosen
	}
	s.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-x.r.Context().Done():
			t.Stop()
			panic(http.ErrAbortHandler)
		case <-s.ctx.Done():
			t.Stop()
			panic(http.ErrAbortHandler)
		}
	}
	if burst {
		x.writeError(http.StatusNotFound, "errors/resource_not_found", "", "")
		return false
	}
	if chosen == nil {
		return true
	}
	switch snapshot.Effect {
	case EffectError:
		st, typ := snapshot.statusAndType()
		x.writeError(st, typ, snapshot.Title, snapshot.Detail)
		return false
	case EffectHang:
		// Hold the request until the client gives up or the fake closes.
		select {
		case <-x.r.Context().Done():
		case <-s.ctx.Done():
		}
		panic(http.ErrAbortHandler)
	case EffectDrop:
		panic(http.ErrAbortHandler)
	case EffectLost:
		x.lost = &snapshot
		return true
	}
	return true
}

// reply writes a success answer, unless a "lost" fault swallows it: the
// action has been applied and logged by then, and the client sees a dropped
// connection (or the fault's error status). A HoldAnswers hold delays it.
func (x *exchange) reply(status int, body any) {
	if hold := x.s.takeHold(x.call.Action); hold != nil {
		select {
		case <-hold:
		case <-x.r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-x.s.ctx.Done():
			panic(http.ErrAbortHandler)
		}
	}
	if x.lost != nil {
		if x.lost.Status == 0 {
			panic(http.ErrAbortHandler)
		}
		st, typ := x.lost.statusAndType()
		x.writeError(st, typ, x.lost.Title, x.lost.Detail)
		return
	}
	writeJSON(x.w, status, body)
}

// apiErr is an error answer decided under the state lock and written after.
type apiErr struct {
	status             int
	typ, title, detail string
}

// fail writes e in Unipile's error shape.
func (x *exchange) fail(e *apiErr) {
	x.writeError(e.status, e.typ, e.title, e.detail)
}

// writeError writes the v1 error body. Empty title/detail get the fake's
// default wording for the type.
func (x *exchange) writeError(status int, typ, title, detail string) {
	if title == "" || detail == "" {
		dt, dd := defaultWording(typ)
		if title == "" {
			title = dt
		}
		if detail == "" {
			detail = dd
		}
	}
	writeJSON(x.w, status, map[string]any{
		"status":   status,
		"type":     typ,
		"title":    title,
		"detail":   detail,
		"instance": x.r.URL.Path,
	})
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// wording is the fake's title and detail for an error type.
type wording struct{ title, detail string }

// errorWording holds short titles and details per type slug; they are the
// fake's own words, good enough for logs. Clients must branch on the type.
var errorWording = map[string]wording{
	"errors/missing_credentials":          {"Missing credentials", "The X-API-KEY header is missing or does not match an access token."},
	"errors/resource_not_found":           {"Resource not found.", "The requested resource was not found. Account not found"},
	"errors/invalid_parameters":           {"Invalid parameters", "One or more request parameters are invalid."},
	"errors/missing_parameters":           {"Missing parameters", "One or more required parameters are missing."},
	"errors/malformed_request":            {"Malformed request", "The request body could not be read."},
	"errors/invalid_url":                  {"Invalid URL", "The URL is not a valid absolute http(s) URL."},
	"errors/too_many_characters":          {"Too many characters", "The text exceeds the provider's length limit."},
	"errors/disconnected_account":         {"Disconnected account", "The account appears to be disconnected from the provider service."},
	"errors/account_restricted":           {"Account restricted", "Access to this account has been restricted by the provider."},
	"errors/insufficient_permissions":     {"Insufficient permissions", "Permissions are missing on the host device."},
	"errors/already_invited_recently":     {"Should delay new invitation to this recipient", "An invitation has already been sent recently to this recipient. Please try again later."},
	"errors/already_connected":            {"Already connected", "The recipient is already a first-degree connection."},
	"errors/cannot_resend_yet":            {"Cannot resend yet", "You have reached a temporary provider limit. Please try again later."},
	"errors/limit_exceeded":               {"Limit exceeded", "The provider limit for this action has been reached."},
	"errors/no_connection_with_recipient": {"Recipient cannot be reached", "The recipient appears not to be first degree connection."},
	"errors/insufficient_credits":         {"Insufficient credits", "The account has no InMail credits left."},
	"errors/too_many_requests":            {"Too many requests", "The provider cannot accept any more requests at the moment. Please try again later."},
	"errors/unexpected_error":             {"Unexpected error", "Something went wrong."},
	"errors/provider_error":               {"Provider error", "The provider is experiencing operational problems. Please try again later."},
	"errors/no_client_session":            {"No client session", "The account has no running session."},
	"errors/service_unavailable":          {"Service unavailable", "The service is temporarily unavailable."},
	"errors/request_timeout":              {"Request timeout", "The request timed out before the provider answered."},
}

// defaultWording returns the fake's wording for typ, or generic text.
func defaultWording(typ string) (string, string) {
	if w, ok := errorWording[typ]; ok {
		return w.title, w.detail
	}
	slug := strings.TrimPrefix(typ, "errors/")
	t := strings.ReplaceAll(slug, "_", " ")
	if t != "" {
		t = strings.ToUpper(t[:1]) + t[1:]
	}
	return t, "The fake Unipile server answered " + typ + "."
}
