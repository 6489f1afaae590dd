package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/alert"
)

// runAlertsList prints the alerts of every workspace and the
// installation-wide ones.
func runAlertsList(ctx context.Context, env Env, args []string) error {
	fs := flags("alerts list", env)
	open := fs.Bool("open", false, "only alerts not yet acknowledged")
	asJSON := fs.Bool("json", false, "print JSON")
	_, d, err := openNoArgs(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer d.Close()
	list, err := alert.List(ctx, d.SQL, alert.Filter{OpenOnly: *open})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tSEVERITY\tKIND\tSUBJECT\tSTATE\tMESSAGE")
	for _, a := range list {
		state := "open"
		if a.AcknowledgedAt != nil {
			state = "acknowledged"
		}
		subject := "-"
		if a.SubjectID != "" {
			subject = a.SubjectType + " " + a.SubjectID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.CreatedAt.Format("2006-01-02 15:04:05Z"),
			a.Severity, a.Kind, subject, state, a.Message)
	}
	return tw.Flush()
}
