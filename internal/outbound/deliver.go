package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
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
