package dbtest

import (
	"context"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
)

// catalog lists a schema's definitions in a comparable form.
func catalog(t *testing.T, d *db.DB) []string {
	t.Helper()
	var queries []string
	switch d.Engine {
	case db.SQLite:
		queries = []string{`SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`,
			`SELECT version_id || ' ' || is_applied FROM goose_db_version ORDER BY id`}
	case db.Postgres:
		queries = []string{
			`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
			   FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1`,
			`SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) || ' ' || c.convalidated
			   FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() ORDER BY 1`,
			`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`,
			`SELECT tg.tgname || ' ' || pg_get_triggerdef(tg.oid) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
			   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT tg.tgisinternal ORDER BY 1`,
			`SELECT p.proname || ' ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			   WHERE n.nspname = current_schema() ORDER BY 1`,
			`SELECT version_id || ' ' || is_applied FROM goose_db_version ORDER BY id`,
		}
	}
	// Definitions name the test's own schema; compare without it.
	var schema string
	if d.Engine == db.Postgres {
		if err := d.SQL.QueryRowContext(context.Background(), `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatalf("reading schema name: %v", err)
		}
	}
	var out []string
	for _, q := range queries {
		rows, err := d.SQL.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("reading catalog: %v", err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatalf("reading catalog: %v", err)
			}
			if schema != "" {
				line = strings.ReplaceAll(line, schema+".", "")
			}
			out = append(out, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("reading catalog: %v", err)
		}
		_ = rows.Close()
	}
	return out
}

// TestTemplateMatchesMigrator proves the reused template is the schema the
// migrator builds, and that the migrator sees nothing left to do.
func TestTemplateMatchesMigrator(t *testing.T) {
	t.Parallel()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fast := Open(t, e, Options{})
			slow := Open(t, e, Options{MigrateTo: -1})
			if _, err := slow.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			got, want := catalog(t, fast), catalog(t, slow)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				for i := 0; i < len(got) || i < len(want); i++ {
					var g, w string
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					if g != w {
						t.Fatalf("template and migrator differ at line %d:\n template: %s\n migrator: %s", i, g, w)
					}
				}
			}
			if pending, err := fast.Pending(ctx); err != nil || pending {
				t.Fatalf("pending migrations on the template: %v %v", pending, err)
			}
			rep, err := fast.Migrate(ctx)
			if err != nil || len(rep.Applied) != 0 {
				t.Fatalf("migrating the template applied %v: %v", rep.Applied, err)
			}
		})
	}
}
