package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/signin"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/workspace"
)

const lockSlug = "acme"

// replica is one web.Server on a shared database, as a second process (or
// the same process after a restart) would build it.
type replica struct {
	URL string
	srv *httptest.Server
	ui  *web.Server
}

// newReplica serves a fresh web.Server on d. Nothing is shared with other
// replicas but the database.
func newReplica(t *testing.T, d *db.DB, clk clock.Clock) *replica {
	t.Helper()
	accounts := account.NewService(d, clk)
	// The provider is never called by these tests; the address refuses.
	client, err := unipile.New(unipile.Options{BaseURL: "http://127.0.0.1:1", APIKey: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := connect.New(connect.Options{DB: d, Accounts: accounts, Client: client, PublicURL: "http://127.0.0.1:1", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := web.New(web.Options{DB: d, Accounts: accounts, Campaigns: campaign.NewService(d, clk), Connect: conn, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	return &replica{URL: srv.URL, srv: srv, ui: ui}
}

// seedUser creates the workspace and user the sign-in tests use.
func seedUser(t *testing.T, d *db.DB, clk clock.Clock) {
	t.Helper()
	ctx := context.Background()
	ws, err := workspace.Create(ctx, d.SQL, lockSlug, "Acme", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.Create(ctx, d.SQL, ws.ID, testEmail, testPassword, clk.Now()); err != nil {
		t.Fatal(err)
	}
}

// visitor is one browser's session cookie, sent to whichever replica it
// talks to.
type visitor struct {
	t      *testing.T
	cookie string
	csrf   string
}

func (b *visitor) do(method, u string, form url.Values) (int, string, *http.Response) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: web.CookieName, Value: b.cookie})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.Name == web.CookieName {
			b.cookie = ck.Value
			if ck.MaxAge < 0 {
				b.cookie = ""
			}
		}
	}
	if m := csrfPattern.FindStringSubmatch(string(raw)); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, string(raw), resp
}

// login opens the form on r and submits it.
func (b *visitor) login(r *replica, email, password string) (int, string) {
	b.t.Helper()
	if code, body, _ := b.do("GET", r.URL+"/login", nil); code != http.StatusOK && code != http.StatusSeeOther {
		b.t.Fatalf("sign-in form: %d %s", code, body)
	}
	code, body, _ := b.do("POST", r.URL+"/login", url.Values{"csrf_token": {b.csrf}, "workspace": {lockSlug},
		"email": {email}, "password": {password}})
	return code, body
}

func TestSessionsSurviveRestartsAndAreSharedByReplicas(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		seedUser(t, d, clk)
		a, b := newReplica(t, d, clk), newReplica(t, d, clk)
		br := &visitor{t: t}
		if code, body := br.login(a, testEmail, testPassword); code != http.StatusSeeOther {
			t.Fatalf("sign-in on A: %d %s", code, body)
		}
		if code, body, _ := br.do("GET", b.URL+"/accounts", nil); code != http.StatusOK {
			t.Fatalf("B does not know A's session: %d %s", code, body)
		}
		// Only a hash of the cookie value is stored.
		var n int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM web_sessions WHERE id_hash = $1 OR csrf = $1`, br.cookie).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the session id is stored in clear: %d %v", n, err)
		}
		// A restart: A goes away, a new server takes its place.
		a.srv.Close()
		c := newReplica(t, d, clk)
		code, body, _ := br.do("GET", c.URL+"/accounts", nil)
		if code != http.StatusOK {
			t.Fatalf("signed out by a restart: %d %s", code, body)
		}
		// A CSRF token issued by one replica is good on another.
		if code, body, _ := br.do("POST", b.URL+"/logout", url.Values{"csrf_token": {br.csrf}}); code != http.StatusSeeOther {
			t.Fatalf("sign-out on B: %d %s", code, body)
		}
		if err := d.SQL.QueryRow(`SELECT count(*) FROM web_sessions WHERE user_id IS NOT NULL`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("sign-out left %d signed-in session rows (%v)", n, err)
		}
	})
}

func TestSessionsExpireAfterIdleTime(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		seedUser(t, d, clk)
		r := newReplica(t, d, clk)
		br := &visitor{t: t}
		if code, body := br.login(r, testEmail, testPassword); code != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", code, body)
		}
		var n int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM web_sessions WHERE user_id IS NOT NULL`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("signed-in session rows: %d %v", n, err)
		}
		// Use within the idle time keeps the session going past SessionTTL.
		for i := 0; i < 2; i++ {
			clk.Advance(web.SessionTTL - time.Minute)
			if code, _, _ := br.do("GET", r.URL+"/accounts", nil); code != http.StatusOK {
				t.Fatalf("session ended while in use (step %d): %d", i, code)
			}
		}
		clk.Advance(web.SessionTTL + time.Second)
		code, _, resp := br.do("GET", r.URL+"/accounts", nil)
		if code != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("expired session: %d %q, want a redirect to /login", code, resp.Header.Get("Location"))
		}
		if err := d.SQL.QueryRow(`SELECT count(*) FROM web_sessions WHERE user_id IS NOT NULL`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the expired session was not swept: %d %v", n, err)
		}
	})
}

func TestLockoutCountsAcrossReplicasAndNamesTheUnlockTime(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		start := time.Date(2026, 3, 2, 14, 17, 30, 0, time.UTC)
		clk := clock.NewFake(start)
		seedUser(t, d, clk)
		replicas := []*replica{newReplica(t, d, clk), newReplica(t, d, clk)}
		br := &visitor{t: t}
		// Failures split across two processes count as one.
		for i := 0; i < web.LoginFailures; i++ {
			if code, body := br.login(replicas[i%2], testEmail, "wrong password"); code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s", i+1, code, body)
			}
			clk.Advance(time.Minute)
		}
		// Locked even with the right password, on either replica; the
		// window frees at 14:32:30, shown rounded up.
		for _, r := range replicas {
			code, body := br.login(r, testEmail, testPassword)
			if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins for this email; try again at 14:33 UTC.") {
				t.Fatalf("locked account: %d %s", code, body)
			}
		}
		clk.Set(start.Add(web.LoginWindow + time.Second))
		if code, body := br.login(replicas[1], testEmail, testPassword); code != http.StatusSeeOther {
			t.Fatalf("after the window: %d %s", code, body)
		}
	})
}

// failElsewhere records failed sign-ins as other attempts (another
// replica, earlier) would have, without paying for a password hash each.
func failElsewhere(t *testing.T, d *db.DB, clk clock.Clock, n int, email, source string) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		a, err := signin.Begin(ctx, d, signin.AccountKey(lockSlug, email), source, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Failed(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSuccessfulSignInClearsFailures(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		seedUser(t, d, clk)
		r := newReplica(t, d, clk)
		// Two rounds of four failures: only a sign-in between them that
		// clears the first four keeps the second sign-in open.
		for round := 0; round < 2; round++ {
			failElsewhere(t, d, clk, web.LoginFailures-1, testEmail, "127.0.0.1")
			br := &visitor{t: t}
			if code, body := br.login(r, testEmail, testPassword); code != http.StatusSeeOther {
				t.Fatalf("round %d, sign-in: %d %s", round, code, body)
			}
			var n int
			if err := d.SQL.QueryRow(`SELECT count(*) FROM login_failures`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("round %d: %d failures left after a successful sign-in (%v)", round, n, err)
			}
		}
	})
}

func TestOneAddressCannotTryManyEmails(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		seedUser(t, d, clk)
		r := newReplica(t, d, clk)
		// Nineteen failures on as many emails that exist nowhere (recorded
		// directly), and one more through the form: emails that do not
		// exist count like wrong passwords.
		for i := 0; i < web.SourceFailures-1; i++ {
			failElsewhere(t, d, clk, 1, "nobody"+itoa(i)+"@example.com", "127.0.0.1")
		}
		br := &visitor{t: t}
		if code, body := br.login(r, "nobody-else@example.com", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", web.SourceFailures, code, body)
		}
		code, body := br.login(r, testEmail, testPassword)
		if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins from your address; try again at 09:15 UTC.") {
			t.Fatalf("after %d failures from one address: %d %s", web.SourceFailures, code, body)
		}
	})
}
