package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestRateLimiterRefillsAtItsRate(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(time.Unix(0, 0))
	l := NewRateLimiter(RateLimiterOptions{PerSecond: 2, Burst: 3, Clock: c})
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("burst request %d refused", i)
		}
	}
	if out, _ := l.Exhausted("k"); !out {
		t.Fatal("an empty bucket is not reported exhausted")
	}
	ok, wait := l.Allow("k")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("fourth request: ok=%v wait=%v", ok, wait)
	}
	c.Advance(500 * time.Millisecond)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("a token must be back after 1/rate seconds")
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("buckets are per key")
	}
}

// Every spelling of one token's Authorization header draws from the bucket
// of that token's id; two tokens have two buckets.
func TestSpellingsOfOneTokenShareOneBucket(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		ws, err := workspace.Create(ctx, d.SQL, "alpha", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := token.Create(ctx, d.SQL, ws.ID, "one", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, other, err := token.Create(ctx, d.SQL, ws.ID, "two", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		const burst = 60
		l := NewRateLimiter(RateLimiterOptions{PerSecond: 20, Burst: burst, Clock: c})
		h := validating(t, New(Options{DB: d, Accounts: account.NewService(d, c), Clock: c, RateLimit: l}))
		call := func(auth string) int {
			req := httptest.NewRequest("GET", "/api/v1/alerts", nil)
			req.RemoteAddr = "192.0.2.10:4242"
			req.Header.Set("Authorization", auth)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			return rec.Code
		}
		variants := []string{"Bearer " + secret, "Bearer  " + secret, "Bearer " + secret + " ", "Bearer \t" + secret + "  "}
		codes := map[int]int{}
		for i := 0; i < 300; i++ {
			codes[call(variants[i%len(variants)])]++
		}
		if codes[http.StatusOK] != burst || codes[http.StatusTooManyRequests] != 300-burst {
			t.Fatalf("300 requests, %d spellings of one token: %v, want %d OK and the rest 429", len(variants), codes, burst)
		}
		if got := call("Bearer " + other); got != http.StatusOK {
			t.Fatalf("another token shares the bucket: %d", got)
		}
		// Failures are limited per address, before the token lookup.
		codes = map[int]int{}
		for i := 0; i < burst+5; i++ {
			codes[call("Bearer keel_nope")]++
		}
		if codes[http.StatusUnauthorized] != burst || codes[http.StatusTooManyRequests] != 5 {
			t.Fatalf("%d failing requests from one address: %v", burst+5, codes)
		}
		c.Advance(time.Second)
		if got := call("Bearer keel_nope"); got != http.StatusUnauthorized {
			t.Fatalf("the address's bucket does not refill: %d", got)
		}
	})
}
