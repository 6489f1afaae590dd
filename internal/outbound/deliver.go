package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/alert"
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

// Failure texts a tenant reads in the delivery log, besides "HTTP <code>"
// and the Refused* texts. They classify what happened and carry nothing
// learnt from the network (no dial error, no response body), so the log
// cannot map what Keel can reach. The database holds the same vocabulary
// (migration 00014).
const (
	FailTimeout          = "timeout"
	FailConnection       = "connection failed"
	FailTLS              = "TLS error"
	FailDNS              = "DNS lookup failed"
	FailEndpointDeleted  = "endpoint deleted"
	FailEndpointDisabled = "endpoint disabled"
)

// DisableAfter is how long an endpoint may fail permanently — every
// delivery answered with a 4xx other than 408/429, or refused as a
// destination, with no success since the first — before Keel disables it.
const DisableAfter = 24 * time.Hour

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
	disabled := map[string]bool{}
	sent := 0
	for _, c := range jobs {
		// An endpoint disabled by an earlier attempt of this batch had its
		// pending deliveries failed with it: send none of them.
		if disabled[c.endpointID] {
			continue
		}
		off, err := s.attempt(ctx, c)
		if err != nil {
			return sent, err
		}
		sent++
		if off {
			disabled[c.endpointID] = true
		}
	}
	return sent, nil
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

// outcome is the result of one HTTP attempt.
type outcome struct {
	code int // 0 when no response came back
	// failure is the tenant-visible text; empty on success.
	failure string
	// detail is the raw error, for the server's debug log only.
	detail string
	// permanent: retrying will not help (a 4xx other than 408/429, or a
	// refused destination).
	permanent bool
}

// send makes one HTTP attempt.
func (s *Service) send(ctx context.Context, c claimed) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		return outcome{failure: FailConnection, detail: "building request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keel-Webhooks/1")
	req.Header.Set(EventIDHeader, c.eventID)
	req.Header.Set(SignatureHeader, signWithKey(c.secret, s.clock.Now(), c.body))
	resp, err := s.client.Do(req)
	if err != nil {
		return classifyError(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytesToDiscard))
	_ = resp.Body.Close()
	if code := resp.StatusCode; code < 200 || code > 299 {
		permanent := code >= 400 && code <= 499 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
		return outcome{code: code, failure: fmt.Sprintf("HTTP %d", code), permanent: permanent}
	}
	return outcome{code: resp.StatusCode}
}

// classifyError turns a transport error into a tenant-visible class.
func classifyError(err error) outcome {
	o := outcome{detail: err.Error()}
	var (
		refused    *RefusedError
		dnsErr     *net.DNSError
		netErr     net.Error
		certErr    *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		authErr    x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &refused):
		o.failure, o.permanent = refused.Reason, true
	case errors.As(err, &dnsErr):
		o.failure = FailDNS
	case errors.As(err, &certErr) || errors.As(err, &recordErr) || errors.As(err, &alertErr) ||
		errors.As(err, &authErr) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) ||
		strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		o.failure = FailTLS
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		o.failure = FailTimeout
	default:
		o.failure = FailConnection
	}
	return o
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
