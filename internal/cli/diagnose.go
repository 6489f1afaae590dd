package cli

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/diagnose"
)

// runDiagnose answers why a campaign or an account is not sending.
func runDiagnose(kind string) command {
	return func(ctx context.Context, env Env, args []string) error {
		fs := flags("diagnose "+kind, env)
		asJSON := fs.Bool("json", false, "print JSON")
		cfg, rest, err := parse(fs, env, args)
		if err != nil {
			return err
		}
		if len(rest) != 1 {
			return usagef("usage: keel diagnose %s ID [--json]", kind)
		}
		d, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer d.Close()
		c := clock.Real{}
		deps := diagnose.Deps{DB: d, Accounts: account.NewService(d, c), Campaigns: campaign.NewService(d, c), MinSpacing: cfg.MinSpacing}
		var rep diagnose.Report
		if kind == "campaign" {
			rep, err = diagnose.Campaign(ctx, deps, "", rest[0], c.Now())
		} else {
			rep, err = diagnose.Account(ctx, deps, "", rest[0], c.Now())
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env.Stdout, rep)
		}
		if rep.Sending {
			fmt.Fprintln(env.Stdout, "sending: yes")
		} else {
			fmt.Fprintln(env.Stdout, "sending: no")
		}
		for _, f := range rep.Findings {
			line := fmt.Sprintf("[%s] %s: %s", f.Severity, f.Code, f.Message)
			if f.ClearsAt != nil {
				line += " (clears " + f.ClearsAt.Format("2006-01-02 15:04 MST") + ")"
			}
			fmt.Fprintln(env.Stdout, line)
		}
		return nil
	}
}
