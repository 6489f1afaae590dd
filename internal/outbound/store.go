package outbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/id"
)

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
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.event_id, d.endpoint_id, d.attempts, e.body, p.url, p.secret
			FROM outbound_deliveries d
			JOIN outbound_events e ON e.id = d.event_id
			JOIN outbound_endpoints p ON p.id = d.endpoint_id
			WHERE d.state = $1 AND d.next_attempt_at <= $2 AND p.deleted_at IS NULL AND p.disabled_at IS NULL
			ORDER BY d.next_attempt_at, d.id LIMIT $3`+s.db.LockForUpdateSkipLocked("d"), StatePending, now, s.batch)
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

// attempt sends one claimed delivery and records the outcome. It reports
// whether the outcome disabled the endpoint.
func (s *Service) attempt(ctx context.Context, c claimed) (bool, error) {
	attemptedAt := s.clock.Now()
	started := time.Now()
	o := s.send(ctx, c)
	elapsed := time.Since(started)
	failure := o.failure
	var codeArg, errArg any
	if o.code != 0 {
		codeArg = o.code
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
	disabled := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		disabled = false
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
		switch {
		case failure == "":
			if _, err := tx.ExecContext(ctx, `UPDATE outbound_endpoints SET failing_since = NULL
				WHERE id = $1 AND failing_since IS NOT NULL AND disabled_at IS NULL`, c.endpointID); err != nil {
				return fmt.Errorf("clearing the failure run of webhook endpoint %s: %w", c.endpointID, err)
			}
		case o.permanent:
			var err error
			disabled, err = s.notePermanentFailure(ctx, tx, c, now, failure)
			return err
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if o.detail != "" {
		// The raw error stays on the server, at debug level.
		s.log.Debug("webhook delivery attempt detail", "delivery_id", c.id, "endpoint_id", c.endpointID,
			"attempt", c.attempt, "detail", o.detail)
	}
	switch {
	case failure == "":
		s.log.Debug("webhook delivered", "delivery_id", c.id, "event_id", c.eventID, "endpoint_id", c.endpointID,
			"attempt", c.attempt, "status", o.code)
	case disabled:
		s.log.Warn("webhook endpoint disabled after a day of permanent failures", "endpoint_id", c.endpointID,
			"delivery_id", c.id, "status", o.code, "error", failure)
	case state == StateFailed:
		s.log.Warn("webhook delivery gave up", "delivery_id", c.id, "event_id", c.eventID, "endpoint_id", c.endpointID,
			"attempts", c.attempt, "status", o.code, "error", failure)
	default:
		s.log.Info("webhook delivery failed; will retry", "delivery_id", c.id, "event_id", c.eventID,
			"endpoint_id", c.endpointID, "attempt", c.attempt, "status", o.code, "error", failure, "next_attempt_at", next)
	}
	return disabled, nil
}

// notePermanentFailure starts the endpoint's run of permanent failures, or
// continues it; once the run is DisableAfter old, it disables the
// endpoint, fails its pending deliveries and raises one alert to the
// workspace. It reports whether it disabled the endpoint.
func (s *Service) notePermanentFailure(ctx context.Context, tx *sql.Tx, c claimed, now time.Time, failure string) (bool, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE outbound_endpoints SET failing_since = $1
		WHERE id = $2 AND failing_since IS NULL AND deleted_at IS NULL AND disabled_at IS NULL`, now, c.endpointID); err != nil {
		return false, fmt.Errorf("noting a permanent failure of webhook endpoint %s: %w", c.endpointID, err)
	}
	var (
		since       sql.NullTime
		workspaceID string
		epURL       string
	)
	if err := tx.QueryRowContext(ctx, `SELECT failing_since, workspace_id, url FROM outbound_endpoints
		WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL`, c.endpointID).Scan(&since, &workspaceID, &epURL); err != nil {
		if db.IsNoRows(err) {
			return false, nil // deleted or disabled meanwhile
		}
		return false, fmt.Errorf("reading webhook endpoint %s: %w", c.endpointID, err)
	}
	if !since.Valid || now.Sub(since.Time) < DisableAfter {
		return false, nil
	}
	reason := fmt.Sprintf("every delivery since %s failed permanently (last: %s)", since.Time.UTC().Format(time.RFC3339), failure)
	if _, err := tx.ExecContext(ctx, `UPDATE outbound_endpoints SET active = $1, disabled_at = $2, disabled_reason = $3
		WHERE id = $4 AND disabled_at IS NULL`, false, now, reason, c.endpointID); err != nil {
		return false, fmt.Errorf("disabling webhook endpoint %s: %w", c.endpointID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbound_deliveries
		SET state = $1, next_attempt_at = NULL, last_error = $2, updated_at = $3
		WHERE endpoint_id = $4 AND state = $5`, StateFailed, FailEndpointDisabled, now, c.endpointID, StatePending); err != nil {
		return false, fmt.Errorf("cancelling deliveries of disabled webhook endpoint %s: %w", c.endpointID, err)
	}
	if _, _, err := alert.Raise(ctx, tx, now, alert.New{
		WorkspaceID: workspaceID, Kind: alert.KindWebhookEndpointDisabled, Severity: alert.Warning,
		Message: fmt.Sprintf("Webhook endpoint %s (%s) is disabled: %s. Fix the receiver, then delete the endpoint and register it again.",
			c.endpointID, epURL, reason),
		DedupeKey: alert.KindWebhookEndpointDisabled + ":" + c.endpointID,
	}); err != nil {
		return false, fmt.Errorf("alerting on disabled webhook endpoint %s: %w", c.endpointID, err)
	}
	return true, nil
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

// CreateEndpoint registers an endpoint and returns it with its signing
// secret, which is never returned again. A URL whose host is or resolves
// to a refused address (loopback, private, link-local, Keel itself…, unless
// the allow-list covers it) is a ValidationError on url.
func (s *Service) CreateEndpoint(ctx context.Context, workspaceID, rawURL string, events []string) (Endpoint, string, error) {
	if err := ValidateURL(rawURL); err != nil {
		return Endpoint{}, "", err
	}
	evs, err := normalizeEvents(events)
	if err != nil {
		return Endpoint{}, "", err
	}
	if err := s.checkDestination(ctx, rawURL); err != nil {
		return Endpoint{}, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	e := Endpoint{ID: id.New("whe"), WorkspaceID: workspaceID, URL: rawURL, Events: evs, Active: true, CreatedAt: s.clock.Now()}
	_, err = s.db.SQL.ExecContext(ctx, `INSERT INTO outbound_endpoints (id, workspace_id, url, events, secret, active, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, workspaceID, rawURL, strings.Join(evs, ","), SigningKey(secret), true, e.CreatedAt)
	if db.IsUniqueViolation(err) {
		return Endpoint{}, "", ErrConflict
	}
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("creating webhook endpoint for workspace %s: %w", workspaceID, err)
	}
	return e, secret, nil
}

// ListEndpoints lists a workspace's endpoints (deleted ones excluded),
// oldest first.
func (s *Service) ListEndpoints(ctx context.Context, workspaceID string) ([]Endpoint, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT id, workspace_id, url, events, active, created_at, disabled_at, disabled_reason
		FROM outbound_endpoints WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("listing webhook endpoints of workspace %s: %w", workspaceID, err)
	}
	defer rows.Close()
	out := []Endpoint{}
	for rows.Next() {
		var e Endpoint
		var events string
		var disabledAt sql.NullTime
		var reason sql.NullString
		if err := rows.Scan(&e.ID, &e.WorkspaceID, &e.URL, &events, &e.Active, &e.CreatedAt, &disabledAt, &reason); err != nil {
			return nil, fmt.Errorf("reading webhook endpoint: %w", err)
		}
		e.Events = splitEvents(events)
		if disabledAt.Valid {
			t := disabledAt.Time.UTC()
			e.DisabledAt = &t
		}
		e.DisabledReason = reason.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing webhook endpoints of workspace %s: %w", workspaceID, err)
	}
	return out, nil
}

// DeleteEndpoint deactivates a workspace's endpoint, wipes its secret and
// fails its pending deliveries. The row stays so the delivery log keeps
// its references. Another workspace's endpoint is ErrNotFound.
func (s *Service) DeleteEndpoint(ctx context.Context, workspaceID, endpointID string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		res, err := tx.ExecContext(ctx, `UPDATE outbound_endpoints SET active = $1, secret = '', deleted_at = $2
			WHERE id = $3 AND workspace_id = $4 AND deleted_at IS NULL`, false, now, endpointID, workspaceID)
		if err != nil {
			return fmt.Errorf("deleting webhook endpoint %s: %w", endpointID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("deleting webhook endpoint %s: %w", endpointID, err)
		} else if n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbound_deliveries
			SET state = $1, next_attempt_at = NULL, last_error = $2, updated_at = $3
			WHERE endpoint_id = $4 AND state = $5`, StateFailed, FailEndpointDeleted, now, endpointID, StatePending); err != nil {
			return fmt.Errorf("cancelling deliveries of webhook endpoint %s: %w", endpointID, err)
		}
		return nil
	})
}

// Emit records an event of eventType for a workspace, and one pending
// delivery per active endpoint subscribed to it, inside tx: when tx rolls
// back, nothing is ever sent. It uses tx only (never the *sql.DB), so it
// is safe on SQLite's single connection. The event row is written even
// when no endpoint matches.
func (s *Service) Emit(ctx context.Context, tx *sql.Tx, workspaceID, eventType string, data any) error {
	if !slices.Contains(EventTypes, eventType) {
		return fmt.Errorf("emitting webhook event: unknown event type %q", eventType)
	}
	now := s.clock.Now()
	ev := envelope{ID: id.New("evt"), Type: eventType, CreatedAt: now, Data: data}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("emitting %s event: encoding data: %w", eventType, err)
	}
	// The share lock makes a concurrent delete or disable (which fails the
	// endpoint's pending deliveries) wait for this transaction, so it also
	// fails the delivery written here instead of missing it.
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM outbound_endpoints
		WHERE workspace_id = $1 AND active = $2 AND deleted_at IS NULL ORDER BY id`+s.db.LockShare(), workspaceID, true)
	if err != nil {
		return fmt.Errorf("emitting %s event: finding endpoints: %w", eventType, err)
	}
	var targets []string
	for rows.Next() {
		var epID, events string
		if err := rows.Scan(&epID, &events); err != nil {
			rows.Close()
			return fmt.Errorf("emitting %s event: reading endpoint: %w", eventType, err)
		}
		if events == "" || slices.Contains(splitEvents(events), eventType) {
			targets = append(targets, epID)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("emitting %s event: finding endpoints: %w", eventType, err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("emitting %s event: finding endpoints: %w", eventType, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_events (id, workspace_id, type, body, created_at)
		VALUES ($1, $2, $3, $4, $5)`, ev.ID, workspaceID, eventType, string(body), now); err != nil {
		return fmt.Errorf("emitting %s event for workspace %s: %w", eventType, workspaceID, err)
	}
	for _, epID := range targets {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_deliveries
			(id, workspace_id, event_id, endpoint_id, state, attempts, next_attempt_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 0, $6, $6, $6)`,
			id.New("whd"), workspaceID, ev.ID, epID, StatePending, now); err != nil {
			return fmt.Errorf("queueing %s event %s for endpoint %s: %w", eventType, ev.ID, epID, err)
		}
	}
	return nil
}

// CountDeliveries counts outbound deliveries by state, for the metrics
// scrape.
func CountDeliveries(ctx context.Context, q db.Querier) ([]db.GroupCount, error) {
	out, err := db.QueryGroupCounts(ctx, q, 1, `SELECT state, count(*) FROM outbound_deliveries GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting outbound deliveries: %w", err)
	}
	return out, nil
}
