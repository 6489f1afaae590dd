package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Inbox sources: the webhook source a delivery belongs to, or unknown.
const (
	sourceAccountStatus = unipile.SourceAccountStatus
	sourceUsers         = unipile.SourceUsers
	sourceMessaging     = unipile.SourceMessaging
	sourceUnknown       = "unknown"
)

// Inbox row states (webhook_inbox_state_chk holds the same list).
const (
	// StatePending rows wait for processing.
	StatePending = "pending"
	// StateProcessed rows had their effect (or were a no-op).
	StateProcessed = "processed"
	// StateIgnored rows were recorded but had nothing to act on: an unknown
	// event, an unknown account, an unknown status message, a refused
	// transition.
	StateIgnored = "ignored"
	// StateFailed rows failed Options.MaxAttempts times and wait for a person.
	StateFailed = "failed"
)

// item is a decoded delivery, ready to store.
type item struct {
	source string
	// event is the event name as stored (sanitised for unknown events).
	event string
	// accountID is the provider account id, when the payload has one.
	accountID string
	// statusMessage is the normalised account_status message.
	statusMessage string
	// key is the dedupe key; account_status keys are made in store, since
	// they depend on the account's previous status row.
	key string
}

// classify derives what to store from a parsed delivery.
func classify(ev unipile.WebhookEvent, body []byte) (item, error) {
	switch {
	case ev.AccountStatus != nil:
		acct, err := providerID("account_id", string(ev.AccountStatus.AccountID))
		if err != nil {
			return item{}, err
		}
		return item{
			source:        sourceAccountStatus,
			event:         unipile.EventAccountStatus,
			accountID:     acct,
			statusMessage: normalizeMessage(ev.AccountStatus.Message),
		}, nil
	case ev.NewRelation != nil:
		acct, err := providerID("account_id", string(ev.NewRelation.AccountID))
		if err != nil {
			return item{}, err
		}
		// One relation is accepted once: account and member identify it,
		// whatever else a later delivery carries.
		return item{
			source:    sourceUsers,
			event:     unipile.EventNewRelation,
			accountID: acct,
			key:       dedupeKey(sourceUsers, unipile.EventNewRelation, acct, string(ev.NewRelation.UserProviderID)),
		}, nil
	case ev.Message != nil:
		m := ev.Message
		acct, err := providerID("account_id", string(m.AccountID))
		if err != nil {
			return item{}, err
		}
		parts := []string{ev.Name, acct, string(m.MessageID)}
		switch {
		case m.MessageID == "":
			// Without a message id only the exact body identifies it.
			parts = append(parts, "body", bodyHash(body))
		case ev.Name == unipile.EventMessageReaction:
			// Several people may react to one message, and one may react
			// more than once with different reactions.
			sender := ""
			if m.ReactionSender != nil {
				sender = string(m.ReactionSender.AttendeeProviderID)
			}
			parts = append(parts, sender, m.Reaction)
		}
		return item{
			source:    sourceMessaging,
			event:     ev.Name,
			accountID: acct,
			key:       dedupeKey(sourceMessaging, parts...),
		}, nil
	default:
		// Stored as ignored so the delivery leaves a trace; identical
		// retries fold into one row.
		name := unipile.Printable(ev.Name, 100)
		if name == "" {
			name = "(none)"
		}
		return item{source: sourceUnknown, event: name, key: dedupeKey(sourceUnknown, bodyHash(body))}, nil
	}
}

// providerID validates an id taken from a payload (unipile.ValidID).
func providerID(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !unipile.ValidID(s) {
		return "", fmt.Errorf("%s is empty, longer than %d bytes or holds control or space characters", field, unipile.MaxIDLen)
	}
	return s, nil
}

// normalizeMessage upper-cases an account_status message and keeps it short
// and printable; unknown messages are still stored (and then ignored).
func normalizeMessage(s string) string {
	s = strings.ToUpper(unipile.Printable(s, 64))
	if s == "" {
		return "(EMPTY)"
	}
	return s
}

// dedupeKey is the source plus a hash of the identifying parts: bounded in
// length whatever the payload holds, and unambiguous because parts are
// NUL-separated.
func dedupeKey(source string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return source + ":" + hex.EncodeToString(h.Sum(nil))
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// statusKey identifies an account_status event by account, message and the
// account's previous status row: the same message after the same previous
// row is the same event, however often it is delivered.
func statusKey(accountID, message string, prevID int64) string {
	return dedupeKey(sourceAccountStatus, accountID, message, strconv.FormatInt(prevID, 10))
}

// stored is what store did.
type stored struct {
	id        int64
	duplicate bool
	// pending reports that the row still needs processing.
	pending bool
}

// refusedPayload reports that the database refused the payload itself (its
// JSON check, or PostgreSQL's data exceptions such as a text encoding it
// cannot hold): a malformed delivery, not a server fault.
func refusedPayload(err error) bool {
	if db.ViolatesConstraint(err, "webhook_inbox_payload_chk") {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}

// Entry is one inbox row, for diagnostics and tests.
type Entry struct {
	ID                int64           `json:"id"`
	DedupeKey         string          `json:"dedupe_key"`
	Source            string          `json:"source"`
	Event             string          `json:"event"`
	ProviderAccountID string          `json:"provider_account_id,omitempty"`
	StatusMessage     string          `json:"status_message,omitempty"`
	State             string          `json:"state"`
	Note              string          `json:"note,omitempty"`
	Attempts          int             `json:"attempts"`
	Deliveries        int             `json:"deliveries"`
	LastError         string          `json:"last_error,omitempty"`
	ReceivedAt        time.Time       `json:"received_at"`
	LastReceivedAt    time.Time       `json:"last_received_at"`
	ProcessedAt       *time.Time      `json:"processed_at,omitempty"`
	Payload           json.RawMessage `json:"payload"`
}
