package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestStartupLineNamesThePool: on PostgreSQL the start-up line says how
// many connections the process may open (docs/operations.md#connections).
func TestStartupLineNamesThePool(t *testing.T) {
	t.Parallel()
	a, _, _, logs := startSandboxOn(t, dbtest.NewPostgresSchema(t, false), nil)
	if line := fmt.Sprintf(`"db_pool":%d`, a.DB.Pool.Config().MaxConns); !strings.Contains(logs.String(), line) {
		t.Fatalf("the start-up line lacks %s:\n%s", line, logs.String())
	}
}
