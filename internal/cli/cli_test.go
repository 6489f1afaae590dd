package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/unipile/fake"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, Env{
		Getenv: func(k string) string { return env[k] },
		Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""),
	})
	return result{code, out.String(), errOut.String()}
}

func sqliteEnv(t *testing.T) map[string]string {
	return map[string]string{"KEEL_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "keel.db")}
}

func TestUsageErrorsExitTwoWithOneLine(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t)
	cases := [][]string{
		{},
		{"bogus"},
		{"workspace"},
		{"workspace", "create"},
		{"workspace", "create", "Bad Slug"},
		{"accounts", "list", "--nope"},
		{"repair", "split-state", "extra"},
		{"alerts", "frobnicate"},
	}
	for _, args := range cases {
		r := run(t, env, args...)
		if r.code != ExitUsage {
			t.Errorf("keel %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
		if len(args) > 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("keel %v: usage error is not one line: %q", args, r.stderr)
		}
	}
}

func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"KEEL_HEALTH_INTERVAL": "soon", "KEEL_WORKERS": "-1", "KEEL_ADDR": "nowhere",
		"KEEL_PUBLIC_URL": "ftp://x", "KEEL_MIN_SPACING": "0s", "KEEL_OUTBOUND_ALLOW": "10.0.0.0/33",
	} {
		env := sqliteEnv(t)
		env[name] = value
		r := run(t, env, "migrate")
		if r.code == ExitOK || !strings.Contains(r.stderr, name) {
			t.Errorf("%s=%q: exit %d, stderr %q", name, value, r.code, r.stderr)
		}
	}
	if r := run(t, sqliteEnv(t), "worker"); r.code != ExitUsage || !strings.Contains(r.stderr, "UNIPILE_DSN") {
		t.Errorf("keel worker without a provider must be refused naming UNIPILE_DSN: %+v", r)
	}
	env := sqliteEnv(t)
	env["UNIPILE_DSN"] = "api1.unipile.com:13443"
	env["UNIPILE_API_KEY"] = "k"
	if r := run(t, env, "migrate"); r.code == ExitOK || !strings.Contains(r.stderr, "KEEL_WEBHOOK_SECRET") {
		t.Errorf("a DSN without webhook secret must be refused naming KEEL_WEBHOOK_SECRET: %+v", r)
	}
}

func TestWorkspaceAccountsAlertsRepair(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t)
	if r := run(t, env, "migrate"); r.code != ExitOK || !strings.Contains(r.stdout, "applied migrations") {
		t.Fatalf("migrate: %+v", r)
	}
	if r := run(t, env, "migrate"); r.code != ExitOK || !strings.Contains(r.stdout, "schema is current") {
		t.Fatalf("second migrate must be a no-op: %+v", r)
	}
	r := run(t, env, "workspace", "create", "acme")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != ExitOK || !strings.HasPrefix(lines[len(lines)-1], "ws_") {
		t.Fatalf("workspace create must print the id alone on the last line: %+v", r)
	}
	if r := run(t, env, "workspace", "create", "acme"); r.code != ExitFailure {
		t.Fatalf("duplicate workspace: %+v", r)
	}
	r = run(t, env, "accounts", "list", "--workspace", "acme", "--json")
	var accounts []account.Account
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &accounts) != nil || len(accounts) != 0 {
		t.Fatalf("accounts list --json: %+v", r)
	}
	// An account's pacing, pending cap and withdrawals show in both
	// outputs (docs/sending.md#pending-invitations).
	d, err := db.Open(context.Background(), env["KEEL_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SQL.Exec(`INSERT INTO linkedin_accounts (id, workspace_id, provider_account_id, name, status, tier, timezone,
		created_at, updated_at, pacing_spread, pacing_min_gap_seconds, pacing_max_gap_seconds,
		cap_invite_pending, cap_withdraw_daily, withdraw_after_days)
		SELECT 'acc_cli', id, 'p-cli', 'Grace', 'connected', 'free', 'UTC', created_at, created_at, $1, 90, 240, 650, 30, 28
		FROM workspaces WHERE slug = 'acme'`, false); err != nil {
		t.Fatal(err)
	}
	d.Close()
	r = run(t, env, "accounts", "list", "--workspace", "acme", "--json")
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &accounts) != nil || len(accounts) != 1 ||
		accounts[0].Pacing != (account.Pacing{MinGapSeconds: 90, MaxGapSeconds: 240}) ||
		accounts[0].Caps.InvitePending != 650 || accounts[0].Caps.WithdrawDaily != 30 || accounts[0].WithdrawAfterDays != 28 ||
		!strings.Contains(r.stdout, `"invite_pending": 650`) || !strings.Contains(r.stdout, `"withdraw_after_days": 28`) {
		t.Fatalf("accounts list --json with pacing and pending settings: %+v", r)
	}
	if r = run(t, env, "accounts", "list", "--workspace", "acme"); r.code != ExitOK ||
		!strings.Contains(r.stdout, "PACING") || !strings.Contains(r.stdout, "90-240s") || strings.Contains(r.stdout, "spread") ||
		!strings.Contains(r.stdout, "PENDING CAP") || !strings.Contains(r.stdout, "WITHDRAW AFTER") ||
		!regexp.MustCompile(`90-240s\s+650\s+28d \(30/day\)`).MatchString(r.stdout) {
		t.Fatalf("accounts list with pacing and pending settings: %+v", r)
	}
	if d, err = db.Open(context.Background(), env["KEEL_DATABASE_URL"]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SQL.Exec(`UPDATE linkedin_accounts SET withdraw_after_days = 0 WHERE id = 'acc_cli'`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if r = run(t, env, "accounts", "list", "--workspace", "acme"); r.code != ExitOK ||
		!regexp.MustCompile(`650\s+never`).MatchString(r.stdout) {
		t.Fatalf("accounts list, never withdrawing: %+v", r)
	}
	if r := run(t, env, "accounts", "list", "--workspace", "nope"); r.code != ExitFailure {
		t.Fatalf("unknown workspace: %+v", r)
	}
	r = run(t, env, "repair", "split-state", "--json")
	var rep struct {
		Applied  bool  `json:"applied"`
		Findings []any `json:"findings"`
	}
	if r.code != ExitOK || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Applied || len(rep.Findings) != 0 {
		t.Fatalf("repair dry run on a clean database: %+v", r)
	}
	if r := run(t, env, "alerts", "list", "--open", "--json"); r.code != ExitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("alerts list: %+v", r)
	}
}

func TestAccountsSyncIsSynchronous(t *testing.T) {
	t.Parallel()
	srv := fake.New(fake.Options{})
	ok1 := srv.AddAccount(fake.AccountSpec{Name: "One"})
	ok2 := srv.AddAccount(fake.AccountSpec{Name: "Two"})
	creds := srv.AddAccount(fake.AccountSpec{Name: "Three", Status: "CREDENTIALS"})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	env := sqliteEnv(t)
	migrate(t, env)
	env["UNIPILE_DSN"] = srv.URL()
	env["UNIPILE_API_KEY"] = srv.APIKey()
	env["KEEL_WEBHOOK_SECRET"] = "s3cret-for-tests"
	if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
		t.Fatal(r)
	}
	if r := run(t, env, "accounts", "sync"); r.code != ExitUsage {
		t.Fatalf("sync without --workspace: %+v", r)
	}
	if r := run(t, env, "accounts", "sync", "--workspace", "acme"); r.code != ExitOK || !strings.Contains(r.stdout, "created 3") {
		t.Fatalf("sync: %+v", r)
	}
	r := run(t, env, "accounts", "list", "--workspace", "acme", "--json")
	var list []account.Account
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	got := map[string]account.Status{}
	for _, a := range list {
		got[a.ProviderAccountID] = a.Status
	}
	if got[ok1] != account.StatusConnected || got[ok2] != account.StatusConnected || got[creds] == account.StatusConnected || len(got) != 3 {
		t.Fatalf("statuses after sync: %v", got)
	}
	if r := run(t, env, "accounts", "sync", "--workspace", "acme"); r.code != ExitOK || !strings.Contains(r.stdout, "existing 3") {
		t.Fatalf("second sync must create nothing: %+v", r)
	}
}

func TestUserCreateReadsThePasswordFromStdin(t *testing.T) {
	t.Parallel()
	env := sqliteEnv(t)
	migrate(t, env)
	if r := run(t, env, "workspace", "create", "acme"); r.code != ExitOK {
		t.Fatal(r)
	}
	runIn := func(stdin string, args ...string) result {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, Env{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin)})
		return result{code, out.String(), errOut.String()}
	}
	if r := runIn("short\n", "user", "create", "--workspace", "acme", "--email", "ops@example.com"); r.code != ExitFailure || !strings.Contains(r.stderr, "too short") {
		t.Fatalf("short password: %+v", r)
	}
	r := runIn("correct horse battery staple\n", "user", "create", "--workspace", "acme", "--email", "Ops@Example.com")
	if r.code != ExitOK || !strings.HasPrefix(strings.TrimSpace(r.stdout), "usr_") {
		t.Fatalf("user create: %+v", r)
	}
	if r := runIn("correct horse battery staple\n", "user", "create", "--workspace", "acme", "--email", "ops@example.com"); r.code != ExitFailure {
		t.Fatalf("duplicate email: %+v", r)
	}
	if r := runIn("", "user", "create", "--workspace", "acme"); r.code != ExitUsage {
		t.Fatalf("missing --email: %+v", r)
	}
}
