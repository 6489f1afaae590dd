package fake_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is one fake server with a real client pointed at it.
type env struct {
	fake   *fake.Server
	client *unipile.Client
	clock  *clock.Fake
}

// newEnv starts a fake on loopback with fast retries and returns it with a
// client. opts may adjust the fake's options.
func newEnv(t *testing.T, opts ...func(*fake.Options)) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	o := fake.Options{APIKey: "test-key-123456", Clock: clk, RetryBackoff: time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	srv := fake.New(o)
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing fake: %v", err)
		}
	})
	c, err := unipile.New(unipile.Options{BaseURL: srv.URL(), APIKey: srv.APIKey(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: srv, client: c, clock: clk}
}

// waitIdle waits for deliveries with a deadline instead of sleeping.
func (e *env) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.fake.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// received is one request a receiver got.
type received struct {
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// receiver is a loopback HTTP endpoint recording what it receives and
// answering with a scripted status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	status func(n int) int // status for the n-th request (1-based)
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	if r.status == nil {
		r.status = func(int) int { return http.StatusOK }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: b})
		n := len(r.got)
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) onPath(path string) []received {
	var out []received
	for _, g := range r.requests() {
		if g.Path == path {
			out = append(out, g)
		}
	}
	return out
}
