package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/signin"
)

func TestUserUnlockClearsALockout(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			dbURL := "sqlite:" + filepath.Join(t.TempDir(), "keel.db")
			if e == db.Postgres {
				dbURL = dbtest.NewPostgresSchema(t, false)
			}
			env := map[string]string{"KEEL_DATABASE_URL": dbURL}
			migrate(t, env)
			if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
				t.Fatalf("workspace create: %d %s", r.code, r.stderr)
			}
			ctx := context.Background()
			d, err := db.Open(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			now := time.Now().UTC()
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
			var locked *signin.LockedError
			if _, err := signin.Begin(ctx, d, key, "192.0.2.2", now); !errors.As(err, &locked) {
				t.Fatalf("not locked after %d failures: %v", signin.AccountFailures, err)
			}
			if r := run(t, env, "user", "unlock", "--workspace", "acme"); r.code != ExitUsage {
				t.Fatalf("without --email: exit %d", r.code)
			}
			if r := run(t, env, "user", "unlock", "--workspace", "nope", "--email", "ann@example.com"); r.code != ExitFailure {
				t.Fatalf("unknown workspace: exit %d", r.code)
			}
			r := run(t, env, "user", "unlock", "--workspace", "acme", "--email", " Ann@Example.com")
			if r.code != ExitOK || !strings.Contains(r.stdout, "cleared 5 failed sign-in") {
				t.Fatalf("unlock: %d %q %q", r.code, r.stdout, r.stderr)
			}
			if _, err := signin.Begin(ctx, d, key, "192.0.2.2", now); err != nil {
				t.Fatalf("still locked after keel user unlock: %v", err)
			}
		})
	}
}
