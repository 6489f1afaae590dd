package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

// forEngineEnvs runs fn with a CLI environment per engine, each on a fresh
// database.
func forEngineEnvs(t *testing.T, fn func(t *testing.T, env map[string]string)) {
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			env := sqliteEnv(t)
			if e == db.Postgres {
				env["KEEL_DATABASE_URL"] = dbtest.NewPostgresSchema(t, false)
			}
			migrate(t, env)
			fn(t, env)
		})
	}
}

func openEnvDB(t *testing.T, env map[string]string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), env["KEEL_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestTokenCreateListRevoke(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
			t.Fatal(r)
		}
		for _, bad := range []string{"soon", "0d", "-5h", "1.5d"} {
			if r := run(t, env, "token", "create", "--workspace", "acme", "--expires-in", bad); r.code != ExitUsage {
				t.Fatalf("--expires-in %s: %+v", bad, r)
			}
		}
		r := run(t, env, "token", "create", "--workspace", "acme", "--name", "ci", "--expires-in", "90d")
		secret := lastLine(r.stdout)
		if r.code != ExitOK || !strings.HasPrefix(secret, token.Prefix) {
			t.Fatalf("token create must print the token alone on the last line: %+v", r)
		}
		r = run(t, env, "token", "create", "--workspace", "acme")
		if r.code != ExitOK || !strings.HasPrefix(lastLine(r.stdout), token.Prefix) {
			t.Fatalf("token create without expiry: %+v", r)
		}

		r = run(t, env, "token", "list", "--workspace", "acme", "--json")
		var list []token.Token
		if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 2 {
			t.Fatalf("token list --json: %+v", r)
		}
		if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, token.Hash(secret)) {
			t.Fatalf("token list shows a secret or hash: %s", r.stdout)
		}
		ci := list[1]
		if ci.Name != "ci" || ci.ExpiresAt == nil || ci.RevokedAt != nil || list[0].ExpiresAt != nil {
			t.Fatalf("listed tokens: %+v", list)
		}
		if life := ci.ExpiresAt.Sub(ci.CreatedAt); life != 90*24*time.Hour {
			t.Fatalf("--expires-in 90d gave a lifetime of %v", life)
		}
		r = run(t, env, "token", "list", "--workspace", "acme")
		if r.code != ExitOK || !strings.Contains(r.stdout, "LAST USED") || !strings.Contains(r.stdout, ci.ID) || strings.Contains(r.stdout, secret) {
			t.Fatalf("token list: %+v", r)
		}

		d := openEnvDB(t, env)
		ctx := context.Background()
		if _, err := token.Authenticate(ctx, d.SQL, secret); err != nil {
			t.Fatalf("the new token does not authenticate: %v", err)
		}
		if r := run(t, env, "token", "revoke", ci.ID); r.code != ExitOK || !strings.Contains(r.stdout, "revoked token "+ci.ID) {
			t.Fatalf("token revoke: %+v", r)
		}
		if _, err := token.Authenticate(ctx, d.SQL, secret); !errors.Is(err, token.ErrRevoked) {
			t.Fatalf("a revoked token authenticates: %v", err)
		}
		if r := run(t, env, "token", "revoke", ci.ID); r.code != ExitOK || !strings.Contains(r.stdout, "already revoked") {
			t.Fatalf("second revoke: %+v", r)
		}
		r = run(t, env, "token", "revoke", "tok_nope")
		if r.code != ExitFailure || !strings.Contains(r.stderr, "no token") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Fatalf("revoking an unknown token: %+v", r)
		}
		if r := run(t, env, "token", "revoke"); r.code != ExitUsage {
			t.Fatalf("revoke without id: %+v", r)
		}
		r = run(t, env, "token", "list", "--workspace", "acme")
		if !strings.Contains(r.stdout, "revoked") {
			t.Fatalf("token list after revoke: %+v", r)
		}
	})
}

func TestAlertsAckByTheInstallationOperator(t *testing.T) {
	t.Parallel()
	forEngineEnvs(t, func(t *testing.T, env map[string]string) {
		if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
			t.Fatal(r)
		}
		d := openEnvDB(t, env)
		ctx := context.Background()
		now := time.Now().UTC()
		burst, _, err := alert.Raise(ctx, d.SQL, now, alert.New{Kind: alert.KindMass404Burst, Message: "burst"})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := workspace.BySlug(ctx, d.SQL, "acme")
		if err != nil {
			t.Fatal(err)
		}
		mine, _, err := alert.Raise(ctx, d.SQL, now, alert.New{WorkspaceID: ws.ID, Kind: alert.KindStuckConnecting, Message: "stuck"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{burst, mine} {
			if r := run(t, env, "alerts", "ack", id); r.code != ExitOK || !strings.Contains(r.stdout, "acknowledged alert "+id) {
				t.Fatalf("alerts ack %s: %+v", id, r)
			}
			a, err := alert.Get(ctx, d.SQL, id, "")
			if err != nil || a.AcknowledgedAt == nil || a.AcknowledgedBy != alert.ByCLI {
				t.Fatalf("after alerts ack: %+v %v", a, err)
			}
		}
		if r := run(t, env, "alerts", "ack", burst); r.code != ExitOK || !strings.Contains(r.stdout, "already acknowledged") {
			t.Fatalf("second ack: %+v", r)
		}
		if r := run(t, env, "alerts", "ack", "alr_nope"); r.code != ExitFailure || !strings.Contains(r.stderr, "no alert") {
			t.Fatalf("unknown alert: %+v", r)
		}
		if r := run(t, env, "alerts", "ack"); r.code != ExitUsage {
			t.Fatalf("ack without id: %+v", r)
		}
	})
}
