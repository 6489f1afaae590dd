package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFS embed.FS

// AccountStateConstraints are the constraints a PostgreSQL database restored
// from before them may carry NOT VALID until `keel repair split-state`.
var AccountStateConstraints = []string{
	"linkedin_accounts_connected_iff_not_disconnected_chk",
	"linkedin_accounts_disconnected_by_chk",
	"linkedin_accounts_no_split_state_chk",
}

// MigrateReport says what a migration run did.
type MigrateReport struct {
	// Applied lists the versions applied by this run, in order.
	Applied []int64
	// Version is the schema version after the run.
	Version int64
	// Validated lists constraints this run validated (PostgreSQL upgrade path).
	Validated []string
	// NotValid lists constraints still NOT VALID because rows break them;
	// the operator must run the repair.
	NotValid []string
}

// Warnings are the lines an operator must read after migrating.
func (r MigrateReport) Warnings() []string {
	var out []string
	for _, name := range r.NotValid {
		out = append(out, fmt.Sprintf(
			"constraint %s is NOT VALID: existing rows break it; run `keel repair split-state --apply`, then `keel migrate`", name))
	}
	return out
}

// MigrationFiles returns engine e's embedded migration files; the test
// helpers read them to build migrated test schemas without a round trip per
// statement.
func MigrationFiles(e Engine) (fs.FS, error) {
	sub, err := fs.Sub(migrationFS, "migrations/"+string(e))
	if err != nil {
		return nil, fmt.Errorf("loading embedded migrations: %w", err)
	}
	return sub, nil
}

func (d *DB) provider() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if d.Engine == Postgres {
		dialect = goose.DialectPostgres
	}
	sub, err := MigrationFiles(d.Engine)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, d.SQL, sub)
	if err != nil {
		return nil, fmt.Errorf("preparing migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending embedded migration (a no-op when none is
// pending) and, on PostgreSQL, validates account-state constraints that an
// upgrade left NOT VALID once no row breaks them any more.
func (d *DB) Migrate(ctx context.Context) (MigrateReport, error) {
	return d.MigrateTo(ctx, 0)
}

// MigrateTo is Migrate stopping at version (0 means the latest). Tests use
// it to build databases as they were before a migration.
func (d *DB) MigrateTo(ctx context.Context, version int64) (MigrateReport, error) {
	var rep MigrateReport
	p, err := d.provider()
	if err != nil {
		return rep, err
	}
	var results []*goose.MigrationResult
	if version == 0 {
		results, err = p.Up(ctx)
	} else {
		results, err = p.UpTo(ctx, version)
	}
	if err != nil {
		return rep, fmt.Errorf("applying migrations: %w", err)
	}
	for _, r := range results {
		rep.Applied = append(rep.Applied, r.Source.Version)
	}
	if rep.Version, err = p.GetDBVersion(ctx); err != nil {
		return rep, fmt.Errorf("reading schema version: %w", err)
	}
	if d.Engine == Postgres {
		if err := d.validateConstraints(ctx, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Pending reports whether migrations remain to be applied; readiness uses it.
func (d *DB) Pending(ctx context.Context) (bool, error) {
	p, err := d.provider()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("checking pending migrations: %w", err)
	}
	return pending, nil
}

// NotValidConstraints lists the account-state constraints PostgreSQL holds
// NOT VALID (always none on SQLite).
func (d *DB) NotValidConstraints(ctx context.Context) ([]string, error) {
	if d.Engine != Postgres {
		return nil, nil
	}
	rows, err := d.SQL.QueryContext(ctx, `
		SELECT c.conname FROM pg_constraint c
		  JOIN pg_class t ON t.oid = c.conrelid
		 WHERE t.relname = 'linkedin_accounts' AND t.relnamespace = current_schema()::regnamespace
		   AND NOT c.convalidated
		 ORDER BY c.conname`)
	if err != nil {
		return nil, fmt.Errorf("listing NOT VALID constraints: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("listing NOT VALID constraints: %w", err)
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// validateConstraints tries VALIDATE CONSTRAINT on each NOT VALID
// account-state constraint. A constraint that rows still break stays NOT
// VALID and is reported, not treated as a failure: the repair fixes it.
func (d *DB) validateConstraints(ctx context.Context, rep *MigrateReport) error {
	names, err := d.NotValidConstraints(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		known := false
		for _, k := range AccountStateConstraints {
			known = known || k == name
		}
		if !known {
			continue
		}
		_, err := d.SQL.ExecContext(ctx, `ALTER TABLE linkedin_accounts VALIDATE CONSTRAINT `+name)
		switch {
		case err == nil:
			rep.Validated = append(rep.Validated, name)
		case strings.Contains(err.Error(), "violated by some row") || ViolatesConstraint(err, name):
			rep.NotValid = append(rep.NotValid, name)
		default:
			return fmt.Errorf("validating constraint %s: %w", name, err)
		}
	}
	return nil
}
