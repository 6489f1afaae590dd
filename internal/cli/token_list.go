package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/token"
)

// runTokenList prints a workspace's API tokens, never a secret or hash.
func runTokenList(ctx context.Context, env Env, args []string) error {
	fs := flags("token list", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel token list --workspace SLUG [--json]")
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := token.List(ctx, d.SQL, w.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	now := clock.Real{}.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tLAST USED\tEXPIRES\tSTATE")
	for _, t := range list {
		name := t.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, name, t.Role, stamp(&t.CreatedAt, "-"), stamp(t.LastUsedAt, "never"),
			stamp(t.ExpiresAt, "never"), t.State(now))
	}
	return tw.Flush()
}
