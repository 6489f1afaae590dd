package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/forecast"
)

// runForecast prints a campaign's forecast (docs/surfaces.md#forecast):
// expected actions per day, what binds each sender, when every prospect
// reaches each step, the finish date and the assumptions.
func runForecast(ctx context.Context, env Env, args []string) error {
	fs := flags("forecast campaign", env)
	asJSON := fs.Bool("json", false, "print JSON")
	daysFlag := fs.String("days", "", fmt.Sprintf("days to forecast, 1 to %d (default %d)", forecast.MaxDays, forecast.DefaultDays))
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel forecast campaign ID [--days N] [--json]")
	}
	days, err := forecast.ParseDays(*daysFlag)
	if err != nil {
		return usagef("--days: %v", err)
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	c := clock.Real{}
	accounts := account.NewService(d, c)
	deps := forecast.Deps{DB: d, Accounts: accounts, Campaigns: campaign.NewService(d, c), MinSpacing: cfg.MinSpacing}
	f, err := forecast.Campaign(ctx, deps, "", rest[0], c.Now(), days)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, f)
	}
	names := map[string]string{}
	if len(f.Days) > 0 {
		for _, sd := range f.Days[0].Senders {
			names[sd.AccountID] = sd.AccountID
			if a, err := accounts.Get(ctx, d.SQL, "", sd.AccountID); err == nil && a.Name != "" {
				names[sd.AccountID] = a.Name
			}
		}
	}
	printForecast(env, f, names)
	return nil
}

// printForecast writes the human form: a table per day, the steps, the
// finish date and the assumptions.
func printForecast(env Env, f forecast.Forecast, names map[string]string) {
	var acts []string
	if len(f.Days) > 0 {
		for a := range f.Days[0].Actions {
			acts = append(acts, a)
		}
	}
	sort.Strings(acts)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	header := append([]string{"date"}, acts...)
	fmt.Fprintln(tw, strings.Join(append(header, "capacity", "binding"), "\t"))
	for _, day := range f.Days {
		row := []string{day.Date}
		for _, a := range acts {
			row = append(row, fmt.Sprint(day.Actions[a]))
		}
		var binds []string
		for _, b := range day.Binding {
			binds = append(binds, fmt.Sprintf("%s %s: %s", names[b.AccountID], b.Action, b.Code))
		}
		bind := strings.Join(binds, "; ")
		if bind == "" {
			bind = "-"
		}
		fmt.Fprintln(tw, strings.Join(append(row, fmt.Sprint(day.Capacity), bind), "\t"))
	}
	_ = tw.Flush()
	fmt.Fprintln(env.Stdout)
	fmt.Fprintln(env.Stdout, "every current prospect has reached:")
	for _, s := range f.Steps {
		fmt.Fprintf(env.Stdout, "  %s by %s\n", s.StepID, dateOrBeyond(s.AllReachedBy, len(f.Days)))
	}
	fmt.Fprintf(env.Stdout, "finish date: %s\n", dateOrBeyond(f.FinishDate, len(f.Days)))
	a := f.Assumptions
	fmt.Fprintln(env.Stdout, "assumptions:")
	fmt.Fprintf(env.Stdout, "  acceptance %.0f%% after %.0f h (%s, %d invited)\n", a.AcceptanceRate*100, a.AcceptAfterHours, a.AcceptanceSource, a.AcceptanceSamples)
	fmt.Fprintf(env.Stdout, "  replies %.0f%% after %.0f h (%s, %d messaged)\n", a.ReplyRate*100, a.ReplyAfterHours, a.ReplySource, a.ReplySamples)
	fmt.Fprintf(env.Stdout, "  %d live prospects; campaign %s\n", a.LiveProspects, a.CampaignStatus)
	for _, n := range a.Notes {
		fmt.Fprintln(env.Stdout, "  "+n)
	}
}

func dateOrBeyond(d *string, days int) string {
	if d == nil {
		return fmt.Sprintf("not within %d days", days)
	}
	return *d
}
