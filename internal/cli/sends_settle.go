package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/outbound"
	"github.com/keel-outreach/keel/internal/send"
)

// BySettleCLI is who a send settled from the command line is recorded as:
// whoever runs keel against the database operates the installation.
const BySettleCLI = "cli"

// runSendsSettle settles a send whose outcome is unknown, as a person who
// checked LinkedIn (docs/sending.md#settling-by-hand): sent confirms it and
// moves the prospect on, not_sent lets the step be tried again.
func runSendsSettle(ctx context.Context, env Env, args []string) error {
	fs := flags("sends settle", env)
	outcome := fs.String("outcome", "", "sent or not_sent")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel sends settle ID --outcome sent|not_sent")
	}
	if *outcome != send.OutcomeSent && *outcome != send.OutcomeNotSent {
		return usagef("--outcome must be sent or not_sent")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	c := clock.Real{}
	out := outbound.New(outbound.Options{DB: d, Clock: c, Logger: logger(env, cfg)})
	eng, err := send.NewLedgerOnly(send.Options{DB: d, Accounts: account.NewService(d, c), Campaigns: campaign.NewService(d, c),
		Clock: c, Logger: logger(env, cfg), Emit: out.Emit})
	if err != nil {
		return err
	}
	info, err := eng.Settle(ctx, "", rest[0], *outcome, BySettleCLI)
	switch {
	case errors.Is(err, send.ErrSendNotFound):
		return fmt.Errorf("no send %q (GET /api/v1/sends?state=unknown lists them)", rest[0])
	case errors.Is(err, send.ErrNotSettleable):
		return fmt.Errorf("send %s: %w", rest[0], err)
	case err != nil:
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	fmt.Fprintf(env.Stdout, "settled send %s (%s to prospect %s) as %s: now %s\n", info.ID, info.Action, info.ProspectID, *outcome, info.State)
	return nil
}
