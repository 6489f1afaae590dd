package api

import (
	"net/http"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestWorkspaceSettingsRoutes: GET and PATCH /api/v1/workspace read and
// change the token's own workspace's re-contact cool-off; anything but a
// whole number of days from 0 to 3650 or "never" is a 422 naming the
// field, and changes nothing (docs/contacts.md#recontact-cooloff).
func TestWorkspaceSettingsRoutes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		b := newCampaignBundle(t, d)
		status, res, _ := b.call(t, "GET", "/api/v1/workspace", b.a.secret, "", nil)
		if status != http.StatusOK || res["slug"] != "alpha" || res["recontact_cooloff_days"] != 30.0 {
			t.Fatalf("GET: %d %v", status, res)
		}
		for _, bad := range []any{-1, 3651, 1.5, "soon", "30", nil, true} {
			status, res, _ := b.call(t, "PATCH", "/api/v1/workspace", b.a.secret, "", map[string]any{"recontact_cooloff_days": bad})
			errs, _ := res["errors"].([]any)
			if status != http.StatusUnprocessableEntity || len(errs) != 1 || errs[0].(map[string]any)["field"] != "recontact_cooloff_days" {
				t.Errorf("PATCH %v: %d %v", bad, status, res)
			}
		}
		if status, res, _ := b.call(t, "PATCH", "/api/v1/workspace", b.a.secret, "", map[string]any{"recontact_cooloff_days": 7}); status != http.StatusOK ||
			res["recontact_cooloff_days"] != 7.0 {
			t.Fatalf("PATCH 7: %d %v", status, res)
		}
		if status, res, _ := b.call(t, "PATCH", "/api/v1/workspace", b.a.secret, "", map[string]any{"recontact_cooloff_days": "never"}); status != http.StatusOK ||
			res["recontact_cooloff_days"] != "never" {
			t.Fatalf("PATCH never: %d %v", status, res)
		}
		// The other workspace keeps its default.
		if status, res, _ := b.call(t, "GET", "/api/v1/workspace", b.b.secret, "", nil); status != http.StatusOK ||
			res["slug"] != "beta" || res["recontact_cooloff_days"] != 30.0 {
			t.Fatalf("B after A's changes: %d %v", status, res)
		}
	})
}
