package cli

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/db"
)

// runMigrate applies the schema migrations and reports what it did.
func runMigrate(ctx context.Context, env Env, args []string) error {
	fs := flags("migrate", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := app.Migrate(ctx, d)
	if err != nil {
		return err
	}
	if len(rep.Applied) == 0 {
		fmt.Fprintf(env.Stdout, "schema is current (version %d, %s)\n", rep.Version, d.Engine)
	} else {
		fmt.Fprintf(env.Stdout, "applied migrations %v; schema version %d (%s)\n", rep.Applied, rep.Version, d.Engine)
	}
	for _, name := range rep.Validated {
		fmt.Fprintf(env.Stdout, "validated constraint %s\n", name)
	}
	for _, w := range rep.Warnings() {
		fmt.Fprintf(env.Stdout, "warning: %s\n", w)
	}
	return nil
}
