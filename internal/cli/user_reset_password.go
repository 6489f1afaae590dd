package cli

import (
	"context"
	"fmt"

	"github.com/keel-outreach/keel/internal/signin"
	"github.com/keel-outreach/keel/internal/user"
	"github.com/keel-outreach/keel/internal/web"
)

// runUserResetPassword replaces a user's password with the first line of
// standard input, signs the user out everywhere and clears their sign-in
// lockouts, so the new password works at once and an old session does not
// outlive the old password (docs/teams.md#resetting-a-password).
func runUserResetPassword(ctx context.Context, env Env, args []string) error {
	fs := flags("user reset-password", env)
	slug := fs.String("workspace", "", "workspace slug")
	email := fs.String("email", "", "the user's email")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" || *email == "" {
		return usagef("usage: keel user reset-password --workspace SLUG --email E  (new password on standard input)")
	}
	password, err := readPassword(env)
	if err != nil {
		return err
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := user.ResetPassword(ctx, d.SQL, w.ID, *email, password)
	if err != nil {
		return err
	}
	ended, err := web.EndUserSessions(ctx, d.SQL, u.ID)
	if err != nil {
		return err
	}
	// Lockouts count per workspace and email: clear them wherever the user
	// may sign in, since the password is the same everywhere.
	ms, err := user.Memberships(ctx, d.SQL, u.ID)
	if err != nil {
		return err
	}
	var cleared int64
	for _, m := range ms {
		n, err := signin.Unlock(ctx, d.SQL, signin.AccountKey(m.WorkspaceSlug, u.Email))
		if err != nil {
			return err
		}
		cleared += n
	}
	fmt.Fprintf(env.Stdout, "reset the password of %s; ended %s, cleared %s\n", u.Email,
		count(int(ended), "session", "sessions"), count(int(cleared), "failed sign-in", "failed sign-ins"))
	return nil
}
