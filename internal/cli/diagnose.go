package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/diagnose"
	"github.com/keel-outreach/keel/internal/policy"
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
		var c clock.Clock = clock.Real{}
		if env.Clock != nil {
			c = env.Clock
		}
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
		printReport(env.Stdout, rep, c.Now())
		return nil
	}
}

// printReport writes a diagnosis for people: the headline, when the next
// action is due (in the sender's zone and in UTC), then one line per
// finding (docs/surfaces.md#why-isnt-it-sending).
func printReport(w io.Writer, rep diagnose.Report, now time.Time) {
	fmt.Fprintln(w, rep.Headline)
	if rep.NextActionAt != nil {
		fmt.Fprintf(w, "next action: %s\n", bothZones(*rep.NextActionAt, rep.Location(), now))
	} else {
		fmt.Fprintln(w, "next action: none due until a finding below clears")
	}
	for _, f := range rep.Findings {
		line := fmt.Sprintf("[%s] %s: %s", f.Severity, f.Code, f.Message)
		if f.ClearsAt != nil {
			line += " (clears " + bothZones(*f.ClearsAt, rep.ZoneOf(f), now) + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// bothZones shows t in loc as sentences do, then in UTC.
func bothZones(t time.Time, loc *time.Location, now time.Time) string {
	return policy.When(t, loc, now) + " = " + t.UTC().Format("2006-01-02 15:04 UTC")
}
