package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
)

// runDNCList prints a workspace's do-not-contact list, oldest first.
func runDNCList(ctx context.Context, env Env, args []string) error {
	fs := flags("dnc list", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel dnc list --workspace SLUG [--json]")
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := campaign.NewService(d, clock.Real{}).ListDNC(ctx, d.SQL, w.ID, "", 0)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tENTRY\tREASON\tADDED\tBY")
	for _, e := range list {
		r := e.Reason
		if r == "" {
			r = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Label(), r, stamp(&e.CreatedAt, "-"), e.CreatedBy)
	}
	return tw.Flush()
}
