package cli

import (
	"context"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/clock"
)

// runServe runs everything in one process: API, UI, webhooks and workers.
func runServe(ctx context.Context, env Env, args []string) error {
	fs := flags("serve", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	a, err := app.Open(ctx, cfg, app.Options{Logger: logger(env, cfg), Out: env.Stdout, Clock: clock.Real{}})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
