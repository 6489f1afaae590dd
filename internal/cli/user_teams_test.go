package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/signin"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/workspace"
)

// TestUserRolesAndPasswordReset covers keel user create --role (defaults,
// a second workspace for an existing email) and keel user reset-password
// (new hash, sessions ended, lockouts cleared) on both engines.
func TestUserRolesAndPasswordReset(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			dbURL := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if e == db.Postgres {
				dbURL = dbtest.NewPostgresSchema(t, false)
			}
			env := map[string]string{"KEEL_DATABASE_URL": dbURL}
			runIn := func(stdin string, args ...string) result {
				var out, errOut bytes.Buffer
				code := Run(context.Background(), args, Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin)})
				return result{code, out.String(), errOut.String()}
			}
			if r := run(t, env, "migrate"); r.code != ExitOK {
				t.Fatal(r)
			}
			for _, slug := range []string{"acme", "beta"} {
				if r := run(t, env, "workspace", "create", slug); r.code != ExitOK {
					t.Fatal(r)
				}
			}
			const pw = "correct horse battery staple\n"
			if r := runIn(pw, "user", "create", "--workspace", "acme", "--email", "ann@example.com"); r.code != ExitOK || !strings.Contains(r.stderr, "as owner") {
				t.Fatalf("the first user: %+v", r)
			}
			if r := runIn(pw, "user", "create", "--workspace", "acme", "--email", "bob@example.com"); r.code != ExitOK || !strings.Contains(r.stderr, "as member") {
				t.Fatalf("the second user: %+v", r)
			}
			if r := runIn(pw, "user", "create", "--workspace", "acme", "--email", "cat@example.com", "--role", "root"); r.code != ExitUsage {
				t.Fatalf("a bad role: %+v", r)
			}
			r := runIn("", "user", "create", "--workspace", "beta", "--email", "ann@example.com", "--role", "viewer")
			if r.code != ExitOK || !strings.Contains(r.stderr, "added to beta as viewer") {
				t.Fatalf("an existing user joins a second workspace: %+v", r)
			}
			ctx := context.Background()
			d, err := db.Open(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			beta, err := workspace.BySlug(ctx, d.SQL, "beta")
			if err != nil {
				t.Fatal(err)
			}
			u, err := user.Authenticate(ctx, d.SQL, beta.ID, "ann@example.com", strings.TrimSpace(pw))
			if err != nil || u.Role != role.Viewer {
				t.Fatalf("the existing password in the second workspace: %+v %v", u, err)
			}

			// set-role: bad input changes nothing; the only owner keeps the
			// role until another member is owner; the new role is read back.
			acme, err := workspace.BySlug(ctx, d.SQL, "acme")
			if err != nil {
				t.Fatal(err)
			}
			roleOf := func(email string) role.Role {
				t.Helper()
				u, err := user.Authenticate(ctx, d.SQL, acme.ID, email, strings.TrimSpace(pw))
				if err != nil {
					t.Fatal(err)
				}
				return u.Role
			}
			for _, bad := range [][]string{
				{"--workspace", "acme", "--email", "bob@example.com"},
				{"--workspace", "acme", "--email", "bob@example.com", "--role", "root"},
			} {
				if r := runIn("", append([]string{"user", "set-role"}, bad...)...); r.code != ExitUsage {
					t.Fatalf("set-role %v: %+v", bad, r)
				}
			}
			if r := runIn("", "user", "set-role", "--workspace", "acme", "--email", "nobody@example.com", "--role", "admin"); r.code != ExitFailure ||
				!strings.Contains(r.stderr, "no user with that email") {
				t.Fatalf("set-role of a stranger: %+v", r)
			}
			if r := runIn("", "user", "set-role", "--workspace", "acme", "--email", "ann@example.com", "--role", "admin"); r.code != ExitFailure ||
				!strings.Contains(r.stderr, "only owner") || roleOf("ann@example.com") != role.Owner {
				t.Fatalf("demoting the only owner: %+v", r)
			}
			if r := runIn("", "user", "set-role", "--workspace", "acme", "--email", "Bob@Example.com", "--role", "owner"); r.code != ExitOK ||
				!strings.Contains(r.stdout, "bob@example.com is now owner in acme (was member)") || roleOf("bob@example.com") != role.Owner {
				t.Fatalf("promoting bob: %+v", r)
			}
			if r := runIn("", "user", "set-role", "--workspace", "acme", "--email", "ann@example.com", "--role", "viewer"); r.code != ExitOK ||
				roleOf("ann@example.com") != role.Viewer || roleOf("bob@example.com") != role.Owner {
				t.Fatalf("demoting ann once bob owns acme: %+v", r)
			}
			if u, err := user.Authenticate(ctx, d.SQL, beta.ID, "ann@example.com", strings.TrimSpace(pw)); err != nil || u.Role != role.Viewer {
				t.Fatalf("ann's role in beta moved: %+v %v", u, err)
			}

			// A session and a lockout, which the reset must end and clear.
			now := time.Now().UTC()
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, user_id, workspace_id, csrf, created_at, last_seen_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $5, $6)`, strings.Repeat("a", 64), u.ID, beta.ID, strings.Repeat("c", 43), now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			key := signin.AccountKey("acme", "ann@example.com")
			for i := 0; i < signin.AccountFailures; i++ {
				a, err := signin.Begin(ctx, d, key, "192.0.2.1", now)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Failed(ctx, now); err != nil {
					t.Fatal(err)
				}
			}
			if r := runIn("", "user", "reset-password", "--workspace", "acme"); r.code != ExitUsage {
				t.Fatalf("without --email: %+v", r)
			}
			if r := runIn("short\n", "user", "reset-password", "--workspace", "acme", "--email", "ann@example.com"); r.code != ExitFailure {
				t.Fatalf("a short password: %+v", r)
			}
			if r := runIn("a brand new password\n", "user", "reset-password", "--workspace", "acme", "--email", "nobody@example.com"); r.code != ExitFailure {
				t.Fatalf("an unknown email: %+v", r)
			}
			r = runIn("a brand new password\n", "user", "reset-password", "--workspace", "acme", "--email", "Ann@Example.com")
			if r.code != ExitOK || !strings.Contains(r.stdout, "ended 1 session") || !strings.Contains(r.stdout, "cleared 5 failed sign-ins") {
				t.Fatalf("reset: %+v", r)
			}
			if _, err := user.Authenticate(ctx, d.SQL, beta.ID, "ann@example.com", "a brand new password"); err != nil {
				t.Fatalf("the new password: %v", err)
			}
			if _, err := signin.Begin(ctx, d, key, "192.0.2.2", now); err != nil {
				t.Fatalf("still locked after the reset: %v", err)
			}
		})
	}
}

func TestTokenCreateTakesARole(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t)
	if r := run(t, env, "migrate"); r.code != ExitOK {
		t.Fatal(r)
	}
	if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
		t.Fatal(r)
	}
	if r := run(t, env, "token", "create", "--workspace", "acme", "--role", "root"); r.code != ExitUsage {
		t.Fatalf("a bad role: %+v", r)
	}
	if r := run(t, env, "token", "create", "--workspace", "acme", "--role", "viewer", "--name", "looker"); r.code != ExitOK || !strings.Contains(r.stderr, "role viewer") {
		t.Fatalf("a viewer token: %+v", r)
	}
	if r := run(t, env, "token", "create", "--workspace", "acme", "--name", "plain"); r.code != ExitOK || !strings.Contains(r.stderr, "role admin") {
		t.Fatalf("the default role: %+v", r)
	}
	r := run(t, env, "token", "list", "--workspace", "acme")
	if r.code != ExitOK || !strings.Contains(r.stdout, "ROLE") || !strings.Contains(r.stdout, "viewer") || !strings.Contains(r.stdout, "admin") {
		t.Fatalf("token list: %+v", r)
	}
	r = run(t, env, "token", "list", "--workspace", "acme", "--json")
	if r.code != ExitOK || !strings.Contains(r.stdout, `"role": "viewer"`) {
		t.Fatalf("token list --json: %+v", r)
	}
}
