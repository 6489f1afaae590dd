package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

func TestAccountsSyncShowsNothingOfOtherWorkspaces(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		srv := fake.New(fake.Options{})
		alpha := srv.AddAccount(fake.AccountSpec{Name: "Alice Alphason"})
		if err := srv.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		env["UNIPILE_DSN"] = srv.URL()
		env["UNIPILE_API_KEY"] = srv.APIKey()
		env["KEEL_WEBHOOK_SECRET"] = "s3cret-for-tests"
		for _, slug := range []string{"alpha", "beta"} {
			if r := run(t, env, "workspace", "create", slug); r.code != ExitOK {
				t.Fatal(r)
			}
		}
		if r := run(t, env, "accounts", "sync", "--workspace", "alpha"); r.code != ExitOK || !strings.Contains(r.stdout, "created 1") {
			t.Fatalf("alpha sync: %+v", r)
		}
		r := run(t, env, "accounts", "list", "--workspace", "alpha", "--json")
		var list []account.Account
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 {
			t.Fatalf("alpha accounts: %v %s", err, r.stdout)
		}
		beta := srv.AddAccount(fake.AccountSpec{Name: "Bob Betason"})
		for _, args := range [][]string{{"--json"}, {}} {
			r := run(t, env, append([]string{"accounts", "sync", "--workspace", "beta"}, args...)...)
			if r.code != ExitOK {
				t.Fatalf("beta sync %v: %+v", args, r)
			}
			for _, s := range []string{"Alice Alphason", alpha, list[0].ID} {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Fatalf("beta's sync %v shows %q of workspace alpha: %s", args, s, r.stdout)
				}
			}
			if !strings.Contains(r.stdout, "other") || (len(args) > 0 && !strings.Contains(r.stdout, beta)) {
				t.Fatalf("beta's sync %v: %s", args, r.stdout)
			}
		}
	})
}
