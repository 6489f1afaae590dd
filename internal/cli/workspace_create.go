package cli

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

// runWorkspaceCreate creates a workspace and prints its id.
func runWorkspaceCreate(ctx context.Context, env Env, args []string) error {
	fs := flags("workspace create", env)
	name := fs.String("name", "", "display name")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel workspace create SLUG")
	}
	if !workspace.ValidSlug(rest[0]) {
		return usagef("invalid workspace slug %q: use lower-case letters, digits and dashes (at most 63)", rest[0])
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	w, err := workspace.Create(ctx, d.SQL, rest[0], *name, clock.Real{}.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, w.ID)
	return nil
}
