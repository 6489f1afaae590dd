package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

type campaignTenant struct {
	secret    string
	accountID string
}

type campaignBundle struct {
	srv  *httptest.Server
	a, b campaignTenant
}

func newCampaignBundle(t *testing.T, d *db.DB) *campaignBundle {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	accounts := account.NewService(d, c)
	mk := func(slug string) campaignTenant {
		ws, err := workspace.Create(ctx, d.SQL, slug, "", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := token.Create(ctx, d.SQL, ws.ID, "test", c.Now())
		if err != nil {
			t.Fatal(err)
		}
		a, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: ws.ID, ProviderAccountID: "p-" + slug, Status: account.StatusConnected,
			// Paid: the contract campaign has an InMail step, which a Free-only
			// sender set cannot start with.
			Tier: account.TierPremium})
		if err != nil {
			t.Fatal(err)
		}
		return campaignTenant{secret: secret, accountID: a.ID}
	}
	b := &campaignBundle{a: mk("alpha"), b: mk("beta")}
	b.srv = newValidatedServer(t, New(Options{DB: d, Accounts: accounts, Campaigns: campaign.NewService(d, c), Clock: c}))
	t.Cleanup(b.srv.Close)
	return b
}

// call sends body (JSON-encoded unless it is a string, sent as is with
// contentType) and decodes the JSON answer.
func (b *campaignBundle) call(t *testing.T, method, path, secret, contentType string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rd *bytes.Reader
	switch v := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(v))
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
		contentType = "application/json"
	}
	req, _ := http.NewRequest(method, b.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+secret)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func contractCampaign(accountID string) map[string]any {
	return map[string]any{
		"name":        "Q1 founders",
		"account_ids": []string{accountID},
		"steps": []map[string]any{
			{"id": "s1", "type": "invite", "note": "Hi {{first_name}}"},
			{"id": "s2", "type": "if_accepted", "within": "168h", "then": "s3", "else": "end"},
			{"id": "s3", "type": "message", "text": "Thanks for connecting, {{first_name}}"},
			{"id": "s4", "type": "wait", "duration": "72h"},
			{"id": "s5", "type": "inmail", "subject": "Quick question", "text": "…"},
			{"id": "s6", "type": "view_profile"},
		},
		"daily_caps":         map[string]int{"invite": 20, "message": 20, "inmail": 5, "view_profile": 20},
		"stop_on_reply":      true,
		"late_accept_policy": "follow_up",
	}
}

func TestCampaignAPI(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newCampaignBundle(t, d)
		status, created, _ := b.call(t, "POST", "/api/v1/campaigns", b.a.secret, "", contractCampaign(b.a.accountID))
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, created)
		}
		id, _ := created["id"].(string)
		base := "/api/v1/campaigns/" + id

		t.Run("CreateAnswersTheContractFields", func(t *testing.T) {
			for _, k := range []string{"id", "name", "account_ids", "steps", "daily_caps", "stop_on_reply",
				"late_accept_policy", "status", "paused_reason", "created_at"} {
				if _, ok := created[k]; !ok {
					t.Errorf("campaign JSON lacks %q: %v", k, created)
				}
			}
			if created["status"] != "draft" || created["paused_reason"] != nil {
				t.Fatalf("%v", created)
			}
		})

		t.Run("InvalidCampaignIs422WithFieldErrors", func(t *testing.T) {
			body := contractCampaign(b.a.accountID)
			steps := body["steps"].([]map[string]any)
			delete(steps[1], "else")
			steps[2]["text"] = "Hi {{nickname}}"
			status, prob, h := b.call(t, "POST", "/api/v1/campaigns", b.a.secret, "", body)
			if status != http.StatusUnprocessableEntity || !strings.Contains(h.Get("Content-Type"), "problem+json") {
				t.Fatalf("%d %v", status, prob)
			}
			fields := map[string]string{}
			for _, e := range prob["errors"].([]any) {
				fe := e.(map[string]any)
				fields[fe["field"].(string)] = fe["message"].(string)
			}
			if !strings.Contains(fields["steps[1].else"], "required") || !strings.Contains(fields["steps[2].text"], "{{nickname}} in step s3") {
				t.Fatalf("%v", fields)
			}
		})

		t.Run("UnknownFieldIsBadRequest", func(t *testing.T) {
			body := contractCampaign(b.a.accountID)
			body["stop_on_replies"] = false
			if status, prob, _ := b.call(t, "POST", "/api/v1/campaigns", b.a.secret, "", body); status != http.StatusBadRequest {
				t.Fatalf("%d %v", status, prob)
			}
		})

		t.Run("AnotherWorkspacesCampaignIsNotFound", func(t *testing.T) {
			for _, r := range []struct{ method, path, ct string }{
				{"GET", base, ""}, {"PATCH", base, "application/json"}, {"POST", base + "/start", ""},
				{"POST", base + "/pause", ""}, {"POST", base + "/resume", ""},
				{"POST", base + "/prospects", "text/csv"}, {"GET", base + "/enrollments", ""},
				{"GET", base + "/forecast", ""}, {"GET", base + "/forecast?days=7", ""},
			} {
				body := ""
				if r.ct == "text/csv" {
					body = "provider_id\nACoAAx\n"
				} else if r.ct != "" {
					body = `{"name": "stolen"}`
				}
				status, prob, h := b.call(t, r.method, r.path, b.b.secret, r.ct, body)
				if status != http.StatusNotFound || !strings.Contains(h.Get("Content-Type"), "problem+json") {
					t.Errorf("%s %s with another workspace's token: %d %v", r.method, r.path, status, prob)
				}
			}
			_, list, _ := b.call(t, "GET", "/api/v1/campaigns", b.b.secret, "", nil)
			if items := list["items"].([]any); len(items) != 0 {
				t.Fatalf("other workspace lists %v", items)
			}
		})

		t.Run("StartWithoutProspectsIsRefused", func(t *testing.T) {
			status, prob, _ := b.call(t, "POST", base+"/start", b.a.secret, "", nil)
			if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(prob["detail"]), "import prospects") {
				t.Fatalf("%d %v", status, prob)
			}
		})

		t.Run("MalformedCSVIs400AndStoresNothing", func(t *testing.T) {
			status, prob, _ := b.call(t, "POST", base+"/prospects", b.a.secret, "text/csv",
				"linkedin_url,first_name\nhttps://www.linkedin.com/in/ada,Ada\nhttps://www.linkedin.com/in/bob,\"Bob\n")
			if status != http.StatusBadRequest {
				t.Fatalf("%d %v", status, prob)
			}
			_, list, _ := b.call(t, "GET", base+"/enrollments", b.a.secret, "", nil)
			if items := list["items"].([]any); len(items) != 0 {
				t.Fatalf("a malformed file stored %v", items)
			}
			if status, _, _ := b.call(t, "POST", base+"/prospects", b.a.secret, "text/plain", "x"); status != http.StatusUnsupportedMediaType {
				t.Fatalf("text/plain: %d", status)
			}
		})

		t.Run("RoundTrip", func(t *testing.T) {
			status, res, _ := b.call(t, "POST", base+"/prospects", b.a.secret, "text/csv; charset=utf-8",
				"linkedin_url,first_name,company\nhttps://www.linkedin.com/in/ada,Ada,X\nnot a url,Bad,\n")
			if status != 200 || res["imported"] != float64(1) || res["skipped"] != float64(1) {
				t.Fatalf("csv import: %d %v", status, res)
			}
			rows := res["rows"].([]any)
			if r := rows[1].(map[string]any); r["row"] != float64(2) || r["status"] != "invalid" || r["error"] == "" {
				t.Fatalf("%v", rows)
			}
			status, res, _ = b.call(t, "POST", base+"/prospects", b.a.secret, "", map[string]any{
				"prospects": []map[string]any{{"provider_id": "ACoAAgrace", "first_name": "Grace"}, {"linkedin_url": "https://www.linkedin.com/in/ada"}}})
			if status != 200 || res["imported"] != float64(1) || res["rows"].([]any)[1].(map[string]any)["status"] != "duplicate" {
				t.Fatalf("json import: %d %v", status, res)
			}

			status, c, _ := b.call(t, "POST", base+"/start", b.a.secret, "", nil)
			if status != 200 || c["status"] != "running" {
				t.Fatalf("start: %d %v", status, c)
			}
			// Live: the name; after a pause: whether a reply stops the
			// sequence (docs/campaigns.md#editing-a-running-campaign).
			if status, got, _ := b.call(t, "PATCH", base, b.a.secret, "application/json", `{"name": "x"}`); status != 200 || got["name"] != "x" || got["status"] != "running" {
				t.Fatalf("renaming while running: %d %v", status, got)
			}
			if status, prob, _ := b.call(t, "PATCH", base, b.a.secret, "application/json", `{"stop_on_reply": false}`); status != http.StatusConflict ||
				!strings.Contains(fmt.Sprint(prob["detail"]), "pause it to change whether a reply stops the sequence") {
				t.Fatalf("edit while running: %d %v", status, prob)
			}

			_, page1, _ := b.call(t, "GET", base+"/enrollments?limit=1", b.a.secret, "", nil)
			items := page1["items"].([]any)
			if len(items) != 1 || page1["next_cursor"] == nil {
				t.Fatalf("%v", page1)
			}
			_, page2, _ := b.call(t, "GET", base+"/enrollments?cursor="+page1["next_cursor"].(string), b.a.secret, "", nil)
			items = append(items, page2["items"].([]any)...)
			if len(items) != 2 || page2["next_cursor"] != nil {
				t.Fatalf("%v", page2)
			}
			// Two imports in one millisecond may list in either order.
			if items[0].(map[string]any)["first_name"] != "Ada" {
				items[0], items[1] = items[1], items[0]
			}
			e := items[0].(map[string]any)
			for _, k := range []string{"id", "account_id", "state", "step_id", "next_action_at", "ended_reason", "last_error",
				"linkedin_url", "provider_id", "first_name"} {
				if _, ok := e[k]; !ok {
					t.Errorf("enrollment JSON lacks %q: %v", k, e)
				}
			}
			if e["state"] != "active" || e["step_id"] != "s1" || e["account_id"] != b.a.accountID ||
				e["linkedin_url"] != "https://www.linkedin.com/in/ada" || e["first_name"] != "Ada" {
				t.Fatalf("%v", e)
			}
			if items[1].(map[string]any)["provider_id"] != "ACoAAgrace" || items[1].(map[string]any)["linkedin_url"] != nil {
				t.Fatalf("%v", items[1])
			}

			status, c, _ = b.call(t, "POST", base+"/pause", b.a.secret, "", nil)
			if status != 200 || c["status"] != "paused" || c["paused_reason"] != "manual" {
				t.Fatalf("pause: %d %v", status, c)
			}
			status, c, _ = b.call(t, "PATCH", base, b.a.secret, "application/json", `{"name": "Q2 founders", "daily_caps": {"invite": 10}}`)
			if status != 200 || c["name"] != "Q2 founders" || c["daily_caps"].(map[string]any)["invite"] != float64(10) ||
				c["daily_caps"].(map[string]any)["message"] != float64(20) {
				t.Fatalf("patch: %d %v", status, c)
			}
			status, c, _ = b.call(t, "POST", base+"/resume", b.a.secret, "", nil)
			if status != 200 || c["status"] != "running" || c["paused_reason"] != nil {
				t.Fatalf("resume: %d %v", status, c)
			}
			status, c, _ = b.call(t, "GET", "/api/v1/campaigns?status=running", b.a.secret, "", nil)
			if items := c["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != id {
				t.Fatalf("list: %d %v", status, c)
			}
		})

		t.Run("Forecast", func(t *testing.T) {
			for _, bad := range []string{"0", "91", "ten", "1.5", "-3"} {
				status, prob, h := b.call(t, "GET", base+"/forecast?days="+bad, b.a.secret, "", nil)
				if status != http.StatusUnprocessableEntity || !strings.Contains(h.Get("Content-Type"), "problem+json") ||
					!strings.Contains(fmt.Sprint(prob["errors"]), "days") {
					t.Errorf("days=%s: %d %v", bad, status, prob)
				}
			}
			status, f, _ := b.call(t, "GET", base+"/forecast", b.a.secret, "", nil)
			if status != 200 {
				t.Fatalf("forecast: %d %v", status, f)
			}
			for _, k := range []string{"assumptions", "finish_date", "days", "steps"} {
				if _, ok := f[k]; !ok {
					t.Errorf("forecast JSON lacks %q: %v", k, f)
				}
			}
			days := f["days"].([]any)
			if len(days) != 30 {
				t.Fatalf("default horizon: %d days", len(days))
			}
			day := days[0].(map[string]any)
			for _, k := range []string{"date", "actions", "binding", "senders"} {
				if _, ok := day[k]; !ok {
					t.Errorf("forecast day lacks %q: %v", k, day)
				}
			}
			if steps := f["steps"].([]any); len(steps) != 6 || steps[0].(map[string]any)["step_id"] != "s1" {
				t.Fatalf("steps: %v", steps)
			}
			as := f["assumptions"].(map[string]any)
			if as["acceptance_source"] != "default" || as["live_prospects"] != float64(2) {
				t.Fatalf("assumptions: %v", as)
			}
			if _, f, _ = b.call(t, "GET", base+"/forecast?days=90", b.a.secret, "", nil); len(f["days"].([]any)) != 90 {
				t.Fatalf("days=90: %v", f)
			}
		})
	})
}
