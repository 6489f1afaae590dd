package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/token"
)

// runTokenRevoke revokes an API token of any workspace.
func runTokenRevoke(ctx context.Context, env Env, args []string) error {
	fs := flags("token revoke", env)
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("usage: keel token revoke ID")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	now := clock.Real{}.Now()
	t, err := token.Revoke(ctx, d.SQL, rest[0], "", now)
	if errors.Is(err, token.ErrNotFound) {
		return fmt.Errorf("no token %q (keel token list --workspace SLUG shows the ids)", rest[0])
	}
	if err != nil {
		return err
	}
	if !t.RevokedAt.Equal(now) {
		fmt.Fprintf(env.Stdout, "token %s was already revoked at %s\n", t.ID, stamp(t.RevokedAt, ""))
		return nil
	}
	fmt.Fprintf(env.Stdout, "revoked token %s; it no longer authenticates\n", t.ID)
	return nil
}
