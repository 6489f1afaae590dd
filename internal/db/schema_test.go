package db_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/keel-outreach/keel/internal/db/dbtest"
)

var update = flag.Bool("update", false, "rewrite the schema snapshots in schema/ from what the migrations produce")

// TestSchemaSnapshot migrates a fresh database on each engine and compares
// the schema it ends with against the snapshot kept in schema/<engine>.sql,
// so a change to the migrations shows up as a reviewable diff of the
// schema. Run with -update to rewrite the snapshots. Only Keel's own
// migrations are applied here: the job queue's tables are the job queue's
// business and goose's version table is bookkeeping, so neither is kept.
func TestSchemaSnapshot(t *testing.T) {
	for _, e := range dbtest.Engines {
		t.Run(string(e), func(t *testing.T) {
			// The migrator itself, not the tests' reused template.
			d := dbtest.Open(t, e, dbtest.Options{MigrateTo: -1})
			if _, err := d.Migrate(context.Background()); err != nil {
				t.Fatalf("migrating: %v", err)
			}
			got, err := dbtest.SchemaDump(context.Background(), d)
			if err != nil {
				t.Fatalf("dumping the %s schema: %v", e, err)
			}
			path := filepath.Join("schema", string(e)+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatalf("writing %s: %v", path, err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading %s (run the test with -update to create it): %v", path, err)
			}
			if got != string(want) {
				t.Errorf("the migrations no longer produce internal/db/%s; if the change is meant, run\n"+
					"\tgo test ./internal/db -run TestSchemaSnapshot -update\n(with %s set for PostgreSQL) and review the diff.\nfirst difference:\n%s",
					path, dbtest.EnvPostgresURL, dbtest.FirstDifference(string(want), got))
			}
		})
	}
}
