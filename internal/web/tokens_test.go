package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestTokensPageRevokes(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		q := k.App.DB.SQL
		ws, err := workspace.BySlug(ctx, q, app.DemoWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		tok, secret, err := token.Create(ctx, q, ws.ID, "zapier", k.App.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		other, _ := workspace.Create(ctx, q, "other", "", k.App.Clock.Now())
		theirs, _, err := token.Create(ctx, q, other.ID, "theirs", k.App.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		apiStatus := func() int {
			req, _ := http.NewRequest("GET", k.Base+"/api/v1/accounts", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := apiStatus(); s != 200 {
			t.Fatalf("token before revoke: %d", s)
		}

		c := newClient(t)
		signIn(t, k, c)
		status, body, csrf := get(t, c, k.Base+"/tokens")
		if status != 200 || !strings.Contains(body, tok.ID) || !strings.Contains(body, "zapier") ||
			!strings.Contains(body, `action="/tokens/`+tok.ID+`/revoke"`) {
			t.Fatalf("tokens page: %d %s", status, body)
		}
		if strings.Contains(body, secret) || strings.Contains(body, token.Hash(secret)) || strings.Contains(body, theirs.ID) {
			t.Fatal("the tokens page shows a secret, a hash or another workspace's token")
		}

		// Without the CSRF token nothing happens; another workspace's
		// token is not found.
		resp, _ := post(t, c, k.Base+"/tokens/"+tok.ID+"/revoke", url.Values{})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("revoke without CSRF: %d", resp.StatusCode)
		}
		resp, _ = post(t, c, k.Base+"/tokens/"+theirs.ID+"/revoke", url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("revoking another workspace's token: %d", resp.StatusCode)
		}
		if got, _ := token.Get(ctx, q, theirs.ID, ""); got.RevokedAt != nil {
			t.Fatal("another workspace's token was revoked")
		}
		if s := apiStatus(); s != 200 {
			t.Fatalf("token after refused revokes: %d", s)
		}

		resp, _ = post(t, c, k.Base+"/tokens/"+tok.ID+"/revoke", url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tokens" {
			t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if s := apiStatus(); s != 401 {
			t.Fatalf("revoked token answers %d", s)
		}
		_, body, _ = get(t, c, k.Base+"/tokens")
		if strings.Contains(body, `action="/tokens/`+tok.ID+`/revoke"`) || !strings.Contains(body, "revoked") {
			t.Fatalf("tokens page after revoke: %s", body)
		}
	})
}

func TestInstallationAlertsCannotBeAcknowledgedFromTheUI(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		q := k.App.DB.SQL
		ws, err := workspace.BySlug(ctx, q, app.DemoWorkspace)
		if err != nil {
			t.Fatal(err)
		}
		now := k.App.Clock.Now()
		burst, _, err := alert.Raise(ctx, q, now, alert.New{Kind: alert.KindMass404Burst, Message: "Unipile answers 404", DedupeKey: "ui-burst"})
		if err != nil {
			t.Fatal(err)
		}
		mine, _, err := alert.Raise(ctx, q, now, alert.New{WorkspaceID: ws.ID, Kind: alert.KindStuckConnecting, Message: "stuck", DedupeKey: "ui-mine"})
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t)
		signIn(t, k, c)
		status, body, csrf := get(t, c, k.Base+"/alerts")
		if status != 200 || !strings.Contains(body, "Unipile answers 404") || !strings.Contains(body, `action="/alerts/`+mine+`/ack"`) {
			t.Fatalf("alerts page: %d %s", status, body)
		}
		if strings.Contains(body, `action="/alerts/`+burst+`/ack"`) {
			t.Fatal("the alerts page offers to acknowledge an installation-wide alert")
		}
		resp, text := post(t, c, k.Base+"/alerts/"+burst+"/ack", url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(text, "installation operator") {
			t.Fatalf("forged acknowledgement: %d %s", resp.StatusCode, text)
		}
		if a, err := alert.Get(ctx, q, burst, ""); err != nil || a.AcknowledgedAt != nil {
			t.Fatalf("the forged acknowledgement changed the alert: %+v %v", a, err)
		}
		resp, _ = post(t, c, k.Base+"/alerts/"+mine+"/ack", url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("acknowledging the workspace's own alert: %d", resp.StatusCode)
		}
		if a, _ := alert.Get(ctx, q, mine, ""); a.AcknowledgedAt == nil || a.AcknowledgedBy != testEmail {
			t.Fatalf("own alert after acknowledging: %+v", a)
		}
	})
}
