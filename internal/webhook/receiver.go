// Package webhook receives Unipile webhooks on POST /webhooks/unipile.
//
// A delivery is authenticated with the shared secret header, decoded,
// stored durably in the webhook_inbox table under a dedupe key derived from
// its payload, and only then acknowledged with 200. Unipile retries a
// delivery up to five times when it does not get a 200 within 30 seconds,
// so storing first and answering fast is what makes a delivery neither lost
// nor applied twice. Processing happens after the acknowledgement, in a
// goroutine, and again from ProcessPending (a periodic job calls it to pick
// up anything a crash left behind); each stored row is processed at most
// once, and the database refuses to reprocess a finished row.
//
// account_status events drive account.Service.Flip (source webhook).
// new_relation and messaging events are stored and marked processed; the
// campaign engine consumes them through the optional hooks.
package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/logging"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Path is where the receiver is mounted (docs/surfaces.md#http-routes).
const Path = "/webhooks/unipile"

// HeaderSecret carries the shared secret on every delivery. Unipile has no
// signatures; a custom header set when the webhook is registered is the only
// way to authenticate a delivery.
const HeaderSecret = "X-Keel-Webhook-Secret"

// Defaults for Options fields left zero.
const (
	// DefaultMaxBodyBytes bounds a delivery. Real payloads are a few KiB; a
	// message with many attendees stays far below this.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultDedupeWindow is how long an identical account_status message
	// for the same account, with no other status message in between, counts
	// as a retry of the same delivery. Status payloads carry no id or
	// timestamp, so this is the only way to tell a retry from a new event.
	DefaultDedupeWindow = time.Hour
	// DefaultMaxAttempts is how many times a row whose processing fails
	// (a database error, a failing hook) is tried before it is marked
	// failed for a person to look at.
	DefaultMaxAttempts = 5
	// DefaultClaimTTL is how long a processor owns a row it claimed. Only a
	// processor that died mid-row leaves a claim behind; after this the row
	// is picked up again.
	DefaultClaimTTL = 2 * time.Minute
)

// maxJSONDepth refuses absurdly nested bodies before they reach the JSON
// parsers of the storage engines, whose depth limits differ from Go's.
// Unipile payloads nest four levels at most.
const maxJSONDepth = 64

// DisconnectFunc performs a provider-driven flip to disconnected. The health
// package's mass-disconnect limiter plugs in here so that a provider
// incident reported through webhooks cannot disconnect every account at
// once; held reports that the limiter parked the flip instead of applying it.
type DisconnectFunc func(ctx context.Context, req account.FlipRequest) (held bool, err error)

// DisconnectTxFunc is DisconnectFunc inside the caller's transaction (the
// health package's DisconnectTx), so that the flip or the hold and the
// inbox row's processed marker commit together. It must use tx only.
type DisconnectTxFunc func(ctx context.Context, tx *sql.Tx, req account.FlipRequest) (held bool, err error)

// RelationHook receives a new_relation event for a known account inside the
// transaction that marks the inbox row processed, so the effect and the
// marker commit together. It must use tx only.
type RelationHook func(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.NewRelationEvent) error

// MessageHook receives a messaging event for a known account, like
// RelationHook.
type MessageHook func(ctx context.Context, tx *sql.Tx, acct account.Account, ev unipile.MessageEvent) error

// Metrics is an optional counter sink (e.g. Prometheus counters).
type Metrics interface {
	// Received counts one HTTP delivery. source is account_status, users,
	// messaging, unknown or "" (not decoded); result is one of stored,
	// duplicate, ignored, unauthorized, malformed, too_large, error.
	Received(source, result string)
	// Processed counts one processed inbox row. outcome is one of applied,
	// noop, held, ignored, retry, failed.
	Processed(source, outcome string)
}

// Options configures a Receiver.
type Options struct {
	// DB is where the inbox lives. Required.
	DB *db.DB
	// Accounts performs the status flips. Required.
	Accounts *account.Service
	// Clock stamps rows; nil means the accounts service's clock.
	Clock clock.Clock
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Secret is the expected X-Keel-Webhook-Secret value. Required: an
	// empty secret would accept anyone.
	Secret string
	// Disconnect performs flips to disconnected; nil means a plain
	// Accounts.Flip.
	Disconnect DisconnectFunc
	// DisconnectTx, when set, is preferred over Disconnect: the flip (or
	// hold) then shares the processing transaction with the marker.
	DisconnectTx DisconnectTxFunc
	// Metrics, when set, counts deliveries and outcomes.
	Metrics Metrics
	// OnRelation, when set, is called for new_relation events of known
	// accounts inside the processing transaction.
	OnRelation RelationHook
	// OnMessage, when set, is called for messaging events of known accounts
	// inside the processing transaction.
	OnMessage MessageHook
	// MaxBodyBytes bounds a delivery; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// DedupeWindow; zero means DefaultDedupeWindow.
	DedupeWindow time.Duration
	// MaxAttempts; zero means DefaultMaxAttempts.
	MaxAttempts int
	// ClaimTTL; zero means DefaultClaimTTL.
	ClaimTTL time.Duration
	// NoBackground turns off processing after each acknowledgement, for
	// callers that drive ProcessPending themselves (fuzzing, tools).
	NoBackground bool
}

// Stats are the receiver's counters since it was built.
type Stats struct {
	// Stored counts deliveries stored as new inbox rows.
	Stored int64
	// Duplicates counts deliveries folded into an existing row.
	Duplicates int64
	// Unknown counts deliveries of unknown events (stored as ignored).
	Unknown int64
	// Unauthorized counts deliveries refused for a missing or wrong secret.
	Unauthorized int64
	// Malformed counts deliveries refused with 400.
	Malformed int64
	// TooLarge counts deliveries refused with 413.
	TooLarge int64
	// Errors counts deliveries answered 500.
	Errors int64
	// Processed counts rows finished as processed.
	Processed int64
	// Ignored counts rows finished as ignored (unknown account or message,
	// refused transition).
	Ignored int64
	// Failed counts rows given up on after MaxAttempts.
	Failed int64
}

type counters struct {
	stored, duplicates, unknown, unauthorized, malformed, tooLarge, errors atomic.Int64
	processed, ignored, failed                                             atomic.Int64
}

// Receiver is the http.Handler for POST /webhooks/unipile. Build it with
// NewReceiver and stop its background work with Close.
type Receiver struct {
	db           *db.DB
	accounts     *account.Service
	clock        clock.Clock
	log          *slog.Logger
	secretHash   [sha256.Size]byte
	disconnect   DisconnectFunc
	disconnectTx DisconnectTxFunc
	metrics      Metrics
	onRelation   RelationHook
	onMessage    MessageHook
	maxBody      int64
	window       time.Duration
	attempts     int
	claimTTL     time.Duration
	background   bool

	// procMu serialises processing in this process, so rows of one
	// account are applied in arrival order.
	procMu sync.Mutex
	// kicked is set while a background run is waiting for procMu; another
	// delivery then needs no run of its own, because the waiting run lists
	// pending rows only after it clears the flag.
	kicked atomic.Bool

	bgMu   sync.Mutex // guards closed and wg.Add against Close
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc

	n counters
}

// NewReceiver validates opts and returns a Receiver.
func NewReceiver(opts Options) (*Receiver, error) {
	switch {
	case opts.DB == nil:
		return nil, errors.New("webhook receiver: DB is required")
	case opts.Accounts == nil:
		return nil, errors.New("webhook receiver: Accounts is required")
	case opts.Secret == "":
		return nil, errors.New("webhook receiver: a webhook secret is required (KEEL_WEBHOOK_SECRET)")
	}
	r := &Receiver{
		db:           opts.DB,
		accounts:     opts.Accounts,
		clock:        opts.Clock,
		log:          opts.Logger,
		secretHash:   sha256.Sum256([]byte(opts.Secret)),
		disconnect:   opts.Disconnect,
		disconnectTx: opts.DisconnectTx,
		metrics:      opts.Metrics,
		onRelation:   opts.OnRelation,
		onMessage:    opts.OnMessage,
		maxBody:      opts.MaxBodyBytes,
		window:       opts.DedupeWindow,
		attempts:     opts.MaxAttempts,
		claimTTL:     opts.ClaimTTL,
		background:   !opts.NoBackground,
	}
	if r.clock == nil {
		r.clock = opts.Accounts.Clock()
	}
	r.log = logging.OrDiscard(r.log)
	if r.disconnect == nil {
		accounts := opts.Accounts
		r.disconnect = func(ctx context.Context, req account.FlipRequest) (bool, error) {
			_, err := accounts.Flip(ctx, req)
			return false, err
		}
	}
	if r.maxBody <= 0 {
		r.maxBody = DefaultMaxBodyBytes
	}
	if r.window <= 0 {
		r.window = DefaultDedupeWindow
	}
	if r.attempts <= 0 {
		r.attempts = DefaultMaxAttempts
	}
	if r.claimTTL <= 0 {
		r.claimTTL = DefaultClaimTTL
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Close stops background processing and waits for it. Stored rows that were
// not processed yet stay pending for the next ProcessPending.
func (r *Receiver) Close() error {
	r.bgMu.Lock()
	r.closed = true
	r.bgMu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// Wait blocks until every background processing run started so far has
// finished. Tests use it instead of sleeping.
func (r *Receiver) Wait() { r.wg.Wait() }

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	return Stats{
		Stored: r.n.stored.Load(), Duplicates: r.n.duplicates.Load(), Unknown: r.n.unknown.Load(),
		Unauthorized: r.n.unauthorized.Load(), Malformed: r.n.malformed.Load(), TooLarge: r.n.tooLarge.Load(),
		Errors: r.n.errors.Load(), Processed: r.n.processed.Load(), Ignored: r.n.ignored.Load(), Failed: r.n.failed.Load(),
	}
}

func (r *Receiver) countReceived(source, result string) {
	if r.metrics != nil {
		r.metrics.Received(source, result)
	}
}

// ServeHTTP implements http.Handler for POST /webhooks/unipile.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// Details go to the log only; the caller learns nothing.
			r.log.Error("webhook receiver panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			// Metrics are not called here: they may be what panicked.
			r.n.errors.Add(1)
			unipile.Reply(w, http.StatusInternalServerError, "internal error")
		}
	}()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		unipile.Reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if !r.authorized(req) {
		r.n.unauthorized.Add(1)
		r.countReceived("", "unauthorized")
		r.log.Warn("webhook refused: missing or wrong secret header", "remote", req.RemoteAddr)
		unipile.Reply(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			r.n.tooLarge.Add(1)
			r.countReceived("", "too_large")
			unipile.Reply(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		// The sender went away mid-body; it did not get a 200 and will retry.
		r.n.malformed.Add(1)
		r.countReceived("", "malformed")
		unipile.Reply(w, http.StatusBadRequest, "body could not be read")
		return
	}
	it, err := decode(body)
	if err != nil {
		r.n.malformed.Add(1)
		r.countReceived("", "malformed")
		r.log.Info("webhook refused: malformed body", "error", err, "bytes", len(body))
		unipile.Reply(w, http.StatusBadRequest, "malformed webhook body")
		return
	}
	res, err := r.store(req.Context(), it, body)
	if err != nil {
		if refusedPayload(err) {
			r.n.malformed.Add(1)
			r.countReceived(it.source, "malformed")
			r.log.Info("webhook refused: storage rejected the payload", "source", it.source, "error", err)
			unipile.Reply(w, http.StatusBadRequest, "malformed webhook body")
			return
		}
		r.n.errors.Add(1)
		r.countReceived(it.source, "error")
		r.log.Error("webhook not stored", "source", it.source, "event", it.event, "error", err)
		unipile.Reply(w, http.StatusInternalServerError, "internal error")
		return
	}
	result := "stored"
	switch {
	case res.duplicate:
		r.n.duplicates.Add(1)
		result = "duplicate"
	case it.source == sourceUnknown:
		r.n.unknown.Add(1)
		result = "ignored"
		r.log.Info("webhook of unknown event ignored", "event", it.event, "inbox_id", res.id)
	default:
		r.n.stored.Add(1)
	}
	r.countReceived(it.source, result)
	started := res.pending && r.startBackground()
	unipile.Reply(w, http.StatusOK, result)
	if started {
		go r.runBackground()
	}
}

// authorized compares the secret header in constant time. Hashing both
// sides first makes the comparison independent of the length of either.
func (r *Receiver) authorized(req *http.Request) bool {
	got := sha256.Sum256([]byte(req.Header.Get(HeaderSecret)))
	return subtle.ConstantTimeCompare(got[:], r.secretHash[:]) == 1
}

// startBackground reserves a background processing run; it reports false
// when one is already waiting or the receiver is closed. The WaitGroup is
// incremented here, before the 200 is written, so a caller that saw the 200
// and then calls Wait always waits for the run.
func (r *Receiver) startBackground() bool {
	if !r.background {
		return false
	}
	r.bgMu.Lock()
	defer r.bgMu.Unlock()
	if r.closed || !r.kicked.CompareAndSwap(false, true) {
		return false
	}
	r.wg.Add(1)
	return true
}

func (r *Receiver) runBackground() {
	defer r.wg.Done()
	r.procMu.Lock()
	defer r.procMu.Unlock()
	r.kicked.Store(false)
	if _, err := r.processPendingLocked(r.ctx); err != nil && r.ctx.Err() == nil {
		r.log.Warn("webhook processing after acknowledgement left work behind", "error", err)
	}
}

// decode parses and classifies a body; any error means 400.
func decode(body []byte) (item, error) {
	if !utf8.Valid(body) {
		// JSON text is UTF-8 (RFC 8259), and PostgreSQL text refuses
		// anything else.
		return item{}, errors.New("body is not valid UTF-8")
	}
	if d := jsonDepth(body); d > maxJSONDepth {
		return item{}, fmt.Errorf("body nests %d levels deep", d)
	}
	ev, err := unipile.ParseWebhook(body)
	if err != nil {
		return item{}, err
	}
	return classify(ev, body)
}

// jsonDepth returns the deepest nesting of objects and arrays in b, ignoring
// brackets inside strings. It does not validate; the JSON parser does.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
