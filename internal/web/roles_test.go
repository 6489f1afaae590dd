package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
	"github.com/keel-outreach/keel/internal/workspace"
)

const staffEmail = "staff@example.com"

// teamFixture is a workspace with one object of each kind a form acts on,
// and a staff user with a role in it.
type teamFixture struct {
	ws, other                      workspace.Workspace
	staff                          user.User
	accountID, campaignID, alertID string
	enrollmentID, dncID, tokenID   string
}

func seedTeam(t *testing.T, d *db.DB, clk clock.Clock, staffRole role.Role) teamFixture {
	t.Helper()
	ctx := context.Background()
	seedUser(t, d, clk)
	var f teamFixture
	var err error
	if f.ws, err = workspace.BySlug(ctx, d.SQL, lockSlug); err != nil {
		t.Fatal(err)
	}
	added, err := user.Add(ctx, d.SQL, user.NewMember{WorkspaceID: f.ws.ID, Email: staffEmail, Password: testPassword, Role: staffRole}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.staff = added.User
	if f.other, err = workspace.Create(ctx, d.SQL, "beta", "Beta", clk.Now()); err != nil {
		t.Fatal(err)
	}
	accounts := account.NewService(d, clk)
	camps := campaign.NewService(d, clk)
	acc, err := accounts.Create(ctx, d.SQL, account.NewAccount{WorkspaceID: f.ws.ID, ProviderAccountID: "p-acme", Status: account.StatusConnected, Tier: account.TierPremium})
	if err != nil {
		t.Fatal(err)
	}
	name := "C"
	cp, err := camps.Create(ctx, f.ws.ID, campaign.Input{Name: &name, AccountIDs: []string{acc.ID}, Steps: []campaign.Step{{ID: "s1", Type: campaign.StepInvite}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camps.Import(ctx, cp.ID, f.ws.ID, []campaign.ProspectRow{{Row: 1, ProviderID: "ACoAAprospect"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.SQL.QueryRow(`SELECT id FROM enrollments WHERE campaign_id = $1`, cp.ID).Scan(&f.enrollmentID); err != nil {
		t.Fatal(err)
	}
	if f.alertID, _, err = alert.Raise(ctx, d.SQL, clk.Now(), alert.New{WorkspaceID: f.ws.ID, Kind: "k", Message: "m", SubjectType: "account", SubjectID: acc.ID}); err != nil {
		t.Fatal(err)
	}
	dnc, err := camps.AddDNC(ctx, f.ws.ID, "cli", []campaign.DNCRow{{Row: 1, ProviderID: "ACoAAlisted"}})
	if err != nil || dnc.Added != 1 {
		t.Fatalf("listing: %+v %v", dnc, err)
	}
	tok, _, err := token.Create(ctx, d.SQL, f.ws.ID, "t", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.accountID, f.campaignID, f.dncID, f.tokenID = acc.ID, cp.ID, dnc.Rows[0].ID, tok.ID
	return f
}

// fill turns a route pattern into a path on the fixture's objects.
func (f teamFixture) fill(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	ids := map[string]string{"/accounts/": f.accountID, "/campaigns/": f.campaignID, "/alerts/": f.alertID,
		"/do-not-contact/": f.dncID, "/tokens/": f.tokenID, "/sends/": "snd_any", "/inbox/": "cnv_any"}
	for prefix, id := range ids {
		if strings.HasPrefix(path, prefix) {
			path = strings.Replace(path, "{id}", id, 1)
		}
	}
	path = strings.Replace(path, "{eid}", f.enrollmentID, 1)
	if strings.HasPrefix(path, "/campaigns/") && strings.Count(path, "/") == 3 {
		path = strings.Replace(path, "{op}", "start", 1)
	}
	return strings.Replace(path, "{op}", "skip", 1)
}

// exempt are the forms every role may post: they change nothing in a
// workspace.
var exempt = map[string]bool{"POST /login": true, "POST /logout": true, "POST /workspace": true}

// TestViewerPostsEveryFormAndChangesNothing posts every mutating form of
// the UI as a viewer: each answers the 403 page with the navigation, and no
// row of any table changes.
func TestViewerPostsEveryFormAndChangesNothing(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		f := seedTeam(t, d, clk, role.Viewer)
		r := newReplica(t, d, clk)
		br := &visitor{t: t}
		if code, body := br.login(r, staffEmail, testPassword); code != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", code, body)
		}
		if code, body, _ := br.do("GET", r.URL+"/accounts", nil); code != http.StatusOK || !strings.Contains(body, ">viewer<") || !strings.Contains(body, `id="viewer-note"`) {
			t.Fatalf("the page does not show the role: %d %s", code, body)
		}
		before := dbtest.Dump(t, d)
		checked := 0
		for _, p := range r.ui.Routes() {
			if strings.HasPrefix(p, "GET ") || exempt[p] {
				continue
			}
			if !role.Classified(p) {
				t.Errorf("%s is not in the role table (internal/role/routes.go)", p)
			}
			path := f.fill(p)
			code, body, _ := br.do("POST", r.URL+path, url.Values{"csrf_token": {br.csrf}, "name": {"x"}, "text": {"x"},
				"entries": {"ACoAAnew"}, "tag": {"x"}, "outcome": {"sent"}})
			if code != http.StatusForbidden || !strings.Contains(body, `<nav aria-label="Main">`) || !strings.Contains(body, "viewer") {
				t.Errorf("viewer POST %s: %d %.300s", path, code, body)
			}
			checked++
		}
		if checked < 20 {
			t.Fatalf("only %d forms checked", checked)
		}
		if after := dbtest.Dump(t, d); after != before {
			t.Fatalf("a viewer's refused forms changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

// TestRolesAndWorkspacesAcrossReplicas: a session made on one replica
// carries its role to another; a role change takes effect on the next
// request; the switcher moves the session between the user's workspaces
// and refuses others; a password reset signs the user out everywhere.
func TestRolesAndWorkspacesAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		f := seedTeam(t, d, clk, role.Viewer)
		added, err := user.Add(ctx, d.SQL, user.NewMember{WorkspaceID: f.other.ID, Email: staffEmail, Role: role.Admin}, clk.Now())
		if err != nil || !added.Existing || added.User.ID != f.staff.ID {
			t.Fatalf("adding the staff user to a second workspace: %+v %v", added, err)
		}
		a, b := newReplica(t, d, clk), newReplica(t, d, clk)
		br := &visitor{t: t}
		if code, body := br.login(a, staffEmail, testPassword); code != http.StatusSeeOther {
			t.Fatalf("sign-in on A: %d %s", code, body)
		}
		code, body, _ := br.do("GET", b.URL+"/alerts", nil)
		if code != http.StatusOK || !strings.Contains(body, ">viewer<") || !strings.Contains(body, `action="/workspace"`) ||
			!strings.Contains(body, "beta (admin)") {
			t.Fatalf("B's page for A's session (role, switcher): %d %s", code, body)
		}
		ack := b.URL + "/alerts/" + f.alertID + "/ack"
		if code, _, _ := br.do("POST", ack, url.Values{"csrf_token": {br.csrf}}); code != http.StatusForbidden {
			t.Fatalf("a viewer acknowledged an alert on B: %d", code)
		}
		t.Run("a role change takes effect on the next request", func(t *testing.T) {
			if err := user.SetRole(ctx, d.SQL, f.staff.ID, f.ws.ID, role.Member, clk.Now()); err != nil {
				t.Fatal(err)
			}
			if code, body, _ := br.do("POST", ack, url.Values{"csrf_token": {br.csrf}}); code != http.StatusSeeOther {
				t.Fatalf("a member acknowledging an alert on B: %d %s", code, body)
			}
			if al, err := alert.Get(ctx, d.SQL, f.alertID, f.ws.ID); err != nil || al.AcknowledgedAt == nil {
				t.Fatalf("the alert after the member's acknowledgement: %+v %v", al, err)
			}
			if code, body, _ := br.do("POST", a.URL+"/do-not-contact/"+f.dncID+"/remove", url.Values{"csrf_token": {br.csrf}}); code != http.StatusForbidden || !strings.Contains(body, "admin") {
				t.Fatalf("a member removing a do-not-contact entry on A: %d %s", code, body)
			}
		})
		t.Run("the switcher moves the session to another of the user's workspaces", func(t *testing.T) {
			if code, body, _ := br.do("POST", a.URL+"/workspace", url.Values{"csrf_token": {br.csrf}, "workspace_id": {f.other.ID}}); code != http.StatusSeeOther {
				t.Fatalf("switching on A: %d %s", code, body)
			}
			code, body, _ := br.do("GET", b.URL+"/accounts", nil)
			if code != http.StatusOK || !strings.Contains(body, "beta · <span class=\"role\"") || !strings.Contains(body, ">admin<") {
				t.Fatalf("B after the switch: %d %s", code, body)
			}
			third, err := workspace.Create(ctx, d.SQL, "gamma", "", clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if code, _, _ := br.do("POST", b.URL+"/workspace", url.Values{"csrf_token": {br.csrf}, "workspace_id": {third.ID}}); code != http.StatusNotFound {
				t.Fatalf("switching to a workspace the user is not in: %d", code)
			}
			if _, body, _ := br.do("GET", a.URL+"/accounts", nil); !strings.Contains(body, "beta · ") {
				t.Fatal("a refused switch moved the session")
			}
		})
		t.Run("ending the user's sessions signs them out on every replica", func(t *testing.T) {
			if n, err := web.EndUserSessions(ctx, d.SQL, f.staff.ID); err != nil || n != 1 {
				t.Fatalf("ended %d sessions: %v", n, err)
			}
			if code, _, resp := br.do("GET", b.URL+"/accounts", nil); code != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Fatalf("after the sessions ended: %d", code)
			}
		})
	})
}
