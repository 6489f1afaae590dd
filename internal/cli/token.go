package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keel-outreach/keel/internal/clock"
	"github.com/keel-outreach/keel/internal/token"
	"github.com/keel-outreach/keel/internal/workspace"
)

func runTokenCreate(ctx context.Context, env Env, args []string) error {
	fs := flags("token create", env)
	slug := fs.String("workspace", "", "workspace slug")
	name := fs.String("name", "", "what the token is for")
	expiresIn := fs.String("expires-in", "", "lifetime, e.g. 90d or 720h (default: never expires)")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel token create --workspace SLUG [--name NAME] [--expires-in 90d|720h]")
	}
	var lifetime time.Duration
	if *expiresIn != "" {
		if lifetime, err = parseLifetime(*expiresIn); err != nil {
			return usagef("--expires-in: %v", err)
		}
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	w, err := workspace.BySlug(ctx, d.SQL, *slug)
	if err != nil {
		return err
	}
	now := clock.Real{}.Now()
	n := token.New{WorkspaceID: w.ID, Name: *name}
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
	fmt.Fprintf(env.Stderr, "created token %s for workspace %s (%s); it is shown once, store it now\n", t.ID, w.Slug, expiry)
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

func runTokenList(ctx context.Context, env Env, args []string) error {
	fs := flags("token list", env)
	slug := fs.String("workspace", "", "workspace slug")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, rest, err := parse(fs, env, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || *slug == "" {
		return usagef("usage: keel token list --workspace SLUG [--json]")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	w, err := workspace.BySlug(ctx, d.SQL, *slug)
	if err != nil {
		return err
	}
	list, err := token.List(ctx, d.SQL, w.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, nonNil(list))
	}
	now := clock.Real{}.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tLAST USED\tEXPIRES\tSTATE")
	for _, t := range list {
		name := t.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, name, stamp(&t.CreatedAt, "-"), stamp(t.LastUsedAt, "never"),
			stamp(t.ExpiresAt, "never"), t.State(now))
	}
	return tw.Flush()
}

func stamp(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

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
