package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
)

// runDNCRemovals prints the entries taken off a workspace's do-not-contact
// list, newest first, with who removed each and when
// (docs/teams.md#who-changed-what).
func runDNCRemovals(ctx context.Context, env Env, args []string) error {
	fs := flags("dnc removals", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel dnc removals --workspace SLUG [--json]")
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := campaign.NewService(d, clock.Real{}).ListDNCRemovals(ctx, d.SQL, w.ID, "", 0)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY ID\tENTRY\tREMOVED\tREMOVED BY\tADDED BY")
	for _, r := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.EntryID, r.Entry, stamp(&r.RemovedAt, "-"), r.RemovedBy, r.CreatedBy)
	}
	return tw.Flush()
}
