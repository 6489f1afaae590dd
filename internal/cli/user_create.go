package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/user"
)

// runUserCreate adds a web UI user; the password is read from standard
// input (first line), never from the command line where ps would show it.
func runUserCreate(ctx context.Context, env Env, args []string) error {
	fs := flags("user create", env)
	slug := fs.String("workspace", "", "workspace slug")
	email := fs.String("email", "", "the user's email")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" || *email == "" {
		return usagef("usage: keel user create --workspace SLUG --email E  (password on standard input)")
	}
	if env.Stdin == nil {
		return usagef("the password is read from standard input")
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := user.Create(ctx, d.SQL, w.ID, *email, password, clock.Real{}.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, u.ID)
	return nil
}
