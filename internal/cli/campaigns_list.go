package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

// runCampaignsList prints campaigns, all workspaces' unless --workspace
// names one. A paused campaign shows its reason beside its status, so the
// list answers "why is it not sending?" at a glance.
func runCampaignsList(ctx context.Context, env Env, args []string) error {
	fs := flags("campaigns list", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	_, d, err := openNoArgs(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := campaign.ListOptions{}
	if *slug != "" {
		w, err := workspace.BySlug(ctx, d.SQL, *slug)
		if err != nil {
			return err
		}
		opts.WorkspaceID = w.ID
	}
	list, err := campaign.NewService(d, clock.Real{}).List(ctx, d.SQL, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTEPS\tSENDERS\tCREATED\tNAME")
	for _, c := range list {
		status := string(c.Status)
		if c.PausedReason != "" {
			status += " (" + string(c.PausedReason) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", c.ID, status, len(c.Steps), len(c.AccountIDs),
			c.CreatedAt.Format("2006-01-02 15:04:05Z"), c.Name)
	}
	return tw.Flush()
}
