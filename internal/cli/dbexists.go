package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keel-outreach/keel/internal/db"
)

// createHint says which commands create the database.
const createHint = "run `keel migrate` or `keel serve` first"

// openExisting opens the database rawURL names, refusing to create it: a
// SQLite file that does not exist would otherwise be created empty, and
// the command would answer as if the installation had nothing in it. A
// PostgreSQL database that does not exist is refused by the server; the
// error then says so in one line (docs/surfaces.md#cli).
func openExisting(ctx context.Context, rawURL string) (*db.DB, error) {
	if db.EngineOf(rawURL) == db.SQLite {
		if path, ok := db.SQLiteFile(rawURL); ok {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: no such database; %s (or set KEEL_DATABASE_URL)", path, createHint)
			}
		}
	}
	d, err := db.Open(ctx, rawURL)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
		return nil, fmt.Errorf("PostgreSQL: %s; create it (for example with createdb), then run `keel migrate`", pgErr.Message)
	}
	return d, err
}
