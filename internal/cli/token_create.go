package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/role"
	"github.com/keel-outreach/keel/internal/token"
)

// runTokenCreate issues an API token and prints its secret, once.
func runTokenCreate(ctx context.Context, env Env, args []string) error {
	fs := flags("token create", env)
	slug := fs.String("workspace", "", "workspace slug")
	name := fs.String("name", "", "what the token is for")
	expiresIn := fs.String("expires-in", "", "lifetime, e.g. 90d or 720h (default: never expires)")
	roleName := fs.String("role", string(role.TokenDefault), "what the token may do: owner, admin, member or viewer")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel token create --workspace SLUG [--name NAME] [--expires-in 90d|720h] [--role owner|admin|member|viewer]")
	}
	r, err := role.Parse(*roleName)
	if err != nil {
		return usagef("--role: %v", err)
	}
	var lifetime time.Duration
	if *expiresIn != "" {
		if lifetime, err = parseLifetime(*expiresIn); err != nil {
			return usagef("--expires-in: %v", err)
		}
	}
	d, w, err := openWorkspace(ctx, cfg, *slug)
	if err != nil {
		return err
	}
	defer d.Close()
	now := clock.Real{}.Now()
	n := token.New{WorkspaceID: w.ID, Name: *name, Role: r}
	if lifetime > 0 {
		exp := now.Add(lifetime)
		n.ExpiresAt = &exp
	}
	t, secret, err := token.Issue(ctx, d.SQL, n, now)
	if err != nil {
		return err
	}
	expiry := "it never expires"
	if t.ExpiresAt != nil {
		expiry = "it expires " + t.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(env.Stderr, "created token %s for workspace %s with role %s (%s); it is shown once, store it now\n", t.ID, w.Slug, t.Role, expiry)
	fmt.Fprintln(env.Stdout, secret)
	return nil
}

// parseLifetime reads a token lifetime: a whole number of days ("90d") or
// a Go duration ("720h"), positive.
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days such as 90d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a lifetime such as 90d or 720h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive lifetime", s)
	}
	return d, nil
}
