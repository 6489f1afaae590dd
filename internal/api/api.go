// Package api is Keel's JSON API under /api/v1: workspace-scoped bearer
// tokens, application/problem+json errors, cursor pagination. Every handler
// reads the workspace from the token and passes it to the owning package,
// so another workspace's object is simply not found.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/jsonerr"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/send"
	"github.com/keel-outreach/keel/internal/text"
	"github.com/keel-outreach/keel/internal/token"
)

// Default and largest page sizes for list routes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Connector is what the API needs from hosted-auth connect (internal/connect).
type Connector interface {
	CreateLink(ctx context.Context, workspaceID string) (string, error)
	ReconnectLink(ctx context.Context, workspaceID, accountID string) (string, error)
}

// Syncer imports the accounts Unipile lists into a workspace and returns a
// JSON-encodable report.
type Syncer func(ctx context.Context, workspaceID string) (any, error)

// Options configures the API.
type Options struct {
	DB       *db.DB
	Accounts *account.Service
	Connect  Connector
	Sync     Syncer
	// Outbound manages outbound webhook endpoints (nil: routes answer 503).
	Outbound *outbound.Service
	Clock    clock.Clock
	Logger   *slog.Logger

	// Campaigns serves the campaign routes; nil answers them with 503.
	Campaigns *campaign.Service
	// Sender settles unknown sends; nil answers the settle route with 503.
	Sender *send.Engine
	// Inbox serves the conversations; nil answers their routes with 503.
	Inbox *inbox.Service
	// MinSpacing is the installation's pacing floor (KEEL_MIN_SPACING),
	// which the diagnosis and the forecast apply as the sender does.
	MinSpacing time.Duration

	// RateLimit rations requests per authenticated token, and per source
	// address for requests that fail authentication; nil means no limit.
	RateLimit *RateLimiter
}

// Server serves the JSON API.
type Server struct {
	opts   Options
	mux    *http.ServeMux
	routes []string
}

// New builds the API.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.handle("GET /api/v1/accounts", s.listAccounts)
	s.handle("GET /api/v1/accounts/{id}", s.getAccount)
	s.handle("PATCH /api/v1/accounts/{id}", s.patchAccount)
	s.handle("GET /api/v1/accounts/{id}/audit", s.accountAudit)
	s.handle("POST /api/v1/accounts/connect", s.connectAccount)
	s.handle("POST /api/v1/accounts/{id}/reconnect", s.reconnectAccount)
	s.handle("POST /api/v1/accounts/sync", s.syncAccounts)
	s.handle("POST /api/v1/accounts/{id}/inmail/top-up", s.withCampaigns(s.inmailTopUp))
	s.registerTagRoutes()
	s.handle("GET /api/v1/alerts", s.listAlerts)
	s.handle("POST /api/v1/alerts/{id}/ack", s.ackAlert)
	s.registerCampaignRoutes()
	s.registerDiagnosisRoutes()
	s.registerForecastRoutes()
	s.registerInboxRoutes()
	s.registerStatsRoutes()
	s.registerSendRoutes()
	s.registerDNCRoutes()
	s.registerWorkspaceRoutes()
	s.registerOutboundRoutes(s.opts.Outbound)
	s.mux.HandleFunc("GET /api/openapi.json", s.serveOpenAPI)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		Problem(w, http.StatusNotFound, "not found", "no such route: "+r.Method+" "+r.URL.Path)
	})
	return s
}

// Routes lists the registered "METHOD /path" patterns.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request, p principal)) {
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		// The URL check is cheap and needs no token: it runs first, so a
		// malformed request costs no token lookup and no rate-limit token.
		if !checkURLText(w, r) {
			return
		}
		p, ok := s.limitedAuthenticate(w, r)
		if !ok {
			return
		}
		// The token's role decides before the handler reads anything, so a
		// refused request changes nothing (docs/teams.md#roles).
		if !role.MayRoute(p.Role, pattern) {
			Problem(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("this token's role (%s) may not do this: it needs %s", p.Role, role.Needed(pattern)))
			return
		}
		h(w, r.WithContext(campaign.WithActor(r.Context(), p.actor())), p)
	})
}

// checkURLText refuses a path or query holding invalid UTF-8 or control
// characters (a NUL in an id would otherwise reach PostgreSQL, which
// refuses it with an error, not a miss). A path cannot name any object
// then, so it is 404; a query parameter is 400 naming the parameter. On
// refusal it has answered.
func checkURLText(w http.ResponseWriter, r *http.Request) bool {
	param, msg := text.URLProblem(r.URL)
	switch {
	case msg == "":
		return true
	case param == "":
		Problem(w, http.StatusNotFound, "not found", "no such object")
	default:
		Problem(w, http.StatusBadRequest, "bad request", "query parameter "+strconv.QuoteToASCII(param)+" "+msg)
	}
	return false
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// principal is the authenticated caller.
type principal struct {
	WorkspaceID string
	TokenID     string
	Role        role.Role
}

// actor names the caller in the records of who changed what.
func (p principal) actor() string { return "token:" + p.TokenID }

// limitedAuthenticate authenticates within the rate limits. The bucket of
// an authenticated request is its token's id, so no spelling of the
// Authorization header opens another one. A source whose failed requests
// have emptied its bucket is refused before any token lookup, and each
// failure draws from that bucket.
func (s *Server) limitedAuthenticate(w http.ResponseWriter, r *http.Request) (principal, bool) {
	l := s.opts.RateLimit
	if l == nil {
		return s.authenticate(w, r)
	}
	src := sourceKey(r)
	if out, wait := l.Exhausted(src); out {
		l.tooMany(w, wait, "this address's unauthenticated traffic")
		return principal{}, false
	}
	p, ok := s.authenticate(w, r)
	if !ok {
		l.Allow(src)
		return principal{}, false
	}
	if ok, wait := l.Allow("token:" + p.TokenID); !ok {
		l.tooMany(w, wait, "this token")
		return principal{}, false
	}
	return p, true
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (principal, bool) {
	h := r.Header.Get("Authorization")
	secret, found := strings.CutPrefix(h, "Bearer ")
	if !found || secret == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="keel"`)
		Problem(w, http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer <token> (create one with keel token create)")
		return principal{}, false
	}
	t, err := token.AuthenticateAt(r.Context(), s.opts.DB.SQL, strings.TrimSpace(secret), s.opts.Clock.Now())
	if errors.Is(err, token.ErrInvalid) {
		detail := "the token is not valid"
		switch {
		case errors.Is(err, token.ErrRevoked):
			detail = "token revoked: create a new one with keel token create"
		case errors.Is(err, token.ErrExpired):
			detail = "token expired: create a new one with keel token create"
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="keel", error="invalid_token"`)
		Problem(w, http.StatusUnauthorized, "unauthorized", detail)
		return principal{}, false
	}
	if err != nil {
		s.internal(w, r, err)
		return principal{}, false
	}
	return principal{WorkspaceID: t.WorkspaceID, TokenID: t.ID, Role: t.Role}, true
}

// Problem writes an application/problem+json error.
func Problem(w http.ResponseWriter, status int, title, detail string) {
	writeProblem(w, status, title, detail, nil)
}

// invalid writes a 422 problem whose errors member lists what is wrong
// with each field, so a client can show each message beside its field.
func invalid(w http.ResponseWriter, title, detail string, errs any) {
	writeProblem(w, http.StatusUnprocessableEntity, title, detail, errs)
}

func writeProblem(w http.ResponseWriter, status int, title, detail string, errs any) {
	body := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	if errs != nil {
		body["errors"] = errs
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	// The detail stays in the log; the body never carries internals.
	s.opts.Logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	Problem(w, http.StatusInternalServerError, "internal error", "the request failed; see the server log")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// page reads ?limit and ?cursor.
func page(r *http.Request) (int, string, error) {
	limit := DefaultPageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return 0, "", fmt.Errorf("limit must be a whole number from 1 to %d", MaxPageSize)
		}
		limit = n
	}
	return limit, r.URL.Query().Get("cursor"), nil
}

// writePage answers a list fetched with limit+1 rows: the extra row only
// says another page exists, and its predecessor's id is the next cursor.
func writePage[T any](w http.ResponseWriter, list []T, limit int, id func(T) string) {
	resp := listResponse[T]{Items: list}
	if len(list) > limit {
		resp.Items = list[:limit]
		resp.NextCursor = id(list[limit-1])
	}
	if resp.Items == nil {
		resp.Items = []T{}
	}
	writeJSON(w, http.StatusOK, resp)
}

type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	opts := account.ListOptions{WorkspaceID: p.WorkspaceID, After: cursor, Limit: limit + 1}
	if v := r.URL.Query().Get("tag"); v != "" {
		if opts.Tag, err = account.NormalizeTag(v); err != nil {
			Problem(w, http.StatusBadRequest, "bad request", "query parameter tag: "+err.Error())
			return
		}
	}
	list, err := s.opts.Accounts.List(r.Context(), s.opts.DB.SQL, opts)
	if err == nil {
		err = account.LoadTags(r.Context(), s.opts.DB.SQL, list)
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, list, limit, func(x account.Account) string { return x.ID })
}

// loadAccount reads the account named by the path in the caller's
// workspace, answering 404 or 500 itself when it cannot.
func (s *Server) loadAccount(w http.ResponseWriter, r *http.Request, p principal) (account.Account, bool) {
	a, err := s.opts.Accounts.Get(r.Context(), s.opts.DB.SQL, p.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such account")
		return a, false
	}
	if err != nil {
		s.internal(w, r, err)
		return a, false
	}
	return a, true
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := s.loadAccount(w, r, p)
	if !ok {
		return
	}
	s.writeAccount(w, r, http.StatusOK, a)
}

// MaxBodyBytes bounds JSON request bodies.
const MaxBodyBytes = 1 << 20

// decodeBody reads one JSON value of at most MaxBodyBytes into v, refusing
// unknown fields and trailing values; on failure it has answered. A string
// anywhere in the body that is not valid UTF-8 or holds a control
// character (other than tab and line breaks) is refused with a 422 naming
// its path before anything is decoded; fields that must be one line are
// checked again where their owner validates them.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		Problem(w, http.StatusRequestEntityTooLarge, "too large", "the body is larger than 1 MiB")
		return false
	}
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", "the body could not be read")
		return false
	}
	var te *text.Error
	if errors.As(text.CheckJSON(body), &te) {
		invalid(w, "invalid text", te.Error(), []fieldError{{Field: te.Field, Message: te.Message}})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	switch {
	case err != nil:
		decodeProblem(w, body, err)
	case dec.More():
		writeProblem(w, http.StatusBadRequest, "bad request", "body: holds more than one JSON value",
			[]fieldError{{Field: jsonerr.Root, Message: "holds more than one JSON value"}})
	default:
		return true
	}
	return false
}

// fieldError is one entry of a 422 problem's errors member.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (s *Server) patchAccount(w http.ResponseWriter, r *http.Request, p principal) {
	var patch account.SettingsPatch
	if !decodeBody(w, r, &patch) {
		return
	}
	patch.Actor = "token:" + p.TokenID
	a, err := s.opts.Accounts.UpdateSettings(r.Context(), p.WorkspaceID, r.PathValue("id"), patch)
	var ve *account.ValidationError
	switch {
	case errors.Is(err, account.ErrNotFound):
		Problem(w, http.StatusNotFound, "not found", "no such account")
	case errors.As(err, &ve):
		invalid(w, "invalid settings", ve.Error(), ve.Fields)
	case err != nil:
		s.internal(w, r, err)
	default:
		s.writeAccount(w, r, http.StatusOK, a)
	}
}

func (s *Server) accountAudit(w http.ResponseWriter, r *http.Request, p principal) {
	a, ok := s.loadAccount(w, r, p)
	if !ok {
		return
	}
	trail, err := s.opts.Accounts.Audit(r.Context(), s.opts.DB.SQL, a.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// Newest first, as the contract says.
	slices.Reverse(trail)
	if trail == nil {
		trail = []account.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, listResponse[account.AuditEntry]{Items: trail})
}

func (s *Server) connectAccount(w http.ResponseWriter, r *http.Request, p principal) {
	if s.opts.Connect == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "hosted-auth connect is not configured")
		return
	}
	url, err := s.opts.Connect.CreateLink(r.Context(), p.WorkspaceID)
	if err != nil {
		s.providerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, linkResponse{URL: url})
}

func (s *Server) reconnectAccount(w http.ResponseWriter, r *http.Request, p principal) {
	if _, ok := s.loadAccount(w, r, p); !ok {
		return
	}
	if s.opts.Connect == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "hosted-auth connect is not configured")
		return
	}
	url, err := s.opts.Connect.ReconnectLink(r.Context(), p.WorkspaceID, r.PathValue("id"))
	if errors.Is(err, account.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such account")
		return
	}
	if err != nil {
		s.providerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, linkResponse{URL: url})
}

func (s *Server) syncAccounts(w http.ResponseWriter, r *http.Request, p principal) {
	if s.opts.Sync == nil {
		Problem(w, http.StatusServiceUnavailable, "unavailable", "account sync is not configured")
		return
	}
	rep, err := s.opts.Sync(r.Context(), p.WorkspaceID)
	if err != nil {
		s.providerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// providerError answers a failed Unipile call as 502 without its internals.
func (s *Server) providerError(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.Warn("provider call failed", "method", r.Method, "path", r.URL.Path, "error", err)
	Problem(w, http.StatusBadGateway, "provider error", "Unipile did not complete the request; try again later")
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, p principal) {
	limit, cursor, err := page(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, "bad request", err.Error())
		return
	}
	list, err := alert.List(r.Context(), s.opts.DB.SQL, alert.Filter{WorkspaceID: p.WorkspaceID,
		OpenOnly: r.URL.Query().Get("open") == "true", After: cursor, Limit: limit + 1})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, list, limit, func(x alert.Alert) string { return x.ID })
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request, p principal) {
	a, err := alert.Acknowledge(r.Context(), s.opts.DB.SQL, s.opts.Clock.Now(), r.PathValue("id"), p.WorkspaceID, "token:"+p.TokenID)
	if errors.Is(err, alert.ErrNotFound) {
		Problem(w, http.StatusNotFound, "not found", "no such alert")
		return
	}
	if errors.Is(err, alert.ErrInstallationWide) {
		Problem(w, http.StatusForbidden, "forbidden",
			"this alert is installation-wide: only an installation operator acknowledges it (keel alerts ack)")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}
