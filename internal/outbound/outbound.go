// Package outbound sends Keel's events to integrations as signed HTTP
// webhooks (docs/surfaces.md#outbound-webhooks). A workspace registers endpoints; Emit records an
// event and one delivery per matching endpoint inside the caller's
// transaction, so a change that rolls back never produces an event;
// DeliverDue later POSTs due deliveries outside any transaction and retries
// failures with exponential backoff.
//
// Endpoint secrets are stored only as a hash: deliveries are signed with
// the key SigningKey(secret) = hex(SHA-256(secret)), which is what the
// database keeps (column secret), so the secret itself is returned exactly
// once by CreateEndpoint and never stored, carried by Endpoint or logged.
// Receivers verify with the secret (Verify derives the key).
//
// Deliveries reach only public addresses (dest.go): a destination that is
// or resolves to loopback, private, link-local… or Keel's own address is
// refused at registration and again inside the dialer at every connection,
// unless Options.Allow covers it. What a tenant reads of a failure is a
// fixed vocabulary, never a dial error; an endpoint that fails permanently
// for DisableAfter is disabled. See docs/operations.md.
package outbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
)

// Event types an endpoint may subscribe to.
const (
	EventInviteAccepted      = "linkedin.invite_accepted"
	EventReplyReceived       = "linkedin.reply_received"
	EventMessageSent         = "linkedin.message_sent"
	EventAccountDisconnected = "linkedin.account_disconnected"
	EventAccountConnected    = "linkedin.account_connected"
	// EventInvitationWithdrawn: Keel withdrew an unanswered invitation
	// (docs/sending.md#withdrawals).
	EventInvitationWithdrawn = "linkedin.invitation_withdrawn"
)

const (
	secretPrefix              = "whsec_"
	maxURLLength              = 2048
	defaultBatchSize          = 50
	defaultHTTPTimeout        = 10 * time.Second
	registrationLookupTimeout = 5 * time.Second
	maxResponseBytesToDiscard = 64 << 10
)

// EventTypes lists every event type, in a stable order.
var EventTypes = []string{EventInviteAccepted, EventReplyReceived, EventMessageSent, EventAccountDisconnected, EventAccountConnected,
	EventInvitationWithdrawn}

// Delivery states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// ErrNotFound: no such endpoint in the workspace.
var ErrNotFound = errors.New("webhook endpoint not found")

// ErrConflict: the workspace already has an endpoint with that URL.
var ErrConflict = errors.New("a webhook endpoint with this URL already exists")

// ValidationError says which request field is wrong and why.
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Endpoint is a registered webhook receiver. It deliberately has no secret
// field: the secret leaves Keel only once, from CreateEndpoint.
type Endpoint struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	URL         string `json:"url"`
	// Events is the subscription; empty means every event.
	Events []string `json:"events"`
	// Active is false once the endpoint is disabled (see DisabledReason).
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	// DisabledAt and DisabledReason say when and why Keel stopped
	// delivering to the endpoint after it failed permanently; delete and
	// register it again to resume.
	DisabledAt     *time.Time `json:"disabled_at"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
}

// Options configures a Service.
type Options struct {
	DB    *db.DB
	Clock clock.Clock
	// Timeout bounds one delivery request (default 10s). Redirects are
	// never followed: a 3xx answer is a failed attempt.
	Timeout time.Duration
	// Allow lists the networks deliveries may reach although they are
	// loopback, private, link-local… (KEEL_OUTBOUND_ALLOW). Empty refuses
	// them all.
	Allow []netip.Prefix
	// OwnAddrs are Keel's own host:port addresses (the listen address, the
	// public URL's host and port); they are refused even when Allow covers
	// them, so Keel never posts to itself.
	OwnAddrs []string
	// Resolver looks up endpoint host names, at registration and at every
	// connection (default: the system resolver).
	Resolver Resolver
	Logger   *slog.Logger
	// BatchSize bounds how many deliveries one DeliverDue call sends
	// (default 50).
	BatchSize int
	// Lease is how long a claimed delivery stays invisible to other workers
	// while its request is in flight (default: twice the HTTP timeout plus
	// a minute). A worker that dies mid-request is retried after it.
	Lease time.Duration
}

// Service manages endpoints, records events and delivers them.
type Service struct {
	db     *db.DB
	clock  clock.Clock
	client *http.Client
	policy *policy
	log    *slog.Logger
	batch  int
	lease  time.Duration
}

// WithDefaults returns the options with every unset field given its
// default: the real clock, the default logger, a 10s request timeout, 50
// deliveries a batch, and a lease of twice the timeout plus a minute.
func (o Options) WithDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultHTTPTimeout
	}
	if o.BatchSize <= 0 {
		o.BatchSize = defaultBatchSize
	}
	if o.Lease <= 0 {
		o.Lease = 2*o.Timeout + time.Minute
	}
	return o
}

// New builds a Service.
func New(opts Options) *Service {
	opts = opts.WithDefaults()
	pol := newPolicy(opts.Allow, opts.OwnAddrs, opts.Resolver, opts.Logger)
	client := http.Client{Timeout: opts.Timeout, Transport: pol.transport()}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Service{db: opts.DB, clock: opts.Clock, client: &client, policy: pol, log: opts.Logger, batch: opts.BatchSize, lease: opts.Lease}
}

// ValidateURL accepts absolute http and https URLs with a host and without
// credentials or a fragment.
func ValidateURL(raw string) error {
	if raw == "" {
		return &ValidationError{Field: "url", Message: "is required"}
	}
	if len(raw) > maxURLLength {
		return &ValidationError{Field: "url", Message: fmt.Sprintf("must be at most %d characters", maxURLLength)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &ValidationError{Field: "url", Message: "is not a valid URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &ValidationError{Field: "url", Message: "must use http or https"}
	}
	if u.Host == "" || u.Hostname() == "" {
		return &ValidationError{Field: "url", Message: "must name a host"}
	}
	if u.User != nil {
		return &ValidationError{Field: "url", Message: "must not carry credentials; verify the Keel-Signature header instead"}
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return &ValidationError{Field: "url", Message: "must not have a fragment"}
	}
	return nil
}

// normalizeEvents checks names and returns them sorted without duplicates.
func normalizeEvents(events []string) ([]string, error) {
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !slices.Contains(EventTypes, e) {
			return nil, &ValidationError{Field: "events", Message: fmt.Sprintf("unknown event %q (known: %s)", e, strings.Join(EventTypes, ", "))}
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out, nil
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating webhook secret: %w", err)
	}
	return secretPrefix + hex.EncodeToString(b[:]), nil
}

// checkDestination resolves the URL's host and refuses it when it is, or
// resolves to, an address deliveries may not reach. Delivery checks again
// at every connection; this check gives the tenant an answer at once.
func (s *Service) checkDestination(ctx context.Context, rawURL string) error {
	host, port, err := URLHostPort(rawURL)
	if err != nil {
		return &ValidationError{Field: "url", Message: "is not a valid URL"}
	}
	ctx, cancel := context.WithTimeout(ctx, registrationLookupTimeout)
	defer cancel()
	_, err = s.policy.checkHost(ctx, host, port)
	var refused *RefusedError
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		return &ValidationError{Field: "url", Message: refused.Reason}
	case errors.As(err, &dnsErr) || errors.Is(err, context.DeadlineExceeded):
		s.log.Debug("webhook endpoint host did not resolve", "host", host, "error", err)
		return &ValidationError{Field: "url", Message: "host name does not resolve"}
	default:
		return fmt.Errorf("checking webhook destination: %w", err)
	}
}

func splitEvents(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
