package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
)

// runDNCRemove deletes one entry of a workspace's do-not-contact list.
// Enrollments it ended stay ended (docs/contacts.md#do-not-contact).
func runDNCRemove(ctx context.Context, env Env, args []string) error {
	fs := flags("dnc remove", env)
	slug := fs.String("workspace", "", "workspace slug")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || *slug == "" {
		return usagef("usage: keel dnc remove --workspace SLUG ID")
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	err = campaign.NewService(d, clock.Real{}).RemoveDNC(campaign.WithActor(ctx, "cli"), w.ID, rest[0])
	if errors.Is(err, campaign.ErrDNCNotFound) {
		return fmt.Errorf("no do-not-contact entry %q in workspace %s (keel dnc list --workspace %s lists them)", rest[0], *slug, *slug)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed %s\n", rest[0])
	return nil
}
