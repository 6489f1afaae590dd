package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/workspace"
)

// runAccountsList prints LinkedIn accounts with their tags, all
// workspaces' unless --workspace names one; --tag keeps those carrying it.
func runAccountsList(ctx context.Context, env Env, args []string) error {
	fs := flags("accounts list", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	tag := fs.String("tag", "", "only accounts carrying this tag")
	_, d, err := openNoArgs(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := account.ListOptions{}
	if *tag != "" {
		t, err := account.NormalizeTag(*tag)
		if err != nil {
			return usagef("--tag %q: %v", *tag, err)
		}
		opts.Tag = t
	}
	if *slug != "" {
		w, err := workspace.BySlug(ctx, d.SQL, *slug)
		if err != nil {
			return err
		}
		opts.WorkspaceID = w.ID
	}
	list, err := account.NewService(d, clock.Real{}).List(ctx, d.SQL, opts)
	if err == nil {
		err = account.LoadTags(ctx, d.SQL, list)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTRIKES\tPROVIDER ID\tNAME\tPACING\tPENDING CAP\tWITHDRAW AFTER\tTAGS\tLAST ERROR")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.ID, pill(a), a.Strikes, a.ProviderAccountID, a.Name,
			pacingText(a.Pacing), a.Caps.InvitePending, withdrawText(a), tagsText(a.Tags), a.LastError)
	}
	return tw.Flush()
}

// withdrawText is when the account's pending invitations are withdrawn
// and at most how many a day, in one column
// (docs/sending.md#withdrawals).
func withdrawText(a account.Account) string {
	if a.WithdrawAfterDays == 0 {
		return "never"
	}
	return fmt.Sprintf("%dd (%d/day)", a.WithdrawAfterDays, a.Caps.WithdrawDaily)
}

// pacingText is an account's pacing in one column: the gap range, and
// whether the day's sends are spread over the window
// (docs/sending.md#pacing).
func pacingText(p account.Pacing) string {
	s := fmt.Sprintf("%d-%ds", p.MinGapSeconds, p.MaxGapSeconds)
	if p.SpreadOverWindow {
		return s + " spread"
	}
	return s
}

// pill is the status as the UI shows it.
func pill(a account.Account) string {
	if a.ReconnectNeeded() {
		return string(a.Status) + " (reconnect needed)"
	}
	return string(a.Status)
}
