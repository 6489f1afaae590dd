// Package web is Keel's server-rendered operator UI: sign-in, LinkedIn
// accounts, campaigns, prospect imports and admin alerts. Templates and the
// stylesheet are embedded; there is no JavaScript at all.
//
// The app mounts Handler as its fallback route; it serves every path except
// those the app owns (/api/, /webhooks/, /sandbox/, /healthz, /readyz,
// /metrics), which answer 404 here.
//
// Security: a session is a random 32-byte id in an HttpOnly, SameSite=Lax
// cookie (Secure with Options.SecureCookies); the web_sessions table keeps
// only its hash, so restarts keep people signed in and replicas share
// sessions. A signed-in session ends after SessionTTL without use, or
// SessionMaxAge in all, or at sign-out (its row is deleted). Every POST form
// carries the session's CSRF token in a hidden field and is refused with
// 403, before anything changes, without it; the sign-in form has one too
// (from an anonymous session that sign-in replaces). Failed sign-ins are
// limited per account and per client address in the database
// (internal/signin), then answered 429 with the time they unlock.
// Passwords, session ids and CSRF tokens are never logged.
//
// Queries: the accounts page reads one keyset page (PageSize rows) and the
// page's usage in one grouped ledger query. What remains per row: an
// account whose rolling weekly invite cap is full costs one more query (to
// find when its oldest invite ages out). The campaign page reads its
// senders one by one (at most campaign.MaxSenders) and the diagnosis does
// the same; the campaign list and alerts are single queries.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/text"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures New.
type Options struct {
	DB        *db.DB
	Accounts  *account.Service
	Campaigns *campaign.Service
	Connect   *connect.Service
	Clock     clock.Clock
	Logger    *slog.Logger
	// Sandbox shows the sandbox banner on every page.
	Sandbox bool
	// SecureCookies marks the session cookie Secure (set it behind HTTPS).
	SecureCookies bool
	// FormActionOrigins are the exact origins (scheme://host[:port]) a
	// form may lead to besides Keel itself: the provider's hosted-auth
	// wizard, which Connect and Reconnect redirect to. A link on any other
	// origin gets a page with a plain link instead of a redirect, so the
	// Content-Security-Policy never needs a wildcard.
	FormActionOrigins []string
}

// Server is the web UI. It keeps no state of its own: sessions and sign-in
// failures are in the database, so servers on one database (replicas, or
// one after a restart) behave as one.
type Server struct {
	opts     Options
	csp      string
	pages    map[string]*template.Template
	sessions *sessionStore
	mux      *http.ServeMux
}

// reserved are the path prefixes the app itself serves.
var reserved = []string{"/api/", "/webhooks/", "/sandbox/"}

// reservedExact are the exact paths the app itself serves.
var reservedExact = []string{"/healthz", "/readyz", "/metrics"}

// New builds the UI.
func New(opts Options) (*Server, error) {
	switch {
	case opts.DB == nil:
		return nil, errors.New("web: DB is required")
	case opts.Accounts == nil:
		return nil, errors.New("web: Accounts is required")
	case opts.Campaigns == nil:
		return nil, errors.New("web: Campaigns is required")
	case opts.Connect == nil:
		return nil, errors.New("web: Connect is required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, sessions: newSessionStore(opts.DB, opts.Clock), mux: http.NewServeMux()}
	formAction := "'self'"
	for _, o := range opts.FormActionOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || strings.ContainsAny(o, " ;,*'") {
			return nil, fmt.Errorf("web: form-action origin %q is not a scheme://host[:port] origin", o)
		}
		formAction += " " + o
	}
	s.csp = "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'none'; form-action " + formAction +
		"; frame-ancestors 'none'; base-uri 'none'"
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler serves the UI. Paths the app owns answer 404 here.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range reserved {
			if strings.HasPrefix(r.URL.Path, p) {
				http.NotFound(w, r)
				return
			}
		}
		for _, p := range reservedExact {
			if r.URL.Path == p {
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", s.csp)
		if !text.Valid(r.URL.Path) {
			// No page or object has control characters in its path, and
			// an id with a NUL would make PostgreSQL error.
			http.NotFound(w, r)
			return
		}
		for k, vs := range r.URL.Query() {
			for _, v := range append([]string{k}, vs...) {
				if !text.Valid(v) {
					http.Error(w, "Bad request: query parameter "+strconv.QuoteToASCII(k)+" holds control characters.", http.StatusBadRequest)
					return
				}
			}
		}
		s.mux.ServeHTTP(w, r)
	})
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(noDirs{static})))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.csrf(s.login))
	s.mux.HandleFunc("POST /logout", s.auth(s.logout))

	s.mux.HandleFunc("GET /accounts", s.auth(s.accountsPage))
	s.mux.HandleFunc("POST /accounts/connect", s.auth(s.connectAccount))
	s.mux.HandleFunc("GET /accounts/{id}", s.auth(s.accountPage))
	s.mux.HandleFunc("POST /accounts/{id}", s.auth(s.saveAccount))
	s.mux.HandleFunc("POST /accounts/{id}/reconnect", s.auth(s.reconnectAccount))

	s.mux.HandleFunc("GET /campaigns", s.auth(s.campaignsPage))
	s.mux.HandleFunc("GET /campaigns/new", s.auth(s.newCampaignPage))
	s.mux.HandleFunc("POST /campaigns/new", s.auth(s.createCampaign))
	s.mux.HandleFunc("GET /campaigns/{id}", s.auth(s.campaignPage))
	s.mux.HandleFunc("GET /campaigns/{id}/edit", s.auth(s.editCampaignPage))
	s.mux.HandleFunc("POST /campaigns/{id}/edit", s.auth(s.updateCampaign))
	s.mux.HandleFunc("POST /campaigns/{id}/{op}", s.auth(s.campaignAction))
	s.mux.HandleFunc("POST /campaigns/{id}/import", s.auth(s.importProspects))

	s.mux.HandleFunc("GET /alerts", s.auth(s.alertsPage))
	s.mux.HandleFunc("POST /alerts/{id}/ack", s.auth(s.ackAlert))

	s.mux.HandleFunc("GET /tokens", s.auth(s.tokensPage))
	s.mux.HandleFunc("POST /tokens/{id}/revoke", s.auth(s.revokeToken))
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"label": func(s any) string {
		return strings.ReplaceAll(fmt.Sprint(s), "_", " ")
	},
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

func (s *Server) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("parsing the layout template: %w", err)
	}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("listing templates: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(strings.TrimPrefix(e, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return fmt.Errorf("cloning the layout template: %w", err)
		}
		if _, err := t.ParseFS(templateFS, e); err != nil {
			return fmt.Errorf("parsing template %s: %w", e, err)
		}
		s.pages[name] = t
	}
	return nil
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	Sandbox bool
	Session *session
	CSRF    string
	Error   string
	Data    any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	p.Sandbox = s.opts.Sandbox
	if p.Session == nil {
		p.Session = sessionFrom(r)
	}
	if p.Session != nil {
		p.CSRF = p.Session.CSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.fail(w, r, fmt.Errorf("rendering %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail logs an unexpected error and answers 500 without its details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.Logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "Something went wrong on Keel's side; the error is in the server log.", http.StatusInternalServerError)
}

// noDirs serves only files: opening a directory fails as if it did not
// exist, so the file server answers 404 instead of a listing.
type noDirs struct{ fsys fs.FS }

// Open opens name unless it is a directory.
func (n noDirs) Open(name string) (fs.File, error) {
	f, err := n.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		_ = f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}
