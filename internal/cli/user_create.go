package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/user"
)

// runUserCreate adds a person to a workspace with a role; the password is
// read from standard input (first line), never from the command line where
// ps would show it. An email that already belongs to a user of another
// workspace gains a membership and keeps its password
// (docs/teams.md#adding-people).
func runUserCreate(ctx context.Context, env Env, args []string) error {
	fs := flags("user create", env)
	slug := fs.String("workspace", "", "workspace slug")
	email := fs.String("email", "", "the user's email")
	roleName := fs.String("role", "", "owner, admin, member or viewer (default: owner for a workspace's first user, member after)")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" || *email == "" {
		return usagef("usage: keel user create --workspace SLUG --email E [--role owner|admin|member|viewer]  (password on standard input)")
	}
	var r role.Role
	if *roleName != "" {
		if r, err = role.Parse(*roleName); err != nil {
			return usagef("--role: %v", err)
		}
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
	added, err := user.Add(ctx, d.SQL, user.NewMember{WorkspaceID: w.ID, Email: *email, Password: password, Role: r}, clock.Real{}.Now())
	if err != nil {
		return err
	}
	if added.Existing {
		fmt.Fprintf(env.Stderr, "%s already had a user in another workspace: added to %s as %s; their password is unchanged\n",
			added.User.Email, w.Slug, added.User.Role)
	} else {
		fmt.Fprintf(env.Stderr, "created %s in %s as %s\n", added.User.Email, w.Slug, added.User.Role)
	}
	fmt.Fprintln(env.Stdout, added.User.ID)
	return nil
}

// readPassword reads a password from the first line of standard input.
func readPassword(env Env) (string, error) {
	if env.Stdin == nil {
		return "", usagef("the password is read from standard input")
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
