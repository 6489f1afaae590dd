package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
)

// ByDNCCLI is who an entry added from the command line is recorded as.
const ByDNCCLI = "cli"

// runDNCAdd puts people (profile URLs or provider ids) or companies
// (company page URLs) on a workspace's do-not-contact list and ends their
// live enrollments (docs/contacts.md#do-not-contact). A value that cannot
// be an entry is reported and makes the exit status 1; the others are
// added all the same.
func runDNCAdd(ctx context.Context, env Env, args []string) error {
	fs := flags("dnc add", env)
	slug := fs.String("workspace", "", "workspace slug")
	reason := fs.String("reason", "", "why they must not be contacted")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	// Flags may follow the values too (keel dnc add --workspace w URL --reason R).
	var values []string
	for len(rest) > 0 {
		if strings.HasPrefix(rest[0], "-") {
			if err := fs.Parse(rest); err != nil {
				return usagef("%v", err)
			}
			rest = fs.Args()
			continue
		}
		values, rest = append(values, rest[0]), rest[1:]
	}
	if len(values) == 0 || *slug == "" {
		return usagef("usage: keel dnc add --workspace SLUG (URL|PROVIDER_ID)... [--reason R]")
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	rows := make([]campaign.DNCRow, len(values))
	for i, v := range values {
		rows[i] = campaign.DNCRow{Row: i + 1, Reason: *reason}
		switch {
		case !strings.Contains(strings.ToLower(v), "linkedin.com") && !strings.Contains(v, "/"):
			rows[i].ProviderID = v
		case strings.Contains(strings.ToLower(v), "/company/"):
			rows[i].CompanyURL = v
		default:
			rows[i].LinkedInURL = v
		}
	}
	res, err := campaign.NewService(d, clock.Real{}).AddDNC(ctx, w.ID, ByDNCCLI, rows)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(env.Stdout, res); err != nil {
			return err
		}
	} else {
		for i, rr := range res.Rows {
			switch rr.Status {
			case campaign.DNCRowAdded:
				fmt.Fprintf(env.Stdout, "added %s: %s\n", rr.ID, values[i])
			default:
				fmt.Fprintf(env.Stdout, "%s %s: %s\n", rr.Status, values[i], rr.Error)
			}
		}
		fmt.Fprintf(env.Stdout, "%d added, %d skipped, %d enrollments ended\n", res.Added, res.Skipped, res.Ended)
	}
	for _, rr := range res.Rows {
		if rr.Status == campaign.DNCRowInvalid {
			return fmt.Errorf("some values could not be added (see above)")
		}
	}
	return nil
}
