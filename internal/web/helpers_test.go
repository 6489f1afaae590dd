package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/workspace"
)

const (
	testEmail    = "operator@example.com"
	testPassword = "correct horse battery staple"
)

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// keel is a whole sandbox Keel process with the web UI in front.
type keel struct {
	App  *app.App
	Web  *web.Server
	Base string
	Logs *syncBuffer
	// DBURL is the database the process runs on (for the CLI).
	DBURL string
}

// appPaths are what the app itself serves; the rest goes to the UI (what
// the app does once it mounts the UI as its fallback).
func compose(appHandler, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhooks/") || strings.HasPrefix(p, "/sandbox/") ||
			p == "/healthz" || p == "/readyz" || p == "/metrics" {
			appHandler.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// startKeel runs a sandbox Keel on loopback. The app serves its own
// listener; the public address (hosted-auth pages, callbacks, the browser)
// is a second listener whose server puts the UI in front of the app.
func startKeel(tb testing.TB, engine db.Engine) *keel {
	tb.Helper()
	return startKeelWith(tb, engine, nil)
}

// startKeelWith is startKeel on a given clock (nil: the real one).
func startKeelWith(tb testing.TB, engine db.Engine, c clock.Clock) *keel {
	tb.Helper()
	dbURL := "sqlite:" + filepath.Join(tb.TempDir(), "keel.db")
	if engine == db.Postgres {
		dbURL = dbtest.NewPostgresSchema(tb, false)
	}
	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	pubLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	public := "http://" + pubLn.Addr().String()
	cfg := config.Config{DatabaseURL: dbURL, Addr: appLn.Addr().String(), PublicURL: public,
		HealthInterval: time.Minute, SchedulerInterval: time.Minute, MinSpacing: time.Minute, Workers: 2}
	out, logs := &syncBuffer{}, &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Open(context.Background(), cfg, app.Options{Out: out, Listener: appLn, Logger: logger, Clock: c})
	if err != nil {
		tb.Fatal(err)
	}
	ui, err := web.New(web.Options{DB: a.DB, Accounts: a.Accounts, Campaigns: a.Campaigns, Connect: a.Connect, Sender: a.Sender, Inbox: a.Inbox, InboxRefresh: time.Second,
		Clock: a.Clock, Logger: logger, Sandbox: a.Sandbox != nil, MinSpacing: a.Config.MinSpacing})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(compose(a.Handler(), ui.Handler()))
	srv.Listener.Close()
	srv.Listener = pubLn
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	tb.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("run: %v", err)
		}
		a.Close()
	})
	// Generous: under -race on a busy 2-core machine the demo user's bcrypt hash
	// alone can take many seconds; polling ends as soon as Keel is ready.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(public + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(logs.String(), "Keel is listening") {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not ready in time; output: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ws, err := workspace.BySlug(context.Background(), a.DB.SQL, app.DemoWorkspace)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := user.Create(context.Background(), a.DB.SQL, ws.ID, testEmail, testPassword, a.Clock.Now()); err != nil {
		tb.Fatal(err)
	}
	return &keel{App: a, Web: ui, Base: public, Logs: logs, DBURL: dbURL}
}

// client is a cookie-keeping HTTP client that does not follow redirects.
func newClient(tb testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches a page and returns its body and first CSRF token.
func get(tb testing.TB, c *http.Client, u string) (int, string, string) {
	tb.Helper()
	resp, err := c.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	tok := ""
	if m := csrfPattern.FindStringSubmatch(string(b)); m != nil {
		tok = m[1]
	}
	return resp.StatusCode, string(b), tok
}

func post(tb testing.TB, c *http.Client, u string, form url.Values) (*http.Response, string) {
	tb.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// signIn signs c in to the demo workspace and returns a CSRF token of the
// signed-in session.
func signIn(tb testing.TB, k *keel, c *http.Client) string {
	tb.Helper()
	_, _, tok := get(tb, c, k.Base+"/login")
	resp, body := post(tb, c, k.Base+"/login", url.Values{"csrf_token": {tok}, "workspace": {app.DemoWorkspace},
		"email": {testEmail}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	status, body, tok := get(tb, c, k.Base+"/accounts")
	if status != 200 || tok == "" {
		tb.Fatalf("accounts page after sign-in: %d %s", status, body)
	}
	return tok
}
