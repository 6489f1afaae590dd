package webhook

import (
	"context"
	"crypto/sha256"
	"database/sql"
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

// store writes the delivery to the inbox in one transaction, or folds it
// into the row of the same logical event.
func (r *Receiver) store(ctx context.Context, it item, body []byte) (stored, error) {
	now := r.clock.Now()
	var res stored
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		key := it.key
		if it.source == sourceAccountStatus {
			var (
				prevID  int64
				prevMsg string
				prevAt  time.Time
			)
			err := tx.QueryRowContext(ctx, `
				SELECT id, status_message, last_received_at FROM webhook_inbox
				 WHERE provider_account_id = $1 AND source = 'account_status'
				 ORDER BY id DESC LIMIT 1`, it.accountID).Scan(&prevID, &prevMsg, &prevAt)
			switch {
			case err == nil && prevMsg == it.statusMessage && now.Sub(prevAt) <= r.window:
				// A retry (or a repeat with nothing in between): one effect.
				var state string
				if err := tx.QueryRowContext(ctx, `
					UPDATE webhook_inbox
					   SET deliveries = deliveries + 1,
					       last_received_at = CASE WHEN $2 > last_received_at THEN $2 ELSE last_received_at END
					 WHERE id = $1
					RETURNING state`, prevID, now).Scan(&state); err != nil {
					return fmt.Errorf("counting repeated delivery %d: %w", prevID, err)
				}
				res = stored{id: prevID, duplicate: true, pending: state == StatePending}
				return nil
			case err != nil && !db.IsNoRows(err):
				return fmt.Errorf("reading previous status delivery: %w", err)
			}
			key = statusKey(it.accountID, it.statusMessage, prevID)
		}

		state, note := StatePending, ""
		var processedAt any
		if it.source == sourceUnknown {
			state, note, processedAt = StateIgnored, "unknown event "+strconv.Quote(it.event)+"; nothing consumes it", now
		}
		var (
			id         int64
			deliveries int
			rowState   string
		)
		err := tx.QueryRowContext(ctx, `
			INSERT INTO webhook_inbox (dedupe_key, source, event, provider_account_id, status_message, payload,
				state, note, received_at, last_received_at, processed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
			ON CONFLICT (dedupe_key) DO UPDATE
			   SET deliveries = webhook_inbox.deliveries + 1,
			       last_received_at = CASE WHEN excluded.last_received_at > webhook_inbox.last_received_at
			                               THEN excluded.last_received_at ELSE webhook_inbox.last_received_at END
			RETURNING id, deliveries, state`,
			key, it.source, it.event, db.NullIfEmpty(it.accountID), db.NullIfEmpty(it.statusMessage), string(body),
			state, note, now, processedAt).Scan(&id, &deliveries, &rowState)
		if err != nil {
			return fmt.Errorf("storing %s delivery: %w", it.source, err)
		}
		res = stored{id: id, duplicate: deliveries > 1, pending: rowState == StatePending}
		return nil
	})
	return res, err
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

// Entries returns up to limit inbox rows (0 means 100), oldest first.
func Entries(ctx context.Context, q db.Querier, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.QueryContext(ctx, `
		SELECT id, dedupe_key, source, event, provider_account_id, status_message, state, note, attempts,
		       deliveries, last_error, received_at, last_received_at, processed_at, payload
		  FROM webhook_inbox ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing webhook inbox: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e                  Entry
			acct, msg, lastErr sql.NullString
			processedAt        sql.NullTime
			payload            string
		)
		if err := rows.Scan(&e.ID, &e.DedupeKey, &e.Source, &e.Event, &acct, &msg, &e.State, &e.Note, &e.Attempts,
			&e.Deliveries, &lastErr, &e.ReceivedAt, &e.LastReceivedAt, &processedAt, &payload); err != nil {
			return nil, fmt.Errorf("listing webhook inbox: %w", err)
		}
		e.ProviderAccountID, e.StatusMessage, e.LastError = acct.String, msg.String, lastErr.String
		e.ReceivedAt, e.LastReceivedAt = e.ReceivedAt.UTC(), e.LastReceivedAt.UTC()
		if processedAt.Valid {
			t := processedAt.Time.UTC()
			e.ProcessedAt = &t
		}
		e.Payload = json.RawMessage(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}
