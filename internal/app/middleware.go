package app

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/api"
)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// routeClass groups paths for metrics without their ids.
func routeClass(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/webhooks/unipile":
		return "webhook"
	case strings.HasPrefix(path, "/webhooks/"):
		return "hosted_auth"
	case strings.HasPrefix(path, SandboxPrefix):
		return "sandbox"
	}
	return "other"
}

// observe gives every request an id (X-Request-Id), logs one structured
// line per request — path only, never the query string, which carries
// hosted-auth tokens — and counts it.
func (a *App) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := r.Header.Get("X-Request-Id")
		if len(rid) == 0 || len(rid) > 64 || strings.ContainsAny(rid, " \t\r\n\"") {
			var b [8]byte
			_, _ = rand.Read(b[:])
			rid = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", rid)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		class := routeClass(r.URL.Path)
		a.Metrics.HTTPRequests.WithLabelValues(class, strconv.Itoa(sw.status)).Inc()
		if class == "webhook" {
			a.Metrics.WebhookLatency.WithLabelValues(strconv.Itoa(sw.status)).Observe(elapsed.Seconds())
		}
		if class != "sandbox" {
			a.Logger.Info("http request", "request_id", rid, "method", r.Method, "path", r.URL.Path,
				"status", sw.status, "duration_ms", float64(elapsed.Microseconds())/1000)
		}
	})
}

// Rate limits per API token.
const (
	// APIRatePerSecond is the sustained request rate one token may use.
	APIRatePerSecond = 20
	// APIBurst is how many requests a token may make at once.
	APIBurst = 60
)

type bucket struct {
	tokens float64
	at     time.Time
}

// limiter is a token bucket per API token (keyed by a hash of the bearer
// value, so secrets are never held as map keys in clear).
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	rate    float64
	burst   float64
	now     func() time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{buckets: map[string]*bucket{}, rate: rate, burst: burst, now: time.Now}
}

// setClock replaces the limiter's time source (tests freeze it).
func (l *limiter) setClock(now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
}

// allow takes one token for key, or says how long to wait for one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 100_000 {
			l.buckets = map[string]*bucket{} // bounded memory; a reset only forgives
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// rateLimit answers 429 with Retry-After when a token exceeds its rate.
func (a *App) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			next.ServeHTTP(w, r)
			return
		}
		sum := sha256.Sum256([]byte(auth))
		ok, wait := a.limiter.allow(hex.EncodeToString(sum[:8]))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			api.Problem(w, http.StatusTooManyRequests, "too many requests",
				fmt.Sprintf("this token is limited to %d requests per second (burst %d); retry later", APIRatePerSecond, APIBurst))
			return
		}
		next.ServeHTTP(w, r)
	})
}
