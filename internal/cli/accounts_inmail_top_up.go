package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/send"
)

// runAccountsInMailTopUp clears an account's InMail credits breaker after
// its credits were topped up (docs/sending.md#inmail-credits). Whoever
// runs keel against the database operates the installation, so the
// top-up is recorded as done from the command line.
func runAccountsInMailTopUp(ctx context.Context, env Env, args []string) error {
	fs := flags("accounts inmail-top-up", env)
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel accounts inmail-top-up ID [--json]")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	c := clock.Real{}
	a, err := account.NewService(d, c).Get(ctx, d.SQL, "", rest[0])
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("no account %q (keel accounts list shows the ids)", rest[0])
	}
	if err != nil {
		return err
	}
	t, err := send.TopUpInMail(ctx, d, campaign.NewService(d, c), send.TopUp{AccountID: a.ID, By: "cli", Source: send.TopUpManual, At: c.Now()})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, t)
	}
	if !t.Held {
		fmt.Fprintf(env.Stdout, "account %s had no InMail credits breaker; top-up recorded\n", a.ID)
		return nil
	}
	fmt.Fprintf(env.Stdout, "InMail credits breaker of account %s cleared; %d prospects looked at again on the next pass\n", a.ID, t.Reevaluated)
	return nil
}
