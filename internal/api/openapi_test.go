package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
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
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/unipile"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestOpenAPIDocumentsEveryRegisteredRoute(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	s := New(Options{DB: d, Accounts: account.NewService(d, nil), Campaigns: campaign.NewService(d, nil)})
	var missing []string
	for _, r := range s.Routes() {
		if !Documented(r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("routes missing from the OpenAPI document: %v", missing)
	}
	srv := newValidatedServer(t, s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/api/openapi.json: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %+v", err, doc)
	}
	ops := 0
	for _, item := range doc.Paths {
		ops += len(item)
	}
	if ops != len(s.Routes()) {
		t.Fatalf("document has %d operations, server registers %d", ops, len(s.Routes()))
	}
}

type isoTenant struct {
	secret                       string
	accountID, campaignID, alert string
	endpointID, endpointSecret   string
	dncID, removedID             string
	conversationID               string
}

// TestTenantIsolationOverEveryRoute walks the served OpenAPI document: for
// every operation on an object, workspace A's token gets 404 for workspace
// B's object; every list A can read contains none of B's ids.
func TestTenantIsolationOverEveryRoute(t *testing.T) {
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
		mk := func(slug string) isoTenant {
			ws, err := workspace.Create(ctx, d.SQL, slug, "", c.Now())
			if err != nil {
				t.Fatal(err)
			}
			_, secret, _ := token.Create(ctx, d.SQL, ws.ID, "", c.Now())
			acc, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-" + slug, Status: account.StatusConnected, Tier: account.TierPremium})
			if err != nil {
				t.Fatal(err)
			}
			name := "C " + slug
			cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{acc.ID}, Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAA" + slug}}); err != nil {
				t.Fatal(err)
			}
			al, _, err := alert.Raise(ctx, d.SQL, c.Now(), alert.New{WorkspaceID: ws.ID, Kind: "k", Message: "m", SubjectType: "account", SubjectID: acc.ID})
			if err != nil {
				t.Fatal(err)
			}
			ep, epSecret, err := out.CreateEndpoint(ctx, ws.ID, "https://203.0.113.10/"+slug, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.InTx(ctx, func(tx *sql.Tx) error {
				return out.Emit(ctx, tx, ws.ID, outbound.EventMessageSent, map[string]string{"account_id": acc.ID})
			}); err != nil {
				t.Fatal(err)
			}
			dnc, err := camps.AddDNC(ctx, ws.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAlisted" + slug}, {Row: 2, ProviderID: "ACoAAremoved" + slug}})
			if err != nil || dnc.Added != 2 {
				t.Fatalf("listing: %+v %v", dnc, err)
			}
			// A removal, for the removals list to hold one of each workspace.
			if err := camps.RemoveDNC(campaign.WithActor(ctx, "user:"+slug+"@example.com"), ws.ID, dnc.Rows[1].ID); err != nil {
				t.Fatal(err)
			}
			var conv string
			if err := d.InTx(ctx, func(tx *sql.Tx) error {
				var err error
				conv, err = ib.Record(ctx, tx, acc, unipile.MessageEvent{Event: "message_received", ChatID: unipile.FlexString("chat-" + slug),
					MessageID: unipile.FlexString("msg-" + slug), Message: "hello",
					Sender: &unipile.Attendee{AttendeeProviderID: unipile.FlexString("ACoAAwriter" + slug), AttendeeName: "Writer " + slug}})
				return err
			}); err != nil || conv == "" {
				t.Fatalf("recording a conversation: %q %v", conv, err)
			}
			return isoTenant{secret: secret, accountID: acc.ID, campaignID: cp.ID, alert: al, endpointID: ep.ID, endpointSecret: epSecret,
				dncID: dnc.Rows[0].ID, removedID: dnc.Rows[1].ID, conversationID: conv}
		}
		a, b := mk("alpha"), mk("beta")
		s := New(Options{DB: d, Accounts: accounts, Campaigns: camps, Clock: c, Outbound: out, Inbox: ib})
		srv := newValidatedServer(t, s)
		defer srv.Close()

		do := func(method, path, body, contentType string) (int, string) {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+a.secret)
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(out)
		}
		doc := s.OpenAPI()["paths"].(map[string]any)
		var keys []string
		for p := range doc {
			keys = append(keys, p)
		}
		sort.Strings(keys)
		checked := 0
		for _, path := range keys {
			for method := range doc[path].(map[string]any) {
				m := strings.ToUpper(method)
				switch {
				case strings.Contains(path, "{id}"):
					id := ""
					switch {
					case strings.HasPrefix(path, "/api/v1/accounts/"):
						id = b.accountID
					case strings.HasPrefix(path, "/api/v1/campaigns/"):
						id = b.campaignID
					case strings.HasPrefix(path, "/api/v1/alerts/"):
						id = b.alert
					case strings.HasPrefix(path, "/api/v1/webhooks/"):
						id = b.endpointID
					case strings.HasPrefix(path, "/api/v1/do-not-contact/"):
						id = b.dncID
					case strings.HasPrefix(path, "/api/v1/conversations/"):
						id = b.conversationID
					case strings.HasPrefix(path, "/api/v1/sends/"):
						// Another workspace's send is covered by
						// TestSendsListAndSettleAreWorkspaceScoped.
						id = "snd_of_another_workspace"
					default:
						t.Fatalf("no fixture for %s %s: add one", m, path)
					}
					body, ct := "{}", "application/json"
					if strings.HasSuffix(path, "/prospects") {
						body, ct = "provider_id\nACoAAintruder\n", "text/csv"
					}
					status, out := do(m, strings.Replace(path, "{id}", id, 1), body, ct)
					if status != http.StatusNotFound {
						t.Errorf("%s %s with another workspace's object: %d %s", m, path, status, out)
					}
					checked++
				case m == "GET":
					status, out := do(m, path, "", "")
					if status != 200 {
						t.Errorf("%s %s: %d %s", m, path, status, out)
					}
					for _, foreign := range []string{b.accountID, b.campaignID, b.alert, b.endpointID, b.endpointSecret, a.endpointSecret, b.dncID, "ACoAAlistedbeta",
						b.conversationID, "ACoAAwriterbeta", b.removedID, "ACoAAremovedbeta", "user:beta@example.com"} {
						if strings.Contains(out, foreign) {
							t.Errorf("%s %s shows another workspace's object %s", m, path, foreign)
						}
					}
					checked++
				}
			}
		}
		if checked < 15 {
			t.Fatalf("only %d operations checked", checked)
		}
		// The removals list is not empty for A: it is scoped, not blind.
		if status, out := do("GET", "/api/v1/do-not-contact/removals", "", ""); status != 200 || !strings.Contains(out, a.removedID) {
			t.Fatalf("A's own removals: %d %s", status, out)
		}
		// B's endpoint and campaign are untouched by A's attempts.
		if eps, err := out.ListEndpoints(ctx, bWorkspace(t, d)); err != nil || len(eps) != 1 || !eps[0].Active {
			t.Fatalf("B's endpoint after A's attempts: %+v %v", eps, err)
		}
		if list, err := camps.ListDNC(ctx, d.SQL, bWorkspace(t, d), "", 0); err != nil || len(list) != 1 {
			t.Fatalf("B's do-not-contact list after A's attempts: %+v %v", list, err)
		}
		cp, err := camps.Get(ctx, d.SQL, "", b.campaignID)
		if err != nil || cp.Status != campaign.StatusDraft {
			t.Fatalf("B's campaign after A's attempts: %+v %v", cp, err)
		}
	})
}

func bWorkspace(t *testing.T, d *db.DB) string {
	t.Helper()
	w, err := workspace.BySlug(context.Background(), d.SQL, "beta")
	if err != nil {
		t.Fatal(err)
	}
	return w.ID
}

// TestOpenAPIDescribesAccountPacing: the account PATCH body and the
// account answer carry pacing with the contract's three names, and every
// schema reference resolves.
func TestOpenAPIDescribesAccountPacing(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	raw, err := json.Marshal(New(Options{DB: d, Accounts: account.NewService(d, nil), Campaigns: campaign.NewService(d, nil)}).OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, ref := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(raw), -1) {
		if schemas[ref[1]] == nil {
			t.Errorf("reference to a missing schema %s", ref[1])
		}
	}
	patch := doc["paths"].(map[string]any)["/api/v1/accounts/{id}"].(map[string]any)["patch"].(map[string]any)
	body := patch["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	if body["$ref"] != "#/components/schemas/AccountSettings" {
		t.Fatalf("PATCH body schema %v", body)
	}
	settings := schemas["AccountSettings"].(map[string]any)["properties"].(map[string]any)
	if settings["pacing"].(map[string]any)["$ref"] != "#/components/schemas/PacingPatch" {
		t.Fatalf("settings without pacing: %v", settings)
	}
	for _, name := range []string{"Pacing", "PacingPatch"} {
		pacing := schemas[name].(map[string]any)["properties"].(map[string]any)
		for _, f := range []string{"spread_over_window", "min_gap_seconds", "max_gap_seconds"} {
			if pacing[f] == nil {
				t.Errorf("%s schema lacks %s", name, f)
			}
		}
	}
	if acc := schemas["Account"].(map[string]any)["properties"].(map[string]any); acc["pacing"] == nil {
		t.Error("the account schema lacks pacing")
	}
}

// TestOpenAPIDescribesPendingAndWithdrawSettings: the PATCH body and the
// account carry caps.invite_pending, caps.withdraw_daily and
// withdraw_after_days with the settings code's defaults and bounds
// (docs/sending.md#pending-invitations, docs/sending.md#withdrawals).
func TestOpenAPIDescribesPendingAndWithdrawSettings(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	raw, err := json.Marshal(New(Options{DB: d, Accounts: account.NewService(d, nil), Campaigns: campaign.NewService(d, nil)}).OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	props := func(name string) map[string]any {
		t.Helper()
		s, _ := schemas[name].(map[string]any)
		p, ok := s["properties"].(map[string]any)
		if !ok {
			t.Fatalf("schema %s has no properties: %v", name, s)
		}
		return p
	}
	for name, caps := range map[string]string{"AccountSettings": "CapsPatch", "Account": "Caps"} {
		p := props(name)
		if ref, _ := p["caps"].(map[string]any); ref["$ref"] != "#/components/schemas/"+caps {
			t.Errorf("%s.caps is %v, want the Caps schema", name, p["caps"])
		}
		w, _ := p["withdraw_after_days"].(map[string]any)
		if w["default"] != 21.0 || w["maximum"] != 180.0 || !strings.Contains(w["description"].(string), "0 = never") {
			t.Errorf("%s.withdraw_after_days: %v", name, w)
		}
	}
	for _, name := range []string{"Caps", "CapsPatch"} {
		caps := props(name)
		for field, want := range map[string][2]float64{"invite_pending": {400, 700}, "withdraw_daily": {50, 100}} {
			c, _ := caps[field].(map[string]any)
			if c["default"] != want[0] || c["maximum"] != want[1] {
				t.Errorf("caps.%s: %v, want default %v, maximum %v", field, c, want[0], want[1])
			}
		}
		for _, field := range []string{"invite_daily", "invite_weekly", "message_daily", "inmail_daily", "view_profile_daily"} {
			if caps[field] == nil {
				t.Errorf("the %s schema lacks %s", name, field)
			}
		}
	}
}
