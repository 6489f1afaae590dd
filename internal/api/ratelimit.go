package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/signin"
)

// RateLimiterOptions configures NewRateLimiter.
type RateLimiterOptions struct {
	// PerSecond is the sustained rate of one key.
	PerSecond float64
	// Burst is how many requests one key may make at once.
	Burst float64
	// Clock; nil means the wall clock.
	Clock clock.Clock
}

// RateLimiter is a token bucket per key. The API keys a request by the id
// of the token it authenticated with, so however the Authorization header
// is spelled the same token draws from one bucket; requests that fail
// authentication draw from a bucket of their source address. Buckets are
// per process.
type RateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	opts    RateLimiterOptions
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewRateLimiter returns a limiter with full buckets.
func NewRateLimiter(opts RateLimiterOptions) *RateLimiter {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	return &RateLimiter{buckets: map[string]*bucket{}, opts: opts}
}

// SetClock replaces the limiter's time source (tests freeze it).
func (l *RateLimiter) SetClock(c clock.Clock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opts.Clock = c
}

// Allow takes one request for key, or says how long to wait for one.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	return l.take(key, 1)
}

// Exhausted reports whether key has no request left, without taking one.
func (l *RateLimiter) Exhausted(key string) (bool, time.Duration) {
	ok, wait := l.take(key, 0)
	return !ok, wait
}

func (l *RateLimiter) take(key string, n float64) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Clock.Now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) > 100_000 {
			l.buckets = map[string]*bucket{} // bounded memory; a reset only forgives
		}
		b = &bucket{tokens: l.opts.Burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.opts.Burst, b.tokens+now.Sub(b.at).Seconds()*l.opts.PerSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens -= n
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.opts.PerSecond * float64(time.Second))
}

// tooMany answers 429 with Retry-After.
func (l *RateLimiter) tooMany(w http.ResponseWriter, wait time.Duration, who string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	Problem(w, http.StatusTooManyRequests, "too many requests",
		fmt.Sprintf("%s is limited to %g requests per second (burst %g); retry later", who, l.opts.PerSecond, l.opts.Burst))
}

// sourceKey is the bucket of requests that did not authenticate.
func sourceKey(r *http.Request) string { return "source:" + signin.Source(r.RemoteAddr) }
