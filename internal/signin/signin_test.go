package signin_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
	"github.com/keel-outreach/keel/internal/signin"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/workspace"
)

var start = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

func fail(t *testing.T, d *db.DB, key, source string, at time.Time) {
	t.Helper()
	a, err := signin.Begin(context.Background(), d, key, source, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Failed(context.Background(), at); err != nil {
		t.Fatal(err)
	}
}

func lockedScope(err error) signin.Scope {
	var l *signin.LockedError
	if errors.As(err, &l) {
		return l.Scope
	}
	return ""
}

func TestLimitsPerAccountAndPerSource(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		acct := signin.AccountKey("acme", "ann@example.com")
		// Account: five failures from five addresses lock it for everyone.
		for i := 0; i < signin.AccountFailures; i++ {
			fail(t, d, acct, "10.0.0."+string(rune('1'+i)), start.Add(time.Duration(i)*time.Minute))
		}
		_, err := signin.Begin(ctx, d, acct, "10.9.9.9", start.Add(5*time.Minute))
		var l *signin.LockedError
		if !errors.As(err, &l) || l.Scope != signin.ScopeAccount || !l.Until.Equal(start.Add(signin.Window)) {
			t.Fatalf("locked account: %v", err)
		}
		// Another account from the same addresses is open.
		if _, err := signin.Begin(ctx, d, signin.AccountKey("acme", "bob@example.com"), "10.0.0.1", start.Add(5*time.Minute)); err != nil {
			t.Fatalf("another account: %v", err)
		}
		// The keying ignores case and surrounding spaces.
		if signin.AccountKey(" ACME ", "Ann@Example.com ") != acct {
			t.Fatal("account key depends on case or spaces")
		}

		// Source: twenty failures on twenty emails lock that address only.
		src := "192.0.2.7"
		for i := 0; i < signin.SourceFailures; i++ {
			fail(t, d, signin.AccountKey("acme", "x"+strings.Repeat("y", i)+"@example.com"), src, start)
		}
		if got := lockedScope(mustBegin(ctx, d, signin.AccountKey("acme", "new@example.com"), src, start)); got != signin.ScopeSource {
			t.Fatalf("after %d failures from one address: %q", signin.SourceFailures, got)
		}
		if got := lockedScope(mustBegin(ctx, d, signin.AccountKey("acme", "new@example.com"), "192.0.2.8", start)); got != "" {
			t.Fatalf("another address is held back: %q", got)
		}
		// The window frees the address.
		if got := lockedScope(mustBegin(ctx, d, signin.AccountKey("acme", "new@example.com"), src, start.Add(signin.Window))); got != "" {
			t.Fatalf("after the window: %q", got)
		}
	})
}

func mustBegin(ctx context.Context, d *db.DB, key, source string, at time.Time) error {
	_, err := signin.Begin(ctx, d, key, source, at)
	return err
}

// Concurrent attempts, as from several processes, never check more
// passwords than the limit: each reserves its row before counting.
func TestConcurrentAttemptsStayWithinTheLimit(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		key := signin.AccountKey("acme", "ann@example.com")
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			passed int
		)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := signin.Begin(context.Background(), d, key, "198.51.100.1", start)
				if lockedScope(err) != "" {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				passed++
				mu.Unlock()
				if err := a.Failed(context.Background(), start); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if passed > signin.AccountFailures || passed == 0 {
			t.Fatalf("%d of 16 concurrent attempts got to check a password, want 1..%d", passed, signin.AccountFailures)
		}
	})
}

func TestUnlockAndSuccessClearTheAccount(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		key := signin.AccountKey("acme", "ann@example.com")
		for i := 0; i < signin.AccountFailures; i++ {
			fail(t, d, key, "203.0.113.1", start)
		}
		if n, err := signin.Unlock(ctx, d.SQL, key); err != nil || n != signin.AccountFailures {
			t.Fatalf("unlock: %d %v", n, err)
		}
		for i := 0; i < signin.AccountFailures-1; i++ {
			fail(t, d, key, "203.0.113.1", start)
		}
		a, err := signin.Begin(ctx, d, key, "203.0.113.1", start)
		if err != nil {
			t.Fatalf("after unlock: %v", err)
		}
		if err := a.Succeeded(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.SQL.QueryRow(`SELECT count(*) FROM login_failures`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a successful sign-in left %d failures (%v)", n, err)
		}
	})
}

func TestSourceKeysIPv6ByPrefix(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"127.0.0.1:5555":                 "127.0.0.1",
		"[::ffff:10.1.2.3]:80":           "10.1.2.3",
		"[2001:db8:1:2:aaaa::1]:443":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9%eth0]:44": "2001:db8:1:2::/64",
		"":                               "unknown",
	} {
		if got := signin.Source(in); got != want {
			t.Errorf("Source(%q) = %q, want %q", in, got, want)
		}
	}
}

// Raw SQL cannot store a session that crosses workspaces, a session id in
// clear, or a malformed failure row.
func TestDatabaseRefusesBrokenRows(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := clock.Normalize(start)
		a, err := workspace.Create(ctx, d.SQL, "a", "A", now)
		if err != nil {
			t.Fatal(err)
		}
		b, err := workspace.Create(ctx, d.SQL, "b", "B", now)
		if err != nil {
			t.Fatal(err)
		}
		u, err := user.Create(ctx, d.SQL, a.ID, "ann@example.com", "a long enough password", now)
		if err != nil {
			t.Fatal(err)
		}
		hash := strings.Repeat("ab", 32)
		csrf := strings.Repeat("c", 43)
		ins := `INSERT INTO web_sessions (id_hash, user_id, workspace_id, csrf, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $5, $6)`
		later := now.Add(time.Hour)
		for name, args := range map[string][]any{
			"user of another workspace": {hash, u.ID, b.ID, csrf, now, later},
			"unknown user":              {hash, "usr_nope", a.ID, csrf, now, later},
			"user without workspace":    {hash, u.ID, nil, csrf, now, later},
			"id in clear":               {"a-raw-cookie-value", u.ID, a.ID, csrf, now, later},
			"short csrf":                {hash, u.ID, a.ID, "abc", now, later},
			"expires before it starts":  {hash, u.ID, a.ID, csrf, now, now.Add(-time.Second)},
		} {
			if _, err := d.SQL.ExecContext(ctx, ins, args...); err == nil {
				t.Errorf("%s: stored", name)
			}
		}
		if _, err := d.SQL.ExecContext(ctx, ins, hash, u.ID, a.ID, csrf, now, later); err != nil {
			t.Fatalf("a valid session: %v", err)
		}
		for name, args := range map[string][]any{
			"account in clear": {"ann@example.com", "10.0.0.1"},
			"empty source":     {strings.Repeat("ab", 32), ""},
		} {
			if _, err := d.SQL.ExecContext(ctx, `INSERT INTO login_failures (account_key, source, at) VALUES ($1, $2, $3)`,
				args[0], args[1], now); err == nil {
				t.Errorf("failure row with %s: stored", name)
			}
		}
	})
}
