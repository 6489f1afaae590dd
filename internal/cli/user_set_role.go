package cli

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/user"
)

// runUserSetRole changes a member's role in one workspace; it takes effect
// on their next request, and a workspace keeps at least one owner
// (docs/teams.md#changing-a-role).
func runUserSetRole(ctx context.Context, env Env, args []string) error {
	fs := flags("user set-role", env)
	slug := fs.String("workspace", "", "workspace slug")
	email := fs.String("email", "", "the member's email")
	roleName := fs.String("role", "", "owner, admin, member or viewer")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" || *email == "" || *roleName == "" {
		return usagef("usage: keel user set-role --workspace SLUG --email E --role owner|admin|member|viewer")
	}
	r, err := role.Parse(*roleName)
	if err != nil {
		return usagef("--role: %v", err)
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	before, err := user.ChangeRole(ctx, d, w.ID, *email, r, clock.Real{}.Now())
	if err != nil {
		return err
	}
	if before.Role == r {
		fmt.Fprintf(env.Stdout, "%s is already %s in %s\n", before.Email, r, w.Slug)
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s is now %s in %s (was %s)\n", before.Email, r, w.Slug, before.Role)
	return nil
}
