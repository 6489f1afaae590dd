package dbtest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/keel-outreach/keel/internal/db"
)

// Most tests want the latest schema. Running the migrations for each of them
// is the largest part of a test's cost (one round trip per statement on
// PostgreSQL, and a slow pure-Go engine under -race on SQLite), so a fully
// migrated database is built once per test binary and reused: SQLite copies
// a migrated file, PostgreSQL runs all migrations as one script and records
// their versions the way the migrator does. Partial migrations (MigrateTo)
// keep the ordinary path.

var sqliteTemplate struct {
	once sync.Once
	data []byte
	err  error
}

// migratedSQLiteFile returns the bytes of a fully migrated SQLite database.
func migratedSQLiteFile() ([]byte, error) {
	sqliteTemplate.once.Do(func() {
		sqliteTemplate.data, sqliteTemplate.err = buildSQLiteTemplate()
	})
	return sqliteTemplate.data, sqliteTemplate.err
}

func buildSQLiteTemplate() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "keel-dbtest-")
	if err != nil {
		return nil, fmt.Errorf("creating template directory: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keel.db")
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite template: %w", err)
	}
	if _, err := d.Migrate(ctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("migrating SQLite template: %w", err)
	}
	// Fold the write-ahead log into the main file so the file alone is the
	// whole database.
	if _, err := d.SQL.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("checkpointing SQLite template: %w", err)
	}
	if err := d.Close(); err != nil {
		return nil, fmt.Errorf("closing SQLite template: %w", err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		return nil, fmt.Errorf("SQLite template still has %d bytes of write-ahead log", st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading SQLite template: %w", err)
	}
	return data, nil
}

var postgresTemplate struct {
	once   sync.Once
	script string
	err    error
}

// migratedPostgresScript returns every PostgreSQL migration's up section as
// one script, followed by the rows the migrator writes for them.
func migratedPostgresScript() (string, error) {
	postgresTemplate.once.Do(func() {
		postgresTemplate.script, postgresTemplate.err = buildPostgresScript()
	})
	return postgresTemplate.script, postgresTemplate.err
}

func buildPostgresScript() (string, error) {
	files, err := db.MigrationFiles(db.Postgres)
	if err != nil {
		return "", err
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return "", fmt.Errorf("listing migrations: %w", err)
	}
	sort.Strings(names)
	var script strings.Builder
	var versions []string
	for _, name := range names {
		digits, _, ok := strings.Cut(name, "_")
		if !ok {
			return "", fmt.Errorf("migration %s: no version prefix", name)
		}
		version, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return "", fmt.Errorf("migration %s: version: %w", name, err)
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return "", fmt.Errorf("reading migration %s: %w", name, err)
		}
		up, err := upSection(string(body))
		if err != nil {
			return "", fmt.Errorf("migration %s: %w", name, err)
		}
		script.WriteString(up)
		script.WriteString("\n;\n")
		versions = append(versions, fmt.Sprintf("(%d, true)", version))
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("no PostgreSQL migrations found")
	}
	script.WriteString("INSERT INTO goose_db_version (version_id, is_applied) VALUES ")
	script.WriteString(strings.Join(versions, ", "))
	script.WriteString(";\n")
	return script.String(), nil
}

// upSection returns the text between "-- +goose Up" and "-- +goose Down".
// Statement markers are plain comments to the server, which parses the
// script itself; any other annotation (such as NO TRANSACTION) would change
// how a migration runs, so it is refused rather than ignored.
func upSection(body string) (string, error) {
	var out strings.Builder
	inUp := false
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(trimmed, "-- +goose "); ok {
			switch rest {
			case "Up":
				inUp = true
			case "Down":
				inUp = false
			case "StatementBegin", "StatementEnd":
			default:
				return "", fmt.Errorf("unsupported migration annotation %q", trimmed)
			}
			continue
		}
		if inUp {
			out.WriteString(line)
			out.WriteString("\n")
		}
	}
	return out.String(), nil
}

// migratePostgresFast brings an empty schema to the latest version with one
// round trip for the schema itself. The migrator creates its version table
// (it does so when asked whether anything is pending), so the table is
// exactly its own.
func migratePostgresFast(ctx context.Context, d *db.DB) error {
	script, err := migratedPostgresScript()
	if err != nil {
		return err
	}
	if _, err := d.Pending(ctx); err != nil {
		return fmt.Errorf("creating the migration version table: %w", err)
	}
	if _, err := d.SQL.ExecContext(ctx, script); err != nil {
		return fmt.Errorf("running the migration script: %w", err)
	}
	return nil
}
