package web

import (
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/send"
)

// Options configures New.
type Options struct {
	DB        *db.DB
	Accounts  *account.Service
	Campaigns *campaign.Service
	Connect   *connect.Service
	// Sender settles unknown sends (the Settle buttons); nil answers them
	// with 503.
	Sender *send.Engine
	// Inbox serves the conversations (docs/inbox.md); nil answers its
	// pages with 503.
	Inbox *inbox.Service
	// InboxRefresh is how often an open inbox page reads itself again
	// (DefaultInboxRefresh when zero).
	InboxRefresh time.Duration
	Clock        clock.Clock
	Logger       *slog.Logger
	// MinSpacing is the installation's pacing floor (KEEL_MIN_SPACING),
	// which the diagnosis applies as the sender does.
	MinSpacing time.Duration
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
	// QueueUI is River's web UI and API, served under QueueUIPath to those
	// canSeeQueue admits; nil (SQLite) answers a page saying it needs
	// PostgreSQL.
	QueueUI http.Handler
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
	patterns []string
	// charts keeps the campaign pages' forecasts for a minute.
	charts chartCache
}

// PageSize is how many rows a list page shows.
const PageSize = 50

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
	csp, err := contentSecurityPolicy(opts.FormActionOrigins)
	if err != nil {
		return nil, err
	}
	s.csp = csp
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}
