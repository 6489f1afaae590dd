package cli

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/workspace"
)

// runWorkspaceSettings prints a workspace's settings, after changing the
// re-contact cool-off when --recontact-cooloff is given
// (docs/contacts.md#recontact-cooloff).
func runWorkspaceSettings(ctx context.Context, env Env, args []string) error {
	fs := flags("workspace settings", env)
	slug := fs.String("workspace", "", "workspace slug")
	cooloff := fs.String("recontact-cooloff", "", "re-contact cool-off: days (e.g. 30d, 0d) or never")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel workspace settings --workspace SLUG [--recontact-cooloff 30d|never] [--json]")
	}
	var change *workspace.Recontact
	if *cooloff != "" {
		rc, err := workspace.ParseRecontact(*cooloff)
		if err != nil {
			return usagef("%v", err)
		}
		change = &rc
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	if change != nil {
		if err := workspace.SetRecontact(ctx, d.SQL, w.ID, *change); err != nil {
			return err
		}
	}
	s, err := workspace.ReadSettings(ctx, d.SQL, w.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, s)
	}
	fmt.Fprintf(env.Stdout, "workspace          %s (%s)\nrecontact cool-off %s\n", s.Slug, s.ID, s.Recontact)
	return nil
}
