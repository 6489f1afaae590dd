// Package dbtest gives tests fresh, migrated Keel databases on both engines:
// a SQLite file in a temporary directory, and a PostgreSQL schema of its own
// inside the database KEEL_TEST_POSTGRES_URL names (dropped afterwards).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/keel-outreach/keel/internal/db"
)

// EnvPostgresURL names the PostgreSQL database tests may use.
const EnvPostgresURL = "KEEL_TEST_POSTGRES_URL"

// EnvRequirePostgres, when "1", turns a missing PostgreSQL into a failure.
const EnvRequirePostgres = "KEEL_REQUIRE_POSTGRES"

// Options adjusts Open.
type Options struct {
	// MigrateTo stops migrations at this version; 0 applies all, -1 none.
	MigrateTo int64
	// Durable keeps PostgreSQL's default synchronous commit; benchmarks set
	// it so their figures match a production configuration.
	Durable bool
}

// PostgresURL returns the test database URL, or skips the test (fails it
// under KEEL_REQUIRE_POSTGRES=1) when none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("%s is not set but %s=1: PostgreSQL tests must run", EnvPostgresURL, EnvRequirePostgres)
		}
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://localhost/keel_test) to run them", EnvPostgresURL)
	}
	return u
}

// Engines lists the engines a conformance test runs on.
var Engines = []db.Engine{db.SQLite, db.Postgres}

// ForEach runs fn as a subtest per engine, each with a fresh database.
func ForEach(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, e, Options{}))
		})
	}
}

// Open returns a fresh database on engine e, closed (and on PostgreSQL
// dropped) when the test ends.
func Open(t testing.TB, e db.Engine, opts Options) *db.DB {
	t.Helper()
	ctx := context.Background()
	// The latest schema comes from a template built once per test binary
	// (see template.go); partial migrations run the migrator.
	fromTemplate := opts.MigrateTo == 0
	var rawURL string
	switch e {
	case db.SQLite:
		path := filepath.Join(t.TempDir(), "keel.db")
		if fromTemplate {
			data, err := migratedSQLiteFile()
			if err != nil {
				t.Fatalf("building the migrated SQLite template: %v", err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatalf("copying the migrated SQLite template: %v", err)
			}
		}
		rawURL = "sqlite:" + path
	case db.Postgres:
		rawURL = NewPostgresSchema(t, opts.Durable)
	default:
		t.Fatalf("unknown engine %q", e)
	}
	d, err := db.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("opening %s test database: %v", e, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	switch {
	case fromTemplate && e == db.SQLite:
		// Already migrated: the file is a copy of the template.
	case fromTemplate && e == db.Postgres:
		if err := migratePostgresFast(ctx, d); err != nil {
			t.Fatalf("migrating %s test database: %v", e, err)
		}
	case opts.MigrateTo > 0:
		if _, err := d.MigrateTo(ctx, opts.MigrateTo); err != nil {
			t.Fatalf("migrating %s test database: %v", e, err)
		}
	}
	return d
}

// NewPostgresSchema creates an empty schema for one test and returns a URL
// whose search_path points at it; the schema is dropped at cleanup.
func NewPostgresSchema(t testing.TB, durable bool) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "keel_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", EnvPostgresURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing %s: %v", EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Test databases are thrown away; skipping the commit flush keeps the
	// large property tests fast without changing any semantics they test.
	if !durable {
		q.Set("synchronous_commit", "off")
	}
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "12")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
