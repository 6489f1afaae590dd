package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/keel-outreach/keel/internal/db"
	"github.com/keel-outreach/keel/internal/db/dbtest"
)

// TestPoolSize: OpenWith raises the PostgreSQL pool to PoolConns when the
// URL leaves its size to pgx, and keeps an operator's pool_max_conns as
// given, smaller or not (docs/operations.md#connections).
func TestPoolSize(t *testing.T) {
	t.Parallel()
	base := dbtest.PostgresURL(t)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for _, tc := range []struct {
		name string
		url  string
		opts db.OpenOptions
		want int32
	}{
		{"raised to the option when the URL is silent", base, db.OpenOptions{PoolConns: 37}, 37},
		{"the URL's size kept when smaller", base + sep + "pool_max_conns=3", db.OpenOptions{PoolConns: 37}, 3},
		{"the URL's size kept when larger", base + sep + "pool_max_conns=41", db.OpenOptions{PoolConns: 37}, 41},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := db.OpenWith(context.Background(), tc.url, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if got := d.Pool.Config().MaxConns; got != tc.want {
				t.Fatalf("pool size %d, want %d", got, tc.want)
			}
			if got := d.SQL.Stats().MaxOpenConnections; got != int(tc.want) {
				t.Fatalf("database/sql's limit %d, want %d", got, tc.want)
			}
		})
	}
}
