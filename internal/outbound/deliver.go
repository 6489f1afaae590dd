package outbound

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

// MaxAttempts is how many times a delivery is tried before it is marked
// failed (the migration's CHECKs hold the same bound).
const MaxAttempts = 8

// BaseBackoff is the wait after the first failed attempt; each further
// failure doubles it (30s, 1m, 2m, 4m, … 32m).
const BaseBackoff = 30 * time.Second

const maxErrorLength = 500

// Backoff is the wait after the attempt-th failed attempt (1-based).
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	return BaseBackoff << (attempt - 1)
}

// Delivery is one event's journey to one endpoint.
type Delivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	EndpointID     string     `json:"endpoint_id"`
	State          string     `json:"state"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      string     `json:"last_error,omitempty"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// claimed is a delivery taken by DeliverDue for one attempt.
type claimed struct {
	id, eventID, endpointID, url, secret string
	body                                 []byte
	attempt                              int
}

// DeliverDue sends every pending delivery whose next attempt is due (at
// most the batch size) and returns how many it attempted. Claiming and
// recording happen in short transactions; the HTTP requests happen outside
// any transaction. A 2xx answer delivers; anything else (or a transport
// error) schedules a retry after Backoff(attempt), until MaxAttempts, after
// which the delivery is failed. Every attempt is logged in
// outbound_delivery_attempts.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	jobs, err := s.claim(ctx)
	if err != nil {
		return 0, err
	}
	for i, c := range jobs {
		if err := s.attempt(ctx, c); err != nil {
			return i, err
		}
	}
	return len(jobs), nil
}

func (s *Service) claim(ctx context.Context) ([]claimed, error) {
	var jobs []claimed
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		// A worker that died after claiming the last allowed attempt leaves
		// a pending row with no attempts left: give up on it.
		if _, err := tx.ExecContext(ctx, `UPDATE outbound_deliveries
			SET state = $1, next_attempt_at = NULL, last_error = COALESCE(NULLIF(last_error, ''), 'gave up'), updated_at = $2
			WHERE state = $3 AND next_attempt_at <= $2 AND attempts >= $4`,
			StateFailed, now, StatePending, MaxAttempts); err != nil {
			return fmt.Errorf("failing exhausted webhook deliveries: %w", err)
		}
		lock := ""
		if s.db.Engine == db.Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.event_id, d.endpoint_id, d.attempts, e.body, p.url, p.secret
			FROM outbound_deliveries d
			JOIN outbound_events e ON e.id = d.event_id
			JOIN outbound_endpoints p ON p.id = d.endpoint_id
			WHERE d.state = $1 AND d.next_attempt_at <= $2
			ORDER BY d.next_attempt_at, d.id LIMIT $3`+lock, StatePending, now, s.batch)
		if err != nil {
			return fmt.Errorf("finding due webhook deliveries: %w", err)
		}
		for rows.Next() {
			var c claimed
			var body string
			if err := rows.Scan(&c.id, &c.eventID, &c.endpointID, &c.attempt, &body, &c.url, &c.secret); err != nil {
				rows.Close()
				return fmt.Errorf("reading due webhook delivery: %w", err)
			}
			c.attempt++
			c.body = []byte(body)
			jobs = append(jobs, c)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("finding due webhook deliveries: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("finding due webhook deliveries: %w", err)
		}
		leaseUntil := clock.Normalize(now.Add(s.lease))
		for _, c := range jobs {
			if _, err := tx.ExecContext(ctx, `UPDATE outbound_deliveries
				SET attempts = $1, next_attempt_at = $2, updated_at = $3 WHERE id = $4`,
				c.attempt, leaseUntil, now, c.id); err != nil {
				return fmt.Errorf("claiming webhook delivery %s: %w", c.id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// send makes one HTTP attempt; it returns the status code (0 when none
// came back) and the failure, if any.
func (s *Service) send(ctx context.Context, c claimed) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		return 0, "building request: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keel-Webhooks/1")
	req.Header.Set(EventIDHeader, c.eventID)
	req.Header.Set(SignatureHeader, signWithKey(c.secret, s.clock.Now(), c.body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytesToDiscard))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Sprintf("receiver answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, ""
}

func (s *Service) attempt(ctx context.Context, c claimed) error {
	attemptedAt := s.clock.Now()
	started := time.Now()
	code, failure := s.send(ctx, c)
	elapsed := time.Since(started)
	if len(failure) > maxErrorLength {
		failure = failure[:maxErrorLength]
	}
	var codeArg, errArg any
	if code != 0 {
		codeArg = code
	}
	if failure != "" {
		errArg = failure
	}
	now := s.clock.Now()
	state := StateDelivered
	var next, deliveredAt any = nil, now
	if failure != "" {
		deliveredAt = nil
		state = StatePending
		next = clock.Normalize(now.Add(Backoff(c.attempt)))
		if c.attempt >= MaxAttempts {
			state, next = StateFailed, nil
		}
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_delivery_attempts
			(id, delivery_id, attempt, status_code, error, duration_ms, attempted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id.New("wha"), c.id, c.attempt, codeArg, errArg, elapsed.Milliseconds(), attemptedAt); err != nil {
			return fmt.Errorf("logging attempt %d of webhook delivery %s: %w", c.attempt, c.id, err)
		}
		// Only the claim this worker holds may be settled: a delivery failed
		// meanwhile (its endpoint deleted) stays failed.
		if _, err := tx.ExecContext(ctx, `UPDATE outbound_deliveries
			SET state = $1, next_attempt_at = $2, delivered_at = $3, last_status_code = $4, last_error = $5, updated_at = $6
			WHERE id = $7 AND attempts = $8 AND state = $9`,
			state, next, deliveredAt, codeArg, errArg, now, c.id, c.attempt, StatePending); err != nil {
			return fmt.Errorf("recording attempt %d of webhook delivery %s: %w", c.attempt, c.id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case failure == "":
		s.log.Debug("webhook delivered", "delivery_id", c.id, "event_id", c.eventID, "endpoint_id", c.endpointID,
			"attempt", c.attempt, "status", code)
	case state == StateFailed:
		s.log.Warn("webhook delivery gave up", "delivery_id", c.id, "event_id", c.eventID, "endpoint_id", c.endpointID,
			"attempts", c.attempt, "status", code, "error", failure)
	default:
		s.log.Info("webhook delivery failed; will retry", "delivery_id", c.id, "event_id", c.eventID,
			"endpoint_id", c.endpointID, "attempt", c.attempt, "status", code, "error", failure, "next_attempt_at", next)
	}
	return nil
}

// ListDeliveries lists a workspace's deliveries, newest first (limit
// defaults to 50 and is capped at 500).
func (s *Service) ListDeliveries(ctx context.Context, workspaceID string, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT d.id, d.event_id, e.type, d.endpoint_id, d.state, d.attempts,
			d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at
		FROM outbound_deliveries d JOIN outbound_events e ON e.id = d.event_id
		WHERE d.workspace_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2`, workspaceID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing webhook deliveries of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var next, delivered sql.NullTime
		var code sql.NullInt64
		var lastErr sql.NullString
		if err := rows.Scan(&d.ID, &d.EventID, &d.EventType, &d.EndpointID, &d.State, &d.Attempts,
			&next, &code, &lastErr, &delivered, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("reading webhook delivery: %w", err)
		}
		if next.Valid {
			t := next.Time.UTC()
			d.NextAttemptAt = &t
		}
		if delivered.Valid {
			t := delivered.Time.UTC()
			d.DeliveredAt = &t
		}
		if code.Valid {
			c := int(code.Int64)
			d.LastStatusCode = &c
		}
		d.LastError = lastErr.String
		d.CreatedAt = d.CreatedAt.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing webhook deliveries of workspace %s: %w", workspaceID, err)
	}
	return out, nil
}
