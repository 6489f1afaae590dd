package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

// pacedSender is a running one-invitation campaign whose Paris sender has
// claimed nothing yet.
type pacedSender struct {
	d                *db.DB
	srv              *httptest.Server
	secret           string
	ws, acc, camp    string
	enrollment, pros string
	now              time.Time
}

func newPacedSender(t *testing.T, d *db.DB) *pacedSender {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // a Monday, 11:00 in Paris
	accounts, camps := account.NewService(d, c), campaign.NewService(d, c)
	ws, err := workspace.Create(ctx, d.SQL, "paced", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p1", Name: "Grace Hopper",
		Status: account.StatusConnected, Tier: account.TierPremium, Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	p := &pacedSender{d: d, secret: secret, ws: ws.ID, acc: a.ID, now: c.Now()}
	p.exec(t, `UPDATE linkedin_accounts SET ramp_started_at = $2 WHERE id = $1`, a.ID, c.Now().Add(-60*24*time.Hour))
	name := "Paced"
	cp, err := camps.Create(ctx, ws.ID, campaign.Input{Name: &name, AccountIDs: []string{a.ID}, Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camps.Import(ctx, cp.ID, ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAone", FirstName: "One"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := camps.Start(ctx, ws.ID, cp.ID); err != nil {
		t.Fatal(err)
	}
	p.camp = cp.ID
	if err := d.SQL.QueryRow(`SELECT id, prospect_id FROM enrollments WHERE campaign_id = $1`, cp.ID).Scan(&p.enrollment, &p.pros); err != nil {
		t.Fatal(err)
	}
	p.srv = newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Campaigns: camps, Clock: c}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pacedSender) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := p.d.SQL.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (p *pacedSender) get(t *testing.T, path string, into any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}

// An unused window has no reset time (null, not "now"); a used one has.
func TestLimitsResetsAtIsNullWhileUnused(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		p := newPacedSender(t, d)
		type limits struct {
			Items []map[string]any `json:"items"`
		}
		var before limits
		p.get(t, "/api/v1/accounts/"+p.acc+"/limits", &before)
		if len(before.Items) == 0 {
			t.Fatal("no limits")
		}
		for _, it := range before.Items {
			v, ok := it["resets_at"]
			if !ok || v != nil {
				t.Fatalf("unused %v %v: resets_at = %v (present %v), want null", it["action"], it["period"], v, ok)
			}
		}
		p.exec(t, `INSERT INTO sends (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
			claimed_at, dispatched_at, finished_at) VALUES ('snd_used', $1, $2, $3, $4, $5, 's1', 'invite', 'confirmed', $6, $6, $6)`,
			p.ws, p.acc, p.camp, p.enrollment, p.pros, p.now.Add(-time.Minute))
		var after limits
		p.get(t, "/api/v1/accounts/"+p.acc+"/limits", &after)
		sawUsed := false
		for _, it := range after.Items {
			used := it["used"].(float64) > 0
			v := it["resets_at"]
			if !used {
				if v != nil {
					t.Fatalf("unused %v %v: resets_at = %v", it["action"], it["period"], v)
				}
				continue
			}
			sawUsed = true
			s, _ := v.(string)
			at, err := time.Parse(time.RFC3339, s)
			if err != nil || !at.After(p.now) || !strings.HasSuffix(s, "Z") {
				t.Fatalf("used %v %v: resets_at = %v, want a UTC time after now", it["action"], it["period"], v)
			}
		}
		if !sawUsed {
			t.Fatalf("the invitation is not counted: %+v", after.Items)
		}
	})
}

// Both diagnoses carry the pacing row's time as next_action_at (UTC) and
// the pacing finding's clears_at; the headline shows it in Paris time.
func TestDiagnosisCarriesNextActionAt(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		p := newPacedSender(t, d)
		next := p.now.Add(3*time.Hour + 32*time.Minute)
		p.exec(t, `INSERT INTO account_pacing (account_id, next_allowed_at) VALUES ($1, $2)`, p.acc, next)
		for _, path := range []string{"/api/v1/campaigns/" + p.camp + "/diagnosis", "/api/v1/accounts/" + p.acc + "/diagnosis"} {
			var body struct {
				Sending      bool    `json:"sending"`
				NextActionAt *string `json:"next_action_at"`
				Headline     string  `json:"headline"`
				Findings     []struct {
					Code     string  `json:"code"`
					ClearsAt *string `json:"clears_at"`
				} `json:"findings"`
			}
			p.get(t, path, &body)
			if !body.Sending || body.NextActionAt == nil || *body.NextActionAt != "2026-03-02T13:32:00Z" {
				t.Fatalf("%s: sending %v, next_action_at %v", path, body.Sending, body.NextActionAt)
			}
			if body.Headline != "Sending — next invitation from Grace Hopper at 14:32 (Europe/Paris)" {
				t.Fatalf("%s: headline %q", path, body.Headline)
			}
			found := false
			for _, f := range body.Findings {
				if f.Code == "pacing" && f.ClearsAt != nil && *f.ClearsAt == *body.NextActionAt {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s: no pacing finding clearing at next_action_at: %+v", path, body.Findings)
			}
		}
	})
}

// The OpenAPI document states the Diagnosis JSON, next_action_at included,
// and the limits' nullable resets_at.
func TestOpenAPIDocumentsDiagnosisAndLimits(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite, dbtest.Options{})
	s := New(Options{DB: d, Accounts: account.NewService(d, nil), Campaigns: campaign.NewService(d, nil)})
	raw, err := json.Marshal(s.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Required   []string       `json:"required"`
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	diag := doc.Components.Schemas["Diagnosis"]
	for _, f := range []string{"sending", "next_action_at", "findings"} {
		if !strings.Contains(strings.Join(diag.Required, ","), f) {
			t.Errorf("Diagnosis does not require %s: %v", f, diag.Required)
		}
	}
	if _, ok := diag.Properties["headline"]; !ok {
		t.Error("Diagnosis does not document headline")
	}
	for _, path := range []string{"/api/v1/campaigns/{id}/diagnosis", "/api/v1/accounts/{id}/diagnosis", "/api/v1/accounts/{id}/limits"} {
		b, _ := json.Marshal(doc.Paths[path]["get"]["responses"])
		if !strings.Contains(string(b), "#/components/schemas/") {
			t.Errorf("%s: 200 has no schema: %s", path, b)
		}
	}
	b, _ := json.Marshal(doc.Components.Schemas["Limits"])
	if !strings.Contains(string(b), `"resets_at":{"description"`) || !strings.Contains(string(b), `"null"`) {
		t.Errorf("Limits does not document a nullable resets_at: %s", b)
	}
}
