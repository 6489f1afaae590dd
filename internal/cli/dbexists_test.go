package cli

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// migrate creates and migrates env's database, as an operator does before
// any command other than migrate and serve.
func migrate(t *testing.T, env map[string]string) {
	t.Helper()
	if r := run(t, env, "migrate"); r.code != ExitOK {
		t.Fatalf("keel migrate: %+v", r)
	}
}

// Commands other than migrate and serve never create a database: in a
// folder without keel.db they answer exit 1 with one line saying how to
// create it, and leave no file behind (docs/surfaces.md#cli).
func TestCommandsRefuseToCreateADatabase(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"accounts", "list"},
		{"campaigns", "list", "--json"},
		{"alerts", "list"},
		{"workspace", "create", "acme"},
		{"token", "list", "--workspace", "acme"},
		{"token", "revoke", "tok_x"},
		{"dnc", "list", "--workspace", "acme"},
		{"diagnose", "account", "acc_x"},
		{"forecast", "campaign", "cmp_x"},
		{"repair", "split-state"},
	} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "keel.db")
			r := run(t, map[string]string{"KEEL_DATABASE_URL": path}, args...)
			want := path + ": no such database; run `keel migrate` or `keel serve` first"
			if r.code != ExitFailure || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, want) {
				t.Fatalf("keel %v without a database: %+v, want exit 1 and one line with %q", args, r, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("keel %v left files behind: %v", args, entries)
			}
		})
	}
	t.Run("TheDefaultPathIsNamedAsItIsConfigured", func(t *testing.T) {
		t.Parallel()
		// KEEL_DATABASE_URL unset means keel.db in the working directory;
		// sqlite: and file: prefixes name the same file.
		path := filepath.Join(t.TempDir(), "sub.db")
		r := run(t, map[string]string{"KEEL_DATABASE_URL": "sqlite:" + path}, "accounts", "list")
		if r.code != ExitFailure || !strings.HasPrefix(r.stderr, "keel accounts: "+path+": no such database") {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("AfterMigrateTheCommandsWork", func(t *testing.T) {
		t.Parallel()
		env := sqliteEnv(t)
		migrate(t, env)
		if r := run(t, env, "accounts", "list"); r.code != ExitOK {
			t.Fatalf("accounts list after migrate: %+v", r)
		}
	})
}

// A PostgreSQL database that does not exist is named in one line that
// says to create it; nothing is created.
func TestCommandsNameAMissingPostgreSQLDatabase(t *testing.T) {
	t.Parallel()
	// The database name is the URL's path; one that was never created.
	u, err := url.Parse(dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/keel_no_such_database"
	r := run(t, map[string]string{"KEEL_DATABASE_URL": u.String()}, "accounts", "list")
	if r.code != ExitFailure || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
		!strings.Contains(r.stderr, "does not exist; create it") || !strings.Contains(r.stderr, "keel migrate") ||
		strings.Contains(r.stderr, "SQLSTATE") {
		t.Fatalf("keel accounts list against a missing PostgreSQL database: %+v", r)
	}
}
