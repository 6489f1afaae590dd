package cli

import (
	"context"

	"github.com/keel-outreach/keel/internal/app"
	"github.com/keel-outreach/keel/internal/clock"
)

// runWorker runs the workers only, for scaling out on PostgreSQL.
func runWorker(ctx context.Context, env Env, args []string) error {
	fs := flags("worker", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if cfg.Workers == 0 {
		return usagef("KEEL_WORKERS=0 leaves a worker process nothing to do")
	}
	a, err := app.Open(ctx, cfg, app.Options{Logger: logger(env, cfg), Out: env.Stdout, Clock: clock.Real{}, WorkerOnly: true})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
