package db_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
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
			d := dbtest.Open(t, e, dbtest.Options{})
			var got string
			var err error
			if e == db.Postgres {
				got, err = dumpPostgres(context.Background(), d.SQL)
			} else {
				got, err = dumpSQLite(context.Background(), d.SQL)
			}
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
					path, dbtest.EnvPostgresURL, firstDifference(string(want), got))
			}
		})
	}
}

// firstDifference shows the first line where want and got part.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d\n\tsnapshot:   %s\n\tmigrations: %s", i+1, wl, gl)
		}
	}
	return "(none)"
}

const gooseTable = "goose_db_version"

// dumpSQLite lists the schema objects SQLite keeps, in a fixed order.
func dumpSQLite(ctx context.Context, q *sql.DB) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT type, name, tbl_name, sql FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> $1 AND sql IS NOT NULL
		ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 ELSE 3 END, tbl_name, name`, gooseTable)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	b.WriteString("-- The schema Keel's SQLite migrations produce; checked by TestSchemaSnapshot.\n")
	for rows.Next() {
		var typ, name, table, text string
		if err := rows.Scan(&typ, &name, &table, &text); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n-- %s %s (on %s)\n%s;\n", typ, name, table, strings.TrimSpace(text))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// dumpPostgres renders the current schema as DDL-like text: functions,
// tables with their columns, constraints, indexes, triggers and views,
// each in name order and without the (per-test) schema name.
func dumpPostgres(ctx context.Context, q *sql.DB) (string, error) {
	var schema string
	if err := q.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("-- The schema Keel's PostgreSQL migrations produce; checked by TestSchemaSnapshot.\n")

	section := func(title, query string, render func(cols []string) string) error {
		rows, err := q.QueryContext(ctx, query, schema, gooseTable)
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		defer rows.Close()
		fmt.Fprintf(&b, "\n-- %s\n", title)
		types, err := rows.ColumnTypes()
		if err != nil {
			return err
		}
		for rows.Next() {
			cols := make([]sql.NullString, len(types))
			dest := make([]any, len(cols))
			for i := range cols {
				dest[i] = &cols[i]
			}
			if err := rows.Scan(dest...); err != nil {
				return fmt.Errorf("%s: %w", title, err)
			}
			vals := make([]string, len(cols))
			for i, c := range cols {
				vals[i] = strings.ReplaceAll(c.String, schema+".", "")
			}
			b.WriteString(render(vals))
		}
		return rows.Err()
	}

	if err := section("types", `SELECT t.typname, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
		WHERE n.nspname = $1 AND t.typname <> $2 GROUP BY t.typname ORDER BY t.typname`,
		func(c []string) string { return fmt.Sprintf("CREATE TYPE %s AS ENUM (%s);\n", c[0], c[1]) }); err != nil {
		return "", err
	}
	if err := section("functions", `SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.proname <> $2 ORDER BY 1, 2`,
		func(c []string) string { return strings.TrimSpace(c[2]) + ";\n\n" }); err != nil {
		return "", err
	}
	if err := section("tables", `SELECT c.relname,
			string_agg('  ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
				|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
				|| CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
				        WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
				|| CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END,
				E',\n' ORDER BY a.attnum)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2
		GROUP BY c.relname ORDER BY c.relname`,
		func(c []string) string { return fmt.Sprintf("CREATE TABLE %s (\n%s\n);\n", c[0], c[1]) }); err != nil {
		return "", err
	}
	if err := section("constraints", `SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid)
		FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = co.connamespace
		WHERE n.nspname = $1 AND cl.relname <> $2 ORDER BY 1, 2`,
		func(c []string) string {
			return fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s;\n", c[0], c[1], c[2])
		}); err != nil {
		return "", err
	}
	if err := section("indexes", `SELECT tablename, indexname, indexdef FROM pg_indexes
		WHERE schemaname = $1 AND tablename <> $2 ORDER BY 1, 2`,
		func(c []string) string { return c[2] + ";\n" }); err != nil {
		return "", err
	}
	if err := section("triggers", `SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND NOT t.tgisinternal AND c.relname <> $2 ORDER BY 1, 2`,
		func(c []string) string { return c[2] + ";\n" }); err != nil {
		return "", err
	}
	if err := section("views", `SELECT viewname, definition FROM pg_views
		WHERE schemaname = $1 AND viewname <> $2 ORDER BY 1`,
		func(c []string) string { return fmt.Sprintf("CREATE VIEW %s AS\n%s\n", c[0], strings.TrimSpace(c[1])) }); err != nil {
		return "", err
	}
	return b.String(), nil
}
