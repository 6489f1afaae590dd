// Package connect connects and reconnects LinkedIn accounts through
// Unipile's hosted-auth wizard (docs/accounts.md#connect-and-reconnect), imports the accounts a
// Unipile tenant already has (Sync), and watches accounts that stay in
// connecting too long.
//
// Each hosted-auth link carries its own unguessable token in its notify_url.
// Unipile's notify callback has no custom headers and no signature, so that
// token is the only thing that authenticates the callback; Keel stores only
// its SHA-256 hash, and a link works once, before it expires.
package connect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

// CallbackPath is where CallbackHandler is mounted (docs/surfaces.md#http-routes).
const CallbackPath = "/webhooks/unipile/hosted-auth"

// Link types, as sent to Unipile and stored (hosted_auth_links_type_chk).
const (
	// LinkCreate links connect a new account.
	LinkCreate = unipile.HostedAuthCreate
	// LinkReconnect links restore an existing account.
	LinkReconnect = unipile.HostedAuthReconnect
)

// Defaults for Options fields left zero.
const (
	// DefaultLinkTTL is how long a hosted-auth link is offered. Unipile
	// also expires every link at its daily restart, so a link is minted per
	// click, never kept.
	DefaultLinkTTL = time.Hour
	// DefaultCallbackGrace keeps a token valid a little past the link's
	// expiry, for a login finished just before it and a callback (or its
	// retry) arriving just after.
	DefaultCallbackGrace = 15 * time.Minute
	// DefaultStuckAfter is when a connecting account is re-polled.
	DefaultStuckAfter = 5 * time.Minute
	// DefaultAlertAfter is when a connecting account raises an admin alert.
	DefaultAlertAfter = time.Hour
	// DefaultPollEvery is the least time between two re-polls of one
	// account, so a watcher run often stays about one call per account per
	// minute (docs/health.md#provider-call-budget).
	DefaultPollEvery = time.Minute
	// DefaultMaxPollsPerRun caps provider calls per WatchConnecting run.
	DefaultMaxPollsPerRun = 10
)

// tokenBytes is the entropy of a link token: 256 bits.
const tokenBytes = 32

// DisconnectFunc performs a provider-driven flip to disconnected; the
// health package's mass-disconnect limiter plugs in here (see
// webhook.DisconnectFunc). held reports a flip parked by the limiter.
type DisconnectFunc func(ctx context.Context, req account.FlipRequest) (held bool, err error)

// Options configures a Service.
type Options struct {
	// DB stores links and accounts. Required.
	DB *db.DB
	// Accounts creates and flips accounts. Required.
	Accounts *account.Service
	// Client talks to Unipile. Required.
	Client *unipile.Client
	// PublicURL is Keel's external base URL (KEEL_PUBLIC_URL); the
	// notify_url is PublicURL + CallbackPath. Required.
	PublicURL string
	// Clock; nil means the accounts service's clock.
	Clock clock.Clock
	// Logger; nil discards.
	Logger *slog.Logger
	// Disconnect performs flips to disconnected; nil means a plain Flip.
	Disconnect DisconnectFunc
	// SuccessRedirectURL, when set, is where the wizard sends the browser
	// after a successful login.
	SuccessRedirectURL string
	// FailureRedirectURL, when set, is where the wizard sends the browser
	// after a failed login.
	FailureRedirectURL string
	// LinkTTL overrides DefaultLinkTTL when positive.
	LinkTTL time.Duration
	// CallbackGrace overrides DefaultCallbackGrace when positive.
	CallbackGrace time.Duration
	// StuckAfter overrides DefaultStuckAfter when positive.
	StuckAfter time.Duration
	// AlertAfter overrides DefaultAlertAfter when positive.
	AlertAfter time.Duration
	// PollEvery overrides DefaultPollEvery when positive.
	PollEvery time.Duration
	// MaxPollsPerRun overrides DefaultMaxPollsPerRun when positive.
	MaxPollsPerRun int
}

// Service mints hosted-auth links, handles their callbacks, imports
// accounts and watches connecting ones.
type Service struct {
	db          *db.DB
	accounts    *account.Service
	client      *unipile.Client
	clock       clock.Clock
	log         *slog.Logger
	disconnect  DisconnectFunc
	callbackURL string
	successURL  string
	failureURL  string
	linkTTL     time.Duration
	grace       time.Duration
	stuckAfter  time.Duration
	alertAfter  time.Duration
	pollEvery   time.Duration
	maxPolls    int

	mu       sync.Mutex
	lastPoll map[string]time.Time // account id → last re-poll by WatchConnecting
}

// New validates opts and returns a Service.
func New(opts Options) (*Service, error) {
	switch {
	case opts.DB == nil:
		return nil, errors.New("connect: DB is required")
	case opts.Accounts == nil:
		return nil, errors.New("connect: Accounts is required")
	case opts.Client == nil:
		return nil, errors.New("connect: a Unipile client is required")
	}
	cb, err := config.Endpoint(opts.PublicURL, CallbackPath)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	s := &Service{
		db: opts.DB, accounts: opts.Accounts, client: opts.Client, clock: opts.Clock, log: opts.Logger,
		disconnect: opts.Disconnect, callbackURL: cb,
		successURL: opts.SuccessRedirectURL, failureURL: opts.FailureRedirectURL,
		linkTTL: orDefault(opts.LinkTTL, DefaultLinkTTL), grace: orDefault(opts.CallbackGrace, DefaultCallbackGrace),
		stuckAfter: orDefault(opts.StuckAfter, DefaultStuckAfter), alertAfter: orDefault(opts.AlertAfter, DefaultAlertAfter),
		pollEvery: orDefault(opts.PollEvery, DefaultPollEvery), maxPolls: opts.MaxPollsPerRun,
		lastPoll: map[string]time.Time{},
	}
	if s.clock == nil {
		s.clock = opts.Accounts.Clock()
	}
	s.log = logging.OrDiscard(s.log)
	if s.disconnect == nil {
		accounts := opts.Accounts
		s.disconnect = func(ctx context.Context, req account.FlipRequest) (bool, error) {
			_, err := accounts.Flip(ctx, req)
			return false, err
		}
	}
	if s.maxPolls <= 0 {
		s.maxPolls = DefaultMaxPollsPerRun
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// newToken returns a random URL-safe token.
func newToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashToken is what the database keeps instead of the token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateLink mints a hosted-auth link (type create) that connects a new
// LinkedIn account to the workspace, and returns the wizard URL to send the
// user to. The URL is a credential of sorts: do not log it.
func (s *Service) CreateLink(ctx context.Context, workspaceID string) (string, error) {
	if _, err := workspace.ByID(ctx, s.db.SQL, workspaceID); err != nil {
		return "", fmt.Errorf("creating connect link: %w", err)
	}
	return s.mint(ctx, workspaceID, LinkCreate, nil)
}

// ReconnectLink mints a hosted-auth link (type reconnect) for an account of
// the workspace; reconnect_account is the account's Unipile id. An account
// of another workspace is account.ErrNotFound.
func (s *Service) ReconnectLink(ctx context.Context, workspaceID, accountID string) (string, error) {
	a, err := s.accounts.Get(ctx, s.db.SQL, workspaceID, accountID)
	if err != nil {
		return "", fmt.Errorf("creating reconnect link for account %s: %w", accountID, err)
	}
	return s.mint(ctx, workspaceID, LinkReconnect, &a)
}

// link is a stored hosted-auth link.
type link struct {
	id          string
	workspaceID string
	linkType    string
	accountID   string
	providerID  string
	expiresAt   time.Time
	used        bool
}

// scanLink reads a link row; columns as linkColumns.
func scanLink(row interface{ Scan(...any) error }) (link, error) {
	var (
		l          link
		acct, prov sql.NullString
		usedAt     sql.NullTime
	)
	if err := row.Scan(&l.id, &l.workspaceID, &l.linkType, &acct, &prov, &l.expiresAt, &usedAt); err != nil {
		return link{}, err
	}
	l.accountID, l.providerID, l.used = acct.String, prov.String, usedAt.Valid
	return l, nil
}

const linkColumns = `id, workspace_id, link_type, account_id, provider_account_id, expires_at, used_at`

// usable reports whether the link may still be completed at now.
func (l link) usable(now time.Time) bool { return !l.used && !now.After(l.expiresAt) }
