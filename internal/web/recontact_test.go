package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestRecontactCooloffForm: the do-not-contact page shows and sets the
// workspace's re-contact cool-off; a bad number changes nothing, and the
// form needs the session's CSRF token (docs/contacts.md#recontact-cooloff).
func TestRecontactCooloffForm(t *testing.T) {
	t.Parallel()
	forEngines(t, func(t *testing.T, k *keel) {
		ctx := context.Background()
		q := k.App.DB.SQL
		ws, _ := workspace.BySlug(ctx, q, app.DemoWorkspace)
		c := newClient(t)
		signIn(t, k, c)
		status, body, csrf := get(t, c, k.Base+"/do-not-contact")
		if status != 200 || !strings.Contains(body, "Re-contact cool-off") || !strings.Contains(body, `value="30"`) {
			t.Fatalf("page: %d %s", status, body)
		}
		read := func() workspace.Recontact {
			rc, err := workspace.ReadRecontact(ctx, q, ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			return rc
		}
		for _, bad := range []string{"-1", "3651", "soon", ""} {
			resp, body := post(t, c, k.Base+"/do-not-contact/recontact", url.Values{"csrf_token": {csrf}, "recontact_cooloff_days": {bad}})
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "whole number of days") {
				t.Errorf("%q: %d", bad, resp.StatusCode)
			}
		}
		if rc := read(); rc != (workspace.Recontact{CooloffDays: 30}) {
			t.Fatalf("after refused changes: %+v", rc)
		}
		if resp, _ := post(t, c, k.Base+"/do-not-contact/recontact", url.Values{"recontact_cooloff_days": {"5"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("without the CSRF token: %d", resp.StatusCode)
		}
		resp, _ := post(t, c, k.Base+"/do-not-contact/recontact", url.Values{"csrf_token": {csrf}, "recontact_cooloff_days": {"5"}})
		if resp.StatusCode != http.StatusSeeOther || read() != (workspace.Recontact{CooloffDays: 5}) {
			t.Fatalf("5 days: %d %+v", resp.StatusCode, read())
		}
		resp, _ = post(t, c, k.Base+"/do-not-contact/recontact", url.Values{"csrf_token": {csrf}, "recontact_cooloff_days": {"5"}, "recontact_never": {"1"}})
		if resp.StatusCode != http.StatusSeeOther || !read().Never {
			t.Fatalf("never: %d %+v", resp.StatusCode, read())
		}
		if _, body, _ := get(t, c, k.Base+"/do-not-contact"); !strings.Contains(body, "checked") {
			t.Fatalf("the page after never: %s", body)
		}
	})
}
