package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

func TestDoNotContactRoutes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newCampaignBundle(t, d)
		count := func() int {
			var n int
			if err := d.SQL.QueryRow(`SELECT count(*) FROM do_not_contact`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		status, res, _ := b.call(t, "POST", "/api/v1/do-not-contact", b.a.secret, "", map[string]any{"entries": []map[string]any{
			{"linkedin_url": "https://linkedin.com/in/Jane", "reason": "asked"},
			{"linkedin_url": "https://example.com/in/x"},
			{"provider_id": "ACoAAJoe12345"},
			{"linkedin_url": "linkedin.com/in/jane/"},
			{"nickname": "x"},
			{"company_url": "https://www.linkedin.com/company/acme"},
		}})
		if status != http.StatusOK || res["added"] != 3.0 || res["skipped"] != 3.0 {
			t.Fatalf("POST JSON: %d %v", status, res)
		}
		rows := res["rows"].([]any)
		for i, want := range []string{"added", "invalid", "added", "duplicate", "invalid", "added"} {
			if got := rows[i].(map[string]any)["status"]; got != want {
				t.Errorf("row %d: %v, want %s", i+1, rows[i], want)
			}
		}
		if !strings.Contains(rows[1].(map[string]any)["error"].(string), "not a linkedin.com URL") ||
			!strings.Contains(rows[4].(map[string]any)["error"].(string), `unknown field "nickname"`) {
			t.Errorf("row errors: %v", rows)
		}

		status, res, _ = b.call(t, "POST", "/api/v1/do-not-contact", b.a.secret, "text/csv",
			"provider_id,reason\nACoAAFromCSV1,left\nACoAAJoe12345,again\n")
		if status != http.StatusOK || res["added"] != 1.0 || res["skipped"] != 1.0 {
			t.Fatalf("POST CSV: %d %v", status, res)
		}
		if status, res, _ := b.call(t, "POST", "/api/v1/do-not-contact", b.a.secret, "text/csv", "provider_id,notes\nACoAAX1,y\n"); status != http.StatusBadRequest ||
			!strings.Contains(res["detail"].(string), `unknown column "notes"`) {
			t.Fatalf("unknown column: %d %v", status, res)
		}
		big := "provider_id\n" + strings.Repeat("ACoAAxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", campaign.MaxDNCBytes/30)
		if status, _, _ := b.call(t, "POST", "/api/v1/do-not-contact", b.a.secret, "text/csv", big); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("a CSV over 10 MiB: %d", status)
		}
		if n := count(); n != 4 {
			t.Fatalf("%d entries stored, want 4", n)
		}

		status, res, _ = b.call(t, "GET", "/api/v1/do-not-contact?limit=3", b.a.secret, "", nil)
		items, _ := res["items"].([]any)
		if status != http.StatusOK || len(items) != 3 || res["next_cursor"] == nil {
			t.Fatalf("GET page 1: %d %v", status, res)
		}
		first := items[0].(map[string]any)
		for _, k := range []string{"id", "linkedin_url", "provider_id", "company_url", "reason", "created_at", "created_by"} {
			if _, ok := first[k]; !ok {
				t.Errorf("entry lacks %s: %v", k, first)
			}
		}
		if !strings.HasPrefix(first["created_by"].(string), "token:") {
			t.Errorf("created_by: %v", first["created_by"])
		}
		_, res, _ = b.call(t, "GET", "/api/v1/do-not-contact?limit=3&cursor="+res["next_cursor"].(string), b.a.secret, "", nil)
		if items2, _ := res["items"].([]any); len(items2) != 1 {
			t.Fatalf("GET page 2: %v", res)
		}
		if _, res, _ := b.call(t, "GET", "/api/v1/do-not-contact", b.b.secret, "", nil); len(res["items"].([]any)) != 0 {
			t.Fatalf("another workspace sees the list: %v", res)
		}

		id := first["id"].(string)
		if status, _, _ := b.call(t, "DELETE", "/api/v1/do-not-contact/"+id, b.b.secret, "", nil); status != http.StatusNotFound {
			t.Fatalf("DELETE by another workspace: %d", status)
		}
		if status, _, _ := b.call(t, "DELETE", "/api/v1/do-not-contact/"+id, b.a.secret, "", nil); status != http.StatusNoContent {
			t.Fatalf("DELETE: %d", status)
		}
		if status, _, _ := b.call(t, "DELETE", "/api/v1/do-not-contact/"+id, b.a.secret, "", nil); status != http.StatusNotFound {
			t.Fatalf("DELETE again: %d", status)
		}
		if n := count(); n != 3 {
			t.Fatalf("%d entries stored, want 3", n)
		}
	})
}
