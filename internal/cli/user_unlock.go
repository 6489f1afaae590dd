package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/signin"
)

// runUserUnlock clears an account's failed sign-ins, so a user locked out by
// the sign-in limit (or by someone guessing at their email) can sign in at
// once. The email need not belong to a user: attempts on unknown emails are
// counted too.
func runUserUnlock(ctx context.Context, env Env, args []string) error {
	fs := flags("user unlock", env)
	slug := fs.String("workspace", "", "workspace slug")
	email := fs.String("email", "", "the email whose failed sign-ins to clear")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" || *email == "" {
		return usagef("usage: keel user unlock --workspace SLUG --email E")
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := signin.Unlock(ctx, d.SQL, signin.AccountKey(w.Slug, *email))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "cleared %s for %s in workspace %s\n",
		count(int(n), "failed sign-in", "failed sign-ins"), strings.ToLower(strings.TrimSpace(*email)), w.Slug)
	return nil
}
