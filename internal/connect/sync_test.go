package connect_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/unipile/fake"
	"github.com/keel-outreach/keel/internal/workspace"
)

func TestSyncReportTellsNothingOfOtherWorkspaces(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a := e.ws
		b, err := workspace.Create(e.ctx, e.db.SQL, "beta", "Beta", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		// Workspace A's accounts, one per provider status.
		var secrets []string
		for _, spec := range []fake.AccountSpec{
			{Name: "Alice Alphason", Status: "OK"},
			{Name: "Arthur Alphaby", Status: "CREDENTIALS"},
			{Name: "Agnes Alphamere", Status: "ERROR"},
		} {
			pid := e.fake.AddAccount(spec)
			acc := e.create(t, a, pid, account.StatusConnected)
			secrets = append(secrets, spec.Name, pid, acc.ID)
		}
		minePID := e.fake.AddAccount(fake.AccountSpec{Name: "Bob Betason", Status: "OK"})

		rep, err := e.svc.Sync(e.ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(rep)
		for _, s := range secrets {
			if strings.Contains(string(out), s) {
				t.Fatalf("workspace B's sync report names %q of workspace A: %s", s, out)
			}
		}
		for _, s := range []string{"CREDENTIALS", "ERROR", "other_workspace\""} {
			if strings.Contains(string(out), s) {
				t.Fatalf("workspace B's sync report carries %q: %s", s, out)
			}
		}
		if rep.OtherWorkspaces != 3 || rep.Created != 1 || len(rep.Items) != 1 ||
			rep.Items[0].ProviderAccountID != minePID || rep.Items[0].Name != "Bob Betason" {
			t.Fatalf("report = %s", out)
		}
		var fields map[string]any
		_ = json.Unmarshal(out, &fields)
		if fields["other_workspaces"] != float64(3) {
			t.Fatalf("the report does not count other workspaces' accounts: %s", out)
		}
	})
}

func TestSyncSkipsAccountIDsOfTheWrongForm(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		// An id that is no Unipile account id (it would be put into
		// request paths) is skipped, like the hosted-auth callback refuses it.
		e.fake.AddAccount(fake.AccountSpec{ID: "../../x", Name: "Mallory", Status: "OK"})
		good := e.fake.AddAccount(fake.AccountSpec{Name: "Grace Hopper", Status: "OK"})
		rep, err := e.svc.Sync(e.ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 1 || rep.Skipped != 1 || len(rep.Items) != 1 || rep.Items[0].ProviderAccountID != good {
			t.Fatalf("report = %+v", rep)
		}
		var n int
		if err := d.SQL.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM linkedin_accounts WHERE provider_account_id = $1`, "../../x").Scan(&n); err != nil || n != 0 {
			t.Fatalf("accounts with the bad id: %d (%v)", n, err)
		}
	})
}
