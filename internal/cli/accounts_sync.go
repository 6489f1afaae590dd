package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/connect"
	"github.com/keel-outreach/keel/internal/unipile"
)

// runAccountsSync imports the LinkedIn accounts Unipile lists into a
// workspace, synchronously: when it returns they exist with the status
// their source status maps to.
func runAccountsSync(ctx context.Context, env Env, args []string) error {
	fs := flags("accounts sync", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel accounts sync --workspace SLUG [--json]")
	}
	if cfg.Sandbox() {
		return errors.New("no Unipile credentials (UNIPILE_DSN, UNIPILE_API_KEY): the sandbox provider lives inside keel serve, which imports its demo accounts itself")
	}
	d, ws, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	client, err := unipile.New(unipile.Options{BaseURL: cfg.UnipileDSN, APIKey: cfg.UnipileAPIKey})
	if err != nil {
		return fmt.Errorf("configuring Unipile (UNIPILE_DSN): %w", err)
	}
	accounts := account.NewService(d, clock.Real{})
	svc, err := connect.New(connect.Options{DB: d, Accounts: accounts, Client: client, PublicURL: cfg.PublicURL, Clock: clock.Real{}, Logger: logger(env, cfg)})
	if err != nil {
		return err
	}
	rep, err := svc.Sync(ctx, ws.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, rep)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "created %d, existing %d, in other workspaces %d, skipped %d\n", rep.Created, rep.Existing, rep.OtherWorkspaces, rep.Skipped)
	return tw.Flush()
}
