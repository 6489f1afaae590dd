package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-outreach/keel/internal/alert"
	"github.com/keel-outreach/keel/internal/clock"
)

// runAlertsAck acknowledges any alert, installation-wide ones included:
// whoever runs keel against the database operates the installation, so the
// acknowledgement is recorded as alert.ByCLI.
func runAlertsAck(ctx context.Context, env Env, args []string) error {
	fs := flags("alerts ack", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel alerts ack ID")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	before, err := alert.Get(ctx, d.SQL, rest[0], "")
	if errors.Is(err, alert.ErrNotFound) {
		return fmt.Errorf("no alert %q (keel alerts list shows the ids)", rest[0])
	}
	if err != nil {
		return err
	}
	if before.AcknowledgedAt != nil {
		fmt.Fprintf(env.Stdout, "alert %s was already acknowledged by %s at %s\n", before.ID, before.AcknowledgedBy, stamp(before.AcknowledgedAt, ""))
		return nil
	}
	a, err := alert.Acknowledge(ctx, d.SQL, clock.Real{}.Now(), before.ID, "", alert.ByCLI)
	if err != nil {
		return err
	}
	scope := "workspace " + a.WorkspaceID
	if a.InstallationWide {
		scope = "installation-wide"
	}
	fmt.Fprintf(env.Stdout, "acknowledged alert %s (%s, %s)\n", a.ID, a.Kind, scope)
	return nil
}
