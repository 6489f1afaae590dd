package api

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/inbox"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestEveryMutatingRouteIsClassified: each mutating route is named in the
// role table, so none falls to the default by being forgotten.
func TestEveryMutatingRouteIsClassified(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	s := New(Options{DB: d})
	for _, r := range s.Routes() {
		if !strings.HasPrefix(r, "GET ") && !role.Classified(r) {
			t.Errorf("%s is not in the role table (internal/role/routes.go)", r)
		}
	}
}

// TestViewerChangesNothingOverEveryRoute walks the served OpenAPI document
// and calls every mutating operation with a viewer's token: each answers
// 403 problem+json, and no row of any table changes. A member is refused
// the admin's routes and allowed its own.
func TestViewerChangesNothingOverEveryRoute(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		accounts := account.NewService(d, c)
		camps := campaign.NewService(d, c)
		out := outbound.New(outbound.Options{DB: d, Clock: c})
		ib, err := inbox.New(inbox.Options{DB: d, Campaigns: camps, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := workspace.Create(ctx, d.SQL, "acme", "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[role.Role]string{}
		for _, r := range role.All {
			_, secret, err := token.Issue(ctx, d.SQL, token.New{WorkspaceID: ws.ID, Name: string(r), Role: r}, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			secrets[r] = secret
		}
		acc, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-acme", Status: account.StatusConnected, Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		name := "C"
		cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{acc.ID}, Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAprospect"}}); err != nil {
			t.Fatal(err)
		}
		al, _, err := alert.Raise(ctx, d.SQL, c.Now(), alert.New{WorkspaceID: ws.ID, Kind: "k", Message: "m", SubjectType: "account", SubjectID: acc.ID})
		if err != nil {
			t.Fatal(err)
		}
		ep, _, err := out.CreateEndpoint(ctx, ws.ID, "https://203.0.113.10/hook", nil)
		if err != nil {
			t.Fatal(err)
		}
		dnc, err := camps.AddDNC(ctx, ws.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAlisted"}})
		if err != nil || dnc.Added != 1 {
			t.Fatalf("listing: %+v %v", dnc, err)
		}
		var conv string
		if err := d.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			conv, err = ib.Record(ctx, tx, acc, unipile.MessageEvent{Event: "message_received", ChatID: "chat-1",
				MessageID: "msg-1", Message: "hello",
				Sender: &unipile.Attendee{AttendeeProviderID: "ACoAAwriter", AttendeeName: "Writer"}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		s := New(Options{DB: d, Accounts: accounts, Campaigns: camps, Clock: c, Outbound: out, Inbox: ib})
		srv := httptest.NewServer(s)
		defer srv.Close()

		do := func(secret, method, path, body, contentType string) (int, string, string) {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
		}
		// Every token has been used once (its last use is recorded, and the
		// fake clock does not move), so any later write is a change.
		for _, secret := range secrets {
			if status, _, body := do(secret, "GET", "/api/v1/campaigns", "", ""); status != 200 {
				t.Fatalf("reading with a token: %d %s", status, body)
			}
		}
		ids := map[string]string{
			"/api/v1/accounts/": acc.ID, "/api/v1/campaigns/": cp.ID, "/api/v1/alerts/": al,
			"/api/v1/webhooks/": ep.ID, "/api/v1/do-not-contact/": dnc.Rows[0].ID,
			"/api/v1/conversations/": conv, "/api/v1/sends/": "snd_any",
		}
		before := dbtest.Dump(t, d)
		doc := s.OpenAPI()["paths"].(map[string]any)
		var paths []string
		for p := range doc {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		checked := 0
		for _, path := range paths {
			for method := range doc[path].(map[string]any) {
				m := strings.ToUpper(method)
				op := doc[path].(map[string]any)[method].(map[string]any)
				if op["x-keel-min-role"] != string(role.Needed(m+" "+path)) {
					t.Errorf("%s %s: the document says the least role is %v", m, path, op["x-keel-min-role"])
				}
				if m == "GET" {
					continue
				}
				if _, ok := op["responses"].(map[string]any)["403"]; !ok {
					t.Errorf("%s %s: the document does not list 403", m, path)
				}
				url := path
				if strings.Contains(path, "{id}") {
					id := ""
					for prefix, v := range ids {
						if strings.HasPrefix(path, prefix) {
							id = v
						}
					}
					if id == "" {
						t.Fatalf("no fixture for %s %s: add one", m, path)
					}
					url = strings.Replace(path, "{id}", id, 1)
				}
				body, ct := `{"name":"x","entries":[{"provider_id":"ACoAAnew"}],"text":"hi","outcome":"sent","url":"https://203.0.113.11/"}`, "application/json"
				if strings.HasSuffix(path, "/prospects") {
					body, ct = "provider_id\nACoAAnew\n", "text/csv"
				}
				status, ctype, out := do(secrets[role.Viewer], m, url, body, ct)
				if status != http.StatusForbidden || ctype != "application/problem+json" || !strings.Contains(out, "viewer") {
					t.Errorf("viewer %s %s: %d %s %s", m, path, status, ctype, out)
				}
				checked++
			}
		}
		mutating := 0
		for _, r := range s.Routes() {
			if !strings.HasPrefix(r, "GET ") {
				mutating++
			}
		}
		if checked != mutating || checked < 15 {
			t.Fatalf("%d mutating operations checked, the server registers %d", checked, mutating)
		}
		if after := dbtest.Dump(t, d); after != before {
			t.Fatalf("a viewer's refused requests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}

		t.Run("a member runs campaigns but not the do-not-contact list", func(t *testing.T) {
			status, _, out := do(secrets[role.Member], "POST", "/api/v1/do-not-contact", `{"entries":[{"provider_id":"ACoAAnew"}]}`, "application/json")
			if status != http.StatusForbidden || !strings.Contains(out, "admin") {
				t.Fatalf("member adding to the do-not-contact list: %d %s", status, out)
			}
			if status, _, out := do(secrets[role.Member], "PATCH", "/api/v1/campaigns/"+cp.ID, `{"name":"Renamed"}`, "application/json"); status != 200 {
				t.Fatalf("member renaming a campaign: %d %s", status, out)
			}
		})
		t.Run("an admin keeps the token's old powers", func(t *testing.T) {
			status, _, out := do(secrets[role.Admin], "POST", "/api/v1/do-not-contact", `{"entries":[{"provider_id":"ACoAAnew"}]}`, "application/json")
			if status != http.StatusOK {
				t.Fatalf("admin adding to the do-not-contact list: %d %s", status, out)
			}
		})
	})
}
