package app

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestPoolSizedForWorkers: on PostgreSQL a process's pool holds what its
// workers, its scheduler pass and the queue's LISTEN need (PoolConns), not
// pgx's CPU-based default, and its start-up line says the size
// (docs/operations.md#connections).
func TestPoolSizedForWorkers(t *testing.T) {
	t.Parallel()
	// Test schemas carry a pool size of their own; this one leaves it to Keel.
	u, err := url.Parse(dbtest.NewPostgresSchema(t, false))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	a, _, _, logs := startSandboxOn(t, u.String(), nil)
	want := PoolConns(a.Config.Workers)
	if got := int(a.DB.Pool.Config().MaxConns); got != want {
		t.Fatalf("pool of %d connections, want %d for %d workers", got, want, a.Config.Workers)
	}
	if line := fmt.Sprintf(`"db_pool":%d`, want); !strings.Contains(logs.String(), line) {
		t.Fatalf("the start-up line lacks %s:\n%s", line, logs.String())
	}
}
