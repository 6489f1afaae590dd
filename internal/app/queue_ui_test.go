package app

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// signIn signs the demo user in through the login form and returns a
// client carrying the session cookie.
func signIn(t *testing.T, base string, out *syncBuffer) *http.Client {
	t.Helper()
	m := regexp.MustCompile(`password (\S+) \(shown once\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no demo password in the start-up output: %s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on the sign-in page")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf_token": {string(csrf[1])}, "workspace": {DemoWorkspace},
		"email": {DemoEmail}, "password": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", resp.StatusCode)
	}
	return c
}

// TestQueueUI: River's UI answers signed-in users on PostgreSQL, sends
// anonymous visitors to sign in (its API answers 401), refuses a change
// from another origin, and on SQLite says it needs PostgreSQL.
func TestQueueUI(t *testing.T) {
	t.Parallel()
	t.Run("OnPostgreSQL", func(t *testing.T) {
		t.Parallel()
		_, base, out, _ := startSandboxOn(t, dbtest.NewPostgresSchema(t, false), nil)
		anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		t.Run("AnonymousAPIRequestIsRefused", func(t *testing.T) {
			resp, err := anon.Get(base + "/riverui/api/jobs?state=available")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("anonymous API request answered %d", resp.StatusCode)
			}
		})
		t.Run("AnonymousPageRedirectsToSignIn", func(t *testing.T) {
			resp, err := anon.Get(base + "/riverui/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Fatalf("anonymous page answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
		c := signIn(t, base, out)
		t.Run("SignedInAPIRequestAnswers", func(t *testing.T) {
			resp, err := c.Get(base + "/riverui/api/jobs?state=completed")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"data"`) {
				t.Fatalf("signed-in API request answered %d: %.300s", resp.StatusCode, body)
			}
		})
		t.Run("SignedInPageAnswers", func(t *testing.T) {
			resp, err := c.Get(base + "/riverui/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "/riverui/") {
				t.Fatalf("signed-in page answered %d: %.300s", resp.StatusCode, body)
			}
		})
		t.Run("ChangeFromAnotherOriginIsRefused", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, base+"/riverui/api/queues/default/pause", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", "https://elsewhere.example")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-origin pause answered %d", resp.StatusCode)
			}
		})
	})
	t.Run("OnSQLiteSaysItNeedsPostgreSQL", func(t *testing.T) {
		t.Parallel()
		_, base, out, _ := startSandboxLogs(t)
		c := signIn(t, base, out)
		resp, err := c.Get(base + "/riverui/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "needs PostgreSQL") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("queue UI on SQLite answered %d %q: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
}
