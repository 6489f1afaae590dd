package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

// inputBundle serves every route that takes text, for the hostile-input
// tests.
type inputBundle struct {
	srv       *httptest.Server
	d         *db.DB
	secret    string
	accountID string
	alertID   string
}

func newInputBundle(t *testing.T, d *db.DB) *inputBundle {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	accounts := account.NewService(d, c, account.WithMinGap(time.Minute))
	ws, err := workspace.Create(ctx, d.SQL, "alpha", "", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-alpha", Status: account.StatusConnected})
	if err != nil {
		t.Fatal(err)
	}
	alertID, _, err := alert.Raise(ctx, d.SQL, c.Now(), alert.New{WorkspaceID: ws.ID, Kind: alert.KindStuckConnecting,
		Message: "m", SubjectType: "account", SubjectID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	srv := newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Campaigns: campaign.NewService(d, c),
		Outbound: outbound.New(outbound.Options{DB: d, Clock: c}), Clock: c}))
	t.Cleanup(srv.Close)
	return &inputBundle{srv: srv, d: d, secret: secret, accountID: a.ID, alertID: alertID}
}

// send posts raw bytes, so a test can put anything in the body.
func (b *inputBundle) send(t *testing.T, method, path, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.secret)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (b *inputBundle) sendJSON(t *testing.T, method, path string, v any) (int, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b.send(t, method, path, "application/json", raw)
}

func (b *inputBundle) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := b.d.SQL.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// namesField says whether a 422 problem names field, in its detail and in
// its errors member.
func namesField(prob map[string]any, field string) bool {
	detail, _ := prob["detail"].(string)
	inErrors := false
	switch errs := prob["errors"].(type) {
	case []any:
		for _, e := range errs {
			if m, ok := e.(map[string]any); ok && m["field"] == field {
				inErrors = true
			}
		}
	case map[string]any:
		_, inErrors = errs[field]
	}
	return inErrors && (strings.Contains(detail, field) || strings.Contains(detail, "see errors"))
}

// mutate returns a copy of the contract campaign with one change.
func mutate(accountID string, change func(body map[string]any, steps []map[string]any)) map[string]any {
	body := contractCampaign(accountID)
	change(body, body["steps"].([]map[string]any))
	return body
}

func TestHostileTextIsRefusedWithTheField(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newInputBundle(t, d)
		status, created := b.sendJSON(t, "POST", "/api/v1/campaigns", contractCampaign(b.accountID))
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, created)
		}
		id := created["id"].(string)
		base := "/api/v1/campaigns/" + id

		cases := []struct {
			name, field string
			body        map[string]any
		}{
			{"NULInName", "name", mutate(b.accountID, func(c map[string]any, _ []map[string]any) { c["name"] = "Q1\x00founders" })},
			{"BellInName", "name", mutate(b.accountID, func(c map[string]any, _ []map[string]any) { c["name"] = "Q1\afounders" })},
			{"TabInName", "name", mutate(b.accountID, func(c map[string]any, _ []map[string]any) { c["name"] = "Q1\tfounders" })},
			{"C1InName", "name", mutate(b.accountID, func(c map[string]any, _ []map[string]any) { c["name"] = "Q1\u0085founders" })},
			{"NULInNote", "steps[0].note", mutate(b.accountID, func(_ map[string]any, s []map[string]any) { s[0]["note"] = "Hi\x00 {{first_name}}" })},
			{"EscapeInText", "steps[2].text", mutate(b.accountID, func(_ map[string]any, s []map[string]any) { s[2]["text"] = "Thanks \x1b[31m" })},
			{"BareCRInText", "steps[2].text", mutate(b.accountID, func(_ map[string]any, s []map[string]any) { s[2]["text"] = "Thanks\rbye" })},
			{"NewlineInSubject", "steps[4].subject", mutate(b.accountID, func(_ map[string]any, s []map[string]any) { s[4]["subject"] = "Quick\nquestion" })},
			{"NULInStepID", "steps[5].id", mutate(b.accountID, func(_ map[string]any, s []map[string]any) { s[5]["id"] = "s6\x00" })},
			{"NULInAccountID", "account_ids[0]", mutate(b.accountID, func(c map[string]any, _ []map[string]any) { c["account_ids"] = []string{b.accountID + "\x00"} })},
		}
		for _, c := range cases {
			t.Run("Create"+c.name, func(t *testing.T) {
				before := b.count(t, `SELECT count(*) FROM campaigns`)
				status, prob := b.sendJSON(t, "POST", "/api/v1/campaigns", c.body)
				if status != http.StatusUnprocessableEntity || !namesField(prob, c.field) {
					t.Fatalf("answered %d %v, want 422 naming %s", status, prob, c.field)
				}
				if n := b.count(t, `SELECT count(*) FROM campaigns`); n != before {
					t.Fatalf("campaigns %d -> %d", before, n)
				}
			})
			t.Run("Patch"+c.name, func(t *testing.T) {
				_, was := b.sendJSON(t, "GET", base, nil)
				status, prob := b.sendJSON(t, "PATCH", base, c.body)
				if status != http.StatusUnprocessableEntity || !namesField(prob, c.field) {
					t.Fatalf("answered %d %v, want 422 naming %s", status, prob, c.field)
				}
				_, now := b.sendJSON(t, "GET", base, nil)
				if !reflect.DeepEqual(was, now) {
					t.Fatalf("campaign changed:\n%v\n%v", was, now)
				}
			})
		}

		t.Run("InvalidUTF8InName", func(t *testing.T) {
			raw := []byte("{\"name\": \"Q1 \xff founders\"}")
			status, prob := b.send(t, "PATCH", base, "application/json", raw)
			if status != http.StatusUnprocessableEntity || !namesField(prob, "name") {
				t.Fatalf("answered %d %v", status, prob)
			}
		})

		t.Run("TabAndLineBreaksInTextsAreKept", func(t *testing.T) {
			text := "Thanks,\t{{first_name}}!\r\nSee you.\nBye"
			note := "Hi {{first_name}},\nlet's connect."
			body := mutate(b.accountID, func(_ map[string]any, s []map[string]any) { s[2]["text"] = text; s[0]["note"] = note })
			status, c := b.sendJSON(t, "POST", "/api/v1/campaigns", body)
			if status != http.StatusCreated {
				t.Fatalf("create: %d %v", status, c)
			}
			_, got := b.sendJSON(t, "GET", "/api/v1/campaigns/"+c["id"].(string), nil)
			steps := got["steps"].([]any)
			if steps[2].(map[string]any)["text"] != text || steps[0].(map[string]any)["note"] != note {
				t.Fatalf("stored steps %v", steps)
			}
		})

		t.Run("AccountPatch", func(t *testing.T) {
			path := "/api/v1/accounts/" + b.accountID
			_, was := b.sendJSON(t, "GET", path, nil)
			for field, body := range map[string]any{
				"timezone": map[string]any{"timezone": "Europe/Paris\x00"},
				"tier":     map[string]any{"tier": "premium\a"},
			} {
				status, prob := b.sendJSON(t, "PATCH", path, body)
				if status != http.StatusUnprocessableEntity || !namesField(prob, field) {
					t.Errorf("%s: answered %d %v", field, status, prob)
				}
			}
			status, prob := b.sendJSON(t, "PATCH", path, map[string]any{"window": map[string]any{"days": []string{"mon\x00"}, "start": "09:00", "end": "18:00"}})
			if status != http.StatusUnprocessableEntity || !namesField(prob, "window.days[0]") {
				t.Errorf("window.days: answered %d %v", status, prob)
			}
			if _, now := b.sendJSON(t, "GET", path, nil); !reflect.DeepEqual(was, now) {
				t.Fatalf("account changed:\n%v\n%v", was, now)
			}
		})

		t.Run("WebhookEndpoint", func(t *testing.T) {
			for field, body := range map[string]any{
				"url":       map[string]any{"url": "https://hooks.example.com/\x00x"},
				"events[0]": map[string]any{"url": "https://hooks.example.com/x", "events": []string{"linkedin.message_sent\a"}},
			} {
				status, prob := b.sendJSON(t, "POST", "/api/v1/webhooks", body)
				if status != http.StatusUnprocessableEntity || !namesField(prob, field) {
					t.Errorf("%s: answered %d %v", field, status, prob)
				}
			}
			if n := b.count(t, `SELECT count(*) FROM outbound_endpoints`); n != 0 {
				t.Fatalf("%d endpoints stored", n)
			}
		})

		t.Run("ProspectImportJSON", func(t *testing.T) {
			body := map[string]any{"prospects": []map[string]any{
				{"linkedin_url": "https://www.linkedin.com/in/ada-ok", "first_name": "Ada", "note": "line one\nline two"},
				{"linkedin_url": "https://www.linkedin.com/in/bob-nul", "first_name": "B\x00b"},
				{"linkedin_url": "https://www.linkedin.com/in/cy-bell", "company": "Acme\a"},
				{"linkedin_url": "https://www.linkedin.com/in/di-custom", "team": "x\x00"},
				{"linkedin_url": "https://www.linkedin.com/in/ed\x00"},
				{"provider_id": "ACoAAB\x00"},
			}}
			status, res := b.sendJSON(t, "POST", base+"/prospects", body)
			if status != http.StatusOK {
				t.Fatalf("import: %d %v", status, res)
			}
			checkImportRows(t, res, []string{"", "first_name", "company", "team", "linkedin_url", "provider_id"})
		})

		t.Run("ProspectImportCSV", func(t *testing.T) {
			csv := "linkedin_url,first_name,company,team\n" +
				"https://www.linkedin.com/in/fay-ok,Fay,Acme,\"two\nlines\"\n" +
				"https://www.linkedin.com/in/gus-nul,G\x00s,Acme,\n" +
				"https://www.linkedin.com/in/hal-c1,Hal,Ac\u0085me,\n" +
				"https://www.linkedin.com/in/ivy-esc,Ivy,Acme,\x1b[2J\n"
			status, res := b.send(t, "POST", base+"/prospects", "text/csv", []byte(csv))
			if status != http.StatusOK {
				t.Fatalf("import: %d %v", status, res)
			}
			checkImportRows(t, res, []string{"", "first_name", "company", "team"})
		})

		t.Run("PathsAndQueries", func(t *testing.T) {
			for _, c := range []struct {
				method, path string
				want         int
			}{
				{"GET", "/api/v1/campaigns/%00", http.StatusNotFound},
				{"PATCH", "/api/v1/campaigns/" + id + "%00", http.StatusNotFound},
				{"GET", "/api/v1/accounts/%00", http.StatusNotFound},
				{"GET", "/api/v1/accounts/%07x/audit", http.StatusNotFound},
				{"POST", "/api/v1/alerts/" + b.alertID + "%00/ack", http.StatusNotFound},
				{"GET", "/api/v1/campaigns?cursor=%00", http.StatusBadRequest},
				{"GET", "/api/v1/accounts?cursor=a%00", http.StatusBadRequest},
				{"GET", "/api/v1/alerts?cursor=%C2%85", http.StatusBadRequest},
			} {
				status, prob := b.sendJSON(t, c.method, c.path, map[string]any{"name": "x"})
				if status != c.want {
					t.Errorf("%s %s: %d %v, want %d", c.method, c.path, status, prob, c.want)
				}
			}
		})
	})
}

// checkImportRows checks each row of an import result: an empty column
// means imported, otherwise invalid with an error naming that column.
func checkImportRows(t *testing.T, res map[string]any, want []string) {
	t.Helper()
	rows, _ := res["rows"].([]any)
	if len(rows) != len(want) {
		t.Fatalf("rows %v", res)
	}
	for i, col := range want {
		r := rows[i].(map[string]any)
		msg, _ := r["error"].(string)
		if col == "" {
			if r["status"] != campaign.RowImported {
				t.Errorf("row %d: %v, want imported", i+1, r)
			}
			continue
		}
		if r["status"] != campaign.RowInvalid || !strings.HasPrefix(msg, col+" ") {
			t.Errorf("row %d: %v, want invalid naming %s", i+1, r, col)
		}
	}
}
