package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile"
)

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

// pendingIDs lists unclaimed pending rows after id, in arrival order.
func (r *Receiver) pendingIDs(ctx context.Context, after int64) ([]int64, error) {
	rows, err := r.db.SQL.QueryContext(ctx, `
		SELECT id FROM webhook_inbox
		 WHERE state = 'pending' AND id > $1 AND (claimed_until IS NULL OR claimed_until <= $2)
		 ORDER BY id LIMIT $3`, after, r.clock.Now(), processBatch)
	if err != nil {
		return nil, fmt.Errorf("listing pending webhook deliveries: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("listing pending webhook deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// claim takes a pending row for this processor. Several processes may share
// a PostgreSQL database; the claim keeps two of them from working on one
// row at once without holding a transaction open across the disconnect
// call (which opens its own).
func (r *Receiver) claim(ctx context.Context, id int64) (row, bool, error) {
	now := r.clock.Now()
	var (
		rw        row
		acct, msg sql.NullString
	)
	err := r.db.SQL.QueryRowContext(ctx, `
		UPDATE webhook_inbox SET claimed_until = $2, attempts = attempts + 1
		 WHERE id = $1 AND state = 'pending' AND (claimed_until IS NULL OR claimed_until <= $3)
		RETURNING id, source, event, provider_account_id, status_message, payload, attempts`,
		id, now.Add(r.claimTTL), now).Scan(&rw.id, &rw.source, &rw.event, &acct, &msg, &rw.payload, &rw.attempts)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return row{}, false, nil
		}
		return row{}, false, fmt.Errorf("claiming webhook delivery %d: %w", id, err)
	}
	rw.accountID, rw.statusMessage = acct.String, msg.String
	return rw, true, nil
}

// recordFailure releases the claim and records the error; after the last
// attempt the row is marked failed so it stops being retried.
func (r *Receiver) recordFailure(ctx context.Context, rw row, cause error) (bool, error) {
	now := r.clock.Now()
	text := cause.Error()
	if len(text) > maxErrorText {
		text = unipile.Printable(text, maxErrorText)
	}
	giveUp := rw.attempts >= r.attempts
	var err error
	if giveUp {
		_, err = r.db.SQL.ExecContext(ctx, `
			UPDATE webhook_inbox SET state = 'failed', processed_at = $2, claimed_until = NULL, last_error = $3,
			       note = $4
			 WHERE id = $1 AND state = 'pending'`,
			rw.id, now, text, fmt.Sprintf("gave up after %d attempts", rw.attempts))
	} else {
		_, err = r.db.SQL.ExecContext(ctx,
			`UPDATE webhook_inbox SET claimed_until = NULL, last_error = $2 WHERE id = $1 AND state = 'pending'`,
			rw.id, text)
	}
	outcome := "retry"
	if giveUp {
		outcome = "failed"
		r.n.failed.Add(1)
		r.log.Error("webhook delivery failed for good", "inbox_id", rw.id, "source", rw.source, "attempts", rw.attempts, "error", cause)
	} else {
		r.log.Warn("webhook delivery processing failed; will retry", "inbox_id", rw.id, "source", rw.source, "attempts", rw.attempts, "error", cause)
	}
	if r.metrics != nil {
		r.metrics.Processed(rw.source, outcome)
	}
	if err != nil {
		return false, errors.Join(fmt.Errorf("processing webhook delivery %d: %w", rw.id, cause),
			fmt.Errorf("recording the failure of delivery %d: %w", rw.id, err))
	}
	return giveUp, fmt.Errorf("processing webhook delivery %d: %w", rw.id, cause)
}

// finishTx marks the row done inside tx. If another processor finished it
// first, it returns errFinished so the caller's effects roll back.
func (r *Receiver) finishTx(ctx context.Context, tx *sql.Tx, id int64, out outcome) error {
	res, err := tx.ExecContext(ctx, `
		UPDATE webhook_inbox SET state = $2, note = $3, processed_at = $4, claimed_until = NULL
		 WHERE id = $1 AND state = 'pending'`, id, out.state, unipile.Printable(out.note, 1000), r.clock.Now())
	if err != nil {
		return fmt.Errorf("marking webhook delivery %d %s: %w", id, out.state, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errFinished
	}
	return nil
}

// CountPending counts inbound deliveries stored but not yet processed, for
// the metrics scrape.
func CountPending(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 0, `SELECT count(*) FROM webhook_inbox WHERE state = 'pending'`)
	if err != nil {
		return nil, fmt.Errorf("counting pending webhook deliveries: %w", err)
	}
	return out, nil
}
