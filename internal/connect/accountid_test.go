package connect_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

// A callback whose account_id is not a Unipile account id is refused with
// 400 before anything happens: no account, no provider call, and the link
// stays unspent, so the real callback still completes it.
func TestCallbackRefusesMalformedAccountIDs(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		pid := e.fake.AddAccount(fake.AccountSpec{})
		wizard, err := e.svc.CreateLink(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		l := e.link(t, wizard)
		for _, bad := range []string{"../../x", "a/b", "..", "t5XY4yQzR9WVrlNFyzPMhw/../x", "id with space", "id\x00", "id%2F..",
			"ünïcode", strings.Repeat("a", 65), "a.b", "a:b"} {
			body := fmt.Sprintf(`{"status":"CREATION_SUCCESS","account_id":%q,"name":"x"}`, bad)
			if code := e.postCallback(t, l.NotifyURL, body); code != http.StatusBadRequest {
				t.Errorf("account_id %q answered %d, want 400", bad, code)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM linkedin_accounts`); n != 0 {
			t.Fatalf("malformed callbacks created %d accounts", n)
		}
		if n := e.count(t, `SELECT count(*) FROM hosted_auth_links WHERE used_at IS NOT NULL`); n != 0 {
			t.Fatal("a malformed callback spent the link")
		}
		body := fmt.Sprintf(`{"status":"CREATION_SUCCESS","account_id":%q,"name":"x"}`, pid)
		if code := e.postCallback(t, l.NotifyURL, body); code != http.StatusOK {
			t.Fatalf("the real callback after the refused ones answered %d", code)
		}
		if n := e.count(t, `SELECT count(*) FROM linkedin_accounts WHERE status = 'connected'`); n != 1 {
			t.Fatalf("%d connected accounts after the real callback", n)
		}
	})
}

// Connecting an account stores the premium features Unipile reports for
// it, which bound the tier an operator may set.
func TestConnectRecordsProviderFeatures(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		credits := 5
		for _, c := range []struct {
			spec fake.AccountSpec
			want string
		}{{fake.AccountSpec{}, ""}, {fake.AccountSpec{InMailCredits: &credits}, "premium"}} {
			pid := e.fake.AddAccount(c.spec)
			wizard, err := e.svc.CreateLink(e.ctx, e.ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			l := e.link(t, wizard)
			body := fmt.Sprintf(`{"status":"CREATION_SUCCESS","account_id":%q,"name":"x"}`, pid)
			if code := e.postCallback(t, l.NotifyURL, body); code != http.StatusOK {
				t.Fatalf("callback answered %d", code)
			}
			a, err := e.accounts.GetByProviderID(e.ctx, e.db.SQL, pid)
			if err != nil {
				t.Fatal(err)
			}
			if a.ProviderFeatures == nil || strings.Join(a.ProviderFeatures, ",") != c.want || a.ProviderFeaturesAt == nil {
				t.Fatalf("features %v at %v, want %q", a.ProviderFeatures, a.ProviderFeaturesAt, c.want)
			}
		}
	})
}
