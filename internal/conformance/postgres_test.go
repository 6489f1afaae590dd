package conformance

import (
	"context"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	dbtest.PostgresURL(t) // skips (or fails under KEEL_REQUIRE_POSTGRES=1) without a database
	exerciseAll(context.Background(), t, func(t *testing.T, opts dbtest.Options) *db.DB { return dbtest.Open(t, db.Postgres, opts) })
}
