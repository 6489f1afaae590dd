package conformance

import (
	"context"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	exerciseAll(context.Background(), t, func(t *testing.T, opts dbtest.Options) *db.DB { return dbtest.Open(t, db.SQLite, opts) })
}
